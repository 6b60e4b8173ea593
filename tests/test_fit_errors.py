"""Nothing silent: loss shapes, non-finite losses, bad arguments, Ctrl-C, and the
habits users bring (schedules, loggers, model files, whole progress lines)."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import cdl
from cdl.optics import (
    SGD,
    Adam,
    BinaryCrossEntropy,
    Callback,
    CSVLogger,
    DataError,
    Learner,
    LossShapeError,
    MeanSquaredError,
    Momentum,
    NonFiniteLossError,
    SoftmaxCrossEntropy,
    TensorBoardLogger,
    accuracy,
    fit,
    load_checkpoint,
)
from cdl.optics._checkpoint import sealed

ROOT = Path(__file__).resolve().parent.parent


def regression(n: int = 150) -> tuple[jax.Array, jax.Array]:
    xs = jax.random.normal(jax.random.key(0), (n, 4))
    return xs, xs @ jnp.array([1.0, -2.0, 0.5, 3.0])


def test_losses_name_both_shapes_instead_of_broadcasting() -> None:
    with pytest.raises(LossShapeError, match=r"labels f32\[5\] and predictions "):
        MeanSquaredError().get(jnp.zeros(5), jnp.zeros((5, 1)))
    with pytest.raises(LossShapeError, match=r"f32\[5,1\] differ in shape"):
        BinaryCrossEntropy().get(jnp.zeros(5), jnp.zeros((5, 1)))
    with pytest.raises(LossShapeError, match=r"labels i32\[5,1\] do not fit logits"):
        SoftmaxCrossEntropy().get(jnp.zeros((5, 1), jnp.int32), jnp.zeros((5, 3)))
    with pytest.raises(LossShapeError, match="must be integer class indices"):
        SoftmaxCrossEntropy().get(jnp.zeros(5), jnp.zeros((5, 3)))


def test_losses_given_one_example_name_the_missing_batch_axis() -> None:
    sce, logits = SoftmaxCrossEntropy(), jnp.zeros(4)
    with pytest.raises(
        LossShapeError,
        match=r"^SoftmaxCrossEntropy: labels i32\[\] and predictions f32\[4\] have "
        r"no batch axis: .* labels of shape \(1,\) and predictions of shape "
        r"\(1, 4\)",
    ):
        sce.get(jnp.array(2), logits)
    assert float(sce.get(jnp.array(2)[None], logits[None])) == pytest.approx(
        np.log(4.0)
    )
    for loss in (MeanSquaredError(), BinaryCrossEntropy()):
        with pytest.raises(
            LossShapeError,
            match=rf"^{loss.label}: labels f32\[\] and predictions f32\[\] have no "
            r"batch axis: .* labels of shape \(1,\) and predictions of shape \(1,\)",
        ):
            loss.get(jnp.array(1.0), jnp.array(0.0))
    with pytest.raises(LossShapeError, match=r"logits f32\[3\] have no class axis"):
        sce.get(jnp.zeros(3, jnp.int32), jnp.zeros(3))
    with pytest.raises(LossShapeError, match=r"logits f32\[\] have no class axis"):
        sce.get(jnp.array(0), jnp.array(0.0))


def test_fit_refuses_labels_that_would_broadcast_and_trains_right_ones() -> None:
    xs, ys = regression()
    model = cdl.Linear(4, 1, key=jax.random.key(1))
    learner = Learner(model, MeanSquaredError(), Adam(0.1))
    kwargs = dict(epochs=60, batch_size=40, key=jax.random.key(2), progress=False)
    with pytest.raises(DataError, match=r"labels float32\[\] against model outputs"):
        fit(learner, model, xs, ys, **kwargs)
    result = fit(learner, model, xs, ys[:, None], **kwargs)
    assert np.allclose(result.model.weight[0], [1.0, -2.0, 0.5, 3.0], atol=0.05)


def test_labels_of_the_wrong_shape_are_named_at_the_size_of_the_data() -> None:
    # The data are checked on a batch of two: the advice named that batch's
    # shape (`give labels of shape (2, 1)`) for labels of 150 examples.
    xs, ys = regression()
    model = cdl.Linear(4, 1, key=jax.random.key(1))
    learner = Learner(model, MeanSquaredError(), Adam(0.1))
    kwargs = dict(epochs=1, batch_size=40, key=jax.random.key(2), progress=False)
    with pytest.raises(DataError, match=r"f32\[150\] and predictions f32\[150,1\].*"
                       r"shape \(150, 1\)\.$"):  # fmt: skip
        fit(learner, model, xs, ys, **kwargs)
    classifier = cdl.Linear(4, 3, key=jax.random.key(1))
    one_hot = jax.nn.one_hot(jnp.arange(150) % 3, 3)
    with pytest.raises(DataError, match=r"labels f32\[150,3\] must be integer"):
        fit(Learner(classifier, SoftmaxCrossEntropy(), Adam(0.1)), classifier,
            xs, one_hot, **kwargs)  # fmt: skip
    with pytest.raises(DataError, match=r"validation data.*shape \(7, 1\)\.$"):
        fit(learner, model, xs, ys[:, None], validation=(xs[:7], ys[:7]), **kwargs)
    g1, g2 = jax.random.split(jax.random.key(0))
    graph = cdl.Graph.from_edge_list([(0, 1)], 2, nodes=jnp.ones((2, 3)))
    network = (
        cdl.graphs.GraphConv(3, 4, key=g1)
        >> cdl.graphs.Readout()
        >> cdl.Each(cdl.Linear(4, 1, key=g2))
    )
    with pytest.raises(DataError, match=r"f32\[5\] and predictions f32\[5,1\].*"
                       r"shape \(5, 1\)\.$"):  # fmt: skip
        fit(Learner(network, MeanSquaredError(), Adam(0.1)), network, [graph] * 5,
            np.zeros(5, np.float32), epochs=1, batch_size=2, key=jax.random.key(0),
            progress=False)  # fmt: skip


def test_a_metric_that_cannot_score_the_data_is_named_before_training() -> None:
    # Graphs train a whole epoch before their metrics are computed: a metric
    # that could not score them failed then, unnamed, the epoch's work lost.
    started: list[int] = []

    class Spy(Callback):
        def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
            started.append(epoch)

    g1, g2 = jax.random.split(jax.random.key(0))
    graph = cdl.Graph.from_edge_list([(0, 1)], 2, nodes=jnp.ones((2, 3)))
    network = (
        cdl.graphs.GraphConv(3, 4, key=g1)
        >> cdl.graphs.Readout()
        >> cdl.Each(cdl.Linear(4, 2, key=g2))
    )
    one_hot = np.eye(2, dtype=np.float32)[np.arange(6) % 2]
    with pytest.raises(ValueError, match="metric 'acc' cannot score the model's"):
        fit(Learner(network, MeanSquaredError(), Adam(0.1)), network, [graph] * 6,
            one_hot, epochs=1, batch_size=2, key=jax.random.key(0), progress=False,
            metrics={"acc": accuracy}, callbacks=[Spy()])  # fmt: skip
    assert started == []
    # A metric function whose shapes do not fit is named too, not JAX's error.
    xs, ys = regression(8)
    model = cdl.Linear(4, 2, key=jax.random.key(1))

    def first_equal(m: object, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean(jax.vmap(m)(x)[:, 0] == y)  # type: ignore[arg-type]

    with pytest.raises(
        ValueError, match=r"metric 'first' failed \(it raised .*broadcast"
    ):
        fit(Learner(model, MeanSquaredError(), Adam(0.1)), model, xs,
            jnp.zeros((8, 2)), epochs=1, batch_size=4, key=jax.random.key(0),
            progress=False, metrics={"first": first_equal})  # fmt: skip


def test_the_last_partial_batch_is_used() -> None:
    xs, ys = regression(150)
    model = cdl.Linear(4, 1, key=jax.random.key(1))
    learner = Learner(model, MeanSquaredError(), SGD(0.01))
    result = fit(
        learner,
        model,
        xs,
        ys[:, None],
        epochs=2,
        batch_size=40,
        key=jax.random.key(0),
        progress=False,
    )
    assert int(result.state.step) == 2 * 4  # 40 + 40 + 40 + 30
    # One example alone in the last batch still moves the parameters.
    one = jnp.zeros((3, 4)).at[2].set(1.0)
    moved = fit(
        learner,
        model,
        one,
        jnp.array([[0.0], [0.0], [5.0]]),
        epochs=1,
        batch_size=2,
        key=jax.random.key(0),
        progress=False,
    )
    assert int(moved.state.step) == 2
    assert not np.allclose(moved.model.weight, model.weight)


def diverging(tmp_path: Path, **options: object) -> object:
    xs = jnp.linspace(-10, 10, 16)[:, None]
    model = cdl.Linear(1, 1, key=jax.random.key(0))
    learner = Learner(model, MeanSquaredError(), SGD(0.5))
    return fit(
        learner,
        model,
        xs,
        3 * xs,
        epochs=40,
        batch_size=4,
        key=jax.random.key(0),
        checkpoint=tmp_path,
        progress=False,
        **options,
    )


def test_a_non_finite_loss_stops_naming_step_and_epoch(tmp_path: Path) -> None:
    with pytest.raises(NonFiniteLossError) as caught:
        diverging(tmp_path)
    text = str(caught.value)
    assert "the loss became" in text and "at step" in text and "(epoch" in text
    assert f"the checkpoint in {tmp_path} holds epoch" in text
    step = int(text.split("at step ")[1].split()[0])
    epoch = int(text.split("(epoch ")[1].split(",")[0])
    assert (step - 1) // 4 + 1 == epoch  # 4 steps per epoch
    model = cdl.Linear(1, 1, key=jax.random.key(0))
    like = Learner(model, MeanSquaredError(), SGD(0.5)).init(model)
    saved = load_checkpoint(tmp_path, like)
    assert saved.epoch == epoch - 1
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(saved.state))


def test_skipping_non_finite_batches_is_an_option(tmp_path: Path) -> None:
    xs = jnp.ones((8, 1)).at[3, 0].set(1e30)
    model = cdl.Linear(1, 1, key=jax.random.key(0))
    learner = Learner(model, MeanSquaredError(), SGD(0.1))
    result = fit(
        learner,
        model,
        xs,
        jnp.ones((8, 1)) * 1e30,
        epochs=3,
        batch_size=2,
        key=jax.random.key(0),
        progress=False,
        on_nonfinite="skip",
    )
    assert result.history["skipped"] == [4.0, 4.0, 4.0]
    assert np.isfinite(result.model.weight).all()


def test_an_epoch_whose_every_batch_was_skipped_has_no_loss(tmp_path: Path) -> None:
    # Its loss was recorded as 0.0, a perfect score, which EarlyStopping and
    # any reader of the history took as the best epoch.
    model = cdl.Linear(1, 1, key=jax.random.key(0))
    learner = Learner(model, MeanSquaredError(), SGD(0.1))
    xs = jnp.ones((8, 1)).at[0:2, 0].set(1e30)  # an infinite loss: skipped

    def run(data: jax.Array, epochs: int) -> dict[str, list[float]]:
        return fit(learner, model, data, jnp.ones((len(data), 1)), epochs=epochs,
                   batch_size=2, key=jax.random.key(0), progress=False,
                   on_nonfinite="skip", checkpoint=tmp_path / str(len(data)),
                   epochs_per_call=2).history  # fmt: skip

    history = run(xs[:2], 2)
    assert np.isnan(history["loss"]).all() and history["skipped"] == [1.0, 1.0]
    assert np.isnan(run(xs[:2], 3)["loss"]).all()  # resumed: NaN saved and read
    mixed = run(xs, 1)  # the mean of the batches left
    assert mixed["skipped"][0] in (1.0, 2.0) and np.isfinite(mixed["loss"]).all()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("epochs", -5, r"`epochs` must be a positive int, not -5"),
        ("epochs", 0, r"`epochs` must be a positive int, not 0"),
        ("epochs", 2.5, r"`epochs` must be a positive int, not 2.5"),
        ("batch_size", 0, r"`batch_size` must be a positive int, not 0"),
        ("key", 0, r"`key` must be a PRNG key such as jax.random.key\(0\), not 0"),
        # A split key was 'not PRNGKeyArray', as if it were no key at all.
        (
            "key",
            jax.random.split(jax.random.key(0), 2),
            r"not an array of keys of shape \(2,\): pass one of them",
        ),
        ("key", jnp.zeros(3, jnp.uint32), r"not an array of uint32 of shape \(3,\)"),
        ("on_nonfinite", "ignore", r"must be 'raise' or 'skip', not 'ignore'"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    tmp_path: Path, option: str, value: object, message: str
) -> None:
    model = cdl.Linear(4, 3, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    kwargs: dict[str, object] = dict(
        epochs=2, batch_size=2, key=jax.random.key(0), progress=False
    )
    kwargs[option] = value
    with pytest.raises(ValueError, match=message):
        fit(
            learner,
            model,
            jnp.zeros((8, 4)),
            jnp.zeros(8, jnp.int32),
            checkpoint=tmp_path / "run",
            **kwargs,
        )
    assert not (tmp_path / "run").exists()


INTERRUPTED = """
import sys, time
import jax, jax.numpy as jnp
import cdl
from cdl.optics import Callback, Learner, SoftmaxCrossEntropy, SGD, fit

