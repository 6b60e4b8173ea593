"""Names re-bound to arrays of other shapes, as image and sequence code does."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


def flatten_images(x: Float[Array, "b 28 28"]) -> Float[Array, "b 784"]:
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.relu(x)
    return x


def flatten_any(x: Float[Array, "b h w"]) -> Float[Array, "b hw"]:
    x = x.reshape((x.shape[0], -1))
    return x


def doubled(x: Float[Array, "b 28 28"]) -> Float[Array, "c 28 28"]:
    x = jnp.concatenate([x, x], axis=0)
    return x


def pooled(x: Float[Array, "n d"], w: Float[Array, "d k"]) -> Float[Array, " k"]:
    x = x @ w
    x = x.mean(axis=0)
    return x


def transposed(x: Float[Array, "n d"]) -> Float[Array, "d n"]:
    x = x.T
    return x


def local_reshape() -> Float[Array, " 12"]:
    h = jnp.ones((4, 3))
    h = h.reshape(-1)
    return h


def maybe_flat(x: Float[Array, "4 3"], flat: bool) -> Array:
    if flat:
        x = x.reshape(-1)
    return x


def rnn(
    h: Float[Array, " 16"], xs: Float[Array, "t 8"], w: Float[Array, "16 24"]
) -> Float[Array, " 16"]:
    for x in xs:
        h = jnp.tanh(w @ jnp.concatenate([h, x]))
    return h


class Block(eqx.Module):
    linear: eqx.nn.Linear

    def __init__(self, size: int, key: PRNGKeyArray) -> None:
        self.linear = eqx.nn.Linear(size, size, key=key)

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        return x + jax.nn.gelu(self.linear(x))


class Tower(eqx.Module):
    embed: eqx.nn.Linear
    blocks: tuple[Block, ...]
    head: eqx.nn.Linear

    def __init__(self, key: PRNGKeyArray) -> None:
        keys = jax.random.split(key, 4)
        self.embed = eqx.nn.Linear(784, 32, key=keys[0])
        self.blocks = (Block(32, keys[1]), Block(32, keys[2]))
        self.head = eqx.nn.Linear(32, 10, key=keys[3])

    def __call__(self, x: Float[Array, " 784"]) -> Float[Array, " 10"]:
        x = self.embed(x)
        for block in self.blocks:
            x = block(x)
        x = self.head(x)
        return x


class Widths(eqx.Module):
    layers: list[eqx.nn.Linear]

    def __init__(self, widths: list[int], key: PRNGKeyArray) -> None:
        keys = jax.random.split(key, len(widths) - 1)
        self.layers = [
            eqx.nn.Linear(a, b, key=k)
            for a, b, k in zip(widths[:-1], widths[1:], keys, strict=True)
        ]

    def __call__(self, x: Float[Array, " 784"]) -> Float[Array, " 10"]:
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        x = self.layers[-1](x)
        return x


tower = Tower(jax.random.key(0))
logits = jax.vmap(tower)(jnp.ones((5, 784)))
mlp = Widths([784, 64, 32, 10], jax.random.key(1))
outs = jax.vmap(mlp)(jnp.ones((5, 784)))
flat = flatten_images(jnp.ones((2, 28, 28)))
