"""Every recursion scheme's entry point, each dispatching on what it is given.

One function per scheme, named as in the literature, with an overload per kind of
argument: a `cdl.ListAlgebra` or `cdl.ListCoalgebra` runs on the list engine (one
`jax.lax.scan` per scheme, over arrays ``[n, *element_shape]`` or
`cdl.PaddedList`s); a `cdl.Algebra` or `cdl.Coalgebra` of any polynomial functor runs
on the level engine (node tables and `cdl.Unfolded` structures, all nodes of one
height at once, with a gradient rule linear in the number of nodes). `unfold` runs a
stream coalgebra for a fixed number of steps. The same fold, both ways:

>>> import jax.numpy as jnp, cdl
>>> from jaxtyping import Array, Float
>>> total = cdl.ListAlgebra(jnp.float32(0.0), lambda x: x[0] + x[1])
>>> cdl.cata(total)(jnp.array([1.0, 2.0, 3.0]))
Array(6., dtype=float32)
>>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
...     def __call__(self, x):
...         return x[0]
>>> class Add(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""],
...           Float[Array, ""]]], Float[Array, ""]]):
...     def __call__(self, x):
...         return x[1][0] + x[1][1]
>>> sum_tree = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Add())
>>> cdl.cata(sum_tree)(cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0)))
Array(6., dtype=float32)
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from jaxtyping import Array, Bool, Int

from .._para import Compose, Para
from . import _list, _messages
from ._automata import Unfold
from ._functor import Functor, Layer, ListF
from ._hoist import Chrono, Postpro, Prepro, as_natural, hoisted
from ._list import (
    Cata,
    Futu,
    Histo,
    ListAlgebra,
    ListCoalgebra,
    Mutu,
    PaddedList,
    ParaList,
    Scalar,
    Suffix,
    Zygo,
    foldl,
)
from ._monadic import fold_monadic
from ._natural import Natural
from ._plain import as_cell
from ._shortcut import Coelgot, Dyna, Elgot
from ._sizes import size
from ._tree import Algebra
from ._tree_folds import (
    TreeCata,
    TreeHisto,
    TreeMutu,
    TreePara,
    TreeZygo,
    Upwards,
    same_functor,
)
from ._tree_unfolds import (
    Coalgebra,
    TreeAna,
    TreeApo,
    TreeFutu,
    TreeHylo,
    Unfolded,
    Widths,
    level_widths,
)

_A = TypeVar("_A")
_B = TypeVar("_B")
_E = TypeVar("_E")
_L = TypeVar("_L")
_O = TypeVar("_O")
_S = TypeVar("_S")


@overload
def cata(algebra: ListAlgebra[_E, _A]) -> Cata[_E, _A]: ...


@overload
def cata(algebra: Algebra[_A]) -> TreeCata[_A]: ...


def cata(algebra: ListAlgebra[_E, _A] | Algebra[_A]) -> Cata[_E, _A] | TreeCata[_A]:
    """The catamorphism of `algebra`: the unique algebra map out of the initial one.

    For an `Algebra` of any polynomial functor the result folds a `cdl.NodeTable`
    (a tree or a forest) level by level: all nodes of one height at once, one
    carrier per root, with a gradient rule linear in the number of nodes.

    For a `ListAlgebra` the result folds a list stored as an array
    ``[n, *element_shape]`` (a pytree of such, or a `cdl.PaddedList`) with one
    `jax.lax.scan`, the cell's parameters shared across every step. The list
    ``[x0, …, x_{n-1}]`` is ``cons(x0, cons(x1, … cons(x_{n-1}, nil)))``, so the
    **last** element is processed first and ``x0`` last. To process ``x0`` first
    (e.g. the least significant digit of a number stored least significant first,
    or an RNN reading left to right), use `cdl.foldl(algebra)`, which equals
    ``cata(algebra)(xs[::-1])``.

    **Arguments:** `algebra`, an algebra of a base functor.

    **Returns:** a `cdl.Para` from the recursive structure to the carrier.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cell = cdl.GRUCell(32, 64, key=jax.random.key(0))
    >>> rnn = cdl.cata(cdl.ListAlgebra(jnp.zeros(64), cell))
    >>> rnn.dom, rnn.cod
    (float[n,32], float[64])
    >>> classifier = rnn >> cdl.Linear(64, 10, key=jax.random.key(1))
    >>> classifier(jnp.ones((7, 32))).shape
    (10,)
    """
    if isinstance(algebra, ListAlgebra):
        return Cata(algebra)
    if isinstance(algebra, Algebra):
        return TreeCata(algebra)
    raise TypeError(_messages.not_an_algebra("cata", algebra))


@overload
def para(
    nil: _A | Scalar,
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
    nil: _A | Scalar,
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
        same_functor("zygo", helper, nil)
        return TreeZygo(helper, nil)
    if isinstance(helper, Algebra):
        raise TypeError(
            _messages.not_a_scheme_input(
                f"zygo with the helper {helper.label}",
                "the main fold as an Algebra of the same functor, "
                "zygo(helper, algebra); the list form zygo(helper, nil, cons) takes "
                "a ListAlgebra as helper",
            )
        )
    if cons is None:
        raise TypeError(
            _messages.not_a_scheme_input(
                "zygo over lists",
                "zygo(helper, nil, cons): the main fold's nil and a cell of "
                "(element, (helper's result, result)); a ListAlgebra's cell does not "
                "see the helper's result, so it cannot be the main fold",
            )
        )
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
        same_functor("mutu", nils, first)
        return TreeMutu(nils, first)
    return _list.mutu(nils, first, second)


@overload
def histo(
    nil: _A | Scalar,
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
    >>> fib(9)
    Array(55., dtype=float32)
    """
    if isinstance(nil, Algebra):
        look_back = cons if depth is None else depth
        if look_back is None:
            raise TypeError(_messages.histo_needs_depth(nil.label))
        look_back = size("histo's look-back", look_back)
        return TreeHisto(nil, look_back)
    if depth is None:
        raise TypeError(
            _messages.not_a_scheme_input(
                "histo over lists", "a look-back: histo(nil, cons, depth)"
            )
        )
    return _list.histo(nil, cons, depth)