class Slow(Callback):
    def on_epoch_end(self, epoch, values, state):
        print("epoch", epoch, flush=True)
        time.sleep(0.2 if epochs > 100 else 0.0)

epochs = int(sys.argv[2])
model = cdl.Linear(4, 3, key=jax.random.key(0))
learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
fit(learner, model, jnp.ones((8, 4)), jnp.zeros(8, jnp.int32), epochs=epochs,
    batch_size=4, key=jax.random.key(0), checkpoint=sys.argv[1], progress=False,
    callbacks=[Slow()])
print("finished", flush=True)
"""


AS_IN_A_TERMINAL = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
"""
"""Ctrl-C as in a terminal: a test run started in the background (CI, ``cmd &``)
hands its children SIGINT ignored, and Python then keeps ignoring it."""


def run_child(
    directory: Path, epochs: int, capsys: pytest.CaptureFixture[str]
) -> "pytest.CaptureResult[str]":
    """The child's script run here, with its output."""
    argv = sys.argv
    sys.argv = ["child", str(directory), str(epochs)]
    capsys.readouterr()
    try:
        exec(compile(INTERRUPTED, "child", "exec"), {})
    finally:
        sys.argv = argv
    return capsys.readouterr()


def test_ctrl_c_ends_with_one_line_and_the_run_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", AS_IN_A_TERMINAL + INTERRUPTED, str(tmp_path), "1000"],
        cwd=ROOT,
        env=dict(os.environ, JAX_PLATFORMS="cpu"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith("epoch 2"):
                break
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:  # a run that did not stop leaves no process or pipe behind
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted after ")
    assert f"the checkpoint in {tmp_path} holds epoch" in lines[0]
    assert "again to resume" in lines[0]
    saved = int(lines[0].split("holds epoch ")[1].split(":")[0])
    assert saved >= 2
    resumed = run_child(tmp_path, saved + 1, capsys)
    assert f"epoch {saved} of {saved + 1} done" in resumed.err
    assert resumed.out.split() == ["epoch", str(saved + 1), "finished"]
    again = run_child(tmp_path, saved + 1, capsys)
    assert f"already finished ({saved + 1} epochs)" in again.err
    assert again.out.split() == ["finished"]


@pytest.mark.parametrize("optimiser", ["sgd", "momentum", "adam"])
def test_optax_schedules_drive_cdl_optimisers(optimiser: str) -> None:
    schedule = optax.warmup_cosine_decay_schedule(0.0, 0.1, 3, 10)
    ours = {
        "sgd": SGD(schedule),
        "momentum": Momentum(schedule, 0.9),
        "adam": Adam(schedule),
    }[optimiser]
    theirs = {
        "sgd": optax.sgd(schedule),
        "momentum": optax.sgd(schedule, momentum=0.9),
        "adam": optax.adam(schedule),
    }[optimiser]
    params = jnp.array([1.0, -2.0])
    state, reference, opt_state = ours.init(params), params, theirs.init(params)
    mine = params
    for i in range(8):
        grads = jnp.array([jnp.sin(i + 1.0), jnp.cos(i * 2.0)]) * mine
        state, mine = ours.put((state, mine), grads)
        ref_grads = jnp.array([jnp.sin(i + 1.0), jnp.cos(i * 2.0)]) * reference
        updates, opt_state = theirs.update(ref_grads, opt_state, reference)
        reference = optax.apply_updates(reference, updates)
        assert np.allclose(mine, reference, atol=1e-6)


def test_loggers_write_csv_and_tensorboard_and_agree_after_resume(
    tmp_path: Path,
) -> None:
    xs = jax.random.normal(jax.random.key(0), (12, 4))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    model = cdl.Linear(4, 2, key=jax.random.key(1))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
    csv_path, board = tmp_path / "log.csv", tmp_path / "board"

    def run(epochs: int) -> dict[str, list[float]]:
        return fit(
            learner,
            model,
            xs,
            ys,
            epochs=epochs,
            batch_size=5,
            key=jax.random.key(2),
            metrics={"accuracy": accuracy},
            checkpoint=tmp_path / "run",
            progress=False,
            callbacks=[CSVLogger(csv_path), TensorBoardLogger(board)],
        ).history

    run(2)
    history = run(4)
    rows = [line.split(",") for line in csv_path.read_text().splitlines()]
    assert rows[0] == ["epoch", "loss", "accuracy"]
    assert [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4]
    assert [float(r[1]) for r in rows[1:]] == history["loss"]
    assert [float(r[2]) for r in rows[1:]] == history["accuracy"]
    events = list(board.glob("events.out.tfevents.*"))
    assert len(events) == 2
    assert all(b"accuracy" in e.read_bytes() for e in events)


def test_a_trained_model_saves_and_loads_with_what_rebuilds_it(tmp_path: Path) -> None:
    def build(hidden: int) -> cdl.Para:
        k1, k2 = jax.random.split(jax.random.key(0))
        return (
            cdl.Linear(4, hidden, key=k1)
            >> cdl.Tanh()
            >> cdl.Dropout(0.1)
            >> cdl.Linear(hidden, 3, key=k2)
        )

    model = build(hidden=6)
    # Parameters unlike those `build` makes, as training leaves them.
    trained = jax.tree.map(lambda a: a + 1.0 if eqx.is_inexact_array(a) else a, model)
    path = tmp_path / "models" / "classifier.cdl"
    cdl.save(path, trained, hidden=6)
    back = cdl.load(path, build)
    for a, b in zip(jax.tree.leaves(back), jax.tree.leaves(trained), strict=True):
        assert np.array_equal(a, b)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="is damaged .checksum mismatch"):
        cdl.load(path, build)


