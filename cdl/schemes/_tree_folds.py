"""`para`, `zygo`, `mutu` and `histo` over node tables, for any polynomial functor.

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

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .._para import Para
from .._space import Space, SpaceVar
from . import _list, _messages
from ._functor import Functor
from ._levels import evaluate
from ._list import Histo, ListAlgebra, Mutu, ParaList, Suffix, Zygo
from ._terms import Term, fold_data
from ._tree import Algebra, NodeTable, check_table
from ._unfold import Unfolded, fold

_E = TypeVar("_E")
_A = TypeVar("_A")
_B = TypeVar("_B")


def _same_functor(scheme: str, first: Algebra[Any], second: Algebra[Any]) -> Functor:
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
        check_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table)
        return out


class TreePara(_TreeFold[_A], Generic[_A]):
    """The paramorphism of an `Algebra` over node tables; built by `cdl.para`."""

    algebra: Algebra[_A]

    @property
    def label(self) -> str:
        """``para(<algebra>)``."""
        return f"para({self.algebra.label})"

    def __call__(self, table: NodeTable) -> _A:
        """Fold `table`; each cell sees ``(Subtree, result)`` per child."""
        check_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table, subtrees=True)
        return out


class Upwards(_TreeFold[_A], Generic[_A]):
    """The upwards accumulation of an `Algebra`; built by `cdl.upwards`."""

    algebra: Algebra[_A]

    @property
    def label(self) -> str:
        """``upwards(<algebra>)``."""
        return f"upwards({self.algebra.label})"

    def __call__(self, table: NodeTable) -> _A:
        """The fold of every node's subtree, stacked in node order."""
        check_table(self.label, self.algebra.functor, table)
        out: _A = evaluate(self.algebra, table, every_node=True)
        return out


def upwards(algebra: Algebra[_A]) -> Upwards[_A]:
    """The upwards accumulation: every node labelled with the fold of its subtree.

    Where ``cdl.cata(algebra)`` returns the carrier at each root,
    ``upwards(algebra)`` returns it at every node, stacked along a first axis in
    the table's node order (for `cdl.tree_table`: children before parents, left
    to right, tree after tree; `cdl.read_brackets(..., labels=True)` lists its
    labels in that order). It is the same level-by-level pass, with the same
    gradient rule: a loss on every node (a sentiment label on every phrase, say)
    costs no more than one on the roots.

    **Arguments:** `algebra`, a `cdl.Algebra`.

    **Returns:** a `cdl.Para` from node tables to stacked carriers ``[n, ...]``.

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[0]
    >>> class Add(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""],
    ...           Float[Array, ""]]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[1][0] + x[1][1]
    >>> total = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Add())
    >>> table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 4.0))
    >>> cdl.upwards(total)(table)[: table.size]
    Array([1., 2., 3., 4., 7.], dtype=float32)
    """
    return Upwards(algebra)


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
    functor = _same_functor("mutu" if mutual else "zygo", first, second)
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

    def __call__(self, table: NodeTable) -> _A:
        """Fold `table` with both algebras; the main result."""
        check_table(self.label, self.algebra.functor, table)
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

    def __call__(self, table: NodeTable) -> tuple[_A, _B]:
        """Fold `table` with both algebras, each seeing both results."""
        check_table(self.label, self.first.functor, table)
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

    def __call__(self, table: NodeTable) -> _A:
        """Fold `table`; each cell sees its children's `History`."""
        functor = self.algebra.functor
        check_table(self.label, functor, table)
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


@overload
def para(
    nil: _A,
    cons: Para[tuple[_E, tuple[Suffix, _A]], _A]
    | Callable[[tuple[_E, tuple[Suffix, _A]]], _A],
) -> ParaList[_A]: ...


@overload
def para(algebra: Algebra[_A], /) -> TreePara[_A]: ...


