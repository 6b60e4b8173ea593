"""`fit` trains a model with batch norm: its state is carried, saved and read.

Each test compares `fit` with the plain-Equinox loop a user writes for the same
model: ``eqx.nn.make_with_state``, the model mapped over the batch with the axis
name batch norm averages over, the state returned by each step kept for the next,
and ``eqx.nn.inference_mode`` with the running statistics for evaluation.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import cdl
from cdl.architectures import resnet
from cdl.optics import (
    Learner,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    accuracy,
    fit,
    from_optax,
    load_checkpoint,
)

# SGD rather than Adam: a convolution's bias before batch norm has a zero gradient,
# which Adam's normalisation would turn from rounding noise into steps of its rate.
OPTIMISER = optax.sgd(0.1, momentum=0.9)
N, BATCH = 36, 8  # four full batches and one of four


def data() -> tuple[jax.Array, jax.Array]:
    images = jax.random.normal(jax.random.key(1), (N, 1, 6, 6))
    labels = (images[:, 0, :3].mean(axis=(1, 2)) > 0).astype(jnp.int32)
    return images, labels + (images[:, 0, 3:].mean(axis=(1, 2)) > 0)


def build() -> tuple[cdl.Para[Any, Any], eqx.nn.State]:
    model, state = eqx.nn.make_with_state(resnet)(
        (1,), (4,), 1, 3, key=jax.random.key(0)
    )
    return model, state


def batched(model: Any) -> Any:
    return jax.vmap(model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None))


@eqx.filter_jit
def plain_step(model: Any, state: Any, opt_state: Any, xs: Any, ys: Any) -> Any:
    def loss(m: Any) -> tuple[jax.Array, Any]:
        logits, new_state = batched(m)((xs, state))
        value = optax.softmax_cross_entropy_with_integer_labels(logits, ys).mean()
        return value, new_state

    (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(model)
    updates, opt_state = OPTIMISER.update(grads, opt_state, model)
    return eqx.apply_updates(model, updates), state, opt_state, value


def plain_loop(epochs: int) -> tuple[Any, Any, list[float]]:
    """The Equinox loop: batches in order, the last one partial."""
    model, state = build()
    opt_state = OPTIMISER.init(eqx.filter(model, eqx.is_inexact_array))
    xs, ys = data()
    losses = []
    for _ in range(epochs):
        for i in range(0, N, BATCH):
            model, state, opt_state, value = plain_step(
                model, state, opt_state, xs[i : i + BATCH], ys[i : i + BATCH]
            )
            losses.append(float(value))
    return model, state, losses


def run_fit(epochs: int, **options: Any) -> Any:
    """`fit` on the data; every run of this file compiles the same epoch."""
    model, state = build()
    learner = Learner(model, SoftmaxCrossEntropy(), from_optax(OPTIMISER))
    xs, ys = data()
    return fit(learner, model, xs, ys, epochs=epochs, batch_size=BATCH,
               key=jax.random.key(2), shuffle=False, progress=False,
               model_state=state, metrics={"accuracy": accuracy},
               **options)  # fmt: skip


def running(model: Any, state: eqx.nn.State) -> list[jax.Array]:
    """Every batch norm's running mean and variance."""
    return [
        a for bn in cdl.architectures.layers_of(model, cdl.BatchNorm)
        for a in state.get(bn.running)
    ]  # fmt: skip


def max_difference(a: Any, b: Any) -> float:
    pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    return max(float(jnp.max(jnp.abs(x - y))) for x, y in pairs)


def test_fit_equals_the_equinox_loop_with_its_state() -> None:
    plain_model, plain_state, plain_losses = plain_loop(2)
    result = run_fit(2)
    ours = eqx.filter(result.model, eqx.is_inexact_array)
    theirs = eqx.filter(plain_model, eqx.is_inexact_array)
    assert max_difference(ours, theirs) < 1e-5
    first, _ = build()
    ours_running = running(first, result.state.model_state)
    theirs_running = running(first, plain_state)
    assert max_difference(ours_running, theirs_running) < 1e-5
    # the running statistics moved from their start (zero mean, unit variance)
    assert float(jnp.abs(ours_running[0]).max()) > 1e-3
    # the history's loss is the size-weighted mean of the batch losses
    sizes = np.array([8, 8, 8, 8, 4], np.float32)
    per_epoch = np.array(plain_losses).reshape(2, 5)
    expected = (per_epoch * sizes).sum(axis=1) / sizes.sum()
    assert np.allclose(result.history["loss"], expected, atol=1e-5)
    # metrics read the running statistics, in inference mode
    xs, ys = data()
    frozen = eqx.nn.inference_mode(plain_model)
    logits, _ = batched(frozen)((xs, plain_state))
    assert result.history["accuracy"][-1] == pytest.approx(
        float((logits.argmax(axis=1) == ys).mean()), abs=1e-6
    )
    training_logits, _ = batched(plain_model)((xs, plain_state))
    assert float(jnp.abs(training_logits - logits).max()) > 1e-3


def test_the_state_is_saved_and_restored_with_checkpoints(tmp_path: Path) -> None:
    straight = run_fit(3)
    first = run_fit(2, checkpoint=tmp_path)
    model, _ = build()
    saved = load_checkpoint(tmp_path, first.state)
    assert (
        max_difference(
            running(model, saved.state.model_state),
            running(model, first.state.model_state),
        )
        == 0.0
    )
    resumed = run_fit(3, checkpoint=tmp_path)
    assert max_difference(resumed.state.params, straight.state.params) < 1e-6
    assert (
        max_difference(
            running(model, resumed.state.model_state),
            running(model, straight.state.model_state),
        )
        < 1e-6
    )


