"""Long addition learned as a fold: a learned carry cell folded with `cdl.cata`.

A number is a list of digits; adding two numbers is structural recursion over the
list of digit pairs, from the least significant pair, carrying a small state. Here
the algebra of that recursion is learned: `CarryCell` reads a digit pair and the
carrier (a state vector and the digits emitted so far) and returns the next
carrier. Folded with `cdl.cata`, the same cell runs over 8 digits in training and
over 128 digits at test time. A non-structural baseline, a small transformer with
learned place-value embeddings, sees the same data.

Numbers are written most significant digit first, as on paper: the cons-list fold
consumes the last element first, so the carry flows from the least significant
digit.

>>> import numpy as np
>>> pairs, sums = addition_data(np.random.default_rng(0), 2, 3)
>>> pairs.shape, sums.shape
((2, 3, 2), (2, 4))
>>> all(as_int(s) == as_int(p[:, 0]) + as_int(p[:, 1]) for p, s in zip(pairs, sums))
True
"""

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from .._para import Para
from .._reparam import parameters
from ..architectures import layers_of, transformer_block
from ..nn import (
    Block,
    Each,
    LayerNorm,
    LearnedPositions,
    Linear,
    Relu,
    SelfAttention,
    lift,
)
from ..nn._arguments import whole
from ..optics import Adam, Callback, Learner, SoftmaxCrossEntropy, fit
from ..schemes import ListAlgebra, cata
from . import _messages

Carrier: TypeAlias = tuple[Float[Array, " state"], Float[Array, "n 10"]]
Batches: TypeAlias = Iterator[tuple[np.ndarray, np.ndarray]]

DEFAULT_LENGTHS: Final = (8, 16, 32, 64, 128)
FOLD_NAME: Final = "fold (cata)"
BASELINE_NAME: Final = "transformer"


def as_int(digits: Sequence[int] | np.ndarray) -> int:
    """The integer written by `digits`, most significant first.

    **Arguments:** `digits`, a sequence of ints in 0–9.

    **Returns:** the Python int they spell.

    >>> as_int([0, 4, 2])
    42
    """
    return int("".join(str(int(d)) for d in digits) or "0")


