"""Resuming a checkpoint with another model or optimiser, and failing saves."""

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
import pytest

import cdl
from cdl.optics import (
    AdaGrad,
    Adam,
    CheckpointError,
    Learner,
    RMSProp,
    SoftmaxCrossEntropy,
    _checkpoint,
    fit,
    from_optax,
    save_checkpoint,
)

K1, K2, K3 = jax.random.split(jax.random.key(0), 3)
XS = jax.random.normal(K1, (16, 4))
YS = (XS[:, 0] > 0).astype(jnp.int32)


def _model(activation: cdl.Para | None = None) -> cdl.Para:
    activation = cdl.Relu() if activation is None else activation
    return cdl.Linear(4, 8, key=K2) >> activation >> cdl.Linear(8, 2, key=K3)


def _fit(directory: Path, model: cdl.Para, optimiser: object, epochs: int) -> object:
    learner = Learner(model, SoftmaxCrossEntropy(), optimiser)  # type: ignore[arg-type]
    return fit(
        learner, model, XS, YS, epochs=epochs, batch_size=8,
        key=jax.random.key(1), checkpoint=directory, progress=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "optimiser",
    [RMSProp(0.1), from_optax(optax.adagrad(0.1))],
    ids=["RMSProp", "optax"],
)
def test_a_run_resumed_with_another_optimiser_is_refused(
    tmp_path: Path, optimiser: object
) -> None:
    # AdaGrad's sum of squares and RMSProp's average have the shapes of Adam's
    # moments' parts; each would have been read as the other's.
    first = AdaGrad(0.1)
    _fit(tmp_path, _model(), first, 1)
    written = "does not match this learner and model: it was written by a run"
    with pytest.raises(CheckpointError, match=written) as e:
        _fit(tmp_path, _model(), optimiser, 2)
    assert f"with {type(first).__name__}, and this one trains" in str(e.value)


def test_a_run_resumed_with_a_changed_model_is_refused(tmp_path: Path) -> None:
    # Tanh for Relu: the arrays fit exactly, so nothing but the record tells.
    _fit(tmp_path, _model(cdl.Relu()), Adam(0.1), 1)
    with pytest.raises(CheckpointError) as e:
        _fit(tmp_path, _model(cdl.Tanh()), Adam(0.1), 2)
    assert "Linear(4→8) >> Relu() >> Linear(8→2) with Adam" in str(e.value)
    assert "Linear(4→8) >> Tanh() >> Linear(8→2) with Adam" in str(e.value)


def test_the_same_run_resumes_and_a_checkpoint_without_a_record_too(
    tmp_path: Path,
) -> None:
    _fit(tmp_path / "a", _model(), Adam(0.1), 1)
    assert _fit(tmp_path / "a", _model(), Adam(0.01), 2).state.step == 4  # type: ignore[attr-defined]
    # A checkpoint written without the record (an older file) is not compared.
    model = _model()
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    save_checkpoint(
        tmp_path / "b", learner.init(model), key=jax.random.key(1), epoch=1,
        history={"loss": [1.0]},
    )  # fmt: skip
    assert _fit(tmp_path / "b", _model(), Adam(0.1), 2).state.step == 2  # type: ignore[attr-defined]


def test_a_save_that_fails_names_the_epoch_and_leaves_the_last_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fit(tmp_path, _model(), Adam(0.1), 1)
    replace = os.replace

    def full_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_checkpoint.os, "replace", full_disk)
    with pytest.raises(CheckpointError) as e:
        _fit(tmp_path, _model(), Adam(0.1), 2)
    assert "could not save the checkpoint of epoch 2" in str(e.value)
    assert "No space left on device" in str(e.value)
    assert "holds epoch 1" in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ["epoch-00000001.ckpt"]  # no .tmp left
    monkeypatch.setattr(_checkpoint.os, "replace", replace)
    assert _fit(tmp_path, _model(), Adam(0.1), 2).state.step == 4  # type: ignore[attr-defined]
