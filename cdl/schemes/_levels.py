"""The level engine: a `NodeTable`'s levels evaluated in order, and back again.

`fold_levels` folds every tree of a table with an algebra. The forward pass
(`forward`) walks the levels in a `jax.lax.fori_loop` whose length is data: a level
is, per constructor, a block of consecutive rows, cut into power-of-two chunks
(`chunks`), each evaluated by the constructor's cell `vmap`ped over its rows. The
backward pass (`backward`) walks the levels in reverse, chunk by chunk: each chunk
reads its rows' cotangents, pulls them back through the cell from the residuals the
forward pass kept (`_residuals`), and adds the children's shares into their rows and
the cotangents at the cell's sites (where its parameters meet its input, `_sites`)
into its constructor's slots; the parameters' cotangents follow in one product per
weight over all nodes (`deferred_parameters`). Only the table's capacity and the
algebra fix the compiled program; which rows hold nodes and how many levels there
are is data, so tables of one bucket share one program.
"""

import functools
from collections.abc import Callable, Iterator
from typing import Any, Final, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._functor import Constructor
from ._hoist_cells import Body, Hoist, Hoisted, closed_over, split
from ._residuals import Keep, Plan
from ._sites import Sites, struct
from ._tree import (
    Algebra,
    NodeTable,
    carrier_template,
    cell_input,
    settle_carrier,
)

Buffer = Any
"""A pytree of arrays ``[capacity + 1 + grain, ...]``: one carrier per row."""


LARGEST: Final = 256
"""The largest chunk: wider blocks run it in a loop, so that a program holds a
few copies of each cell whatever its capacity (compile time grows with them).
Against 512, a Tree-LSTM step compiles about 17% faster at 25 and 256 trees and
runs as fast."""


def chunks(widest: int) -> tuple[int, ...]:
    """The chunk sizes a block of at most `widest` rows is cut into, largest first.

    A block of width ``w`` (rounded up to the smallest chunk) is as many of the
    largest chunks as fit, then the sum of the smaller chunks whose bit is set
    in the rest: at most one of each.
    """
    grain = 1 if widest == 1 else 8
    sizes = [grain]
    while sizes[-1] * 2 <= min(widest, LARGEST):
        sizes.append(sizes[-1] * 2)
    return tuple(reversed(sizes))


def _pieces(block: Array, sizes: tuple[int, ...]) -> Iterator[Any]:
    """Per chunk size: how many times a block uses it, and its first `_Chunk`.

    `block` is a row of `NodeTable.blocks`: first row, width, first payload slot.
    Only the largest size is used more than once (`_nth` gives the others).
    """
    start, width, slot = block[0], block[1], block[2]
    grain, top = sizes[-1], sizes[0]
    rounded = (width + grain - 1) // grain * grain
    whole = rounded // top
    yield whole, _Chunk(top, start, slot, width)
    rest = rounded - whole * top
    for size in sizes[1:]:
        offset = whole * top + rest // (2 * size) * (2 * size)
        used = (rest & size) != 0
        yield used, _Chunk(size, start + offset, slot + offset, width - offset)


def _nth(k: "_Chunk", i: Array) -> "_Chunk":
    """The `i`-th chunk of `k`'s size from `k` on."""
    step = i * k.size
    return _Chunk(k.size, k.first + step, k.slot + step, k.valid - step)


def _repeat(count: Array, k: "_Chunk", fn: Callable[..., Any], state: Any) -> Any:
    """``fn(state, chunk)`` on `count` chunks from `k` on.

    A loop for the largest size; a conditional for the others (at most once).
    """
    if k.size == LARGEST:
        return jax.lax.fori_loop(0, count, lambda i, s: fn(s, _nth(k, i)), state)
    return _cond(count != 0, lambda s: fn(s, k), state)


class _Chunk(eqx.Module):
    """Rows ``first…first + size`` of a block; the first `valid` are its nodes."""

    size: int = eqx.field(static=True)
    first: Array
    slot: Array
    valid: Array


