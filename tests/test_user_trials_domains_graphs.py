"""Graphs as a new user builds them: the mistakes and edge cases they run into."""

import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
from jaxtyping import Array, Float

import cdl
from cdl.graphs import (
    CoKleisli,
    Graph,
    GraphConv,
    GraphError,
    Max,
    MessagePassing,
    OnNodes,
    Propagate,
    Readout,
    aggregate,
    batch,
    clrs,
)


def test_edges_without_num_nodes_or_node_features_ask_for_num_nodes() -> None:
    with pytest.raises(GraphError, match=re.escape("give num_nodes=")):
        Graph(jnp.array([0]), jnp.array([1]))


def test_a_graph_with_no_edges_needs_no_num_nodes() -> None:
    assert Graph(jnp.zeros(0, int), jnp.zeros(0, int)).num_nodes == 0


@pytest.mark.parametrize("field", ["nodes", "edges"])
def test_a_single_number_as_a_feature_table_is_named(field: str) -> None:
    what = field[:-1]
    with pytest.raises(GraphError, match=f"{what} features must be a table"):
        Graph.from_edge_list([(0, 1)], 2, **{field: 1.0})


def test_networkx_graph_without_edges_reads_edge_features() -> None:
    nxg = nx.empty_graph(3)
    nx.set_node_attributes(nxg, 1.0, "x")
    g = Graph.from_networkx(nxg, node_features="x", edge_features="weight")
    assert g.num_edges == 0 and g.edges is not None and g.edges.shape == (0, 1)
    path = nx.path_graph(2)
    nx.set_node_attributes(path, 1.0, "x")
    nx.set_edge_attributes(path, 2.0, "weight")
    other = Graph.from_networkx(path, node_features="x", edge_features="weight")
    both = batch([g, other])
    assert both.edges is not None and both.edges.shape == (2, 1)


def test_an_undirected_self_loop_is_one_edge() -> None:
    g = Graph.from_edge_list([(0, 0), (0, 1)], 2, edges=[5.0, 7.0], undirected=True)
    pairs = sorted(zip(g.senders.tolist(), g.receivers.tolist(), strict=True))
    assert pairs == [(0, 0), (0, 1), (1, 0)]
    assert g.edges is not None
    assert sorted(g.edges[:, 0].tolist()) == [5.0, 7.0, 7.0]


def test_networkx_self_loop_sends_one_message() -> None:
    nxg = nx.Graph([(0, 0), (0, 1)])
    nx.set_node_attributes(nxg, {0: [1.0], 1: [10.0]}, "x")
    g = Graph.from_networkx(nxg, node_features="x")
    conv = GraphConv(1, 1, key=jax.random.key(0))
    h = conv(g.inputs())[1]
    # the sum over the neighbours of node 0 is x_0 + x_1 = 11, as networkx's adjacency
    adjacency = nx.to_numpy_array(nxg, nodelist=[0, 1])
    root, neighbours = conv.root, conv.neighbours
    expected = jax.vmap(root)(g.nodes) + jax.vmap(neighbours)(
        jnp.asarray(adjacency.T, jnp.float32) @ g.nodes
    )
    np.testing.assert_allclose(h, expected, rtol=1e-6)


def test_permuting_a_batch_across_its_graphs_names_the_permutation() -> None:
    g = Graph.from_edge_list([(0, 1)], 2)
    both = batch([g, g])
    with pytest.raises(GraphError, match=r"Graph.permute: new node 0 of graph 0"):
        both.permute(np.array([2, 1, 0, 3]))
    assert both.permute(np.array([1, 0, 3, 2])).num_nodes == 4


@pytest.mark.parametrize("source", [1.5, 1.0, True])
def test_bellman_ford_source_that_is_not_a_node_number_is_named(source: object) -> None:
    with pytest.raises(ValueError, match=r"source must be a node in \[0, 3\)"):
        clrs.bellman_ford(np.ones((3, 3), np.float32), source)  # type: ignore[arg-type]


def test_bellman_ford_takes_numpy_integers() -> None:
    assert clrs.bellman_ford(np.ones((3, 3), np.float32), np.int64(1)).tolist() == [
        1,
        1,
        1,
    ]


@pytest.mark.parametrize(
    ("nodes", "p", "says"),
    [
        (-1, clrs.TEST_P, "nodes >= 1"),
        (0, clrs.TEST_P, "nodes >= 1"),
        (4, (1.5,), "every p in"),
        (4, 0.5, "a tuple of at least one p"),
    ],
)
def test_sample_names_bad_sizes_and_probabilities(
    nodes: int, p: object, says: str
) -> None:
    with pytest.raises(ValueError, match=f"sample: expected .*{says}"):
        clrs.sample(2, nodes, p=p, seed=0)  # type: ignore[arg-type]


