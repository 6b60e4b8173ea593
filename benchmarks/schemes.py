"""Recursion schemes against hand-written JAX: list folds, tree folds, para/histo/zygo.

Prints, in one run, the ratio of cdl's time to the hand-written equivalent, then one
``target:`` line per goal of the issue. Like is compared with like: both sides are
compiled with `jax.jit` (cdl's modules are pytrees, so no wrapper of cdl's own adds
per-call work), take the structure they fold as arguments rather than as constants
baked into the program, and are timed after compiling, alternately, call by call:
each ratio is the median of the ratios of neighbouring calls, so that other load on
the machine weighs on both sides alike.

    python benchmarks/schemes.py            # full sizes
    python benchmarks/schemes.py --quick    # small sizes, a smoke test
"""

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import cdl

HIDDEN, INPUTS, BATCH = 64, 32, 128


def paired(
    mine: Callable[[], Any], hand: Callable[[], Any], repeats: int
) -> tuple[float, float, float]:
    """Median times of `mine` and `hand` in seconds, and the median of their ratios.

    The two are called alternately (after one warm-up call each); short calls are
    repeated more, so that each side runs for about a second.
    """
    for fn in (mine, hand):
        jax.block_until_ready(fn())
    start = time.perf_counter()
    jax.block_until_ready(hand())
    once = time.perf_counter() - start
    repeats = max(repeats, min(200, int(1.0 / max(once, 1e-6))))
    t_mine, t_hand, ratios = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(mine())
        middle = time.perf_counter()
        jax.block_until_ready(hand())
        end = time.perf_counter()
        t_mine.append(middle - start)
        t_hand.append(end - middle)
        ratios.append(t_mine[-1] / t_hand[-1])
    return (
        statistics.median(t_mine),
        statistics.median(t_hand),
        statistics.median(ratios),
    )


def compile_times(
    cases: dict[Any, tuple[Callable[..., Any], tuple[Any, ...]]], repeats: int
) -> dict[Any, float]:
    """Median time to trace, lower and compile each ``fn(*args)`` afresh.

    The cases are compiled in turn, round after round, so that a slow spell of the
    machine does not fall on one of them only; no cache is hit.
    """
    times: dict[Any, list[float]] = {key: [] for key in cases}
    for _ in range(repeats):
        for key, (fn, args) in cases.items():
            start = time.perf_counter()
            jax.jit(lambda *a, fn=fn: fn(*a)).lower(*args).compile()
            times[key].append(time.perf_counter() - start)
    return {key: statistics.median(t) for key, t in times.items()}


# ----------------------------------------------------------------------------- lists


def gru_step(cell: cdl.GRUCell, x: jax.Array, h: jax.Array) -> jax.Array:
    """The GRU update written out by hand on a batch: x [B, I], h [B, H]."""
    gi = x @ cell.w_in.T + cell.b_in
    gh = h @ cell.w_h.T + cell.b_h
    i_r, i_z, i_n = jnp.split(gi, 3, axis=-1)
    h_r, h_z, h_n = jnp.split(gh, 3, axis=-1)
    r = jax.nn.sigmoid(i_r + h_r)
    z = jax.nn.sigmoid(i_z + h_z)
    n = jnp.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def hand_rnn(cell: cdl.GRUCell, xs: jax.Array) -> jax.Array:
    """Hand-written scan over time, the batch carried along: xs [T, B, I]."""
    h0 = jnp.zeros((xs.shape[1], HIDDEN))
    h, _ = jax.lax.scan(lambda h, x: (gru_step(cell, x, h), None), h0, xs)
    return h


def cdl_rnn(cell: cdl.GRUCell, xs: jax.Array) -> jax.Array:
    """The fold of one sequence, mapped over the batch axis 1 of xs [T, B, I]."""
    fold = cdl.foldl(cdl.ListAlgebra(jnp.zeros(HIDDEN), cell))
    return jax.vmap(fold, in_axes=1)(xs)


def loss(c: cdl.GRUCell, xs: jax.Array, f: Any) -> jax.Array:
    return f(c, xs).sum()


