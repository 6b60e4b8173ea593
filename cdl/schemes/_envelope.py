"""Static level widths shared by a set of node tables: folds without data-sized loops.

A `NodeTable` leaves its levels' widths as data, so that one compiled program serves
every table of its bucket; the engine then walks the levels in a loop and cuts each
into power-of-two chunks, work a program with known widths does not do. An
`Envelope` fixes, per level and constructor, the most nodes any table of a dataset
has there. A table laid out in it (`Envelope.layout`) keeps every block at a fixed
row, padded to the envelope's width, and a fold over it is the levels unrolled with
static shapes (`_unrolled`): the program a hand-written level-by-level model
compiles, sized once for the whole dataset.
"""

import dataclasses
import itertools
from collections.abc import Iterable
from typing import Any, NamedTuple

import jax
import numpy as np

from . import _messages
from ._functor import Functor
from ._tree import _GRAIN, NodeTable, Rows

_CANDIDATES = 256
"""Places `Envelopes.covering` may cut a large dataset's tables at."""

_ROUNDS = 8
"""Times `Envelope.covering` widens its levels to the room the tables need."""


@dataclasses.dataclass(frozen=True)
class Envelope:
    """Per level and constructor, the most nodes a table laid out in it may hold.

    Build one with `Envelope.covering` from the tables of a dataset (say, every
    batch of an epoch); `layout` then places each table in it. Tables laid out in
    one envelope have the same shapes, so a jitted training step compiles once for
    all of them, and its fold runs the levels with static widths: no loop over
    levels, no chunks.

    **Arguments:** `functor`; `widths`, one tuple per level with one width per
    constructor (in the order of ``functor.names``).

    >>> import cdl
    >>> tables = [cdl.tree_table(cdl.TreeF, t) for t in [(1.0, 2.0), ((1.0, 2.0), 3.0)]]
    >>> envelope = cdl.Envelope.covering(tables)
    >>> envelope.widths
    ((3, 0), (0, 1), (0, 1))
    >>> table = envelope.layout(tables[0])
    >>> table.capacity, table.envelope == envelope
    (5, True)
    """

    functor: Functor
    widths: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        # numpy integers (from a user's arithmetic) kept as they are would make
        # the table's static field hold arrays.
        widths = tuple(tuple(int(x) for x in w) for w in self.widths)
        object.__setattr__(self, "widths", widths)
        n_cons = len(self.functor.names)
        bad = [w for w in self.widths if len(w) != n_cons or min(w) < 0 or not sum(w)]
        if not self.widths or bad:
            raise ValueError(_messages.bad_envelope(self.functor.name, self.widths))

    @property
    def rows(self) -> int:
        """The rows of every table laid out in the envelope (its capacity)."""
        return max(sum(map(sum, self.widths)), 1)

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """Per level and constructor: the first row of its block, its first slot.

        Rows go level by level, then by constructor; a constructor's payload slots
        go level by level.
        """
        w = np.asarray(self.widths, np.int64)
        first = (np.cumsum(w) - w.reshape(-1)).reshape(w.shape)
        slot = np.cumsum(w, axis=0) - w
        return first, slot

    @staticmethod
    def covering(tables: Iterable[NodeTable]) -> "Envelope":
        """A small envelope every table of `tables` fits in.

        **Arguments:** `tables`, node tables of one functor.

        **Returns:** the `Envelope`. Its first level holds the most nodes without
        children of any table; from there on, the rows of levels ``l`` and up
        are the most nodes of height ``l`` or more of any table, so that a node
        may wait past its height for room (nodes with the longest way to their
        root first), widened where a node would miss the last level. It has as
        many levels as the tallest table. Raises `ValueError` for no tables or
        tables of several functors.
        """
        listed = list(tables)
        if not listed:
            raise ValueError(_messages.envelope_of_nothing())
        functor = listed[0].functor
        for i, table in enumerate(listed):
            if table.functor != functor:
                raise ValueError(
                    _messages.envelope_functors(i, table.functor.name, functor.name)
                )
        nodes = [_nodes(t) for t in listed]
        heights = [_height_widths(n, len(functor.names)) for n in nodes]
        widths = _suffix_widths(heights)
        for _ in range(_ROUNDS):
            need = np.max([_schedule(n, widths, force=True)[1] for n in nodes], axis=0)
            if (need <= widths).all():
                break
            widths = np.maximum(widths, need)
        if any(_schedule(n, widths)[2].any() for n in nodes):
            widths = np.maximum(widths, _suffix_widths(heights, at_height=True))
        return Envelope(functor, tuple(map(tuple, widths)))

    def layout(self, table: NodeTable) -> NodeTable:
        """`table` with every block at the envelope's row, padded to its width.

        Nodes go level by level: on each, as many of the nodes whose children
        are done as the level has room for, those with the longest way to
        their root first. Padding rows repeat a node of their constructor (the
        block's first, or the table's first of that constructor), so that a
        cell only ever sees inputs it could meet; nothing reads their results.

        **Returns:** the `NodeTable`, with ``capacity == self.rows`` and
        ``envelope == self``. Raises `ValueError` when the table does not fit.

        >>> import cdl
        >>> small = cdl.Envelope.covering([cdl.tree_table(cdl.TreeF, (1.0, 2.0))])
        >>> small.layout(cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0)))
        Traceback (most recent call last):
        ...
        ValueError: the table does not fit the envelope (TreeF): 3 Leaf node(s) \
without children, room for 2; build the envelope with Envelope.covering over \
every table it must hold.
        """
        return self._layout(table, _nodes(table))

    def _layout(self, table: NodeTable, nodes: "_Nodes") -> NodeTable:
        """`layout`, given the table's rows as the layout reads them."""
        if table.functor != self.functor:
            raise ValueError(
                _messages.envelope_functors(0, table.functor.name, self.functor.name)
            )
        widths = np.asarray(self.widths, np.int64)
        names = self.functor.names
        first = _height_widths(nodes, len(names))[0]
        over = np.flatnonzero(first > widths[0])
        if over.size:
            c = int(over[0])
            raise ValueError(
                _messages.envelope_too_narrow(
                    self.functor.name, names[c], int(first[c]), int(widths[0, c])
                )
            )
        level, _, left = _schedule(nodes, widths)
        if left.any():
            raise ValueError(
                _messages.envelope_too_shallow(
                    self.functor.name, int(left.sum()), len(widths)
                )
            )
        return _placed(self, table, nodes, level)