@overload
def upwards(algebra: ListAlgebra[_E, _A]) -> _list.UpwardsList[_E, _A]: ...


@overload
def upwards(algebra: Algebra[_A]) -> Upwards[_A]: ...


def upwards(algebra: Any) -> Any:
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

    On a list, with a `cdl.ListAlgebra`, it is the fold of every suffix
    (Haskell's ``scanr``), one reverse scan:

    >>> cdl.upwards(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))(jnp.arange(4.0))
    Array([6., 6., 5., 3.], dtype=float32)
    """
    if isinstance(algebra, ListAlgebra):
        return _list.upwards_list(algebra)
    if not isinstance(algebra, Algebra):
        raise TypeError(_messages.not_any_algebra("upwards", algebra))
    return Upwards(algebra)


@overload
def ana(coalgebra: ListCoalgebra[_E, _S], max_size: int) -> _list.Ana[_E, _S]: ...


@overload
def ana(
    coalgebra: Coalgebra[_S], *, max_depth: int, max_width: Widths
) -> TreeAna[_S]: ...


def ana(
    coalgebra: ListCoalgebra[_E, _S] | Coalgebra[_S],
    max_size: int | None = None,
    *,
    max_depth: int | None = None,
    max_width: Widths | None = None,
) -> _list.Ana[_E, _S] | TreeAna[_S]:
    """The anamorphism: unfold a seed into a recursive structure.

    For a `cdl.ListCoalgebra`: one `jax.lax.scan` of at most `max_size` steps, stopping
    where the coalgebra says so, a `cdl.PaddedList` out. For a `Coalgebra` of any
    polynomial functor the unfold runs level by level: at each depth the step is
    `vmap`ped over the frontier of seeds (`max_width` slots), the children's seeds are
    compacted into the next frontier, for `max_depth` levels, in one `jax.lax.scan`. A
    branch stops at a constructor without recursive fields; if a level overflows or the
    last level still has children, the result's `truncated` flag is set. The step runs
    on every slot of every level (and the fold runs every cell on every slot), so the
    cost is the sum of the widths: give `max_width` as one width per level where levels
    differ (a balanced tree doubles), as one int otherwise. Runs of levels of one width
    share a `jax.lax.scan`; the others are traced one by one.

    **Arguments:** `coalgebra`; `max_size` (lists), or `max_depth` and
    `max_width` (an int, or a sequence of `max_depth` ints; all at least 1).

    **Returns:** a `cdl.Para` from seeds to `cdl.PaddedList`s or `Unfolded`s.

    A complete binary tree of height 2, and its breadth-first arrays:

    >>> import jax.numpy as jnp, cdl
    >>> def grow(h):
    ...     return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])
    >>> tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=3, max_width=4)(
    ...     jnp.int32(2))
    >>> tree.tags
    Array([[1, 0, 0, 0],
           [1, 1, 0, 0],
           [0, 0, 0, 0]], dtype=int32)
    >>> tree.children[1]
    Array([[ 0,  1],
           [ 2,  3],
           [-1, -1],
           [-1, -1]], dtype=int32)

    With one width per level, a level costs only its own width:

    >>> exact = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=3,
    ...                 max_width=(1, 2, 4))(jnp.int32(2))
    >>> exact.widths, bool((exact.tags == tree.tags).all())
    ((1, 2, 4), True)
    """
    if isinstance(coalgebra, Coalgebra):
        return TreeAna(coalgebra, level_widths("ana", max_depth, max_width, max_size))
    if max_size is None or max_depth is not None or max_width is not None:
        raise TypeError(_messages.list_needs_size("ana"))
    return _list.ana(coalgebra, max_size)


@overload
def hylo(
    algebra: _list.ListAlgebra[_E, _A],
    coalgebra: ListCoalgebra[_E, _S],
    max_size: int,
    *,
    accumulate: bool = False,
) -> _list.Hylo[_E, _S, _A]: ...


@overload
def hylo(
    algebra: Algebra[_A],
    coalgebra: Coalgebra[_S],
    *,
    max_depth: int,
    max_width: Widths,
) -> TreeHylo[_S, _A]: ...


def hylo(
    algebra: _list.ListAlgebra[_E, _A] | Algebra[_A],
    coalgebra: ListCoalgebra[_E, _S] | Coalgebra[_S],
    max_size: int | None = None,
    *,
    accumulate: bool = False,
    max_depth: int | None = None,
    max_width: Widths | None = None,
) -> _list.Hylo[_E, _S, _A] | TreeHylo[_S, _A]:
    """The hylomorphism ``cata(algebra) ∘ ana(coalgebra)``, never exposing the middle.

    For a `cdl.ListAlgebra` and a `cdl.ListCoalgebra`: one unfold scan of at most
    `max_size` elements, then one fold scan over them; with ``accumulate=True``
    the fold is `cdl.foldl`'s (first element first), fused into the unfold's scan
    with constant memory. For an `Algebra`
    and a `Coalgebra` of one polynomial functor: the level-by-level unfold, then
    the level-by-level fold, inside one call; the result is the carrier at the
    root. Since the structure is not returned, a cut-off unfold raises (also under
    `jax.jit`): raise `max_depth` or `max_width` then.

    **Arguments:** `algebra`; `coalgebra`; `max_size` (lists), or `max_depth` and
    `max_width`.

    **Returns:** a `cdl.Para` from seeds to the carrier. Raises `TypeError` for an
    algebra and a coalgebra of different functors.

    The depth of a rose tree (every node `n` has ``min(n, 3)`` children):

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float, Bool
    >>> class Depth(cdl.Para[tuple[Float[Array, ""], tuple[Float[Array, "3"],
    ...                      Bool[Array, "3"]]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         _, (kids, mask) = x
    ...         return 1 + jnp.where(mask, kids, 0.0).max()
    >>> def count_down(n):
    ...     kids = jnp.stack([n - 1, n - 2, n - 3])
    ...     return 0, {"Node": n.astype(float)}, kids, jnp.minimum(n, 3)
    >>> rose = cdl.RoseF(3)
    >>> depth = cdl.hylo(cdl.Algebra(rose, carrier=jnp.float32(0), Node=Depth()),
    ...                  cdl.Coalgebra(rose, count_down), max_depth=8, max_width=64)
    >>> depth(jnp.int32(5))
    Array(6., dtype=float32)
    """
    if isinstance(coalgebra, Coalgebra):
        if not isinstance(algebra, Algebra):
            raise TypeError(_messages.mixed_hylo(algebra, coalgebra))
        widths = level_widths("hylo", max_depth, max_width, max_size)
        return TreeHylo(algebra, coalgebra, widths)
    if max_size is None or max_depth is not None or max_width is not None:
        raise TypeError(_messages.list_needs_size("hylo"))
    if not isinstance(algebra, _list.ListAlgebra):
        raise TypeError(_messages.list_needs_size("hylo"))
    return _list.hylo(algebra, coalgebra, max_size, accumulate=accumulate)


@overload
def apo(
    coalgebra: ListCoalgebra[_E, _S],
    finish: Callable[[_S], Bool[Array, ""] | bool],
    tail: Callable[[_S], PaddedList],
    max_size: int,
) -> _list.Apo[_E, _S]: ...


@overload
def apo(
    coalgebra: Coalgebra[_S],
    finish: Callable[[_S], Bool[Array, ""] | bool],
    tail: Callable[[_S], Int[Array, ""]],
    source: Unfolded,
    /,
    *,
    max_depth: int,
    max_width: Widths,
) -> TreeApo[_S]: ...


def apo(
    coalgebra: ListCoalgebra[_E, _S] | Coalgebra[_S],
    finish: Callable[[_S], Bool[Array, ""] | bool],
    tail: Callable[[_S], Any],
    max_size: int | Unfolded | None = None,
    *,
    max_depth: int | None = None,
    max_width: Widths | None = None,
) -> _list.Apo[_E, _S] | TreeApo[_S]:
    """The apomorphism: an unfold whose branches may end in a finished structure.

    For a `cdl.ListCoalgebra`: ``apo(coalgebra, finish, tail, max_size)``; each step
    emits an element followed by the next seed, or, where ``finish(seed)`` holds, by the
    finished `cdl.PaddedList` ``tail(seed)``. For a `Coalgebra` of any polynomial
    functor the finished structures are subtrees of a given `source` (an `Unfolded`),
    and the scheme copies them: a seed for which ``finish(seed)`` holds becomes a copy
    of the subtree of `source` at flat index ``tail(seed)`` (see `Unfolded.at`), laid
    out level by level like the rest; the step's output is not used for the copied nodes
    (it is still computed on their slots, as on every slot). This is the ``Left`` of ``S
    → F(T + S)`` with `T` the subtrees of `source`; copying what is left of an existing
    tree is what insertion into a search tree needs.

    **Arguments:** `coalgebra`; `finish` and `tail`, functions of a seed; `source`
    (given by position, in the place of the list case's `max_size`), an
    `Unfolded` of the same functor; `max_depth`, `max_width`.

    **Returns:** a `cdl.Para` from seeds to `Unfolded`s.

    Inserting 5 into a search tree: the path to the new leaf is unfolded, the
    subtrees beside it are copied (a seed is a node of the old tree and whether
    to copy it):

    >>> import jax.numpy as jnp, cdl
    >>> bst = cdl.polynomial("BST", Tip="", Bin="a x x")
    >>> def build(lo_hi):  # a balanced tree of the keys lo..hi-1, times 2
    ...     lo, hi = lo_hi[0], lo_hi[1]
    ...     mid = (lo + hi) // 2
    ...     seeds = jnp.stack([jnp.stack([lo, mid]), jnp.stack([mid + 1, hi])])
    ...     return jnp.where(lo < hi, 1, 0), {"Bin": 2 * mid}, seeds
    >>> old = cdl.ana(cdl.Coalgebra(bst, build), max_depth=4, max_width=8)(
    ...     jnp.array([0, 3]))
    >>> def insert(seed):
    ...     tag, payloads, kids, _ = old.at(seed[0])
    ...     left = jnp.stack([kids[0], (5 > payloads["Bin"]).astype(jnp.int32)])
    ...     right = jnp.stack([kids[1], (5 < payloads["Bin"]).astype(jnp.int32)])
    ...     at_tip = tag == 0
    ...     tip = jnp.stack([seed[0], jnp.int32(1)])
    ...     seeds = jnp.where(at_tip, jnp.stack([tip, tip]), jnp.stack([left, right]))
    ...     return 1, {"Bin": jnp.where(at_tip, 5, payloads["Bin"])}, seeds
    >>> new = cdl.apo(cdl.Coalgebra(bst, insert), lambda s: s[1] == 1,
    ...               lambda s: s[0], old, max_depth=5, max_width=8)(jnp.array([0, 0]))
    >>> def keys(t):
    ...     return [] if t.constructor == "Tip" else (
    ...         keys(t.children[0]) + [int(t.payload)] + keys(t.children[1]))
    >>> keys(old.to_terms()), keys(new.to_terms())
    ([0, 2, 4], [0, 2, 4, 5])
    """
    if isinstance(coalgebra, Coalgebra):
        if not isinstance(max_size, Unfolded):
            raise TypeError(_messages.apo_needs_source(max_size))
        widths = level_widths("apo", max_depth, max_width)
        return TreeApo(coalgebra, widths, finish, tail, max_size)
    if max_size is None or isinstance(max_size, Unfolded) or max_depth is not None:
        raise TypeError(_messages.list_needs_size("apo"))
    return _list.apo(coalgebra, finish, tail, max_size)


@overload
def futu(
    step: Para[_S, tuple[Int[Array, ""], _L, _S]]
    | Callable[[_S], tuple[Int[Array, ""], _L, _S]],
    stop: Callable[[_S], Bool[Array, ""] | bool],
    max_size: int,
) -> _list.Futu[_S]: ...


@overload
def futu(step: Coalgebra[_S], *, max_depth: int, max_width: Widths) -> TreeFutu[_S]: ...


def futu(
    step: Para[Any, Any] | Callable[[Any], Any],
    stop: Callable[[_S], Bool[Array, ""] | bool] | None = None,
    max_size: int | None = None,
    *,
    max_depth: int | None = None,
    max_width: Widths | None = None,
) -> _list.Futu[_S] | TreeFutu[_S]:
    """The futumorphism: an unfold whose steps may build several levels at once.

    For lists, ``futu(step, stop, max_size)``: ``step(seed)`` returns ``(count,
    block, next_seed)`` and the first `count` rows of `block` are emitted at once,
    until ``stop(seed)`` holds or `max_size` elements are out. For a
    `Coalgebra` of any polynomial functor, its step returns ``(top, below,
    ahead)``: `top` is a layer ``(tag, payloads, seeds[, count])`` as for
    `cdl.ana`; `below` holds `k` more such layers stacked along a first axis;
    `ahead` ``bool[k]`` says which children are given as the layer ``below[j]``
    (whose own children are then seeds) rather than as the seed ``seeds[j]``. A
    look-ahead of two levels, ``S → F(S + F(S))``: the given layers are placed at
    the next level as they are, the step's output on their slots unused. Deeper
    look-ahead: carry what is pending in the seeds.

    **Arguments:** `step`, a `Coalgebra` here; `max_depth`, `max_width`.

    **Returns:** a `cdl.Para` from seeds to `Unfolded`s.

    A complete binary tree grown two levels per step:

    >>> import jax.numpy as jnp, cdl
    >>> def two(h):
    ...     node = (jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 2, h - 2]))
    ...     below = (jnp.where(h > 1, 1, 0) * jnp.ones(2, jnp.int32),
    ...              {"Leaf": jnp.stack([h - 1, h - 1])},
    ...              jnp.broadcast_to(h - 2, (2, 2)))
    ...     return node, below, jnp.broadcast_to(h > 0, (2,))
    >>> tree = cdl.futu(cdl.Coalgebra(cdl.TreeF, two), max_depth=4, max_width=8)(
    ...     jnp.int32(3))
    >>> tree.valid.sum(axis=1)
    Array([1, 2, 4, 8], dtype=int32)
    """
    if isinstance(step, Coalgebra):
        return TreeFutu(
            step, level_widths("futu", max_depth, max_width, stop or max_size)
        )
    if stop is None or max_size is None or max_depth is not None:
        raise TypeError(_messages.list_needs_size("futu"))
    return _list.futu(step, stop, max_size)


def prepro(
    eta: Any,
    algebra: ListAlgebra[_E, _A] | Algebra[_A],
    *,
    max_depth: int | None = None,
) -> Prepro[_A]:
    """The prepromorphism: a fold that transforms each layer below the first.

    Haskell's ``prepro k alg = alg . fmap (prepro k alg . hoist k) . project``:
    before the fold reaches a layer at depth `i`, the natural transformation
    `eta` has been applied to it `i` times, and its changes of constructor
    re-shape what is folded (``Cons x _ | x > 10 -> Nil`` ends a list at the
    first element that, transformed, is over 10). On lists
    ``prepro(eta, algebra)([x0, x1, x2])`` with a map on elements is
    ``cata(algebra)([x0, eta(x1), eta(eta(x2))])``: a discount or a decay.

    **Arguments:**

    - `eta`: a natural transformation of the algebra's functor: a function of
      layers (match on the functor's patterns, return a layer whose children are
      the given layer's, `cdl.choose` where a constructor depends on data), or
      for lists a `cdl.Para` ``E → E`` on elements.
    - `algebra`: a `cdl.ListAlgebra`, or a `cdl.Algebra` of any polynomial functor.

    - `max_depth`: for tables, a bound on their depth (a deeper table raises,
      also under `jax.jit`).

    **Returns:** a `cdl.Para` from what the algebra's `cdl.cata` folds (lists;
    node tables, terms or `cdl.Unfolded`s) to the carrier. Over a table, `eta`
    runs one vectorised step on every node per level of depth: as many as the
    depth when the table is known (called outside `jax.jit`, the scheme compiles
    itself once per bucket of tables), at most `max_depth` under `jax.jit`, and
    without it up to the table's capacity, in blocks of about its square root:
    blocks past the depth are skipped, and a gradient keeps one state per block.

    A discounted return ``r0 + γ r1 + γ² r2 + …``, with γ = 0.5:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Discount(cdl.Para[Float[Array, ""], Float[Array, ""]]):
    ...     def __call__(self, r):
    ...         return 0.5 * r
    >>> total = cdl.ListAlgebra(jnp.float32(0.0), cdl.Add())
    >>> cdl.prepro(Discount(), total)(jnp.array([1.0, 2.0, 4.0, 8.0]))
    Array(4., dtype=float32)

    The sum of a tree whose leaves are halved once per level of depth:

    >>> Leaf, Node = cdl.TreeF.patterns
    >>> def shrink(layer):
    ...     match layer:
    ...         case Leaf(x):
    ...             return Leaf(x / 2)
    ...         case Node(l, r):
    ...             return Node(l, r)
    >>> def total(layer):
    ...     match layer:
    ...         case Leaf(x):
    ...             return x
    ...         case Node(a, b):
    ...             return a + b
    >>> cdl.prepro(shrink, cdl.Algebra(cdl.TreeF, total))(
    ...     Node(Leaf(8.0), Node(Leaf(8.0), Leaf(8.0))))
    Array(8., dtype=float32)
    """
    if max_depth is not None:
        max_depth = size("prepro's depth", max_depth, least=0)
    if isinstance(algebra, ListAlgebra):
        return Prepro(as_natural("prepro", eta, ListF), algebra, max_depth)
    if isinstance(algebra, Algebra):
        return Prepro(as_natural("prepro", eta, algebra.functor), algebra, max_depth)
    raise TypeError(_messages.not_an_algebra("prepro", algebra))


def postpro(
    eta: Any,
    coalgebra: ListCoalgebra[_E, _S] | Coalgebra[_S],
    max_size: int | None = None,
    *,
    max_depth: int | None = None,
    max_width: Widths | None = None,
) -> Postpro[_S]:
    """The postpromorphism: an unfold that transforms each layer below the first.

    Haskell's ``postpro k coalg = embed . fmap (hoist k . postpro k coalg) .
    coalg``: the layer unfolded at depth `i` is passed through the natural
    transformation `eta` `i` times, and a change of constructor re-shapes the
    result (``Cons x _ | x > 10 -> Nil`` ends the list at the first element that,
    transformed, is over 10). An unfold cut off by its bounds is no longer
    `truncated` when the transformation ends it before the cut.

    **Arguments:** `eta`, as for `cdl.prepro`; `coalgebra`, a
    `cdl.ListCoalgebra` with `max_size`, or a `cdl.Coalgebra` of any functor
    and `max_depth`, `max_width` (see `cdl.ana`).

    **Returns:** a `cdl.Para` from seeds to `cdl.PaddedList`s or
    `cdl.Unfolded`s.

    Powers of two, each doubled once per position:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Double(cdl.Para[Float[Array, ""], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return 2 * x
    >>> ones = cdl.ListCoalgebra(cdl.Copy(), lambda s: s > 1)
    >>> cdl.postpro(Double(), ones, max_size=4)(jnp.float32(1.0)).values
    Array([1., 2., 4., 8.], dtype=float32)

    The naturals from 1, each doubled once per position, ended at the first
    over 10: the infinite unfold is cut by the transformation, not by `max_size`:

    >>> Nil, Cons = cdl.ListF.patterns
    >>> def double(layer):
    ...     match layer:
    ...         case Cons(x, rest):
    ...             return cdl.choose(2 * x > 10, Nil(), Cons(2 * x, rest))
    ...         case _:
    ...             return layer
    >>> nat = cdl.ListCoalgebra(lambda n: (n, n + 1), lambda n: False)
    >>> out = cdl.postpro(double, nat, max_size=8)(jnp.int32(1))
    >>> out.to_list(), bool(out.truncated)
    ([Array(1, dtype=int32), Array(4, dtype=int32)], False)
    """
    if isinstance(coalgebra, Coalgebra):
        widths = level_widths("postpro", max_depth, max_width, max_size)
        return Postpro(
            as_natural("postpro", eta, coalgebra.functor), coalgebra, 0, widths
        )
    if not isinstance(coalgebra, ListCoalgebra) or max_size is None:
        raise TypeError(_messages.list_needs_size("postpro"))
    max_size = size("postpro", max_size)
    return Postpro(as_natural("postpro", eta, ListF), coalgebra, max_size, ())


def hoist(functor: Functor, eta: Callable[[Layer[Any]], Any]) -> Callable[[Any], Any]:
    """Apply a natural transformation at every layer (Haskell's ``hoist``).

    ``hoist eta = cata (embed . eta)``: each layer is transformed once; a change
    of constructor re-shapes the structure (``Cons x _ -> Nil`` drops the rest).
    A term (a `cdl.Layer` of terms) is walked iteratively on the host, a
    `cdl.choose` decided on its concrete payloads; an `cdl.Unfolded` is
    transformed on every node at once, inside `jax.jit`. Between the
    representations of one functor's data (Haskell's ``refix``),
    `cdl.tree_table` stores a term as a table and `cdl.Unfolded.to_terms` reads
    an unfold back as a term; ``project`` and ``embed`` of a term are its layer
    itself (a term *is* its top layer of terms).

    **Arguments:** `functor`; `eta`, a function of its layers (see
    `cdl.choose`).

    **Returns:** the function from terms to terms, and from `cdl.Unfolded`s to
    `cdl.Unfolded`s.

    >>> import cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> def mirror(layer):
    ...     match layer:
    ...         case Node(l, r):
    ...             return Node(r, l)
    ...         case _:
    ...             return layer
    >>> cdl.hoist(cdl.TreeF, mirror)(Node(Leaf(1), Node(Leaf(2), Leaf(3)))) == Node(
    ...     Node(Leaf(3), Leaf(2)), Leaf(1))
    True
    """
    nat = as_natural("hoist", eta, functor)
    assert isinstance(nat, Natural)
    return functools.partial(hoisted, nat)


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


def dyna(
    nil: _A | Scalar,
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
    max_size = size("dyna", max_size)
    depth = size("dyna's look-back", depth)
    histo = Histo(nil, as_cell(cons, "dyna's cons"), depth)
    return Dyna(histo, coalgebra, max_size)


def elgot(
    algebra: ListAlgebra[_E, _A],
    coalgebra: ListCoalgebra[_E, _S],
    exit: Callable[[_S], Bool[Array, ""] | bool],
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
    max_size = size("elgot", max_size)
    return Elgot(algebra, coalgebra, exit, as_cell(result, "elgot's result"), max_size)


def coelgot(
    nil: _A | Scalar,
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
    max_size = size("coelgot", max_size)
    return Coelgot(nil, as_cell(cons, "coelgot's cons"), coalgebra, max_size)


def cataM(  # noqa: N802
    functor: Functor, algebra: Callable[[Layer[Any]], Any]
) -> Callable[[Any], Any]:
    """The monadic catamorphism of a term (a `cdl.Layer` of terms) on the host.

    The children's containers are sequenced left to right with ``bind``; the
    algebra is called on the layer of their values and returns a container. A
    `Failure` (or `Nothing`) stops the fold there. The walk is iterative, so
    terms of any depth fold.

    **Arguments:** `functor`; `algebra`, a function from a layer of values to a
    `returns` container of a value.

    **Returns:** the fold, a function from terms (or, for a list functor, Python
    lists) to containers.

    >>> import cdl
    >>> from returns.maybe import Nothing, Some
    >>> Nil, Cons = cdl.ListF.patterns
    >>> def positive_sum(layer):
    ...     match layer:
    ...         case Nil():
    ...             return Some(0)
    ...         case Cons(x, rest):
    ...             return Some(x + rest) if x > 0 else Nothing
    >>> cdl.cataM(cdl.ListF, positive_sum)([1, 2, 3]), cdl.cataM(
    ...     cdl.ListF, positive_sum)([1, -2, 3])
    (<Some: 6>, <Nothing>)
    """
    return functools.partial(fold_monadic, functor, algebra)


def unfold(
    coalgebra: Para[_S, tuple[_O, _S]] | Callable[[_S], tuple[_O, _S]], length: int
) -> Unfold[_S, _O]:
    """Unfold a seed with a stream coalgebra ``S → O × S``: an unfolding RNN.

    **Arguments:** `coalgebra`, a `cdl.Para` from a state to an output and the next
    state (e.g. `DecoderCell`); `length`, how many outputs to take.

    **Returns:** a `cdl.Para` from seeds to ``[length, *output_shape]`` arrays.

    >>> import jax, jax.numpy as jnp, cdl
    >>> decoder = cdl.unfold(cdl.DecoderCell(4, 3, key=jax.random.key(0)), 5)
    >>> decoder.dom, decoder.cod
    (float[4], float[5,3])
    """
    length = size("unfold", length)
    return Unfold(as_cell(coalgebra, "unfold's coalgebra"), length)


def encoder_decoder(
    encoder: ListAlgebra[_E, _A],
    decoder: Para[_A, tuple[_O, _A]] | Callable[[_A], tuple[_O, _A]],
    length: int,
) -> Para[Any, Any]:
    """An encoder–decoder: fold the input into a code, then unfold the code.

    This is ``foldl(encoder) >> unfold(decoder, length)``: a catamorphism followed
    by an anamorphism through the carrier (a *metamorphism*), each one scan.

    **Arguments:** `encoder`, a `ListAlgebra` (e.g. a GRU's); `decoder`, a stream
    coalgebra on the same carrier; `length`, the number of outputs.

    **Returns:** a `cdl.Para` from input lists to output arrays.

    >>> import jax, jax.numpy as jnp, cdl
    >>> enc = cdl.ListAlgebra(jnp.zeros(8), cdl.GRUCell(2, 8, key=jax.random.key(0)))
    >>> dec = cdl.DecoderCell(8, 2, key=jax.random.key(1))
    >>> seq2seq = cdl.encoder_decoder(enc, dec, 4)
    >>> seq2seq(jnp.ones((6, 2))).shape
    (4, 2)
    """
    return Compose(foldl(encoder), unfold(decoder, length))
