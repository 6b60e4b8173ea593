"""The CLRS Bellman-Ford pointer networks: masking, equivariance, a tiny run."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cdl.graphs import clrs

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "clrs_bellman_ford.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clrs_bellman_ford", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["clrs_bellman_ford"] = module
    spec.loader.exec_module(module)
    return module


bench = _load()


@pytest.mark.parametrize("name", ["min", "sum"])
def test_pointers_masked_and_equivariant(name: str) -> None:
    data = clrs.sample(1, 8, p=(0.5,), seed=3)
    model = bench.PointerNet(bench.AGGREGATIONS[name], 8, 3, key=jax.random.key(0))
    w, s = (jnp.asarray(a[0]) for a in bench.inputs(data))
    run = eqx.filter_jit(lambda m, x: m(x))
    logits = run(model, (w, s))
    present = (np.asarray(w) != 0) | np.eye(8, dtype=bool)
    assert logits.shape == (8, 8)
    assert np.all(np.asarray(logits)[~present.T] == bench.NO_EDGE)
    assert np.all(np.asarray(logits)[present.T] > bench.NO_EDGE)
    perm = np.random.default_rng(0).permutation(8)
    moved = run(model, (w[perm][:, perm], s[perm]))
    np.testing.assert_allclose(moved, logits[perm][:, perm], atol=1e-4)


def test_predict_reads_argmax() -> None:
    data = clrs.sample(3, 6, p=(0.9,), seed=4)
    model = bench.PointerNet(bench.AGGREGATIONS["max"], 8, 2, key=jax.random.key(1))
    predicted = bench.predict(model, data, chunk=2)
    w = data.weights
    assert predicted.shape == (3, 6)
    rows = np.arange(6)
    for g in range(3):
        assert np.all((w[g][predicted[g], rows] != 0) | (predicted[g] == rows))


@pytest.mark.slow
def test_tiny_benchmark_run(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--train", "32", "--test", "4", "--epochs", "1", "--hidden", "8"]
    scores = bench.main([*args, "--seeds", "1", "--models", "min,sum"])
    out = capsys.readouterr().out
    assert all(0.0 <= v <= 1.0 for m in scores.values() for s in m.values() for v in s)
    targets = [line for line in out.splitlines() if line.startswith("target: ")]
    assert len(targets) == 2
    assert all(line.endswith((" met", " missed")) for line in targets)


def test_heuristics_are_valid_pointers() -> None:
    data = clrs.sample(20, 10, p=clrs.TRAIN_P, seed=5)
    found = bench.heuristics(data)
    nodes = np.arange(10)
    at_self = found["every node at itself"]
    assert clrs.pointer_accuracy(at_self, data.pointers) == pytest.approx(
        float(np.mean(data.pointers == nodes))
    )
    lightest = found["every node at its lightest edge"]
    for w, s, pi in zip(data.weights, data.source, lightest, strict=True):
        assert pi[s] == s
        moved = pi != nodes
        assert np.all(w[pi[moved], nodes[moved]] != 0)
        weights = np.where(w > 0, w, np.inf)
        np.fill_diagonal(weights, np.inf)
        assert np.all(w[pi[moved], nodes[moved]] == weights.min(axis=0)[moved])