def bench_lists(lengths: list[int], repeats: int) -> dict[str, float]:
    cell = cdl.GRUCell(INPUTS, HIDDEN, key=jax.random.key(0))
    fwd_ratios, grad_ratios = [], []
    print(f"GRU fold, hidden {HIDDEN}, inputs {INPUTS}, batch {BATCH}")
    print(f"{'length':>7} {'hand fwd':>10} {'cdl fwd':>10} {'ratio':>6} "
          f"{'hand grad':>10} {'cdl grad':>10} {'ratio':>6}")  # fmt: skip
    for n in lengths:
        # Time-major input for both: with a batch-major array [B, T, I] under
        # `vmap`, XLA reads each step's rows with a stride of T*I, which costs
        # about 1.4x at T = 10,000 (the hand-written scan transposes first).
        xs = jax.random.normal(jax.random.key(n), (n, BATCH, INPUTS))
        hand_f = jax.jit(hand_rnn)
        cdl_f = jax.jit(cdl_rnn)
        hand_g = jax.jit(jax.grad(lambda c, x: loss(c, x, hand_rnn)))
        cdl_g = jax.jit(jax.grad(lambda c, x: loss(c, x, cdl_rnn)))
        t_cdl_f, t_hand_f, ratio_f = paired(
            lambda f=cdl_f, x=xs: f(cell, x), lambda f=hand_f, x=xs: f(cell, x), repeats
        )
        t_cdl_g, t_hand_g, ratio_g = paired(
            lambda f=cdl_g, x=xs: f(cell, x), lambda f=hand_g, x=xs: f(cell, x), repeats
        )
        fwd_ratios.append(ratio_f)
        grad_ratios.append(ratio_g)
        print(f"{n:>7} {t_hand_f * 1e3:>8.2f}ms {t_cdl_f * 1e3:>8.2f}ms "
              f"{fwd_ratios[-1]:>6.2f} {t_hand_g * 1e3:>8.2f}ms "
              f"{t_cdl_g * 1e3:>8.2f}ms {grad_ratios[-1]:>6.2f}")  # fmt: skip
    # Compiling the gradient, for every length, from shapes alone.
    cases = {
        (side, n): (
            jax.grad(lambda c, x, f=f: loss(c, x, f)),
            (cell, jax.ShapeDtypeStruct((n, BATCH, INPUTS), jnp.float32)),
        )
        for n in lengths
        for side, f in (("hand", hand_rnn), ("cdl", cdl_rnn))
    }
    compiles = compile_times(cases, repeats)
    print(f"compile the gradient (median of {repeats}), by length: "
          + ", ".join(f"{n}: hand {compiles['hand', n]:.2f}s cdl "
                      f"{compiles['cdl', n]:.2f}s" for n in lengths))  # fmt: skip
    return {
        "list_forward": max(fwd_ratios),
        "list_grad": max(grad_ratios),
        "list_compile_growth": compiles["cdl", lengths[-1]]
        / compiles["cdl", lengths[0]],
    }


# ----------------------------------------------------------------------------- trees


