"""The checkpoint functions refuse what they cannot use, by name.

`save_checkpoint(..., epoch=-1)` wrote ``epoch--0000001.ckpt``, `keep=0` kept
one, a model given as the state was written as if it were one, `key=0` and a
history of NumPy floats reached JAX's and json's errors; `load_checkpoint`
given a model instead of a `TrainState` blamed an empty path (``int32[] at
 where …``), and given an empty or missing directory or a checkpoint file said
``no intact checkpoint in …: .`` and to delete the directory.
"""

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    SGD,
    CheckpointError,
    Learner,
    MeanSquaredError,
    TrainState,
    load_checkpoint,
    save_checkpoint,
)

MODEL = cdl.Bias(2)
STATE = Learner(MODEL, MeanSquaredError(), SGD(0.1)).init(MODEL)
KEY = jax.random.key(0)


@pytest.mark.parametrize(
    ("given", "error", "says"),
    [
        ({"epoch": -1}, ValueError, "`epoch` must be an int >= 0, not -1"),
        ({"epoch": "3"}, ValueError, "`epoch` must be an int >= 0, not '3'"),
        ({"keep": 0}, ValueError, "`keep` must be an int >= 1, not 0"),
        ({"key": 0}, TypeError, "`key` must be a PRNG key .* not 0"),
        ({"state": MODEL}, TypeError, "expected a TrainState .* not Bias"),
        ({"history": {"loss": ["a"]}}, TypeError, r"history\['loss'\] must be a list"),
    ],
)
def test_save_checkpoint_names_bad_arguments(
    given: dict[str, Any], error: type[Exception], says: str, tmp_path: Path
) -> None:
    settings: dict[str, Any] = {"state": STATE, "key": KEY, "epoch": 1, "history": {}}
    with pytest.raises(error, match="save_checkpoint: " + says):
        save_checkpoint(tmp_path, **{**settings, **given})
    assert list(tmp_path.iterdir()) == []


def test_save_checkpoint_takes_numpy_and_jax_numbers_in_the_history(
    tmp_path: Path,
) -> None:
    history = {"loss": [np.float32(0.5), jnp.float32(0.25)]}
    save_checkpoint(tmp_path, STATE, key=KEY, epoch=2, history=history)  # type: ignore[dict-item]
    back = load_checkpoint(tmp_path, STATE)
    assert back.history == {"loss": [0.5, 0.25]}
    json.dumps(back.history)


def test_load_checkpoint_says_what_it_was_given(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="holds no checkpoint .no epoch-"):
        load_checkpoint(tmp_path, STATE)
    with pytest.raises(CheckpointError, match="missing holds no checkpoint"):
        load_checkpoint(tmp_path / "missing", STATE)
    path = save_checkpoint(tmp_path, STATE, key=KEY, epoch=1, history={})
    with pytest.raises(CheckpointError, match="is a file: give the directory"):
        load_checkpoint(path, STATE)
    with pytest.raises(TypeError, match="load_checkpoint: expected a TrainState"):
        load_checkpoint(tmp_path, MODEL)  # type: ignore[arg-type]
    assert isinstance(load_checkpoint(tmp_path, STATE).state, TrainState)