def addition_data(
    rng: np.random.Generator, batch: int, digits: int, max_digits: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Random sums, written as digit arrays, most significant digit first.

    Each summand has a number of digits drawn uniformly from 1 to `max_digits`
    (default: exactly `digits`, i.e. uniform over ``[0, 10**digits)``), padded with
    leading zeros to `digits`.

    **Arguments:** `rng`, a numpy generator; `batch`, the number of sums; `digits`,
    the written length; `max_digits`, the most significant digits a summand uses.

    **Returns:** ``(pairs, sums)``: int32 arrays of shapes ``[batch, digits, 2]``
    (the two summands side by side) and ``[batch, digits + 1]``.

    >>> pairs, sums = addition_data(np.random.default_rng(1), 1, 4, max_digits=2)
    >>> bool((pairs[0, :2] == 0).all())
    True
    """
    count, length = whole(batch), whole(digits)
    if count is None or length is None or count < 1 or length < 1:
        raise ValueError(_messages.bad_data(batch, digits))
    batch, digits = count, length
    most = None if max_digits is None else whole(max_digits)
    if max_digits is not None and (most is None or most < 1):
        raise ValueError(_messages.bad_max_digits(max_digits))
    used = (
        digits
        if most is None
        else rng.integers(1, min(most, digits) + 1, size=(batch, 1, 1))
    )
    pairs = rng.integers(0, 10, size=(batch, digits, 2))
    pairs = np.where(np.arange(digits)[None, ::-1, None] < used, pairs, 0)
    sums = np.zeros((batch, digits + 1), dtype=np.int32)
    carry = np.zeros(batch, dtype=np.int64)
    for i in range(digits - 1, -1, -1):
        total = pairs[:, i, 0] + pairs[:, i, 1] + carry
        sums[:, i + 1] = total % 10
        carry = total // 10
    sums[:, 0] = carry
    return pairs.astype(np.int32), sums


class CarryCell(Para[tuple[Int[Array, "2"], Carrier], Carrier]):
    """The learned algebra of long addition: one digit pair into the carrier.

    The carrier is ``(state, emitted)``: a state vector (which must learn to hold
    the carry) and the digit logits emitted so far, a list kept in an array of
    fixed capacity. The cell conses the logits of the new digit onto the front of
    that list.

    **Arguments:** `state`, the size of the state vector; `width`, the hidden
    width of the cell's MLP; `key`.

    **Returns:** a morphism ``int[2] × (float[state] × float[n,10]) → float[state] ×
    float[n,10]``: the ``cons`` of a `cdl.ListAlgebra`.

    >>> import jax, jax.numpy as jnp
    >>> cell = CarryCell(8, 32, key=jax.random.key(0))
    >>> state, emitted = cell((jnp.array([3, 4]), (jnp.zeros(8), jnp.zeros((5, 10)))))
    >>> state.shape, emitted.shape
    ((8,), (5, 10))
    """

    mix: Linear
    emit: Linear
    state: int = eqx.field(static=True)
    width: int = eqx.field(static=True)

    def __init__(self, state: int, width: int, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.mix = Linear(20 + state, width, key=k1)
        self.emit = Linear(width, state + 10, key=k2)
        self.state = state
        self.width = width

    @property
    def label(self) -> str:
        """``CarryCell(state, width)``."""
        return f"CarryCell({self.state}, {self.width})"

    def __call__(self, x: tuple[Int[Array, "2"], Carrier]) -> Carrier:
        """Read a digit pair and the carrier; emit a digit and the next state."""
        pair, (state, emitted) = x
        inputs = jnp.concatenate([jax.nn.one_hot(pair, 10).reshape(-1), state])
        out = self.emit(jax.nn.relu(self.mix(inputs)))
        digit = out[self.state :]
        consed = jnp.concatenate([digit[None], emitted[:-1]])
        return jnp.tanh(out[: self.state]), consed


class TopDigit(Para[Carrier, Float[Array, "n+1 10"]]):
    """Reads the final carry out of the state and puts it in front of the digits.

    **Arguments:** `state`, the size of the state vector; `key`.

    **Returns:** a morphism ``float[state] × float[n,10] → float[n+1,10]``.

    >>> import jax, jax.numpy as jnp
    >>> TopDigit(8, key=jax.random.key(0))((jnp.zeros(8), jnp.zeros((3, 10)))).shape
    (4, 10)
    """

    read: Linear
    state: int = eqx.field(static=True)

    def __init__(self, state: int, *, key: PRNGKeyArray) -> None:
        self.read = Linear(state, 10, key=key)
        self.state = state

    @property
    def label(self) -> str:
        """``TopDigit(state)``."""
        return f"TopDigit({self.state})"

    def __call__(self, x: Carrier) -> Float[Array, "n+1 10"]:
        """Prepend the logits of the last carry to the emitted digits."""
        state, emitted = x
        return jnp.concatenate([self.read(state)[None], emitted])


class FoldAdder(Para[Int[Array, "n 2"], Float[Array, "n+1 10"]]):
    """The structural model: ``cata(ListAlgebra(nil, CarryCell)) >> TopDigit``.

    `nil` is the learned initial state with an empty list of emitted digits; its
    capacity is the length of the input, so one set of weights adds numbers of
    any length.

    **Arguments:** `state`, the state size; `width`, the cell's hidden width;
    `key`.

    **Returns:** a morphism ``int[n,2] → float[n+1,10]`` from digit pairs (most
    significant first) to the logits of the sum's digits.

    >>> import jax, jax.numpy as jnp
    >>> adder = FoldAdder(8, 32, key=jax.random.key(0))
    >>> adder(jnp.zeros((128, 2), jnp.int32)).shape
    (129, 10)
    >>> adder.network(8).label
    'cata(CarryCell(8, 32)) >> TopDigit(8)'
    """

    cell: CarryCell
    start: Float[Array, "state"]
    top: TopDigit
    state: int = eqx.field(static=True)

    def __init__(self, state: int, width: int, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.cell = CarryCell(state, width, key=k1)
        self.start = jnp.zeros(state)
        self.top = TopDigit(state, key=k2)
        self.state = state

    @property
    def label(self) -> str:
        """``FoldAdder(state, width)``."""
        return f"FoldAdder({self.state}, {self.cell.width})"

    def network(self, digits: int) -> Para[Any, Any]:
        """The composite that adds numbers of `digits` digits."""
        nil = (self.start, jnp.zeros((digits, 10)))
        return cata(ListAlgebra(nil, self.cell)) >> self.top

    def __call__(self, x: Int[Array, "n 2"]) -> Float[Array, "n+1 10"]:
        """Fold the cell over the digit pairs, least significant first."""
        out: Float[Array, "n+1 10"] = self.network(x.shape[0])(x)
        return out


def digit_slots(pairs: Int[Array, "n 2"]) -> Float[Array, "n+1 20"]:
    """The digit pairs one-hot, after an empty slot for the sum's leading digit.

    **Arguments:** `pairs`, ``int[n, 2]``, most significant first.

    **Returns:** ``float[n+1, 20]``: row 0 all zeros but for the digits 0 of the
    empty slot, then the one-hot codes of both digits of each pair.

    >>> import jax.numpy as jnp
    >>> slots = digit_slots(jnp.array([[3, 4]]))
    >>> slots.shape, jnp.argwhere(slots[1]).ravel().tolist()
    ((2, 20), [3, 14])
    """
    padded = jnp.concatenate([jnp.zeros((1, 2), pairs.dtype), pairs])
    return jax.nn.one_hot(padded, 10).reshape(pairs.shape[0] + 1, 20)


def attention_adder(
    dim: int, depth: int, heads: int, max_digits: int, *, key: PRNGKeyArray
) -> Block[Int[Array, "n 2"], Float[Array, "n+1 10"]]:
    """The non-structural baseline: a small transformer over the digit positions.

    ``lift(digit_slots) >> each(Linear(20, dim)) >> LearnedPositions(from end)
    >> EncoderBlock × depth >> LayerNorm >> each(Linear(dim, 10))``: each position
    reads its digit pair (plus one leading empty position for the final carry) and
    a learned embedding of its place value, counted from the units digit; pre-norm
    blocks of self-attention and a ReLU MLP (`cdl.architectures.transformer_block`)
    mix all positions. Its table of place values has `max_digits` + 1 rows, so it
    accepts numbers of up to `max_digits` digits.

    **Arguments:** `dim`, the width; `depth`, the number of blocks; `heads`
    (dividing `dim`); `max_digits`; `key`.

    **Returns:** a `cdl.Block` ``int[n,2] → float[n+1,10]`` named
    ``AttentionAdder(dim, depth)``.

    >>> import jax, jax.numpy as jnp
    >>> model = attention_adder(16, 1, 2, 32, key=jax.random.key(0))
    >>> model.label, model(jnp.zeros((8, 2), jnp.int32)).shape
    ('AttentionAdder(16, 1)', (9, 10))
    """
    keys = jax.random.split(key, depth + 3)
    model: Para[Any, Any] = (
        lift(digit_slots)
        >> Each(Linear(20, dim, key=keys[0]))
        >> LearnedPositions(max_digits + 1, dim, from_end=True, key=keys[1])
    )
    for k in keys[3:]:
        model = model >> transformer_block(dim, heads, activation=Relu(), key=k)
    model = model >> LayerNorm(dim) >> Each(Linear(dim, 10, key=keys[2]))
    return Block(f"AttentionAdder({dim}, {depth})", model)


def count_parameters(model: Para[Any, Any]) -> int:
    """The number of scalar parameters of `model`.

    **Arguments:** `model`, any `cdl.Para`.

    **Returns:** the total size of its array leaves.

    >>> import jax
    >>> count_parameters(Linear(3, 2, key=jax.random.key(0)))
    8
    """
    return sum(leaf.size for leaf in jax.tree.leaves(parameters(model)))


class _Advance(Callback):
    """Tells the demo's progress bar how many steps are done after each epoch."""

    def __init__(self, progress: Callable[[int], None], steps: int) -> None:
        self.progress = progress
        self.steps = steps

    def on_epoch_end(self, epoch: int, values: dict[str, float], state: Any) -> None:
        self.progress(self.steps)


def train(
    model: Para[Any, Any],
    batches: Batches,
    steps: int,
    *,
    learning_rate: float | optax.Schedule,
    progress: Callable[[int], None] | None = None,
) -> Para[Any, Any]:
    """Fit `model` to digit sums by Adam on the mean cross-entropy of the digits.

    The `steps` batches are drawn first and trained on in their order, as one
    epoch of `cdl.optics.fit` (one compiled loop over all steps).

    **Arguments:** `model`, from digit pairs to digit logits; `batches`, an
    iterator of ``(pairs, sums)``; `steps`; `learning_rate`, a number or an optax
    schedule; `progress`, called with the number of steps done.

    **Returns:** the trained model.

    >>> import jax
    >>> rng = np.random.default_rng(0)
    >>> batches = iter(lambda: addition_data(rng, 32, 2), None)
    >>> model = FoldAdder(4, 16, key=jax.random.key(0))
    >>> trained = train(model, batches, 2, learning_rate=1e-3)
    >>> count_parameters(trained) == count_parameters(model)
    True
    """
    drawn = [next(batches) for _ in range(steps)]
    pairs = np.concatenate([p for p, _ in drawn])
    sums = np.concatenate([s for _, s in drawn])
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(learning_rate))
    result = fit(
        learner,
        model,
        pairs,
        sums,
        epochs=1,
        batch_size=len(drawn[0][0]),
        key=jax.random.key(0),
        shuffle=False,
        progress=False,
        callbacks=[] if progress is None else [_Advance(progress, steps)],
    )
    return result.model