def test_progress_lines_are_whole_when_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    xs = jax.random.normal(jax.random.key(0), (12, 4))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    model = cdl.Linear(4, 2, key=jax.random.key(1))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
    names = {f"accuracy_with_a_long_name_{i}": accuracy for i in range(3)}
    fit(
        learner,
        model,
        xs,
        ys,
        epochs=2,
        batch_size=5,
        key=jax.random.key(2),
        metrics=names,
        validation=(xs, ys),
        progress=True,
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Linear(4→2) epoch 2/2")
    assert len(lines[1]) > 200
    assert all(f"val_{name}" in lines[1] for name in names)


def _three_layers(hidden: int = 8) -> cdl.Para:  # type: ignore[type-arg]
    k1, k2 = jax.random.split(jax.random.key(0))
    return cdl.Linear(4, hidden, key=k1) >> cdl.Tanh() >> cdl.Linear(hidden, 3, key=k2)


def _without_layout(path: Path, model: object) -> None:
    """A model file as `cdl.save` wrote it before files named their arrays."""
    arrays = io.BytesIO()
    eqx.tree_serialise_leaves(arrays, model)
    header = json.dumps({"hyperparameters": {}}).encode() + b"\n"
    path.write_bytes(sealed(header + arrays.getvalue()))


def test_a_structure_that_fills_only_the_start_of_a_model_file_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.cdl"
    cdl.save(path, _three_layers())
    smaller = cdl.Linear(4, 8, key=jax.random.key(1))
    with pytest.raises(ValueError) as raised:
        cdl.load(path, smaller)
    assert (
        "it holds float32[8, 4] at .factors[0].weight, which the model built has not"
        in str(raised.value)
    )
    old = tmp_path / "old.cdl"
    _without_layout(old, _three_layers())
    with pytest.raises(ValueError, match="bytes of arrays are left over"):
        cdl.load(old, smaller)


def test_a_model_file_of_other_sizes_names_the_array_that_differs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.cdl"
    cdl.save(path, _three_layers(16), hidden=16)
    with pytest.raises(ValueError) as raised:
        cdl.load(path, lambda hidden: _three_layers(2 * hidden))
    assert (
        "it holds float32[16, 4] at .factors[0].weight where the model built has "
        "float32[32, 4]" in str(raised.value)
    )
    larger = _three_layers(16) >> cdl.Linear(3, 2, key=jax.random.key(1))
    with pytest.raises(ValueError) as raised:
        cdl.load(path, larger)
    assert (
        "the model built has float32[2, 3] at .factors[3].weight, which it does not "
        "hold" in str(raised.value)
    )
    old = tmp_path / "old.cdl"
    _without_layout(old, _three_layers(16))
    with pytest.raises(ValueError, match=r"arrays end before .factors\[3\].weight"):
        cdl.load(old, larger)


def test_callbacks_see_each_epochs_own_state_whatever_epochs_per_call() -> None:
    class Steps(Callback):
        def __init__(self) -> None:
            self.seen: list[tuple[int, int]] = []

        def on_epoch_end(self, epoch, values, state) -> None:  # type: ignore[no-untyped-def]
            self.seen.append((epoch, int(state.step)))

    xs = jax.random.normal(jax.random.key(0), (12, 4))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    model = cdl.Linear(4, 2, key=jax.random.key(1))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
    steps = Steps()
    fit(learner, model, xs, ys, epochs=4, batch_size=4, key=jax.random.key(2),
        progress=False, epochs_per_call=2, callbacks=[steps])  # fmt: skip
    # Three batches an epoch: each epoch is handed the state after its own.
    assert steps.seen == [(1, 3), (2, 6), (3, 9), (4, 12)]


def two_layers(hidden: int) -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))
    return cdl.Linear(4, hidden, key=k1) >> cdl.Tanh() >> cdl.Linear(hidden, 1, key=k2)


