"""Checkpoint directories and model files given where something else was meant.

After every checkpoint of a directory was found damaged (a CheckpointError
saying to delete the directory to start afresh), running the same fit again
started afresh without a word, since the damaged files had been renamed
``….damaged``: a second run now refuses too, naming them. `cdl.save` given a
directory failed with the OS error of its temporary file
(``IsADirectoryError: '.dir.<pid>.tmp' -> 'dir'``), and `cdl.load` given one
with a bare ``Is a directory``.
"""

from pathlib import Path

import jax
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, CheckpointError, Learner, SoftmaxCrossEntropy, fit

MODEL = cdl.Linear(3, 2, key=jax.random.key(0))
LEARNER = Learner(MODEL, SoftmaxCrossEntropy(), SGD(0.1))
XS = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
YS = np.array([0, 1, 1, 0], np.int32)


def _fit(directory: Path) -> None:
    fit(LEARNER, MODEL, XS, YS, epochs=2, batch_size=2, key=jax.random.key(0),
        progress=False, checkpoint=directory)  # fmt: skip


def test_a_directory_of_damaged_checkpoints_is_refused_every_time(
    tmp_path: Path,
) -> None:
    _fit(tmp_path)
    for path in tmp_path.glob("epoch-*.ckpt"):
        path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="Delete the directory"):
        _fit(tmp_path)
    for _ in range(2):
        with pytest.raises(
            CheckpointError,
            match=r"only checkpoints set aside as damaged \(epoch-00000001\.ckpt"
            r"\.damaged, epoch-00000002\.ckpt\.damaged\)\. Delete them",
        ):
            _fit(tmp_path)
    for path in tmp_path.glob("*.damaged"):
        path.unlink()
    _fit(tmp_path)  # afresh, as asked
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == [
        "epoch-00000001.ckpt",
        "epoch-00000002.ckpt",
    ]


def test_save_and_load_name_a_directory_given_for_a_file(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=f"cdl.save: {tmp_path} is a directory"):
        cdl.save(tmp_path, MODEL)
    assert list(tmp_path.iterdir()) == []  # no temporary file left
    with pytest.raises(
        IsADirectoryError, match=f"cdl.load: {tmp_path} is a directory: .* wrote\\.$"
    ):
        cdl.load(tmp_path, MODEL)
    _fit(tmp_path / "run")
    with pytest.raises(IsADirectoryError, match="it holds checkpoints of fit"):
        cdl.load(tmp_path / "run", MODEL)


def _two_layers(bias: bool) -> cdl.Para:  # type: ignore[type-arg]
    k1, k2 = jax.random.split(jax.random.key(0))
    return cdl.Linear(3, 4, key=k1, use_bias=bias) >> cdl.Linear(4, 2, key=k2)


def test_a_parameter_removed_from_the_code_is_named(tmp_path: Path) -> None:
    """The arrays of a file carry no names, so the reading went wrong at the
    next array (``.factors[1].weight``) and the error named that one; the file
    now records its arrays' paths, and the error names the bias removed."""
    model = _two_layers(bias=True)
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    settings = dict(epochs=1, batch_size=2, key=jax.random.key(0), progress=False)
    fit(learner, model, XS, YS, checkpoint=tmp_path / "run", **settings)
    cdl.save(tmp_path / "m.cdl", model)
    changed = _two_layers(bias=False)
    learner = Learner(changed, SoftmaxCrossEntropy(), SGD(0.1))
    with pytest.raises(
        CheckpointError,
        match=r"it holds float32\[4\] at \.params\.factors\[0\]\.bias, which this "
        r"learner and model have not\)",
    ):
        fit(learner, changed, XS, YS, checkpoint=tmp_path / "run", **settings)
    with pytest.raises(
        ValueError, match=r"float32\[4\] at \.factors\[0\]\.bias, which the model built"
    ):
        cdl.load(tmp_path / "m.cdl", changed)
    with pytest.raises(
        ValueError,
        match=r"the model built has float32\[4\] at \.factors\[0\]\.bias, which it "
        r"does not hold",
    ):
        cdl.save(tmp_path / "n.cdl", changed)
        cdl.load(tmp_path / "n.cdl", model)