def memory_budget() -> int:
    """Bytes an evaluation may use: half of what the default device has free.

    **Arguments:** none.

    **Returns:** the number of bytes (from the device's memory statistics, or the
    host's available memory on a CPU).

    >>> memory_budget() > 0
    True
    """
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return (int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))) // 2
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2


def bytes_per_sum(model: Para[Any, Any], digits: int) -> int:
    """An estimate of the memory `model` needs to read one sum of `digits` digits.

    Attention holds a ``heads × (n+1) × (n+1)`` table of scores and its softmax
    (counted three times: scores, weights and a temporary), which dominates for
    long inputs, beside a few ``(n+1) × dim`` activations; a fold holds its
    carrier and outputs, ``(n+1) × 10`` numbers, counted 32 times.

    **Arguments:** `model`; `digits`.

    **Returns:** the estimate in bytes.

    >>> import jax
    >>> model = attention_adder(32, 2, 4, 4000, key=jax.random.key(0))
    >>> bytes_per_sum(model, 4000) > 10**8
    True
    """
    rows = digits + 1
    attention = layers_of(model, SelfAttention)
    if attention:
        heads = max(layer.heads for layer in attention)
        dim = max(layer.dim for layer in attention)
        return 4 * rows * (3 * heads * rows + 16 * dim)
    return 4 * rows * 32 * 10


