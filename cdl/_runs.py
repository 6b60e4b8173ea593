"""Long chains of repeated blocks run as one `jax.lax.scan`.

XLA's compile time grows faster than linearly with the length of a straight-line
program (a chain of 2,000 small layers compiled in 4x the time of 1,000 here), so a
deep composite of repeated blocks, such as 48 transformer blocks or a stack of
equal hidden layers, is run as a loop when it is traced into a program (under
`jax.jit`; called eagerly, it runs layer by layer, as nothing is compiled whole):
the blocks' weights are stacked along a new axis and one block is traced once,
as Flax's ``nn.scan`` and Equinox's scan-over-layers idiom do by hand. The
composite's pytree is unchanged (its parameters, gradients and checkpoints are per
layer); only the program differs, and it computes the same values.

That keeps the forward pass's trace one block long, but its compile time still
grows with depth, since every layer's weights enter the program as arguments of
their own and are stacked there: jitted chains of 4×4 `Linear` and `Tanh`
compiled in 1.4 s at 1,000 layers, 2.7 s at 2,000 and 18 s at 5,000 (2 CPU
cores; a plain `jax.jit` stacking 1,000 such weights alone took 11 s). The
gradient is another matter:
its transpose of the stacking slices the stacked cotangent back into one array
per layer, and XLA on CPU compiles those slices in a time that grows with their
number. Measured on 2 CPU cores, jitted ``eqx.filter_grad`` of chains of
16×16 `Linear` and `Tanh`: 3.8 s at 100 layers, 9.9 s at 200 (the unrolled chain,
without the scan: 10.5 s), 57 s at 1,000; the forward pass of 1,000 compiles in
3 s. Weights shared by every block (`cdl.repeat`) have no such slices.

A run is found when at least `MIN_REPEATS` consecutive blocks of up to
`MAX_PERIOD` factors have equal structure (pytree layout, static fields, array
shapes and dtypes) and each block maps its input's shape and dtype to itself.

>>> import jax, jax.numpy as jnp, cdl
>>> keys = jax.random.split(jax.random.key(0), 40)
>>> chain = cdl.Compose(*[cdl.Linear(3, 3, key=k) for k in keys])
>>> [(len(step.factors), step.period) for step in plan(chain.factors)]
[(40, 1)]
>>> x = jnp.ones(3)
>>> y = x
>>> for layer in chain.factors:
...     y = layer(y)
>>> bool(jnp.allclose(chain(x), y, atol=1e-5))
True
"""

from collections.abc import Callable, Sequence
from typing import Any, Final, NamedTuple

import jax
import jax.numpy as jnp
from jax._src import core as _core

# Fewer repeats than this run as a straight line, as written.
MIN_REPEATS: Final = 16
# The longest block (in factors) that is looked for.
MAX_PERIOD: Final = 8


def _fingerprint(arrow: Any) -> Any:
    """What must agree between two factors for their weights to be stacked."""
    leaves, treedef = jax.tree.flatten(arrow)
    arrays = tuple(
        (tuple(leaf.shape), str(leaf.dtype))
        for leaf in leaves
        if isinstance(leaf, jax.Array)
    )
    others = tuple(leaf for leaf in leaves if not isinstance(leaf, jax.Array))
    try:
        hash(others)
    except TypeError:
        return object()  # unhashable static leaves: never stacked
    return treedef, arrays, others


class Step(NamedTuple):
    """Consecutive factors of a chain: one factor, or a run of repeated blocks."""

    factors: tuple[Any, ...]
    period: int


def plan(factors: Sequence[Any]) -> list[Step]:
    """The factors grouped into steps: single factors, or runs of repeated blocks.

    A run is `MIN_REPEATS` or more equal blocks of `period` factors. The caller
    decides whether a run keeps its space (see `run`).

    **Arguments:** `factors`, the factors of a chain.

    **Returns:** a list of steps, in order, covering `factors`.

    >>> import cdl
    >>> [len(step.factors) for step in plan([cdl.Tanh(), cdl.Relu()])]
    [1, 1]
    """
    prints = [_fingerprint(f) for f in factors]
    steps: list[Step] = []
    i, n = 0, len(factors)
    while i < n:
        best_period, best_blocks = 1, 1
        for period in range(1, MAX_PERIOD + 1):
            blocks = 1
            while i + (blocks + 1) * period <= n and all(
                prints[i + blocks * period + j] == prints[i + j] for j in range(period)
            ):
                blocks += 1
            if blocks >= MIN_REPEATS and blocks * period > best_blocks * best_period:
                best_period, best_blocks = period, blocks
        if best_blocks >= MIN_REPEATS:
            size = best_period * best_blocks
            steps.append(Step(tuple(factors[i : i + size]), best_period))
            i += size
        else:
            steps.append(Step((factors[i],), 1))
            i += 1
    return steps


