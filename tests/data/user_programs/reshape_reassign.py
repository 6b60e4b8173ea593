"""A parameter re-bound to its reshaped value, as image code does."""

import jax.numpy as jnp
from jaxtyping import Array, Float


def flatten(x: Float[Array, "b 28 28"]) -> Float[Array, "b 784"]:
    x = x.reshape(x.shape[0], -1)
    return x


flat = flatten(jnp.ones((2, 28, 28)))
