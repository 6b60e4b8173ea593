"""Equinox's MNIST tutorial as a user writes it: a CNN under jax.vmap."""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree


class CNN(eqx.Module):
    layers: list[eqx.nn.Conv2d | eqx.nn.MaxPool2d | eqx.nn.Linear | object]

    def __init__(self, key: PRNGKeyArray) -> None:
        key1, key2, key3, key4 = jax.random.split(key, 4)
        self.layers = [
            eqx.nn.Conv2d(1, 3, kernel_size=4, key=key1),
            eqx.nn.MaxPool2d(kernel_size=2),
            jax.nn.relu,
            jnp.ravel,
            eqx.nn.Linear(1728, 512, key=key2),
            jax.nn.sigmoid,
            eqx.nn.Linear(512, 64, key=key3),
            jax.nn.relu,
            eqx.nn.Linear(64, 10, key=key4),
            jax.nn.log_softmax,
        ]

    def __call__(self, x: Float[Array, "1 28 28"]) -> Float[Array, "10"]:
        for layer in self.layers:
            assert callable(layer)
            x = layer(x)
        return x


def cross_entropy(
    y: Int[Array, " batch"], pred_y: Float[Array, "batch 10"]
) -> Float[Array, ""]:
    pred_y = jnp.take_along_axis(pred_y, jnp.expand_dims(y, 1), axis=1)
    return -jnp.mean(pred_y)


def loss(
    model: CNN, x: Float[Array, "batch 1 28 28"], y: Int[Array, " batch"]
) -> Float[Array, ""]:
    pred_y = jax.vmap(model)(x)
    return cross_entropy(y, pred_y)


@eqx.filter_jit
def make_step(
    model: CNN,
    opt_state: PyTree,
    x: Float[Array, "batch 1 28 28"],
    y: Int[Array, " batch"],
    optim: optax.GradientTransformation,
) -> tuple[CNN, PyTree, Float[Array, ""]]:
    loss_value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
    updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_array))
    model = eqx.apply_updates(model, updates)
    return model, opt_state, loss_value


model = CNN(jax.random.key(0))
batch_loss = loss(model, jnp.ones((4, 1, 28, 28)), jnp.zeros(4, dtype=jnp.int32))