def test_a_start_unlike_the_learners_model_is_named_by_its_path() -> None:
    xs, ys = regression(8)
    learner = Learner(two_layers(3), MeanSquaredError(), SGD(0.1))
    run = dict(epochs=1, batch_size=4, key=jax.random.key(0), progress=False)
    with pytest.raises(
        ValueError,
        match=r"the start model differs from the learner's model at \.factors\[0\]: "
        r"the learner has Linear\(4→3\) there, the start model Linear\(4→5\)",
    ):
        fit(learner, two_layers(5), xs, ys[:, None], **run)
    other = Learner(two_layers(5), MeanSquaredError(), SGD(0.1))
    state = other.init(two_layers(5))
    with pytest.raises(ValueError, match=r"the start state's parameters differ"):
        fit(learner, state, xs, ys[:, None], **run)
    with pytest.raises(ValueError, match=r"at the root: .* Linear\(4→1\)"):
        fit(learner, cdl.Linear(4, 1, key=jax.random.key(0)), xs, ys[:, None], **run)
    # The learner's own model, and a state of it, train.
    trained = fit(learner, two_layers(3), xs, ys[:, None], **run)
    fit(learner, trained.state, xs, ys[:, None], **run)


def test_resuming_a_checkpoint_of_another_model_names_the_parameter(
    tmp_path: Path,
) -> None:
    xs, ys = regression(8)

    def run(hidden: int) -> None:
        model = two_layers(hidden)
        learner = Learner(model, MeanSquaredError(), Adam(0.1))
        fit(learner, model, xs, ys[:, None], epochs=2, batch_size=4,
            key=jax.random.key(0), checkpoint=tmp_path, progress=False)  # fmt: skip

    run(3)
    with pytest.raises(
        cdl.optics.CheckpointError,
        match=r"holds float32\[3, 4\] at \.params\.factors\[0\]\.weight where this "
        r"learner and model have float32\[5, 4\]",
    ):
        run(5)


