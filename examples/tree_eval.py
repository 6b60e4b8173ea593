"""A Tree-LSTM learns to evaluate arithmetic expressions, level by level.

Expressions are terms of a functor declared on the spot,
``ExprF = Num(a) | Op(a x x)``: a digit, or ``+``/``-`` of two subexpressions,
evaluated modulo 10. The model is ``cata`` of an algebra with one Tree-LSTM cell
per constructor, so the network has exactly the shape of the expression. A forest
of expressions is one `cdl.NodeTable`, folded in one call: all nodes of one height
at once. It trains on expressions of depth at most 4 and is tested on depths 1 to 8.

Run: ``python examples/tree_eval.py``.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int

import cdl

EXPR = cdl.polynomial("ExprF", Num="a", Op="a x x")
OPS = ("+", "-")


Shape = Any
"""The shape of an expression: ``None`` for a digit, a pair of shapes for an op."""


def shape(depth: int, rng: np.random.Generator) -> Shape:
    """A random expression shape of exactly `depth`."""
    if depth == 0:
        return None
    deep, shallow = shape(depth - 1, rng), shape(int(rng.integers(depth)), rng)
    return (deep, shallow) if rng.random() < 0.5 else (shallow, deep)


def fill(s: Shape, rng: np.random.Generator) -> tuple[cdl.Layer[Any], int]:
    """Random digits and operators on shape `s`: a term and its value modulo 10."""
    if s is None:
        digit = int(rng.integers(10))
        return cdl.Layer("Num", np.eye(10, dtype=np.float32)[digit], ()), digit
    (left, a), (right, b) = fill(s[0], rng), fill(s[1], rng)
    op = int(rng.integers(len(OPS)))
    value = (a + b) % 10 if OPS[op] == "+" else (a - b) % 10
    return cdl.Layer("Op", np.eye(len(OPS), dtype=np.float32)[op], (left, right)), value


def forest(
    shapes: list[Shape], rng: np.random.Generator
) -> tuple[cdl.NodeTable, Int[Array, " b"]]:
    """Fresh digits and operators on fixed shapes, as one node table.

    Tables of the same shapes share their layout, so the training step compiles
    once per set of shapes while every batch holds new expressions.
    """
    terms, values = zip(*(fill(s, rng) for s in shapes), strict=True)
    table = cdl.tree_table(EXPR, list(terms), forest=True)
    return table, jnp.asarray(values, jnp.int32)


class Evaluator(eqx.Module):
    """``cata`` of a Tree-LSTM algebra, then a readout of the root's state."""

    fold: cdl.Para[cdl.NodeTable, Any]
    readout: cdl.Linear

    def __init__(self, hidden: int, key: Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        algebra = cdl.Algebra(
            EXPR,
            Num=cdl.TreeLSTMCell(10, hidden, arity=0, key=k1),
            Op=cdl.TreeLSTMCell(len(OPS), hidden, arity=2, key=k2),
        )
        self.fold = cdl.cata(algebra)
        self.readout = cdl.Linear(hidden, 10, key=k3)

    def __call__(self, table: cdl.NodeTable) -> Float[Array, "b 10"]:
        """Logits of the value of every expression of the forest."""
        h, _ = self.fold(table)
        logits: Float[Array, "b 10"] = jax.vmap(self.readout)(h)
        return logits


def main(
    steps: int = 1500, hidden: int = 64, batch: int = 256, test_per_depth: int = 200
) -> dict[int, float]:
    """Train on depths 1–4 and return the test accuracy for each depth 1–8."""
    rng = np.random.default_rng(0)
    layouts = [[shape(1 + i % 4, rng) for i in range(batch)] for _ in range(2)]
    test_depths = np.repeat(np.arange(1, 9), test_per_depth)
    test, test_values = forest([shape(int(d), rng) for d in test_depths], rng)
    model = Evaluator(hidden, jax.random.key(0))
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: Evaluator, state: Any, table: cdl.NodeTable, ys: Array
    ) -> tuple[Evaluator, Any, Array]:
        def loss(m: Evaluator) -> Array:
            value: Array = optax.softmax_cross_entropy_with_integer_labels(m(table), ys)
            return value.mean()

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimiser.update(grads, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), state, value

    for i in range(steps):
        table, ys = forest(layouts[i % len(layouts)], rng)
        model, state, value = step(model, state, table, ys)
        if i % 250 == 249 or i == steps - 1:
            print(f"step {i + 1}: loss {float(value):.3f}")
    predicted = np.asarray(eqx.filter_jit(model)(test).argmax(-1))
    correct = predicted == np.asarray(test_values)
    by_depth = {d: float(correct[test_depths == d].mean()) for d in range(1, 9)}
    for d, acc in by_depth.items():
        note = "(trained)" if d <= 4 else "(deeper than any training expression)"
        print(f"depth {d}: accuracy {acc:.3f} {note}")
    return by_depth


if __name__ == "__main__":
    main()
