"""A checkpoint directory is one run's: a second run writing there is refused."""

import threading
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import (
    SGD,
    Callback,
    CheckpointError,
    Learner,
    MeanSquaredError,
    TrainState,
    check_directory,
    fit,
)

XS = jnp.linspace(-1.0, 1.0, 8)[:, None]
MODEL = cdl.Linear(1, 1, key=jax.random.key(0))
LEARNER = Learner(MODEL, MeanSquaredError(), SGD(0.1))


class Hold(Callback):
    """Stops its run after the first epoch until `go` is set."""

    reads_state = False

    def __init__(self) -> None:
        self.started, self.go = threading.Event(), threading.Event()

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        self.started.set()
        assert self.go.wait(60)


def train(directory: Path, epochs: int, key: int, callbacks: list[Callback]) -> object:
    return fit(
        LEARNER,
        MODEL,
        XS,
        2 * XS,
        epochs=epochs,
        batch_size=4,
        key=jax.random.key(key),
        checkpoint=directory,
        progress=False,
        callbacks=callbacks,
    )


def test_a_second_run_on_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    # Two runs saving into one directory removed each other's checkpoints and
    # wrote over each other's epochs: a resume read a file of either run.
    hold = Hold()
    results: list[object] = []
    first = threading.Thread(
        target=lambda: results.append(train(tmp_path, 3, 0, [hold]))
    )
    first.start()
    try:
        assert hold.started.wait(60)
        with pytest.raises(CheckpointError, match="in use by another run"):
            train(tmp_path, 3, 1, [])
        with pytest.raises(CheckpointError, match="in use by another run"):
            check_directory(tmp_path)
    finally:
        hold.go.set()
        first.join(60)
    assert len(results) == 1
    # The first run went on undisturbed, and the directory is free again.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-00000002.ckpt",
        "epoch-00000003.ckpt",
    ]
    resumed = train(tmp_path, 4, 0, [])
    assert len(resumed.history["loss"]) == 4  # type: ignore[attr-defined]


def test_a_run_that_fails_frees_its_directory(tmp_path: Path) -> None:
    class Fail(Callback):
        reads_state = False

        def on_epoch_end(
            self, epoch: int, values: dict[str, float], state: TrainState
        ) -> None:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        train(tmp_path, 2, 0, [Fail()])
    train(tmp_path, 2, 0, [])
    check_directory(tmp_path)