@pytest.mark.parametrize(
    ("validation", "why"),
    [
        ((jnp.zeros((4, 3)), jnp.zeros(4, jnp.int32)), "each input must lie in"),
        ((jnp.zeros((4, 4)), jnp.zeros(5, jnp.int32)), "4 inputs but 5 labels"),
        ((jnp.zeros((4, 4)), jnp.zeros(4)), "the loss cannot take labels float32"),
        ((jnp.zeros((4, 4)), jnp.full(4, 7, jnp.int32)), "label 7 of example 0"),
        ((jnp.full((4, 4), jnp.nan), jnp.zeros(4, jnp.int32)), "the inputs hold 16"),
        ((jnp.zeros((0, 4)), jnp.zeros(0, jnp.int32)), "the dataset is empty"),
        (({"a": jnp.zeros((4, 4)), "b": jnp.zeros(3)}, None), "different leading"),
        (jnp.zeros((4, 4)), "give `validation` as a pair"),
    ],
)
def test_errors_about_the_validation_data_say_so(validation: object, why: str) -> None:
    xs = jax.random.normal(jax.random.key(0), (8, 4))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    model = cdl.Linear(4, 2, key=jax.random.key(1))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    with pytest.raises(
        DataError, match=r"^fit\(Linear\(4→2\)\), validation data: "
    ) as e:
        fit(learner, model, xs, ys, epochs=1, batch_size=4, key=jax.random.key(0),
            validation=validation, progress=False)  # fmt: skip
    assert why in str(e.value)
    # The same defects in the training data are not said to be the validation's.
    if isinstance(validation, tuple) and validation[1] is not None:
        with pytest.raises(DataError, match=r"^fit\(Linear\(4→2\)\): ") as e:
            fit(learner, model, *validation, epochs=1, batch_size=1,
                key=jax.random.key(0), progress=False)  # fmt: skip
        assert why in str(e.value)


