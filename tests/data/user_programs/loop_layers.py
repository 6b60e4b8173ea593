"""The Equinox idiom of a loop over self.layers, re-binding the input."""

import equinox as eqx
import jax
from jaxtyping import Array, Float, PRNGKeyArray


class Stack(eqx.Module):
    layers: list[eqx.nn.Linear]

    def __init__(self, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.layers = [eqx.nn.Linear(784, 64, key=k1), eqx.nn.Linear(64, 10, key=k2)]

    def __call__(self, x: Float[Array, " 784"]) -> Float[Array, " 10"]:
        for layer in self.layers:
            x = layer(x)
        return x