def test_a_stochastic_model_with_state_trains_with_fit() -> None:
    keys = jax.random.split(jax.random.key(3), 2)
    model, state = eqx.nn.make_with_state(
        lambda: (
            (cdl.Linear(3, 4, key=keys[0]) @ cdl.Identity())
            >> cdl.BatchNorm(4)
            >> (cdl.Dropout(0.5) >> cdl.Linear(4, 2, key=keys[1])) @ cdl.Identity()
        )
    )()
    xs = jax.random.normal(jax.random.key(4), (16, 3))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    learner = Learner(model, SoftmaxCrossEntropy(), from_optax(OPTIMISER))

    def run(seed: int) -> Any:
        return fit(learner, model, xs, ys, epochs=2, batch_size=8,
                   key=jax.random.key(seed), shuffle=False, progress=False,
                   model_state=state)  # fmt: skip

    one, same, other = run(0), run(0), run(1)
    assert max_difference(one.state.params, same.state.params) == 0.0
    assert max_difference(one.state.params, other.state.params) > 1e-4
    (bn,) = cdl.architectures.layers_of(model, cdl.BatchNorm)
    mean, _ = one.state.model_state.get(bn.running)
    assert float(jnp.abs(mean).max()) > 1e-3


def test_the_running_statistics_are_state_not_parameters() -> None:
    # Built by hand, without make_with_state: the StateIndex keeps its start.
    model = (cdl.Linear(3, 2, key=jax.random.key(0)) @ cdl.Identity()) >> cdl.BatchNorm(
        2
    )
    learner = Learner(model, MeanSquaredError(), from_optax(optax.adamw(0.1)))
    train = learner.init(model, model_state=eqx.nn.State(model))
    assert [a.shape for a in jax.tree.leaves(train.params)] == [
        (2, 3),
        (2,),
        (2,),
        (2,),
    ]
    new, _ = eqx.filter_jit(learner.step)(train, jnp.ones((4, 3)), jnp.zeros((4, 2)))
    (bn,) = cdl.architectures.layers_of(learner.model_at(new), cdl.BatchNorm)
    assert bn.running.init is not None  # left to the skeleton, untouched
    assert float(jnp.abs(new.model_state.get(bn.running)[1] - 0.9).max()) < 1e-6


DATA_PARALLEL = """
import equinox as eqx, jax, jax.numpy as jnp, numpy as np, optax
import cdl
from cdl.optics import (Learner, SoftmaxCrossEntropy, accuracy, data_parallel,
                        fit, from_optax, fsdp, global_batch, place_state)

assert len(jax.devices()) == 4, jax.devices()
keys = jax.random.split(jax.random.key(3), 2)
model, state = eqx.nn.make_with_state(
    lambda: (cdl.Linear(3, 8, key=keys[0]) @ cdl.Identity())
    >> cdl.BatchNorm(8)
    >> (cdl.Relu() >> cdl.Linear(8, 2, key=keys[1])) @ cdl.Identity()
)()
xs = jax.random.normal(jax.random.key(4), (32, 3)) * 2.0 + 1.0
ys = (xs[:, 0] > 1.0).astype(jnp.int32)
learner = Learner(model, SoftmaxCrossEntropy(), from_optax(optax.sgd(0.1)))
settings = dict(epochs=2, batch_size=8, key=jax.random.key(2), progress=False,
                model_state=state, metrics={"accuracy": accuracy})
one = fit(learner, model, xs, ys, **settings)
for name, rule in (("replicated", None), ("fsdp", fsdp(min_size=8))):
    sharded = data_parallel(learner, params=rule)
    four = fit(sharded, model, xs, ys, **settings)
    for part in ("params", "model_state"):
        pairs = zip(jax.tree.leaves(getattr(one.state, part)),
                    jax.tree.leaves(getattr(four.state, part)), strict=True)
        worst = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                    for a, b in pairs)
        assert worst <= 1e-6, (name, part, worst)
    for key, values in one.history.items():
        assert np.allclose(values, four.history[key], atol=1e-6), (name, key)
    # The state is replicated: every device holds all of it, the same numbers.
    for leaf in jax.tree.leaves(four.state.model_state):
        assert leaf.sharding.is_fully_replicated, (name, leaf.sharding)
        assert len(leaf.sharding.device_set) == 4
        for shard in leaf.addressable_shards:
            assert np.array_equal(np.asarray(shard.data), np.asarray(leaf))
    # The batch is split: each device reduces its quarter, then they all-reduce.
    placed = place_state(sharded, sharded.init(model, model_state=state))
    batch = global_batch(sharded, (xs[:8], ys[:8]))
    compiled = jax.jit(sharded.step).lower(placed, *batch).compile().as_text()
    assert "all-reduce" in compiled, name
    print(name, "matches")
"""


@pytest.mark.slow
def test_data_parallel_with_state_matches_one_device() -> None:
    """Four simulated devices: batch norm's state replicated, equal to one device."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "replicated matches" in done.stdout
    assert "fsdp matches" in done.stdout
