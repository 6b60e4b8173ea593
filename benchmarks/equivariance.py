"""Equivariance benchmarks: basis solving against EMLP, derived layers against by-hand.

1. Solving the basis of S(6)-equivariant maps V⊗V → V⊗V (a 1296 × 15 basis): EMLP
   1.0.3 takes 18 s on this machine (measured once; EMLP is not installed here).
   cdl solves it by the orbit structure of index pairs; the dense null-space solve
   that general monoid actions use is timed on the same problem for comparison.
2. Applying derived layers to a batch, jitted, against the layer written by hand:
   the C_n layer against a circular convolution (wrap padding + conv), the S_n
   layer on ``float[n, d]`` against a DeepSets layer (``xΛ + 1 sum(x) Γ + b``).
   The targets are on the forward pass; the parameter gradient is printed too,
   and so is the S_n layer on edge features against its own dense weight.

Run: ``python benchmarks/equivariance.py``. Timings are medians of several runs.
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

import cdl
from cdl.equivariance._basis import _null_space_basis

EMLP_SECONDS = 18.0
REPEATS = 7
ROUNDS = 21
CALLS = 20


def median_time(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Median wall time of `fn` over `repeats` runs (after one warm-up run)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(
    derived: Callable[[], Any], by_hand: Callable[[], Any]
) -> tuple[float, float, float]:
    """Seconds per call of each, and the median of paired ratios.

    The two are timed in alternation (order swapped each round) so that both see
    the same load on a shared machine; each round times `CALLS` calls.
    """
    jax.block_until_ready(derived())
    jax.block_until_ready(by_hand())

    def seconds(f: Callable[[], Any]) -> float:
        start = time.perf_counter()
        for _ in range(CALLS):
            out = f()
        jax.block_until_ready(out)
        return (time.perf_counter() - start) / CALLS

    times_d, times_h, ratios = [], [], []
    for round_ in range(ROUNDS):
        if round_ % 2:
            t_h, t_d = seconds(by_hand), seconds(derived)
        else:
            t_d, t_h = seconds(derived), seconds(by_hand)
        times_d.append(t_d)
        times_h.append(t_h)
        ratios.append(t_d / t_h)
    return (
        statistics.median(times_d),
        statistics.median(times_h),
        statistics.median(ratios),
    )


Timings = dict[str, tuple[float, float, float]]


def forward_and_gradient(
    layer: Any, hand: Callable[[Any, jax.Array], jax.Array], params: Any, x: jax.Array
) -> Timings:
    """Forward and parameter gradient (of the sum of squares) of both, batched.

    Parameters are arguments of the compiled functions, as in training; both are
    compiled with `jax.jit` (a derived layer's only leaves are its coefficients).
    """

    @jax.jit
    def forward_derived(m: Any, x: jax.Array) -> jax.Array:
        return jax.vmap(m)(x)

    @jax.jit
    def forward_hand(p: Any, x: jax.Array) -> jax.Array:
        return hand(p, x)

    @jax.jit
    def grad_derived(m: Any, x: jax.Array) -> Any:
        return jax.grad(lambda m: jnp.sum(jax.vmap(m)(x) ** 2))(m)

    @jax.jit
    def grad_hand(p: Any, x: jax.Array) -> Any:
        return jax.grad(lambda p: jnp.sum(hand(p, x) ** 2))(p)

    return {
        "forward": compare(
            lambda: forward_derived(layer, x), lambda: forward_hand(params, x)
        ),
        "gradient": compare(
            lambda: grad_derived(layer, x), lambda: grad_hand(params, x)
        ),
    }


def basis_solve() -> tuple[float, float]:
    """Orbit solve and dense null-space solve for S(6) on V⊗V → V⊗V."""
    act = cdl.permutation_action(6, order=2)

    def orbits() -> None:
        basis = cdl.equivariant_basis(act, act)
        matrix = basis.matrices().reshape(basis.size, -1).T
        assert matrix.shape == (1296, 15)

    mats = [act.slot_matrix(g) for g in act.monoid.generators_array()]

    def dense() -> None:
        assert _null_space_basis(mats, mats, 36, 36).size == 15

    return median_time(orbits), median_time(dense, repeats=3)


def cyclic_apply(length: int, channels: int, batch: int) -> Timings:
    """Derived C_n layer against wrap padding + convolution."""
    act = cdl.signal_action(cdl.Monoid.cyclic(length), length, channels)
    layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    params = (
        jax.random.normal(jax.random.key(1), (channels, channels, length)),
        jax.random.normal(jax.random.key(2), (channels,)),
    )
    x = jax.random.normal(jax.random.key(3), (batch, channels, length))

    def by_hand(p: Any, x: jax.Array) -> jax.Array:
        kernel, bias = p
        padded = jnp.pad(x, ((0, 0), (0, 0), (0, length - 1)), mode="wrap")
        y = jax.lax.conv_general_dilated(padded, kernel, (1,), "VALID")
        return y + bias[None, :, None]

    return forward_and_gradient(layer, by_hand, params, x)


def deepsets_apply(size: int, features: int, batch: int) -> Timings:
    """Derived S_n layer against a hand-written DeepSets layer."""
    act = cdl.permutation_action(size, (features,))
    layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    k1, k2, k3, k4 = jax.random.split(jax.random.key(1), 4)
    params = (
        jax.random.normal(k1, (features, features)),
        jax.random.normal(k2, (features, features)),
        jax.random.normal(k3, (features,)),
    )
    x = jax.random.normal(k4, (batch, size, features))

    def by_hand(p: Any, x: jax.Array) -> jax.Array:
        own, pooled, bias = p
        total = jnp.sum(x, axis=1, keepdims=True)
        return x @ own + total @ pooled + bias[None, None, :]

    return forward_and_gradient(layer, by_hand, params, x)


def edge_layer_apply(size: int, features: int, batch: int) -> Timings:
    """The S_n layer on edge features: partition einsums against the dense weight."""
    act = cdl.permutation_action(size, (features,), order=2)
    fast = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    dense = cdl.EquivariantLinear(act, act, key=jax.random.key(0), structured=False)
    x = jax.random.normal(jax.random.key(1), (batch, size, size, features))

    @jax.jit
    def forward(m: Any, x: jax.Array) -> jax.Array:
        return jax.vmap(m)(x)

    return {
        "forward": compare(lambda: forward(fast, x), lambda: forward(dense, x)),
    }


def report(title: str, hand: str, timings: Timings) -> None:
    """Print forward and gradient timings of one comparison."""
    print(title)
    for kind, (t_d, t_h, ratio) in timings.items():
        print(
            f"  {kind:>8}: derived {t_d * 1e3:.3f} ms, {hand} {t_h * 1e3:.3f} ms, "
            f"median paired ratio {ratio:.3f}"
        )


def main() -> None:
    """Run every benchmark and print the targets."""
    orbit_s, dense_s = basis_solve()
    speedup = EMLP_SECONDS / orbit_s
    print("S(6) on V⊗V → V⊗V, basis 1296 × 15:")
    print(
        f"  cdl orbit solve {orbit_s * 1e3:.2f} ms, dense null-space solve "
        f"{dense_s:.2f} s, EMLP {EMLP_SECONDS:.0f} s: {speedup:.0f}x faster"
    )

    cyclic = cyclic_apply(length=64, channels=16, batch=128)
    report("C64 layer, 16 → 16 channels, batch 128:", "circular conv by hand", cyclic)
    sets = deepsets_apply(size=32, features=64, batch=128)
    report("S32 layer on float[32, 64], batch 128:", "DeepSets by hand", sets)
    c_ratio, s_ratio = cyclic["forward"][2], sets["forward"][2]
    edges = edge_layer_apply(size=16, features=8, batch=16)
    report("S16 layer on float[16, 16, 8] (15 maps), batch 16:", "dense weight", edges)

    met = "met" if speedup >= 10 else "missed"
    print(f"target: s6_basis_speedup_vs_emlp measured={speedup:.0f} goal=10 {met}")
    met = "met" if c_ratio <= 1.2 else "missed"
    print(f"target: cyclic_layer_apply_ratio measured={c_ratio:.3f} goal=1.2 {met}")
    met = "met" if s_ratio <= 1.2 else "missed"
    print(f"target: deepsets_layer_apply_ratio measured={s_ratio:.3f} goal=1.2 {met}")


if __name__ == "__main__":
    main()