@dataclasses.dataclass(frozen=True)
class Envelopes:
    """A few envelopes, for tables of different sizes: each in the smallest it fits.

    One envelope for a whole dataset pads every batch to the largest one's
    levels; several, each covering the tables of a range of sizes, pad less,
    for one compiled program each.

    **Arguments:** `envelopes`, in increasing rows.

    >>> import cdl
    >>> terms = [(1.0, 2.0), ((1.0, 2.0), 3.0), (((1.0, 2.0), 3.0), 4.0)]
    >>> tables = [cdl.tree_table(cdl.TreeF, t) for t in terms]
    >>> envelopes = cdl.Envelopes.covering(tables, count=2)
    >>> [e.rows for e in envelopes.envelopes]
    [3, 7]
    >>> [envelopes.layout(t).capacity for t in tables]
    [3, 7, 7]
    """

    envelopes: tuple[Envelope, ...]

    @staticmethod
    def covering(tables: Iterable[NodeTable], count: int = 4) -> "Envelopes":
        """At most `count` envelopes covering `tables`, cut by size into groups.

        The cuts pad the least in all: a group's envelope is about as wide, per
        constructor, as its most nodes without children plus its most with, and
        every table of the group pays that many rows. So one outsized table gets
        an envelope of its own rather than widening a quarter of the dataset's.

        **Returns:** the `Envelopes` (fewer when groups share one). Raises
        `ValueError` for no tables or a `count` under 1.
        """
        listed = list(tables)
        if count < 1:
            raise ValueError(_messages.envelope_count(count))
        if not listed:
            raise ValueError(_messages.envelope_of_nothing())
        order = np.argsort([t.size for t in listed], kind="stable")
        n_cons = len(listed[0].functor.names)
        room = np.asarray([_room(listed[i], n_cons) for i in order])
        groups = np.split(order, _cuts(room, count))
        found = {Envelope.covering([listed[i] for i in g]) for g in groups}
        return Envelopes(tuple(sorted(found, key=lambda e: (e.rows, len(e.widths)))))

    def layout(self, table: NodeTable, *, strict: bool = True) -> NodeTable:
        """`table` laid out in the smallest of the envelopes it fits in.

        When it fits in none: with `strict`, the largest envelope's
        `ValueError`; without, `table` as it is (folded by the level engine, in
        a program of its own).
        """
        nodes = _nodes(table)
        for envelope in self.envelopes:
            try:
                return envelope._layout(table, nodes)
            except ValueError:
                if envelope is self.envelopes[-1] and strict:
                    raise
        return table


def _room(table: NodeTable, n_cons: int) -> np.ndarray:
    """Per constructor, the nodes without children, then those with."""
    tags = np.asarray(table.rows.tags)
    leaf = np.asarray(table.rows.heights) == 0
    real = tags >= 0
    return np.concatenate(
        [np.bincount(tags[real & w], minlength=n_cons) for w in (leaf, ~leaf)]
    )


