"""The folds of node tables built by `cdl.cata`, `cdl.para`, `cdl.zygo` and the rest.

They fold tables of any polynomial functor with a `cdl.Algebra`; `cdl.upwards`
keeps every node's result, not only the roots'.

Each is one level-by-level fold (the evaluator of `cdl.cata`, with its linear-time
gradient rule): `zygo` and `mutu` fold into a pair of carriers, `histo` into a
`History` of the last few generations, and `para` hands every cell views of its
children's subtrees. On a `TreeF` table, the number of leaves below each node's left
child, a paramorphism:

>>> import jax.numpy as jnp, cdl
>>> from jaxtyping import Array, Float
>>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
...     def __call__(self, x):
...         return jnp.float32(0.0)
>>> class Node(cdl.Para[tuple[Float[Array, "0"], tuple[tuple[cdl.Subtree,
...            Float[Array, ""]], tuple[cdl.Subtree, Float[Array, ""]]]],
...            Float[Array, ""]]):
...     def __call__(self, x):
...         _, ((left, a), (_, b)) = x
...         return a + b + (left.size + 1) / 2
>>> alg = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Node())
>>> cdl.para(alg)(cdl.tree_table(cdl.TreeF, ((1.0, 2.0), (3.0, 4.0))))
Array(4., dtype=float32)
"""

from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._para import Para
from .._space import Space, SpaceVar
from . import _messages
from ._fold import evaluate
from ._functor import Functor
from ._terms import Term, as_table, fold_data
from ._tree import Algebra, NodeTable
from ._tree_unfolds import Unfolded, fold

_A = TypeVar("_A")
_B = TypeVar("_B")


def same_functor(scheme: str, first: Algebra[Any], second: object) -> Functor:
    """The functor of two algebras of one functor; `TypeError` otherwise."""
    if not isinstance(second, Algebra):
        raise TypeError(_messages.not_an_algebra(scheme, second))
    if first.functor != second.functor:
        raise TypeError(
            _messages.algebras_disagree(scheme, first.functor.name, second.functor.name)
        )
    return first.functor


class _TreeFold(Para[NodeTable, _A], Generic[_A]):
    """A fold over node tables whose result is read off a combined carrier."""

    def signature(self) -> tuple[Space, Space]:
        """Node tables to results (unchecked pytrees)."""
        return SpaceVar("NodeTable"), SpaceVar("A")


class TreeCata(Para[NodeTable, _A], Generic[_A]):
    """The catamorphism of an `Algebra`; built by `cdl.cata`.

    It folds a `NodeTable` (level by level, with its own gradient rule) or an
    `cdl.Unfolded` built under `jax.jit` by `cdl.ana` (one reverse scan over depth).
    """

    algebra: Algebra[_A]

    def signature(self) -> tuple[Space, Space]:
        """Node tables to carriers (unchecked pytrees)."""
        return SpaceVar("NodeTable"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``cata(<algebra>)``."""
        return f"cata({self.algebra.label})"

    def __call__(self, table: NodeTable | Unfolded | Term) -> _A:
        """Fold every tree of `table`; one carrier per root.

        A term or Python data is stored as a table first, and a list functor's
        algebra folds lists with the list engine (see `cdl.cata`).
        """
        if isinstance(table, Unfolded):
            return fold(self.algebra, table)
        if not isinstance(table, NodeTable):
            data: _A = fold_data(self.algebra, table, self.label)
            return data
        table = as_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table)
        return out


class TreePara(_TreeFold[_A], Generic[_A]):
    """The paramorphism of an `Algebra` over node tables; built by `cdl.para`."""

    algebra: Algebra[_A]

    @property
    def label(self) -> str:
        """``para(<algebra>)``."""
        return f"para({self.algebra.label})"

    def __call__(self, table: NodeTable | Term) -> _A:
        """Fold `table`; each cell sees ``(Subtree, result)`` per child."""
        table = as_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table, subtrees=True)
        return out


class Upwards(_TreeFold[_A], Generic[_A]):
    """The upwards accumulation of an `Algebra`; built by `cdl.upwards`."""

    algebra: Algebra[_A]

    @property
    def label(self) -> str:
        """``upwards(<algebra>)``."""
        return f"upwards({self.algebra.label})"

    def __call__(self, table: NodeTable | Term) -> _A:
        """The fold of every node's subtree, stacked in node order."""
        table = as_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table, every_node=True)
        return out