class _Pass(eqx.Module):
    """What both passes read: the algebra (cells hoisted), payloads and table."""

    algebra: Algebra[Any]
    payloads: dict[str, Any]
    table: NodeTable
    subtrees: bool = eqx.field(static=True)


def _structure(p: _Pass, name: str, k: _Chunk) -> tuple[Array, Any]:
    """The children's rows and the payloads of a chunk."""
    c = p.algebra.functor.constructor(name)
    child = jax.lax.dynamic_slice_in_dim(p.table.rows.children, k.first, k.size)
    child = child[:, : max(c.arity, 1)]
    pay = jax.tree.map(
        lambda q: jax.lax.dynamic_slice_in_dim(jnp.asarray(q), k.slot, k.size),
        p.payloads[name],
    )
    return child, pay


def _gather(p: _Pass, name: str, k: _Chunk, buf: Buffer) -> Any:
    """The children's rows, the payloads and the children's carriers of a chunk."""
    child, pay = _structure(p, name, k)
    kids = jax.tree.map(lambda b: _take(b, child), buf)
    if child.shape[0] == 1 and len(jax.tree.leaves(buf)) > 1:
        # Read before any buffer is written: fused into the cell's operations,
        # a slice of one buffer would be read after a write into another, and
        # XLA would copy the whole buffer at every node.
        kids = jax.lax.optimization_barrier(kids)  # type: ignore[no-untyped-call]
    return child, pay, kids


def _take(b: Array, child: Array) -> Array:
    """Rows `child` (``[rows, arity]``) of `b`.

    A one-row chunk (node by node) reads each child with a dynamic slice: XLA's
    CPU gather costs microseconds a call, more than a node's cell.
    """
    if child.shape[0] != 1:
        return b[child]
    rows = [
        jax.lax.dynamic_slice_in_dim(b, child[0, j], 1) for j in range(child.shape[1])
    ]
    return jnp.stack(rows, axis=1)


def _per_row(
    p: _Pass, name: str, fn: Callable[..., Any], pay: Any, kids: Any, child: Array,
    *extra: Any,
) -> Any:  # fmt: skip
    """``fn(input, *extra)`` on every row of a chunk, `input` the cell's."""
    c = p.algebra.functor.constructor(name)
    views = p.table if p.subtrees else None
    size = p.table.capacity

    def one(pay: Any, kids: Any, rows: Array, *extra: Any) -> Any:
        return fn(cell_input(c, pay, kids, rows, size, views), *extra)

    return jax.vmap(one)(pay, kids, child, *extra)


def _cells(p: _Pass, name: str, pay: Any, kids: Any, child: Array) -> Any:
    """The constructor's cell on every row of a chunk."""
    return _per_row(p, name, p.algebra.cells[name], pay, kids, child)


def _perturbed_cells(
    p: _Pass, name: str, sites: Sites, pay: Any, kids: Any, child: Array,
    eps: list[Array],
) -> tuple[Any, list[Array]]:  # fmt: skip
    """`_cells` with the cell's sites perturbed by `eps`; also the sites' inputs."""
    cell = p.algebra.cells[name]
    assert isinstance(cell, Hoisted)
    out: tuple[Any, list[Array]] = _per_row(
        p, name, functools.partial(sites.run, cell.residuals), pay, kids, child, eps
    )
    return out


def _write(buf: Buffer, value: Any, first: Array) -> Buffer:
    """Rows ``first…`` of `buf` set to `value`.

    A chunk's rows past its block's nodes belong to blocks evaluated later (or to
    the slack past the capacity), so they are written over, never read first.
    """
    return jax.tree.map(
        lambda b, v: jax.lax.dynamic_update_slice_in_dim(
            b, v.astype(b.dtype), first, 0
        ),
        buf,
        value,
    )


Step = Callable[[str, _Chunk, Array, Any, Any, Any], tuple[Any, Any]]
"""A chunk's cells: ``(name, chunk, children's rows, payloads, children's
carriers, saved) -> (carriers, saved)``; `saved` is what the pass keeps for the
backward pass (see `Keep`)."""


