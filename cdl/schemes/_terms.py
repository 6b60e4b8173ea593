"""Folds of terms and Python data: what a fold is given, brought to an engine.

A tree algebra's fold takes a `cdl.NodeTable` or an `cdl.Unfolded`; given a term
(a `cdl.Layer` whose children are terms, as the functor's patterns build them) or,
for `cdl.TreeF`, nested pairs, it builds the table itself. An algebra of a list
functor (constructors ``Nil`` and ``Cons a x``, like `cdl.ListF`) folds arrays,
`cdl.PaddedList`s, Python lists and ``Cons`` terms with the list engine, one
`jax.lax.scan`:

>>> import jax.numpy as jnp, cdl
>>> Nil, Cons = cdl.ListF.patterns
>>> def total(layer):
...     match layer:
...         case Nil():
...             return 0.0
...         case Cons(x, rest):
...             return x + rest
>>> fold = cdl.cata(cdl.Algebra(cdl.ListF, total))
>>> fold(jnp.arange(4.0)), fold([1.0, 2.0]), fold(Cons(5.0, Cons(1.0, Nil())))
(Array(6., dtype=float32), Array(3., dtype=float32), Array(6., dtype=float32))
"""

from collections.abc import Sequence
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from . import _messages
from ._fold import evaluate
from ._functor import Functor, Layer
from ._list import Cata, ListAlgebra, PaddedList, cons_payloads, stacked
from ._plain import as_cell
from ._tree import Algebra, NodeTable, check_table, traced, tree_table

Term: TypeAlias = Layer[Any] | Array | PaddedList | Sequence[Any] | int
"""What a fold takes besides tables: a term, nested pairs, a list, or (for a
functor ``1 + X``) a natural number."""


def is_list_functor(functor: Functor) -> bool:
    """Whether `functor` is ``1 + A × X`` with constructors ``Nil`` and ``Cons``."""
    if functor.names != ("Nil", "Cons"):
        return False
    nil, cons = functor.constructors
    return (nil.payload, nil.arity) == (False, 0) and (
        cons.payload,
        cons.arity,
        cons.variadic,
    ) == (True, 1, False)


def is_nat_functor(functor: Functor) -> bool:
    """Whether `functor` is ``1 + X``: a constant and a successor, no payloads."""
    shapes = sorted((c.payload, c.arity, c.variadic) for c in functor.constructors)
    return shapes == [(False, 0, False), (False, 1, False)]


def _is_integer(data: Any) -> bool:
    """Whether `data` is one integer: a Python or numpy int, or a 0-d int array."""
    if isinstance(data, bool):
        return False
    if isinstance(data, int | np.integer):
        return True
    dtype = getattr(data, "dtype", None)
    return (
        getattr(data, "ndim", None) == 0
        and dtype is not None
        and np.issubdtype(dtype, np.integer)
    )


def nat_table(functor: Functor, n: int) -> NodeTable:
    """The natural number `n` of a functor ``1 + X`` as a chain of `n` successors.

    >>> import cdl
    >>> nat_table(cdl.NatF, 3).size
    4
    """
    if n < 0:
        raise ValueError(_messages.negative_natural(functor.name, n))
    zero, succ = sorted(functor.constructors, key=lambda c: c.arity)
    tags = np.full(n + 1, functor.tag(succ.name))
    tags[0] = functor.tag(zero.name)
    children = np.arange(-1, n).reshape(n + 1, 1)
    return NodeTable.from_arrays(functor, tags, children, {}, n)


def list_algebra(algebra: Algebra[Any]) -> ListAlgebra[Any, Any]:
    """The `ListAlgebra` of an algebra of a list functor (see `is_list_functor`)."""
    nil_cell, cons_cell = algebra.cells["Nil"], algebra.cells["Cons"]
    nil = nil_cell((jnp.zeros(0), ()))

    def cons(pair: tuple[Any, Any]) -> Any:
        return cons_cell((pair[0], (pair[1],)))

    cons.__name__ = cons_cell.label
    return ListAlgebra(nil, as_cell(cons, "Cons"))


