"""Graphs given to fit in ways users get wrong are named before training."""

import jax
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, DataError, Graphs, Learner, SoftmaxCrossEntropy, fit


def model(width: int) -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))
    return (
        cdl.graphs.GraphConv(width, 4, key=k1)
        >> cdl.graphs.Readout()
        >> cdl.Each(cdl.Linear(4, 2, key=k2))
    )


def train(graphs: list[cdl.Graph], labels: object) -> object:
    m = model(3)
    learner = Learner(m, SoftmaxCrossEntropy(), SGD(0.1))
    return fit(
        learner, m, graphs, labels, epochs=1, batch_size=2,
        key=jax.random.key(0), progress=False,
    )  # fmt: skip


def test_graphs_without_node_features_say_so() -> None:
    bare = [cdl.Graph.from_edge_list([(0, 1)], 2) for _ in range(4)]
    with pytest.raises(DataError, match=r"carry no node features \(nodes=None\)"):
        train(bare, np.zeros(4, np.int32))


def test_per_node_labels_of_graphs_of_different_sizes_are_named() -> None:
    # They raised numpy's "inhomogeneous shape" ValueError.
    graphs = [
        cdl.Graph.from_edge_list([(0, 1)], n, nodes=np.ones((n, 3), np.float32))
        for n in (2, 3, 4)
    ]
    per_node = [np.zeros(g.num_nodes, np.int32) for g in graphs]
    with pytest.raises(DataError, match=r"different lengths \[2, 3, 4\]"):
        Graphs(graphs, per_node)


def test_a_graph_model_without_readout_says_to_add_one() -> None:
    # Its outputs (graph, node features) met the loss as an AttributeError.
    k1, k2 = jax.random.split(jax.random.key(0))
    nodes = cdl.graphs.GraphConv(3, 4, key=k1) >> cdl.graphs.OnNodes(
        cdl.Linear(4, 2, key=k2)
    )
    g = cdl.Graph.from_edge_list([(0, 1)], 2, nodes=np.ones((2, 3), np.float32))
    with pytest.raises(DataError, match=r"\(Graph × f32\[.*end it in .*Readout"):
        fit(
            Learner(nodes, SoftmaxCrossEntropy(), SGD(0.1)), nodes, [g] * 4,
            np.zeros(4, np.int32), epochs=1, batch_size=2, key=jax.random.key(0),
            progress=False,
        )  # fmt: skip