def para(nil: Any, cons: Any = None) -> Any:
    """The paramorphism: a fold whose cell also sees the original substructure.

    On lists, ``para(nil, cons)``: the cell is called on
    ``(element, (tail, result_on_tail))`` with `tail` a `cdl.Suffix`, in one
    `jax.lax.scan`. Over node tables,
    ``para(algebra)``: each cell of the `cdl.Algebra` gets its children as
    ``(cdl.Subtree, result)`` pairs (for a variadic constructor,
    ``((subtrees, results), mask)``), evaluated level by level.

    **Arguments:** `nil` and `cons`, or one `cdl.Algebra`.

    **Returns:** a `cdl.Para` from lists, or node tables, to the carrier.

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[0]
    >>> class Node(cdl.Para[tuple[Float[Array, "0"], tuple[tuple[cdl.Subtree,
    ...            Float[Array, ""]], tuple[cdl.Subtree, Float[Array, ""]]]],
    ...            Float[Array, ""]]):
    ...     def __call__(self, x):  # a leaf on the left counts double
    ...         _, ((left, a), (_, b)) = x
    ...         return jnp.where(left.is_("Leaf"), 2 * a, a) + b
    >>> alg = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Node())
    >>> cdl.para(alg)(cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0))))
    Array(9., dtype=float32)
    """
    if isinstance(nil, Algebra) and cons is None:
        return TreePara(nil)
    return _list.para(nil, cons)


@overload
def zygo(
    helper: ListAlgebra[_E, _B],
    nil: _A,
    cons: Para[tuple[_E, tuple[_B, _A]], _A] | Callable[[tuple[_E, tuple[_B, _A]]], _A],
) -> Zygo[_E, _A, _B]: ...


@overload
def zygo(helper: Algebra[_B], algebra: Algebra[_A], /) -> TreeZygo[_A, _B]: ...


def zygo(helper: Any, nil: Any, cons: Any = None) -> Any:
    """The zygomorphism: a fold whose cell also sees a helper fold's results.

    On lists, ``zygo(helper, nil, cons)``. Over node
    tables, ``zygo(helper, algebra)`` with two `cdl.Algebra`s of one functor: the
    helper's cells see their own results; the main cells see each child as
    ``(helper_result, result)``. Both run in the same level-by-level pass.

    **Arguments:** a helper algebra, then the main algebra (`nil` and `cons` on
    lists).

    **Returns:** a `cdl.Para` to the main carrier.

    Whether a binary tree is balanced by height, with height as the helper:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> F = Float[Array, ""]
    >>> class Zero(cdl.Para[tuple[F, tuple[()]], F]):
    ...     def __call__(self, x):
    ...         return jnp.float32(0.0)
    >>> class Height(cdl.Para[tuple[Float[Array, "0"], tuple[F, F]], F]):
    ...     def __call__(self, x):
    ...         return 1 + jnp.maximum(*x[1])
    >>> class One(cdl.Para[tuple[F, tuple[()]], F]):
    ...     def __call__(self, x):
    ...         return jnp.float32(1.0)
    >>> class Balanced(cdl.Para[tuple[Float[Array, "0"], tuple[tuple[F, F],
    ...                tuple[F, F]]], F]):
    ...     def __call__(self, x):
    ...         _, ((hl, bl), (hr, br)) = x
    ...         return bl * br * (jnp.abs(hl - hr) <= 1)
    >>> height = cdl.Algebra(cdl.TreeF, Leaf=Zero(), Node=Height())
    >>> balanced = cdl.zygo(height, cdl.Algebra(cdl.TreeF, Leaf=One(), Node=Balanced()))
    >>> balanced(cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0)))
    Array(1., dtype=float32)
    >>> balanced(cdl.tree_table(cdl.TreeF, (((1.0, 2.0), 3.0), 4.0)))
    Array(0., dtype=float32)
    """
    if isinstance(helper, Algebra) and cons is None:
        if not isinstance(nil, Algebra):
            raise TypeError(_messages.not_an_algebra("zygo", nil))
        _same_functor("zygo", helper, nil)
        return TreeZygo(helper, nil)
    return _list.zygo(helper, nil, cons)


@overload
def mutu(
    nils: tuple[_A, _B],
    first: Para[tuple[_E, tuple[_A, _B]], _A]
    | Callable[[tuple[_E, tuple[_A, _B]]], _A],
    second: Para[tuple[_E, tuple[_A, _B]], _B]
    | Callable[[tuple[_E, tuple[_A, _B]]], _B],
) -> Mutu[_A, _B]: ...


@overload
def mutu(first: Algebra[_A], second: Algebra[_B], /) -> TreeMutu[_A, _B]: ...