def cons_term(elements: list[Any]) -> Layer[Any]:
    """A Python list of elements as the ``Cons`` term of a list functor.

    >>> cons_term([1.0, 2.0])
    Layer(constructor='Cons', payload=1.0, children=(Layer(constructor='Cons', \
payload=2.0, children=(Layer(constructor='Nil', payload=None, children=()),)),))
    """
    term: Layer[Any] = Layer("Nil", None, ())
    for x in reversed(elements):
        term = Layer("Cons", x, (term,))
    return term


def list_values(scheme: str, data: Any) -> Any:
    """A list given as a ``Cons`` term or a Python list, as an array (else as given).

    Traced elements (a term passed through `jax.jit`) are stacked by JAX.

    >>> import cdl
    >>> Nil, Cons = cdl.ListF.patterns
    >>> list_values("cata", Cons(1.0, Cons(2.0, Nil())))
    Array([1., 2.], dtype=float32)
    """
    if isinstance(data, Layer):
        data = cons_payloads(scheme, data)
    if isinstance(data, list):
        if any(map(traced, jax.tree.leaves(data))):
            return stacked(scheme, data)
        return jnp.asarray(np.asarray(data))
    return data


def fold_data(algebra: Algebra[Any], data: Any, scheme: str) -> Any:
    """Fold `data`, which is not a node table, with `algebra`'s catamorphism.

    **Arguments:** `algebra`; `data`, a list (array, `PaddedList`, Python list or
    ``Cons`` term) for a list functor, else a term (or nested pairs for TreeF), or
    a Python list of terms (a forest); `scheme`, the fold's label for messages.

    **Returns:** the carrier (one per root of the table built); `TypeError` for
    anything else.
    """
    functor = algebra.functor
    if is_list_functor(functor):
        return Cata(list_algebra(algebra))(list_values(scheme, data))
    return evaluate(algebra, as_table(scheme, functor, data))


def _is_payload(data: Any) -> bool:
    """Whether `data` is a number or an array (a tracer too), not a table or term."""
    if isinstance(data, bool):
        return False
    return isinstance(data, int | float) or (
        isinstance(data, jax.Array | np.ndarray | np.generic)
    )


def as_table(scheme: str, functor: Functor, data: Any) -> NodeTable:
    """`data` as a node table of `functor`, for the fold labelled `scheme`.

    A `NodeTable` is checked and kept; a term, nested pairs (for `cdl.TreeF`) or a
    Python list of them (a forest) is stored by `cdl.tree_table`; anything else
    is a `TypeError` naming the fold.

    >>> import cdl
    >>> from cdl.schemes._terms import as_table
    >>> as_table("para", cdl.TreeF, (1.0, (2.0, 3.0))).size
    5
    >>> as_table("cata", cdl.TreeF, 3.0).size  # nested pairs of one leaf
    1
    """
    if isinstance(data, list | tuple) and any(isinstance(t, NodeTable) for t in data):
        kind = "list" if isinstance(data, list) else "tuple"
        raise TypeError(_messages.list_of_tables(scheme, functor.name, len(data), kind))
    if isinstance(data, list) and is_list_functor(functor):
        if data and all(isinstance(t, Layer) for t in data):
            return tree_table(functor, data, forest=True)
        return tree_table(functor, cons_term(data))
    if isinstance(data, list):
        return tree_table(functor, data, forest=True)
    if is_nat_functor(functor) and (
        isinstance(data, bool | float)
        or (getattr(data, "ndim", None) == 0 and not _is_integer(data))
    ):
        raise TypeError(_messages.not_natural(scheme, functor.name, data))
    if is_nat_functor(functor) and _is_integer(data):
        if traced(data):
            raise TypeError(_messages.traced_natural(scheme, functor.name))
        return nat_table(functor, int(data))
    pairs = functor.names == ("Leaf", "Node")
    if isinstance(data, Layer) or (pairs and isinstance(data, tuple)):
        return tree_table(functor, data)
    if pairs and _is_payload(data):
        # Nested pairs of one leaf: the tree `Leaf x` (also under jax.grad of it).
        return tree_table(functor, Layer("Leaf", data, ()))
    if is_list_functor(functor) and isinstance(
        data, jax.Array | np.ndarray | PaddedList
    ):
        raise TypeError(_messages.list_for_a_table(scheme, functor.name))
    check_table(scheme, functor, data)
    table: NodeTable = data
    return table
