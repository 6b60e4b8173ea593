"""Which engine folds a node table: the level engine, or the unrolled one.

A table laid out in an `Envelope` has static level widths and is folded by the
unrolled engine (`_unrolled`); any other by the level engine (`_levels`), whose
levels' widths are data.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

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
    if traced_in_place(algebra, table):
        # A table is built on the host (numpy); traced here, it moves as a whole.
        table = jax.tree.map(jnp.asarray, table)
        return _either(algebra, table, subtrees, every_node)
    return _compiled(algebra, table, subtrees, every_node)


def traced_in_place(algebra: Any, *data: Any) -> bool:
    """Whether a fold under a transformation is traced where it is called.

    Otherwise it runs its compiled program, differentiated or batched. Inside that
    program an algebra's integer arrays are traced too, and the engine's trace
    of a cell closes over them, which a gradient taken outside the program cannot
    follow: an algebra holding integer arrays is traced in place when any of its
    leaves (or the data's) is traced.
    """
    leaves = jax.tree.leaves((algebra, *data))
    if not any(isinstance(x, jax.core.Tracer) for x in leaves):
        return False
    return any(
        eqx.is_array(x) and not eqx.is_inexact_array(x)
        for x in jax.tree.leaves(algebra)
    )


def _either(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool, every_node: bool
) -> Any:
    engine = evaluate_unrolled if table.envelope is not None else fold_levels
    return engine(algebra, table, subtrees=subtrees, every_node=every_node)


@eqx.filter_jit
def _compiled(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool, every_node: bool
) -> Any:
    return _either(algebra, table, subtrees, every_node)
