"""A cdl learner's training step against the same step written by hand.

The model is an MLP ``float[64] → 256 → 256 → float[10]`` (tanh), trained on batches
of 256 with Adam on the softmax cross-entropy. cdl's step is ``Learner.step``, the
lens composite ``optimiser ; R(model) >> loss``; the reference is the usual
Equinox + optax step (``filter_value_and_grad`` of the vmapped model's mean loss,
``tx.update``, ``apply_updates``). Both are compiled with ``jax.jit`` over arrays
only, and their timings interleave so that load on the machine hits both alike.
Wall and CPU time of the process are both reported; the target uses CPU time, which
other processes on a shared machine disturb far less.

Run: ``python benchmarks/train_step.py``. Timings are medians of several runs.
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import optax

import cdl
from cdl.optics import Adam, Learner, SoftmaxCrossEntropy

BATCH = 256
STEPS = 50
REPEATS = 15
GOAL = 1.05


def make_model(key: jax.Array) -> cdl.Para[Any, Any]:
    k1, k2, k3 = jax.random.split(key, 3)
    return (
        cdl.Linear(64, 256, key=k1)
        >> cdl.Tanh()
        >> cdl.Linear(256, 256, key=k2)
        >> cdl.Tanh()
        >> cdl.Linear(256, 10, key=k3)
    )


def cdl_runner(model: cdl.Para[Any, Any], xs: jax.Array, ys: jax.Array) -> Any:
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(1e-3))
    step = jax.jit(learner.step)
    state = learner.init(model)

    def run() -> None:
        nonlocal state
        for _ in range(STEPS):
            state, loss = step(state, xs, ys)
        jax.block_until_ready(loss)

    return run


def reference_runner(model: cdl.Para[Any, Any], xs: jax.Array, ys: jax.Array) -> Any:
    params, static = eqx.partition(model, eqx.is_inexact_array)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    def loss_fn(params: Any, xs: jax.Array, ys: jax.Array) -> jax.Array:
        m = eqx.combine(params, static)
        logits = jax.vmap(m)(xs)
        return optax.softmax_cross_entropy_with_integer_labels(logits, ys).mean()

    @jax.jit
    def step(
        params: Any, opt_state: Any, xs: jax.Array, ys: jax.Array
    ) -> tuple[Any, Any, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(params, xs, ys)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def run() -> None:
        nonlocal params, opt_state
        for _ in range(STEPS):
            params, opt_state, loss = step(params, opt_state, xs, ys)
        jax.block_until_ready(loss)

    return run


def interleaved(
    a: Callable[[], None], b: Callable[[], None]
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of `a` and of `b`, timed alternately."""
    a(), b()
    times: dict[str, tuple[list[float], list[float]]] = {
        "wall": ([], []),
        "cpu": ([], []),
    }
    for _ in range(REPEATS):
        for i, run in enumerate((a, b)):
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times["wall"][i].append(time.perf_counter() - wall)
            times["cpu"][i].append(time.process_time() - cpu)
    return {
        clock: (statistics.median(ta), statistics.median(tb))
        for clock, (ta, tb) in times.items()
    }


def main() -> None:
    k_model, k_x, k_y = jax.random.split(jax.random.key(0), 3)
    model = make_model(k_model)
    xs = jax.random.normal(k_x, (BATCH, 64))
    ys = jax.random.randint(k_y, (BATCH,), 0, 10)
    timings = interleaved(cdl_runner(model, xs, ys), reference_runner(model, xs, ys))
    print(f"MLP 64-256-256-10, batch {BATCH}, Adam, {STEPS} steps per run")
    for clock, (ours, theirs) in timings.items():
        print(
            f"  {clock:>4} time per step: cdl {1e6 * ours / STEPS:8.1f} µs, "
            f"Equinox + optax {1e6 * theirs / STEPS:8.1f} µs, "
            f"ratio {ours / theirs:.3f}"
        )
    ours, theirs = timings["cpu"]
    ratio = ours / theirs
    verdict = "met" if ratio <= GOAL else "missed"
    print(f"target: train_step_ratio measured={ratio:.3f} goal={GOAL} {verdict}")


if __name__ == "__main__":
    main()
