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