def _cuts(room: np.ndarray, count: int) -> list[int]:
    """Where to cut tables (in order) into at most `count` groups padding least.

    A group costs its tables times the sum of its widest `room` entries (the
    rows an envelope covering it has, short of nodes waiting for room). The
    search is exact, by dynamic programming over the cuts; past `_CANDIDATES`
    tables, over that many evenly spread places to cut.
    """
    n = len(room)
    places = np.unique(np.linspace(0, n, min(n, _CANDIDATES) + 1).round().astype(int))
    m = len(places) - 1
    chunks = np.stack([room[a:b].max(axis=0) for a, b in itertools.pairwise(places)])
    # cost[i, j]: the tables from place i to place j as one group.
    cost = np.full((m + 1, m + 1), np.inf)
    for i in range(m):
        widest = np.maximum.accumulate(chunks[i:], axis=0).sum(axis=1)
        cost[i, i + 1 :] = widest * (places[i + 1 :] - places[i])
    best = cost[0].copy()  # best[j]: the tables up to place j, in the groups so far
    best[0] = 0.0
    back = np.full((count, m + 1), -1)  # the last group's first place; -1: none new
    for k in range(1, count):
        total = best[:, None] + cost
        start = np.argmin(total, axis=0)
        found = total[start, np.arange(m + 1)]
        back[k] = np.where(found < best, start, -1)
        best = np.minimum(found, best)
    cuts, j = [], m
    for k in range(count - 1, 0, -1):
        if back[k, j] > 0:
            j = int(back[k, j])
            cuts.append(int(places[j]))
    return sorted(cuts)


class _Nodes(NamedTuple):
    """A table's rows as the layout reads them."""

    tags: np.ndarray
    """Per row, the constructor, or -1 for none."""
    kids: np.ndarray
    """Per row, the rows of its children; the last row for none."""
    heights: np.ndarray
    rank: np.ndarray
    """Per row, the longest way up to a root: who waits for it longest."""


def _nodes(table: NodeTable) -> _Nodes:
    tags = np.asarray(table.rows.tags).astype(np.int64)
    kids = np.asarray(table.rows.children).astype(np.int64)
    heights = np.where(tags >= 0, np.asarray(table.rows.heights), -1)
    none = len(tags) - 1
    rank = np.zeros(len(tags), np.int64)
    for h in range(int(heights.max(initial=0)), 0, -1):
        rows = np.flatnonzero(heights == h)
        child = kids[rows]
        real = child != none
        np.maximum.at(rank, child[real], np.repeat(rank[rows] + 1, real.sum(axis=1)))
    return _Nodes(tags, kids, heights, rank)


def _height_widths(nodes: _Nodes, n_cons: int) -> np.ndarray:
    """``[levels, constructors]``: how many nodes of each height a table has."""
    real = nodes.tags >= 0
    levels = int(nodes.heights.max(initial=0)) + 1
    flat = nodes.heights[real] * n_cons + nodes.tags[real]
    return np.bincount(flat, minlength=levels * n_cons).reshape(levels, n_cons)


def _suffix_widths(per_table: list[np.ndarray], at_height: bool = False) -> np.ndarray:
    """Widths whose levels from ``l`` on hold any table's nodes of height ``l`` up.

    The first level is the widest first level of any (its nodes cannot wait).
    With `at_height`, each level is as wide as any table's nodes of its height:
    then every table fits with no node waiting.
    """
    levels = max(len(w) for w in per_table)
    padded = [np.pad(w, ((0, levels - len(w)), (0, 0))) for w in per_table]
    if at_height:
        out: np.ndarray = np.max(padded, axis=0)
        return out
    above: np.ndarray = np.max(
        [np.cumsum(w[::-1], axis=0)[::-1] for w in padded], axis=0
    )
    widths: np.ndarray = above - np.concatenate([above[1:], np.zeros_like(above[:1])])
    widths[0] = np.max([w[0] for w in padded], axis=0)
    return widths


