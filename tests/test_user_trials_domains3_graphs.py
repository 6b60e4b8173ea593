"""Graph trials: attention weights over masked edges, and graph layers on edge cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

KEY = jax.random.key(0)


def test_segment_softmax_of_a_fully_masked_segment_is_zero_with_a_finite_gradient() -> (
    None
):
    # Masking edges with -inf logits is the usual way to drop them; a node all of
    # whose incoming edges were masked got 0/0 = NaN weights and NaN gradients.
    logits = jnp.array([0.0, -jnp.inf, -jnp.inf, 1.0, -jnp.inf, 2.0])
    ids = jnp.array([0, 1, 1, 2, 2, 2])
    weights = cdl.graphs.segment_softmax(logits, ids, 4)
    expected = np.array([1.0, 0.0, 0.0, 1 / (1 + np.e), 0.0, np.e / (1 + np.e)])
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-6)
    grad = jax.grad(lambda z: cdl.graphs.segment_softmax(z, ids, 4) @ jnp.arange(6.0))
    assert bool(jnp.all(jnp.isfinite(grad(logits))))


MESSAGES = jnp.array([4.0, 2.0])
TWO_INTO_ONE = cdl.graphs.Graph.from_edge_list([(0, 1), (2, 1)], 3)
ALONE = np.array([0, 2, 3])  # the nodes of a 4-node TWO_INTO_ONE that receive nothing


@pytest.mark.parametrize(
    ("monoid", "received"),
    [
        (cdl.graphs.Sum(), 6.0),
        (cdl.graphs.Product(), 8.0),
        (cdl.graphs.Mean(), 3.0),
        (cdl.graphs.Min(), 2.0),
        (cdl.graphs.Monoid(jnp.multiply, 1.0, "times"), 8.0),
    ],
    ids=["sum", "product", "mean", "min", "user product"],
)
def test_aggregate_gives_nodes_that_receive_nothing_the_empty_value_asked_for(
    monoid: cdl.graphs.AbstractAggregator, received: float
) -> None:
    # `empty` was read only for max, min and log-sum-exp: a sum, mean or product
    # left its own identity (0 or 1) where empty=-1 was asked for.
    folded = cdl.graphs.aggregate(TWO_INTO_ONE, MESSAGES, monoid, empty=-1.0)
    assert folded.tolist() == [-1.0, received, -1.0]


def test_a_product_graph_layer_gives_a_node_with_no_neighbour_no_neighbour_term() -> (
    None
):
    # Inside the layers a node that receives nothing folds to 0, as for max and
    # min; with Product it folded to 1, so W₂·1 was added to an isolated node.
    nodes = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3)), jnp.float32)
    graph = cdl.graphs.Graph.from_edge_list([(0, 1), (2, 1)], 4, nodes=nodes)
    key = jax.random.key(0)
    _, by_sum = cdl.graphs.GraphConv(3, 2, key=key)(graph.inputs())
    for monoid in (cdl.graphs.Product(), cdl.graphs.Max(), cdl.graphs.Mean()):
        _, out = cdl.graphs.GraphConv(3, 2, aggregate=monoid, key=key)(graph.inputs())
        # nodes 0, 2 and 3 receive nothing: only W₁x + b, as with a sum
        np.testing.assert_allclose(out[ALONE], by_sum[ALONE], atol=1e-6)
    nothing = cdl.graphs.Graph(
        jnp.zeros(0, jnp.int32), jnp.zeros(0, jnp.int32), num_nodes=0,
        nodes=jnp.ones((0, 3)),
    )  # fmt: skip
    both = cdl.graphs.batch([graph, nothing])
    folded = cdl.graphs.Readout(cdl.graphs.Product())(both.inputs())
    assert folded[1].tolist() == [0.0, 0.0, 0.0]  # a graph with no node folds to 0


def test_graph_builders_name_arguments_of_the_wrong_kind() -> None:
    # Each raised from inside JAX (invalid PRNG key data, "Shapes must be 1D
    # sequences of concrete values of integer type", leaky_relu's argument) or
    # AttributeError, naming nothing of the user's.
    g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2, nodes=jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="GraphConv: key must be a PRNG key"):
        cdl.graphs.GraphConv(3, 4, key=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GraphAttention: key must be a PRNG key"):
        cdl.graphs.GraphAttention(3, 4, key=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative_slope must be a finite number"):
        cdl.graphs.GraphAttention(3, 4, negative_slope="a", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(cdl.graphs.GraphError, match="pad: num_nodes must be an int"):
        cdl.graphs.pad(g, 4.0, 2, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pad needs a cdl.graphs.Graph, but was given"):
        cdl.graphs.pad((g, g.nodes), 4, 2, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aggregate needs a cdl.graphs.Graph"):
        cdl.graphs.aggregate(g.senders, jnp.ones(1), cdl.graphs.Sum())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("operation", "unit", "law"),
    [
        (jnp.subtract, 0.0, r"op\(a, b\) = op\(b, a\) fails"),
        (lambda a, b: (a + b) / 2, 0.0, r"op\(op\(a, b\), c\) = op\(a, op\(b, c\)\)"),
        (jnp.add, 1.0, r"op\(a, 1.0\) = a fails"),
    ],
    ids=["not commutative", "not associative", "wrong unit"],
)
def test_a_monoid_whose_operation_breaks_a_law_is_refused(
    operation: object, unit: float, law: str
) -> None:
    # The fold sorts a segment's rows and scans them in an order of its own, so
    # such an operation gave results that depended on the order of the edges.
    with pytest.raises(ValueError, match=law):
        cdl.graphs.Monoid(operation, unit, "m")  # type: ignore[arg-type]


def test_lawful_user_monoids_are_taken() -> None:
    for operation, unit in [
        (jnp.gcd, 0), (jnp.bitwise_or, 0), (jnp.logaddexp, -jnp.inf),
        (jnp.maximum, -jnp.inf), (jnp.multiply, 1.0),
    ]:  # fmt: skip
        cdl.graphs.Monoid(operation, unit)


def test_graph_inputs_holding_their_own_node_features_are_told_how_to_pass() -> None:
    # A real graph passed as inputs=(graph, features) carries graph.nodes too: the
    # message listed 7 arrays against 6 and left the user to find why.
    conv = cdl.graphs.GraphConv(3, 2, key=KEY)
    act = cdl.GraphAction(5, 6, 3)
    ring = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)]
    g = cdl.graphs.Graph.from_edge_list(ring, 5, nodes=jnp.ones((5, 3)))
    out = cdl.permutation_action(5, (2,))
    perm = [np.array([2, 0, 1, 4, 3])]

    def measure(pair: tuple[cdl.graphs.Graph, jax.Array]) -> jax.Array:
        batch = jax.tree.map(lambda a: a[None], pair)
        return cdl.equivariance_error(
            lambda x: conv(x)[1], act, out, key=KEY, inputs=batch, elements=perm
        )

    with pytest.raises(ValueError, match=r"pass \(graph.with_nodes\(None\), features"):
        measure((g, g.nodes))
    assert float(measure((g.with_nodes(None), g.nodes))) < 1e-6


def test_an_undirected_edge_list_holding_both_directions_is_refused() -> None:
    with pytest.raises(cdl.graphs.GraphError, match=r"edge 0-1 is listed both"):
        cdl.graphs.Graph.from_edge_list([(0, 1), (2, 1), (1, 0)], 3, undirected=True)
    g = cdl.graphs.Graph.from_edge_list([(0, 1), (0, 1), (1, 1)], 2, undirected=True)
    assert g.senders.tolist() == [0, 0, 1, 1, 1]
