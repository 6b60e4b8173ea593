"""Overhead of composing with ``>>``: a 4-layer MLP in cdl vs the same MLP in Equinox.

Prints the median time of one jitted forward+backward step (value and gradient of a
mean squared error over a batch), under `eqx.filter_jit` (as users run models) and
under `jax.jit` on the parameter arrays, and the ratio of compile times.

Run: ``python benchmarks/overhead.py``.
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

import cdl

SIZES = (784, 512, 512, 512, 10)
BATCH = 128
REPEATS = 21
CALLS = 20


class EqxMLP(eqx.Module):
    """The same network written as a plain Equinox module."""

    layers: list[eqx.nn.Linear]

    def __init__(self, key: jax.Array) -> None:
        keys = jax.random.split(key, len(SIZES) - 1)
        self.layers = [
            eqx.nn.Linear(a, b, key=k)
            for a, b, k in zip(SIZES[:-1], SIZES[1:], keys, strict=True)
        ]

    def __call__(self, x: jax.Array) -> jax.Array:
        """Apply the layers with relu between them."""
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


def cdl_mlp(key: jax.Array) -> cdl.Para[Any, Any]:
    keys = jax.random.split(key, len(SIZES) - 1)
    model: cdl.Para[Any, Any] = cdl.Linear(SIZES[0], SIZES[1], key=keys[0])
    for a, b, k in zip(SIZES[1:-1], SIZES[2:], keys[1:], strict=True):
        model = model >> cdl.Relu() >> cdl.Linear(a, b, key=k)
    return model


def loss(model: Callable[[jax.Array], jax.Array], x: jax.Array, y: jax.Array) -> Any:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def time_calls(step: Callable[[], Any]) -> float:
    jax.block_until_ready(step())
    start = time.perf_counter()
    for _ in range(CALLS):
        out = step()
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / CALLS


def compile_time(model: Any, x: jax.Array, y: jax.Array) -> float:
    params, static = eqx.partition(model, eqx.is_array)

    def step(p: Any, x: jax.Array, y: jax.Array) -> Any:
        return jax.value_and_grad(lambda q: loss(eqx.combine(q, static), x, y))(p)

    start = time.perf_counter()
    jax.jit(step).lower(params, x, y).compile()
    return time.perf_counter() - start


def main() -> None:
    key = jax.random.key(0)
    x = jax.random.normal(key, (BATCH, SIZES[0]))
    y = jax.random.normal(key, (BATCH, SIZES[-1]))
    models = {"cdl": cdl_mlp(key), "equinox": EqxMLP(key)}

    filter_steps = {}
    raw_steps = {}
    for name, model in models.items():
        filtered = eqx.filter_jit(eqx.filter_value_and_grad(loss))
        filter_steps[name] = lambda m=model, f=filtered: f(m, x, y)
        params, static = eqx.partition(model, eqx.is_array)

        def step(p: Any, s: Any = static) -> Any:
            return jax.value_and_grad(lambda q: loss(eqx.combine(q, s), x, y))(p)

        jitted = jax.jit(step)
        raw_steps[name] = lambda p=params, f=jitted: f(p)

    results: dict[str, dict[str, list[float]]] = {
        "filter_jit": {n: [] for n in models},
        "jit": {n: [] for n in models},
    }
    paired: dict[str, list[float]] = {"filter_jit": [], "jit": []}
    for repeat in range(REPEATS):
        order = list(models) if repeat % 2 == 0 else list(models)[::-1]
        for mode, steps in (("filter_jit", filter_steps), ("jit", raw_steps)):
            times = {name: time_calls(steps[name]) for name in order}
            for name, t in times.items():
                results[mode][name].append(t)
            paired[mode].append(times["cdl"] / times["equinox"])

    compiles: dict[str, list[float]] = {n: [] for n in models}
    for _ in range(3):
        for name, model in models.items():
            compiles[name].append(compile_time(model, x, y))

    print(f"4-layer MLP {SIZES}, batch {BATCH}, forward+backward, median of {REPEATS}")
    print("  (ratio: median over repeats of cdl/equinox timed back to back)")
    ratios = {}
    for mode, per_model in results.items():
        med = {n: statistics.median(ts) for n, ts in per_model.items()}
        ratios[mode] = statistics.median(paired[mode])
        print(
            f"  {mode:>10}: cdl {med['cdl'] * 1e3:.3f} ms, "
            f"equinox {med['equinox'] * 1e3:.3f} ms, ratio {ratios[mode]:.3f}"
        )
    c = {n: statistics.median(ts) for n, ts in compiles.items()}
    compile_ratio = c["cdl"] / c["equinox"]
    print(
        f"  compile (trace+lower+compile): cdl {c['cdl']:.3f} s, "
        f"equinox {c['equinox']:.3f} s, ratio {compile_ratio:.3f}"
    )
    for mode in ("filter_jit", "jit"):
        status = "met" if ratios[mode] <= 1.02 else "missed"
        print(
            f"target: step_ratio_{mode} measured={ratios[mode]:.3f} goal=1.02 {status}"
        )


if __name__ == "__main__":
    main()
