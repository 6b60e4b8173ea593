"""Checkpoints resumed with another optimiser whose kind keeps its name."""

import jax
import optax
import pytest

import cdl
from cdl.optics import Adam, CheckpointError, Learner, MeanSquaredError, fit

XS = jax.random.normal(jax.random.key(0), (16, 3))


def run(directory: object, optimiser: Adam, epochs: int) -> object:
    model = cdl.Linear(3, 2, key=jax.random.key(0))
    return fit(
        Learner(model, MeanSquaredError(), optimiser), model, XS, XS[:, :2],
        epochs=epochs, batch_size=8, key=jax.random.key(1), checkpoint=directory,
        progress=False,
    )  # fmt: skip


def test_a_schedule_given_on_resuming_is_named_as_a_changed_optimiser(tmp_path):
    # Adam with a constant rate, resumed as Adam with a schedule: both runs are
    # "Adam", and the error named only Adam's moment at a path the state has
    # not, as if the model had lost a parameter.
    run(tmp_path, Adam(1e-2), 1)
    scheduled = Adam(optax.linear_schedule(1e-2, 0.0, 10))
    with pytest.raises(CheckpointError) as error:
        run(tmp_path, scheduled, 2)
    text = str(error.value)
    assert "its parameters fit" in text and "the optimiser changed" in text
    assert "a schedule given or taken away" in text


def test_a_changed_model_is_not_called_a_changed_optimiser(tmp_path):
    run(tmp_path, Adam(1e-2), 1)
    model = cdl.Linear(3, 2, use_bias=False, key=jax.random.key(0))
    with pytest.raises(CheckpointError) as error:
        fit(
            Learner(model, MeanSquaredError(), Adam(1e-2)), model, XS, XS[:, :2],
            epochs=2, batch_size=8, key=jax.random.key(1), checkpoint=tmp_path,
            progress=False,
        )  # fmt: skip
    assert "the optimiser changed" not in str(error.value)
