"""CLRS Bellman-Ford against networkx and SciPy; arguments refused by name.

A string probability and a bad seed reached NumPy (`'<=' not supported`,
`SeedSequence expects int`); `pointer_accuracy` scored pointers that are not
node indices (a float prediction of 0.5 counted as wrong, silently) and gave no
hint when handed the scores over the candidates instead of their argmax. The
benchmark's `--models median` raised a KeyError after sampling the data, and
`--seeds 0` a StatisticsError after training.
"""

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse.csgraph as csgraph

from cdl.graphs import clrs

BENCHMARK = Path(__file__).parent.parent / "benchmarks" / "clrs_bellman_ford.py"


def _is_predecessor(w: np.ndarray, dist: np.ndarray, u: int, v: int) -> bool:
    return bool(w[u, v] != 0 and abs(dist[u] + w[u, v] - dist[v]) <= 1e-5)


def test_pointers_are_shortest_path_predecessors_of_networkx() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(1, 14))
        w = clrs.er_graph(n, float(rng.choice([0.1, 0.5, 1.0])), rng)
        source = int(rng.integers(n))
        pi = clrs.bellman_ford(w, source)
        graph = nx.from_numpy_array(w * (1 - np.eye(n)))
        found = nx.single_source_bellman_ford_path_length(graph, source)
        dist = np.array([found.get(v, np.inf) for v in range(n)])
        for v in range(n):
            if v == source or v not in found:
                assert pi[v] == v
            else:
                assert _is_predecessor(w, dist, int(pi[v]), v)


def test_negative_directed_weights_match_scipy() -> None:
    rng = np.random.default_rng(1)
    for _ in range(40):
        n = int(rng.integers(2, 10))
        dag = np.triu(rng.uniform(-1, 1, (n, n)) * (rng.random((n, n)) < 0.5), 1)
        order = rng.permutation(n)
        w = dag[order][:, order].astype(np.float32)
        source = int(rng.integers(n))
        pi = clrs.bellman_ford(w, source)
        dist = csgraph.bellman_ford(w, indices=source)
        for v in range(n):
            if v == source or not np.isfinite(dist[v]):
                assert pi[v] == v
            else:
                assert _is_predecessor(w, dist, int(pi[v]), v)


@pytest.mark.parametrize(
    ("p", "seed", "says"),
    [
        (("0.5",), 0, r"every p in \[0, 1\], got nodes=4, p=\('0.5',\)"),
        ((0.5,), "a", "seed must be an int >= 0 .*, got str 'a'"),
        ((0.5,), -1, "seed must be an int >= 0 .*, got int -1"),
        ((0.5,), 1.5, "seed must be an int >= 0 .*, got float 1.5"),
    ],
)
def test_sample_names_bad_probabilities_and_seeds(
    p: tuple[object, ...], seed: object, says: str
) -> None:
    with pytest.raises(ValueError, match=f"sample: .*{says}"):
        clrs.sample(2, 4, p=p, seed=seed)  # type: ignore[arg-type]


def test_sample_takes_a_generator_as_seed() -> None:
    drawn = clrs.sample(2, 4, p=(0.5,), seed=np.random.default_rng(3))
    again = clrs.sample(2, 4, p=(0.5,), seed=3)
    np.testing.assert_array_equal(drawn.weights, again.weights)


def test_er_graph_names_a_probability_that_is_not_a_number() -> None:
    with pytest.raises(ValueError, match=r"er_graph: .* got n=5, p='0.5'\."):
        clrs.er_graph(5, "0.5", np.random.default_rng(0))  # type: ignore[arg-type]


def test_pointer_accuracy_refuses_what_is_not_node_indices() -> None:
    pointers = np.array([[0, 0, 1]])
    with pytest.raises(ValueError, match="predicted must be node indices .* hold 0.5;"):
        clrs.pointer_accuracy(np.array([[0.0, 0.5, 1.0]]), pointers)
    with pytest.raises(ValueError, match="hold values of dtype <U1"):
        clrs.pointer_accuracy(np.array([["a", "b", "c"]]), pointers)
    with pytest.raises(ValueError, match="pointers must be node indices .* hold nan"):
        clrs.pointer_accuracy(pointers, np.array([[0, 0, np.nan]]))
    scores = np.zeros((1, 3, 3))
    with pytest.raises(ValueError, match="look like scores over the candidates"):
        clrs.pointer_accuracy(scores, pointers)
    assert clrs.pointer_accuracy(np.array([[0.0, 0.0, 2.0]]), pointers) == 2 / 3


def test_benchmark_names_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("clrs_bellman_ford", BENCHMARK)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for argv, says in [
        (["--models", "min,median"], "unknown aggregation 'median'; choose from min"),
        (["--seeds", "0"], "--seeds: expected a positive int, got '0'"),
        (["--train", "x"], "--train: expected a positive int, got 'x'"),
    ]:
        with pytest.raises(SystemExit):
            bench.main(argv)
        assert says in capsys.readouterr().err
