"""Resuming `fit` from a checkpoint as a new user does it: with other metrics, with
`on_nonfinite` changed, and from a directory holding entries that are not
checkpoints; and trees with a label on every node, given in unlike shapes."""

import csv
import os
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    Adam,
    CheckpointError,
    CSVLogger,
    DataError,
    Learner,
    SoftmaxCrossEntropy,
    TrainState,
    Trees,
    accuracy,
    fit,
)

K = jax.random.split(jax.random.key(0), 4)
X = np.random.default_rng(0).normal(size=(24, 3)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int32)
MODEL = cdl.Linear(3, 2, key=K[0])
LEARNER = Learner(MODEL, SoftmaxCrossEntropy(), Adam(1e-2))
SETTINGS = {"batch_size": 8, "key": K[1], "progress": False}


def test_resuming_with_new_metrics_is_refused(tmp_path: pathlib.Path) -> None:
    # The history's lists were extended from their own ends: the accuracy of
    # epoch 3 stood at index 0, and a CSV log left the new columns out.
    fit(LEARNER, MODEL, X, Y, epochs=2, checkpoint=tmp_path, **SETTINGS)
    with pytest.raises(CheckpointError, match=r"records loss each epoch, and this run"):
        fit(
            LEARNER, MODEL, X, Y, epochs=4, checkpoint=tmp_path,
            metrics={"accuracy": accuracy}, **SETTINGS,
        )  # fmt: skip
    with pytest.raises(CheckpointError, match=r"would record loss, val_loss: resum"):
        fit(
            LEARNER, MODEL, X, Y, epochs=4, checkpoint=tmp_path,
            validation=(X[:4], Y[:4]), **SETTINGS,
        )  # fmt: skip
    result = fit(LEARNER, MODEL, X, Y, epochs=3, checkpoint=tmp_path, **SETTINGS)
    assert [len(v) for v in result.history.values()] == [3]


def test_resuming_with_fewer_metrics_is_refused(tmp_path: pathlib.Path) -> None:
    metrics = {"accuracy": accuracy}
    fit(
        LEARNER, MODEL, X, Y, epochs=1, checkpoint=tmp_path, metrics=metrics, **SETTINGS
    )
    with pytest.raises(CheckpointError, match="records accuracy, loss each epoch"):
        fit(LEARNER, MODEL, X, Y, epochs=2, checkpoint=tmp_path, **SETTINGS)
    # A finished run is returned as it is, whatever is asked of the next epochs.
    again = fit(LEARNER, MODEL, X, Y, epochs=1, checkpoint=tmp_path, **SETTINGS)
    assert sorted(again.history) == ["accuracy", "loss"]


def test_on_nonfinite_may_change_on_resume(tmp_path: pathlib.Path) -> None:
    # After a NaN stopped a run, resuming with "skip" is the documented way on;
    # the CSV log kept one column per name, and resuming back without "skip"
    # raised a KeyError for 'skipped' inside the logger.
    log = tmp_path / "log.csv"
    run = tmp_path / "run"
    fit(
        LEARNER,
        MODEL,
        X,
        Y,
        epochs=1,
        checkpoint=run,
        callbacks=[CSVLogger(log)],
        **SETTINGS,
    )
    skip = fit(
        LEARNER, MODEL, X, Y, epochs=2, checkpoint=run, on_nonfinite="skip",
        callbacks=[CSVLogger(log)], **SETTINGS,
    )  # fmt: skip
    assert skip.history["skipped"] == [0.0, 0.0]
    plain = fit(
        LEARNER,
        MODEL,
        X,
        Y,
        epochs=3,
        checkpoint=run,
        callbacks=[CSVLogger(log)],
        **SETTINGS,
    )
    assert plain.history["skipped"] == [0.0, 0.0, 0.0]
    assert len(plain.history["loss"]) == 3
    with open(log) as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert [float(r["skipped"]) for r in rows] == [0.0, 0.0, 0.0]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], plain.history["loss"])


def test_an_entry_that_is_not_a_file_is_named(tmp_path: pathlib.Path) -> None:
    # A directory named like a checkpoint raised IsADirectoryError from deep
    # inside the reader.
    os.mkdir(tmp_path / "epoch-7.ckpt")
    with pytest.raises(
        CheckpointError, match=r"epoch-7\.ckpt cannot be read .*Is a dir"
    ):
        fit(LEARNER, MODEL, X, Y, epochs=1, checkpoint=tmp_path, **SETTINGS)
    assert jnp.isfinite(MODEL.weight).all()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            [[[0], [1], [1]], [[1, 2]]],
            r"term 1's node labels are of shape \(2,\), but term 0's",
        ),
        (
            [[0, 1, 1], [[1]]],
            r"term 1's node labels are of shape \(1,\), but term 0's are of shape \(\)",
        ),
    ],
)
def test_per_node_labels_of_unlike_shapes_are_named(labels: list, message: str) -> None:
    # NumPy's "all input arrays must have the same shape" came out of the padding.
    with pytest.raises(DataError, match=message):
        Trees(cdl.TreeF, [(1.0, 2.0), 3.0], labels, per_node=True)


def test_a_term_given_no_node_labels_is_counted() -> None:
    # [] was an array of shape (0,) beside rows of shape (3, 1): NumPy's error again.
    data = Trees(cdl.TreeF, [(1.0, 2.0), 3.0], [[[0], [1], [1]], []], per_node=True)
    with pytest.raises(DataError, match="term 1 has 1 node.* but 0 label"):
        data.batch(np.array([0, 1]))


def test_an_unknown_monitor_is_named_before_any_epoch(tmp_path: pathlib.Path) -> None:
    # It was found after the first epoch had run (and been paid for).
    from cdl.optics import EarlyStopping

    epochs = []

    class Count(EarlyStopping):
        def on_epoch_end(self, epoch: int, values: dict, state: TrainState) -> None:
            epochs.append(epoch)
            super().on_epoch_end(epoch, values, state)

    with pytest.raises(
        ValueError, match=r"reports no 'val_accuracy'.*'accuracy', 'loss'"
    ):
        fit(
            LEARNER, MODEL, X, Y, epochs=2, callbacks=[Count("val_accuracy")],
            metrics={"accuracy": accuracy}, checkpoint=tmp_path, **SETTINGS,
        )  # fmt: skip
    assert epochs == [] and list(tmp_path.iterdir()) == []


def test_a_second_damaged_checkpoint_keeps_the_first(tmp_path: pathlib.Path) -> None:
    # The newest damaged file was renamed over the one set aside before it.
    fit(LEARNER, MODEL, X, Y, epochs=2, checkpoint=tmp_path, **SETTINGS)
    newest = tmp_path / "epoch-00000002.ckpt"
    (tmp_path / "epoch-00000002.ckpt.damaged").write_bytes(b"first")
    newest.write_bytes(b"second")
    result = fit(LEARNER, MODEL, X, Y, epochs=3, checkpoint=tmp_path, **SETTINGS)
    assert len(result.history["loss"]) == 3
    assert (tmp_path / "epoch-00000002.ckpt.damaged").read_bytes() == b"first"
    assert (tmp_path / "epoch-00000002.ckpt.damaged-2").read_bytes() == b"second"
