"""A layer that several cells of an algebra use is one parameter, not one per cell.

The cells of a ``match`` (one per constructor, each holding the function's layers)
and one layer given as two constructors' cells hold the same arrays: the algebra
stores each once, a fold's gradient is the sum over every cell that uses it, and
training and saving keep it one.
"""

import io

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings, strategies as st

import cdl


class Shared(eqx.Module):
    """Leaves and nodes both go through `mix`; only leaves read `scale`."""

    mix: cdl.Linear
    scale: jax.Array

    def __call__(self, layer: cdl.Layer) -> jax.Array:
        match layer:
            case cdl.TreeF.Leaf(x):
                return jnp.tanh(self.mix(self.scale * x))
            case cdl.TreeF.Node(left, right):
                return jnp.tanh(self.mix(left + right))
        raise AssertionError


def recursion(cell: Shared, tree: object) -> jax.Array:
    if isinstance(tree, tuple):
        return jnp.tanh(cell.mix(recursion(cell, tree[0]) + recursion(cell, tree[1])))
    return jnp.tanh(cell.mix(cell.scale * jnp.float32(tree)))


def shared_cell() -> Shared:
    return Shared(cdl.Linear(3, 3, key=jax.random.key(0)), jnp.array([1.0, -0.5, 2.0]))


trees = st.recursive(
    st.floats(-2, 2, width=32), lambda t: st.tuples(t, t), max_leaves=8
)


@settings(max_examples=10, deadline=None)
@given(trees)
def test_the_gradient_of_a_shared_layer_sums_every_cell_using_it(tree: object) -> None:
    cell = shared_cell()
    fold = cdl.cata(cdl.Algebra(cdl.TreeF, cell))
    table = cdl.tree_table(cdl.TreeF, tree)
    np.testing.assert_allclose(fold(table), recursion(cell, tree), rtol=1e-5, atol=1e-6)
    got = eqx.filter_grad(lambda f: f(table).sum())(fold).algebra.cells
    want = eqx.filter_grad(lambda c: recursion(c, tree).sum())(cell)
    for name in ("Leaf", "Node"):
        mine = got[name].fn  # type: ignore[attr-defined]
        np.testing.assert_allclose(
            mine.mix.weight, want.mix.weight, rtol=1e-4, atol=1e-6
        )


def test_a_match_algebra_stores_its_layers_once_and_saves_them_once() -> None:
    cell = shared_cell()
    algebra = cdl.Algebra(cdl.TreeF, cell)
    assert len(jax.tree.leaves(algebra)) == len(jax.tree.leaves(cell))
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, algebra)
    buffer.seek(0)
    like = cdl.Algebra(
        cdl.TreeF, Shared(cdl.Linear(3, 3, key=jax.random.key(9)), jnp.zeros(3))
    )
    loaded = eqx.tree_deserialise_leaves(buffer, like)
    assert eqx.tree_equal(loaded, algebra)
    leaf, node = loaded.cells["Leaf"], loaded.cells["Node"]
    assert leaf.fn.mix.weight is node.fn.mix.weight  # type: ignore[attr-defined]


class Combine(eqx.Module):
    """A cell of two children through one layer."""

    mix: cdl.Linear

    def __call__(self, x: tuple[jax.Array, tuple[jax.Array, jax.Array]]) -> jax.Array:
        _, (left, right) = x
        return jnp.tanh(self.mix(left + right))


def test_one_layer_as_two_cells_is_one_parameter() -> None:
    expr = cdl.polynomial("ExprF", Num="a", Add="x x", Mul="x x")
    both = Combine(cdl.Linear(3, 3, key=jax.random.key(1)))
    algebra = cdl.Algebra(expr, Num=lambda p: p[0], Add=both, Mul=both)
    assert len(jax.tree.leaves(algebra)) == len(jax.tree.leaves(both))
    term = expr.Add(expr.Mul(expr.Num(jnp.ones(3)), expr.Num(jnp.zeros(3))),
                    expr.Num(jnp.full(3, 2.0)))  # fmt: skip
    fold = cdl.cata(algebra)
    grads = eqx.filter_grad(lambda f: f(term).sum())(fold).algebra.cells

    def by_hand(c: Combine) -> jax.Array:
        inner = c((None, (jnp.ones(3), jnp.zeros(3))))
        return c((None, (inner, jnp.full(3, 2.0)))).sum()

    want = eqx.filter_grad(by_hand)(both)
    for name in ("Add", "Mul"):
        mine = grads[name].fn.mix.weight  # type: ignore[attr-defined]
        np.testing.assert_allclose(mine, want.mix.weight, rtol=1e-5)


def test_a_step_of_training_keeps_the_shared_layer_one() -> None:
    cell = shared_cell()
    fold = cdl.cata(cdl.Algebra(cdl.TreeF, cell))
    table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), -1.0))
    grads = eqx.filter_grad(lambda f: f(table).sum())(fold)
    stepped = eqx.apply_updates(fold, jax.tree.map(lambda g: -0.1 * g, grads))
    leaf, node = stepped.algebra.cells["Leaf"], stepped.algebra.cells["Node"]
    assert jnp.array_equal(leaf.fn.mix.weight, node.fn.mix.weight)  # type: ignore[attr-defined]
    want = eqx.filter_grad(lambda c: recursion(c, ((1.0, 2.0), -1.0)).sum())(cell)
    np.testing.assert_allclose(
        leaf.fn.mix.weight,
        cell.mix.weight - 0.1 * want.mix.weight,
        rtol=1e-5,  # type: ignore[attr-defined]
    )