def staged() -> bool:
    """Whether the code running now is being traced into a program (`jax.jit`).

    Only then does a run become one scan; called eagerly (also under an eager
    `jax.grad` or `jax.vmap`, which run operation by operation) it runs factor
    by factor. JAX's trace stack is internal: where a release moves it, the run
    is taken as staged, and scans as it did before this check.

    >>> staged(), jax.jit(lambda x: x + staged())(0)
    (False, Array(1, dtype=int32, weak_type=True))
    """
    trace = getattr(getattr(_core, "trace_ctx", None), "trace", None)
    if trace is None:
        return True
    while trace is not None:
        if type(trace).__name__ == "DynamicJaxprTrace":
            return True
        trace = getattr(trace, "parent_trace", None)
    return False


def _same_types(before: Any, after: Any) -> bool:
    """Whether two trees of shape structs agree in layout, shapes and dtypes."""
    layouts: list[Any] = [jax.tree.structure(before), jax.tree.structure(after)]
    if layouts[0] != layouts[1]:
        return False
    return all(
        (a.shape, a.dtype, a.weak_type) == (b.shape, b.dtype, b.weak_type)
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    )


def run(
    step: Step,
    x: Any,
    keys: Sequence[Any],
    apply: Callable[[Any, Any, Any], Any],
) -> Any:
    """Apply the run `step` to `x`, as one scan when its block keeps its space.

    A block that changes the shape or dtype of its input (say a shape-polymorphic
    layer on its first use) runs factor by factor instead.

    **Arguments:** `step`, a run from `plan`; `x`; `keys`, one per factor (each
    None or a key); `apply(factor, x, key)`.

    **Returns:** the output of the last factor.
    """
    period = step.period
    block = step.factors[:period]

    def through(block_factors: Sequence[Any], y: Any, block_keys: Sequence[Any]) -> Any:
        for factor, key in zip(block_factors, block_keys, strict=True):
            y = apply(factor, y, key)
        return y

    if not staged():
        # Run op by op, nothing is compiled as a whole: a scan would only add the
        # compiles of stacking the weights and, for a gradient, of unstacking
        # their cotangents (a 1,000-layer chain's eager gradient took 86 s, 6 s
        # without them).
        return through(step.factors, x, keys)
    before = jax.eval_shape(lambda y: y, x)
    after = jax.eval_shape(lambda y: through(block, y, keys[:period]), x)
    mixed_keys = None in keys and any(k is not None for k in keys)
    if mixed_keys or not _same_types(before, after):
        return through(step.factors, x, keys)
    count = len(step.factors) // period
    flat = [jax.tree.flatten(f) for f in step.factors]
    treedefs = [treedef for _, treedef in flat[:period]]
    stacked = []
    for j in range(period):
        columns = zip(*(flat[b * period + j][0] for b in range(count)), strict=True)
        stacked.append(
            [
                jnp.stack(column) if isinstance(column[0], jax.Array) else column[0]
                for column in map(tuple, columns)
            ]
        )
    arrays = [
        [leaf for leaf in leaves if isinstance(leaf, jax.Array)] for leaves in stacked
    ]
    statics = [
        [None if isinstance(leaf, jax.Array) else leaf for leaf in leaves]
        for leaves in stacked
    ]
    has_keys = keys[0] is not None
    key_array = (
        jnp.stack(
            [jnp.stack(keys[b * period : (b + 1) * period]) for b in range(count)]
        )
        if has_keys
        else None
    )

    def body(carry: Any, xs: Any) -> tuple[Any, None]:
        weights, block_keys = xs
        factors = []
        for j in range(period):
            it = iter(weights[j])
            leaves = [next(it) if s is None else s for s in statics[j]]
            factors.append(jax.tree.unflatten(treedefs[j], leaves))
        ks = list(block_keys) if has_keys else [None] * period
        return through(factors, carry, ks), None

    out, _ = jax.lax.scan(body, x, (arrays, key_array), length=count)
    return out
