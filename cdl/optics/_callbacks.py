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
import os
import pathlib
from typing import Any

import jax

from ._learner import TrainState


class Callback:
    """Something `fit` tells about a run's progress; the methods do nothing here.

    Subclass it and override what you need. `fit` hands `on_epoch_end` the state
    at the end of that very epoch, so while a callback reads it (`reads_state`,
    true unless a subclass says otherwise) each compiled call runs one epoch
    whatever `epochs_per_call` asks.

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
        """The run ended (all epochs done); `history` holds every epoch's metrics."""


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

    On resuming, the events of epochs after the checkpoint are purged, so the
    curves show each epoch once.

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
        self._writer: Any = None

    def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
        """Open the writer, purging events of epochs after `epoch`."""
        if jax.process_index() != 0:
            return
        from tensorboardX import SummaryWriter

        self._writer = SummaryWriter(str(self.logdir), purge_step=epoch + 1)

    def on_epoch_end(
        self, epoch: int, values: dict[str, float], state: TrainState
    ) -> None:
        """Add each metric as a scalar at step `epoch`."""
        if self._writer is None:
            return
        for name, value in values.items():
            self._writer.add_scalar(name, value, epoch)
        self._writer.flush()

    def on_train_end(self, history: dict[str, list[float]]) -> None:
        """Close the writer."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
