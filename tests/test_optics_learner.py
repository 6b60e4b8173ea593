"""Learners, the fit loop, checkpoints, bad data, meta-learning, data parallelism."""

import os
import subprocess
import sys
import textwrap
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
    CheckpointError,
    DataError,
    Learner,
    MeanSquaredError,
    MetaLearner,
    SoftmaxCrossEntropy,
    accuracy,
    fit,
    from_optax,
    load_checkpoint,
    unroll,
)

ROOT = Path(__file__).resolve().parent.parent


def mlp(seed: int, dropout: float = 0.0) -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(seed))
    body = cdl.Linear(4, 16, key=k1) >> cdl.Tanh()
    if dropout:
        body = body >> cdl.Dropout(dropout)
    return body >> cdl.Linear(16, 3, key=k2)


def blobs(n: int = 96, seed: int = 0) -> tuple[jax.Array, jax.Array]:
    k1, k2 = jax.random.split(jax.random.key(seed))
    ys = jax.random.randint(k1, (n,), 0, 3)
    centres = jnp.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    xs = centres[ys] + 0.5 * jax.random.normal(k2, (n, 4))
    return xs, ys


def test_step_is_the_hand_written_equinox_optax_step() -> None:
    model = mlp(0)
    xs, ys = blobs(32)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-2))
    state = learner.init(model)
    tx = optax.adam(1e-2)
    opt_state = tx.init(eqx.filter(model, eqx.is_inexact_array))

    def loss_fn(m: cdl.Para) -> jax.Array:
        logits = jax.vmap(m)(xs)
        return optax.softmax_cross_entropy_with_integer_labels(logits, ys).mean()

    @eqx.filter_jit
    def reference_step(m: cdl.Para, opt_state: optax.OptState) -> tuple:
        ref_loss, grads = eqx.filter_value_and_grad(loss_fn)(m)
        updates, opt_state = tx.update(grads, opt_state)
        return eqx.apply_updates(m, updates), opt_state, ref_loss

    reference = model
    step = jax.jit(learner.step)
    for _ in range(5):
        state, loss = step(state, xs, ys)
        reference, opt_state, ref_loss = reference_step(reference, opt_state)
        assert np.allclose(loss, ref_loss, atol=1e-6)
    trained = learner.model_at(state)
    for a, b in zip(jax.tree.leaves(trained), jax.tree.leaves(reference), strict=True):
        assert np.allclose(a, b, atol=1e-6)


