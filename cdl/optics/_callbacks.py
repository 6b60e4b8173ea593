"""Callbacks of `fit`, and loggers that write the metrics to CSV and TensorBoard.

A callback is told when a run starts (with the epochs already done, on resuming),
after each epoch (with that epoch's metrics and the state), and when the run ends.
The loggers rewrite what a resumed run's checkpoint holds, so their files agree with
the checkpoint after a crash: a CSV file is rewritten from the restored history, and
TensorBoard is told to purge the events of the epochs that are run again. Across
`jax.distributed` processes every process's callbacks are told (so they can keep the
processes in step), and the loggers write from process 0 alone.

>>> import tempfile, os, pathlib, jax, jax.numpy as jnp, cdl
>>> from cdl.optics import CSVLogger, Learner, MeanSquaredError, SGD, fit
>>> model = cdl.Linear(1, 1, key=jax.random.key(0))
>>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
>>> xs = jnp.linspace(-1, 1, 8)[:, None]
>>> with tempfile.TemporaryDirectory() as d:
...     path = os.path.join(d, "log.csv")
...     _ = fit(learner, model, xs, 2 * xs, epochs=2, batch_size=4,
...             key=jax.random.key(0), progress=False, callbacks=[CSVLogger(path)])
...     pathlib.Path(path).read_text().splitlines()[0]
'epoch,loss'
"""

import csv
import math
import os
import pathlib
import socket
import struct
import time
from typing import Any, Literal

import jax

from . import _messages
from ._display import notice
from ._learner import TrainState


class Callback:
    """Something `fit` tells about a run's progress; the methods do nothing here.

    Subclass it and override what you need. `fit` hands `on_epoch_end` the state
    at the end of that very epoch, so while a callback reads it (`reads_state`,
    true unless a subclass says otherwise) each compiled call runs one epoch
    whatever `epochs_per_call` asks. After each epoch (and once before the
    first) `fit` asks `should_stop` whether to end the run there, and it returns
    the state `final_state` gives (e.g. `EarlyStopping`'s best). A state a
    callback keeps (`kept_state`) is saved with each checkpoint and handed back
    by `on_resume` when a run resumes from it.

    **Arguments:** none.

    **Returns:** the callback.

    >>> from cdl.optics import Callback
    >>> class Count(Callback):
    ...     def __init__(self):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, values, state):
    ...         self.epochs += 1
    >>> Count().epochs
    0
    """

    reads_state: bool = True
    """Whether `on_epoch_end` reads its `state` argument."""

    def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
        """The run starts after `epoch` epochs (0, or those of a checkpoint)."""

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        """Epoch `epoch` (counted from 1) ended with the metrics `values`."""

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        """The run ended (all epochs done, or stopped); `history` holds its metrics."""

    def should_stop(self) -> bool:
        """Whether the run should end now, before its next epoch: never, here."""
        return False

    def final_state(self, state: TrainState) -> TrainState:
        """The state `fit` returns, given the last one: that one, here."""
        return state

    def kept_state(self) -> tuple[int, TrainState] | None:
        """An epoch and its state to save with each checkpoint: none, here.

        `fit` asks after each epoch's `on_epoch_end`; the state is one of the
        run's (it has the structure of the state `fit` trains).
        """
        return None

    def on_resume(self, kept: tuple[int, TrainState] | None) -> None:
        """The run resumes from a checkpoint that saved `kept` for this callback.

        Called after `on_train_begin`, only when resuming; `kept` is what
        `kept_state` gave when the checkpoint was written (None: nothing). A
        callback is matched to what it saved by its class and its place among
        `fit`'s callbacks of that class.
        """


