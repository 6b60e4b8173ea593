"""The training loop: epochs of jitted learner steps, metrics, progress, checkpoints.

Each epoch is one compiled call: the data are shuffled on the device and a
`jax.lax.scan` runs the learner's step over every full batch (the examples left over
by the last, partial batch wait for another epoch's shuffle). Metrics are computed
after each epoch; with a checkpoint directory the run is saved after every epoch and
resumed from there, continuing bit for bit.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, SoftmaxCrossEntropy, Adam, accuracy, fit
>>> xs = jax.random.normal(jax.random.key(0), (64, 2))
>>> ys = (xs[:, 0] > xs[:, 1]).astype(jnp.int32)
>>> model = cdl.Linear(2, 2, key=jax.random.key(1))
>>> learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
>>> result = fit(learner, model, xs, ys, epochs=30, batch_size=16,
...              key=jax.random.key(2), metrics={"accuracy": accuracy}, progress=False)
>>> result.history["accuracy"][-1] > 0.9
True
"""

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from .._para import Para
from .._space import Mismatch, TensorSpace, Unifier, space_of
from ..nn import inference_mode
from . import _messages
from ._checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from ._learner import Learner, TrainState
from ._loss import SoftmaxCrossEntropy

Metric = Callable[[Para[Any, Any], Any, Any], Float[Array, ""]]


class DataError(ValueError):
    """The data given to `fit` cannot train the model: empty, mismatched, or not finite.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, fit
    >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> xs = jnp.array([[0.0, 1.0], [jnp.nan, 0.0]])
    >>> fit(learner, model, xs, jnp.zeros((2, 1)), epochs=1, batch_size=1,
    ...     key=jax.random.key(0), progress=False)
    Traceback (most recent call last):
    ...
    cdl.optics._fit.DataError: fit(Linear(2→1)): the inputs hold 1 NaN or infinite \
value(s), the first in example 1: clean the data before training.
    """


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What `fit` returns: the final state, the trained model, the metrics.

    **Arguments:** `state`, `model` and `history` (metric name to one value per
    epoch: ``loss``, the mean training loss, and each metric; ``val_`` names for
    the validation data).

    **Returns:** the result.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import FitResult, TrainState
    >>> FitResult(TrainState(None, (), jnp.zeros([], jnp.int32)), cdl.Tanh(), {}).model
    Tanh()
    """

    state: TrainState
    model: Para[Any, Any]
    history: dict[str, list[float]]


def _first_not_finite(values: np.ndarray) -> tuple[int, int] | None:
    if not np.issubdtype(values.dtype, np.inexact):
        return None
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    count = int((~np.isfinite(values)).sum())
    return (count, int(np.argmax(bad))) if count else None


def check_data(
    learner: Learner, state: TrainState, xs: Any, ys: Any, batch_size: int
) -> None:
    """Check a dataset before training; raise `DataError` naming what is wrong.

    It checks that there are examples, as many labels as inputs, a batch size that
    fits, no NaN or infinity, inputs in the model's domain, labels the loss can
    compare with the model's outputs, and class labels within the model's classes.

    **Arguments:** `learner`, `state`, `xs`, `ys`, `batch_size`.

    **Returns:** nothing.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, check_data
    >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> state = learner.init(model)
    >>> check_data(learner, state, jnp.zeros((4, 3)), jnp.zeros((4, 1)), 2)
    Traceback (most recent call last):
    ...
    cdl.optics._fit.DataError: fit(Linear(2→1)): each input must lie in float[2], \
