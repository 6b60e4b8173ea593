"""An Equinox MLP trained on batches: the module under jax.vmap, filter_grad."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


class MLP(eqx.Module):
    first: eqx.nn.Linear
    second: eqx.nn.Linear

    def __init__(self, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.first = eqx.nn.Linear(784, 64, key=k1)
        self.second = eqx.nn.Linear(64, 10, key=k2)

    def __call__(self, x: Float[Array, "784"]) -> Float[Array, "10"]:
        return self.second(jax.nn.relu(self.first(x)))


def loss(
    model: MLP, x: Float[Array, "batch 784"], y: Float[Array, "batch 10"]
) -> Float[Array, ""]:
    pred = jax.vmap(model)(x)
    return jnp.mean((pred - y) ** 2)


@eqx.filter_jit
def step(model: MLP, x: Float[Array, "b 784"], y: Float[Array, "b 10"]) -> MLP:
    grads = eqx.filter_grad(loss)(model, x, y)
    updated: MLP = jax.tree.map(lambda p, g: p - 0.1 * g, model, grads)
    return updated


model = step(MLP(jax.random.key(0)), jnp.ones((5, 784)), jnp.ones((5, 10)))