def _level_forward(
    p: _Pass, step: Step, names: tuple[str, ...], sizes: tuple[int, ...],
    level: Array, state: Any,
) -> Any:  # fmt: skip
    """Evaluate one level: every block of every constructor in `names`."""
    for name in names:
        block = p.table.blocks[level, p.algebra.functor.tag(name)]
        for count, k in _pieces(block, sizes):

            def chunk(state: Any, k: _Chunk, name: str = name) -> Any:
                buf, saved = state
                child, pay, kids = _gather(p, name, k, buf)
                value, saved = step(name, k, child, pay, kids, saved)
                return _write(buf, value, k.first), saved

            state = _repeat(count, k, chunk, state)
    return state


def _split_names(p: _Pass) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The constructors of the first level, and of the others.

    Level by level, the first level holds the nodes without children: those of
    constructors without recursive fields, or variadic ones (which may have
    none); a constructor with children never meets the first level, and one
    without never meets the others. Node by node (blocks one row wide), any
    constructor may come at any step.
    """
    cons: tuple[Constructor, ...] = p.algebra.functor.constructors
    names = tuple(c.name for c in cons)
    if p.table.widest == 1:
        return names, names
    return (
        tuple(c.name for c in cons if not c.arity or c.variadic),
        tuple(c.name for c in cons if c.arity),
    )


def _plain(
    p: _Pass,
) -> Step:
    """The cells alone: nothing saved."""

    def step(
        name: str, k: _Chunk, child: Array, pay: Any, kids: Any, saved: Any
    ) -> Any:
        return _cells(p, name, pay, kids, child), saved

    return step


def _rows(p: _Pass) -> int:
    """The rows of the results buffer (and of saved residuals)."""
    return _rows_of(p.table)


def _rows_of(table: NodeTable) -> int:
    return table.capacity + 1 + chunks(table.widest)[-1]


def forward(
    p: _Pass, template: Any, step: "Step | None" = None, saved: Any = None
) -> Any:
    """Every node's carrier, level after level, in a buffer of rows.

    With `step`, the chunks' cells are `step`, which also writes into `saved`
    (see `Keep`); returns ``(buffer, saved)``. Without, the buffer alone.
    """
    rows = _rows(p)
    buf = jax.tree.map(lambda t: jnp.zeros((rows, *t.shape), t.dtype), template)
    sizes = chunks(p.table.widest)
    first, rest = _split_names(p)
    keep = step is not None
    step = _plain(p) if step is None else step
    state = _level_forward(p, step, first, sizes, jnp.int32(0), (buf, saved))
    state = jax.lax.fori_loop(
        1,
        p.table.levels,
        lambda level, s: _level_forward(p, step, rest, sizes, level, s),
        state,
    )
    return state if keep else state[0]


def _read(
    p: _Pass, names: tuple[str, ...], sizes: tuple[int, ...], level: Array, ct: Any,
    gs: dict[tuple[str, int], Any],
) -> dict[tuple[str, int], Any]:  # fmt: skip
    """The cotangents of a level's chunks (zero past each block's nodes).

    Chunks of the largest size, which may come several times, read theirs in
    the backward loop itself (`_level_backward`).
    """
    out = dict(gs)
    for name in names:
        block = p.table.blocks[level, p.algebra.functor.tag(name)]
        for used, k in _pieces(block, sizes):
            if k.size == LARGEST:
                continue
            read = functools.partial(_cotangents_of, ct, k)
            out[name, k.size] = _cond(used != 0, read, gs[name, k.size])
    return out


def _cotangents_of(ct: Buffer, k: "_Chunk", _: Any) -> Any:
    """`_cotangents`, as a conditional's branch (its operand unused)."""
    return _cotangents(ct, k)


def _cotangents(ct: Buffer, k: "_Chunk") -> Any:
    """Rows ``k.first…`` of `ct`, zero past the chunk's nodes."""
    valid = jnp.arange(k.size) < k.valid
    return jax.tree.map(
        lambda c: jnp.where(
            valid.reshape(-1, *[1] * (c.ndim - 1)),
            jax.lax.dynamic_slice_in_dim(c, k.first, k.size),
            0,
        ),
        ct,
    )


