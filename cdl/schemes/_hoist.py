"""`prepro`, `postpro` and `chrono` on lists.

`prepro` and `postpro` apply a natural transformation of the list functor at every
layer: before folding (`prepro`, so the element at depth `i` meets it `i` times) or
after unfolding (`postpro`). The natural transformations of ``ListF(E, X) = 1 + E ×
X`` that keep the shape are the maps ``E → E`` on elements, so that is what they
take. As their definitions require, the element at depth `i` is transformed `i`
times: ``n (n - 1) / 2`` applications in `n - 1` vectorised steps of one
`jax.lax.scan`, then the fold or unfold's own scan.

`chrono` is the histomorphism of a futumorphism: unfold a seed several elements at a
time, then fold with a look-back.
"""

from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from .._para import Para
from .._space import Space, SpaceVar
from . import _messages
from ._list import (
    Ana,
    Cata,
    Futu,
    Histo,
    ListAlgebra,
    ListCoalgebra,
    PaddedList,
    _unpack,
)

_E = TypeVar("_E")
_A = TypeVar("_A")
_S = TypeVar("_S")


def _iterated(eta: Para[Any, Any], values: Any, n: int) -> Any:
    """Row `i` of `values` with `eta` applied `i` times."""
    if n < 2:
        return values
    index = jnp.arange(n)

    def body(rows: Any, k: Array) -> tuple[Any, None]:
        moved = jax.vmap(eta)(rows)
        keep = index >= k
        rows = jax.tree.map(
            lambda m, r: jnp.where(keep.reshape(-1, *[1] * (r.ndim - 1)), m, r),
            moved,
            rows,
        )
        return rows, None

    out, _ = jax.lax.scan(body, values, jnp.arange(1, n))
    return out


class Prepro(Para[Any, _A], Generic[_E, _A]):
    """The prepromorphism of a list; built by `cdl.prepro`."""

    eta: Para[_E, _E]
    algebra: ListAlgebra[_E, _A]

    def signature(self) -> tuple[Space, Space]:
        """Lists of the algebra's elements to its carrier."""
        return Cata(self.algebra).signature()

    @property
    def label(self) -> str:
        """``prepro(<eta>, <cell>)``."""
        return f"prepro({self.eta.label}, {self.algebra.cons.label})"

    def __call__(self, xs: Array | PaddedList) -> _A:
        """Transform the element at depth `i` `i` times, then fold."""
        values, length, n = _unpack(self.label, xs)
        moved = _iterated(self.eta, values, n)
        rows = moved if length is None else PaddedList(moved, length)
        return Cata(self.algebra)(rows)


def prepro(eta: Para[_E, _E], algebra: ListAlgebra[_E, _A]) -> Prepro[_E, _A]:
    """The prepromorphism: a fold that transforms each layer below the first.

    ``prepro(eta, algebra)([x0, x1, x2])`` is ``cata(algebra)([x0, eta(x1),
    eta(eta(x2))])``: the transformation reaches deeper elements more often, as a
    discount or a decay does.

    **Arguments:** `eta`, a `cdl.Para` ``E → E`` (a natural transformation of the
    list functor); `algebra`, a `cdl.ListAlgebra`.

    **Returns:** a `cdl.Para` from lists (arrays ``[n, ...]`` or `cdl.PaddedList`)
    to the carrier.

    A discounted return ``r0 + γ r1 + γ² r2 + …``, with γ = 0.5:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Discount(cdl.Para[Float[Array, ""], Float[Array, ""]]):
    ...     def __call__(self, r):
    ...         return 0.5 * r
    >>> total = cdl.ListAlgebra(jnp.float32(0.0), cdl.Add())
    >>> cdl.prepro(Discount(), total)(jnp.array([1.0, 2.0, 4.0, 8.0]))
    Array(4., dtype=float32)
    """
    return Prepro(eta, algebra)