KEY = jax.random.key(0)


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda: GraphConv(2, 3, aggregate="max", key=KEY), r"GraphConv: .*Max\(\)"),
        (lambda: GraphConv(2, 3, aggregate=Max, key=KEY), r"the class Max"),
        (lambda: Readout("mean"), r"Readout: .*Mean\(\), not the string 'mean'"),
        (
            lambda: MessagePassing(
                cdl.Linear(4, 2, key=KEY), cdl.Linear(4, 2, key=KEY), aggregate=jnp.max
            ),
            r"MessagePassing: .*Monoid\(operation, unit\).*the function max",
        ),
        (lambda: Propagate("min"), r"Propagate needs a cdl.graphs.Semiring"),
        (lambda: OnNodes(jax.nn.relu), r"OnNodes needs a cdl morphism .*cdl.lift"),
        (lambda: CoKleisli(lambda x: x[1]), r"CoKleisli needs a cdl morphism"),
        (
            lambda: MessagePassing(jnp.tanh, cdl.Linear(4, 2, key=KEY)),
            r"MessagePassing's message needs a cdl morphism",
        ),
    ],
)
def test_graph_layers_name_aggregations_and_maps_of_the_wrong_kind(
    build: Callable[[], object], says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        build()


def test_aggregate_names_an_aggregation_given_as_a_string() -> None:
    g = Graph.from_edge_list([(0, 1)], 2)
    with pytest.raises(TypeError, match=r"cdl.graphs.Min\(\), not the string 'min'"):
        aggregate(g, jnp.ones(1), "min")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sizes", "says"),
    [
        ((3, -1, 2, 0), "num_edges must be an int >= 0"),
        ((3, 4, 0, 0), "node_dim must be a positive int"),
        ((3, 4, 2, -2), "edge_dim must be an int >= 0"),
    ],
)
def test_graph_action_names_sizes_that_are_no_sizes(
    sizes: tuple[int, int, int, int], says: str
) -> None:
    n, e, d, edge_dim = sizes
    with pytest.raises(ValueError, match=f"GraphAction: {says}"):
        cdl.GraphAction(n, e, d, edge_dim=edge_dim)


def test_a_monoid_or_semiring_of_an_operation_that_is_not_a_function_is_named() -> None:
    with pytest.raises(TypeError, match=r"Monoid needs an elementwise function"):
        cdl.graphs.Monoid("add", 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Semiring: times needs an elementwise"):
        cdl.graphs.Semiring(Max(), "min", 1.0)  # type: ignore[arg-type]


def test_a_networkx_multigraph_gives_each_parallel_edge() -> None:
    multi = nx.MultiDiGraph()
    multi.add_edge(0, 1, w=1.0)
    multi.add_edge(0, 1, w=5.0)
    g = Graph.from_networkx(multi, edge_features="w")
    assert g.senders.tolist() == [0, 0] and g.receivers.tolist() == [1, 1]
    assert g.edges is not None and g.edges[:, 0].tolist() == [1.0, 5.0]
    undirected = nx.MultiGraph([(0, 1), (0, 1)])
    assert Graph.from_networkx(undirected).num_edges == 4


def test_from_networkx_names_what_is_not_a_networkx_graph() -> None:
    with pytest.raises(
        GraphError, match=r"needs a networkx graph, .*Graph.from_edge_list"
    ):
        Graph.from_networkx([(0, 1)])


def test_clrs_names_sizes_that_are_not_whole_and_a_seed_given_for_a_generator() -> None:
    with pytest.raises(ValueError, match=r"er_graph: expected n >= 1 .* n=3.5"):
        clrs.er_graph(3.5, 0.5, np.random.default_rng(0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"rng must be a NumPy generator"):
        clrs.er_graph(3, 0.5, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"sample: expected count >= 1"):
        clrs.sample(2.5, 4, p=(0.5,), seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"sample: expected nodes >= 1"):
        clrs.sample(2, 4.0, p=(0.5,), seed=0)  # type: ignore[arg-type]
    assert clrs.sample(np.int64(2), np.int32(4), p=(0.5,), seed=0).weights.shape == (
        2,
        4,
        4,
    )


def test_message_passing_whose_update_is_smaller_than_its_message_says_so() -> None:
    says = r"must take more than 16 inputs, but it takes 10\.$"
    with pytest.raises(cdl.CompositionError, match=says):
        MessagePassing(cdl.Linear(8, 16, key=KEY), cdl.Linear(10, 4, key=KEY))
    says = r"must take at least 2·4 = 8 inputs, but it takes 5\.$"
    with pytest.raises(cdl.CompositionError, match=says):
        MessagePassing(cdl.Linear(5, 16, key=KEY), cdl.Linear(20, 4, key=KEY))


def test_a_graph_given_without_its_features_is_refused_by_the_input_check() -> None:
    g = Graph.from_edge_list([(0, 1), (1, 2)], num_nodes=3, undirected=True)
    conv = GraphConv(5, 4, key=jax.random.key(0))
    told = r"expects input \(Graph × float\[n,5\]\), but was given Graph \(a Graph is "
    with pytest.raises(cdl.SpaceError, match=told + "not a tuple"):
        conv(g)  # type: ignore[arg-type]
    with pytest.raises(cdl.SpaceError, match="a dict is not a tuple"):
        conv({"graph": g, "x": jnp.ones((3, 5))})  # type: ignore[arg-type]
    assert conv((g, jnp.ones((3, 5))))[1].shape == (3, 4)


def test_a_graph_whose_arrays_were_mapped_to_shapes_prints() -> None:
    g = Graph.from_edge_list([(0, 1)], num_nodes=2, nodes=jnp.ones((2, 3)))
    shapes = jax.tree.map(jnp.shape, g)
    assert "senders=(1,)" in repr(shapes)
    assert repr(g) == "Graph(nodes=2, edges=1, graphs=1, node_features=3)"


def test_lift_reads_a_function_of_a_graph_and_its_features() -> None:
    def normalised(
        x: tuple[Graph, Float[Array, "n d"]],
    ) -> tuple[Graph, Float[Array, "n d"]]:
        g, h = x
        return g, h / (1.0 + jnp.linalg.norm(h, axis=-1, keepdims=True))

    layer = cdl.lift(normalised)
    assert repr(layer.dom) == "(Graph × float[n,d])"
    g = Graph.from_edge_list([(0, 1)], num_nodes=2)
    model = GraphConv(3, 4, key=jax.random.key(0)) >> layer
    assert model((g, jnp.ones((2, 3))))[1].shape == (2, 4)

    def untyped(x: tuple[Graph, int]) -> int:
        return x[1]

    with pytest.raises(TypeError, match="no jaxtyping annotations"):
        cdl.lift(untyped)
