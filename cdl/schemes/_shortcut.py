"""`dyna`, `elgot` and `coelgot` on lists: an unfold and a fold in two scans.

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
from . import _messages
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


def dyna(
    nil: _A,
    cons: Callable[[tuple[_E, tuple[_A, ...]]], _A],
    depth: int,
    coalgebra: ListCoalgebra[_E, _S],
    max_size: int,
) -> Dyna[_S, _A]:
    """The dynamorphism: unfold a seed, then fold with a look-back of `depth`.

    ``dyna(nil, cons, depth, coalg, max_size) == histo(nil, cons, depth) ∘ ana(coalg,
    max_size)``; the cell gets ``(element, (r1, …, r_depth))`` as in `cdl.histo`.

    **Arguments:** `nil`, `cons` and `depth`, as for `cdl.histo`; `coalgebra`, a
    `cdl.ListCoalgebra`; `max_size`, the most elements unfolded.

    **Returns:** a `cdl.Para` from seeds to the carrier; it raises (also under
    `jax.jit`) when the coalgebra has not stopped after `max_size` elements.

    Climbing `n` stairs one, two or three at a time (each count from the three
    before it; the empty staircase, past the end, counts once):

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    >>> def climb(p):
    ...     n, (a, b, c) = p
    ...     return a + jnp.where(n > 1, b, 0) + jnp.where(n > 2, c, 0)
    >>> cdl.dyna(1, climb, 3, down, 20)(jnp.int32(4))
    Array(7, dtype=int32, weak_type=True)
    """
    if max_size < 1:
        raise ValueError(_messages.bad_size("dyna", max_size))
    if depth < 1:
        raise ValueError(_messages.bad_size("dyna's look-back", depth))
    histo = Histo(nil, as_cell(cons, "dyna's cons"), depth)
    return Dyna(histo, coalgebra, max_size)


class Elgot(Para[_S, _A], Generic[_E, _S, _A]):
    """Elgot algebra's hylomorphism, with an early exit; built by `cdl.elgot`."""

    algebra: ListAlgebra[_E, _A]
    coalgebra: ListCoalgebra[_E, _S]
    exit: Callable[[_S], Bool[Array, ""]]
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


def elgot(
    algebra: ListAlgebra[_E, _A],
    coalgebra: ListCoalgebra[_E, _S],
    exit: Callable[[_S], Bool[Array, ""]],
    result: Callable[[_S], _A],
    max_size: int,
) -> Elgot[_E, _S, _A]:
    """The Elgot hylomorphism: an unfold that may end with a result of its own.

    Haskell's ``elgot alg coalg`` with ``coalg :: s -> Either a (ListF e s)``: from a
    seed for which ``exit(seed)`` holds the rest is not unfolded, and the fold
    starts from ``result(seed)`` there instead of `nil` (the ``Left``).

    **Arguments:** `algebra`, a `cdl.ListAlgebra`; `coalgebra`, a
    `cdl.ListCoalgebra`; `exit` and `result`, functions of the seed; `max_size`.

    **Returns:** a `cdl.Para` from seeds to the carrier; it raises (also under
    `jax.jit`) when neither `stop` nor `exit` held within `max_size` elements.

    The product of ``n, n-1, …, 1`` that stops at the first zero factor:

    >>> import jax.numpy as jnp, cdl
    >>> times = cdl.ListAlgebra(1.0, lambda p: p[0] * p[1])
    >>> xs = jnp.array([3.0, 2.0, 0.0, 5.0])
    >>> walk = cdl.ListCoalgebra(lambda i: (xs[i], i + 1), lambda i: i >= 4)
    >>> product = cdl.elgot(times, walk, lambda i: xs[i] == 0, lambda i: 0.0, 8)
    >>> product(jnp.int32(0)), product(jnp.int32(3))
    (Array(0., dtype=float32), Array(5., dtype=float32))
    """
    if max_size < 1:
        raise ValueError(_messages.bad_size("elgot", max_size))
    return Elgot(algebra, coalgebra, exit, as_cell(result, "elgot's result"), max_size)


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


def coelgot(
    nil: _A,
    cons: Callable[[tuple[_S, tuple[_E, _A]]], _A],
    coalgebra: ListCoalgebra[_E, _S],
    max_size: int,
) -> Coelgot[_S, _A]:
    """The co-Elgot hylomorphism: a fold whose cells also see the seeds.

    Haskell's ``coelgot :: ((s, ListF e a) -> a) -> (s -> ListF e s) -> s -> a``:
    the cell gets ``(seed, (element, result_on_the_rest))``.

    **Arguments:** `nil`, the result at the end; `cons`, the cell; `coalgebra`, a
    `cdl.ListCoalgebra`; `max_size`.

    **Returns:** a `cdl.Para` from seeds to the carrier; it raises (also under
    `jax.jit`) when the coalgebra has not stopped after `max_size` elements.

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(lambda n: (n * n, n - 1), lambda n: n <= 0)
    >>> weighted = cdl.coelgot(0, lambda p: p[0] * p[1][0] + p[1][1], down, 10)
    >>> weighted(jnp.int32(3))  # 3·9 + 2·4 + 1·1
    Array(36, dtype=int32)
    """
    if max_size < 1:
        raise ValueError(_messages.bad_size("coelgot", max_size))
    return Coelgot(nil, as_cell(cons, "coelgot's cons"), coalgebra, max_size)