@eqx.filter_jit
def _predict(model: Para[Any, Any], pairs: Array) -> Array:
    return jnp.argmax(jax.vmap(model)(pairs), axis=-1)


def score(
    model: Para[Any, Any], pairs: np.ndarray, sums: np.ndarray, *, chunk: int = 250
) -> tuple[float, float]:
    """How well `model` adds: exact-match and per-digit accuracy.

    **Arguments:** `model`; `pairs` and `sums`, as from `addition_data`; `chunk`,
    how many sums to evaluate at once.

    **Returns:** ``(exact, digits)``: the fraction of sums whose every digit is
    right, and the fraction of digits that are right.

    >>> import jax
    >>> pairs, sums = addition_data(np.random.default_rng(0), 10, 4)
    >>> exact, digits = score(FoldAdder(4, 8, key=jax.random.key(0)), pairs, sums)
    >>> 0.0 <= exact <= digits <= 1.0
    True
    """
    guesses = np.concatenate(
        [
            np.asarray(_predict(model, jnp.asarray(pairs[i : i + chunk])))
            for i in range(0, len(pairs), chunk)
        ]
    )
    right = guesses == sums
    return float(np.mean(np.all(right, axis=1))), float(np.mean(right))


@dataclasses.dataclass(frozen=True)
class Scores:
    """Accuracies of one model at each length, its size and its training time.

    **Arguments:** `name`; `exact` and `digits`, exact-match and per-digit
    accuracies, one per length (NaN where the length could not run); `parameters`;
    `seconds`; `model`, the trained model; `skipped`, a line for each length that
    could not run, saying why.

    >>> Scores("fold", (1.0, 0.5), (1.0, 0.9), 4244, 2.2).exact
    (1.0, 0.5)
    """

    name: str
    exact: tuple[float, ...]
    digits: tuple[float, ...]
    parameters: int
    seconds: float
    model: Para[Any, Any] | None = None
    skipped: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AdditionReport:
    """What the addition demo measured.

    **Arguments:** `lengths`, the numbers of digits evaluated; `fold` and
    `baseline`, the `Scores` of both models; `train_digits`.

    >>> r = AdditionReport((8,), Scores("fold", (1.0,), (1.0,), 10, 1.0),
    ...                    Scores("mlp", (0.5,), (0.9,), 20, 2.0), 8)
    >>> r.rows()
    [(8, 1.0, 0.5)]
    """

    lengths: tuple[int, ...]
    fold: Scores
    baseline: Scores
    train_digits: int

    def rows(self) -> list[tuple[int, float, float]]:
        """``(digits, fold exact match, baseline exact match)`` for each length."""
        return list(
            zip(self.lengths, self.fold.exact, self.baseline.exact, strict=True)
        )

    def table(self) -> Table:
        """The results as a rich table.

        >>> r = AdditionReport((8,), Scores("fold", (1.0,), (1.0,), 10, 1.0),
        ...                    Scores("mlp", (0.5,), (0.9,), 20, 2.0), 8)
        >>> import io
        >>> out = io.StringIO()
        >>> Console(file=out, width=60).print(r.table())
        >>> print(out.getvalue().splitlines()[-3].strip())
        │ 8 │ 100.0% (100.0%) │  50.0% (90.0%) │
        """
        table = Table(
            title="Exact-match accuracy (per-digit accuracy) on n-digit sums",
            caption=f"both trained on sums of at most {self.train_digits} digits",
        )
        table.add_column("n", justify="right")
        for scores in (self.fold, self.baseline):
            table.add_column(
                f"{scores.name}\n{scores.parameters:,} params", justify="right"
            )
        for i, n in enumerate(self.lengths):
            table.add_row(
                str(n),
                *(
                    "skipped"
                    if np.isnan(s.exact[i])
                    else f"{s.exact[i]:6.1%} ({s.digits[i]:.1%})"
                    for s in (self.fold, self.baseline)
                ),
            )
        return table