class _Pair(Para[Any, Any]):
    """One constructor's cells of two algebras, run side by side on pairs.

    `second` sees both results of every child; `first` sees both too when
    `mutual`, else only its own (a zygomorphism's helper).
    """

    first: Para[Any, Any]
    second: Para[Any, Any]
    variadic: bool = eqx.field(static=True)
    mutual: bool = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Layers of pairs to pairs (unchecked pytrees)."""
        return SpaceVar("F(A × B)"), SpaceVar("A × B")

    def __call__(self, x: tuple[Any, Any]) -> tuple[Any, Any]:
        """Both cells on one node."""
        payload, children = x
        if self.mutual:
            own = children
        elif self.variadic:
            (firsts, _), mask = children
            own = (firsts, mask)
        else:
            own = tuple(a for a, _ in children)
        return self.first((payload, own)), self.second((payload, children))


def _paired(first: Algebra[Any], second: Algebra[Any], mutual: bool) -> Algebra[Any]:
    functor = same_functor("mutu" if mutual else "zygo", first, second)
    carrier = None
    if first.carrier is not None and second.carrier is not None:
        carrier = (first.carrier, second.carrier)
    cells = {
        c.name: _Pair(first.cells[c.name], second.cells[c.name], c.variadic, mutual)
        for c in functor.constructors
    }
    return Algebra(functor, None, carrier=carrier, **cells)


class TreeZygo(_TreeFold[_A], Generic[_A, _B]):
    """The zygomorphism of two algebras over node tables; built by `cdl.zygo`."""

    helper: Algebra[_B]
    algebra: Algebra[_A]

    @property
    def label(self) -> str:
        """``zygo(<helper>, <algebra>)``."""
        return f"zygo({self.helper.label}, {self.algebra.label})"

    def __call__(self, table: NodeTable | Term) -> _A:
        """Fold `table` with both algebras; the main result."""
        table = as_table(self.label, self.algebra.functor, table)
        _, out = evaluate(_paired(self.helper, self.algebra, False), table)
        result: _A = out
        return result


class TreeMutu(_TreeFold[tuple[_A, _B]], Generic[_A, _B]):
    """Mutual recursion of two algebras over node tables; built by `cdl.mutu`."""

    first: Algebra[_A]
    second: Algebra[_B]

    @property
    def label(self) -> str:
        """``mutu(<first>, <second>)``."""
        return f"mutu({self.first.label}, {self.second.label})"

    def __call__(self, table: NodeTable | Term) -> tuple[_A, _B]:
        """Fold `table` with both algebras, each seeing both results."""
        table = as_table(self.label, self.first.functor, table)
        out: tuple[_A, _B] = evaluate(_paired(self.first, self.second, True), table)
        return out


class History(eqx.Module, Generic[_A]):
    """A node's result with its descendants' results, `depth` generations deep.

    What `cdl.histo` over a table hands each cell for each child: the child's
    `value`, and its own children's histories one generation shallower (a tuple as
    long as the functor's largest arity) with `present` marking those that exist.

    **Arguments:** `value`; `children`, a tuple of `History` (empty at depth 1);
    `found`, ``float[k]``, 1 where a child exists and 0 where it does not (a float,
    so that histories pass through the gradient rule like any carrier).

    >>> import jax.numpy as jnp, cdl
    >>> h = cdl.History(jnp.float32(1.0), (), jnp.zeros(0))
    >>> h.depth, h.present.shape
    (1, (0,))
    """

    value: _A
    children: tuple["History[_A]", ...]
    found: Float[Array, "*b k"]

    @property
    def present(self) -> Bool[Array, "*b k"]:
        """Which children exist."""
        return self.found > 0

    @property
    def depth(self) -> int:
        """How many generations the history holds, this node's included."""
        return 1 + (self.children[0].depth if self.children else 0)

    def truncated(self, depth: int) -> "History[_A]":
        """The same history, `depth` generations deep (at least 1)."""
        if depth <= 1:
            return History(self.value, (), self.found[..., :0])
        return History(
            self.value, tuple(c.truncated(depth - 1) for c in self.children), self.found
        )


def _blank(value: Any, depth: int, width: int) -> History[Any]:
    zero = jax.tree.map(jnp.zeros_like, value)
    if depth <= 1:
        return History(zero, (), jnp.zeros(0))
    return History(
        zero,
        tuple(_blank(value, depth - 1, width) for _ in range(width)),
        jnp.zeros(width),
    )


class _Remember(Para[Any, Any]):
    """A cell of a histomorphism: run the user's cell, keep the last generations."""

    cell: Para[Any, Any]
    depth: int = eqx.field(static=True)
    width: int = eqx.field(static=True)
    arity: int = eqx.field(static=True)
    variadic: bool = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Layers of histories to histories (unchecked pytrees)."""
        return SpaceVar("F(History)"), SpaceVar("History")

    def __call__(self, x: tuple[Any, Any]) -> History[Any]:
        """The cell's value, with the children's histories one generation shorter."""
        payload, children = x
        value = self.cell((payload, children))
        if self.depth == 1:
            return History(value, (), jnp.zeros(0))
        if self.variadic:
            stacked, mask = children
            kids = [
                jax.tree.map(lambda t, j=j: t[j], stacked) for j in range(self.arity)
            ]
            found = mask.astype(jnp.float32)
        else:
            kids = list(children)
            found = jnp.ones(self.arity)
        kept = [k.truncated(self.depth - 1) for k in kids]
        blank = _blank(value, self.depth - 1, self.width)
        kept += [blank] * (self.width - len(kept))
        found = jnp.concatenate([found, jnp.zeros(self.width - self.arity)])
        return History(value, tuple(kept), found)


class TreeHisto(_TreeFold[_A], Generic[_A]):
    """The histomorphism of an `Algebra` over node tables; built by `cdl.histo`."""

    algebra: Algebra[_A]
    depth: int = eqx.field(static=True)

    @property
    def label(self) -> str:
        """``histo(<algebra>, depth)``."""
        return f"histo({self.algebra.label}, {self.depth})"

    def __call__(self, table: NodeTable | Term) -> _A:
        """Fold `table`; each cell sees its children's `History`."""
        functor = self.algebra.functor
        table = as_table(self.label, functor, table)
        width = max(c.arity for c in functor.constructors)
        cells = {
            c.name: _Remember(
                self.algebra.cells[c.name], self.depth, width, c.arity, c.variadic
            )
            for c in functor.constructors
        }
        carrier = self.algebra.carrier
        if carrier is not None:
            carrier = _blank(carrier, self.depth, width)
        history: History[_A] = evaluate(
            Algebra(functor, None, carrier=carrier, **cells), table
        )
        return history.value