def _level_backward(
    p: _Pass,
    pulls: "_Pulls",
    names: tuple[str, ...],
    sizes: tuple[int, ...],
    level: Array,
    gs: dict[tuple[str, int], Any],
    carry: Any,
    deferred: frozenset[str] = frozenset(),
) -> Any:
    """Pull one level's cotangents `gs` back to its children, payloads and cells.

    The constructors in `deferred` add their sites' cotangents into their row
    buffers instead; their parameters get their cotangents after the sweep
    (`deferred_parameters`).

    The cotangents were read out of `ct` before (`_read`): read in the same
    conditional that adds into `ct` in place, they would make XLA copy `ct` at
    every chunk.
    """
    for name in names:
        block = p.table.blocks[level, p.algebra.functor.tag(name)]
        for count, k in _pieces(block, sizes):

            def chunk(carry: Any, k: _Chunk, g: Any, name: str = name) -> Any:
                ct, buf, dres, dpay, dsite = carry
                child, pull = pulls(name, k, buf)
                dr, dp, dk = pull(g)
                if name in deferred:
                    # The cotangents of the cells' sites, added: a chunk's rows
                    # past its nodes carry zeros into slots of other levels.
                    pairs = zip(dsite[name], dr, strict=True)
                    dsite = {**dsite, name: [_add_rows(b, d, k.slot) for b, d in pairs]}
                else:
                    dres = {**dres, name: jax.tree.map(jnp.add, dres[name], dr)}
                if jax.tree.leaves(dp):
                    added = jax.tree.map(
                        lambda a, d: _add_rows(a, d, k.slot), dpay[name], dp
                    )
                    dpay = {**dpay, name: added}
                ct = jax.tree.map(lambda c, d: c.at[child].add(d), ct, dk)
                return ct, buf, dres, dpay, dsite

            if k.size == LARGEST:
                carry = _largest_backward(count, k, chunk, carry)
            else:
                once = functools.partial(_once, chunk, k, gs[name, k.size])
                carry = _cond(count != 0, once, carry)
    return carry


def _once(chunk: Callable[..., Any], k: "_Chunk", g: Any, carry: Any) -> Any:
    """``chunk(carry, k, g)``, as a conditional's branch."""
    return chunk(carry, k, g)


def _largest_backward(
    count: Array, k: "_Chunk", chunk: Callable[..., Any], carry: Any
) -> Any:
    """The backward pass of a block's largest chunks, in a loop.

    Each step reads the next chunk's cotangents after its own additions into
    `ct` (they go to lower levels, never to this block): a read before them in
    the same step would make XLA copy `ct` at every step.
    """

    def step(i: Array, state: Any) -> Any:
        carry, g = state
        carry = chunk(carry, _nth(k, i), g)
        return carry, _cotangents(carry[0], _nth(k, i + 1))

    g = _cotangents(carry[0], k)
    carry, _ = jax.lax.fori_loop(0, count, step, (carry, g))
    return carry


_Pulls = Callable[[str, _Chunk, Any], tuple[Array, Callable[[Any], Any]]]
"""A chunk's children's rows and the pullback of its cells: from kept residuals
to the cotangents of the sites, payloads and children, or, run again on the
results buffer, to those of the parameters, payloads and children."""

Local = Callable[[str, Any, Any, Any, Array], Any]
"""A chunk's cells: ``(name, hoisted parameters, payloads, children's carriers,
children's rows) -> carriers``, every argument but the parameters with a row axis."""


