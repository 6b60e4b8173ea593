"""Which engine folds a node table: the level engine, or the unrolled one.

A table laid out in an `Envelope` has static level widths and is folded by the
unrolled engine (`_unrolled`); any other by the level engine (`_levels`), whose
levels' widths are data.
"""

from typing import Any

import equinox as eqx
import jax
import numpy as np

from .._para import Para
from .._space import ProductSpace, example_of, is_concrete
from . import _messages
from ._levels import fold_levels
from ._tree import Algebra, NodeTable
from ._unrolled import evaluate_unrolled


def evaluate(
    algebra: Algebra[Any],
    table: NodeTable,
    *,
    subtrees: bool = False,
    every_node: bool = False,
) -> Any:
    """Fold every tree of `table` with `algebra`; with `subtrees`, as a para.

    The result is the carrier at every root, or with `every_node` at every node in
    node order, padded to the table's capacity (zeros past the last node). Called
    outside `jax.jit` (under an eager `jax.grad` or `jax.vmap` too), the fold is
    compiled once per algebra structure and table bucket (or envelope) and
    reused, as under `jit`: its loops never run one operation at a time.
    """
    noisy = [n for n, c in algebra.cells.items() if getattr(c, "stochastic", False)]
    if noisy:
        raise ValueError(_messages.stochastic_tree_cell(algebra.label, noisy))
    return _compiled(algebra, declared_payloads(algebra, table), subtrees, every_node)


def declared_payloads(algebra: Algebra[Any], table: NodeTable) -> NodeTable:
    """`table`, with the payloads of constructors it has no node of in their shapes.

    A table built from terms stores such a constructor's payloads as ``f32[rows]``
    (an empty forest, or a batch of expressions without an ``Op``): with no node,
    their shape is unknown to it (`NodeTable.unknown`). The fold still traces every
    cell, so a cell that declares its payload space (`cdl.TreeRNNCell(4, …)`:
    ``float[4]``) is given rows of that space, instead of refusing ``f32[]``.

    >>> import jax, cdl
    >>> E = cdl.polynomial("E", Num="a", Op="a x x")
    >>> cells = dict(Num=cdl.TreeRNNCell(2, 3, arity=0, key=jax.random.key(0)),
    ...              Op=cdl.TreeRNNCell(4, 3, arity=2, key=jax.random.key(1)))
    >>> table = cdl.tree_table(E, E.patterns[0](jax.numpy.ones(2)))
    >>> table.payloads["Op"].shape, table.unknown
    ((25,), frozenset({'Op'}))
    >>> declared_payloads(cdl.Algebra(E, **cells), table).payloads["Op"].shape
    (25, 4)
    """
    payloads, changed = dict(table.payloads), False
    for c in algebra.functor.constructors:
        cell = algebra.cells.get(c.name)
        if c.name not in table.unknown or not isinstance(cell, Para):
            continue
        rows = len(jax.tree.leaves(payloads[c.name])[0])
        try:
            dom, _ = cell.signature()
        except Exception:  # a signature needing what the cell cannot know alone
            continue
        if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
            if is_concrete(dom.factors[0]):
                payloads[c.name] = jax.tree.map(
                    lambda s, rows=rows: np.zeros((rows, *s.shape), s.dtype),
                    example_of(dom.factors[0]),
                )
                changed = True
    if not changed:
        return table
    out: NodeTable = eqx.tree_at(lambda t: t.payloads, table, payloads)
    return out


def _either(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool, every_node: bool
) -> Any:
    engine = evaluate_unrolled if table.envelope is not None else fold_levels
    return engine(algebra.untied(), table, subtrees=subtrees, every_node=every_node)


@eqx.filter_jit
def _compiled(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool, every_node: bool
) -> Any:
    return _either(algebra, table, subtrees, every_node)
