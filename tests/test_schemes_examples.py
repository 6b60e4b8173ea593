"""The schemes examples run, and learn, on small settings."""

import importlib.util
import pathlib
import sys

import jax
import pytest

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", EXAMPLES / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_mealy_generalises_to_ten_times_longer_inputs():
    assert load("mealy").main(steps=100, train_length=10, test_length=100) > 0.9


def test_rnn_fold_learns_digits():
    assert load("rnn_fold").main(epochs=8, hidden=32, n_train=1000) > 0.5


@pytest.mark.slow
def test_tree_eval_reports_accuracy_by_depth():
    by_depth = load("tree_eval").main(steps=1, hidden=16, batch=32, test_per_depth=4)
    assert sorted(by_depth) == list(range(1, 9))
    assert all(0.0 <= a <= 1.0 for a in by_depth.values())


@pytest.mark.slow
def test_divide_conquer_hylo_learns_the_maximum_and_extrapolates():
    example = load("divide_conquer")
    errors = example.main(steps=600, hidden=16, test_lengths=(8, 32))
    # Far below the best constant guess (about 0.22), at the training length and
    # at twice the training depth.
    assert errors[8] < 0.08
    assert errors[32] < 0.12
    assert example.constant_error(jax.random.key(0), 32, 512) > 0.15