class EarlyStopping(Callback):
    """End a run when a metric stops improving; optionally return its best state.

    After each epoch it reads `monitor` (``val_loss`` by default: pass `fit`
    validation data, or monitor ``loss`` or a metric). An epoch improves on the
    best so far when the value is lower (``mode="min"``) or higher (``"max"``)
    by more than `min_delta`; after `patience` epochs in a row without
    improvement the run ends. With `restore_best` the result holds the state of
    the best epoch instead of the last one. On resuming from a checkpoint the
    best value and the epochs without improvement are read back from the
    history (a run that had stopped stays stopped), and the best epoch's state
    from the checkpoint, which keeps it (`kept_state`). A checkpoint saved
    without it (its run had no ``restore_best``) cannot give it back: if the
    best epoch ran before it, `fit` says so and returns the last state.

    **Arguments:** `monitor`, a name of `fit`'s history; `patience`, epochs
    without improvement to allow (at least 1); `min_delta`, the least change
    that counts as improvement; `mode`, ``"min"``, ``"max"`` or ``"auto"`` (min
    for names ending in ``loss``, max otherwise); `restore_best`.

    **Returns:** the callback; after a run, `best`, `best_epoch` and
    `stopped_epoch` (None if the run was not stopped) say what happened.

    A regression that stops once its validation loss gains less than 1e-3 in two
    epochs, long before its 100 epochs:

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import EarlyStopping, Learner, MeanSquaredError, SGD, fit
    >>> xs = jax.random.normal(jax.random.key(0), (64, 3))
    >>> ys = xs @ jnp.array([[1.0], [-2.0], [0.5]])
    >>> model = cdl.Linear(3, 1, key=jax.random.key(1))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.3))
    >>> stop = EarlyStopping("val_loss", patience=2, min_delta=1e-3,
    ...                      restore_best=True)
    >>> result = fit(learner, model, xs[:48], ys[:48], epochs=100, batch_size=16,
    ...              key=jax.random.key(2), validation=(xs[48:], ys[48:]),
    ...              callbacks=[stop], progress=False)
    >>> len(result.history["val_loss"]) < 100, stop.stopped_epoch is not None
    (True, True)
    >>> stop.stopped_epoch - stop.best_epoch
    2
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        mode: Literal["min", "max", "auto"] = "auto",
        restore_best: bool = False,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(_messages.bad_patience(patience))
        if mode not in ("min", "max", "auto"):
            raise ValueError(_messages.bad_mode(mode))
        if not min_delta >= 0:
            raise ValueError(_messages.bad_min_delta(min_delta))
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)
        self.mode = (
            ("min" if monitor.endswith("loss") else "max") if mode == "auto" else mode
        )
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._waited = 0
        self._best_state: tuple[int, TrainState] | None = None

    def _improves(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def _see(self, epoch: int, value: float) -> bool:
        """Take in one epoch's value; whether it is the best so far."""
        if self._improves(value):
            self.best, self.best_epoch, self._waited = value, epoch, 0
            return True
        self._waited += 1
        if self._waited >= self.patience and self.stopped_epoch is None:
            self.stopped_epoch = epoch
        return False

    def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
        """Start afresh, or from the values of the epochs already done."""
        self.best = self.best_epoch = self.stopped_epoch = None
        self._waited = 0
        self._best_state = None
        for done, value in enumerate(history.get(self.monitor, [])[:epoch], 1):
            self._see(done, value)

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        """Compare this epoch's value with the best so far."""
        if self.monitor not in values:
            raise ValueError(_messages.unknown_monitor(self.monitor, sorted(values)))
        if self._see(epoch, float(values[self.monitor])) and self.restore_best:
            self._best_state = (epoch, state)

    def should_stop(self) -> bool:
        """Whether `patience` epochs have passed without improvement."""
        return self.stopped_epoch is not None

    def kept_state(self) -> tuple[int, TrainState] | None:
        """The best epoch and its state, with `restore_best`."""
        return self._best_state if self.restore_best else None

    def on_resume(self, kept: tuple[int, TrainState] | None) -> None:
        """Take back the best epoch's state the checkpoint kept."""
        if self.restore_best and kept is not None and kept[0] == self.best_epoch:
            self._best_state = kept

    def final_state(self, state: TrainState) -> TrainState:
        """The best epoch's state with `restore_best`, else `state`."""
        if not self.restore_best or self.best_epoch is None:
            return state
        if self._best_state is None or self._best_state[0] != self.best_epoch:
            notice(_messages.best_state_not_kept(self.monitor, self.best_epoch))
            return state
        return self._best_state[1]


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file: ``epoch`` and each metric.

    **Arguments:** `path`, the file (rewritten at the start of each run with the
    rows of the epochs already done).

    **Returns:** the callback.

    >>> from cdl.optics import CSVLogger
    >>> CSVLogger("runs/log.csv").path.name
    'log.csv'
    """

    reads_state = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path)
        self._names: list[str] | None = None

    def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
        """Rewrite the file with the rows already done."""
        if jax.process_index() != 0:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._names = sorted(history, key=_order) if history else None
        with open(self.path, "w", newline="") as f:
            if self._names is not None:
                writer = csv.writer(f)
                writer.writerow(["epoch", *self._names])
                for i in range(epoch):
                    writer.writerow([i + 1, *(history[n][i] for n in self._names)])

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        """Append this epoch's row."""
        if jax.process_index() != 0:
            return
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f)
            if self._names is None:
                self._names = sorted(values, key=_order)
                writer.writerow(["epoch", *self._names])
            writer.writerow([epoch, *(values[n] for n in self._names)])
            f.flush()


