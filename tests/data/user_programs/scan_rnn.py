"""A recurrent cell folded with lax.scan; the step closes over the outer weights."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def rnn(
    xs: Float[Array, "t d"], h0: Float[Array, " h"], w: Float[Array, "h d"]
) -> Float[Array, " h"]:
    def step(
        h: Float[Array, " h"], x: Float[Array, " d"]
    ) -> tuple[Float[Array, " h"], None]:
        return jnp.tanh(w @ x + h), None

    h, _ = jax.lax.scan(step, h0, xs)
    return h


def batched(
    xs: Float[Array, "b t d"], h0: Float[Array, " h"], w: Float[Array, "h d"]
) -> Float[Array, "b h"]:
    return jax.vmap(rnn, in_axes=(0, None, None))(xs, h0, w)


out = batched(jnp.ones((2, 5, 3)), jnp.zeros(4), jnp.ones((4, 3)))
