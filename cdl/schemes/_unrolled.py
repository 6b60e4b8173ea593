"""The unrolled engine: a fold of a table laid out in an `Envelope`.

Every block of such a table sits at a fixed row with a fixed width, so the levels
are a Python loop at trace time: per level and constructor, the children's
carriers gathered, the cell `vmap`ped over the block's rows, the results written
back, all with static shapes. The backward pass walks the blocks in reverse: each
reads its rows' cotangents, pulls them back through the cells' VJPs kept by the
forward pass, and adds the children's shares into their rows in place, so a level
costs its own rows, not the whole buffer's (as JAX's transpose of a gather would).
Padding rows repeat real nodes, so their cells see inputs they could meet (and
give finite derivatives); nothing reads their results, so their cotangents are
zero.
"""

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._levels import _Pass, _per_row, _rows_of, _settled
from ._tree import Algebra, NodeTable


class _Block(NamedTuple):
    """A constructor's block on one level: its rows and payload slots."""

    name: str
    first: int
    slot: int
    width: int


def _blocks(table: NodeTable) -> list[_Block]:
    """The envelope's non-empty blocks, level by level, in evaluation order."""
    envelope = table.envelope
    firsts, slots = envelope.offsets()
    names = table.functor.names
    return [
        _Block(names[c], int(firsts[level, c]), int(slots[level, c]), width)
        for level, widths in enumerate(envelope.widths)
        for c, width in enumerate(widths)
        if width
    ]


def evaluate_unrolled(
    algebra: Algebra[Any],
    table: NodeTable,
    *,
    subtrees: bool,
    every_node: bool,
    plain: bool = False,
) -> Any:
    """Fold every tree of `table` (laid out in an envelope) with `algebra`.

    Returns the carrier at every root, or with `every_node` at every node in
    node order, padded to the table's capacity; with `subtrees`, as a para. With
    `plain` the sweep runs without its reverse-mode rule (forward mode).
    """
    template, algebra, _ = _settled(algebra, table, subtrees)
    params, static = eqx.partition(algebra, eqx.is_inexact_array)
    pay_diff, pay_static = eqx.partition(table.payloads, eqx.is_inexact_array)
    # The custom VJP closes over no array: the table and the undifferentiated
    # arrays travel as an argument, so no tracer leaks between transformations.
    arrays, rest = eqx.partition((table, static, pay_static), eqx.is_array)
    blocks = _blocks(table)
    rows = _rows_of(table)

    def unpack(params: Any, pay_diff: Any, arrays: Any) -> _Pass:
        table, static, pay_static = eqx.combine(arrays, rest)
        alg = eqx.combine(params, static)
        return _Pass(alg, eqx.combine(pay_diff, pay_static), table, subtrees)

    def out_rows(p: _Pass) -> Array:
        return p.table.nodes if every_node else p.table.roots

    def sweep(p: _Pass, pulled: bool) -> tuple[Any, list[Any]]:
        """The results buffer; with `pulled`, each block's VJP too."""
        buf = jax.tree.map(lambda t: jnp.zeros((rows, *t.shape), t.dtype), template)
        pulls = []
        for b in blocks:
            child, pay = _structure(p, b)
            kids = jax.tree.map(lambda x, child=child: _gather(x, child), buf)
            cell = p.algebra.cells[b.name]
            cell_d, cell_s = eqx.partition(cell, eqx.is_inexact_array)
            pay_d, pay_s = eqx.partition(pay, eqx.is_inexact_array)

            def cells(cd: Any, pd: Any, kd: Any, b: _Block = b, child: Array = child,
                      cell_s: Any = cell_s, pay_s: Any = pay_s) -> Any:  # fmt: skip
                fn = eqx.combine(cd, cell_s)
                return _per_row(p, b.name, fn, eqx.combine(pd, pay_s), kd, child)

            if pulled:
                value, pull = jax.vjp(cells, cell_d, pay_d, kids)
                pulls.append(pull)
            else:
                value = cells(cell_d, pay_d, kids)
            buf = jax.tree.map(
                lambda x, v, b=b: x.at[b.first : b.first + b.width].set(
                    v.astype(x.dtype)
                ),
                buf,
                value,
            )
        return buf, pulls

    @jax.custom_vjp
    def run(params: Any, pay_diff: Any, arrays: Any) -> Any:
        p = unpack(params, pay_diff, arrays)
        buf, _ = sweep(p, pulled=False)
        return jax.tree.map(lambda x: x[out_rows(p)], buf)

    def run_fwd(params: Any, pay_diff: Any, arrays: Any) -> tuple[Any, Any]:
        p = unpack(params, pay_diff, arrays)
        buf, pulls = sweep(p, pulled=True)
        out = jax.tree.map(lambda x: x[out_rows(p)], buf)
        return out, (params, pay_diff, arrays, pulls)

    def run_bwd(res: Any, g: Any) -> tuple[Any, Any, None]:
        params, pay_diff, arrays, pulls = res
        p = unpack(params, pay_diff, arrays)
        ct = jax.tree.map(
            lambda t, gi: jnp.zeros((rows, *t.shape), t.dtype).at[out_rows(p)].add(gi),
            template,
            g,
        )
        dparams = jax.tree.map(jnp.zeros_like, params)
        dcells = dict(dparams.cells)
        dpay = jax.tree.map(jnp.zeros_like, pay_diff)
        for b, pull in zip(reversed(blocks), reversed(pulls), strict=True):
            child, _ = _structure(p, b)
            # The block's rows read by a gather, not a slice: XLA fuses a slice
            # into each reader, and then copies `ct` to add into it in place.
            at = b.first + jnp.arange(b.width)
            mine = jax.tree.map(lambda c, at=at: c[at], ct)
            dcell, dp, dk = pull(mine)
            dcells[b.name] = _add(dcells[b.name], dcell)
            if jax.tree.leaves(dp):
                dpay = {
                    **dpay,
                    b.name: jax.tree.map(
                        lambda a, d, b=b: a.at[b.slot : b.slot + b.width].add(d),
                        dpay[b.name],
                        dp,
                    ),
                }
            ct = jax.tree.map(lambda c, d, child=child: c.at[child].add(d), ct, dk)
        return eqx.tree_at(lambda a: a.cells, dparams, dcells), dpay, None

    run.defvjp(run_fwd, run_bwd)
    return (run.fun if plain else run)(params, pay_diff, arrays)


def _structure(p: _Pass, b: _Block) -> tuple[Array, Any]:
    """The children's rows and the payloads of a block."""
    arity = max(p.algebra.functor.constructor(b.name).arity, 1)
    child = p.table.rows.children[b.first : b.first + b.width, :arity]
    pay = jax.tree.map(
        lambda q: jnp.asarray(q)[b.slot : b.slot + b.width], p.payloads[b.name]
    )
    return child, pay


def _gather(x: Array, child: Array) -> Array:
    """Rows `child` (``[rows, arity]``) of `x`, one gather per child position."""
    return jnp.stack([x[child[:, j]] for j in range(child.shape[1])], axis=1)


def _add(a: Any, d: Any) -> Any:
    """`d` added to `a` leaf by leaf (`None` where `a` holds no array)."""
    return jax.tree.map(jnp.add, a, d)
