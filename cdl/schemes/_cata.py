"""`cata`, generic over the functor: it dispatches on the kind of algebra."""

from typing import Any, TypeVar, overload

from ._list import Cata, ListAlgebra
from ._tree import Algebra
from ._tree_folds import TreeCata

_E = TypeVar("_E")
_A = TypeVar("_A")


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
    folded: Cata[_E, _A] | TreeCata[_A] = _dispatch(algebra)
    return folded


def _dispatch(algebra: Any) -> Any:
    if isinstance(algebra, ListAlgebra):
        return Cata(algebra)
    if isinstance(algebra, Algebra):
        return TreeCata(algebra)
    raise TypeError(f"cata needs an algebra of a base functor, not {algebra!r}.")
