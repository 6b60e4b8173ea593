"""Recursive data as node tables (plans of levels), and the algebras that fold them.

A finite term of a polynomial functor (a tree, a forest, an expression) is stored as a
`NodeTable`: one row per node, with its constructor, its payload and the rows of its
children, grouped by height into levels. The level engine (`_levels`) evaluates all
nodes of one height at once (each constructor's cell `vmap`ped over them), so its cost
grows with the depth, not with the number of nodes, and its gradient is a reverse
sweep over the same levels, linear in the size of the tree.

The fold agrees with the recursion it replaces:

>>> import jax, jax.numpy as jnp, cdl
>>> from jaxtyping import Array, Float
>>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
...     def __call__(self, x):
...         return x[0]
>>> class Node(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""],
...                     Float[Array, ""]]], Float[Array, ""]]):
...     def __call__(self, x):
...         _, (left, right) = x
...         return left - right
>>> alg = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Node())
>>> table = cdl.tree_table(cdl.TreeF, ((5.0, 2.0), (1.0, 3.0)))
>>> cdl.cata(alg)(table)
Array(5., dtype=float32)
"""

import contextlib
import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int

from .._para import Para, SpaceError
from .._space import (
    Space,
    SpaceVar,
    TensorSpace,
    describe,
    example_of,
    is_concrete,
    space_of,
)
from . import _messages
from ._functor import Constructor, Functor, Layer
from ._plain import as_cell, by_constructor
from ._sites import struct

_A = TypeVar("_A")

_GRAIN = 8
"""Rows past a table's capacity that a block's last chunk may touch."""

STRATEGIES: Final = ("auto", "levels", "nodes")
"""How a table's rows are grouped: see `NodeTable.from_arrays`."""

CHAIN_NODES: Final = 64
"""Tables of fewer nodes keep levels under ``"auto"``: small programs differ
little, and a stream of small tables then shares one."""


def chain_like(levels: int, nodes: int) -> bool:
    """Whether ``"auto"`` evaluates a table node by node: a chain-like one.

    That is at least `CHAIN_NODES` nodes, fewer than three a level. Each
    level costs the engine its chunks' fixed work whatever its width; a
    degenerate binary tree of 999 nodes (500 levels) ran 3.6x faster node by
    node, and its gradient 2x.

    >>> chain_like(500, 999), chain_like(20, 999), chain_like(9, 17)
    (True, False, False)
    """
    return nodes >= CHAIN_NODES and 3 * levels > nodes


DEFAULT_BUCKETS: Final = "auto"
"""Capacities ``16``, then powers of two up to `DOUBLING_UP_TO`, then ``2^k`` times
1, 1.25, 1.5 or 1.75, so that forests of similar sizes share compiled programs
(batches of 25 treebank sentences meet two). Padding rows cost no cell work (the
engine's chunks follow the levels' widths) but every row buffer a training step
fills and reads: past `DOUBLING_UP_TO` rows the finer steps pay for their extra
programs (a Tree-LSTM step over 256 treebank sentences, 9,600 nodes: 2.06 -> 1.65
of the hand-written one's time). The other named buckets are ``"doubling"``
(powers of two throughout) and ``"quarters"`` (the finer steps throughout)."""

DOUBLING_UP_TO: Final = 2048
"""The largest capacity the default buckets reach by doubling."""


