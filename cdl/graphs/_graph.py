"""Graphs as typed flat tables: edge index lists, feature tables, batches, padding.

A `Graph` stores its edges as two index arrays (`senders`, `receivers`), optional
node and edge feature tables with one row per node and per edge, and per-graph
counts `n_node`, `n_edge`, so that a batch of graphs of different sizes is one
graph whose components never touch (the layout of jraph's ``GraphsTuple``).
Batching and unbatching are inverse:

>>> import jax.numpy as jnp, cdl
>>> g = cdl.graphs.Graph.from_edge_list([(0, 1), (1, 2)], 3)
>>> h = cdl.graphs.Graph.from_edge_list([(1, 0)], 2)
>>> b = cdl.graphs.batch([g, h])
>>> b.num_nodes, b.num_edges, b.num_graphs
(5, 3, 2)
>>> b.senders, b.receivers
(Array([0, 1, 4], dtype=int32), Array([1, 2, 3], dtype=int32))
>>> [x.num_nodes for x in cdl.graphs.unbatch(b)]
[3, 2]

Malformed graphs are rejected when built:

>>> cdl.graphs.Graph.from_edge_list([(0, 3)], 3)
Traceback (most recent call last):
...
cdl.graphs._graph.GraphError: Graph edge 0 receives at node 3, but the graph has \
3 nodes (indices 0..2).
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ..nn._arguments import flag, whole
from . import _messages


class GraphError(ValueError):
    """A graph is malformed: an index out of range, or tables of mismatched sizes.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.Graph(jnp.array([0]), jnp.array([1, 0]), num_nodes=2)
    Traceback (most recent call last):
    ...
    cdl.graphs._graph.GraphError: Graph has 1 senders but 2 receivers; they must \
