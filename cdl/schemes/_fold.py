"""Which engine folds a node table: the level engine, or the unrolled one.

A table laid out in an `Envelope` has static level widths and is folded by the
unrolled engine (`_unrolled`); any other by the level engine (`_levels`), whose
levels' widths are data.
"""

from typing import Any

import equinox as eqx

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
    return _compiled(algebra, table, subtrees, every_node)


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