def _order(name: str) -> tuple[bool, bool, str]:
    return (name.startswith("val_"), name != "loss" and name != "val_loss", name)


class TensorBoardLogger(Callback):
    """Write each epoch's metrics as TensorBoard scalars (with tensorboardX).

    Each epoch's scalars are on the disk (written and synced) before `fit`
    saves that epoch's checkpoint, so a crash loses no epoch the checkpoint
    holds. On resuming, the events of epochs after the checkpoint are purged,
    so the curves show each epoch once. Each run writes its own event file,
    named in the order the runs started.

    **Arguments:** `logdir`, the directory of the run's event files.

    **Returns:** the callback.

    >>> import tempfile
    >>> from cdl.optics import TensorBoardLogger
    >>> with tempfile.TemporaryDirectory() as d:
    ...     logger = TensorBoardLogger(d)
    ...     logger.on_train_begin(0, {})
    ...     logger.on_epoch_end(1, {"loss": 0.5}, None)
    ...     logger.on_train_end({})
    """

    reads_state = False

    def __init__(self, logdir: str | os.PathLike[str]) -> None:
        self.logdir = pathlib.Path(logdir)
        self._path: pathlib.Path | None = None

    def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
        """Begin an event file, purging events of epochs after `epoch`."""
        if jax.process_index() != 0:
            return
        from tensorboardX.proto.event_pb2 import Event, SessionLog

        # Files are named by the second they start in (as tensorboardX names
        # them); the suffix keeps two runs of one second apart, in the order
        # they started, where one wrote over the other.
        self.logdir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        self._path = self.logdir / (
            f"events.out.tfevents.{int(now):010d}.{socket.gethostname()}"
            f".{time.time_ns():020d}.{os.getpid()}"
        )
        start = SessionLog(status=SessionLog.START)
        self._write(
            Event(wall_time=now, step=epoch + 1, file_version="brain.Event:2"),
            Event(wall_time=now, step=epoch + 1, session_log=start),
        )

    def _write(self, *events: Any) -> None:
        """Append `events` to the run's file, on the disk on return.

        tensorboardX's SummaryWriter queues events for a thread that writes
        them when it likes, and its flush() does not wait for it: the last
        epochs' events were lost on a crash or Ctrl-C, though their checkpoint
        was saved (and a resumed run does not log them again).
        """
        from tensorboardX.record_writer import masked_crc32c

        if self._path is None:
            return
        with open(self._path, "ab") as file:
            for event in events:
                data = event.SerializeToString()
                header = struct.pack("<Q", len(data))
                file.write(header + struct.pack("<I", masked_crc32c(header)))
                file.write(data + struct.pack("<I", masked_crc32c(data)))
            file.flush()
            os.fsync(file.fileno())

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        """Add each metric as a scalar at step `epoch`, on the disk on return."""
        if self._path is None:
            return
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.summary import scalar

        now = time.time()
        self._write(
            *(
                Event(wall_time=now, step=epoch, summary=scalar(name, value))
                for name, value in values.items()
            )
        )

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        """End the run's event file (another run begins its own)."""
        self._path = None
