"""Recursive data as node tables, and `cata` over polynomial functors, level by level.

A finite term of a polynomial functor (a tree, a forest, an expression) is stored as a
`NodeTable`: one row per node, with its constructor, its payload and the indices of its
children. The fold evaluates all nodes of one height at once (each constructor's cell
`vmap`ped over them), so its cost grows with the depth, not with the number of nodes;
runs of levels of the same padded width share one `jax.lax.scan`, so a degenerate
(list-like) tree becomes a node-by-node scan. The gradient has its own rule, a reverse
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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.extend.core as jcore
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int

from .._para import Para
from .._space import Space, SpaceVar
from . import _messages
from ._functor import Constructor, Functor, Layer

if TYPE_CHECKING:
    from ._unfold import Unfolded

_A = TypeVar("_A")

_Level = dict[str, tuple[Array, Array, Array, Array]]
"""Per constructor: block starts and node counts ``[L]``, children ``[L, W, k]``
(buffer rows; ``capacity`` marks none) and payload rows ``[L, W]``."""


class NodeTable(eqx.Module):
    """A tree, or a forest, of a polynomial functor stored as arrays.

    Build one with `tree_table` (from nested Python terms) or `NodeTable.from_arrays`
    (from constructor tags and child indices). Nodes are grouped by height into
    *levels*; each level lists, per constructor, the nodes to evaluate, their
    children and their payload rows.

    **Arguments:** built by the two functions above.

    >>> import cdl
    >>> t = cdl.tree_table(cdl.TreeF, (1.0, (2.0, 3.0)))
    >>> t.size, t.depth, t.functor.name
    (5, 2, 'TreeF')
    """

    functor: Functor = eqx.field(static=True)
    size: int = eqx.field(static=True)
    depth: int = eqx.field(static=True)
    capacity: int = eqx.field(static=True)
    payloads: dict[str, Array]
    bands: tuple[_Level, ...]
    roots: Int[Array, "*r"]
    """Rows of the results buffer holding the roots (not node indices)."""
    rows: "Rows"
    """What each row of the results buffer holds: constructor, children, sizes."""
    nodes: Int[Array, " n"]
    """The row of the results buffer holding each node, in node order."""

    @staticmethod
    def from_arrays(
        functor: Functor,
        tags: Sequence[int] | np.ndarray,
        children: Sequence[Sequence[int]] | np.ndarray,
        payloads: dict[str, Any],
        roots: int | Sequence[int],
        *,
        max_depth: int | None = None,
        strategy: str = "levels",
    ) -> "NodeTable":
        """Build a table from per-node constructor tags and child indices.

        **Arguments:**

        - `functor`: the `Functor`.
        - `tags`: ``[n]`` constructor indices (positions in ``functor.names``).
        - `children`: ``[n, k]`` child indices, ``-1`` where a node has fewer
          children than `k`.
        - `payloads`: for each constructor with a payload, an array whose rows are
          the payloads of its nodes, in node order.
        - `roots`: the root (an int) or roots (a sequence: a forest).
        - `max_depth`: raise `ValueError` for a deeper structure.
        - `strategy`: ``"levels"`` (all nodes of one height at once; the default)
          or ``"nodes"`` (one node per step, in topological order).

        **Returns:** the `NodeTable`; raises `ValueError` for a child out of range,
        a cycle, a wrong number of children, or a depth over `max_depth`.

        >>> import numpy as np, cdl
        >>> cdl.NodeTable.from_arrays(cdl.TreeF, [0, 0, 1], [[-1, -1], [-1, -1],
        ...     [0, 2]], {"Leaf": np.ones(2)}, 2)
        Traceback (most recent call last):
        ...
        ValueError: the structure contains itself (cycle through node 2).
        """
        tag_arr = np.asarray(tags, np.int64).reshape(-1)
        n = len(tag_arr)
        kids = np.asarray(children, np.int64).reshape(n, -1)
        for node, row in enumerate(kids):
            for child in row:
                if child != -1 and not 0 <= child < n:
                    raise ValueError(_messages.child_out_of_range(node, child, n))
        for node in range(n):
            c = functor.constructors[tag_arr[node]]
            count = int((kids[node] != -1).sum())
            if count > c.arity or (count != c.arity and not c.variadic):
                raise ValueError(
                    _messages.wrong_arity(functor.name, c.name, c.arity, count)
                )
        heights = _heights(kids)
        depth = int(heights.max(initial=0))
        if max_depth is not None and depth > max_depth:
            raise ValueError(_messages.too_deep(depth, max_depth))
        return _build(functor, tag_arr, kids, heights, payloads, roots, strategy)

    def __check_init__(self) -> None:
        if not isinstance(self.functor, Functor):
            raise TypeError(f"a NodeTable needs a Functor, not {self.functor!r}.")


class Rows(eqx.Module):
    """Per row of a `NodeTable`'s results buffer: the node stored there.

    Row ``capacity`` (the last) stands for "no node": its tag is -1.

    **Arguments:** `tags`, `slots` (payload row), `children` (rows of the
    children, ``capacity`` for none), `heights`, `sizes` (nodes below and at the
    row, a shared node counted once per use); all ``[capacity + 1, ...]``.

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