def _pulls(
    p: _Pass, local: Local, fixed: dict[str, Any], keep: Keep, saved: Any
) -> _Pulls:
    """Chunks' pullbacks: from the residuals `keep` saved, else run again."""

    def pulls(name: str, k: _Chunk, buf: Buffer) -> Any:
        if keep.kept(name):
            child, pay = _structure(p, name, k)
            return child, keep.pull(name, k.first, child, pay, saved)
        child, pay, kids = _gather(p, name, k, buf)
        pay_d, pay_s = eqx.partition(pay, eqx.is_inexact_array)
        _, vjp = jax.vjp(
            lambda r, d, x: local(name, r, eqx.combine(d, pay_s), x, child),
            fixed[name],
            pay_d,
            kids,
        )
        return child, vjp

    return pulls


def _cond(used: Array, fn: Callable[[Any], Any], operand: Any) -> Any:
    """``fn(operand)`` if `used`, else `operand`."""
    cond: Callable[..., Any] = jax.lax.cond
    return cond(used, fn, _keep, operand)


def _keep(operand: Any) -> Any:
    return operand


def _add_rows(a: Array, d: Array, first: Array) -> Array:
    """`d` added to rows ``first…`` of `a`."""
    rows = jax.lax.dynamic_slice_in_dim(a, first, d.shape[0])
    return jax.lax.dynamic_update_slice_in_dim(a, rows + d.astype(a.dtype), first, 0)


def backward(
    p: _Pass, pulls: _Pulls, fixed: dict[str, Any], buf: Buffer, ct: Buffer,
    deferred: frozenset[str], dsite: dict[str, list[Array]],
) -> tuple[dict[str, Any], dict[str, Any], Buffer, dict[str, list[Array]]]:  # fmt: skip
    """The cotangents of the cells' hoisted parameters and of the payloads.

    `buf`, the results buffer, is read by chunks whose cells run again. Also
    returns every row's cotangent and, added into `dsite`, the sites' cotangents
    of the constructors in `deferred`, whose parameters are left at zero.
    """
    sizes = chunks(p.table.widest)
    first, rest = _split_names(p)
    # The top level (data: it may be the first) is read for every constructor;
    # the loop reads the constructors of the other levels.
    every = tuple(c.name for c in p.algebra.functor.constructors)
    dres = {n: jax.tree.map(jnp.zeros_like, f) for n, f in fixed.items()}
    pay_d = eqx.filter(p.payloads, eqx.is_inexact_array)
    dpay = jax.tree.map(jnp.zeros_like, pay_d)
    levels = p.table.levels
    blank = {
        (n, size): jax.tree.map(
            lambda c, s=size: jnp.zeros((s, *c.shape[1:]), c.dtype), ct
        )
        for n in every
        for size in sizes
        if size != LARGEST
    }
    gs = _read(p, every, sizes, levels - 1, ct, blank)

    def step(i: Array, carry: Any) -> Any:
        gs, rest_carry = carry[0], carry[1:]
        done = _level_backward(
            p, pulls, rest, sizes, levels - i, gs, rest_carry, deferred
        )
        return (_read(p, rest, sizes, levels - i - 1, done[0], gs), *done)

    carry = jax.lax.fori_loop(1, levels, step, (gs, ct, buf, dres, dpay, dsite))
    gs, carry = carry[0], carry[1:]
    # The first level's constructors are read once, after the sweep above them
    # (a second read of a one-level table reads the same rows again).
    gs = _read(p, first, sizes, jnp.int32(0), carry[0], gs)
    carry = _level_backward(p, pulls, first, sizes, jnp.int32(0), gs, carry, deferred)
    ct, _, dres, dpay, dsite = carry
    return dres, dpay, ct, dsite


