"""Lookup tables: `Embedding`."""

from typing import Any, Generic

import equinox as eqx
import jax
from jaxtyping import Array, Float, Int, PRNGKeyArray
from typing_extensions import TypeVar

from .._para import Para

# The static vector size, for the mypy plugin: ``Embedding[64]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)


class Embedding(Para[Int[Array, ""], Float[Array, "dim"]], Generic[_Dim]):
    """A table of `num` learned vectors of size `dim`, indexed by an integer.

    **Arguments:** `num`, the number of rows; `dim`, the vector size; `key`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> e = cdl.Embedding(10, 4, key=jax.random.key(0))
    >>> e(jnp.array(3)).shape
    (4,)
    """

    table: Float[Array, "num dim"]
    num: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def __init__(self, num: int, dim: int, *, key: PRNGKeyArray) -> None:
        self.table = jax.random.normal(key, (num, dim))
        self.num = num
        self.dim = dim

    def __call__(self, x: Int[Array, ""]) -> Float[Array, "dim"]:
        """Return row `x` of the table."""
        return self.table[x]
