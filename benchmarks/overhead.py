"""Overhead of composing with ``>>``: cdl composites vs the same models in Equinox.

Prints, each as a median over repeats with the compared calls alternated:
- one jitted forward+backward step of a 4-layer MLP (value and gradient of a mean
  squared error over a batch), under `eqx.filter_jit` (as users run models) and
  under `jax.jit` on the parameter arrays, and the ratio of compile times;
- the same step for a tiny MLP on one example, where Python dispatch dominates;
- flattening and unflattening a 16-layer composite against `eqx.nn.Sequential`
  holding the same layers (what `filter_jit` does on every call);
- the compile time of `cdl.repeat(cell, 10_000)` against `cdl.repeat(cell, 10)`.

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


TINY = (4, 8, 8, 2)


def tiny_models(key: jax.Array) -> dict[str, Any]:
    keys = jax.random.split(key, len(TINY) - 1)
    pairs = list(zip(TINY[:-1], TINY[1:], keys, strict=True))
    chain: list[Any] = []
    layers: list[Any] = []
    for i, (a, b, k) in enumerate(pairs):
        chain.append(cdl.Linear(a, b, key=k))
        layers.append(eqx.nn.Linear(a, b, key=k))
        if i < len(pairs) - 1:
            chain.append(cdl.Relu())
            layers.append(eqx.nn.Lambda(jax.nn.relu))
    return {"cdl": cdl.Compose(*chain), "equinox": eqx.nn.Sequential(layers)}


def alternated(calls: dict[str, Callable[[], Any]], repeats: int) -> float:
    """Median over repeats of the cdl/equinox time ratio, calls alternated."""
    ratios = []
    for repeat in range(repeats):
        order = list(calls) if repeat % 2 == 0 else list(calls)[::-1]
        times = {name: time_calls(calls[name]) for name in order}
        ratios.append(times["cdl"] / times["equinox"])
    return statistics.median(ratios)


def dispatch_bound(key: jax.Array) -> float:
    models = tiny_models(key)
    x = jnp.ones(TINY[0])
    y = jnp.zeros(TINY[-1])

    def one(model: Any, x: jax.Array, y: jax.Array) -> Any:
        return jnp.sum((model(x) - y) ** 2)

    step = eqx.filter_jit(eqx.filter_value_and_grad(one))
    calls = {n: (lambda m=m: step(m, x, y)) for n, m in models.items()}
    ratio = alternated(calls, REPEATS)
    print(f"tiny MLP {TINY}, one example, forward+backward under filter_jit")
    print(f"  ratio cdl/equinox {ratio:.3f}")
    return ratio


def flatten_unflatten(key: jax.Array) -> float:
    keys = jax.random.split(key, 16)
    layers = [cdl.Linear(32, 32, key=k) for k in keys]
    models = {"cdl": cdl.Compose(*layers), "equinox": eqx.nn.Sequential(layers)}

    def round_trip(model: Any) -> Any:
        leaves, treedef = jax.tree.flatten(model)
        return jax.tree.unflatten(treedef, leaves)

    calls = {n: (lambda m=m: round_trip(m)) for n, m in models.items()}
    ratio = alternated(calls, REPEATS)
    print("16 Linear(32→32) layers: flatten + unflatten, cdl.Compose / Sequential")
    print(f"  ratio {ratio:.3f}")
    return ratio


def repeat_compiles(key: jax.Array) -> tuple[float, float]:
    cell = cdl.Linear(32, 32, key=key) >> cdl.Tanh()
    x = jnp.ones(32)

    def seconds(times: int) -> float:
        model = cdl.repeat(cell, times)
        params, static = eqx.partition(model, eqx.is_array)
        lowered = jax.jit(lambda p, v: eqx.combine(p, static)(v)).lower(params, x)
        start = time.perf_counter()
        lowered.compile()
        return time.perf_counter() - start

    short = statistics.median(seconds(10) for _ in range(5))
    long = statistics.median(seconds(10_000) for _ in range(5))
    print(f"repeat(cell, n) compile: n=10 {short:.3f} s, n=10,000 {long:.3f} s")
    return short, long


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
    dispatch = dispatch_bound(key)
    flatten = flatten_unflatten(key)
    short, long = repeat_compiles(key)
    targets = [
        ("step_ratio_filter_jit", ratios["filter_jit"], 1.02),
        ("step_ratio_jit", ratios["jit"], 1.02),
        ("dispatch_bound_step_ratio", dispatch, 1.05),
        ("flatten_unflatten_ratio", flatten, 1.05),
        ("repeat_compile_10000_over_10", long / short, 1.5),
    ]
    for name, measured, goal in targets:
        status = "met" if measured <= goal else "missed"
        print(f"target: {name} measured={measured:.3f} goal={goal} {status}")


if __name__ == "__main__":
    main()