def deferred_parameters(
    p: _Pass, keep: Keep, name: str, dsite: list[Array], saved: Any, buf: Buffer
) -> Any:
    """The cotangent of constructor `name`'s hoisted parameters, from all its nodes.

    The sweep added each node's sites' cotangents at its payload slot, and the
    forward pass kept the sites' inputs there, or they are computed again from
    the slot's payload and its children's carriers in `buf` (`Keep.parameters`):
    the constructor's nodes fill its first slots, so a loop over them in chunks
    of the largest size contracts each node once, where the sweep would compute
    and add one product per chunk of every level.
    """
    c = p.algebra.functor.constructor(name)
    tag = p.algebra.functor.tag(name)
    rows = _rows(p)
    # Any size fits the slots (node by node too, where chunks are one row).
    size = min(LARGEST, rows)
    count = jnp.sum(p.table.blocks[:, tag, 1])
    # The row of each of the constructor's slots (the "no node" row past them).
    mine = jnp.where(p.table.rows.tags == tag, p.table.rows.slots, rows)
    row_of = (
        jnp.full(rows, rows - 1, jnp.int32)
        .at[mine]
        .set(jnp.arange(mine.shape[0], dtype=jnp.int32), mode="drop")
    )

    def chunk(i: Array, acc: Any) -> Any:
        # The last chunk may start early to stay in the buffers; its slots
        # already counted are masked out.
        start = jnp.minimum(i * size, rows - size)
        slots = start + jnp.arange(size)
        valid = (slots >= i * size) & (slots < count)
        cts = [
            jnp.where(
                valid.reshape(-1, *[1] * (b.ndim - 1)),
                jax.lax.dynamic_slice_in_dim(b, start, size),
                0,
            )
            for b in dsite
        ]

        def cells() -> tuple[Any, Any, Array]:
            at = jax.lax.dynamic_slice_in_dim(row_of, start, size)
            child = p.table.rows.children[at][:, : max(c.arity, 1)]
            pay = jax.tree.map(
                lambda q: jax.lax.dynamic_slice_in_dim(jnp.asarray(q), start, size),
                p.payloads[name],
            )
            return pay, jax.tree.map(lambda b: _take(b, child), buf), child

        dr = keep.parameters(name, start, size, cts, saved, cells, valid)
        return jax.tree.map(jnp.add, acc, dr)

    zero = jax.tree.map(jnp.zeros_like, keep.hoisted[name][0])
    return jax.lax.fori_loop(0, (count + size - 1) // size, chunk, zero)


class _Env(NamedTuple):
    """What a fold reads besides its differentiated parameters and payloads."""

    table: NodeTable
    static: Algebra[Any]
    pay_static: Any


def fold_levels(
    algebra: Algebra[Any],
    table: NodeTable,
    *,
    subtrees: bool = False,
    every_node: bool = False,
    plain: bool = False,
) -> Any:
    """Fold every tree of `table` with `algebra`, level by level (see the module).

    The result is the carrier at every root, or with `every_node` at every node in
    node order; its gradient is the backward sweep's. With `plain` the pass runs
    without that rule, for forward-mode derivatives (`_fold.forward_mode`).
    """
    template, algebra, examples = _settled(algebra, table, subtrees)
    params, static = eqx.partition(algebra, eqx.is_inexact_array)
    pay_diff, pay_static = eqx.partition(table.payloads, eqx.is_inexact_array)
    splits = _splits(algebra, examples)

    @functools.cache
    def sites(name: str) -> Sites:
        """Read only when a gradient is taken (it traces each site's pullback)."""
        return Sites(splits[name][1])

    # The custom VJP below closes over no array: the table and the algebra's
    # undifferentiated arrays travel as an argument, so that a fold traced under
    # one transformation (a `jit` inside a `grad`) leaks no tracer into another.
    env_arrays, env_rest = eqx.partition((table, static, pay_static), eqx.is_array)

    def unpack(arrays: Any) -> _Env:
        return _Env(*eqx.combine(arrays, env_rest))

    def out_rows(env: _Env) -> Array:
        return env.table.nodes if every_node else env.table.roots

    def hoisted(env: _Env, residuals: dict[str, Any]) -> Algebra[Any]:
        cells = {n: Hoisted(r, splits[n][1]) for n, r in residuals.items()}
        out: Algebra[Any] = eqx.tree_at(
            lambda a: a.cells, env.static, {**env.static.cells, **cells}
        )
        return out

    def hoist(name: str, cp: Any, env: _Env) -> list[Array]:
        """The hoisted values of a cell whose differentiated arrays are `cp`."""
        return splits[name][0](eqx.combine(cp, env.static.cells[name]))

    def cells(
        p: Any, env: _Env
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """Each cell's hoisted parameters (differentiated and not), and the VJPs."""
        fixed, pull, loose = {}, {}, {}
        for name in splits:
            fixed[name], pull[name], loose[name] = jax.vjp(
                lambda cp, n=name: eqx.partition(
                    hoist(n, cp, env), eqx.is_inexact_array
                ),
                p.cells[name],
                has_aux=True,
            )
        return fixed, pull, loose

    def chunk_cells(
        env: _Env, pd: Any, loose: dict[str, Any]
    ) -> tuple[_Pass, Local, Any]:
        """The pass over the table, and a chunk's cells on given parameters.

        The cells come twice: as they are, and with their sites perturbed.
        """
        ps = _Pass(
            hoisted(env, {}), eqx.combine(pd, env.pay_static), env.table, subtrees
        )

        def local(name: str, r: Any, pay: Any, kids: Any, child: Array) -> Any:
            q = eqx.tree_at(
                lambda x: x.algebra,
                ps,
                hoisted(env, {name: eqx.combine(r, loose[name])}),
            )
            return _cells(q, name, pay, kids, child)

        def perturbed(
            name: str, r: Any, pay: Any, kids: Any, child: Array, eps: list[Array]
        ) -> Any:
            q = eqx.tree_at(lambda x: x.algebra, ps, hoisted(env, {name: r}))
            return _perturbed_cells(q, name, sites(name), pay, kids, child, eps)

        return ps, local, perturbed

    plans: list[Plan] = []

    def keeping(
        ps: _Pass, perturbed: Any, fixed: dict[str, Any], loose: dict[str, Any]
    ) -> Keep:
        """The residuals kept, planned once per fold (the passes share the plan)."""
        keep = Keep(
            perturbed, {n: (fixed[n], loose[n]) for n in fixed},
            {n: sites(n) for n in fixed},
            {n: _shapes(ps, n, template) for n in fixed}, chunks(table.widest),
            plans[0] if plans else None,
        )  # fmt: skip
        plans[:] = [keep.plan]
        return keep

    @jax.custom_vjp
    def run(p: Any, pd: Any, arrays: Any) -> Any:
        env = unpack(arrays)
        alg = hoisted(env, {n: hoist(n, p.cells[n], env) for n in splits})
        buf = forward(
            _Pass(alg, eqx.combine(pd, env.pay_static), env.table, subtrees),
            template,
        )
        return jax.tree.map(lambda b: b[out_rows(env)], buf)

    def run_fwd(p: Any, pd: Any, arrays: Any) -> tuple[Any, Any]:
        env = unpack(arrays)
        fixed, _, loose = cells(p, env)
        ps, _, perturbed = chunk_cells(env, pd, loose)
        keep = keeping(ps, perturbed, fixed, loose)
        step = _kept(keep)
        buf, saved = forward(ps, template, step, keep.empty(_rows(ps)))
        return jax.tree.map(lambda b: b[out_rows(env)], buf), (
            p, pd, arrays, buf, saved,
        )  # fmt: skip

    def run_bwd(res: Any, g: Any) -> tuple[Any, Any, None]:
        p, pd, arrays, buf, saved = res
        env = unpack(arrays)
        ct = jax.tree.map(
            lambda t, gi: (
                jnp.zeros((_rows_of(env.table), *t.shape), t.dtype)
                .at[out_rows(env)]
                .add(gi)
            ),
            template,
            g,
        )
        # The gradient flows to each cell's hoisted parameters, then once through
        # its hoist.
        fixed, hoist_vjp, loose = cells(p, env)
        ps, local, perturbed = chunk_cells(env, pd, loose)
        keep = keeping(ps, perturbed, fixed, loose)
        pulls = _pulls(ps, local, fixed, keep, saved)
        deferred = frozenset(n for n in fixed if keep.kept(n))
        dres, dpd, ct, dsite = backward(
            ps, pulls, fixed, buf, ct, deferred, keep.cotangents(_rows(ps))
        )
        # In the cells' order, never the set's (it varies with the hash seed, and
        # so would the program, missing JAX's persistent compilation cache).
        for name in fixed:
            if name in deferred:
                dres[name] = deferred_parameters(
                    ps, keep, name, dsite[name], saved, buf
                )
        dcells = {
            name: jax.tree.map(jnp.zeros_like, cell) for name, cell in p.cells.items()
        }
        for name, vjp in hoist_vjp.items():
            (dcells[name],) = vjp(dres[name])
        dp = eqx.tree_at(lambda a: a.cells, jax.tree.map(jnp.zeros_like, p), dcells)
        return dp, dpd, None

    run.defvjp(run_fwd, run_bwd)
    return (run.fun if plain else run)(params, pay_diff, env_arrays)


def _kept(keep: Keep) -> "Step":
    """A chunk's cells, differentiated, their residuals kept."""

    def step(
        name: str, k: _Chunk, child: Array, pay: Any, kids: Any, saved: Any
    ) -> Any:
        return keep.step(name, k.first, k.slot, child, pay, kids, saved)

    return step


def _shapes(p: _Pass, name: str, template: Any) -> Callable[[int], Any]:
    """A chunk's payloads, children's carriers and rows, at a number of rows."""
    c = p.algebra.functor.constructor(name)
    arity = max(c.arity, 1)

    def at(size: int) -> Any:
        pay = jax.tree.map(
            lambda q: struct((size, *q.shape[1:]), q.dtype),
            p.payloads[name],
        )
        kids = jax.tree.map(
            lambda t: struct((size, arity, *t.shape), t.dtype), template
        )
        return pay, kids, struct((size, arity), jnp.int32)

    return at


def _examples(
    algebra: Algebra[Any], table: NodeTable, template: Any, subtrees: bool
) -> dict[str, Any]:
    """The shapes of each constructor's cell input at one node."""
    views = table if subtrees else None
    out = {}
    for c in algebra.functor.constructors:

        def one(c: Constructor = c) -> Any:
            rows = table.rows.children[0, : max(c.arity, 1)]
            pay = jax.tree.map(lambda q: q[0], table.payloads[c.name])
            kids = jax.tree.map(
                lambda t: jnp.zeros((len(rows), *t.shape), t.dtype), template
            )
            return cell_input(c, pay, kids, rows, table.capacity, views)

        out[c.name] = jax.eval_shape(one)
    return out


def _settled(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool
) -> tuple[Any, Algebra[Any], dict[str, Any]]:
    """A fold's carrier template, settled algebra and the cells' example inputs.

    The algebra has what its cells close over as leaves (`_closed`).
    """
    template = carrier_template(algebra, table, subtrees)
    examples = _examples(algebra, table, template, subtrees)
    closed, outs = _closed(algebra, examples)
    settled = settle_carrier(algebra.functor.name, template, outs)
    if settled is not template:  # a cell returns a wider dtype: trace on it
        template = settled
        examples = _examples(algebra, table, template, subtrees)
        closed, outs = _closed(algebra, examples)
        settle_carrier(algebra.functor.name, template, outs)
    return template, closed, examples


def _closed(
    algebra: Algebra[Any], examples: dict[str, Any]
) -> tuple[Algebra[Any], dict[str, Any]]:
    """`algebra` with the traced values its cells close over made leaves.

    Also the shapes each cell returns on its example input.
    """
    both = {n: closed_over(algebra.cells[n], x) for n, x in examples.items()}
    cells = {n: cell for n, (cell, _) in both.items()}
    out: Algebra[Any] = eqx.tree_at(lambda a: a.cells, algebra, cells)
    return out, {n: shape for n, (_, shape) in both.items()}


def _splits(
    algebra: Algebra[Any], examples: dict[str, Any]
) -> dict[str, tuple[Hoist, Body]]:
    """Each cell split into its work on its parameters alone and the rest."""
    return {n: split(algebra.cells[n], x) for n, x in examples.items()}