def _schedule(
    nodes: _Nodes, widths: np.ndarray, force: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's level (-1: none, or no room), the nodes per block, what is left.

    Nodes without children take the first level. On each later level, of the
    nodes whose children are done, each constructor's block takes as many as it
    has room for, longest way up first (then in row order): the earliest
    deadline first, a node ``r`` steps below a root having to be placed ``r``
    levels before the last. With `force`, a node at its deadline is placed
    even past the room (the counts per block then say how much room is
    needed). The last result counts, per constructor, the nodes left.
    """
    tags, kids, _, rank = nodes
    real = tags >= 0
    level = np.where(real & (nodes.heights == 0), 0, -1)
    n_levels, n_cons = widths.shape
    for lv in range(1, n_levels):
        done = np.append(level[:-1] >= 0, True)
        now = real & (level < 0) & done[kids].all(axis=1)
        for c in range(n_cons):
            rows = np.flatnonzero(now & (tags == c))
            if len(rows) > widths[lv, c]:
                by_deadline = rows[np.lexsort((rows, -rank[rows]))]
                due = (rank[by_deadline] >= n_levels - 1 - lv).sum() if force else 0
                rows = by_deadline[: max(widths[lv, c], due)]
            level[rows] = lv
    placed = real & (level >= 0)
    counts = np.bincount(
        level[placed] * n_cons + tags[placed], minlength=widths.size
    ).reshape(widths.shape)
    return level, counts, np.bincount(tags[real & (level < 0)], minlength=n_cons)


def _placed(
    envelope: Envelope, table: NodeTable, nodes: _Nodes, level: np.ndarray
) -> NodeTable:
    """The table's nodes moved to the envelope's rows and slots (see `layout`)."""
    first, slot = envelope.offsets()
    width = np.asarray(envelope.widths, np.int64)
    n_cons = width.shape[1]
    capacity = envelope.rows
    rows = capacity + 1 + _GRAIN
    none = rows - 1
    old = table.rows
    old_tags = nodes.tags
    old_none = len(old_tags) - 1
    # The nodes, block by block (level, then constructor), in row order.
    real = np.flatnonzero(level >= 0)
    of_block = level[real] * n_cons + old_tags[real]
    members = real[np.lexsort((real, of_block))]
    count = np.bincount(of_block, minlength=width.size)
    starts = np.cumsum(count) - count
    # Each row of the new table reads the structure of one row of the old: its
    # own node's, or for padding a stand-in node of its constructor (the
    # block's first, else the table's first of that constructor, else none).
    flat = width.reshape(-1)
    offset = np.arange(flat.sum()) - np.repeat(np.cumsum(flat) - flat, flat)
    block = np.repeat(np.arange(flat.size), flat)
    own = offset < count[block]
    first_of = [np.flatnonzero(old_tags == c) for c in range(n_cons)]
    fallback = np.asarray([f[0] if f.size else old_none for f in first_of])
    block_first = np.where(
        count > 0, members[np.minimum(starts, max(len(members) - 1, 0))], -1
    )
    stand_in = np.where(count[block] > 0, block_first[block], fallback[block % n_cons])
    source = np.full(rows, old_none, np.int64)
    source[: flat.sum()] = np.where(
        own, members[np.minimum(starts[block] + offset, len(members) - 1)], stand_in
    )
    moved = np.full(len(old_tags), none, np.int64)
    moved[source[: flat.sum()][own]] = np.flatnonzero(own)
    new_slot = np.full(rows, capacity, np.int64)
    new_slot[: flat.sum()] = slot.reshape(-1)[block] + offset
    tags = np.full(rows, -1, np.int32)
    tags[np.flatnonzero(own)] = old_tags[source[: flat.sum()][own]]
    kids = nodes.kids[source]
    kids = np.where(kids == old_none, none, moved[kids]).astype(np.int32)
    # Per constructor, the old payload slot each new slot reads.
    old_slots = np.asarray(old.slots)
    slot_source = {}
    for c, name in enumerate(table.functor.names):
        mine = block % n_cons == c
        src = np.full(rows, old_slots[old_none], np.int64)
        src[new_slot[: flat.sum()][mine]] = old_slots[source[: flat.sum()][mine]]
        slot_source[name] = src
    heights, sizes = (
        np.where(tags >= 0, np.asarray(a)[source], 0).astype(np.int32)
        for a in (old.heights, old.sizes)
    )
    payloads = {
        name: jax.tree.map(lambda q, s=slot_source[name]: q[s], p)
        for name, p in table.payloads.items()
    }
    blocks = np.zeros((capacity, n_cons, 3), np.int32)
    blocks[: len(width), :, 0] = first
    blocks[: len(width), :, 1] = count.reshape(width.shape)
    blocks[: len(width), :, 2] = slot
    n = int(table.count)
    out_nodes = np.full(capacity, none, np.int32)
    out_nodes[:n] = moved[np.asarray(table.nodes)[:n]]
    # Host arrays, as `NodeTable.from_arrays` leaves them.
    by_row: list[Any] = [tags, new_slot.astype(np.int32), kids, heights, sizes]
    host: list[Any] = [
        payloads, blocks, np.asarray(int(level.max()) + 1, np.int32),
        np.asarray(n, np.int32), moved[np.asarray(table.roots)].astype(np.int32),
        Rows(*by_row), out_nodes, envelope,
    ]  # fmt: skip
    placed = NodeTable(table.functor, capacity, capacity + _GRAIN, *host)
    return dataclasses.replace(placed, unknown=table.unknown)
