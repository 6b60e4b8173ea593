"""Permutation equivariance of every graph layer, on random graphs and permutations."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.graphs import (
    CoKleisli,
    GraphAction,
    GraphConv,
    MessagePassing,
    OnNodes,
    Propagate,
    Readout,
)

N, E, D = 7, 18, 3
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def mlp(n_in: int, n_out: int, seed: int) -> cdl.Para:  # type: ignore[type-arg]
    k1, k2 = jax.random.split(jax.random.key(seed))
    return cdl.Linear(n_in, 8, key=k1) >> cdl.Tanh() >> cdl.Linear(8, n_out, key=k2)


def features(layer: cdl.Para) -> Callable[[Any], jax.Array]:  # type: ignore[type-arg]
    return lambda x: layer(x)[1]


AGGREGATIONS = {
    "sum": cdl.graphs.Sum(),
    "mean": cdl.graphs.Mean(),
    "max": cdl.graphs.Max(),
    "min": cdl.graphs.Min(),
    "logsumexp": cdl.graphs.LogSumExp(),
}
k = jax.random.split(jax.random.key(0), 4)
LAYERS: dict[str, tuple[Callable[[Any], jax.Array], int, int]] = {}
for name, monoid in AGGREGATIONS.items():
    LAYERS[f"message passing, {name}"] = (
        features(
            MessagePassing(mlp(2 * D + 2, 4, 1), mlp(D + 4, 5, 2), aggregate=monoid)
        ),
        2,
        5,
    )
    LAYERS[f"graph conv, {name}"] = (
        features(GraphConv(D, 4, aggregate=monoid, key=k[0])),
        0,
        4,
    )
LAYERS["graph attention"] = (
    features(cdl.graphs.GraphAttention(D, 4, key=k[3])),
    0,
    4,
)
for semiring in (cdl.graphs.MIN_PLUS, cdl.graphs.MAX_PLUS, cdl.graphs.REAL):
    LAYERS[f"propagate, {semiring.name}"] = (features(Propagate(semiring)), 1, D)
LAYERS["on nodes"] = (features(OnNodes(mlp(D, 2, 3))), 0, 2)
LAYERS["cokleisli"] = (
    features(CoKleisli(GraphConv(D, 2, key=k[1]) >> cdl.Snd())),
    0,
    2,
)
LAYERS["composite"] = (
    features(
        GraphConv(D, 8, key=k[2])
        >> OnNodes(cdl.Relu())
        >> MessagePassing(mlp(16, 4, 5), mlp(12, 3, 6), aggregate=cdl.graphs.Max())
        >> OnNodes(cdl.Tanh())
    ),
    0,
    3,
)


def permutations(seed: int, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(N) for _ in range(count)]


@pytest.mark.parametrize("name", list(LAYERS))
@settings(max_examples=4, deadline=None)
@given(seed=seeds)
def test_layers_are_permutation_equivariant(name: str, seed: int) -> None:
    f, edge_dim, out_dim = LAYERS[name]
    act_in = GraphAction(N, E, D, edge_dim=edge_dim)
    act_out = cdl.permutation_action(N, (out_dim,))
    error = cdl.equivariance_error(
        f, act_in, act_out, key=jax.random.key(seed), elements=permutations(seed)
    )
    assert float(error) < 1e-5


@pytest.mark.parametrize("monoid", list(AGGREGATIONS.values()), ids=list(AGGREGATIONS))
def test_readout_is_permutation_invariant(
    monoid: cdl.graphs.AbstractAggregator,
) -> None:
    act_in = GraphAction(N, E, D)
    act_out = cdl.trivial_action(act_in.monoid, (1, D))
    assert cdl.is_equivariant(
        Readout(monoid),
        act_in,
        act_out,
        key=jax.random.key(0),
        elements=permutations(0),
    )


def test_a_layer_that_reads_node_numbers_is_caught() -> None:
    # Adding the node's index breaks equivariance; the check must see it.
    def numbered(x: Any) -> jax.Array:
        graph, h = x
        return h + jnp.arange(graph.num_nodes, dtype=h.dtype)[:, None]

    error = cdl.equivariance_error(
        numbered,
        GraphAction(N, E, D),
        cdl.permutation_action(N, (D,)),
        key=jax.random.key(0),
        elements=permutations(1),
    )
    assert float(error) > 0.1


def test_graph_action_satisfies_the_action_laws() -> None:
    act = GraphAction(N, E, D, edge_dim=2)
    x = act.random_input(jax.random.key(0))
    g, h = permutations(2, 2)
    once = act.act(act.monoid.multiply(g, h), x)
    twice = act.act(g, act.act(h, x))
    for a, b in zip(jax.tree.leaves(once), jax.tree.leaves(twice), strict=True):
        assert jnp.array_equal(a, b)
    same = act.act(act.monoid.identity(), x)
    for a, b in zip(jax.tree.leaves(same), jax.tree.leaves(x), strict=True):
        assert jnp.array_equal(a, b)
    # the package's own check reads graphs too (their indices and masks)
    cdl.check_action(act, key=jax.random.key(1), samples=1)