class NodeTable(eqx.Module):
    """A tree, or a forest, of a polynomial functor stored as arrays: a plan of levels.

    Build one with `tree_table` (from nested Python terms) or `NodeTable.from_arrays`
    (from constructor tags and child indices). Nodes are grouped by height into
    *levels*; a level is, per constructor, one block of consecutive rows of the
    results buffer. The buffer has `capacity` rows, taken from a small set of
    buckets (see `tree_table`), so tables of similar sizes have the same shapes
    and a jitted fold compiles once for all of them: which rows hold nodes, and
    how many levels there are, is data. A table is built on the host: its arrays
    are numpy arrays until a jitted function takes it (or `jax.device_put`).

    **Arguments:** built by the two functions above.

    >>> import cdl
    >>> t = cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0)))
    >>> t.size, t.depth, t.capacity, t.functor.name
    (5, 2, 16, 'TreeF')
    """

    functor: Functor = eqx.field(static=True)
    capacity: int = eqx.field(static=True)
    """Rows of the results buffer for nodes (and of every per-node output); the
    buffer's last row, ``capacity + 8``, stands for "no node"."""
    widest: int = eqx.field(static=True)
    """The most rows a block of one level can have (rounded up to the grain)."""
    payloads: dict[str, Array]
    """Per constructor, its nodes' payloads in the order of their rows (level by
    level), padded to ``capacity + 9``; a node's is at ``rows.slots[row]``."""
    blocks: Int[Array, "capacity constructors 3"]
    """Per level and constructor: the first row of its block, its width, and the
    first payload slot."""
    levels: Int[Array, ""]
    """The number of levels (the depth plus one)."""
    count: Int[Array, ""]
    """The number of nodes."""
    roots: Int[Array, "*r"]
    """Rows of the results buffer holding the roots (not node indices)."""
    rows: "Rows"
    """What each row of the results buffer holds: constructor, children, sizes."""
    nodes: Int[Array, " capacity"]
    """The row holding each node, in node order; the "no node" row past the last."""
    envelope: Any = eqx.field(static=True, default=None)
    """The `cdl.Envelope` the table is laid out in (`Envelope.layout`), or ``None``:
    then its levels' widths are data."""
    unknown: frozenset[str] = eqx.field(static=True, default=frozenset())
    """Constructors with a payload that have no node here and whose payloads' shape
    was not given (stored as ``f32[rows]``): a fold gives their cells payloads of
    the space each cell declares (`cdl.TreeRNNCell(4, …)`: ``float[4]``)."""

    @property
    def size(self) -> int:
        """The number of nodes (read outside `jax.jit`)."""
        return int(self.count)

    @property
    def depth(self) -> int:
        """The height of the tallest tree (read outside `jax.jit`)."""
        return int(np.max(self.rows.heights, initial=0))

    @property
    def mask(self) -> Bool[Array, " capacity"]:
        """Which entries of a per-node output (`cdl.upwards`) are nodes."""
        return jnp.arange(self.capacity) < self.count

    def per_node(self, values: Any, fill: Any = 0) -> np.ndarray:
        """Pad per-node values (node order) to the table's per-node outputs.

        **Arguments:** `values`, an array ``[size, ...]`` (the targets of a loss
        on every node); `fill`, the value of the padding.

        **Returns:** the host array ``[capacity, ...]`` that lines up with
        ``cdl.upwards(algebra)(table)`` and `mask`.

        >>> import cdl
        >>> t = cdl.tree_table(cdl.TreeF, (1.0, 2.0))
        >>> t.per_node([7, 8, 9]).shape
        (16,)
        """
        arr = np.asarray(values)
        if arr.shape[:1] != (self.size,):
            raise ValueError(
                _messages.per_node_rows(self.size, arr.shape[:1] and arr.shape[0])
            )
        out = np.full((self.capacity, *arr.shape[1:]), fill, arr.dtype)
        out[: self.size] = arr
        return out

    @staticmethod
    def from_arrays(
        functor: Functor,
        tags: Sequence[int] | np.ndarray,
        children: Sequence[Sequence[int]] | np.ndarray,
        payloads: dict[str, Any],
        roots: int | Sequence[int] | np.ndarray,
        *,
        max_depth: int | None = None,
        strategy: str = "auto",
        buckets: Sequence[int] | str | None = DEFAULT_BUCKETS,
    ) -> "NodeTable":
        """Build a table from per-node constructor tags and child indices.

        **Arguments:**

        - `functor`: the `Functor`.
        - `tags`: ``[n]`` constructor indices (positions in ``functor.names``).
        - `children`: ``[n, k]`` integer child indices, ``-1`` where a node has
          fewer children than `k`.
        - `payloads`: for each constructor with a payload, an array whose rows are
          the payloads of its nodes, in node order.
        - `roots`: the root (an int) or roots (a sequence or array: a forest).
        - `max_depth`: raise `ValueError` for a deeper structure.
        - `strategy`: ``"levels"`` (all nodes of one height at once), ``"nodes"``
          (one node per step, in topological order), or the default ``"auto"``:
          levels, unless the structure is chain-like (see `chain_like`), where
          one node a level leaves levels nothing to batch.
        - `buckets`: how the capacity is chosen: the default ``"auto"``
          (16, then powers of two up to 2,048, then 2^k times 1, 1.25, 1.5 or
          1.75; see `DEFAULT_BUCKETS`), ``"doubling"`` (16, then powers of
          two), ``"quarters"`` (16, then 2^k times 1, 1.25, 1.5 or 1.75: less
          padding, more programs), your own increasing
          capacities (the smallest that fits is taken; past the largest, the
          default), or ``None`` for
          exactly the number of nodes (one compiled program per size).

        **Returns:** the `NodeTable`; raises `ValueError` for a tag, child or root
        out of range, non-integer indices, a cycle, a wrong number of children,
        or a depth over `max_depth`.

        >>> import numpy as np, cdl
        >>> cdl.NodeTable.from_arrays(cdl.TreeF, [0, 0, 1], [[-1, -1], [-1, -1],
        ...     [0, 2]], {"Leaf": np.ones(2)}, 2)
        Traceback (most recent call last):
        ...
        ValueError: the structure contains itself (cycle through node 2).
        >>> cdl.NodeTable.from_arrays(cdl.TreeF, [0, -1], [[-1, -1], [-1, -1]],
        ...     {"Leaf": np.ones(1)}, 0)
        Traceback (most recent call last):
        ...
        ValueError: node 1 has tag -1, but TreeF has constructors 0 to 1.
        """
        if strategy not in STRATEGIES:
            raise ValueError(_messages.UNKNOWN_STRATEGY.format(strategy))
        tag_arr = _integers("tags", tags).reshape(-1)
        n = len(tag_arr)
        if n == 0:
            raise ValueError(_messages.empty_table())
        try:
            kids = _integers("children", children).reshape(n, -1)
        except ValueError as error:
            if "inhomogeneous" not in str(error):
                raise
            lengths = sorted({len(row) for row in children})
            raise ValueError(_messages.ragged_children(lengths)) from None
        root_arr = _integers("roots", roots)
        _check_arrays(functor, tag_arr, kids, root_arr)
        _check_payload_keys(functor, payloads)
        payloads = {k: _numbers_as_array(v) for k, v in payloads.items()}
        with no_collection():
            heights, sizes = _heights(kids)
        depth = int(heights.max(initial=0))
        if max_depth is not None and depth > max_depth:
            raise ValueError(_messages.too_deep(depth, max_depth))
        return _build(
            functor, tag_arr, kids, heights, sizes, payloads, root_arr, strategy,
            _capacity(n, buckets),
        )  # fmt: skip

    def __check_init__(self) -> None:
        if not isinstance(self.functor, Functor):
            raise TypeError(_messages.not_a_functor("a NodeTable", self.functor))


class Rows(eqx.Module):
    """Per row of a `NodeTable`'s results buffer: the node stored there.

    The last row, ``capacity + 8``, and rows past the last node stand for "no
    node": their tag is -1.

    **Arguments:** `tags`, `slots` (payload row), `children` (rows of the
    children, the last row for none), `heights`, `sizes` (nodes below and at the
    row, a shared node counted once per use); all ``[capacity + 9, ...]`` (the
    last rows are slack for the engine's chunks).

    >>> import cdl
    >>> t = cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0)))
    >>> root = int(t.roots)
    >>> int(t.rows.sizes[root]), int(t.rows.heights[root])
    (5, 2)
    """

    tags: Int[Array, " rows"]
    slots: Int[Array, " rows"]
    children: Int[Array, "rows k"]
    heights: Int[Array, " rows"]
    sizes: Int[Array, " rows"]


def _integers(what: str, given: Any) -> np.ndarray:
    """`given` as an int64 array; raise `ValueError` for anything but integers."""
    arr = np.asarray(given)
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(_messages.not_integers(what, arr.dtype))
    return arr.astype(np.int64)


def _numbers_as_array(payloads: Any) -> Any:
    """A list or tuple of numbers (one per node) as an array; anything else as given.

    >>> _numbers_as_array([1.0, 2.0]), _numbers_as_array((np.ones(2), np.ones(2)))[0]
    (array([1., 2.]), array([1., 1.]))
    """
    numbers = int | float | np.number | np.bool_
    if isinstance(payloads, list | tuple) and all(
        isinstance(p, numbers) for p in payloads
    ):
        return np.asarray(payloads)
    return payloads


def _check_payload_keys(functor: Functor, payloads: dict[str, Any]) -> None:
    carrying = [c.name for c in functor.constructors if c.payload]
    for key in payloads:
        if key not in carrying:
            raise ValueError(_messages.unknown_payload(functor.name, key, carrying))