the model's domain, but the examples are f32[3] (dimension 2 is not 3).
    """
    name = learner.label
    xs_host, ys_host = np.asarray(xs), np.asarray(ys)
    if xs_host.ndim == 0 or xs_host.shape[0] == 0:
        raise DataError(_messages.empty_dataset(name))
    n = xs_host.shape[0]
    if ys_host.ndim == 0 or ys_host.shape[0] != n:
        labels = ys_host.shape[0] if ys_host.ndim else 0
        raise DataError(_messages.length_mismatch(name, n, labels))
    if not 1 <= batch_size <= n:
        raise DataError(_messages.bad_batch_size(name, batch_size, n))
    if learner.mesh is not None and batch_size % learner.mesh.size:
        raise DataError(
            _messages.indivisible_batch(name, batch_size, learner.mesh.size)
        )
    for which, values in (("inputs", xs_host), ("labels", ys_host)):
        found = _first_not_finite(values)
        if found is not None:
            raise DataError(_messages.not_finite(name, which, *found))
    dom, given = learner.model.skeleton.dom, space_of(jnp.asarray(xs_host[0]))
    try:
        Unifier().unify(dom, given)
    except Mismatch as error:
        if isinstance(given, TensorSpace):
            raise DataError(
                _messages.bad_inputs(name, dom, given, str(error))
            ) from None
    batch, probe = min(n, 2), jax.random.key(0)
    try:
        jax.eval_shape(
            lambda y, x: learner.lens.get((state.params, y), x, key=probe),
            ys_host[:batch],
            xs_host[:batch],
        )
    except (TypeError, ValueError) as error:
        outputs = jax.eval_shape(
            lambda x: learner.model.get(state.params, x, key=probe), xs_host[:batch]
        )
        raise DataError(
            _messages.bad_labels(
                name,
                f"{ys_host.dtype}{list(ys_host.shape[1:])}",
                f"{outputs.dtype}{list(outputs.shape[1:])}",
                str(error).splitlines()[0],
            )
        ) from None
    if isinstance(learner.loss, SoftmaxCrossEntropy) and np.issubdtype(
        ys_host.dtype, np.integer
    ):
        outputs = jax.eval_shape(
            lambda x: learner.model.get(state.params, x, key=probe), xs_host[:batch]
        )
        classes = outputs.shape[-1]
        outside = (ys_host < 0) | (ys_host >= classes)
        if outside.any():
            index = int(np.argmax(outside))
            raise DataError(
                _messages.label_out_of_range(name, int(ys_host[index]), index, classes)
            )


def _run_epoch(
    learner: Learner,
    state: TrainState,
    xs: Array,
    ys: Array,
    key: PRNGKeyArray,
    batch_size: int,
    unroll: int,
) -> tuple[TrainState, Float[Array, " batches"]]:
    n = xs.shape[0]
    batches = n // batch_size
    shuffle_key, step_key = jax.random.split(key)
    order = jax.random.permutation(shuffle_key, n)[: batches * batch_size]
    # One gather per epoch; the scan then reads contiguous batches.
    shuffled = jax.tree.map(
        lambda a: a[order].reshape(batches, batch_size, *a.shape[1:]), (xs, ys)
    )
    stochastic = learner.model.stochastic

    def body(
        state: TrainState, scanned: tuple[Array, tuple[Array, Array]]
    ) -> tuple[TrainState, Float[Array, ""]]:
        i, (x, y) = scanned
        k = jax.random.fold_in(step_key, i) if stochastic else None
        return learner.step(state, x, y, key=k)

    return jax.lax.scan(body, state, (jnp.arange(batches), shuffled), unroll=unroll)


def _evaluate(
    learner: Learner,
    state: TrainState,
    xs: Array,
    ys: Array,
    metrics: Mapping[str, Metric],
) -> dict[str, Float[Array, ""]]:
    model = inference_mode(learner.model_at(state))
    inference = Learner(model, learner.loss, learner.optimiser)
    values = {"loss": inference.evaluate(state, xs, ys)}
    values.update({name: metric(model, xs, ys) for name, metric in metrics.items()})
    return values


@eqx.filter_jit
def _run_epochs(
    learner: Learner,
    state: TrainState,
    data: tuple[Array, Array],
    key: PRNGKeyArray,
    epochs: Int[Array, " count"],
    batch_size: int,
    unroll: int,
    metrics: Mapping[str, Metric],
    validation: tuple[Array, Array] | None,
) -> tuple[TrainState, dict[str, Array]]:
    def one(
        state: TrainState, epoch: Int[Array, ""]
    ) -> tuple[TrainState, dict[str, Float[Array, ""]]]:
        state, losses = _run_epoch(
            learner, state, *data, jax.random.fold_in(key, epoch), batch_size, unroll
        )
        values = {"loss": jnp.mean(losses)}
        if metrics:
            train = _evaluate(learner, state, *data, metrics)
            values.update({k: v for k, v in train.items() if k != "loss"})
        if validation is not None:
            val = _evaluate(learner, state, *validation, metrics)
            values.update({f"val_{k}": v for k, v in val.items()})
        return state, values

    return jax.lax.scan(one, state, epochs)


def fit(
    learner: Learner,
    start: Para[Any, Any] | TrainState,
    xs: Any,
    ys: Any,
    *,
    epochs: int,
    batch_size: int,
    key: PRNGKeyArray,
    metrics: Mapping[str, Metric] | None = None,
    validation: tuple[Any, Any] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: bool = True,
    epochs_per_call: int = 1,
    unroll: int = 1,
) -> FitResult:
    """Train `learner` for `epochs` epochs of shuffled batches.

    **Arguments:**

    - `learner`; `start`, the initial model (or a `TrainState` to continue from).
    - `xs`, `ys`: inputs and labels, with the examples along the leading axis.
    - `epochs`, the total number of epochs; `batch_size`; `key`, for shuffling
      (and for stochastic layers).
    - `metrics`: name to ``metric(model, xs, ys)`` (e.g. `accuracy`), computed on
      the training data after each epoch, and on `validation` (names ``val_…``).
    - `checkpoint`: a directory; if it holds a checkpoint the run resumes from it
      (its key and state win over `start` and `key`), and it is saved after every
      epoch.
    - `progress`: show a progress bar (rich) with the latest metrics.
    - `epochs_per_call`: how many epochs run in one compiled call (a scan over
      epochs); the bar, the metrics' transfer and checkpoints happen between
      calls. Raise it when epochs are short and the host's overhead shows.
    - `unroll`: training steps per iteration of the compiled loop over batches;
      2 trims the loop's own cost when steps are tiny (batch size 1), at some
      compile time.

    **Returns:** a `FitResult`; raises `DataError` on unusable data.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, fit
    >>> xs = jnp.linspace(-1, 1, 32)[:, None]
    >>> model = cdl.Linear(1, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> result = fit(learner, model, xs, 2 * xs, epochs=20, batch_size=8,
    ...              key=jax.random.key(1), progress=False, epochs_per_call=20)
    >>> len(result.history["loss"]), round(float(result.model.weight[0, 0]), 2)
    (20, 2.0)
    """
    metrics = dict(metrics or {})
    state = start if isinstance(start, TrainState) else learner.init(start)
    xs, ys = jnp.asarray(xs), jnp.asarray(ys)
    check_data(learner, state, xs, ys, batch_size)
    if validation is not None:
        check_data(learner, state, *validation, batch_size=1)
        validation = (jnp.asarray(validation[0]), jnp.asarray(validation[1]))
    history: dict[str, list[float]] = {}
    done = 0
    if checkpoint is not None and has_checkpoint(checkpoint):
        restored = load_checkpoint(checkpoint, state)
        state, key, done, history = (
            restored.state,
            restored.key,
            restored.epoch,
            restored.history,
        )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not progress,
        transient=False,
    ) as bar:
        label = learner.label
        label = label if len(label) <= 32 else label[:31] + "…"
        task = bar.add_task(label, total=epochs, completed=done, status="")
        for first in range(done, epochs, max(epochs_per_call, 1)):
            count = min(max(epochs_per_call, 1), epochs - first)
            state, values = _run_epochs(
                learner,
                state,
                (xs, ys),
                key,
                jnp.arange(first, first + count),
                batch_size,
                unroll,
                metrics,
                validation,
            )
            for name, column in values.items():
                history.setdefault(name, []).extend(np.asarray(column).tolist())
            if checkpoint is not None:
                save_checkpoint(
                    checkpoint, state, key=key, epoch=first + count, history=history
                )
            status = "  ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
            bar.update(task, advance=count, status=status)
    return FitResult(state, learner.model_at(state), history)