def _heights(kids: np.ndarray) -> np.ndarray:
    """Height of every node (leaves 0), by an iterative search that finds cycles."""
    n = len(kids)
    heights = np.full(n, -1, np.int64)
    on_path = np.zeros(n, bool)
    for start in range(n):
        if heights[start] >= 0:
            continue
        stack = [start]
        while stack:
            node = stack[-1]
            if not on_path[node]:
                on_path[node] = True
            pending = [c for c in kids[node] if c != -1 and heights[c] < 0]
            for c in pending:
                if on_path[c]:
                    raise ValueError(_messages.cycle(int(c)))
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            on_path[node] = False
            done = [heights[c] for c in kids[node] if c != -1]
            heights[node] = 1 + max(done) if done else 0
    return heights


def _padded(w: int) -> int:
    """`w` rounded up to a multiple of an eighth of the next power of two.

    Levels of similar widths then share shapes (and compiled code) while padding
    wastes at most an eighth of the work.
    """
    if w <= 8:
        return w
    grain = (1 << (w - 1).bit_length()) // 8
    return -(-w // grain) * grain


def _build(
    functor: Functor,
    tags: np.ndarray,
    kids: np.ndarray,
    heights: np.ndarray,
    payloads: dict[str, Any],
    roots: int | Sequence[int],
    strategy: str,
) -> NodeTable:
    n = len(tags)
    names = functor.names
    # Payload rows: the i-th node of constructor c (in node order) owns row i.
    slot = np.zeros(n, np.int64)
    counts = []
    for t in range(len(names)):
        mine = np.flatnonzero(tags == t)
        slot[mine] = np.arange(len(mine))
        counts.append(len(mine))
    stored: dict[str, Array] = {}
    for t, c in enumerate(functor.constructors):
        if c.payload:
            if c.name not in payloads:
                raise ValueError(
                    f"the nodes of {functor.name}.{c.name} carry a payload, "
                    f"but none was given for them."
                )
            rows = np.asarray(payloads[c.name])
            if rows.shape[:1] != (counts[t],):
                raise ValueError(
                    f"{functor.name}.{c.name} has {counts[t]} node(s) but "
                    f"{rows.shape[:1] and rows.shape[0]} payload row(s)."
                )
            if rows.dtype == np.float64:
                rows = rows.astype(np.float32)
        else:
            rows = np.zeros((counts[t], 0), np.float32)
        pad = np.zeros((1, *rows.shape[1:]), rows.dtype)
        stored[c.name] = jnp.asarray(np.concatenate([rows, pad]))
    width = kids.shape[1] if kids.size else 0
    if strategy == "levels":
        order = np.lexsort((np.arange(n), heights))
        level_of = heights[order]
    elif strategy == "nodes":
        order = np.lexsort((np.arange(n), heights))
        level_of = np.arange(n)
    else:
        raise ValueError(_messages.UNKNOWN_STRATEGY.format(strategy))
    n_levels = int(level_of.max(initial=-1)) + 1
    # members[level][tag] = nodes of that constructor at that level.
    members: list[list[list[int]]] = [[[] for _ in names] for _ in range(n_levels)]
    for node, level in zip(order, level_of, strict=True):
        members[level][tags[node]].append(int(node))
    keys = []
    for level in range(n_levels):
        if strategy == "nodes":
            keys.append(tuple(1 if counts[t] else 0 for t in range(len(names))))
        else:
            keys.append(tuple(_padded(len(m)) for m in members[level]))
    # Runs of levels with the same padded widths form a band (one scan). Each
    # (level, constructor) owns a contiguous block of rows of the results buffer,
    # so a level is written, and its cotangents read, as one slice.
    spans: list[tuple[int, int]] = []
    lo = 0
    while lo < n_levels:
        hi = lo
        while hi < n_levels and keys[hi] == keys[lo]:
            hi += 1
        spans.append((lo, hi))
        lo = hi
    position = np.zeros(n, np.int64)
    block_start: dict[tuple[int, int], int] = {}
    cursor = 0
    for lo, hi in spans:
        for level in range(lo, hi):
            for t in range(len(names)):
                w = keys[lo][t]
                if w == 0:
                    continue
                block_start[level, t] = cursor
                nodes = members[level][t]
                position[nodes] = cursor + np.arange(len(nodes))
                cursor += w
    capacity = cursor
    bands: list[_Level] = []
    for lo, hi in spans:
        band: _Level = {}
        for t, c in enumerate(functor.constructors):
            w = keys[lo][t]
            if w == 0:
                continue
            k = max(c.arity, 1)
            starts = np.zeros(hi - lo, np.int32)
            filled = np.zeros(hi - lo, np.int32)
            ch = np.full((hi - lo, w, k), capacity, np.int32)
            sl = np.full((hi - lo, w), counts[t], np.int32)
            for row, level in enumerate(range(lo, hi)):
                nodes = members[level][t]
                starts[row] = block_start[level, t]
                filled[row] = len(nodes)
                sl[row, : len(nodes)] = slot[nodes]
                if c.arity and nodes:
                    got = kids[nodes][:, : min(width, c.arity)]
                    mapped = np.where(got < 0, capacity, position[np.maximum(got, 0)])
                    ch[row, : len(nodes), : got.shape[1]] = mapped
            band[c.name] = tuple(jnp.asarray(a) for a in (starts, filled, ch, sl))  # type: ignore[assignment]
        bands.append(band)
    roots = position[np.asarray(roots, np.int64)]
    root_arr = jnp.asarray(np.asarray(roots, np.int32))
    depth = int(heights.max(initial=0))
    rows = _rows_of(tags, kids, heights, slot, position, capacity)
    nodes = jnp.asarray(position.astype(np.int32))
    return NodeTable(
        functor, n, depth, capacity, stored, tuple(bands), root_arr, rows, nodes
    )


def _rows_of(
    tags: np.ndarray,
    kids: np.ndarray,
    heights: np.ndarray,
    slot: np.ndarray,
    position: np.ndarray,
    capacity: int,
) -> Rows:
    n = len(tags)
    sizes = np.ones(n, np.int64)
    for node in np.argsort(heights, kind="stable"):
        sizes[node] += sum(sizes[c] for c in kids[node] if c != -1)
    k = max(kids.shape[1] if kids.ndim == 2 else 0, 1)
    out_tags = np.full(capacity + 1, -1, np.int32)
    out_slots = np.zeros(capacity + 1, np.int32)
    out_kids = np.full((capacity + 1, k), capacity, np.int32)
    out_heights = np.zeros(capacity + 1, np.int32)
    out_sizes = np.zeros(capacity + 1, np.int32)
    out_tags[position] = tags
    out_slots[position] = slot
    if n and kids.shape[1]:
        out_kids[position, : kids.shape[1]] = np.where(
            kids < 0, capacity, position[np.maximum(kids, 0)]
        )
    out_heights[position] = heights
    out_sizes[position] = sizes
    return Rows(
        *(
            jnp.asarray(a)
            for a in (out_tags, out_slots, out_kids, out_heights, out_sizes)
        )
    )


def tree_table(
    functor: Functor,
    terms: Any,
    *,
    forest: bool = False,
    max_depth: int | None = None,
    strategy: str = "levels",
) -> NodeTable:
    """Store a term (or a forest of terms) of `functor` as a `NodeTable`.

    A term is a `cdl.Layer` whose children are terms. For `cdl.TreeF` plain nested
    tuples also work: a pair is a ``Node``, anything else a ``Leaf`` payload.
    A term met twice (the same Python object) is stored once.

    **Arguments:** `functor`; `terms`, one term, or a sequence of terms with
    ``forest=True``; `max_depth`; `strategy` (see `NodeTable.from_arrays`).

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
    tops = list(terms) if forest else [terms]
    tags: list[int] = []
    kids: list[list[int]] = []
    payloads: dict[str, list[Any]] = {c.name: [] for c in functor.constructors}
    seen: dict[int, int] = {}
    on_path: set[int] = set()
    width = max((c.arity for c in functor.constructors), default=0)

    def layer_of(term: Any) -> Layer[Any]:
        if isinstance(term, Layer):
            return term
        if functor.names == ("Leaf", "Node"):
            if isinstance(term, tuple) and len(term) == 2:
                return Layer("Node", None, term)
            return Layer("Leaf", term, ())
        raise TypeError(
            f"a term of {functor.name} is a cdl.Layer, not {type(term).__name__}."
        )

    def visit(top: Any) -> int:
        stack: list[tuple[Any, bool]] = [(top, False)]
        while stack:
            term, expanded = stack.pop()
            key = id(term)
            if key in seen:
                continue
            layer = layer_of(term)
            if expanded:
                on_path.discard(key)
                row = [seen[id(child)] for child in layer.children]
                c = functor.constructor(layer.constructor)
                tags.append(functor.tag(c.name))
                kids.append(row + [-1] * (width - len(row)))
                if c.payload:
                    payloads[c.name].append(layer.payload)
                seen[key] = len(tags) - 1
                continue
            functor.check(layer)
            on_path.add(key)
            stack.append((term, True))
            for child in reversed(layer.children):
                if id(child) in on_path:
                    raise ValueError(_messages.cycle(len(tags)))
                stack.append((child, False))
        return seen[id(top)]

    roots = [visit(t) for t in tops]
    arrays = {name: np.asarray(rows) for name, rows in payloads.items() if rows}
    for c in functor.constructors:
        if c.payload and c.name not in arrays:
            arrays[c.name] = np.zeros((0,), np.float32)
    return NodeTable.from_arrays(
        functor,
        np.asarray(tags, np.int64),
        np.asarray(kids, np.int64).reshape(len(tags), width),
        arrays,
        roots if forest else roots[0],
        max_depth=max_depth,
        strategy=strategy,
    )


class Algebra(Para[Layer[_A], _A], Generic[_A]):
    """An algebra ``F(A) → A`` of a polynomial functor: one cell per constructor.

    Each cell is a `cdl.Para` called on ``(payload, children)``: `children` is a
    tuple of carriers (for a variadic constructor, a pair ``(stacked, mask)`` of the
    children's carriers stacked along a new first axis and a boolean mask). A
    constructor without a payload gets an empty array ``f32[0]`` as its payload.

    **Arguments:** `functor`; one keyword per constructor, its cell; `carrier`, an
    example carrier value, needed only when no constructor is nullary.

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
    cells: dict[str, Para[Any, _A]]
    carrier: Any

    def __init__(
        self, functor: Functor, carrier: Any = None, **cells: Para[Any, _A]
    ) -> None:
        missing = [name for name in functor.names if name not in cells]
        if missing:
            raise ValueError(_messages.missing_cell(functor.name, missing))
        for name in cells:
            functor.constructor(name)
        self.functor = functor
        self.cells = dict(cells)
        self.carrier = carrier

    def signature(self) -> tuple[Space, Space]:
        """``F(A) → A``; `A` is left open (unchecked pytrees)."""
        return SpaceVar(self.functor.name), SpaceVar("A")

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


def _stack_children(children: tuple[Any, ...], arity: int, carrier: Any) -> Any:
    template = children[0] if children else carrier
    if template is None:
        raise ValueError("an empty variadic node needs the algebra's `carrier`.")
    rows = list(children) + [jax.tree.map(jnp.zeros_like, template)] * (
        arity - len(children)
    )
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *rows)
    return stacked, jnp.arange(arity) < len(children)


def _carrier_template(algebra: Algebra[Any], table: NodeTable) -> Any:
    if algebra.carrier is not None:
        return eqx.filter_eval_shape(lambda c: c, algebra.carrier)
    for c in algebra.functor.constructors:
        if c.arity == 0:
            payload = jax.tree.map(lambda p: p[0], table.payloads[c.name])
            cell = algebra.cells[c.name]
            return eqx.filter_eval_shape(lambda x, cell=cell: cell(x), (payload, ()))
    raise ValueError(
        f"an algebra of {algebra.functor.name} has no nullary constructor to read "
        f"its carrier from: pass `carrier=` an example value."
    )


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


def _cell_input(
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


def _compute(
    algebra: Algebra[Any],
    name: str,
    pay: Any,
    kids: Any,
    child: Array,
    size: int,
    subtrees: NodeTable | None = None,
) -> Any:
    """Run one constructor's cell on gathered payload rows and children.

    With `subtrees`, each child comes as a pair ``(Subtree, carrier)``.
    """
    c = algebra.functor.constructor(name)
    cell = algebra.cells[name]

    def run(pay: Any, kids: Any, rows: Array) -> Any:
        return cell(_cell_input(c, pay, kids, rows, size, subtrees))

    return jax.vmap(run)(pay, kids, child)


def _apply(
    algebra: Algebra[Any],
    name: str,
    payloads: Any,
    buf: Any,
    child: Array,
    slot: Array,
    size: int,
    subtrees: NodeTable | None,
) -> Any:
    pay = jax.tree.map(lambda p: _rows(p, slot), payloads[name])
    kids = jax.tree.map(lambda b: _rows(b, child), buf)
    return _compute(algebra, name, pay, kids, child, size, subtrees)


def _rows(table: Array, index: Array) -> Array:
    """``table[index]``, by dynamic slicing for a level one node wide.

    Inside a node-by-node scan XLA runs a few dynamic slices faster than a gather.
    """
    if index.ndim and index.shape[0] == 1 and index.size <= 8:
        flat = index.reshape(-1)
        rows = [
            jax.lax.dynamic_index_in_dim(table, flat[j], keepdims=False)
            for j in range(flat.shape[0])
        ]
        return jnp.stack(rows).reshape(*index.shape, *table.shape[1:])
    return table[index]


_Hoist = Callable[[Any], list[Array]]
_Body = Callable[[list[Array], Any], Any]


class _Hoisted(Para[Any, Any]):
    """A cell whose work on its parameters alone is done once, before the fold.

    **Arguments:** `residuals`, what that work produced; `body`, the rest of the
    cell, a function of the residuals and the cell's input (see `_split`).
    """

    residuals: list[Array]
    body: _Body = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Layers to carriers (unchecked pytrees)."""
        return SpaceVar("F(A)"), SpaceVar("A")

    def __call__(self, x: Any) -> Any:
        """The cell on one input."""
        return self.body(self.residuals, x)


def _split(cell: Para[Any, Any], example: Any) -> tuple[_Hoist, _Body]:
    """Split ``cell(x)`` into ``body(hoist(params), x)``; `params`, the cell's arrays.

    `hoist` holds the operations that read the parameters alone (slices of
    stacked weights, transposes, casts). A fold calling the cell at every step of
    a scan would redo them at every step: XLA does not move slices out of its
    loops. Operations that enlarge their operands (broadcasts) stay in `body`,
    where XLA fuses them. `example` gives the shapes of `x`.
    """
    fixed, rest = eqx.partition(cell, eqx.is_inexact_array)
    fixed_leaves, fixed_def = jax.tree.flatten(fixed)
    x_def = jax.tree.structure(example)
    n = len(fixed_leaves)

    def flat(*leaves: Array) -> Any:
        f = jax.tree.unflatten(fixed_def, leaves[:n])
        return eqx.combine(f, rest)(jax.tree.unflatten(x_def, leaves[n:]))

    avals = [*jax.eval_shape(lambda: fixed_leaves), *jax.tree.leaves(example)]
    closed, out_shape = jax.make_jaxpr(flat, return_shape=True)(*avals)
    jaxpr = closed.jaxpr
    known = set(jaxpr.invars[:n])
    free = set(jaxpr.constvars)
    hoisted, kept = [], []
    for eqn in jaxpr.eqns:
        ins = [v for v in eqn.invars if isinstance(v, jcore.Var)]
        if (
            any(v in known for v in ins)
            and all(v in known or v in free for v in ins)
            and not eqn.effects
            and _size(eqn.outvars) <= _size(ins)
        ):
            hoisted.append(eqn)
            known.update(eqn.outvars)
        else:
            kept.append(eqn)
    if not hoisted:
        return (
            jax.tree.leaves,
            lambda r, x: eqx.combine(jax.tree.unflatten(fixed_def, r), rest)(x),
        )
    used = [v for e in kept for v in e.invars] + list(jaxpr.outvars)
    residuals = list(
        dict.fromkeys(v for v in used if isinstance(v, jcore.Var) and v in known)
    )
    first = jcore.Jaxpr(jaxpr.constvars, jaxpr.invars[:n], residuals, hoisted)
    second = jcore.Jaxpr(
        jaxpr.constvars,
        [*residuals, *jaxpr.invars[n:]],
        jaxpr.outvars,
        kept,
        jaxpr.effects,
    )
    hoist_fn = jcore.jaxpr_as_fun(jcore.ClosedJaxpr(first, closed.consts))
    body_fn = jcore.jaxpr_as_fun(jcore.ClosedJaxpr(second, closed.consts))
    out_def = jax.tree.structure(out_shape)

    def hoist(f: Any) -> list[Array]:
        return list(hoist_fn(*jax.tree.leaves(f)))

    def body(r: list[Array], x: Any) -> Any:
        return jax.tree.unflatten(out_def, body_fn(*r, *jax.tree.leaves(x)))

    return hoist, body


def _size(atoms: Sequence[Any]) -> int:
    return sum(int(np.prod(a.aval.shape)) for a in atoms)


def _example(
    algebra: Algebra[Any],
    name: str,
    table: NodeTable,
    template: Any,
    child: Array,
    views: NodeTable | None,
) -> Any:
    """The shapes of one node's cell input, for constructor `name`."""
    c = algebra.functor.constructor(name)

    def one() -> Any:
        rows = child.reshape(-1, child.shape[-1])[0]
        pay = jax.tree.map(lambda q: q[0], table.payloads[name])
        kids = jax.tree.map(
            lambda t: jnp.zeros((len(rows), *t.shape), t.dtype), template
        )
        return _cell_input(c, pay, kids, rows, table.capacity, views)

    return jax.eval_shape(one)


def _evaluate(
    algebra: Algebra[Any],
    table: NodeTable,
    *,
    subtrees: bool = False,
    every_node: bool = False,
) -> Any:
    """Fold every tree of `table` with `algebra`; with `subtrees`, as a para.

    The result is the carrier at every root, or with `every_node` at every node.
    """
    size = table.capacity
    out_rows = table.nodes if every_node else table.roots
    views = table if subtrees else None
    template = _carrier_template(algebra, table)
    params, static = eqx.partition(algebra, eqx.is_inexact_array)
    pay_diff, pay_static = eqx.partition(table.payloads, eqx.is_inexact_array)
    splits: dict[str, tuple[_Hoist, _Body]] = {}
    for band in table.bands:
        for name, (_, _, child, _) in band.items():
            if name not in splits:
                example = _example(algebra, name, table, template, child, views)
                splits[name] = _split(algebra.cells[name], example)

    def hoisted(residuals: dict[str, list[Array]]) -> Algebra[Any]:
        cells = {n: _Hoisted(r, splits[n][1]) for n, r in residuals.items()}
        out: Algebra[Any] = eqx.tree_at(
            lambda a: a.cells, static, {**static.cells, **cells}
        )
        return out

    def level_forward(alg: Algebra[Any], payloads: Any, buf: Any, level: _Level) -> Any:
        out = buf
        for name, (start, _, child, slot) in level.items():
            value = _apply(alg, name, payloads, buf, child, slot, size, views)
            out = jax.tree.map(
                lambda b, v, at=start: jax.lax.dynamic_update_slice_in_dim(
                    b, v.astype(b.dtype), at, axis=0
                ),
                out,
                value,
            )
        return out

    def forward(p: Any, pd: Any) -> Any:
        alg = hoisted({n: s[0](p.cells[n]) for n, s in splits.items()})
        payloads = eqx.combine(pd, pay_static)
        buf = jax.tree.map(lambda t: jnp.zeros((size + 1, *t.shape), t.dtype), template)
        for band in table.bands:
            levels = _levels(band)
            if levels == 1:
                buf = level_forward(
                    alg, payloads, buf, jax.tree.map(lambda a: a[0], band)
                )
            else:
                buf, _ = jax.lax.scan(
                    lambda b, lv: (level_forward(alg, payloads, b, lv), None), buf, band
                )
        return buf

    @jax.custom_vjp
    def run(p: Any, pd: Any) -> Any:
        return jax.tree.map(lambda b: b[out_rows], forward(p, pd))

    def run_fwd(p: Any, pd: Any) -> tuple[Any, Any]:
        buf = forward(p, pd)
        return jax.tree.map(lambda b: b[out_rows], buf), (p, pd, buf)

    def run_bwd(res: Any, g: Any) -> tuple[Any, Any]:
        p, pd, buf = res
        ct = jax.tree.map(lambda b, gi: jnp.zeros_like(b).at[out_rows].add(gi), buf, g)
        # The gradient flows to each cell's residuals, then once through its hoist.
        fixed, hoist_vjp, loose = {}, {}, {}
        for name, (hoist, _) in splits.items():
            fixed[name], hoist_vjp[name], loose[name] = jax.vjp(
                lambda cp, h=hoist: eqx.partition(h(cp), eqx.is_inexact_array),
                p.cells[name],
                has_aux=True,
            )
        dres = jax.tree.map(jnp.zeros_like, fixed)
        dpd = jax.tree.map(jnp.zeros_like, pd)

        def read(ct: Any, level: _Level) -> dict[str, Any]:
            """The cotangents of a level's rows (zero on padding)."""
            out = {}
            for name, (start, count, child, _) in level.items():
                width = child.shape[0]
                valid = jnp.arange(width) < count
                out[name] = jax.tree.map(
                    lambda t, v=valid, at=start, w=width: jnp.where(
                        v.reshape(-1, *[1] * (t.ndim - 1)),
                        jax.lax.dynamic_slice_in_dim(t, at, w, axis=0),
                        0,
                    ),
                    ct,
                )
            return out

        def level_backward(carry: Any, level: _Level, g: Any, ordered: bool) -> Any:
            ct, dres, dpd = carry
            for name, (_, _, child, slot) in level.items():
                rows = jax.tree.map(
                    lambda q, sl=slot: _rows(q, sl), eqx.combine(pd, pay_static)[name]
                )
                rows_d, rows_s = eqx.partition(rows, eqx.is_inexact_array)
                kids = jax.tree.map(lambda b, ch=child: _rows(b, ch), buf)

                def local(
                    fixed: Any,
                    rows_d: Any,
                    kids: Any,
                    name: str = name,
                    child: Array = child,
                    rows_s: Any = rows_s,
                ) -> Any:
                    alg = hoisted({name: eqx.combine(fixed, loose[name])})
                    pay = eqx.combine(rows_d, rows_s)
                    return _compute(alg, name, pay, kids, child, size, views)

                _, vjp = jax.vjp(local, fixed[name], rows_d, kids)
                dfixed, drows, dkids = vjp(g[name])
                dres = {**dres, name: jax.tree.map(jnp.add, dres[name], dfixed)}
                if any(x.size for x in jax.tree.leaves(drows)):
                    dpd = {
                        **dpd,
                        name: jax.tree.map(
                            lambda acc, d, sl=slot: acc.at[sl].add(d), dpd[name], drows
                        ),
                    }
                if ordered:
                    # Every use of the rows read from `ct` must come before `ct` is
                    # updated in place, or XLA copies the whole buffer: a
                    # zero-weighted sum of the other results orders them first.
                    after = sum(
                        (jnp.sum(x) for x in jax.tree.leaves((dres[name], drows))),
                        jnp.float32(0),
                    )
                    dkids = jax.tree.map(
                        lambda d, a=after: d + 0 * a.astype(d.dtype), dkids
                    )
                ct = jax.tree.map(lambda t, d, ch=child: t.at[ch].add(d), ct, dkids)
            return ct, dres, dpd

        carry = (ct, dres, dpd)
        for band in reversed(table.bands):
            last = jax.tree.map(lambda a: a[-1], band)
            if _levels(band) == 1:
                carry = level_backward(carry, last, read(carry[0], last), True)
                continue
            # Inside a scan, each step reads the next level's cotangents once its
            # own are added in, and hands them over in the carry: read at the
            # start of a step, they would be fused into every use, some placed
            # after the update, and XLA would copy `ct` at every step.
            earlier = jax.tree.map(lambda a: jnp.concatenate([a[:1], a[:-1]]), band)

            def step(c: Any, xs: tuple[_Level, _Level]) -> tuple[Any, None]:
                level, below = xs
                done = level_backward(c[:3], level, c[3], False)
                return (*done, read(done[0], below)), None

            out, _ = jax.lax.scan(
                step, (*carry, read(carry[0], last)), (band, earlier), reverse=True
            )
            carry = out[:3]
        _, dres, dpd = carry
        dcells = {
            name: jax.tree.map(jnp.zeros_like, cell) for name, cell in p.cells.items()
        }
        for name, vjp in hoist_vjp.items():
            (dcells[name],) = vjp(dres[name])
        dp = eqx.tree_at(lambda a: a.cells, jax.tree.map(jnp.zeros_like, p), dcells)
        return dp, dpd

    run.defvjp(run_fwd, run_bwd)
    return run(params, pay_diff)


def _levels(band: _Level) -> int:
    first = next(iter(band.values()))
    return int(first[0].shape[0])


def check_table(scheme: str, functor: Functor, table: Any) -> None:
    """Raise `TypeError` unless `table` is a `NodeTable` of `functor`."""
    if not isinstance(table, NodeTable):
        raise TypeError(_messages.not_a_table(scheme, table))
    if table.functor != functor:
        raise TypeError(
            _messages.wrong_functor(scheme, functor.name, table.functor.name)
        )


class TreeCata(Para[NodeTable, _A], Generic[_A]):
    """The catamorphism of an `Algebra`; built by `cdl.cata`.

    It folds a `NodeTable` (level by level, with its own gradient rule) or an
    `cdl.Unfolded` built under `jax.jit` by `cdl.ana` (one reverse scan over depth).
    """

    algebra: Algebra[_A]

    def signature(self) -> tuple[Space, Space]:
        """Node tables to carriers (unchecked pytrees)."""
        return SpaceVar("NodeTable"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``cata(<algebra>)``."""
        return f"cata({self.algebra.label})"

    def __call__(self, table: "NodeTable | Unfolded") -> _A:
        """Fold every tree of `table`; one carrier per root."""
        from ._unfold import Unfolded, fold

        if isinstance(table, Unfolded):
            return fold(self.algebra, table)
        check_table(self.label, self.algebra.functor, table)
        out: _A = _evaluate(self.algebra, table)
        return out