def mutu(nils: Any, first: Any, second: Any = None) -> Any:
    """Mutumorphism: two folds defined in terms of each other, in one pass.

    On lists, ``mutu(nils, first, second)``. Over
    node tables, ``mutu(first, second)`` with two `cdl.Algebra`s of one functor:
    every cell of both sees each child as ``(first_result, second_result)``.

    **Arguments:** two algebras (on lists: the two `nils`, then two cells).

    **Returns:** a `cdl.Para` to the pair of results.

    Whether a natural number is even or odd, each defined by the other:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> F = Float[Array, ""]
    >>> class Const(cdl.Para[tuple[Float[Array, "0"], tuple[()]], F]):
    ...     value: float
    ...     def __call__(self, x):
    ...         return jnp.float32(self.value)
    >>> class Other(cdl.Para[tuple[Float[Array, "0"], tuple[tuple[F, F]]], F]):
    ...     index: int
    ...     def __call__(self, x):
    ...         return x[1][0][self.index]
    >>> even = cdl.Algebra(cdl.NatF, Zero=Const(1.0), Succ=Other(1))
    >>> odd = cdl.Algebra(cdl.NatF, Zero=Const(0.0), Succ=Other(0))
    >>> three = cdl.Layer("Succ", None, (cdl.Layer("Succ", None, (
    ...     cdl.Layer("Succ", None, (cdl.Layer("Zero", None, ()),)),)),))
    >>> cdl.mutu(even, odd)(cdl.tree_table(cdl.NatF, three))
    (Array(0., dtype=float32), Array(1., dtype=float32))
    """
    if isinstance(nils, Algebra) and second is None:
        if not isinstance(first, Algebra):
            raise TypeError(_messages.not_an_algebra("mutu", first))
        _same_functor("mutu", nils, first)
        return TreeMutu(nils, first)
    return _list.mutu(nils, first, second)


@overload
def histo(
    nil: _A,
    cons: Para[tuple[_E, tuple[_A, ...]], _A]
    | Callable[[tuple[_E, tuple[_A, ...]]], _A],
    depth: int,
) -> Histo[_A]: ...


@overload
def histo(algebra: Algebra[_A], depth: int, /) -> TreeHisto[_A]: ...


@overload
def histo(algebra: Algebra[_A], /, *, depth: int) -> TreeHisto[_A]: ...


def histo(nil: Any, cons: Any = None, depth: int | None = None) -> Any:
    """The histomorphism: a fold whose cell sees earlier results, not only the last.

    On lists, ``histo(nil, cons, depth)``: the cell sees the results on the last
    `depth` tails. Over node tables,
    ``histo(algebra, depth)``: each cell sees its children as `cdl.History` values,
    the child's result and its descendants' down to `depth` generations below the
    node (with ``depth=1``, only the children's own results, as in `cdl.cata`).
    A history costs ``k^(depth-1)`` carriers per node for `k` children, so keep
    `depth` small.

    **Arguments:** `nil` and `cons`, or a `cdl.Algebra`; `depth`, at least 1.

    **Returns:** a `cdl.Para` to the carrier.

    A node adds its child's and grandchild's values: the number `n` (as `NatF`)
    folds to the Fibonacci number ``F(n + 1)``:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class One(cdl.Para[tuple[Float[Array, "0"], tuple[()]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return jnp.float32(1.0)
    >>> class Fib(cdl.Para[tuple[Float[Array, "0"], tuple[cdl.History]],
    ...                    Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         (h,) = x[1]
    ...         before = jnp.where(h.present[0], h.children[0].value, 0.0)
    ...         return h.value + before
    >>> fib = cdl.histo(cdl.Algebra(cdl.NatF, Zero=One(), Succ=Fib()), 2)
    >>> term = cdl.Layer("Zero", None, ())
    >>> for _ in range(9):
    ...     term = cdl.Layer("Succ", None, (term,))
    >>> fib(cdl.tree_table(cdl.NatF, term))
    Array(55., dtype=float32)
    """
    if isinstance(nil, Algebra):
        look_back = cons if depth is None else depth
        if not isinstance(look_back, int) or look_back < 1:
            raise ValueError(_messages.bad_size("histo's look-back", look_back))
        return TreeHisto(nil, look_back)
    if depth is None:
        raise TypeError("histo over lists is histo(nil, cons, depth).")
    return _list.histo(nil, cons, depth)