def test_binary_targets_outside_the_unit_interval_are_refused() -> None:
    xs = jax.random.normal(jax.random.key(0), (8, 4))
    signs = jnp.where(xs[:, :1] > 0, 1.0, -1.0)  # classes -1/1, not 0/1
    model = cdl.Linear(4, 1, key=jax.random.key(1))
    learner = Learner(model, BinaryCrossEntropy(), SGD(0.1))
    first = int(jnp.argmax(signs[:, 0] < 0))
    run = dict(epochs=1, batch_size=4, key=jax.random.key(0), progress=False)
    with pytest.raises(
        DataError, match=rf"fit\(Linear\(4→1\)\): label -1 of example {first} is"
    ):
        fit(learner, model, xs, signs, **run)
    with pytest.raises(DataError, match=r"validation data: label 2 of example 1 is"):
        fit(
            learner,
            model,
            xs,
            (signs + 1) / 2,
            validation=(xs[:2], jnp.array([[0.0], [2.0]])),
            **run,
        )
    with pytest.raises(ValueError, match=r"BinaryCrossEntropy: label nan of example 0"):
        BinaryCrossEntropy().get(jnp.array([[jnp.nan]]), jnp.zeros((1, 1)))
    # Targets in [0, 1], soft ones included, train.
    fit(learner, model, xs, (signs + 1) / 2 * 0.9, **run)


