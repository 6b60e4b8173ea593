"""Affine layers: `Linear` and `Bias`."""

import math
from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _random
from .._para import Para
from ._arguments import affordable, positive_int, positive_ints, prng_key

# Static sizes of a `Linear`, for the mypy plugin: ``Linear[784, 128]``.
_InDim = TypeVar("_InDim", covariant=True, default=Any)
_OutDim = TypeVar("_OutDim", covariant=True, default=Any)


class Linear(
    Para[Float[Array, "in_dim"], Float[Array, "out_dim"]], Generic[_InDim, _OutDim]
):
    """The affine map ``x ↦ W x + b`` from ``float[in_dim]`` to ``float[out_dim]``.

    **Arguments:**

    - `in_dim`, `out_dim`: the sizes of the domain and codomain.
    - `use_bias`: whether to add a learned bias (default True).
    - `key`: PRNG key for the initial weights (uniform in ±1/√in_dim).

    **Returns:** the layer, a morphism ``float[in_dim] → float[out_dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> layer = cdl.Linear(784, 128, key=jax.random.key(0))
    >>> layer, layer.weight.shape
    (Linear(784→128), (128, 784))
    >>> layer(jnp.ones(784)).shape
    (128,)
    """

    weight: Float[Array, "out_dim in_dim"]
    bias: Float[Array, "out_dim"] | None
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)

    def __init__(
        self, in_dim: int, out_dim: int, *, use_bias: bool = True, key: PRNGKeyArray
    ) -> None:
        in_dim = positive_int("Linear", "in_dim", in_dim)
        out_dim = positive_int("Linear", "out_dim", out_dim)
        affordable("Linear", [(out_dim, in_dim), (out_dim,)])
        w_key, b_key = jax.random.split(prng_key("Linear", key))
        bound = 1 / math.sqrt(in_dim)
        self.weight = _random.uniform(w_key, (out_dim, in_dim), -bound, bound)
        self.bias = (
            _random.uniform(b_key, (out_dim,), -bound, bound) if use_bias else None
        )
        self.in_dim = in_dim
        self.out_dim = out_dim

    @property
    def label(self) -> str:
        """``Linear(in→out)``."""
        return f"Linear({self.in_dim}→{self.out_dim})"

    def __repr__(self) -> str:
        return self.label

    def __call__(self, x: Float[Array, "in_dim"]) -> Float[Array, "out_dim"]:
        """Apply ``W x + b``."""
        y = self.weight @ x
        return y if self.bias is None else y + self.bias


class Bias(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Adds a learned offset: ``x ↦ x + b``, with `b` of shape `shape`.

    **Arguments:** `shape`, the shape of the offset (an int or a tuple), and an
    optional `init` value (zeros by default).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Bias(3)(jnp.ones(3))
    Array([1., 1., 1.], dtype=float32)
    """

    bias: Float[Array, "*shape"]
    shape: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, shape: int | tuple[int, ...], init: float = 0.0) -> None:
        rank = len(shape) if isinstance(shape, tuple | list) else 1
        self.shape = positive_ints("Bias", "shape", shape, rank)
        affordable("Bias", [self.shape])
        self.bias = jnp.full(self.shape, init)

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Add the offset."""
        return x + self.bias

    @property
    def label(self) -> str:
        """``Bias(shape)``."""
        return f"Bias{self.shape}"
