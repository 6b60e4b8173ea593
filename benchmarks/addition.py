"""The addition demo against the same model written by hand in JAX.

Times a training step (batch 128, 8 digits; the step of `cdl.demos.train`, over 50
stored batches) and a forward pass over 1,000 sums of 128 digits, for the fold
``cata(ListAlgebra(nil, CarryCell)) >> TopDigit`` and for a hand-written `lax.scan`
computing the same function with the same weights; then runs the whole demo once.
Medians of several runs, the two sides alternating; prints the ratios and one line
per target.

    python benchmarks/addition.py
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from cdl.demos import FoldAdder, addition_data, run_addition

REPEATS = 15


def hand_written(model: FoldAdder) -> dict[str, jax.Array]:
    """The weights of `model` as a plain dictionary."""
    cell = model.cell
    assert cell.mix.bias is not None and cell.emit.bias is not None
    assert model.top.read.bias is not None
    return {
        "w1": cell.mix.weight,
        "b1": cell.mix.bias,
        "w2": cell.emit.weight,
        "b2": cell.emit.bias,
        "w3": model.top.read.weight,
        "b3": model.top.read.bias,
        "start": model.start,
    }


def adder(params: dict[str, jax.Array], pairs: jax.Array, state: int) -> jax.Array:
    """Long addition by a learned cell, written directly with `lax.scan`."""
    n = pairs.shape[0]

    def step(carry: Any, pair: jax.Array) -> tuple[Any, None]:
        h, emitted = carry
        x = jnp.concatenate([jax.nn.one_hot(pair, 10).reshape(-1), h])
        out = params["w2"] @ jax.nn.relu(params["w1"] @ x + params["b1"]) + params["b2"]
        emitted = jnp.concatenate([out[state:][None], emitted[:-1]])
        return (jnp.tanh(out[:state]), emitted), None

    init = (params["start"], jnp.zeros((n, 10)))
    (h, emitted), _ = jax.lax.scan(step, init, pairs, reverse=True)
    top = params["w3"] @ h + params["b3"]
    return jnp.concatenate([top[None], emitted])


def paired_medians(
    first: Callable[[], Any], second: Callable[[], Any], repeats: int = REPEATS
) -> tuple[float, float]:
    """Median times of two functions, run alternately so that load hits both."""
    jax.block_until_ready(first())
    jax.block_until_ready(second())
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for run, spent in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            jax.block_until_ready(run())
            spent.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    state = 16
    model = FoldAdder(state, 64, key=jax.random.key(0))
    params = hand_written(model)
    pairs, sums = (
        jnp.asarray(a) for a in addition_data(np.random.default_rng(0), 128, 8)
    )

    def loss(m: FoldAdder, x: Any, y: Any) -> jax.Array:
        logits = jax.vmap(m)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def jax_loss(p: dict[str, jax.Array], x: Any, y: Any) -> jax.Array:
        logits = jax.vmap(lambda one: adder(p, one, state))(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    assert jnp.allclose(
        loss(model, pairs, sums), jax_loss(params, pairs, sums), atol=1e-5
    )

    optimiser = optax.adam(3e-3)
    weights, static = eqx.partition(model, eqx.is_array)

    @jax.jit
    def cdl_step(p: Any, s: Any, x: Any, y: Any) -> Any:
        """The step of `cdl.demos.train`: the morphism rebuilt from its parameters."""
        grads = jax.grad(lambda q: loss(eqx.combine(q, static), x, y))(p)
        updates, s = optimiser.update(grads, s, p)
        return optax.apply_updates(p, updates), s

    @jax.jit
    def jax_step(p: Any, s: Any, x: Any, y: Any) -> Any:
        grads = jax.grad(jax_loss)(p, x, y)
        updates, s = optimiser.update(grads, s, p)
        return optax.apply_updates(p, updates), s

    rng = np.random.default_rng(0)
    data = [
        tuple(jnp.asarray(a) for a in addition_data(rng, 128, 8, 8)) for _ in range(50)
    ]

    def steps(step: Any, p: Any) -> Callable[[], Any]:
        def run() -> Any:
            s = optimiser.init(p)
            q = p
            for x, y in data:
                q, s = step(q, s, x, y)
            return q

        return run

    block_cdl, block_jax = paired_medians(
        steps(cdl_step, weights), steps(jax_step, params)
    )
    t_cdl, t_jax = block_cdl / len(data), block_jax / len(data)
    flops = [
        step.lower(p, optimiser.init(p), *data[0]).compile().cost_analysis()["flops"]
        for step, p in ((cdl_step, weights), (jax_step, params))
    ]
    print(
        f"XLA's flop count of one step: cdl {flops[0]:.0f}, hand-written {flops[1]:.0f}"
    )
    step_ratio = t_cdl / t_jax
    print(f"training step, batch 128 x 8 digits: cdl {t_cdl * 1e3:.2f} ms, "
          f"hand-written {t_jax * 1e3:.2f} ms, ratio {step_ratio:.2f}")  # fmt: skip

    long_pairs = jnp.asarray(addition_data(np.random.default_rng(1), 1000, 128)[0])
    cdl_forward = eqx.filter_jit(lambda m, x: jax.vmap(m)(x))
    jax_forward = jax.jit(lambda p, x: jax.vmap(lambda y: adder(p, y, state))(x))
    assert jnp.allclose(
        cdl_forward(model, long_pairs), jax_forward(params, long_pairs), atol=1e-4
    )
    f_cdl, f_jax = paired_medians(
        lambda: cdl_forward(model, long_pairs), lambda: jax_forward(params, long_pairs)
    )
    forward_ratio = f_cdl / f_jax
    print(f"forward, 1000 sums x 128 digits: cdl {f_cdl * 1e3:.1f} ms, "
          f"hand-written {f_jax * 1e3:.1f} ms, ratio {forward_ratio:.2f}")  # fmt: skip

    start = time.perf_counter()
    report = run_addition()
    demo_seconds = time.perf_counter() - start
    at_128 = report.fold.exact[report.lengths.index(128)]
    print(f"whole demo (both models, evaluation): {demo_seconds:.1f} s; "
          f"fold exact match at 128 digits {at_128:.3f}")  # fmt: skip

    targets = [
        ("train_step_ratio", step_ratio, 1.15, step_ratio <= 1.15),
        ("forward_ratio", forward_ratio, 1.15, forward_ratio <= 1.15),
        ("demo_seconds", demo_seconds, 180.0, demo_seconds <= 180.0),
        ("exact_match_128_digits", at_128, 0.99, at_128 >= 0.99),
    ]
    for name, value, goal, met in targets:
        print(f"target: {name} measured={value:.3f} goal={goal} "
              f"{'met' if met else 'missed'}")  # fmt: skip


if __name__ == "__main__":
    main()