def plot(report: AdditionReport, path: str | Path) -> Path:
    """Save a plot of exact-match accuracy against the number of digits.

    **Arguments:** `report`, from `run_addition`; `path`, where to write the image
    (its suffix picks the format: ``.png``, ``.svg``, ``.pdf``).

    **Returns:** the path written.

    >>> import tempfile, os
    >>> r = AdditionReport((8, 16), Scores("fold", (1.0, 1.0), (1.0, 1.0), 1, 1.0),
    ...                    Scores("mlp", (0.5, 0.0), (0.9, 0.5), 2, 1.0), 8)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.path.getsize(plot(r, os.path.join(d, "acc.png"))) > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.6), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for scores, style in ((report.fold, "o-"), (report.baseline, "s--")):
        label = f"{scores.name}, {scores.parameters:,} params"
        axes.plot(report.lengths, scores.exact, style, label=label)
    axes.set_xscale("log", base=2)
    axes.set_xticks(report.lengths, [str(n) for n in report.lengths])
    axes.set_ylim(-0.03, 1.03)
    axes.set_xlabel(f"digits per summand (trained on at most {report.train_digits})")
    axes.set_ylabel("exact-match accuracy")
    axes.grid(alpha=0.3)
    axes.legend(loc="center left")
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target)
    return target


def _score_within(
    model: Para[Any, Any],
    name: str,
    digits: int,
    data: tuple[np.ndarray, np.ndarray],
    budget: int,
) -> tuple[float, float] | str:
    """The score of `model`, in chunks that fit `budget`; or why it cannot run."""
    need = bytes_per_sum(model, digits)
    if need > budget:
        return _messages.too_big(name, digits, need, budget)
    try:
        return score(model, *data, chunk=max(1, min(250, budget // need)))
    except jax.errors.JaxRuntimeError as error:
        if "RESOURCE_EXHAUSTED" not in str(error):
            raise
        return _messages.out_of_memory(name, digits)


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("training {task.description:<20}"),
        BarColumn(),
        TextColumn("{task.completed:>5}/{task.total} steps"),
        TimeRemainingColumn(),
        console=console,
        disable=console is None,
    )


def run_addition(
    *,
    steps: int = 1500,
    train_digits: int = 8,
    lengths: Sequence[int] = DEFAULT_LENGTHS,
    eval_size: int = 1000,
    batch: int = 128,
    state: int = 16,
    width: int = 64,
    baseline_dim: int = 32,
    seed: int = 0,
    console: Console | None = None,
    memory: int | None = None,
) -> AdditionReport:
    """Train the fold and the baseline on sums of at most `train_digits` digits.

    Both models see the same batches for the same number of steps; both are then
    scored on `eval_size` fresh sums of each length in `lengths`, every summand of
    exactly that many digits.

    **Arguments:** `steps`, training steps of each model; `train_digits`;
    `lengths`; `eval_size`; `batch`; `state` and `width`, the cell's sizes;
    `baseline_dim`, the transformer's width (two blocks, four heads); `seed`,
    fixing the data and the initial weights; `console`, where to show progress
    bars and the lines of lengths skipped (none if None); `memory`, the bytes an
    evaluation may use (by default `memory_budget`): a model is scored on as many
    sums at once as fit, and a length whose one sum does not fit is skipped with
    a line saying so.

    **Returns:** an `AdditionReport`.

    >>> r = run_addition(steps=3, lengths=(2, 4), eval_size=8, state=4, width=8,
    ...                  baseline_dim=8, train_digits=2)
    >>> r.lengths, len(r.fold.exact), len(r.baseline.digits)
    ((2, 4), 2, 2)
    """
    lengths = tuple(lengths)
    if steps < 1 or eval_size < 1 or not lengths or min(lengths) < 1:
        raise ValueError(_messages.bad_run(steps, eval_size, lengths))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(_messages.bad_seed(seed))
    budget = memory_budget() if memory is None else memory
    fold_key, base_key = jax.random.split(jax.random.key(seed))
    models: dict[str, Para[Any, Any]] = {
        FOLD_NAME: FoldAdder(state, width, key=fold_key),
        BASELINE_NAME: attention_adder(
            baseline_dim, 2, 4, max(*lengths, train_digits), key=base_key
        ),
    }
    schedules: dict[str, float | optax.Schedule] = {
        FOLD_NAME: 3e-3,
        BASELINE_NAME: optax.warmup_cosine_decay_schedule(
            0.0, 5e-3, min(100, steps // 2), steps
        ),
    }

    def batches() -> Batches:
        rng = np.random.default_rng(seed)
        while True:
            yield addition_data(rng, batch, train_digits, train_digits)

    results = []
    with _progress(console) as bar:
        tasks = {name: bar.add_task(name, total=steps) for name in models}
        for name, model in models.items():
            task = tasks[name]

            def advance(done: int, task: TaskID = task) -> None:
                bar.update(task, completed=done)

            start = time.perf_counter()
            trained = train(
                model, batches(), steps, learning_rate=schedules[name], progress=advance
            )
            seconds = time.perf_counter() - start
            rng = np.random.default_rng(seed + 1)
            measured, skipped = [], []
            for n in lengths:
                data = addition_data(rng, eval_size, n)
                result = _score_within(trained, name, n, data, budget)
                if isinstance(result, str):
                    skipped.append(result)
                    measured.append((float("nan"), float("nan")))
                    if console is not None:
                        console.print(result)
                else:
                    measured.append(result)
            results.append(
                Scores(
                    name,
                    tuple(exact for exact, _ in measured),
                    tuple(digits for _, digits in measured),
                    count_parameters(trained),
                    seconds,
                    trained,
                    tuple(skipped),
                )
            )
    return AdditionReport(lengths, results[0], results[1], train_digits)