class Postpro(Para[_S, PaddedList], Generic[_E, _S]):
    """The postpromorphism of a list; built by `cdl.postpro`."""

    eta: Para[_E, _E]
    coalgebra: ListCoalgebra[_E, _S]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to padded lists."""
        return self.coalgebra.signature()[0], SpaceVar("PaddedList")

    @property
    def label(self) -> str:
        """``postpro(<eta>, <step>, max_size)``."""
        return (
            f"postpro({self.eta.label}, {self.coalgebra.step.label}, {self.max_size})"
        )

    def __call__(self, seed: _S) -> PaddedList:
        """Unfold, then transform the element at depth `i` `i` times."""
        out = Ana(self.coalgebra, self.max_size)(seed)
        values = _iterated(self.eta, out.values, self.max_size)
        return PaddedList(values, out.length, out.truncated)


def postpro(
    eta: Para[_E, _E], coalgebra: ListCoalgebra[_E, _S], max_size: int
) -> Postpro[_E, _S]:
    """The postpromorphism: an unfold that transforms each layer below the first.

    ``postpro(eta, coalgebra, max_size)(seed)`` is the list of ``ana`` with its
    `i`-th element passed through `eta` `i` times.

    **Arguments:** `eta`, a `cdl.Para` ``E → E``; `coalgebra`, a
    `cdl.ListCoalgebra`; `max_size`, at least 1.

    **Returns:** a `cdl.Para` from seeds to `cdl.PaddedList`s.

    Powers of two, each doubled once per position:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Double(cdl.Para[Float[Array, ""], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return 2 * x
    >>> ones = cdl.ListCoalgebra(cdl.Copy(), lambda s: s > 1)
    >>> cdl.postpro(Double(), ones, max_size=4)(jnp.float32(1.0)).values
    Array([1., 2., 4., 8.], dtype=float32)
    """
    if max_size < 1:
        raise ValueError(_messages.bad_size("postpro", max_size))
    return Postpro(eta, coalgebra, max_size)


class Chrono(Para[_S, _A], Generic[_S, _A]):
    """The chronomorphism ``histo ∘ futu``; built by `cdl.chrono`."""

    unfold: Futu[_S]
    fold: Histo[_A]

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the fold's carrier (unchecked pytrees)."""
        return self.unfold.signature()[0], SpaceVar("A")

    @property
    def label(self) -> str:
        """``chrono(<unfold>, <fold>)``."""
        return f"chrono({self.unfold.label}, {self.fold.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold `seed`, then fold the list with the look-back."""
        return self.fold(self.unfold(seed))


def chrono(unfold: Futu[_S], fold: Histo[_A]) -> Chrono[_S, _A]:
    """The chronomorphism: a futumorphism followed by a histomorphism.

    The unfold may build several elements ahead (``cdl.futu``) and the fold may look
    back at several earlier results (``cdl.histo``): one unfold scan, then one fold
    scan over its elements (a right fold needs them all before it starts).

    **Arguments:** `unfold`, built by `cdl.futu`; `fold`, built by `cdl.histo`.

    **Returns:** a `cdl.Para` from seeds to the fold's carrier.

    Run-length decode ``(value, count)`` pairs, then sum with a look-back of two:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float, Int
    >>> pairs = jnp.array([[1.0, 2.0], [3.0, 1.0]])
    >>> class Expand(cdl.Para[Int[Array, ""], tuple[Int[Array, ""],
    ...                       Float[Array, "2"], Int[Array, ""]]]):
    ...     def __call__(self, i):
    ...         value, count = pairs[i]
    ...         return count.astype(jnp.int32), jnp.full(2, value), i + 1
    >>> class Last2(cdl.Para[tuple[Float[Array, ""], tuple[Float[Array, ""],
    ...                      Float[Array, ""]]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         e, (r1, r2) = x
    ...         return e + r1
    >>> decode = cdl.futu(Expand(), lambda i: i >= 2, max_size=4)
    >>> cdl.chrono(decode, cdl.histo(jnp.float32(0.0), Last2(), 2))(jnp.int32(0))
    Array(5., dtype=float32)
    """
    return Chrono(unfold, fold)
