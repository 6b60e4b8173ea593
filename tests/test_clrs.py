"""The CLRS-30 Bellman-Ford sampler matches the paper's description."""

import numpy as np
import pytest
from scipy.sparse.csgraph import shortest_path

from cdl.graphs import clrs


@pytest.fixture(scope="module")
def train() -> clrs.Sample:
    return clrs.sample(1000, clrs.TRAIN_NODES, p=clrs.TRAIN_P, seed=10)


@pytest.fixture(scope="module")
def test() -> clrs.Sample:
    return clrs.sample(100, clrs.TEST_NODES, p=clrs.TEST_P, seed=11)


def _off_diagonal(w: np.ndarray) -> np.ndarray:
    n = w.shape[1]
    return w[:, ~np.eye(n, dtype=bool)]


def test_edge_density_is_p_squared(train: clrs.Sample, test: clrs.Sample) -> None:
    # Kept pairs are drawn both ways: an edge with probability p², a loop with p.
    mean_p2 = float(np.mean(np.square(clrs.TRAIN_P)))
    assert abs(np.mean(_off_diagonal(train.weights) != 0) - mean_p2) < 0.01
    assert abs(np.mean(_off_diagonal(test.weights) != 0) - 0.25) < 0.01
    loops = np.diagonal(train.weights, axis1=1, axis2=2)
    assert abs(np.mean(loops != 0) - np.mean(clrs.TRAIN_P)) < 0.01


def test_p_is_drawn_per_graph(train: clrs.Sample) -> None:
    # Per-graph densities spread over the nine values of p², not around one.
    density = np.mean(_off_diagonal(train.weights) != 0, axis=1)
    assert density.min() < 0.05 and density.max() > 0.7
    assert np.std(density) > 0.2


def test_weights_symmetric_and_in_range(train: clrs.Sample, test: clrs.Sample) -> None:
    for data in (train, test):
        w = data.weights
        assert np.array_equal(w, w.transpose(0, 2, 1))
        present = w[w != 0]
        # sqrt(u·u' + 1e-3) with u, u' uniform in [0, 1).
        assert present.min() >= np.sqrt(1e-3) - 1e-6
        assert present.max() < np.sqrt(1 + 1e-3) + 1e-6
    # The product of two uniforms: its square root has mean ≈ E[√u]² = 4/9.
    assert (
        abs(
            np.mean(_off_diagonal(test.weights)[_off_diagonal(test.weights) != 0])
            - 4 / 9
        )
        < 0.01
    )


def test_sources_uniform(train: clrs.Sample) -> None:
    counts = np.bincount(train.source, minlength=clrs.TRAIN_NODES)
    assert counts.min() > 30 and counts.max() < 100


@pytest.fixture(scope="module")
def distances(train: clrs.Sample, test: clrs.Sample) -> dict[int, np.ndarray]:
    return {data.weights.shape[1]: _distances(data) for data in (train, test)}


def _distances(data: clrs.Sample) -> np.ndarray:
    w = data.weights.copy()
    n = w.shape[1]
    w[:, np.arange(n), np.arange(n)] = 0
    return np.stack(
        [
            shortest_path(g, indices=int(s), directed=False)
            for g, s in zip(w, data.source, strict=True)
        ]
    )


def test_pointers_are_shortest_path_predecessors(
    train: clrs.Sample, test: clrs.Sample, distances: dict[int, np.ndarray]
) -> None:
    for data in (train, test):
        n = data.weights.shape[1]
        d = distances[n]
        nodes = np.arange(n)
        for w, s, pi, dist in zip(
            data.weights, data.source, data.pointers, d, strict=True
        ):
            reached = np.isfinite(dist)
            stay = ~reached | (nodes == s)
            assert np.array_equal(pi[stay], nodes[stay])
            v = np.flatnonzero(~stay)
            u = pi[v]
            assert np.all(w[u, v] != 0)
            np.testing.assert_allclose(dist[u] + w[u, v], dist[v], rtol=1e-5)


def test_reachability(distances: dict[int, np.ndarray]) -> None:
    # Dense 64-node test graphs are connected; sparse training graphs often not.
    assert np.all(np.isfinite(distances[clrs.TEST_NODES]))
    reached = np.isfinite(distances[clrs.TRAIN_NODES]).mean(axis=1)
    assert 0.6 < reached.mean() < 0.95 and reached.min() < 0.2


def test_score_and_errors() -> None:
    truth = np.array([[0, 0, 1]])
    assert clrs.pointer_accuracy(np.array([[0, 0, 0]]), truth) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="pointer_accuracy"):
        clrs.pointer_accuracy(np.zeros((1, 2)), truth)
    with pytest.raises(ValueError, match="er_graph"):
        clrs.er_graph(4, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="bellman_ford"):
        clrs.bellman_ford(np.zeros((3, 3), np.float32), 3)
    with pytest.raises(ValueError, match="no pointers to score"):
        clrs.pointer_accuracy(np.zeros((0, 3)), np.zeros((0, 3)))


def test_bellman_ford_on_edge_cases() -> None:
    # Two components: the far one is never reached and points at itself.
    w = np.zeros((4, 4), np.float32)
    w[0, 1] = w[1, 0] = w[2, 3] = w[3, 2] = 1.0
    assert clrs.bellman_ford(w, 0).tolist() == [0, 0, 2, 3]
    assert clrs.bellman_ford(np.ones((1, 1), np.float32), 0).tolist() == [0]
    # A negative edge without a negative cycle: 0 -> 2 -> 1 beats 0 -> 1.
    d = np.zeros((3, 3), np.float32)
    d[0, 1], d[0, 2], d[2, 1] = 4.0, 1.0, -2.0
    assert clrs.bellman_ford(d, 0).tolist() == [0, 2, 0]
    # A negative cycle 1 -> 2 -> 1 reachable from 0 has no shortest paths; it
    # used to loop forever. Unreachable from the source, it does not matter.
    cycle = np.zeros((3, 3), np.float32)
    cycle[0, 1], cycle[1, 2], cycle[2, 1] = 1.0, -3.0, 1.0
    with pytest.raises(ValueError, match="negative weight is reachable from source 0"):
        clrs.bellman_ford(cycle, 0)
    cycle[0, 1] = 0.0
    assert clrs.bellman_ford(cycle, 0).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"square matrix \[n, n\] .* shape \(2, 3\)"):
        clrs.bellman_ford(np.ones((2, 3), np.float32), 0)
    with pytest.raises(ValueError, match=r"weight \[0, 1\] is nan"):
        clrs.bellman_ford(np.array([[0, np.nan], [1, 0]], np.float32), 0)
