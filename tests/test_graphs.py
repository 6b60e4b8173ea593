"""Graphs, aggregation monoids and message-passing layers."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.graphs import (
    Graph,
    GraphConv,
    GraphError,
    MessagePassing,
    OnNodes,
    Propagate,
    Readout,
)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
MONOIDS = [
    cdl.graphs.Sum(),
    cdl.graphs.Max(),
    cdl.graphs.Min(),
    cdl.graphs.Product(),
    cdl.graphs.LogSumExp(),
    cdl.graphs.Monoid(jnp.maximum, -jnp.inf, "max by scan"),
]


def random_graph(
    seed: int, n: int, e: int, node_dim: int = 3, edge_dim: int = 0
) -> Graph:
    rng = np.random.default_rng(seed)
    return Graph(
        rng.integers(0, n, e),
        rng.integers(0, n, e),
        num_nodes=n,
        nodes=rng.normal(size=(n, node_dim)).astype(np.float32),
        edges=rng.normal(size=(e, edge_dim)).astype(np.float32) if edge_dim else None,
    )


@st.composite
def graphs(draw: st.DrawFn, edge_dim: int = 0) -> Graph:
    # A few sizes only: every new shape costs a compilation.
    n = draw(st.sampled_from([1, 4, 7]))
    e = draw(st.sampled_from([0, 5, 16]))
    return random_graph(draw(seeds), n, e, edge_dim=edge_dim)


def close(a: jax.Array, b: jax.Array, tol: float = 1e-5) -> bool:
    return bool(jnp.allclose(a, b, atol=tol, rtol=tol))


# -- graphs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Graph.from_edge_list([(0, 3)], 3),
            "Graph edge 0 receives at node 3, but the graph has 3 nodes "
            "(indices 0..2).",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1), (-1, 2)], 3),
            "Graph edge 1 sends from node -1, but the graph has 3 nodes "
            "(indices 0..2).",
        ),
        (
            lambda: Graph(jnp.array([0, 1]), jnp.array([1]), num_nodes=2),
            "Graph has 2 senders but 1 receivers; they must match.",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1)], 3, nodes=jnp.ones((2, 4))),
            "Graph node features have 2 rows, but the graph has 3 nodes.",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1)], 3, edges=jnp.ones((2, 4))),
            "Graph edge features have 2 rows, but the graph has 1 edge.",
        ),
        (
            lambda: Graph(
                jnp.array([0]),
                jnp.array([1]),
                num_nodes=3,
                n_node=[1, 1],
                n_edge=[1, 0],
            ),
            "Graph per-graph nodes counts add up to 2, but the table has 3 nodes.",
        ),
        (
            lambda: Graph(
                jnp.array([0]),
                jnp.array([2]),
                num_nodes=3,
                n_node=[2, 1],
                n_edge=[1, 0],
            ),
            "Graph edge 0 belongs to graph 0 of the batch (nodes 0..1), but touches "
            "node 2 of another graph.",
        ),
        (
            lambda: Graph(jnp.array([0.0]), jnp.array([1]), num_nodes=2),
            "Graph senders must be an integer array, not float32.",
        ),
        (
            lambda: cdl.graphs.batch(
                [
                    Graph.from_edge_list([], 1, nodes=jnp.ones(1)),
                    Graph.from_edge_list([], 1),
                ]
            ),
            "cannot batch graphs where some have node features and others do not; "
            "give every graph node features or none.",
        ),
        (
            lambda: Graph(jnp.array([[0]]), jnp.array([[1]]), num_nodes=2),
            "Graph senders must be a vector, one entry per edge, not of shape (1, 1).",
        ),
        (
            lambda: cdl.graphs.batch(
                [
                    Graph.from_edge_list([], 1, nodes=jnp.ones((1, 3))),
                    Graph.from_edge_list([], 1, nodes=jnp.ones((1, 4))),
                ]
            ),
            "cannot batch graphs whose node features differ: graph 0 has rows of "
            "shape (3,), graph 1 of shape (4,).",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1)], 3).permute(jnp.array([0, 0, 1])),
            "Graph.permute needs a permutation of the 3 nodes (each of 0..2 once), "
            "but was given [0, 0, 1].",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1)], 3).permute(jnp.array([1, 0])),
            "Graph.permute needs a permutation of the 3 nodes (each of 0..2 once), "
            "but was given int32[2].",
        ),
        (
            lambda: Graph.from_edge_list([(0.0, 1.5)], 3),
            "Graph.from_edge_list needs (sender, receiver) pairs of node numbers "
            "(integers), but was given float64 pairs.",
        ),
        (
            lambda: Graph(jnp.array([0]), jnp.array([1]), num_nodes=3.0),
            "Graph num_nodes must be a whole number, 0 or more, but was given 3.0.",
        ),
        (
            lambda: Graph(jnp.array([0]), jnp.array([1]), num_nodes=-1),
            "Graph num_nodes must be a whole number, 0 or more, but was given -1.",
        ),
        (
            lambda: Graph.from_edge_list([(0, 1)], 3).with_nodes(jnp.ones((2, 4))),
            "Graph node features have 2 rows, but the graph has 3 nodes.",
        ),
    ],
)
def test_malformed_graphs_are_rejected(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GraphError, match=re.escape(message)):
        build()


def test_graphs_are_checked_only_when_concrete() -> None:
    # Under jit the indices are unknown; building a graph there must not fail.
    @jax.jit
    def degree(s: jax.Array, r: jax.Array) -> jax.Array:
        return Graph(s, r, num_nodes=4).in_degree

    assert degree(jnp.array([0, 1, 1]), jnp.array([1, 2, 2])).tolist() == [0, 1, 2, 0]


def test_traced_indices_out_of_range_fail_at_run_time() -> None:
    # Under jit the indices are unknown when built; an out-of-range one must not
    # be read as some other node (XLA clamps gathers and drops scattered rows).
    @eqx.filter_jit
    def degrees(s: jax.Array, r: jax.Array) -> jax.Array:
        g = Graph(s, r, num_nodes=4)
        return g.in_degree + jax.ops.segment_sum(jnp.ones_like(s), g.senders, 4)

    with pytest.raises(
        eqx.EquinoxRuntimeError, match=r"an edge receives at a node outside 0\.\.3"
    ):
        degrees(jnp.array([0, 1]), jnp.array([1, 4]))
    with pytest.raises(eqx.EquinoxRuntimeError, match="an edge sends from a node"):
        degrees(jnp.array([-1, 1]), jnp.array([1, 2]))
    assert degrees(jnp.array([0, 1]), jnp.array([1, 2])).tolist() == [1, 2, 1, 0]

    @eqx.filter_jit
    def renumbered(g: Graph, perm: jax.Array) -> jax.Array:
        return g.permute(perm).senders

    g = Graph.from_edge_list([(0, 1), (1, 2)], 3)
    assert renumbered(g, jnp.array([2, 0, 1])).tolist() == [1, 2]
    with pytest.raises(eqx.EquinoxRuntimeError, match="needs a permutation of the 3"):
        renumbered(g, jnp.array([0, 0, 1]))


@settings(max_examples=10, deadline=None)
@given(st.lists(graphs(edge_dim=2), min_size=1, max_size=3))
def test_batch_then_unbatch_is_identity(parts: list[Graph]) -> None:
    b = cdl.graphs.batch(parts)
    assert b.num_nodes == sum(g.num_nodes for g in parts)
    assert b.node_graph.tolist() == sum(
        ([j] * g.num_nodes for j, g in enumerate(parts)), []
    )
    back = cdl.graphs.unbatch(b)
    assert len(back) == len(parts)
    for g, h in zip(parts, back, strict=True):
        assert g.num_nodes == h.num_nodes
        for a, c in ((g.senders, h.senders), (g.receivers, h.receivers)):
            assert a.tolist() == c.tolist()
        assert g.nodes is not None and h.nodes is not None
        assert g.edges is not None and h.edges is not None
        assert jnp.array_equal(g.nodes, h.nodes) and jnp.array_equal(g.edges, h.edges)


def test_from_networkx_reads_features_and_both_directions() -> None:
    nxg = nx.cycle_graph(4)
    for v in nxg.nodes:
        nxg.nodes[v]["x"] = [float(v), 1.0]
    for u, v in nxg.edges:
        nxg.edges[u, v]["w"] = float(u + v)
    g = Graph.from_networkx(nxg, node_features="x", edge_features="w")
    assert g.num_nodes == 4 and g.num_edges == 8
    assert g.nodes is not None and g.nodes.shape == (4, 2)
    assert g.edges is not None
    pairs = set(zip(g.senders.tolist(), g.receivers.tolist(), strict=True))
    assert pairs == {(u, v) for u, v in nxg.edges} | {(v, u) for u, v in nxg.edges}
    for s, r, w in zip(
        g.senders.tolist(), g.receivers.tolist(), g.edges[:, 0].tolist(), strict=True
    ):
        assert w == s + r
    directed = Graph.from_networkx(nx.DiGraph([(0, 1)]))
    assert directed.num_edges == 1
    with pytest.raises(
        GraphError, match=r"node 0 has no attribute 'y' \(it has \['x'\]\)"
    ):
        Graph.from_networkx(nxg, node_features="y")
    with pytest.raises(GraphError, match=r"edge \(0, 1\) has no attribute 'weight'"):
        Graph.from_networkx(nxg, edge_features="weight")
    with pytest.raises(
        GraphError, match=r"shape \(e, 2\), but was given shape \(1, 3\)"
    ):
        Graph.from_edge_list([(0, 1, 2)], 3)
    with pytest.raises(cdl.SpaceError, match="8 edges and the messages have shape"):
        cdl.graphs.aggregate(g, jnp.ones((7, 2)), cdl.graphs.Sum())
    with pytest.raises(TypeError, match="plus must be a commutative monoid"):
        cdl.graphs.Semiring(jnp.maximum, jnp.minimum, jnp.inf)  # type: ignore[arg-type]


def test_padding_keeps_real_outputs_and_masks_the_rest() -> None:
    g = cdl.graphs.batch([random_graph(1, 5, 9), random_graph(2, 3, 4)])
    p = cdl.graphs.pad(g, 12, 20, 4)
    assert (p.num_nodes, p.num_edges, p.num_graphs) == (12, 20, 4)
    assert p.node_mask.tolist() == [True] * 8 + [False] * 4
    assert p.edge_mask.tolist() == [True] * 13 + [False] * 7
    assert p.graph_mask.tolist() == [True, True, False, False]
    layer = GraphConv(3, 2, key=jax.random.key(0))
    assert g.nodes is not None and p.nodes is not None
    assert close(layer(p.inputs())[1][:8], layer(g.inputs())[1])
    assert len(cdl.graphs.unbatch(p)) == 2
    with pytest.raises(GraphError, match="without a padding graph"):
        cdl.graphs.pad(g, 12, 20, 2)
    with pytest.raises(GraphError, match="cannot pad a graph with 8 nodes to 4"):
        cdl.graphs.pad(g, 4, 20, 4)


def test_one_compiled_function_serves_padded_batches() -> None:
    layer = GraphConv(3, 2, key=jax.random.key(0))
    traces = []

    @eqx.filter_jit
    def run(m: GraphConv, g: Graph) -> jax.Array:
        traces.append(1)
        return m(g.inputs())[1]

    for seed, (n, e) in enumerate([(4, 6), (7, 3), (2, 10)]):
        run(layer, cdl.graphs.pad(random_graph(seed, n, e), 16, 32, 2))
    assert len(traces) == 1


# -- monoids ------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(MONOIDS), seeds)
def test_monoid_laws(monoid: cdl.graphs.AbstractMonoid, seed: int) -> None:
    a, b, c = jax.random.normal(jax.random.key(seed), (3, 5))
    m = monoid.combine
    assert close(m(m(a, b), c), m(a, m(b, c)))
    assert jnp.array_equal(m(a, b), m(b, a))
    assert close(m(a, monoid.identity(a.dtype)), a)


NUMPY_FOLDS = {
    cdl.graphs.Sum: np.sum,
    cdl.graphs.Max: np.max,
    cdl.graphs.Min: np.min,
    cdl.graphs.Product: np.prod,
    cdl.graphs.LogSumExp: np.logaddexp.reduce,
    cdl.graphs.Monoid: np.max,
    cdl.graphs.Mean: np.mean,
}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([*MONOIDS, cdl.graphs.Mean()]), seeds)
def test_segment_folds_each_segment(
    monoid: cdl.graphs.AbstractAggregator, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(24, 2)).astype(np.float32)
    ids = rng.integers(0, 8, 24)
    out = np.asarray(monoid.segment(jnp.asarray(data), jnp.asarray(ids), 8))
    fold = NUMPY_FOLDS[type(monoid)]
    for s in range(8):
        rows = data[ids == s]
        if rows.shape[0]:
            expected = fold(rows, axis=0)
        elif isinstance(monoid, cdl.graphs.AbstractMonoid):
            expected = np.full(2, monoid.identity(jnp.float32))
        else:
            expected = np.zeros(2)
        np.testing.assert_allclose(out[s], expected, rtol=1e-4, atol=1e-5)
    # Commutativity makes the fold blind to the order of the edges.
    order = rng.permutation(24)
    shuffled = monoid.segment(jnp.asarray(data[order]), jnp.asarray(ids[order]), 8)
    np.testing.assert_allclose(shuffled, out, rtol=1e-4, atol=1e-5)


def test_a_monoid_given_as_a_value_matches_the_builtin_fold() -> None:
    data = jax.random.normal(jax.random.key(0), (40, 3))
    ids = jax.random.randint(jax.random.key(1), (40,), 0, 12)
    for custom, builtin in (
        (cdl.graphs.Monoid(jnp.add, 0.0), cdl.graphs.Sum()),
        (cdl.graphs.Monoid(jnp.minimum, jnp.inf), cdl.graphs.Min()),
        (cdl.graphs.Monoid(jnp.maximum, -jnp.inf), cdl.graphs.Max()),
    ):
        fold = jax.jit(custom.segment, static_argnums=2)
        assert close(fold(data, ids, 12), builtin.segment(data, ids, 12))
    empty = cdl.graphs.Monoid(jnp.add, 0.0).segment(jnp.zeros((0, 3)), ids[:0], 2)
    assert jnp.array_equal(empty, jnp.zeros((2, 3)))


# -- Bellman-Ford as min-plus propagation -------------------------------------


@settings(max_examples=15, deadline=None)
@given(seeds, st.sampled_from([2, 9]), st.sampled_from([1, 30]))
def test_min_plus_propagation_is_bellman_ford(seed: int, n: int, e: int) -> None:
    rng = np.random.default_rng(seed)
    s, r = rng.integers(0, n, e), rng.integers(0, n, e)
    w = rng.uniform(0.1, 2.0, e).astype(np.float32)
    g = Graph(s, r, num_nodes=n, edges=w)
    d = jnp.full(n, jnp.inf).at[0].set(0.0)
    step = Propagate(cdl.graphs.MIN_PLUS)
    d = relax(step, g, d, n - 1)
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(n))
    for a, b, c in zip(s.tolist(), r.tolist(), w.tolist(), strict=True):
        if not nxg.has_edge(a, b) or nxg.edges[a, b]["weight"] > c:
            nxg.add_edge(a, b, weight=c)
    truth = nx.single_source_dijkstra_path_length(nxg, 0)
    expected = jnp.array([truth.get(v, np.inf) for v in range(n)], jnp.float32)
    assert close(d, expected)


@eqx.filter_jit
def relax(step: Propagate, g: Graph, d: jax.Array, times: int) -> jax.Array:
    return jax.lax.fori_loop(0, times, lambda _, x: step((g, x))[1], d)


def test_real_semiring_multiplies_by_identity_plus_transposed_adjacency() -> None:
    g = random_graph(3, 5, 12, edge_dim=1)
    assert g.edges is not None
    x = jax.random.normal(jax.random.key(0), (5, 2))
    a = jnp.zeros((5, 5)).at[g.senders, g.receivers].add(g.edges[:, 0])
    out = Propagate(cdl.graphs.REAL)((g, x))[1]
    assert close(out, x + a.T @ x)


def test_propagate_needs_weights() -> None:
    with pytest.raises(cdl.SpaceError, match="needs edge weights"):
        Propagate()((random_graph(0, 3, 2), jnp.zeros(3)))


# -- layers -------------------------------------------------------------------


def mlp(n_in: int, n_out: int, seed: int) -> cdl.Para:  # type: ignore[type-arg]
    k1, k2 = jax.random.split(jax.random.key(seed))
    return cdl.Linear(n_in, 8, key=k1) >> cdl.Tanh() >> cdl.Linear(8, n_out, key=k2)


AGGREGATIONS = [cdl.graphs.Sum(), cdl.graphs.Mean(), cdl.graphs.Max(), cdl.graphs.Min()]


@settings(max_examples=20, deadline=None)
@given(graphs(edge_dim=2), st.sampled_from(AGGREGATIONS), seeds)
def test_message_passing_matches_a_loop_over_nodes(
    g: Graph, monoid: cdl.graphs.AbstractAggregator, seed: int
) -> None:
    layer = MessagePassing(
        mlp(3 + 3 + 2, 4, seed), mlp(3 + 4, 5, seed + 1), aggregate=monoid
    )
    assert (layer.in_dim, layer.edge_dim, layer.message_dim, layer.out_dim) == (
        3,
        2,
        4,
        5,
    )
    assert g.nodes is not None and g.edges is not None
    out = np.asarray(layer(g.inputs())[1])
    h, e = np.asarray(g.nodes), np.asarray(g.edges)
    s_, r_ = np.asarray(g.senders), np.asarray(g.receivers)
    inputs = np.concatenate([h[s_], h[r_], e], axis=1)
    messages = np.asarray(jax.vmap(layer.message)(jnp.asarray(inputs)))
    fold = NUMPY_FOLDS[type(monoid)]
    folded = np.zeros((g.num_nodes, 4), np.float32)
    for v in range(g.num_nodes):
        if (r_ == v).any():
            folded[v] = fold(messages[r_ == v], axis=0)
    expected = jax.vmap(layer.update)(jnp.asarray(np.concatenate([h, folded], 1)))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_graph_conv_matches_the_formula() -> None:
    g = random_graph(5, 6, 14)
    assert g.nodes is not None
    conv = GraphConv(3, 4, key=jax.random.key(0))
    a = jnp.zeros((6, 6)).at[g.senders, g.receivers].add(1.0)
    assert conv.root.bias is not None
    expected = (
        g.nodes @ conv.root.weight.T
        + conv.root.bias[None]
        + (a.T @ g.nodes) @ conv.neighbours.weight.T
    )
    assert close(conv(g.inputs())[1], expected)


def test_layers_compose_sharing_the_graph_and_train() -> None:
    k = jax.random.split(jax.random.key(0), 3)
    model = (
        GraphConv(3, 8, key=k[0])
        >> OnNodes(cdl.Relu())
        >> GraphConv(8, 8, aggregate=cdl.graphs.Max(), key=k[1])
        >> OnNodes(cdl.Linear(8, 1, key=k[2]))
    )
    assert repr(model.dom) == "(Graph × float[n,3])"
    assert repr(model.cod) == "(Graph × float[n,1])"
    g = cdl.graphs.batch([random_graph(i, 5, 8) for i in range(4)])
    target = jnp.asarray(g.in_degree, jnp.float32)[:, None]

    def loss(m: cdl.Para) -> jax.Array:  # type: ignore[type-arg]
        return jnp.mean((m(g.inputs())[1] - target) ** 2)

    gradient = eqx.filter_jit(eqx.filter_grad(loss))
    grads = gradient(model)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_array))
    assert leaves and all(bool(jnp.all(jnp.isfinite(x))) for x in leaves)
    assert any(float(jnp.abs(x).max()) > 0 for x in leaves)
    before = float(eqx.filter_jit(loss)(model))
    for _ in range(20):
        model = eqx.apply_updates(model, jax.tree.map(lambda d: -0.02 * d, grads))
        grads = gradient(model)
    assert float(eqx.filter_jit(loss)(model)) < before


def test_mismatched_layers_and_graphs_are_refused() -> None:
    k = jax.random.key(0)
    with pytest.raises(
        cdl.CompositionError,
        match=re.escape(
            "output (Graph × float[n,8]) of GraphConv(3→8, sum) != input "
            "(Graph × float[n,4]) of GraphConv(4→2, sum)"
        ),
    ):
        GraphConv(3, 8, key=k) >> GraphConv(4, 2, key=k)
    with pytest.raises(
        cdl.SpaceError,
        match=re.escape(
            "GraphConv(3→8, sum) expects input (Graph × float[n,3]), but was given"
        ),
    ):
        GraphConv(3, 8, key=k)((random_graph(0, 4, 3), jnp.ones((4, 5))))
    layer = MessagePassing(mlp(3 + 3 + 2, 4, 0), mlp(3 + 4, 3, 1))
    with pytest.raises(
        cdl.SpaceError,
        match=re.escape(
            "MessagePassing(3→3, edges 2, messages 4, sum) expects edge features of "
            "width 2, but the graph has edge features of width 1."
        ),
    ):
        layer(random_graph(0, 4, 3, edge_dim=1).inputs())
    rows = "reads one row of node features per node, but the graph has 4 nodes"
    on_nodes = OnNodes(cdl.Linear(3, 2, key=k))
    for node_layer in (
        layer,
        GraphConv(3, 8, key=k),
        Readout(cdl.graphs.Sum()),
        on_nodes,
    ):
        with pytest.raises(
            cdl.SpaceError, match=f"{re.escape(node_layer.label)} {rows}"
        ):
            node_layer((random_graph(0, 4, 3, edge_dim=2), jnp.ones((5, 3))))
    with pytest.raises(cdl.CompositionError, match="do not fit together"):
        MessagePassing(mlp(5, 4, 0), mlp(3 + 4, 3, 1))
    with pytest.raises(cdl.CompositionError, match="known size"):
        MessagePassing(cdl.Relu(), mlp(3 + 4, 3, 1))


def test_stochastic_messages_take_keys() -> None:
    message = mlp(6, 4, 0) >> cdl.Dropout(0.5)
    layer = MessagePassing(message, mlp(3 + 4, 2, 1))
    g = random_graph(0, 5, 12)
    assert layer.stochastic
    with pytest.raises(ValueError, match="needs a PRNG key"):
        layer(g.inputs())
    a = layer(g.inputs(), key=jax.random.key(0))[1]
    b = layer(g.inputs(), key=jax.random.key(1))[1]
    assert not close(a, b)
    assert close(
        cdl.inference_mode(layer)(g.inputs())[1],
        cdl.inference_mode(layer)(g.inputs())[1],
    )


def test_readout_folds_each_graph() -> None:
    parts = [random_graph(i, n, 4) for i, n in enumerate((2, 5, 3))]
    b = cdl.graphs.batch(parts)
    assert b.nodes is not None
    for monoid, fold in (
        (cdl.graphs.Sum(), jnp.sum),
        (cdl.graphs.Max(), jnp.max),
        (cdl.graphs.Mean(), jnp.mean),
    ):
        out = Readout(monoid)(b.inputs())
        for j, g in enumerate(parts):
            assert g.nodes is not None
            assert close(out[j], fold(g.nodes, axis=0))


def test_cokleisli_lifts_a_map_that_reads_the_graph() -> None:
    conv = GraphConv(3, 3, key=jax.random.key(0))
    lifted = cdl.graphs.CoKleisli(conv >> cdl.Snd())
    g = random_graph(0, 4, 6)
    graph, out = lifted(g.inputs())
    assert graph is g and close(out, conv(g.inputs())[1])
    dom, cod = lifted.signature()
    assert isinstance(dom, cdl.ProductSpace) and isinstance(cod, cdl.ProductSpace)
    assert repr(cod.factors[1]) == "float[n,3]"
    assert cod.factors[0] == dom.factors[0]  # the same graph comes out


def test_inputs_needs_node_features() -> None:
    with pytest.raises(GraphError, match="Graph with 3 nodes has no node features"):
        Graph.from_edge_list([(0, 1)], 3).inputs()


def test_graph_attention_matches_a_loop_over_nodes() -> None:
    g = random_graph(4, 6, 15)
    assert g.nodes is not None
    gat = cdl.graphs.GraphAttention(3, 4, key=jax.random.key(1))
    out = np.asarray(gat(g.inputs())[1])
    z = np.asarray(g.nodes @ gat.linear.weight.T)
    a, c = np.asarray(gat.source_score), np.asarray(gat.target_score)
    s_, r_ = np.asarray(g.senders), np.asarray(g.receivers)
    for v in range(6):
        incoming = s_[r_ == v]
        expected = np.asarray(gat.bias).copy()
        if incoming.size:
            scores = z[incoming] @ a + z[v] @ c
            scores = np.where(scores > 0, scores, 0.2 * scores)
            alpha = np.exp(scores - scores.max())
            alpha /= alpha.sum()
            expected += alpha @ z[incoming]
        np.testing.assert_allclose(out[v], expected, rtol=1e-4, atol=1e-5)
    weights = cdl.graphs.segment_softmax(jnp.asarray(np.arange(15.0)), g.receivers, 6)
    totals = jax.ops.segment_sum(weights, g.receivers, 6)
    assert jnp.allclose(totals, (g.in_degree > 0).astype(jnp.float32), atol=1e-6)


BATCH_LAYERS = [
    GraphConv(3, 4, aggregate=cdl.graphs.Max(), key=jax.random.key(2)),
    MessagePassing(mlp(3 + 3 + 2, 4, 3), mlp(3 + 4, 2, 4), aggregate=cdl.graphs.Mean()),
    cdl.graphs.GraphAttention(3, 2, key=jax.random.key(5)),
]


@settings(max_examples=6, deadline=None)
@given(
    st.lists(graphs(edge_dim=2), min_size=2, max_size=2), st.sampled_from(BATCH_LAYERS)
)
def test_a_batch_is_a_disjoint_union(parts: list[Graph], layer: cdl.Para) -> None:  # type: ignore[type-arg]
    # Running a layer on a batch is running it on each graph alone. Padding to
    # fixed sizes lets one compiled function serve every example.
    b = cdl.graphs.pad(cdl.graphs.batch(parts), 16, 40, 3)
    out = run_layer(layer, b)
    offset = 0
    for g in parts:
        alone = run_layer(layer, cdl.graphs.pad(g, 8, 20, 2))[: g.num_nodes]
        assert close(out[offset : offset + g.num_nodes], alone, 1e-4)
        offset += g.num_nodes


@eqx.filter_jit
def run_layer(layer: cdl.Para, graph: Graph) -> jax.Array:  # type: ignore[type-arg]
    out: jax.Array = layer(graph.inputs())[1]
    return out
