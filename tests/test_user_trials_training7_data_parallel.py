"""A class label checked while a data-parallel step runs.

SoftmaxCrossEntropy checked traced labels with `equinox.error_if` on the
logits. Split over the devices of a mesh (`data_parallel`), that check's
conditional ran on device 0 alone: XLA warned "Involuntary full
rematerialization ... {maximal device=0}" at every compile of `fit` (the logits
gathered onto one device at every step), and in a jitted step of one's own, a
label outside the classes stopped device 0 while the others waited for it in
the gradients' reduction, until the process aborted 40 s later. On a mesh the
loss of such an example is NaN now (fit checks labels on the host before
training); on one device the step still raises.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import SGD, Learner, SoftmaxCrossEntropy

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import equinox as eqx, jax, jax.numpy as jnp, numpy as np
    import cdl
    from cdl.optics import SGD, Learner, SoftmaxCrossEntropy, accuracy
    from cdl.optics import data_parallel, fit, global_batch, place_state

    model = cdl.Linear(4, 3, key=jax.random.key(0))
    learner = data_parallel(Learner(model, SoftmaxCrossEntropy(), SGD(0.1)))
    xs = jax.random.normal(jax.random.key(1), (16, 4))
    ys = jnp.arange(16) % 3
    fit(learner, model, xs, ys, epochs=1, batch_size=8, key=jax.random.key(0),
        progress=False, metrics={"accuracy": accuracy}, validation=(xs, ys))
    print("fit done", flush=True)
    state = place_state(learner, learner.init(model))
    batch = global_batch(learner, (xs[:8], ys[:8].at[5].set(7)))
    after, loss = eqx.filter_jit(learner.step)(state, *batch)
    print("step loss", loss, "finite", bool(jnp.isfinite(after.params.weight).all()))
    print("evaluate", eqx.filter_jit(learner.evaluate)(state, *batch))
    """
)


def test_a_data_parallel_step_gathers_nothing_and_survives_a_bad_label() -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert "rematerialization" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "step loss nan finite False" in done.stdout
    assert "evaluate nan" in done.stdout


def test_on_one_device_a_bad_label_still_raises() -> None:
    model = cdl.Linear(4, 3, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    ys = jnp.array([0, 5])
    with pytest.raises(Exception, match="a label is not a class of the 3 logits"):
        eqx.filter_jit(learner.step)(learner.init(model), jnp.ones((2, 4)), ys)