def test_graphs_whose_features_do_not_fit_the_model_are_a_data_error() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    g = cdl.Graph.from_edge_list([(0, 1), (1, 2)], 3, nodes=jnp.ones((3, 5)))
    model = (
        cdl.graphs.GraphConv(3, 8, key=k1)
        >> cdl.graphs.Readout()
        >> cdl.Each(cdl.Linear(8, 2, key=k2))
    )
    learner = Learner(model, SoftmaxCrossEntropy(), cdl.Adam(1e-2))
    with pytest.raises(
        DataError, match="a batch of the graphs does not fit.*3 is not 5"
    ):
        fit(learner, model, [g, g], np.array([0, 1]), epochs=1, batch_size=2,
            key=jax.random.key(0), progress=False)  # fmt: skip


def test_the_habits_of_optax_and_keras_users_are_named() -> None:
    model = cdl.Linear(4, 3, key=jax.random.key(0))
    with pytest.raises(TypeError, match=r"not GradientTransformationExtraArgs: wrap"):
        Learner(model, SoftmaxCrossEntropy(), optax.adam(1e-3))  # type: ignore[arg-type]
    loss = optax.softmax_cross_entropy_with_integer_labels
    with pytest.raises(TypeError, match="not softmax_cross_entropy_with_integer_"):
        Learner(model, loss, Adam(1e-3))  # type: ignore[arg-type]
    for rate in ("0.01", -1.0, float("nan"), None):
        with pytest.raises(ValueError, match=f"Adam: the learning rate .*{rate!r}"):
            Adam(rate)  # type: ignore[arg-type]
    assert SGD(0).learning_rate == 0 and Adam(jnp.asarray(0.1)).learning_rate == 0.1
    assert Momentum(optax.constant_schedule(0.1)).scheduled
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-3))
    xs, ys = jnp.zeros((8, 4)), jnp.zeros(8, jnp.int32)
    options = {"epochs": 1, "batch_size": 4, "key": jax.random.key(0)}
    with pytest.raises(ValueError, match=r"metric 'acc' must be .* not str 'accuracy'"):
        fit(learner, model, xs, ys, metrics={"acc": "accuracy"}, **options)  # type: ignore[dict-item, arg-type]
    with pytest.raises(ValueError, match="`callbacks` must be a list .* not CSVLogger"):
        fit(learner, model, xs, ys, callbacks=CSVLogger("x.csv"), **options)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"inputs hold a single number at \[0\]\[0\]"):
        fit(learner, model, [[0.0] * 4] * 8, ys, **options)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"labels hold a single number at \[0\]"):
        fit(learner, model, xs, [0] * 8, **options)  # type: ignore[arg-type]