def _check_arrays(
    functor: Functor, tags: np.ndarray, kids: np.ndarray, roots: np.ndarray
) -> None:
    n, names = len(tags), functor.names
    bad = np.flatnonzero((tags < 0) | (tags >= len(names)))
    if bad.size:
        node = int(bad[0])
        raise ValueError(_messages.bad_tag(node, int(tags[node]), functor.name, names))
    bad_kids = np.argwhere((kids < -1) | (kids >= n))
    if bad_kids.size:
        node, j = (int(v) for v in bad_kids[0])
        raise ValueError(_messages.child_out_of_range(node, int(kids[node, j]), n))
    bad_roots = roots.reshape(-1)[(roots.reshape(-1) < 0) | (roots.reshape(-1) >= n)]
    if bad_roots.size:
        raise ValueError(_messages.root_out_of_range(int(bad_roots[0]), n))
    present = kids != -1
    gaps = np.argwhere(present[:, 1:] & ~present[:, :-1])
    if gaps.size:
        node = int(gaps[0, 0])
        raise ValueError(_messages.child_gap(node, kids[node].tolist()))
    arity = np.asarray([c.arity for c in functor.constructors], np.int64)
    variadic = np.asarray([c.variadic for c in functor.constructors], bool)
    count = (kids != -1).sum(axis=1) if kids.size else np.zeros(n, np.int64)
    wrong = (count > arity[tags]) | ((count != arity[tags]) & ~variadic[tags])
    if wrong.any():
        node = int(np.flatnonzero(wrong)[0])
        c = functor.constructors[int(tags[node])]
        raise ValueError(
            _messages.wrong_arity(functor.name, c.name, c.arity, int(count[node]))
        )


