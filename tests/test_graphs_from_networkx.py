"""Graph.from_networkx names the node whose features cannot be a row."""

import networkx as nx
import pytest

import cdl
from cdl.graphs import GraphError


def test_features_of_different_lengths_name_the_node() -> None:
    # numpy reported only "an inhomogeneous shape".
    g = nx.path_graph(3)
    for v in g.nodes:
        g.nodes[v]["x"] = [1.0, 2.0]
    g.nodes[1]["x"] = [1.0]
    with pytest.raises(
        GraphError, match=r"node 1's 'x' has shape \(1,\), where node 0"
    ):
        cdl.Graph.from_networkx(g, node_features="x")


def test_features_that_are_not_numbers_name_the_edge() -> None:
    g = nx.path_graph(2)
    nx.set_edge_attributes(g, "heavy", "w")
    with pytest.raises(GraphError, match=r"edge \(0, 1\)'s 'w' is not a number"):
        cdl.Graph.from_networkx(g, edge_features="w")
