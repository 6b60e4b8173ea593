"""A hand-written dense layer with named field dimensions, stacked and mapped."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


class Dense(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]

    def __init__(self, n_in: int, n_out: int, key: PRNGKeyArray) -> None:
        self.weight = jax.random.normal(key, (n_out, n_in)) / n_in**0.5
        self.bias = jnp.zeros(n_out)

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        return jnp.tanh(self.weight @ x + self.bias)


class Encoder(eqx.Module):
    first: Dense
    second: Dense

    def __init__(self, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.first = Dense(8, 16, k1)
        self.second = Dense(16, 4, k2)

    def __call__(self, x: Float[Array, " 8"]) -> Float[Array, " 4"]:
        return self.second(self.first(x))


def encode_all(enc: Encoder, xs: Float[Array, "n 8"]) -> Float[Array, "n 4"]:
    return jax.vmap(enc)(xs)


codes = encode_all(Encoder(jax.random.key(0)), jnp.ones((3, 8)))
weights = Encoder(jax.random.key(1)).first.weight