def test_fit_learns_and_reports_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    xs, ys = blobs()
    model = mlp(1)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.02))
    result = fit(
        learner,
        model,
        xs,
        ys,
        epochs=15,
        batch_size=16,
        key=jax.random.key(0),
        metrics={"accuracy": accuracy},
        validation=blobs(32, seed=1),
        progress=True,
    )
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 15 for v in result.history.values())
    assert result.history["loss"][-1] < result.history["loss"][0] / 2
    assert result.history["val_accuracy"][-1] > 0.9
    assert float(accuracy(result.model, xs, ys)) == pytest.approx(
        result.history["accuracy"][-1]
    )
    assert int(result.state.step) == 15 * (96 // 16)
    capsys.readouterr()  # the bar rendered without a terminal and did not fail


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_resume_continues_bit_for_bit(tmp_path: Path, dropout: float) -> None:
    xs, ys = blobs(40)
    model = mlp(2, dropout)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    kwargs = dict(batch_size=8, key=jax.random.key(7), progress=False)
    straight = fit(learner, model, xs, ys, epochs=4, **kwargs)
    first = fit(learner, model, xs, ys, epochs=2, checkpoint=tmp_path, **kwargs)
    assert load_checkpoint(tmp_path, first.state).epoch == 2
    # Another key would make it another run: refused, naming both keys.
    other = dict(kwargs, key=jax.random.key(99))
    with pytest.raises(CheckpointError, match=r"key threefry2x32 \[0, 7\]"):
        fit(learner, model, xs, ys, epochs=4, checkpoint=tmp_path, **other)
    resumed = fit(learner, model, xs, ys, epochs=4, checkpoint=tmp_path, **kwargs)
    assert resumed.history == straight.history
    for a, b in zip(
        jax.tree.leaves(resumed.state), jax.tree.leaves(straight.state), strict=True
    ):
        assert np.array_equal(a, b)


def test_several_epochs_per_call_train_as_one_per_call() -> None:
    xs, ys = blobs(40)
    model = mlp(4)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    kwargs = dict(epochs=5, batch_size=8, key=jax.random.key(3), progress=False)
    one = fit(learner, model, xs, ys, metrics={"accuracy": accuracy}, **kwargs)
    chunked = fit(
        learner,
        model,
        xs,
        ys,
        metrics={"accuracy": accuracy},
        epochs_per_call=2,
        unroll=2,
        **kwargs,
    )
    assert chunked.history.keys() == one.history.keys()
    for name in one.history:
        assert np.allclose(chunked.history[name], one.history[name], atol=1e-6)
    for a, b in zip(
        jax.tree.leaves(chunked.state), jax.tree.leaves(one.state), strict=True
    ):
        assert np.allclose(a, b, atol=1e-6)


def test_checkpoint_of_another_model_is_refused(tmp_path: Path) -> None:
    xs, ys = blobs(16)
    model = mlp(0)
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    fit(
        learner,
        model,
        xs,
        ys,
        epochs=1,
        batch_size=8,
        key=jax.random.key(0),
        checkpoint=tmp_path,
        progress=False,
    )
    small = cdl.Linear(4, 3, key=jax.random.key(0))
    other = Learner(small, SoftmaxCrossEntropy(), SGD(0.1))
    with pytest.raises(ValueError, match="does not match this learner"):
        fit(
            other,
            small,
            xs,
            ys,
            epochs=2,
            batch_size=8,
            key=jax.random.key(0),
            checkpoint=tmp_path,
            progress=False,
        )


def bad_fit(xs: object, ys: object, batch_size: int = 2) -> None:
    model = cdl.Linear(4, 3, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    fit(
        learner,
        model,
        xs,
        ys,
        epochs=1,
        batch_size=batch_size,
        key=jax.random.key(0),
        progress=False,
    )


def test_bad_data_is_refused_with_a_clear_error() -> None:
    xs, ys = blobs(8)
    with pytest.raises(DataError, match=r"dataset is empty"):
        bad_fit(jnp.zeros((0, 4)), jnp.zeros((0,), jnp.int32))
    with pytest.raises(DataError, match=r"8 inputs but 7 labels"):
        bad_fit(xs, ys[:7])
    with pytest.raises(DataError, match=r"batch size 9 does not fit 8 examples"):
        bad_fit(xs, ys, batch_size=9)
    with pytest.raises(DataError, match=r"inputs hold 2 NaN.*first in example 3"):
        bad_fit(xs.at[3, 0].set(jnp.nan).at[5, 1].set(jnp.inf), ys)
    with pytest.raises(DataError, match=r"labels hold 1 NaN.*first in example 6"):
        model = cdl.Linear(4, 1, key=jax.random.key(0))
        learner = Learner(model, MeanSquaredError(), SGD(0.1))
        fit(
            learner,
            model,
            xs,
            jnp.zeros((8, 1)).at[6, 0].set(jnp.nan),
            epochs=1,
            batch_size=2,
            key=jax.random.key(0),
            progress=False,
        )
    with pytest.raises(
        DataError, match=r"must lie in float\[4\].*examples are f32\[5\]"
    ):
        bad_fit(jnp.zeros((8, 5)), ys)
    with pytest.raises(DataError, match=r"loss cannot take labels float32\[3\]"):
        bad_fit(xs, jnp.zeros((8, 3)))
    with pytest.raises(DataError, match=r"label 3 of example 2 .* lie in 0..2"):
        bad_fit(xs, ys.at[2].set(3))


def test_stochastic_model_without_key_is_an_error() -> None:
    model = mlp(0, dropout=0.5)
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    xs, ys = blobs(4)
    with pytest.raises(ValueError, match="is stochastic and needs a PRNG key"):
        learner.step(learner.init(model), xs, ys)
    state, _ = learner.step(learner.init(model), xs, ys, key=jax.random.key(0))
    assert int(state.step) == 1


def test_optax_bridge_trains_like_the_native_optimiser() -> None:
    model = mlp(3)
    xs, ys = blobs(32)
    ours = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    bridged = Learner(model, SoftmaxCrossEntropy(), from_optax(optax.adam(0.01)))
    a, b = ours.init(model), bridged.init(model)
    for _ in range(3):
        a, _ = ours.step(a, xs, ys)
        b, _ = bridged.step(b, xs, ys)
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        assert np.allclose(x, y, atol=1e-6)


def test_meta_gradient_is_the_derivative_of_the_unrolled_loss() -> None:
    model = cdl.Linear(2, 1, key=jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (3, 8, 2))
    ys = xs @ jnp.array([[1.0], [-2.0]])
    learner = Learner(model, MeanSquaredError(), SGD(jnp.array(0.05)))
    meta = MetaLearner(
        learner, lambda m: m.optimiser.learning_rate, SGD(1.0), via=jnp.exp
    )
    log_lr = jnp.log(jnp.array(0.05))
    hyper, meta_state, state = meta.init(model, log_lr)
    val = (xs[0], ys[0])

    def judged(h: jax.Array) -> jax.Array:
        after, _ = unroll(meta.learner_at(h), state, xs, ys)
        return meta.learner_at(h).evaluate(after, *val)

    eps = 1e-2
    numeric = (judged(log_lr + eps) - judged(log_lr - eps)) / (2 * eps)
    new_hyper, _, after, loss = meta.step(hyper, meta_state, state, (xs, ys), val)
    assert np.allclose(log_lr - new_hyper, numeric, rtol=2e-2)
    assert np.allclose(loss, judged(log_lr), rtol=1e-6)
    assert int(after.step) == 3


DATA_PARALLEL = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    import cdl
    from cdl.optics import Learner, SoftmaxCrossEntropy, Adam, data_parallel, fit

    assert len(jax.devices()) == 4, jax.devices()
    k1, k2, k3, k4 = jax.random.split(jax.random.key(0), 4)
    model = cdl.Linear(4, 16, key=k1) >> cdl.Tanh() >> cdl.Linear(16, 3, key=k2)
    xs = jax.random.normal(k3, (64, 4))
    ys = jax.random.randint(k4, (64,), 0, 3)
    single = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    sharded = data_parallel(single)
    one = fit(single, model, xs, ys, epochs=3, batch_size=16,
              key=jax.random.key(1), progress=False)
    four = fit(sharded, model, xs, ys, epochs=3, batch_size=16,
               key=jax.random.key(1), progress=False)
    state = sharded.init(model)
    batch = jax.device_put(xs[:16], jax.sharding.NamedSharding(
        sharded.mesh, jax.sharding.PartitionSpec("batch")))
    stepped, _ = jax.jit(sharded.step)(state, batch, ys[:16])
    assert len(stepped.params.factors[0].weight.sharding.device_set) == 4
    worst = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(jax.tree.leaves(one.state), jax.tree.leaves(four.state))
    )
    print("max difference", worst)
    assert worst <= 1e-6, worst
    assert np.allclose(one.history["loss"], four.history["loss"], atol=1e-6)
    """
)


def test_data_parallel_matches_one_device() -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "max difference" in done.stdout


def regression_data() -> tuple[jax.Array, jax.Array]:
    xs = jax.random.normal(jax.random.key(0), (16, 3))
    return xs, xs @ jnp.array([[1.0], [-2.0], [0.5]]) + 0.25


def with_batch_norm(model: cdl.Para) -> tuple[cdl.Para, eqx.nn.State]:  # type: ignore[type-arg]
    return eqx.nn.make_with_state(
        lambda: (model @ cdl.Identity()) >> cdl.BatchNorm(1)
    )()


def test_optax_transformations_that_read_the_loss_get_it() -> None:
    xs, ys = regression_data()
    model = cdl.Linear(3, 1, key=jax.random.key(1))
    plateau = optax.chain(optax.sgd(0.1), optax.contrib.reduce_on_plateau())
    learner = Learner(model, MeanSquaredError(), from_optax(plateau))
    state, loss = eqx.filter_jit(learner.step)(learner.init(model), xs, ys)
    assert float(state.opt_state[1].best_value) == float(loss)
    # The same with a model with state (batch norm's statistics).
    bn_model, bn_state = with_batch_norm(model)
    learner = Learner(bn_model, MeanSquaredError(), from_optax(plateau))
    start = learner.init(bn_model, model_state=bn_state)
    state, loss = eqx.filter_jit(learner.step)(start, xs, ys)
    assert float(state.opt_state[1].best_value) == float(loss)


@pytest.mark.slow
def test_lbfgs_line_search_reads_the_loss_as_a_function_of_the_parameters() -> None:
    xs, ys = regression_data()
    model = cdl.Linear(3, 1, key=jax.random.key(1))
    learner = Learner(model, MeanSquaredError(), from_optax(optax.lbfgs()))
    step, state = eqx.filter_jit(learner.step), learner.init(model)
    first = None
    for _ in range(8):
        state, loss = step(state, xs, ys)
        first = loss if first is None else first
    assert float(loss) < 1e-4 * float(first)
    bn_model, bn_state = with_batch_norm(model)
    learner = Learner(bn_model, MeanSquaredError(), from_optax(optax.lbfgs()))
    start = learner.init(bn_model, model_state=bn_state)
    after, loss = eqx.filter_jit(learner.step)(start, xs, ys)
    assert bool(jnp.isfinite(loss)) and int(after.step) == 1
