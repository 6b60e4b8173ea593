"""Lookup tables: `Embedding`."""

from typing import Any, Generic

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Float, Integer, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _random
from .._para import Para
from . import _messages
from ._arguments import affordable, positive_int, prng_key

# The static vector size, for the mypy plugin: ``Embedding[64]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)


class Embedding(Para[Integer[Array, ""], Float[Array, "dim"]], Generic[_Dim]):
    """A table of `num` learned vectors of size `dim`, indexed by an integer.

    An index outside ``0..num-1`` raises `IndexError` when it is concrete; under
    `jax.jit` (or `vmap`, `grad`) the check is compiled in with `equinox.error_if`
    and fails the call at run time, so a bad index is never silently clamped.

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
        num = positive_int("Embedding", "num", num)
        dim = positive_int("Embedding", "dim", dim)
        affordable("Embedding", [(num, dim)])
        self.table = _random.normal(prng_key("Embedding", key), (num, dim))
        self.num = num
        self.dim = dim

    def __call__(self, x: Integer[Array, ""] | int) -> Float[Array, "dim"]:
        """Return row `x` of the table; an index outside it is an error."""
        if not isinstance(x, jax.core.Tracer):
            index = int(x)
            if not 0 <= index < self.num:
                raise IndexError(
                    _messages.index_out_of_range(self.label, index, self.num)
                )
            return self.table[index]
        inside = (x >= 0) & (x < self.num)
        x = eqx.error_if(
            x, ~inside, _messages.traced_index_out_of_range(self.label, self.num)
        )
        return self.table[x]

    def _refuse_outside(
        self, indices: object, owner: str, where: str = "position"
    ) -> None:
        """Refuse a concrete index of `indices` that the table has no row for.

        `owner` applies the table at every position of `indices` (``each(…)``,
        or at every node): the first index outside ``0..num-1`` is an
        `IndexError` naming its position (`where`), where a lookup mapped over
        the positions would fail only at run time, inside the map. Traced
        indices are left to that check.

        >>> import jax, jax.numpy as jnp, cdl
        >>> e = cdl.Embedding(5, 2, key=jax.random.key(0))
        >>> e._refuse_outside(jnp.array([1, 7]), "each(Embedding(5, 2))")
        Traceback (most recent call last):
        ...
        IndexError: each(Embedding(5, 2)): position 1 holds index 7, but the \
table has rows 0..4 only.
        """
        if isinstance(indices, jax.core.Tracer) or not eqx.is_array_like(indices):
            return
        values = np.asarray(indices)
        if not np.issubdtype(values.dtype, np.integer):
            return
        outside = np.flatnonzero((values < 0) | (values >= self.num))
        if outside.size:
            at = np.unravel_index(int(outside[0]), values.shape)
            position = at[0] if len(at) == 1 else at
            raise IndexError(
                _messages.position_out_of_range(
                    owner, f"{where} {position}", int(values[at]), self.num
                )
            )