def _heights(kids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Height and size of every node (leaves 0 and 1); cycles raise.

    Tables built by `tree_table` list children before parents: one pass in node
    order settles both. Any other order takes an iterative search.
    """
    n = len(kids)
    if not kids.size or bool((kids < np.arange(n)[:, None]).all()):
        heights = [0] * n
        sizes = [1] * n
        for node, row in enumerate(kids.tolist()):
            for child in row:
                if child >= 0:
                    heights[node] = max(heights[node], heights[child] + 1)
                    sizes[node] += sizes[child]
        return np.asarray(heights, np.int64), np.asarray(sizes, np.int64)
    return _searched(kids)


def _searched(kids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(kids)
    heights = np.full(n, -1, np.int64)
    sizes = np.ones(n, np.int64)
    on_path = np.zeros(n, bool)
    rows = kids.tolist()
    for start in range(n):
        if heights[start] >= 0:
            continue
        stack = [start]
        while stack:
            node = stack[-1]
            on_path[node] = True
            pending = [c for c in rows[node] if c != -1 and heights[c] < 0]
            for c in pending:
                if on_path[c]:
                    raise ValueError(_messages.cycle(int(c)))
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            on_path[node] = False
            done = [c for c in rows[node] if c != -1]
            heights[node] = 1 + max(heights[c] for c in done) if done else 0
            sizes[node] += sum(int(sizes[c]) for c in done)
    return heights, sizes


def _capacity(n: int, buckets: Sequence[int] | str | None) -> int:
    """The rows of a table of `n` nodes under `buckets` (see `from_arrays`)."""
    if buckets is None:
        return max(n, 1)
    scheme = buckets if isinstance(buckets, str) else DEFAULT_BUCKETS
    if isinstance(buckets, str):
        if buckets not in ("auto", "doubling", "quarters"):
            raise ValueError(_messages.bad_buckets(buckets))
    else:
        sizes = [int(b) for b in buckets]
        if sizes != sorted(sizes) or not sizes or sizes[0] < 1:
            raise ValueError(_messages.bad_buckets(buckets))
        for b in sizes:
            if b >= n:
                return b
    if n <= 16:
        return 16
    top = 1 << (n - 1).bit_length()
    if scheme == "doubling" or (scheme == "auto" and top <= DOUBLING_UP_TO):
        return top
    for quarters in (4, 5, 6, 7):
        if top // 8 * quarters >= n:
            return top // 8 * quarters
    return top


def _build(
    functor: Functor,
    tags: np.ndarray,
    kids: np.ndarray,
    heights: np.ndarray,
    sizes: np.ndarray,
    payloads: dict[str, Any],
    roots: np.ndarray,
    strategy: str,
    capacity: int,
) -> NodeTable:
    n, n_cons = len(tags), len(functor.names)
    counts = np.bincount(tags, minlength=n_cons)
    # Rows: by level, then constructor, then node order; each (level, constructor)
    # is one block of consecutive rows, and its payloads consecutive slots.
    order = np.lexsort((np.arange(n), tags, heights))
    if strategy == "auto":
        chain = chain_like(int(heights.max(initial=-1)) + 1, n)
        strategy = "nodes" if chain else "levels"
    if strategy == "nodes":
        level = np.empty(n, np.int64)
        level[order] = np.arange(n)
    else:
        level = heights
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    slot = np.empty(n, np.int64)
    slot[order] = _ranks(tags[order], counts)
    stored = {
        c.name: _payload_rows(
            functor, c, payloads, slot[tags == t], int(counts[t]), capacity
        )
        for t, c in enumerate(functor.constructors)
    }
    n_levels = int(level.max(initial=-1)) + 1
    widths = np.bincount(level * n_cons + tags, minlength=n_levels * n_cons)
    widths = widths.reshape(n_levels, n_cons)
    blocks = np.zeros((capacity, n_cons, 3), np.int32)
    blocks[:n_levels, :, 0] = (np.cumsum(widths) - widths.reshape(-1)).reshape(
        n_levels, n_cons
    )
    blocks[:n_levels, :, 1] = widths
    blocks[:n_levels, :, 2] = np.cumsum(widths, axis=0) - widths
    k = max(kids.shape[1] if kids.ndim == 2 else 0, 1)
    rows = capacity + 1 + _GRAIN
    none = rows - 1
    out_tags = np.full(rows, -1, np.int32)
    out_slots = np.full(rows, capacity, np.int32)
    out_kids = np.full((rows, k), none, np.int32)
    out_heights = np.zeros(rows, np.int32)
    out_sizes = np.zeros(rows, np.int32)
    out_tags[position] = tags
    out_slots[position] = slot
    if n and kids.shape[1]:
        out_kids[position, : kids.shape[1]] = np.where(
            kids < 0, none, position[np.maximum(kids, 0)]
        )
    out_heights[position] = heights
    out_sizes[position] = sizes
    nodes = np.full(capacity, none, np.int32)
    nodes[:n] = position
    # Host arrays: a jitted fold (or `jax.device_put`) moves them to the device.
    by_row: list[Any] = [out_tags, out_slots, out_kids, out_heights, out_sizes]
    host: list[Any] = [
        stored, blocks, np.asarray(n_levels, np.int32), np.asarray(n, np.int32),
        position[roots].astype(np.int32), Rows(*by_row), nodes,
    ]  # fmt: skip
    widest = 1 if strategy == "nodes" else capacity + _GRAIN
    unknown = frozenset(
        c.name
        for t, c in enumerate(functor.constructors)
        if c.payload
        and counts[t] == 0
        and all(np.shape(leaf) == (0,) for leaf in jax.tree.leaves(payloads[c.name]))
    )
    table = NodeTable(functor, capacity, widest, *host)
    return dataclasses.replace(table, unknown=unknown) if unknown else table


def _ranks(tags: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each entry's rank among the entries of its tag, in order."""
    by_tag = np.argsort(tags, kind="stable")
    out = np.empty(len(tags), np.int64)
    out[by_tag] = np.arange(len(tags)) - np.repeat(np.cumsum(counts) - counts, counts)
    return out


def _payload_rows(
    functor: Functor,
    c: Constructor,
    payloads: dict[str, Any],
    slots: np.ndarray,
    count: int,
    cap: int,
) -> np.ndarray:
    """Constructor `c`'s payloads (given in node order) at their slots."""
    rows = cap + 1 + _GRAIN
    if not c.payload:
        return np.zeros((rows, 0), np.float32)
    if c.name not in payloads:
        raise ValueError(_messages.missing_payload(functor.name, c.name))

    def place(leaf: Any) -> Any:
        given = leaf if traced(leaf) else np.asarray(leaf)
        if not numeric(given.dtype):
            raise ValueError(
                _messages.payload_rows_not_numeric(functor.name, c.name, given.dtype)
            )
        if given.shape[:1] != (count,):
            raise ValueError(
                _messages.payload_rows(functor.name, c.name, count, given.shape)
            )
        dtype = jax.dtypes.canonicalize_dtype(given.dtype)
        if traced(given):  # a term's payloads, traced: placed by JAX
            return jnp.zeros((rows, *given.shape[1:]), dtype).at[slots].set(given)
        out = np.zeros((rows, *given.shape[1:]), dtype)
        out[slots] = given
        return out

    placed: np.ndarray = jax.tree.map(place, payloads[c.name])
    return placed


def stack_payloads(functor: str, constructor: str, rows: list[Any]) -> Any:
    """One constructor's payloads, given node by node, stacked along a first axis.

    A payload may be a pytree (a dict, a tuple) of numbers and arrays: each leaf
    is stacked. Payloads of other structures, shapes or of non-numbers (a string)
    are a `ValueError` naming the first node that differs.

    >>> import numpy as np
    >>> from cdl.schemes._tree import stack_payloads
    >>> stack_payloads("E", "Lit", [{"v": 1.0}, {"v": 2.0}])["v"]
    array([1., 2.])
    >>> stack_payloads("E", "Lit", [(1.0, np.ones(2)), (2.0, np.ones(1))])
    Traceback (most recent call last):
    ...
    ValueError: E.Lit's payload 1 has a leaf of shape (1,), where payload 0's is (2,).
    """
    first_leaves, first = _flatten(functor, constructor, 0, rows[0])
    columns: list[list[np.ndarray]] = [[] for _ in first_leaves]
    for index, row in enumerate(rows):
        if row is None:
            raise ValueError(_messages.payload_none(functor, constructor))
        leaves, structure = _flatten(functor, constructor, index, row)
        if str(structure) != str(first):
            raise ValueError(
                _messages.payload_structure(
                    functor, constructor, index, str(structure), str(first)
                )
            )
        for column, leaf in zip(columns, leaves, strict=True):
            value = leaf if traced(leaf) else np.asarray(leaf)
            if not numeric(value.dtype):
                raise ValueError(
                    _messages.payload_not_numeric(
                        functor, constructor, index, type(leaf).__name__
                    )
                )
            if column and value.shape != column[0].shape:
                raise ValueError(
                    _messages.payload_shape(
                        functor, constructor, index, value.shape, column[0].shape
                    )
                )
            column.append(value)
    stacked = [
        jnp.stack(column) if any(map(traced, column)) else np.stack(column)
        for column in columns
    ]
    return jax.tree.unflatten(first, stacked)


def _flatten(functor: str, constructor: str, index: int, row: Any) -> Any:
    """`jax.tree.flatten` of one payload; a payload that contains itself is named.

    >>> cycle: list = [1.0]
    >>> cycle.append(cycle)
    >>> _flatten("TreeF", "Leaf", 3, cycle)
    Traceback (most recent call last):
    ...
    ValueError: TreeF.Leaf's payload 3 contains itself (a list or dict holding it...
    """
    try:
        return jax.tree.flatten(row)
    except (RecursionError, SystemError) as error:  # JAX wraps the RecursionError
        if isinstance(error, SystemError) and not isinstance(
            error.__cause__, RecursionError
        ):
            raise
        raise ValueError(_messages.payload_cycle(functor, constructor, index)) from None


def traced(value: Any) -> bool:
    """Whether `value` is traced (a term's payload inside `jax.jit` or `grad`)."""
    return isinstance(value, jax.core.Tracer)


def tree_table(
    functor: Functor,
    terms: Any,
    *,
    forest: bool = False,
    max_depth: int | None = None,
    strategy: str = "auto",
    buckets: Sequence[int] | str | None = DEFAULT_BUCKETS,
) -> NodeTable:
    """Store a term (or a forest of terms) of `functor` as a `NodeTable`.

    A term is a `cdl.Layer` whose children are terms. For `cdl.TreeF` plain nested
    tuples also work: a pair is a ``Node``, anything else a ``Leaf`` payload.
    A term met twice (the same Python object) is stored once.

    **Arguments:** `functor`; `terms`, one term, or a sequence of terms with
    ``forest=True``; `max_depth`; `strategy` and `buckets` (see
    `NodeTable.from_arrays`: by default the capacity comes from a few buckets, so
    that a jitted fold compiles once for forests of similar sizes).

    **Returns:** the `NodeTable`; its roots are one index, or one per term of a
    forest. Raises `ValueError` for a term that contains itself, a wrong number of
    children, or a depth over `max_depth`.

    >>> import cdl
    >>> cdl.tree_table(cdl.TreeF, [(1.0, 2.0), 3.0], forest=True).roots.shape
    (2,)
    >>> cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0), max_depth=1)
    Traceback (most recent call last):
    ...
    ValueError: the structure has depth 2, more than the declared bound 1.
    """
    if strategy not in STRATEGIES:
        raise ValueError(_messages.UNKNOWN_STRATEGY.format(strategy))
    tops = list(terms) if forest else [terms]
    if not tops:  # an empty forest, as the binary reader gives one
        width = max((c.arity for c in functor.constructors), default=0)
        none = np.zeros(0, np.int64)
        blank = {c.name: np.zeros(0, np.float32) for c in functor.constructors}
        return _build(
            functor, none, np.zeros((0, width), np.int64), none, none, blank, none,
            strategy, _capacity(0, buckets),
        )  # fmt: skip
    with no_collection():
        walked = _walk_pairs(tops) if functor.names == ("Leaf", "Node") else None
        if walked is not None:
            marks, leaves = walked
            return binary_table(
                functor, marks, leaves, forest=forest, max_depth=max_depth,
                strategy=strategy, buckets=buckets,
            )  # fmt: skip
        tags_list, kids_list, payloads, root_list = _walk_terms(functor, tops)
    arrays = {
        name: stack_payloads(functor.name, name, rows)
        for name, rows in payloads.items()
        if rows
    }
    for c in functor.constructors:
        if c.payload and c.name not in arrays:
            arrays[c.name] = np.zeros((0,), np.float32)
    width = max((c.arity for c in functor.constructors), default=0)
    return NodeTable.from_arrays(
        functor,
        np.asarray(tags_list, np.int64),
        np.asarray(kids_list, np.int64).reshape(len(tags_list), width),
        arrays,
        root_list if forest else root_list[0],
        max_depth=max_depth,
        strategy=strategy,
        buckets=buckets,
    )


_READY: Final = object()
"""Marks, on a walk's stack, a pair whose two children are done."""


def _walk_pairs(tops: list[Any]) -> tuple[np.ndarray, Any] | None:
    """Nested pairs (``TreeF`` terms as tuples) as arrays, in one pass.

    The pass only lists the nodes in post-order (children first, left to right,
    tree after tree), leaves ``0`` and pairs ``1``; `post_order` finds children,
    heights and sizes with numpy. Returns None at the first `Layer` (a term that
    may be shared: `_walk_terms` reads those).
    """
    marks: list[int] = []
    leaves: list[Any] = []
    for top in tops:
        stack = [top]
        while stack:
            t = stack.pop()
            if t is _READY:
                marks.append(1)
            elif type(t) is tuple and len(t) == 2:
                stack += (_READY, t[1], t[0])
            elif isinstance(t, Layer):
                return None
            elif isinstance(t, tuple) and len(t) == 2:
                stack += (_READY, t[1], t[0])
            else:
                marks.append(0)
                leaves.append(t)
    return np.asarray(marks, np.int64), _leaf_payloads(leaves)


_PLAIN: Final = (int, float, complex, np.number, np.bool_, np.ndarray, jax.Array)
"""What a leaf's payload may be for `_leaf_payloads` to stack it in one call."""


def _leaf_payloads(leaves: list[Any]) -> Any:
    """The leaves' payloads stacked, as fast as numpy where it can.

    Numbers and arrays of one shape take one call; anything else (pytrees, or bad
    payloads to be named) goes through `stack_payloads`.
    """
    if not leaves:
        return np.zeros((0,), np.float32)
    if not all(issubclass(kind, _PLAIN) for kind in set(map(type, leaves))) or any(
        map(traced, leaves)
    ):  # a pytree payload (a tuple, a dict) stays a pytree, as in a `Layer`
        return stack_payloads("TreeF", "Leaf", leaves)
    try:
        payload = np.asarray(leaves)
    except ValueError:  # ragged: let stack_payloads name the payload
        payload = None
    if payload is not None and numeric(payload.dtype):
        return payload
    return stack_payloads("TreeF", "Leaf", leaves)


def numeric(dtype: np.dtype[Any]) -> bool:
    """Whether `dtype` holds numbers: NumPy's, and ml_dtypes' (``bfloat16``).

    >>> import jax.numpy as jnp
    >>> numeric(np.dtype(jnp.bfloat16)), numeric(np.dtype(object))
    (True, False)
    """
    return dtype.kind in "biufc" or bool(jnp.issubdtype(dtype, jnp.number))


def binary_table(
    functor: Functor, marks: np.ndarray, leaves: np.ndarray, *, forest: bool,
    max_depth: int | None, strategy: str, buckets: Sequence[int] | str | None,
) -> NodeTable:  # fmt: skip
    """The table of binary trees listed in post-order (see `post_order`).

    `functor` has a ``Leaf`` with a payload and a ``Node`` of two children;
    `leaves` are the leaves' payloads in order.
    """
    tags, kids, heights, sizes, roots = post_order(marks)
    depth = int(heights.max(initial=0))
    if max_depth is not None and depth > max_depth:
        raise ValueError(_messages.too_deep(depth, max_depth))
    return _build(
        functor, tags, kids, heights, sizes, {"Leaf": leaves},
        roots if forest else roots[0], strategy, _capacity(len(tags), buckets),
    )  # fmt: skip


def post_order(marks: np.ndarray) -> tuple[np.ndarray, ...]:
    """A forest of binary trees listed in post-order, as a table's arrays.

    **Arguments:** `marks`, per node ``0`` for a leaf and ``1`` for a node whose
    two children are the two subtrees listed just before it (reverse Polish
    notation; trees one after another).

    **Returns:** ``(tags, children [n, 2], heights, sizes, roots)``, all by
    numpy, without a loop over nodes: a node's left child is the last entry
    before its right child (the entry just before it) that left the stack of
    finished subtrees as high as the node does, and its subtree starts after the
    last entry that left the stack one lower.
    """
    n = len(marks)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return empty, np.zeros((0, 2), np.int64), empty, empty, empty
    pos = np.arange(n, dtype=np.int64)
    after = np.cumsum(1 - 2 * marks)  # subtrees on the stack after each entry
    order = np.argsort(after, kind="stable")
    keys = after[order] * (n + 1) + order

    def last_before(value: np.ndarray, limit: np.ndarray) -> np.ndarray:
        at = np.searchsorted(keys, value * (n + 1) + limit) - 1
        found = order[np.maximum(at, 0)]
        return np.where((at >= 0) & (after[found] == value), found, -1)

    inner = np.flatnonzero(marks)
    kids = np.full((n, 2), -1, np.int64)
    kids[inner, 1] = inner - 1
    kids[inner, 0] = last_before(after[inner], inner - 1)
    start = last_before(after - 1, pos) + 1
    sizes = pos - start + 1
    # Each node's depth: how many subtrees [start, node) of inner nodes hold it.
    depth = np.cumsum(
        np.bincount(start[inner], minlength=n) - np.bincount(inner, minlength=n)
    )
    heights = _range_max(depth, start, pos) - depth
    return marks, kids, heights, sizes, np.flatnonzero(depth == 0)


def _range_max(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``values[lo[i] : hi[i] + 1].max()`` for every `i` (a sparse table)."""
    n = len(values)
    table = [values]
    while 1 << len(table) <= n:
        prev, w = table[-1], 1 << (len(table) - 1)
        table.append(np.maximum(prev[:-w], prev[w:]))
    full = np.zeros((len(table), n), values.dtype)
    for k, level in enumerate(table):
        full[k, : len(level)] = level
    k = np.frexp(hi - lo + 1)[1] - 1
    out: np.ndarray = np.maximum(full[k, lo], full[k, hi - (1 << k) + 1])
    return out


def _layer_of(functor: Functor, term: Any) -> Layer[Any]:
    """`term` as a layer: a `Layer`, or for ``TreeF`` a pair or a payload."""
    if isinstance(term, Layer):
        if term.constructor not in functor.names:
            functor.constructor(term.constructor)  # raises, naming the known ones
        return term
    if functor.names == ("Leaf", "Node"):
        if isinstance(term, tuple) and len(term) == 2:
            return Layer("Node", None, term)
        return Layer("Leaf", term, ())
    raise TypeError(_messages.not_a_term(functor.name, term))


def _walk_terms(
    functor: Functor, tops: list[Any]
) -> tuple[list[int], list[list[int]], dict[str, list[Any]], list[int]]:
    """Terms (`Layer`s, shared or not) as tags, children, payloads and roots.

    Children are pushed after their parent and stored before it. Only a `Layer`
    met twice is one shared node: payloads and pairs are values (Python shares
    equal small numbers and constant tuples).
    """
    tags: list[int] = []
    kids: list[list[int]] = []
    payloads: dict[str, list[Any]] = {c.name: [] for c in functor.constructors}
    seen: dict[int, int] = {}
    on_path: set[int] = set()
    width = max((c.arity for c in functor.constructors), default=0)
    cons = {c.name: (t, c) for t, c in enumerate(functor.constructors)}
    roots: list[int] = []
    for top in tops:
        # (term, its layer once expanded)
        stack: list[tuple[Any, Layer[Any] | None]] = [(top, None)]
        done: list[int] = []
        while stack:
            term, layer = stack.pop()
            shared = isinstance(term, Layer)
            if shared and id(term) in seen:
                done.append(seen[id(term)])
                continue
            if layer is not None:
                t, c = cons[layer.constructor]
                n = len(layer.children)
                row = done[len(done) - n :] if n else []
                del done[len(done) - n :]
                tags.append(t)
                kids.append(row + [-1] * (width - n))
                if c.payload and layer.payload is None:
                    raise ValueError(_messages.payload_none(functor.name, c.name))
                if c.payload:
                    payloads[c.name].append(layer.payload)
                elif layer.payload is not None:
                    raise ValueError(
                        _messages.payload_not_carried(
                            functor.name, c.name, layer.payload
                        )
                    )
                done.append(len(tags) - 1)
                if shared:
                    on_path.discard(id(term))
                    seen[id(term)] = len(tags) - 1
                continue
            layer = _layer_of(functor, term)
            c = cons[layer.constructor][1]
            n = len(layer.children)
            if n != c.arity and (n > c.arity or not c.variadic):
                raise ValueError(
                    _messages.wrong_arity(functor.name, c.name, c.arity, n)
                )
            if shared:
                on_path.add(id(term))
            stack.append((term, layer))
            for child in reversed(layer.children):
                if id(child) in on_path:
                    raise ValueError(_messages.cycle(len(tags)))
                stack.append((child, None))
        roots.append(done[-1])
    return tags, kids, payloads, roots


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a table is read.

    Reading a large forest allocates many small objects and no cycles; the
    collector would otherwise sweep every live object again and again.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Algebra(Para[Layer[_A], _A], Generic[_A]):
    """An algebra ``F(A) → A`` of a polynomial functor: one cell per constructor.

    Each cell is a `cdl.Para` called on ``(payload, children)``: `children` is a
    tuple of carriers (for a variadic constructor, a pair ``(stacked, mask)`` of the
    children's carriers stacked along a new first axis and a boolean mask). A
    constructor without a payload gets an empty array ``f32[0]`` as its payload.

    **Arguments:** `functor`; one keyword per constructor, its cell (a `cdl.Para`
    or a plain function), or instead one function `match` of layers that matches
    on the constructors (``case Leaf(x): …``, ``case Node(l, r): …``; see
    `cdl.schemes.pattern`), traced once per constructor; `carrier`, an example
    carrier value, needed only when no constructor is nullary and the carrier
    differs from the payload's shapes (a rose tree's cell that sums its children's
    scalars keeps its payload's scalar, and is folded without one).

    **Returns:** the algebra, a morphism from a `cdl.Layer` of carriers to a carrier.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Succ(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""]]],
    ...                     Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[1][0] + 1
    >>> class Zero(cdl.Para[tuple[Float[Array, "0"], tuple[()]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return jnp.float32(0.0)
    >>> alg = cdl.Algebra(cdl.NatF, Zero=Zero(), Succ=Succ())
    >>> alg(cdl.Layer("Succ", None, (jnp.float32(2.0),)))
    Array(3., dtype=float32)
    >>> cdl.Algebra(cdl.NatF, Zero=cdl.Fst())
    Traceback (most recent call last):
    ...
    ValueError: an algebra of NatF needs one cell per constructor; missing ['Succ'].
    """

    functor: Functor = eqx.field(static=True)
    _cells: dict[str, Para[Any, _A]]
    carrier: Any
    _ties: "Ties" = eqx.field(static=True)

    def __init__(
        self,
        functor: Functor,
        match: Callable[[Layer[_A]], _A] | None = None,
        *,
        carrier: Any = None,
        **cells: Para[Any, _A] | Callable[[Any], _A],
    ) -> None:
        if not isinstance(functor, Functor):
            raise TypeError(_messages.not_a_functor("an Algebra", functor))
        if match is not None:
            if cells:
                raise TypeError(_messages.match_and_cells(functor.name))
            cells = dict(by_constructor(functor, match))
        missing = [name for name in functor.names if name not in cells]
        if missing:
            raise ValueError(_messages.missing_cell(functor.name, missing))
        for name in cells:
            functor.constructor(name)
        self.functor = functor
        made = {k: as_cell(v, f"the cell of {k}") for k, v in cells.items()}
        for name, cell in made.items():
            domain = cell.signature()[0]
            if isinstance(domain, TensorSpace):
                raise TypeError(
                    _messages.cell_of_a_tensor(functor.name, name, cell.label, domain)
                )
        self._cells, self._ties = _untie(made)
        self.carrier = carrier

    @property
    def cells(self) -> dict[str, Para[Any, _A]]:
        """Each constructor's cell (a layer two cells share is one in both)."""
        if not self._ties:
            return self._cells
        return _tie(self._cells, self._ties)

    def untied(self) -> "Algebra[_A]":
        """The algebra with a copy of each shared array in every cell that uses it.

        An algebra stores an array that several cells use once (so that it is
        trained, saved and loaded as one); a fold differentiates each cell
        apart on this form, and the cotangents of the copies add up in the one.
        """
        if not self._ties:
            return self
        out: Algebra[_A] = object.__new__(type(self))
        for field in dataclasses.fields(self):
            object.__setattr__(out, field.name, getattr(self, field.name))
        object.__setattr__(out, "_cells", self.cells)
        object.__setattr__(out, "_ties", ())
        return out

    def signature(self) -> tuple[Space, Space]:
        """``F(A) → A``; `A` is left open (unchecked pytrees)."""
        return SpaceVar(self.functor.name), SpaceVar("A")

    def __hash__(self) -> int:
        """The hash of the functor, the cells and the carrier.

        Equinox hashes a module by its fields; the cells' dict is hashed by its
        items, so that a fold of plain functions is a function ``jax.jit`` takes.
        A cell holding arrays stays unhashable, as any Equinox module with
        arrays; use `eqx.filter_jit`.

        >>> import jax, jax.numpy as jnp, cdl
        >>> add = cdl.Algebra(
        ...     cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0] + p[1][1])
        >>> table = cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0)))
        >>> jax.jit(cdl.cata(add))(table)
        Array(6., dtype=float32)
        """
        return hash((self.functor, tuple(self.cells.items()), self.carrier))

    @property
    def label(self) -> str:
        """``Algebra(F; cells)``."""
        cells = ", ".join(f"{k}={v.label}" for k, v in self.cells.items())
        return f"Algebra({self.functor.name}; {cells})"

    def __call__(self, layer: Layer[_A]) -> _A:
        """Apply the constructor's cell to the layer's payload and children."""
        c = self.functor.constructor(layer.constructor)
        payload = jnp.zeros(0) if not c.payload else layer.payload
        children: Any = tuple(layer.children)
        if c.variadic:
            children = _stack_children(children, c.arity, self.carrier)
        return self.cells[c.name]((payload, children))


def _leaves(tree: Any) -> tuple[list[Any], Any]:
    """`tree`'s leaves, a `None` counted as one (a left-out array keeps its place)."""
    return jax.tree.flatten(tree, is_leaf=lambda x: x is None)


Ties = tuple[tuple[str, tuple[tuple[int, str, int], ...]], ...]
"""Per cell with arrays met in an earlier cell: (leaf index, earlier cell, index)."""


def _untie(cells: dict[str, Any]) -> tuple[dict[str, Any], Ties]:
    """The cells with each array met before in them left out, and where it was met.

    An array is met twice when two cells hold one layer: the cells of a
    ``match`` (one per constructor, each holding the function's layers), or one
    layer given as the cell of two constructors. Kept twice, it would be two
    parameters, each trained by its own constructor's nodes alone.
    """
    first: dict[int, tuple[str, int]] = {}
    stored: dict[str, Any] = {}
    ties = []
    for name, cell in cells.items():
        leaves, treedef = _leaves(cell)
        tied = []
        for i, leaf in enumerate(leaves):
            if not eqx.is_array(leaf):
                continue
            seen = first.setdefault(id(leaf), (name, i))
            if seen != (name, i):
                tied.append((i, *seen))
                leaves[i] = None
        stored[name] = jax.tree.unflatten(treedef, leaves) if tied else cell
        if tied:
            ties.append((name, tuple(tied)))
    return stored, tuple(ties)


def _tie(stored: dict[str, Any], ties: Ties) -> dict[str, Any]:
    """The cells with each array left out by `_untie` put back where it was met.

    The cells may come in another order than they were met in: a dict that has
    been through a JAX transform comes back with its keys sorted.
    """
    where = dict(ties)
    flat = {name: _leaves(cell) for name, cell in stored.items()}
    out: dict[str, Any] = {}
    for name, cell in stored.items():
        leaves, treedef = flat[name]
        for i, source, j in where.get(name, ()):
            leaves[i] = flat[source][0][j]
        out[name] = jax.tree.unflatten(treedef, leaves) if name in where else cell
    return out


def _stack_children(children: tuple[Any, ...], arity: int, carrier: Any) -> Any:
    template = children[0] if children else carrier
    if template is None:
        raise ValueError(_messages.empty_variadic_needs_carrier())
    rows = list(children) + [jax.tree.map(jnp.zeros_like, template)] * (
        arity - len(children)
    )
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *rows)
    return stacked, jnp.arange(arity) < len(children)


def settle_carrier(functor: str, template: Any, outs: dict[str, Any]) -> Any:
    """The carrier every cell returns: `template`, or it widened to their dtypes.

    A cell returning another structure or shape than the carrier is a
    `TypeError` naming it; one returning a wider dtype (a float where a leaf
    gave an int) widens the carrier, as a list fold's initial value is widened.

    >>> import jax, jax.numpy as jnp
    >>> i, f = (jax.ShapeDtypeStruct((3,), d) for d in (jnp.int32, jnp.float32))
    >>> settle_carrier("TreeF", i, {"Leaf": i, "Node": f}).dtype
    dtype('float32')
    >>> wide = jax.ShapeDtypeStruct((6,), f.dtype)
    >>> settle_carrier("TreeF", f, {"Leaf": f, "Node": wide})
    Traceback (most recent call last):
    ...
    TypeError: an algebra of TreeF: the cell of Node returns f32[6], but the ...
    """
    want = jax.tree.structure(template)
    leaves = jax.tree.leaves(template)
    dtypes = [leaf.dtype for leaf in leaves]
    for name, out in outs.items():
        got = jax.tree.leaves(out)
        if str(jax.tree.structure(out)) != str(want) or any(
            a.shape != b.shape for a, b in zip(got, leaves, strict=True)
        ):
            raise TypeError(
                _messages.cell_off_carrier(
                    functor, name, describe(out), describe(template)
                )
                + _first_difference(out, template)
            )
        dtypes = [
            jnp.promote_types(d, a.dtype) for d, a in zip(dtypes, got, strict=True)
        ]
    if all(d == leaf.dtype for d, leaf in zip(dtypes, leaves, strict=True)):
        return template
    widened = [struct(leaf.shape, d) for leaf, d in zip(leaves, dtypes, strict=True)]
    return jax.tree.unflatten(want, widened)


def _first_difference(out: Any, carrier: Any) -> str:
    """Where two pytrees of one structure first differ in shape, as a sentence.

    Empty when the structures differ (their spaces, printed, show it), or when
    each is one leaf.
    """
    if str(jax.tree.structure(out)) != str(jax.tree.structure(carrier)):
        return ""
    pairs = zip(
        jax.tree_util.tree_leaves_with_path(out),
        jax.tree.leaves(carrier),
        strict=True,
    )
    for (path, a), b in pairs:
        if a.shape != b.shape and path:
            return _messages.carrier_differs_at(
                jax.tree_util.keystr(path), space_of(a), space_of(b)
            )
    return ""


def carrier_template(
    algebra: Algebra[Any], table: NodeTable, subtrees: bool = False
) -> Any:
    """The shapes and dtypes of the algebra's carrier.

    Given as `carrier`, or what a nullary constructor's cell returns. A functor
    whose only leaves are nodes of a variadic constructor with no children (a
    rose tree's) reads it from that cell: it is the carrier whose children give
    back a carrier of the same shapes, sought from the cell's declared result,
    then from the payload's shapes.
    """
    if algebra.carrier is not None:
        return eqx.filter_eval_shape(lambda c: c, algebra.carrier)
    for c in algebra.functor.constructors:
        if c.arity == 0:
            payload = jax.tree.map(lambda p: p[0], table.payloads[c.name])
            cell = algebra.cells[c.name]
            return eqx.filter_eval_shape(lambda x, cell=cell: cell(x), (payload, ()))
    variadic = [c for c in algebra.functor.constructors if c.variadic]
    failure: Exception | None = None
    for c in variadic:
        found, failure = _variadic_carrier(algebra, c, table, subtrees)
        if found is not None:
            return found
    error = ValueError(_messages.no_carrier(algebra.functor.name, bool(variadic)))
    raise error from failure


def layout(value: Any) -> tuple[str, list[tuple[Any, Any]]]:
    """A pytree's structure and its leaves' shapes and dtypes."""
    leaves, structure = jax.tree.flatten(value)
    return str(structure), [(a.shape, a.dtype) for a in leaves]


def _variadic_carrier(
    algebra: Algebra[Any], c: Constructor, table: NodeTable, subtrees: bool
) -> tuple[Any, Exception | None]:
    """The carrier a variadic constructor's cell keeps, or ``None`` if none found.

    Tried from the cell's declared result (a `cdl.Para` whose codomain has known
    sizes), then from the payload's shapes, each then from what the cell
    returned, a few times: a carrier is accepted only when the cell returns its
    own shapes. Also the first error the cell raised on a guess, if any; a cell
    refusing its input (`SpaceError`) with its own declared carrier raises.
    """
    payload = jax.tree.map(lambda p: p[0], table.payloads[c.name])
    rows = jnp.asarray(table.rows.children[0, : c.arity])
    views = table if subtrees else None
    cell = algebra.cells[c.name]

    def run(guess: Any) -> Any:
        kids = jax.tree.map(lambda t: jnp.zeros((c.arity, *t.shape), t.dtype), guess)
        return cell(cell_input(c, payload, kids, rows, table.capacity, views))

    return kept_carrier(cell, payload, run, refuse_declared=True)


def kept_carrier(
    cell: Any, payload: Any, run: Callable[[Any], Any], *, refuse_declared: bool
) -> tuple[Any, Exception | None]:
    """The carrier ``run`` (the cell on children of a guessed carrier) returns as given.

    Guessed from the cell's declared result, then from the payload's shapes,
    each then from what the cell returned, a few times. Also the first error the
    cell raised on a guess, if any. With `refuse_declared`, a cell refusing its
    input (`SpaceError`) with its own declared carrier raises.
    """
    failure: Exception | None = None
    declared = declared_example(cell)
    first = [] if declared is None else [declared]
    for guess in [*first, jax.eval_shape(lambda: payload)]:
        for _ in range(3):
            try:
                out = eqx.filter_eval_shape(run, guess)
            except Exception as error:  # the guess is not a carrier the cell takes
                if refuse_declared and guess is declared:
                    if isinstance(error, SpaceError):
                        raise  # the cell refuses its own declared carrier
                failure = failure or error
                break
            if layout(out) == layout(guess):
                return out, None
            guess = out
    return None, failure


def declared_example(cell: Any) -> Any:
    """Shapes and dtypes of the points of a cell's declared codomain, or ``None``.

    Only for a `cdl.Para` whose codomain has known sizes.
    """
    if not isinstance(cell, Para):
        return None
    try:
        _, cod = cell.signature()
    except Exception:  # a signature needing what the cell cannot know alone
        return None
    return example_of(cod) if is_concrete(cod) else None


class Subtree(eqx.Module):
    """A view of a node of a `NodeTable` (or of several, with `row` an array).

    `cdl.para` over a table hands each cell its children as ``(Subtree, result)``
    pairs. A view reads the structure, not a copy of it; its payloads come
    without gradient (the gradient with respect to a node's payload flows through
    that node's own cell).

    **Arguments:** `table`; `row`, rows of its results buffer.

    >>> import cdl
    >>> t = cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0)))
    >>> root = cdl.Subtree(t, t.roots)
    >>> right = root.child(1)
    >>> int(right.size), bool(right.is_("Node")), float(right.child(0).payload("Leaf"))
    (3, True, 2.0)
    """

    table: NodeTable
    row: Int[Array, "*rows"]

    @property
    def tag(self) -> Int[Array, "*rows"]:
        """The constructor's index in ``functor.names`` (-1 where there is no node)."""
        return self.table.rows.tags[self.row]

    def is_(self, name: str) -> Array:
        """Whether the node was built by the constructor called `name`."""
        return self.tag == self.table.functor.tag(name)

    @property
    def height(self) -> Int[Array, "*rows"]:
        """The node's height (0 for a node without children)."""
        return self.table.rows.heights[self.row]

    @property
    def size(self) -> Int[Array, "*rows"]:
        """The number of nodes in the subtree (0 where there is no node)."""
        return self.table.rows.sizes[self.row]

    def payload(self, name: str) -> Any:
        """The payload, read as if the node were built by `name` (check `is_`)."""
        rows = self.table.rows.slots[self.row]
        return jax.lax.stop_gradient(
            jax.tree.map(lambda p: p[rows], self.table.payloads[name])
        )

    def child(self, j: int) -> "Subtree":
        """The `j`-th child; where there is none, a view with tag -1."""
        return Subtree(self.table, self.table.rows.children[self.row, j])


def cell_input(
    c: Constructor, pay: Any, kids: Any, rows: Array, size: int, subtrees: Any
) -> Any:
    """A node's cell input ``(payload, children)`` from its payload and children.

    With `subtrees`, each child comes as a pair ``(Subtree, carrier)``.
    """
    if c.variadic:
        stacked = kids if subtrees is None else (Subtree(subtrees, rows), kids)
        return pay, (stacked, rows < size)
    children = tuple(jax.tree.map(lambda t, j=j: t[j], kids) for j in range(c.arity))
    if subtrees is not None:
        children = tuple(
            (Subtree(subtrees, rows[j]), x) for j, x in enumerate(children)
        )
    return pay, children


def check_table(scheme: str, functor: Functor, table: Any) -> None:
    """Raise `TypeError` unless `table` is a `NodeTable` of `functor`."""
    if not isinstance(table, NodeTable):
        raise TypeError(_messages.not_a_table(scheme, table))
    if table.functor != functor:
        raise TypeError(
            _messages.wrong_functor(scheme, functor.name, table.functor.name)
        )
