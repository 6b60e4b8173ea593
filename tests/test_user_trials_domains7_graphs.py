"""Graph networks tried as an outside user tries them (seventh round)."""

import jax
import networkx as nx
import numpy as np
import pytest

from cdl.graphs import Graph, GraphError


def test_integer_features_float32_would_round_are_refused() -> None:
    # Integer features were cast to float32 silently, so an id of 2**24 + 1 was
    # read as 2**24 (another node's id), in Graph(...) and in from_networkx.
    with pytest.raises(GraphError, match=r"row 1 holds 16,777,217"):
        Graph([0], [1], num_nodes=2, nodes=np.array([3, 2**24 + 1]))
    with pytest.raises(GraphError, match=r"edge features .* row 0 holds -16,777,217"):
        Graph([0], [1], num_nodes=2, edges=np.array([-(2**24) - 1]))
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {v: 2**24 + v for v in g.nodes}, "id")
    with pytest.raises(GraphError, match=r"node features .* row 1 holds 16,777,217"):
        Graph.from_networkx(g, node_features="id")
    exact = Graph([0], [1], num_nodes=2, nodes=np.array([-(2**24), 2**24]))
    np.testing.assert_array_equal(exact.nodes[:, 0], [-(2**24), 2**24])


def test_integer_features_under_x64_are_float64() -> None:
    # Under jax_enable_x64 integer (and networkx) features were still float32.
    with jax.enable_x64(True):
        g = Graph([0], [1], num_nodes=2, nodes=np.array([3, 2**24 + 1]))
        assert g.nodes.dtype == np.float64
        assert float(g.nodes[1, 0]) == 2**24 + 1
        path = nx.path_graph(2)
        nx.set_node_attributes(path, {0: 0.1, 1: 2**30 + 1}, "x")
        h = Graph.from_networkx(path, node_features="x")
        assert h.nodes.dtype == np.float64
        assert float(h.nodes[1, 0]) == 2**30 + 1
        with pytest.raises(GraphError, match=r"read as float64, .* 9,007,199,254"):
            Graph([0], [1], num_nodes=2, nodes=np.array([0, 2**53 + 1]))


def test_categorical_node_ids_outside_the_embedding_are_named() -> None:
    # OnNodes(Embedding(4, 5)) given node ids [0, 4, 1] failed with Equinox's
    # long runtime report from inside the vmap over nodes.
    import jax.numpy as jnp

    import cdl
    from cdl.graphs import GraphConv, OnNodes

    g = Graph.from_edge_list([(0, 1), (1, 2)], 3, undirected=True)
    key = jax.random.key(0)
    model = OnNodes(cdl.Embedding(4, 5, key=key)) >> GraphConv(5, 2, key=key)
    assert model((g, jnp.array([0, 3, 1])))[1].shape == (3, 2)
    for ids, node, index in (([0, 4, 1], 1, 4), ([-1, 0, 1], 0, -1)):
        with pytest.raises(
            IndexError,
            match=rf"^OnNodes\(Embedding\(4, 5\)\): node {node} holds index {index}, "
            r"but the table has rows 0..3 only\.",
        ):
            model((g, jnp.array(ids)))


def test_aggregate_names_messages_given_as_a_list() -> None:
    # A list of messages failed inside JAX: "segment_sum requires ndarray or
    # scalar arguments, got <class 'list'> at position 0".
    from cdl.graphs import Sum, aggregate

    g = Graph.from_edge_list([(0, 1), (1, 2)], 3)
    with pytest.raises(TypeError, match=r"^aggregate: messages must be an array"):
        aggregate(g, [[1.0], [2.0]], Sum())  # type: ignore[arg-type]
    assert aggregate(g, np.array([[1.0], [2.0]]), Sum()).shape == (3, 1)


def test_aggregate_names_bool_messages_it_cannot_add() -> None:
    # Sum(), Mean() and Product() of bool messages failed inside JAX with "add
    # does not accept dtype bool at position 0", naming no fold.
    import jax.numpy as jnp

    from cdl.graphs import Max, Mean, Product, Sum, aggregate

    g = Graph(np.array([0, 1, 2]), np.array([1, 1, 2]), num_nodes=3)
    flags = jnp.array([[True], [False], [True]])
    for monoid, name in ((Sum(), "sum"), (Mean(), "mean"), (Product(), "product")):
        with pytest.raises(
            TypeError, match=rf"cannot take the {name} of bool messages"
        ):
            aggregate(g, flags, monoid)
    assert aggregate(g, flags, Max())[:, 0].tolist() == [False, True, True]


def test_stochastic_graph_layers_without_a_key_are_named() -> None:
    # MessagePassing with dropout in its message map, called without a key, was
    # refused under the message map's label ("Linear(6→4) >> Dropout(0.5) is
    # stochastic"), and OnNodes and each(...) likewise under their insides'.
    import jax.numpy as jnp

    import cdl
    from cdl.graphs import MessagePassing, OnNodes

    g = Graph.from_edge_list([(0, 1), (1, 2)], 3, nodes=np.ones((3, 3)))
    key = jax.random.key(0)
    drop = cdl.Linear(6, 4, key=key) >> cdl.Dropout(0.5)
    layers = {
        r"MessagePassing\(3→3": MessagePassing(drop, cdl.Linear(7, 3, key=key)),
        r"OnNodes\(Dropout": OnNodes(cdl.Dropout(0.5)),
    }
    for name, layer in layers.items():
        with pytest.raises(ValueError, match=rf"^{name}.* is stochastic and needs"):
            layer(g.inputs())
        assert layer(g.inputs(), key=key)[1].shape[0] == 3
    with pytest.raises(ValueError, match=r"^each\(Linear\(6→4\) >> Dropout"):
        cdl.Each(drop)(jnp.ones((2, 6)))
