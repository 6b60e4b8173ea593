"""The unrolled engine: a fold of a table laid out in an `Envelope`.

Every block of such a table sits at a fixed row with a fixed width, so the levels
are a Python loop at trace time: per level and constructor, the children's
carriers gathered, the cell `vmap`ped over the block's rows, the results written
back, all with static shapes. The gradient is JAX's own, as for a hand-written
level-by-level model; padding rows repeat real nodes, so their cells see inputs
they could meet (and give finite derivatives), and nothing reads their results.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ._levels import (
    _cells as cells_of,
    _Chunk,
    _examples,
    _Pass,
    _rows_of,
    _structure,
    _write,
)
from ._tree import Algebra, NodeTable, carrier_template, settle_carrier


def evaluate_unrolled(
    algebra: Algebra[Any], table: NodeTable, *, subtrees: bool, every_node: bool
) -> Any:
    """Fold every tree of `table` (laid out in an envelope) with `algebra`.

    Returns the carrier at every root, or with `every_node` at every node in
    node order, padded to the table's capacity; with `subtrees`, as a para.
    """
    envelope = table.envelope
    template = carrier_template(algebra, table, subtrees)
    for _ in range(2):  # a cell returning a wider dtype widens the carrier once
        examples = _examples(algebra, table, template, subtrees)
        outs = {
            n: eqx.filter_eval_shape(algebra.cells[n], x) for n, x in examples.items()
        }
        settled = settle_carrier(algebra.functor.name, template, outs)
        if settled is template:
            break
        template = settled
    p = _Pass(algebra, table.payloads, table, subtrees)
    rows = _rows_of(table)
    buf = jax.tree.map(lambda t: jnp.zeros((rows, *t.shape), t.dtype), template)
    firsts, slots = envelope.offsets()
    names = algebra.functor.names
    for level, widths in enumerate(envelope.widths):
        for c, width in enumerate(widths):
            if width:
                first, slot = int(firsts[level, c]), int(slots[level, c])
                k = _Chunk(width, jnp.int32(first), jnp.int32(slot), jnp.int32(width))
                child, pay = _structure(p, names[c], k)
                kids = jax.tree.map(
                    lambda b, child=child: jnp.stack(
                        [b[child[:, j]] for j in range(child.shape[1])], axis=1
                    ),
                    buf,
                )
                buf = _write(buf, cells_of(p, names[c], pay, kids, child), first)
    out = table.nodes if every_node else table.roots
    return jax.tree.map(lambda b: b[out], buf)
