"""How `cdl.dyna`, `cdl.elgot` and `cdl.coelgot` run on lists: two scans each.

Each is a hylomorphism of the list functor whose list is never handed out, and
whose cut-off (the coalgebra not stopped after `max_size` elements) raises, also
under `jax.jit`. `dyna` folds with a look-back (a `histo` after an `ana`: dynamic
programming), `elgot` lets the coalgebra end with a result of its own, `coelgot`
lets every cell see the seed its element came from. Fibonacci by `dyna`:

>>> import jax.numpy as jnp, cdl
>>> down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
>>> fib = cdl.dyna(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1), 2, down, 50)
>>> fib(jnp.int32(10))
Array(89, dtype=int32, weak_type=True)
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool

from .._para import Para
from .._space import Space, SpaceVar
from ._list import (
    Cata,
    Histo,
    ListAlgebra,
    ListCoalgebra,
    PaddedList,
    _emit,
    _select,
    _settle,
    refuse,
)
from ._plain import as_cell

_E = TypeVar("_E")
_S = TypeVar("_S")
_A = TypeVar("_A")


class Dyna(Para[_S, _A], Generic[_S, _A]):
    """Dynamorphism: `histo` after `ana`; built by `cdl.dyna`."""

    histo: Histo[_A]
    coalgebra: ListCoalgebra[Any, _S]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the carrier (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``dyna(<cell>, <step>)``."""
        return f"dyna({self.histo.cons.label}, {self.coalgebra.step.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold `seed`, then fold with a look-back; raises when cut off."""
        elements, length, _, cut = _emit(self.coalgebra, seed, self.max_size)
        return refuse(
            self.label,
            cut,
            self.max_size,
            self.histo(PaddedList(elements, length)),
        )


class Elgot(Para[_S, _A], Generic[_E, _S, _A]):
    """Elgot algebra's hylomorphism, with an early exit; built by `cdl.elgot`."""

    algebra: ListAlgebra[_E, _A]
    coalgebra: ListCoalgebra[_E, _S]
    exit: Callable[[_S], Bool[Array, ""] | bool]
    result: Para[_S, _A]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the carrier (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``elgot(<cell>, <step>)``."""
        return f"elgot({self.algebra.cons.label}, {self.coalgebra.step.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold until `stop` or `exit`, then fold from ``result`` or `nil`."""
        stop, exit_ = self.coalgebra.stop, self.exit

        def ended(s: _S) -> Bool[Array, ""]:
            return jnp.asarray(stop(s)) | jnp.asarray(exit_(s))

        unfold = ListCoalgebra(self.coalgebra.step, ended)
        elements, length, last, cut = _emit(unfold, seed, self.max_size)
        exited = jnp.asarray(exit_(last)) & ~jnp.asarray(stop(last))
        cons = self.algebra.cons
        nil = _settle(
            self.label,
            jax.tree.map(lambda e: e[:1], elements),
            self.algebra.nil,
            lambda x, a, i: cons((x, a)),
        )
        short = jax.tree.map(lambda r, n: r.astype(n.dtype), self.result(last), nil)
        start = _select(exited, short, nil)
        out: _A = Cata(ListAlgebra(start, cons))(PaddedList(elements, length))
        return refuse(self.label, cut, self.max_size, out)


class Coelgot(Para[_S, _A], Generic[_S, _A]):
    """Hylomorphism whose cells also see the seeds; built by `cdl.coelgot`."""

    nil: _A
    cons: Para[Any, _A]
    coalgebra: ListCoalgebra[Any, _S]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the carrier (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``coelgot(<cell>, <step>)``."""
        return f"coelgot({self.cons.label}, {self.coalgebra.step.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold, keeping every seed beside its element, then fold."""
        step = self.coalgebra.step

        def keep(s: _S) -> Any:
            e, nxt = step(s)
            return (s, e), nxt

        pairs = ListCoalgebra(keep, self.coalgebra.stop)
        elements, length, _, cut = _emit(pairs, seed, self.max_size)
        cons = self.cons

        def cell(p: Any) -> Any:
            (s, e), acc = p
            return cons((s, (e, acc)))

        algebra = ListAlgebra(self.nil, as_cell(cell, "coelgot's cons"))
        out: _A = Cata(algebra)(PaddedList(elements, length))
        return refuse(self.label, cut, self.max_size, out)