match.
    """


def _concrete(x: object) -> np.ndarray[Any, Any] | None:
    """The value of `x` as a numpy array, or None under a transformation."""
    if isinstance(x, jax.core.Tracer):
        return None
    return np.asarray(x)


def _checked(idx: Array, side: str, num_nodes: int) -> Array:
    """`idx`, failing at run time (`eqx.error_if`) if traced and out of range.

    Concrete indices are checked when the graph is built, naming the edge.
    """
    if not isinstance(idx, jax.core.Tracer):
        return idx
    bad = (idx < 0) | (idx >= num_nodes)
    message = _messages.index_out_of_range_traced(side, num_nodes)
    checked: Array = eqx.error_if(idx, bad, message)
    return checked


def _given_indices(x: object) -> np.ndarray[Any, Any] | None:
    """Edge indices as given, before JAX narrows them to int32; None if traced."""
    try:
        return _concrete(x)
    except jax.errors.TracerArrayConversionError:  # a sequence holding tracers
        return None


def _check_range(side: str, idx: np.ndarray[Any, Any], num_nodes: int) -> None:
    """Raise a `GraphError` naming the first edge whose node is out of range."""
    bad = np.flatnonzero((idx < 0) | (idx >= num_nodes))
    if bad.size:
        i = int(bad[0])
        raise GraphError(_messages.index_out_of_range(side, i, int(idx[i]), num_nodes))


def _attribute(attributes: Mapping[str, Any], name: str, where: str) -> Any:
    """The attribute `name` of a networkx node or edge, or a `GraphError`."""
    if name not in attributes:
        raise GraphError(_messages.missing_attribute(where, name, sorted(attributes)))
    return attributes[name]


def _feature_rows(items: Mapping[str, Mapping[str, Any]], name: str) -> np.ndarray:
    """The attribute `name` of every node (or edge) of `items`, one row each.

    Each must be a number or a sequence of numbers of one length; the first that
    is not is named (numpy would report only an inhomogeneous shape).

    >>> _feature_rows({"node 0": {"x": [1, 2]}, "node 1": {"x": [3]}}, "x")
    Traceback (most recent call last):
    ...
    cdl.graphs._graph.GraphError: Graph.from_networkx: node 1's 'x' has shape (1,), ...
    """
    rows: list[np.ndarray] = []
    for where, attributes in items.items():
        value = _attribute(attributes, name, where)
        try:
            row = np.asarray(value)
        except (TypeError, ValueError):
            raise GraphError(_messages.feature_not_numbers(where, name)) from None
        if row.dtype.kind not in "biuf":  # read as the table's floats later
            raise GraphError(_messages.feature_not_numbers(where, name))
        if rows and row.shape != rows[0].shape:
            first = next(iter(items))
            raise GraphError(
                _messages.feature_shapes(where, name, row.shape, first, rows[0].shape)
            )
        rows.append(row)
    return np.asarray(rows, np.result_type(*rows) if rows else np.float32)


def _as_features(
    x: ArrayLike | None, what: str = "node"
) -> Float[Array, " rows d"] | None:
    if x is None:
        return None
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = np.asarray(x).dtype
    if not (
        np.issubdtype(dtype, np.floating)
        or np.issubdtype(dtype, np.integer)
        or np.issubdtype(dtype, np.bool_)
        or dtype == jnp.bfloat16
    ):
        raise GraphError(_messages.not_real_features(what, dtype))
    a = jnp.asarray(x)
    if a.ndim == 0:
        raise GraphError(_messages.scalar_features(what, a.dtype))
    if not jnp.issubdtype(a.dtype, jnp.floating):
        a = _as_float(x, a, what)
    return a[:, None] if a.ndim == 1 else a


def _as_float(x: object, a: Array, what: str) -> Array:
    """An int or bool table as JAX's default float, refusing ints it would round.

    The default float is float32, or float64 under ``jax_enable_x64``; float32
    holds integers exactly up to 2**24 only, so a larger id would silently
    become another number.
    """
    target = jax.dtypes.canonicalize_dtype(jnp.float64)
    values = _concrete(x)
    if values is not None and np.issubdtype(values.dtype, np.integer) and values.size:
        exact = 2 ** (np.finfo(target).nmant + 1)
        far = np.flatnonzero(((values > exact) | (values < -exact)).reshape(-1))
        if far.size:
            at = np.unravel_index(int(far[0]), values.shape)
            raise GraphError(
                _messages.inexact_int_features(
                    what, int(at[0]), int(values[at]), str(np.dtype(target)), exact
                )
            )
    return a.astype(target)


def _as_mask(mask: ArrayLike) -> Bool[Array, " g"]:
    """`mask` as bools: bools, or ints that are 0 or 1 (anything else is refused)."""
    dtype = getattr(mask, "dtype", None)
    if dtype is None:
        dtype = np.asarray(mask).dtype
    if np.issubdtype(dtype, np.bool_):
        return jnp.asarray(mask, dtype=bool)
    if not np.issubdtype(dtype, np.integer):
        raise GraphError(_messages.bad_graph_mask(dtype))
    values = _concrete(mask)  # traced ints are taken as they are
    if values is not None and not np.isin(values, (0, 1)).all():
        raise GraphError(_messages.bad_graph_mask(dtype))
    return jnp.asarray(mask, dtype=bool)


class Graph(eqx.Module):
    """A directed graph, or a batch of disjoint graphs, as flat tables.

    Edge ``i`` goes from node ``senders[i]`` to node ``receivers[i]``. Undirected
    graphs list each edge in both directions. A batch lists its graphs one after
    the other: `n_node[j]` and `n_edge[j]` count the nodes and edges of graph ``j``,
    and its edges only touch its own nodes. `graph_mask` tells real graphs from
    the padding added by `pad`.

    **Arguments:**

    - `senders`, `receivers`: integer arrays of the same length, one entry per edge.
    - `num_nodes`: the number of nodes (taken from `nodes` when omitted).
    - `nodes`: optional node features, one row per node (a vector is one column).
    - `edges`: optional edge features, one row per edge (a vector is one column).
    - `n_node`, `n_edge`: per-graph counts for a batch (one graph by default).
    - `graph_mask`: which graphs are real (all by default).

    **Returns:** the graph; raises `GraphError` when it is malformed.

    >>> import jax.numpy as jnp, cdl
    >>> g = cdl.graphs.Graph(jnp.array([0, 1]), jnp.array([1, 2]), num_nodes=3,
    ...                      edges=jnp.array([0.5, 2.0]))
    >>> g
    Graph(nodes=3, edges=2, graphs=1, edge_features=1)
    >>> g.in_degree
    Array([0, 1, 1], dtype=int32)
    """

    senders: Int[Array, " e"]
    receivers: Int[Array, " e"]
    n_node: Int[Array, " g"]
    n_edge: Int[Array, " g"]
    graph_mask: Bool[Array, " g"]
    nodes: Float[Array, " n f"] | None
    edges: Float[Array, " e d"] | None
    num_nodes: int = eqx.field(static=True)

    def __init__(
        self,
        senders: ArrayLike,
        receivers: ArrayLike,
        *,
        num_nodes: int | None = None,
        nodes: ArrayLike | None = None,
        edges: ArrayLike | None = None,
        n_node: ArrayLike | None = None,
        n_edge: ArrayLike | None = None,
        graph_mask: ArrayLike | None = None,
    ) -> None:
        self.nodes = _as_features(nodes, "node")
        self.edges = _as_features(edges, "edge")
        # Read concrete indices before JAX narrows them to int32, which would
        # wrap an index beyond its range onto some node.
        raw = [
            (name, _given_indices(a))
            for name, a in (("senders", senders), ("receivers", receivers))
        ]
        s, r = jnp.asarray(senders), jnp.asarray(receivers)
        for name, a in (("senders", s), ("receivers", r)):
            if not jnp.issubdtype(a.dtype, jnp.integer):
                raise GraphError(_messages.not_integer(name, a.dtype))
            if a.ndim != 1:
                raise GraphError(_messages.not_a_vector(name, tuple(a.shape)))
        if num_nodes is None:
            if self.nodes is None and s.size:
                raise GraphError(_messages.no_num_nodes(int(s.shape[0])))
            num_nodes = 0 if self.nodes is None else int(self.nodes.shape[0])
        count = whole(num_nodes)
        if count is None or count < 0:
            raise GraphError(_messages.bad_num_nodes(num_nodes))
        self.num_nodes = count
        for name, values in raw:
            if values is not None:
                _check_range(name, values, self.num_nodes)
        self.senders = _checked(s.astype(jnp.int32), "senders", self.num_nodes)
        self.receivers = _checked(r.astype(jnp.int32), "receivers", self.num_nodes)
        e = int(self.senders.shape[0])
        self.n_node = jnp.asarray(
            [num_nodes] if n_node is None else n_node, dtype=jnp.int32
        )
        self.n_edge = jnp.asarray([e] if n_edge is None else n_edge, dtype=jnp.int32)
        self.graph_mask = (
            jnp.ones(self.n_node.shape, dtype=bool)
            if graph_mask is None
            else _as_mask(graph_mask)
        )

    def __check_init__(self) -> None:
        e, n = int(self.senders.shape[0]), self.num_nodes
        if self.receivers.shape[0] != e:
            raise GraphError(
                _messages.length_mismatch(
                    "senders", e, "receivers", int(self.receivers.shape[0])
                )
            )
        if self.nodes is not None and self.nodes.shape[0] != n:
            raise GraphError(
                _messages.rows_mismatch("node", int(self.nodes.shape[0]), n, "nodes")
            )
        if self.edges is not None and self.edges.shape[0] != e:
            raise GraphError(
                _messages.rows_mismatch("edge", int(self.edges.shape[0]), e, "edges")
            )
        if self.graph_mask.shape != self.n_node.shape:
            raise GraphError(
                _messages.length_mismatch(
                    "node counts",
                    int(self.n_node.shape[0]),
                    "graph_mask entries",
                    int(self.graph_mask.size),
                )
            )
        if self.n_edge.shape != self.n_node.shape:
            raise GraphError(
                _messages.length_mismatch(
                    "node counts",
                    int(self.n_node.shape[0]),
                    "edge counts",
                    int(self.n_edge.shape[0]),
                )
            )
        for side in ("senders", "receivers"):
            idx = _concrete(getattr(self, side))
            if idx is not None:
                _check_range(side, idx, n)
        self._check_counts()

    def _check_counts(self) -> None:
        n_node, n_edge = _concrete(self.n_node), _concrete(self.n_edge)
        s, r = _concrete(self.senders), _concrete(self.receivers)
        if n_node is None or n_edge is None or s is None or r is None:
            return
        for what, counts, total in (
            ("nodes", n_node, self.num_nodes),
            ("edges", n_edge, int(s.shape[0])),
        ):
            negative = np.flatnonzero(counts < 0)
            if negative.size:
                j = int(negative[0])
                raise GraphError(_messages.negative_count(what, j, int(counts[j])))
            if int(counts.sum()) != total:
                raise GraphError(
                    _messages.counts_mismatch(what, int(counts.sum()), total)
                )
        if n_node.shape[0] < 2:
            return
        starts = np.concatenate([[0], np.cumsum(n_node)[:-1]])
        owner = np.repeat(np.arange(n_node.shape[0]), n_edge)
        for idx in (s, r):
            lo, hi = starts[owner], starts[owner] + n_node[owner]
            bad = np.flatnonzero((idx < lo) | (idx >= hi))
            if bad.size:
                i = int(bad[0])
                j = int(owner[i])
                raise GraphError(
                    _messages.crossing_edge(
                        i, j, int(lo[i]), int(hi[i]) - 1, int(idx[i])
                    )
                )

    def __repr__(self) -> str:
        tables = (self.senders, self.n_node, self.nodes, self.edges)
        if not all(t is None or hasattr(t, "shape") for t in tables):
            # Leaves mapped to other values (``jax.tree.map(jnp.shape, graph)``).
            return eqx.tree_pformat(self)
        parts = [
            f"nodes={self.num_nodes}",
            f"edges={self.num_edges}",
            f"graphs={self.num_graphs}",
        ]
        if self.nodes is not None:
            parts.append(f"node_features={self.nodes.shape[1]}")
        if self.edges is not None:
            parts.append(f"edge_features={self.edges.shape[1]}")
        return f"Graph({', '.join(parts)})"

    @classmethod
    def from_edge_list(
        cls,
        pairs: Iterable[tuple[int, int]] | Int[Array, "e 2"] | np.ndarray[Any, Any],
        num_nodes: int,
        *,
        nodes: ArrayLike | None = None,
        edges: ArrayLike | None = None,
        undirected: bool = False,
    ) -> "Graph":
        """A graph from a list of ``(sender, receiver)`` pairs.

        **Arguments:**

        - `pairs`: the edges, as pairs or an integer array of shape ``(e, 2)``.
        - `num_nodes`: the number of nodes.
        - `nodes`, `edges`: optional feature tables.
        - `undirected`: also add every edge reversed (with the same features); a
          self-loop, its own reverse, stays one edge. An edge listed in both
          directions is then a `GraphError` (it would be two parallel edges each
          way, and a sum over neighbours would count it twice).

        **Returns:** the `Graph`.

        >>> import cdl
        >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2, undirected=True)
        >>> g.senders, g.receivers
        (Array([0, 1], dtype=int32), Array([1, 0], dtype=int32))
        """
        array_like = isinstance(pairs, np.ndarray | jax.Array)
        a = np.asarray(pairs if array_like else list(pairs))
        if a.size and (a.ndim != 2 or a.shape[1] != 2):
            raise GraphError(_messages.not_pairs(a.shape))
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise GraphError(_messages.pairs_not_integer(a.dtype))
        a = a.astype(np.int64) if a.size else np.zeros((0, 2), int)
        s, r = a[:, 0], a[:, 1]
        feats = _as_features(edges, "edge")
        flag("Graph.from_edge_list", "undirected", undirected)
        if undirected:  # a self-loop is its own reverse: it is listed once
            _check_one_direction(s, r)
            back = np.flatnonzero(s != r)
            s, r = np.concatenate([s, r[back]]), np.concatenate([r, s[back]])
            if feats is not None:
                feats = jnp.concatenate([feats, feats[back]])
        return cls(s, r, num_nodes=num_nodes, nodes=nodes, edges=feats)

    @classmethod
    def from_networkx(
        cls,
        graph: Any,
        *,
        node_features: str | None = None,
        edge_features: str | None = None,
    ) -> "Graph":
        """A graph from a networkx graph; nodes are numbered in iteration order.

        Undirected networkx graphs give each edge in both directions.

        **Arguments:**

        - `graph`: a networkx ``Graph`` or ``DiGraph`` (or a multigraph: each
          parallel edge is an edge).
        - `node_features`, `edge_features`: names of node and edge attributes to
          read as features (a number is one column, a sequence several).

        **Returns:** the `Graph`.

        >>> import networkx as nx, cdl
        >>> nxg = nx.path_graph(3)
        >>> nx.set_edge_attributes(nxg, 1.5, "weight")
        >>> g = cdl.graphs.Graph.from_networkx(nxg, edge_features="weight")
        >>> g, g.edges[:, 0]
        (Graph(nodes=3, edges=4, graphs=1, edge_features=1), Array([1.5, 1.5, \
1.5, 1.5], dtype=float32))
        """
        if not all(hasattr(graph, a) for a in ("nodes", "edges", "is_directed")):
            raise GraphError(_messages.not_networkx(graph))
        index = {v: i for i, v in enumerate(graph.nodes)}
        # (where, u, v, attributes) per edge; a multigraph's parallel edges each once
        listed = (
            [((u, v, k), u, v, d) for u, v, k, d in graph.edges(keys=True, data=True)]
            if graph.is_multigraph()
            else [((u, v), u, v, d) for u, v, d in graph.edges(data=True)]
        )
        pairs = [(index[u], index[v]) for _, u, v, _ in listed]
        nodes = None
        if node_features is not None:
            nodes = _feature_rows(
                {f"node {v!r}": graph.nodes[v] for v in graph.nodes}, node_features
            )
        edges = None
        if edge_features is not None:
            edges = _feature_rows(
                {f"edge {where!r}": d for where, _, _, d in listed}, edge_features
            ).reshape(len(pairs), -1 if pairs else 1)
        return cls.from_edge_list(
            pairs,
            len(index),
            nodes=nodes,
            edges=edges,
            undirected=not graph.is_directed(),
        )

    @property
    def num_edges(self) -> int:
        """The number of edges (rows of the edge table)."""
        return int(self.senders.shape[0])

    @property
    def num_graphs(self) -> int:
        """The number of graphs in the batch, padding graphs included."""
        return int(self.n_node.shape[0])

    @property
    def node_graph(self) -> Int[Array, " n"]:
        """For each node, the index of the graph it belongs to."""
        return jnp.repeat(
            jnp.arange(self.num_graphs), self.n_node, total_repeat_length=self.num_nodes
        )

    @property
    def edge_graph(self) -> Int[Array, " e"]:
        """For each edge, the index of the graph it belongs to."""
        return jnp.repeat(
            jnp.arange(self.num_graphs), self.n_edge, total_repeat_length=self.num_edges
        )

    @property
    def node_offsets(self) -> Int[Array, " g"]:
        """The index of the first node of each graph."""
        return jnp.cumsum(self.n_node) - self.n_node

    @property
    def node_mask(self) -> Bool[Array, " n"]:
        """True on the nodes of real (not padding) graphs."""
        return self.graph_mask[self.node_graph]

    @property
    def edge_mask(self) -> Bool[Array, " e"]:
        """True on the edges of real (not padding) graphs."""
        return self.graph_mask[self.edge_graph]

    @property
    def in_degree(self) -> Int[Array, " n"]:
        """The number of edges received by each node."""
        ones = jnp.ones(self.receivers.shape, dtype=jnp.int32)
        return jax.ops.segment_sum(ones, self.receivers, self.num_nodes)

    def _replace(self, *, nodes: ArrayLike | None, edges: ArrayLike | None) -> "Graph":
        """The same graph with other tables; its indices, already checked, kept."""
        node_table = _as_features(nodes, "node")
        edge_table = _as_features(edges, "edge")
        if node_table is not None and node_table.shape[0] != self.num_nodes:
            rows = int(node_table.shape[0])
            raise GraphError(
                _messages.rows_mismatch("node", rows, self.num_nodes, "nodes")
            )
        if edge_table is not None and edge_table.shape[0] != self.num_edges:
            rows = int(edge_table.shape[0])
            raise GraphError(
                _messages.rows_mismatch("edge", rows, self.num_edges, "edges")
            )
        replaced: Graph = eqx.tree_at(
            lambda g: (g.nodes, g.edges),
            self,
            (node_table, edge_table),
            is_leaf=lambda x: x is None,
        )
        return replaced

    def with_nodes(self, nodes: ArrayLike | None) -> "Graph":
        """The same graph with other node features.

        **Arguments:** `nodes`, a table with one row per node, or None.

        **Returns:** the new `Graph`.

        >>> import jax.numpy as jnp, cdl
        >>> cdl.graphs.Graph.from_edge_list([(0, 1)], 2).with_nodes(jnp.ones(2))
        Graph(nodes=2, edges=1, graphs=1, node_features=1)
        """
        return self._replace(nodes=nodes, edges=self.edges)

    def with_edges(self, edges: ArrayLike | None) -> "Graph":
        """The same graph with other edge features.

        **Arguments:** `edges`, a table with one row per edge, or None.

        **Returns:** the new `Graph`.

        >>> import jax.numpy as jnp, cdl
        >>> cdl.graphs.Graph.from_edge_list([(0, 1)], 2).with_edges(jnp.ones(1))
        Graph(nodes=2, edges=1, graphs=1, edge_features=1)
        """
        return self._replace(nodes=self.nodes, edges=edges)

    def inputs(self) -> tuple["Graph", Float[Array, " n f"]]:
        """The pair ``(graph, node features)`` that graph layers act on.

        **Returns:** the graph with its own node features; raises `GraphError`
        when it has none.

        >>> import jax.numpy as jnp, cdl
        >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2, nodes=jnp.ones(2))
        >>> g.inputs()[1].shape
        (2, 1)
        """
        if self.nodes is None:
            raise GraphError(_messages.no_node_features(self.num_nodes))
        return self, self.nodes

    def _check_within_graphs(self, perm: np.ndarray[Any, Any]) -> None:
        """Refuse a permutation of a batch that moves a node to another graph."""
        n_node = _concrete(self.n_node)
        if n_node is None:
            return
        owner = np.repeat(np.arange(n_node.shape[0]), n_node)
        moved = np.flatnonzero(owner[perm] != owner)
        if moved.size:
            i = int(moved[0])
            old = int(perm[i])
            raise GraphError(
                _messages.permutation_across_graphs(
                    i, int(owner[i]), old, int(owner[old])
                )
            )

    def permute(self, perm: ArrayLike) -> "Graph":
        """Renumber the nodes: new node ``i`` is old node ``perm[i]``.

        Edges keep their order and features; in a batch, `perm` must map each
        graph's nodes among themselves.

        **Arguments:** `perm`, a permutation of ``range(num_nodes)``.

        **Returns:** the isomorphic `Graph`.

        >>> import jax.numpy as jnp, cdl
        >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 3)
        >>> g = g.permute(jnp.array([2, 0, 1]))
        >>> g.senders, g.receivers
        (Array([1], dtype=int32), Array([2], dtype=int32))
        """
        p = jnp.asarray(perm)
        concrete = _concrete(p)
        if p.shape != (self.num_nodes,) or not jnp.issubdtype(p.dtype, jnp.integer):
            raise GraphError(
                _messages.not_a_permutation(self.num_nodes, f"{p.dtype}{list(p.shape)}")
            )
        if concrete is not None and not np.array_equal(
            np.sort(concrete), np.arange(self.num_nodes)
        ):
            raise GraphError(
                _messages.not_a_permutation(self.num_nodes, concrete.tolist())
            )
        if concrete is not None and self.num_graphs > 1:
            self._check_within_graphs(concrete)
        if concrete is None:  # traced: checked when the program runs
            wrong = jnp.any(jnp.sort(p) != jnp.arange(self.num_nodes, dtype=p.dtype))
            message = _messages.not_a_permutation(self.num_nodes, "traced indices")
            p = eqx.error_if(p, wrong, message)
        inverse = jnp.zeros_like(p).at[p].set(jnp.arange(p.shape[0], dtype=p.dtype))
        return Graph(
            inverse[self.senders],
            inverse[self.receivers],
            num_nodes=self.num_nodes,
            nodes=None if self.nodes is None else self.nodes[p],
            edges=self.edges,
            n_node=self.n_node,
            n_edge=self.n_edge,
            graph_mask=self.graph_mask,
        )


def _natural(name: str, value: object) -> int:
    """A size given to `pad` as an int, if it is a whole number >= 0."""
    number = whole(value)
    if number is None or number < 0:
        raise GraphError(_messages.bad_pad_size(name, value))
    return number


def _sizes(graph: Graph, what: str) -> tuple[np.ndarray[Any, Any], ...]:
    arrays = (graph.n_node, graph.n_edge, graph.graph_mask)
    values = [_concrete(a) for a in arrays]
    if any(v is None for v in values):
        raise GraphError(_messages.traced(what))
    return tuple(v for v in values if v is not None)


def batch(graphs: Sequence[Graph]) -> Graph:
    """Put graphs side by side as one graph of disjoint components.

    **Arguments:** `graphs`, a non-empty sequence; all have node features or none,
    and likewise edge features.

    **Returns:** the batch, whose `n_node` and `n_edge` list the graphs' sizes.

    >>> import cdl
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2)
    >>> b = cdl.graphs.batch([g, g])
    >>> b.receivers, b.n_node
    (Array([1, 3], dtype=int32), Array([2, 2], dtype=int32))
    """
    if not graphs:
        raise GraphError(_messages.empty_batch())
    for index, g in enumerate(graphs):
        if not isinstance(g, Graph):
            raise GraphError(_messages.not_a_graph_in_batch(index, g))
    tables: dict[str, list[Array] | None] = {}
    for name in ("nodes", "edges"):
        present = [getattr(g, name) is not None for g in graphs]
        if any(present) and not all(present):
            raise GraphError(_messages.mixed_features(name[:-1]))
        tables[name] = [getattr(g, name) for g in graphs] if all(present) else None
        rows = [t.shape[1:] for t in tables[name] or []]
        for index, shape in enumerate(rows):
            if shape != rows[0]:
                raise GraphError(
                    _messages.feature_widths(name[:-1], rows[0], index, shape)
                )
    offsets = np.cumsum([0] + [g.num_nodes for g in graphs[:-1]])
    return Graph(
        jnp.concatenate([g.senders + o for g, o in zip(graphs, offsets, strict=True)]),
        jnp.concatenate(
            [g.receivers + o for g, o in zip(graphs, offsets, strict=True)]
        ),
        num_nodes=sum(g.num_nodes for g in graphs),
        nodes=None if tables["nodes"] is None else jnp.concatenate(tables["nodes"]),
        edges=None if tables["edges"] is None else jnp.concatenate(tables["edges"]),
        n_node=jnp.concatenate([g.n_node for g in graphs]),
        n_edge=jnp.concatenate([g.n_edge for g in graphs]),
        graph_mask=jnp.concatenate([g.graph_mask for g in graphs]),
    )


def unbatch(graph: Graph) -> list[Graph]:
    """Split a batch into its graphs (padding graphs left out).

    **Arguments:** `graph`, a batch with concrete counts (not under `jax.jit`).

    **Returns:** the list of real graphs, each numbered from 0.

    >>> import cdl
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2)
    >>> [x.senders.tolist() for x in cdl.graphs.unbatch(cdl.graphs.batch([g, g]))]
    [[0], [0]]
    """
    if not isinstance(graph, Graph):
        raise TypeError(_messages.not_a_graph("unbatch", graph))
    n_node, n_edge, mask = _sizes(graph, "unbatch")
    node_starts = np.concatenate([[0], np.cumsum(n_node)])
    edge_starts = np.concatenate([[0], np.cumsum(n_edge)])
    out = []
    for j in range(n_node.shape[0]):
        if not mask[j]:
            continue
        n0, n1 = int(node_starts[j]), int(node_starts[j + 1])
        e0, e1 = int(edge_starts[j]), int(edge_starts[j + 1])
        out.append(
            Graph(
                graph.senders[e0:e1] - n0,
                graph.receivers[e0:e1] - n0,
                num_nodes=n1 - n0,
                nodes=None if graph.nodes is None else graph.nodes[n0:n1],
                edges=None if graph.edges is None else graph.edges[e0:e1],
            )
        )
    return out


def pad(graph: Graph, num_nodes: int, num_edges: int, num_graphs: int) -> Graph:
    """Pad a batch to fixed sizes, so that one compiled function serves many batches.

    The extra nodes and edges form one padding graph (its edges all join its first
    node); further padding graphs are empty. `graph_mask`, `node_mask` and
    `edge_mask` are False on the padding.

    **Arguments:** the batch and the target numbers of nodes, edges and graphs.

    **Returns:** the padded batch.

    >>> import cdl
    >>> g = cdl.graphs.pad(cdl.graphs.Graph.from_edge_list([(0, 1)], 2), 4, 3, 3)
    >>> g.n_node, g.n_edge, g.graph_mask
    (Array([2, 2, 0], dtype=int32), Array([1, 2, 0], dtype=int32), Array([ True, \
False, False], dtype=bool))
    """
    if not isinstance(graph, Graph):
        raise TypeError(_messages.not_a_graph("pad", graph))
    num_nodes = _natural("num_nodes", num_nodes)
    num_edges = _natural("num_edges", num_edges)
    num_graphs = _natural("num_graphs", num_graphs)
    n_node, n_edge, mask = _sizes(graph, "pad")
    extra_nodes = num_nodes - graph.num_nodes
    extra_edges = num_edges - graph.num_edges
    extra_graphs = num_graphs - graph.num_graphs
    for what, have, asked in (
        ("nodes", graph.num_nodes, num_nodes),
        ("edges", graph.num_edges, num_edges),
        ("graphs", graph.num_graphs, num_graphs),
    ):
        if asked < have:
            raise GraphError(_messages.padding_too_small(what, have, asked))
    if extra_edges and not extra_nodes:
        raise GraphError(_messages.padding_needs_node(extra_edges))
    if (extra_nodes or extra_edges) and not extra_graphs:
        raise GraphError(_messages.padding_needs_graph())
    fill = np.full(extra_edges, graph.num_nodes, dtype=np.int32)

    def padded(table: Array | None, rows: int) -> Array | None:
        if table is None:
            return None
        return jnp.concatenate([table, jnp.zeros((rows, table.shape[1]), table.dtype)])

    new_counts = np.zeros(extra_graphs, dtype=np.int32)
    node_counts, edge_counts = new_counts.copy(), new_counts.copy()
    if extra_graphs:
        node_counts[0], edge_counts[0] = extra_nodes, extra_edges
    return Graph(
        jnp.concatenate([graph.senders, fill]),
        jnp.concatenate([graph.receivers, fill]),
        num_nodes=num_nodes,
        nodes=padded(graph.nodes, extra_nodes),
        edges=padded(graph.edges, extra_edges),
        n_node=np.concatenate([n_node, node_counts]),
        n_edge=np.concatenate([n_edge, edge_counts]),
        graph_mask=np.concatenate([mask, np.zeros(extra_graphs, dtype=bool)]),
    )


def _check_one_direction(senders: np.ndarray, receivers: np.ndarray) -> None:
    """Raise GraphError if an edge (not a self-loop) is listed both ways."""
    forward = {
        (int(a), int(b)) for a, b in zip(senders, receivers, strict=True) if a != b
    }
    for a, b in sorted(forward):
        if (b, a) in forward:
            raise GraphError(_messages.listed_both_ways(a, b))
