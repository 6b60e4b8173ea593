"""TensorBoardLogger: every epoch a checkpoint holds is in the event files."""

import struct
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from tensorboardX.proto import event_pb2

import cdl
from cdl.optics import (
    SGD,
    Callback,
    Learner,
    MeanSquaredError,
    TensorBoardLogger,
    TrainingInterrupted,
    TrainState,
    fit,
)

XS = jnp.linspace(-1.0, 1.0, 8)[:, None]
MODEL = cdl.Linear(1, 1, key=jax.random.key(0))


class CtrlC(Callback):
    reads_state = False

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt


def run(tmp_path: Path, epochs: int, stop: int | None = None) -> dict[str, list[float]]:
    return fit(
        Learner(MODEL, MeanSquaredError(), SGD(0.1)),
        MODEL,
        XS,
        2 * XS,
        epochs=epochs,
        batch_size=4,
        key=jax.random.key(0),
        checkpoint=tmp_path / "run",
        progress=False,
        callbacks=[TensorBoardLogger(tmp_path / "board")]
        + ([] if stop is None else [CtrlC(stop)]),
    ).history


def losses(board: Path) -> dict[int, float]:
    """The loss of each step as TensorBoard shows it: files in name order, a
    session's start purging the steps from its own on."""
    shown: dict[int, float] = {}
    for path in sorted(board.glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (size,) = struct.unpack("<Q", data[at : at + 8])
            event = event_pb2.Event.FromString(data[at + 12 : at + 12 + size])
            at += 12 + size + 4
            if event.session_log.status == event_pb2.SessionLog.START:
                shown = {k: v for k, v in shown.items() if k < event.step}
            for value in event.summary.value:
                if value.tag == "loss":
                    shown[event.step] = value.simple_value
    return shown


def test_the_epochs_of_an_interrupted_run_are_in_its_events(tmp_path: Path) -> None:
    # tensorboardX writes from a thread, and its flush() did not wait for it:
    # the events of the last epochs before Ctrl-C (or a crash) never reached
    # the file, though the checkpoint held those epochs, and a resumed run
    # does not log them again.
    with pytest.raises(TrainingInterrupted):
        run(tmp_path, 5, stop=3)
    assert sorted(losses(tmp_path / "board")) == [1, 2, 3]
    history = run(tmp_path, 5)
    shown = losses(tmp_path / "board")
    assert [shown[step] for step in sorted(shown)] == history["loss"]


def test_runs_started_in_one_second_keep_their_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Event files were named by the second a run started: a run resumed in
    # the same second wrote over the file of the run it resumed.
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    run(tmp_path, 2)
    history = run(tmp_path, 4)
    assert len(list((tmp_path / "board").glob("events.out.tfevents.*"))) == 2
    shown = losses(tmp_path / "board")
    assert [shown[step] for step in sorted(shown)] == history["loss"]
