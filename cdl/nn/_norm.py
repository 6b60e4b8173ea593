"""Normalisation: `LayerNorm`."""

from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float
from typing_extensions import TypeVar

from .._para import Para
from . import _messages
from ._arguments import positive_int

# The static width, for the mypy plugin: ``LayerNorm[64]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)


class LayerNorm(
    Para[Float[Array, "*batch dim"], Float[Array, "*batch dim"]], Generic[_Dim]
):
    """Normalises the last axis to zero mean and unit variance, then scales and shifts.

    **Arguments:** `dim`, the size of the last axis; `eps` added to the variance.

    >>> import jax.numpy as jnp, cdl
    >>> y = cdl.LayerNorm(4)(jnp.arange(4.0))
    >>> float(y.mean()), round(float(y.std()), 3)
    (0.0, 1.0)
    """

    weight: Float[Array, "dim"]
    bias: Float[Array, "dim"]
    dim: int = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        dim = positive_int("LayerNorm", "dim", dim)
        if not eps > 0:
            raise ValueError(_messages.not_positive("LayerNorm", "eps", eps))
        self.weight = jnp.ones(dim)
        self.bias = jnp.zeros(dim)
        self.dim = dim
        self.eps = eps

    def __call__(self, x: Float[Array, "*batch dim"]) -> Float[Array, "*batch dim"]:
        """Normalise along the last axis."""
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.maximum(jnp.var(x, axis=-1, keepdims=True), 0.0)
        inv = jax.lax.rsqrt(var + self.eps)
        lead = (1,) * (x.ndim - 1)
        scale = self.weight.reshape(lead + (self.dim,))
        shift = self.bias.reshape(lead + (self.dim,))
        return scale * ((x - mean) * inv) + shift