def test_a_list_of_sequences_and_a_learner_given_no_batch_are_named() -> None:
    cell = cdl.GRUCell(2, 3, key=jax.random.key(0))
    model = cdl.cata(cdl.ListAlgebra(jnp.zeros(3), cell)) >> cdl.Linear(
        3, 2, key=jax.random.key(1)
    )
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-2))
    lists = [jnp.ones((n, 2)) for n in (1, 3, 2)]
    with pytest.raises(DataError, match=r"Python list of 3 values .*batch_lists"):
        fit(learner, model, lists, jnp.zeros(3, jnp.int32), epochs=1, batch_size=3,
            key=jax.random.key(0), progress=False)  # fmt: skip
    # A model of a whole forest, stepped by hand with a per-example learner.
    alg = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeLSTMCell(1, 3, arity=0, key=jax.random.key(2)),
        Node=cdl.TreeLSTMCell(0, 3, arity=2, key=jax.random.key(3)),
    )
    forest = (
        cdl.cata(alg) >> cdl.Fst() >> cdl.Each(cdl.Linear(3, 2, key=jax.random.key(4)))
    )
    one = jnp.ones(1)
    table = cdl.tree_table(cdl.TreeF, [(one, one), one], forest=True)
    learner = Learner(forest, SoftmaxCrossEntropy(), Adam(1e-2))
    with pytest.raises(ValueError, match=r"xs, a NodeTable, .*per_example=False"):
        learner.step(learner.init(forest), table, jnp.zeros(2, jnp.int32))


def test_a_model_with_state_is_saved_with_it(tmp_path: Path) -> None:
    def build(channels: int) -> tuple[cdl.BatchNorm, eqx.nn.State]:
        return eqx.nn.make_with_state(cdl.BatchNorm)(channels)

    bn, state = build(3)
    trained = state.set(
        bn.running, (jnp.full(3, 2.0, jnp.float32), jnp.full(3, 5.0, jnp.float32))
    )
    with pytest.raises(
        ValueError, match=r"BatchNorm\(3\) keeps state .*\(model, state\)"
    ):
        cdl.save(tmp_path / "bn.cdl", bn, channels=3)
    cdl.save(tmp_path / "bn.cdl", (bn, trained), channels=3)
    _, state_back = cdl.load(tmp_path / "bn.cdl", build)
    mean, var = state_back.get(bn.running)
    assert mean.tolist() == [2.0] * 3 and var.tolist() == [5.0] * 3


def test_a_loss_of_an_empty_batch_is_named():
    from cdl.optics import LossShapeError, MeanSquaredError, SoftmaxCrossEntropy

    with pytest.raises(LossShapeError, match=r"batch of no examples \(predictions"):
        SoftmaxCrossEntropy().get(jnp.zeros((0,), jnp.int32), jnp.ones((0, 3)))
    with pytest.raises(LossShapeError, match="batch of no examples"):
        MeanSquaredError().get(jnp.zeros((0, 2)), jnp.zeros((0, 2)))
    assert float(MeanSquaredError().get(jnp.zeros((1, 2)), jnp.ones((1, 2)))) == 2.0


def test_channels_last_images_are_moved_for_the_whole_array() -> None:
    model = cdl.Conv2d(3, 4, 3, key=jax.random.key(0)) >> cdl.Flatten()
    images = np.zeros((10, 8, 8, 3), np.float32)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-3))
    with pytest.raises(DataError) as raised:
        fit(learner, model, images, np.zeros(10, np.int32), epochs=1, batch_size=5,
            key=jax.random.key(0), progress=False)  # fmt: skip
    assert "`jnp.moveaxis(x, -1, 0)`" in str(raised.value)  # one example's
    assert "`xs = jnp.moveaxis(xs, -1, 1)`" in str(raised.value)
    moved = jnp.moveaxis(jnp.asarray(images), -1, 1)
    fit(learner, model, moved, np.zeros(10, np.int32), epochs=1, batch_size=5,
        key=jax.random.key(0), progress=False)  # fmt: skip