def balanced(n_leaves: int) -> tuple[np.ndarray, np.ndarray]:
    """Post-order tags and children of a complete-as-possible binary tree."""
    return _build(lambda lo, hi: (lo + hi) // 2, n_leaves)


def random_tree(n_leaves: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return _build(lambda lo, hi: int(rng.integers(lo + 1, hi)), n_leaves)


def degenerate(n_leaves: int) -> tuple[np.ndarray, np.ndarray]:
    return _build(lambda lo, hi: lo + 1, n_leaves)


def _build(split: Callable[[int, int], int], n_leaves: int) -> tuple[np.ndarray, ...]:
    """Nodes in post-order (children first) for leaves ``[lo, hi)``, iteratively."""
    tags: list[int] = []
    kids: list[tuple[int, int]] = []
    stack: list[tuple[int, int, int]] = [(0, n_leaves, 0)]
    results: list[int] = []
    while stack:
        lo, hi, state = stack.pop()
        if hi - lo == 1:
            tags.append(0)
            kids.append((-1, -1))
            results.append(len(tags) - 1)
        elif state == 0:
            mid = split(lo, hi)
            stack.append((lo, hi, 1))
            stack.append((mid, hi, 0))
            stack.append((lo, mid, 0))
        else:
            right, left = results.pop(), results.pop()
            tags.append(1)
            kids.append((left, right))
            results.append(len(tags) - 1)
    return np.asarray(tags), np.asarray(kids)


def tree_algebra() -> cdl.Algebra[Any]:
    k1, k2 = jax.random.split(jax.random.key(1))
    return cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(1, HIDDEN, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, HIDDEN, arity=2, key=k2),
    )


def _node_fn(params: tuple[jax.Array, ...], x: jax.Array, left: jax.Array,
             right: jax.Array, tag: jax.Array) -> jax.Array:  # fmt: skip
    w_leaf, b_leaf, w_l, w_r, b_node = params
    return jax.lax.cond(
        tag == 0,
        lambda: jnp.tanh(w_leaf @ x + b_leaf),
        lambda: jnp.tanh(w_l @ left + w_r @ right + b_node),
    )


def hand_tree(params: tuple[jax.Array, ...], payload: jax.Array, tags: jax.Array,
              kids: jax.Array, root: jax.Array) -> jax.Array:  # fmt: skip
    """Node-by-node scan over a post-order table, with a hand-written VJP."""
    n = tags.shape[0]

    def forward(params: tuple[jax.Array, ...], payload: jax.Array) -> jax.Array:
        def step(buf: jax.Array, i: jax.Array) -> tuple[jax.Array, None]:
            left, right = (
                buf[jnp.maximum(kids[i, 0], 0)],
                buf[jnp.maximum(kids[i, 1], 0)],
            )
            h = _node_fn(params, payload[i], left, right, tags[i])
            return buf.at[i].set(h), None

        buf, _ = jax.lax.scan(step, jnp.zeros((n, HIDDEN)), jnp.arange(n))
        return buf

    @jax.custom_vjp
    def run(params: tuple[jax.Array, ...], payload: jax.Array) -> jax.Array:
        return forward(params, payload)[root]

    def run_fwd(params: tuple[jax.Array, ...], payload: jax.Array) -> Any:
        buf = forward(params, payload)
        return buf[root], (params, payload, buf)

    def run_bwd(res: Any, g: jax.Array) -> Any:
        params, payload, buf = res
        ct = jnp.zeros_like(buf).at[root].set(g)

        def step(carry: Any, i: jax.Array) -> tuple[Any, None]:
            ct, dp, dx = carry
            li, ri = jnp.maximum(kids[i, 0], 0), jnp.maximum(kids[i, 1], 0)
            _, vjp = jax.vjp(
                lambda p, x, lv, rv: _node_fn(p, x, lv, rv, tags[i]),
                params, payload[i], buf[li], buf[ri],
            )  # fmt: skip
            dpi, dxi, dl, dr = vjp(ct[i])
            dp = jax.tree.map(jnp.add, dp, dpi)
            ct = ct.at[li].add(dl).at[ri].add(dr)
            return (ct, dp, dx.at[i].set(dxi)), None

        zeros = jax.tree.map(jnp.zeros_like, params)
        (_, dp, dx), _ = jax.lax.scan(
            step, (ct, zeros, jnp.zeros_like(payload)), jnp.arange(n), reverse=True
        )
        return dp, dx

    run.defvjp(run_fwd, run_bwd)
    return run(params, payload)


def hand_params(alg: cdl.Algebra[Any]) -> tuple[jax.Array, ...]:
    leaf, node = alg.cells["Leaf"], alg.cells["Node"]
    assert isinstance(leaf, cdl.TreeRNNCell) and isinstance(node, cdl.TreeRNNCell)
    return (leaf.w_in, leaf.bias, node.w_children[0], node.w_children[1], node.bias)


def tree_case(
    shape: str, n_nodes: int, alg: cdl.Algebra[Any], repeats: int
) -> tuple[float, float]:
    """Forward and training-step speedups of cdl over the hand-written scan."""
    params = hand_params(alg)
    leaves = (n_nodes + 1) // 2
    if shape == "balanced":
        tags, kids = balanced(leaves)
    elif shape == "random":
        tags, kids = random_tree(leaves, 0)
    else:
        tags, kids = degenerate(leaves)
    n = len(tags)
    values = np.random.default_rng(0).normal(size=(n, 1)).astype(np.float32)
    table = cdl.NodeTable.from_arrays(
        cdl.TreeF, tags, kids, {"Leaf": values[tags == 0]}, n - 1
    )
    data = (jnp.asarray(values), jnp.asarray(tags), jnp.asarray(kids), jnp.int32(n - 1))

    def cdl_loss(a: cdl.Algebra[Any], t: cdl.NodeTable) -> jax.Array:
        return cdl.cata(a)(t).sum()

    def hand_loss(p: tuple[jax.Array, ...], d: tuple[jax.Array, ...]) -> jax.Array:
        return hand_tree(p, *d).sum()

    cdl_f = jax.jit(cdl_loss)
    cdl_g = jax.jit(jax.grad(cdl_loss))
    hand_f = jax.jit(hand_loss)
    hand_g = jax.jit(jax.grad(hand_loss))
    # Same result (to TF32 rounding: GPUs multiply float32 matrices in TF32 unless
    # told otherwise, and the two sides sum in different orders).
    np.testing.assert_allclose(cdl_f(alg, table), hand_f(params, data), rtol=1e-2)
    t_cf, t_hf, ratio_f = paired(
        lambda: cdl_f(alg, table), lambda: hand_f(params, data), repeats
    )
    t_cg, t_hg, ratio_g = paired(
        lambda: cdl_g(alg, table), lambda: hand_g(params, data), repeats
    )
    print(f"{shape:>10} {n:>7} {table.depth:>6} {t_hf * 1e3:>8.2f}ms "
          f"{t_cf * 1e3:>8.2f}ms {1 / ratio_f:>7.2f} {t_hg * 1e3:>8.2f}ms "
          f"{t_cg * 1e3:>8.2f}ms {1 / ratio_g:>7.2f}")  # fmt: skip
    return 1 / ratio_f, 1 / ratio_g


def bench_trees(sizes: list[int], repeats: int) -> dict[str, float]:
    alg = tree_algebra()
    out: dict[str, float] = {}
    print(f"\nTree-RNN fold, hidden {HIDDEN}: cdl level by level vs hand-written "
          f"node-by-node scan with its own VJP")  # fmt: skip
    print(f"{'shape':>10} {'nodes':>7} {'depth':>6} {'hand fwd':>10} {'cdl fwd':>10} "
          f"{'speedup':>7} {'hand step':>10} {'cdl step':>10} "
          f"{'speedup':>7}")  # fmt: skip
    for shape in ("balanced", "random", "degenerate"):
        for n_nodes in sizes:
            fwd, step = tree_case(shape, n_nodes, alg, repeats)
            out[f"{shape}_{n_nodes}_fwd"], out[f"{shape}_{n_nodes}_step"] = fwd, step
    return out


# ------------------------------------------------------------ para, histo and zygo


def bench_other_schemes(length: int, repeats: int) -> dict[str, float]:
    from jaxtyping import Array, Float

    Vec = Float[Array, "64"]

    class Mix(cdl.Para[tuple[Vec, tuple[Vec, Vec]], Vec]):
        def __call__(self, x: tuple[Vec, tuple[Vec, Vec]]) -> Vec:
            e, (a, b) = x
            return jnp.tanh(e + 0.5 * a - 0.25 * b)

    class Step(cdl.Para[tuple[Vec, Vec], Vec]):
        def __call__(self, x: tuple[Vec, Vec]) -> Vec:
            return jnp.tanh(x[0] + 0.5 * x[1])

    class ParaCell(cdl.Para[tuple[Vec, tuple[cdl.Suffix, Vec]], Vec]):
        def __call__(self, x: tuple[Vec, tuple[cdl.Suffix, Vec]]) -> Vec:
            e, (tail, a) = x
            return jnp.tanh(e + 0.5 * a + 0.01 * tail.length)

    xs = jax.random.normal(jax.random.key(0), (BATCH, length, HIDDEN))
    nil = jnp.zeros(HIDDEN)

    def scan_hand(
        step: Callable[..., Any], init: Any, pick: Callable[[Any], Any]
    ) -> Any:
        def run(xs: jax.Array) -> jax.Array:
            idx = jnp.arange(length)
            carry, _ = jax.lax.scan(
                lambda c, xi: (step(c, *xi), None), init, (jnp.swapaxes(xs, 0, 1), idx),
                reverse=True,
            )  # fmt: skip
            return pick(carry)

        return run

    b0 = jnp.zeros((BATCH, HIDDEN))
    hands = {
        "para": scan_hand(
            lambda a, x, i: jnp.tanh(x + 0.5 * a + 0.01 * (length - i - 1)),
            b0, lambda c: c
        ),
        "histo": scan_hand(
            lambda c, x, i: (jnp.tanh(x + 0.5 * c[0] - 0.25 * c[1]), c[0]),
            (b0, b0), lambda c: c[0],
        ),
        "zygo": scan_hand(
            lambda c, x, i: (
                jnp.tanh(x + 0.5 * c[0]), jnp.tanh(x + 0.5 * c[0] - 0.25 * c[1])
            ),
            (b0, b0), lambda c: c[1],
        ),
    }  # fmt: skip
    schemes = {
        "para": cdl.para(nil, ParaCell()),
        "histo": cdl.histo(nil, Mix(), depth=2),
        "zygo": cdl.zygo(cdl.ListAlgebra(nil, Step()), nil, Mix()),
    }
    out = {}
    print(f"\npara / histo / zygo on lists of {length}, batch {BATCH}, width {HIDDEN}")
    for name, scheme in schemes.items():
        hand = jax.jit(hands[name])
        mine = jax.jit(lambda s, xs: jax.vmap(s)(xs))
        np.testing.assert_allclose(mine(scheme, xs), hand(xs), rtol=1e-2, atol=1e-4)
        t_cdl, t_hand, ratio = paired(
            lambda f=mine, s=scheme: f(s, xs), lambda f=hand: f(xs), repeats
        )
        out[name] = ratio
        print(f"{name:>6}: hand {t_hand * 1e3:.2f} ms, cdl {t_cdl * 1e3:.2f} ms, "
              f"ratio {ratio:.2f}")  # fmt: skip
    return out


def target(name: str, measured: float, goal: str) -> None:
    value = float(goal.lstrip("<>="))
    met = measured <= value if goal.startswith("<") else measured >= value
    print(
        f"target: {name} measured={measured:.2f} goal={goal} "
        f"{'met' if met else 'missed'}"
    )


def main(quick: bool = False) -> None:
    repeats = 3 if quick else 5
    lists = bench_lists([10, 100] if quick else [10, 100, 1000, 10000], repeats)
    big = 1000 if quick else 100_000
    trees = bench_trees([big] if quick else [1000, 10_000, 100_000], repeats)
    others = bench_other_schemes(100 if quick else 1000, repeats)
    print()
    target("cata_list_forward_ratio", lists["list_forward"], "<=1.10")
    target("cata_list_grad_ratio", lists["list_grad"], "<=1.10")
    target("cata_list_compile_growth", lists["list_compile_growth"], "<=1.50")
    target("tree_step_speedup_balanced", trees[f"balanced_{big}_step"], ">=3.0")
    target("tree_forward_speedup_balanced", trees[f"balanced_{big}_fwd"], ">=1.5")
    slowest = min(v for k, v in trees.items() if k.startswith("degenerate"))
    target("tree_degenerate_slowdown", 1 / slowest, "<=1.20")
    for name in ("para", "histo", "zygo"):
        target(f"{name}_list_ratio", others[name], "<=1.20")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
