"""What `fit` shows while it runs: a progress bar in a terminal, whole lines elsewhere.

In a terminal the bar (rich) redraws in place. Anywhere else (a log file, a pipe, a
notebook's captured output) each epoch is one plain line, never cut to a width.

>>> from cdl.optics._display import Display
>>> with Display("Linear(2→1)", total=2, done=0, enabled=True, terminal=False) as d:
...     d.update(1, {"loss": [0.5]})
Linear(2→1) epoch 1/2  loss 0.5000
"""

import sys
from types import TracebackType

import jax
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn


def notice(text: str) -> None:
    """Print one line about the run (resuming, finished, interrupted) to stderr.

    Across `jax.distributed` processes only process 0 prints.

    **Arguments:** `text`.

    **Returns:** nothing.

    >>> from cdl.optics._display import notice
    >>> notice("resuming")
    """
    if jax.process_index() == 0:
        print(text, file=sys.stderr, flush=True)


def _status(history: dict[str, list[float]]) -> str:
    return "  ".join(f"{k} {v[-1]:.4f}" for k, v in history.items() if v)


class Display:
    """The progress of a run: a rich bar in a terminal, one line per epoch elsewhere.

    **Arguments:** `label`, the model's; `total` epochs; `done`, epochs already
    done; `enabled`; `terminal`, whether stdout is a terminal (found by default).

    **Returns:** a context manager with `update`.
    """

    def __init__(
        self,
        label: str,
        *,
        total: int,
        done: int,
        enabled: bool,
        terminal: bool | None = None,
    ) -> None:
        self.label = label if len(label) <= 32 else label[:31] + "…"
        self.total = total
        self.enabled = enabled and jax.process_index() == 0
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self._bar: Progress | None = None
        if self.enabled and self.terminal:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                transient=False,
            )
            self._task = self._bar.add_task(
                self.label, total=total, completed=done, status=""
            )

    def __enter__(self) -> "Display":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, epoch: int, history: dict[str, list[float]]) -> None:
        """Show that `epoch` epochs are done, with the latest metrics."""
        if self._bar is not None:
            self._bar.update(self._task, completed=epoch, status=_status(history))
        elif self.enabled:
            print(
                f"{self.label} epoch {epoch}/{self.total}  {_status(history)}",
                flush=True,
            )
