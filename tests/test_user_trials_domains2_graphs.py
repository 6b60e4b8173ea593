"""Graphs and CLRS as a new user meets them, second round: indices, batches, names."""

import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.graphs import (
    Graph,
    GraphAction,
    GraphAttention,
    GraphConv,
    GraphError,
    MessagePassing,
    Product,
    batch,
    clrs,
    segment_softmax,
)

_INT32_MAX = 2**31 - 1


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 5),
    st.lists(
        st.integers(0, 4)
        | st.integers(-(2**40), 2**40)
        | st.sampled_from([2**31, 2**32, 2**32 + 1, -(2**32) + 2]),
        min_size=1,
        max_size=4,
    ),
)
def test_a_graph_holds_its_indices_exactly_or_names_the_first_outside(
    num_nodes: int, senders: list[int]
) -> None:
    # An int64 index past int32 was wrapped onto a node (2**32 + 1 read as 1).
    given = np.array(senders, np.int64)
    receivers = np.zeros(len(senders), np.int64)
    outside = np.flatnonzero((given < 0) | (given >= num_nodes))
    if outside.size:
        first = int(outside[0])
        text = f"Graph edge {first} sends from node {int(given[first])}, "
        with pytest.raises(GraphError, match=re.escape(text)):
            Graph(given, receivers, num_nodes=num_nodes)
    else:
        g = Graph(given, receivers, num_nodes=num_nodes)
        assert np.array_equal(np.asarray(g.senders), given)


def test_an_index_past_int32_is_named_not_wrapped() -> None:
    with pytest.raises(GraphError, match="receives at node 4294967297"):
        Graph(np.array([0]), np.array([2**32 + 1], np.int64), num_nodes=3)
    assert 2**32 + 1 > _INT32_MAX


def test_a_graph_built_under_jit_from_a_list_holding_a_tracer() -> None:
    build = jax.jit(lambda i: Graph([i, 0], [1, 0], num_nodes=2).senders)
    assert build(1).tolist() == [1, 0]


def test_batch_names_an_item_that_is_not_a_graph() -> None:
    g = Graph.from_edge_list([(0, 1)], 2, nodes=np.ones((2, 3), np.float32))
    # It was an AttributeError ('tuple' object has no attribute 'nodes').
    with pytest.raises(GraphError, match=r"item 1 is a tuple \(a \(graph, features"):
        batch([g, g.inputs()])
    with pytest.raises(GraphError, match="item 0 is a ndarray"):
        batch([np.ones(3), g])


@pytest.mark.parametrize("layer", [GraphConv, GraphAttention])
@pytest.mark.parametrize(
    ("in_dim", "out_dim", "name", "value"),
    [(0, 4, "in_dim", "0"), (3, 4.5, "out_dim", "4.5"), (-3, 4, "in_dim", "-3")],
)
def test_graph_layers_name_their_own_widths(
    layer: type, in_dim: object, out_dim: object, name: str, value: str
) -> None:
    # The message named the Linear inside ("Linear: in_dim must be ...").
    text = f"{layer.__name__}: {name} must be a positive int, but was given {value}."
    with pytest.raises(ValueError, match=re.escape(text)):
        layer(in_dim, out_dim, key=jax.random.key(0))


def test_message_passing_on_a_graph_without_edge_features_says_so() -> None:
    k = jax.random.key(0)
    layer = MessagePassing(cdl.Linear(7, 5, key=k), cdl.Linear(8, 4, key=k))
    g = Graph.from_edge_list([(0, 1)], 3, nodes=np.ones((3, 3), np.float32))
    with pytest.raises(
        cdl.SpaceError, match="edge features of width 1, but the graph has no edge"
    ):
        layer(g.inputs())


def test_segment_softmax_names_logits_and_ids_of_different_lengths() -> None:
    ids = jnp.array([0, 0, 1])
    with pytest.raises(cdl.SpaceError, match=r"logits have shape \(4,\) and the segm"):
        segment_softmax(jnp.ones(4), ids, 2)
    assert segment_softmax(jnp.zeros((3, 2)), ids, 2).shape == (3, 2)


@pytest.mark.parametrize("bad", [9, -1, 3])
def test_pointer_accuracy_names_a_pointer_outside_the_nodes(bad: int) -> None:
    pointers = np.zeros((2, 3), np.int32)
    predicted = pointers.copy()
    predicted[1, 2] = bad
    # A pointer to node 9 of a 3-node graph was scored as a miss, silently.
    with pytest.raises(ValueError, match=rf"in \[0, 3\) .* but hold {bad}\."):
        clrs.pointer_accuracy(predicted, pointers)
    with pytest.raises(ValueError, match=r"pointers must be node indices in \[0, 3\)"):
        clrs.pointer_accuracy(pointers, predicted)
    assert clrs.pointer_accuracy(pointers, pointers) == 1.0


@jax.jit
def _fold_and_grad(values: jax.Array, ids: jax.Array) -> tuple[jax.Array, jax.Array]:
    def total(v: jax.Array) -> jax.Array:
        return jnp.sum(Product().segment(v, ids, 4))

    return Product().segment(values, ids, 4), jax.grad(total)(values)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([0.0, 1.0, -2.0, 0.5, 3.0])),
        min_size=6,
        max_size=6,
    )
)
def test_product_aggregation_folds_and_differentiates_like_numpy(
    rows: list[tuple[int, float]],
) -> None:
    # Its gradient raised "scatter_mul gradients are only implemented if
    # `unique_indices=True`": GraphConv(aggregate=Product()) could not train.
    ids = jnp.array([r[0] for r in rows], jnp.int32)
    values = jnp.array([r[1] for r in rows], jnp.float32)
    fold, grads = _fold_and_grad(values, ids)
    for node in range(4):
        mine = [v for i, v in rows if i == node]
        assert float(fold[node]) == pytest.approx(float(np.prod(mine)))
    for index, (node, _) in enumerate(rows):
        others = [v for j, (i, v) in enumerate(rows) if i == node and j != index]
        assert float(grads[index]) == pytest.approx(float(np.prod(others)))


def test_graph_conv_with_product_aggregation_trains() -> None:
    g = Graph.from_edge_list([(0, 1), (2, 1), (1, 1)], 3, nodes=np.ones((3, 2)))
    conv = GraphConv(2, 2, aggregate=Product(), key=jax.random.key(0))
    loss = lambda m, x: jnp.sum(m((g, x))[1] ** 2)  # noqa: E731
    grads = eqx.filter_jit(jax.grad(loss, argnums=(0, 1)))(conv, g.nodes)
    assert all(
        bool(jnp.all(jnp.isfinite(leaf)))
        for leaf in jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    )


@pytest.mark.parametrize(
    ("monoid", "says"),
    [
        (cdl.Monoid.shifts(5), "Shift5, which is not a group"),
        (cdl.Monoid.cyclic(4), "C4, which acts on 4 points"),
        ("S5", "was given a str"),
    ],
    ids=["shifts", "size", "string"],
)
def test_graph_action_names_a_monoid_that_does_not_renumber_its_nodes(
    monoid: object, says: str
) -> None:
    # Each was accepted; the first failed inside a jitted check with Equinox's
    # runtime error, the second with a message about an IndexAction's slots.
    with pytest.raises(
        ValueError, match=f"must be a group of permutations of 5 .*{says}"
    ):
        GraphAction(5, 8, 2, monoid=monoid)  # type: ignore[arg-type]
    assert GraphAction(5, 8, 2, monoid=cdl.Monoid.cyclic(5)).monoid.order == 5
