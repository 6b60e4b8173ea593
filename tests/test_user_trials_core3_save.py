"""`cdl.save` and `cdl.load` as a new user mixes them with Equinox files, `fit`'s
checkpoints and NumPy hyperparameters."""

import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, Learner, MeanSquaredError, fit


def _build(hidden: int) -> cdl.Linear:
    return cdl.Linear(2, hidden, key=jax.random.key(0))


def test_an_equinox_file_is_not_called_damaged(tmp_path: pathlib.Path) -> None:
    # It said "is damaged (not a cdl checkpoint (wrong header)): save the model again".
    path = tmp_path / "m.eqx"
    eqx.tree_serialise_leaves(path, _build(3))
    with pytest.raises(ValueError, match=r"was not written by cdl\.save .*tree_deser"):
        cdl.load(path, _build)


def test_a_checkpoint_of_fit_is_named(tmp_path: pathlib.Path) -> None:
    # It raised KeyError: 'hyperparameters'.
    model = cdl.Linear(2, 1, key=jax.random.key(0))
    learner = Learner(model, MeanSquaredError(), SGD(0.1))
    fit(
        learner, model, jnp.ones((4, 2)), jnp.ones((4, 1)), epochs=1, batch_size=2,
        key=jax.random.key(1), checkpoint=tmp_path, progress=False,
    )  # fmt: skip
    (path,) = tmp_path.glob("*.ckpt")
    with pytest.raises(ValueError, match=r"is a checkpoint of fit, .*load_checkpoint"):
        cdl.load(path, model)


def test_numpy_scalar_hyperparameters_are_saved_as_numbers(
    tmp_path: pathlib.Path,
) -> None:
    # hidden=np.int64(3), as a grid over np.arange gives it, was "not JSON".
    path = tmp_path / "m.cdl"
    model = _build(3)
    cdl.save(path, model, hidden=np.int64(3), rate=[np.float32(0.5)])
    seen = {}

    def build(hidden: int, rate: list[float]) -> cdl.Linear:
        seen.update(hidden=hidden, rate=rate)
        return _build(hidden)

    loaded = cdl.load(path, build)
    assert seen == {"hidden": 3, "rate": [0.5]} and type(seen["hidden"]) is int
    np.testing.assert_array_equal(loaded.weight, model.weight)
    with pytest.raises(TypeError, match="hyperparameter act=.* is not JSON"):
        cdl.save(path, model, act=jnp.tanh)
