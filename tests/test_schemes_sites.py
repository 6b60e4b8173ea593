"""Weight gradients of tree folds from the cells' sites (`cdl.schemes._sites`).

The level engine takes each cell's parameter cotangent after the backward sweep,
from the cotangents at the operations where parameters meet the input. These
tests check that gradient against plain recursion for cells that use their
parameters in the ways cells do: products and biases, a weight used twice, a
parameter through a nonlinearity, a learned constant, an integer field.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings, strategies as st

import cdl
from cdl.schemes._hoist_cells import split
from cdl.schemes._residuals import _saved
from cdl.schemes._sites import Sites

H = 3


class Leaf(cdl.Para[Any, Any]):
    """A payload through a scaled weight, and a learned constant added."""

    w: jax.Array
    log_scale: jax.Array
    start: jax.Array

    def __call__(self, x: Any) -> Any:
        return jnp.tanh(jnp.exp(self.log_scale) * self.w * x[0]) + self.start


class Node(cdl.Para[Any, Any]):
    """One weight used on both children, a bias chain, an integer field."""

    a: jax.Array
    b: jax.Array
    c: jax.Array
    pick: jax.Array  # integer: which child the second term reads

    def __call__(self, x: Any) -> Any:
        _, (left, right) = x
        other = jnp.where(self.pick == 0, left, right)
        z = self.a @ left + self.a @ other + self.b + self.c
        return jnp.tanh(z) * jnp.sum(self.c)


class Constant(cdl.Para[Any, Any]):
    """A leaf whose value is its parameter alone."""

    value: jax.Array

    def __call__(self, x: Any) -> Any:
        return self.value


def algebra(seed: int, constant_leaf: bool) -> cdl.Algebra[Any]:
    k = jax.random.split(jax.random.key(seed), 6)
    leaf: cdl.Para[Any, Any] = (
        Constant(jax.random.normal(k[0], (H,)))
        if constant_leaf
        else Leaf(
            jax.random.normal(k[0], (H,)),
            0.1 * jax.random.normal(k[1], ()),
            jax.random.normal(k[2], (H,)),
        )
    )
    node = Node(
        0.5 * jax.random.normal(k[3], (H, H)),
        jax.random.normal(k[4], (H,)),
        jax.random.normal(k[5], (H,)),
        jnp.int32(seed % 2),
    )
    return cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=node)


def trees(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.floats(-2, 2, allow_nan=False, width=32)
    return st.recursive(leaf, lambda t: st.tuples(t, t), max_leaves=2**depth)


def reference(alg: cdl.Algebra[Any], t: Any) -> jax.Array:
    if isinstance(t, tuple):
        kids = (reference(alg, t[0]), reference(alg, t[1]))
        return alg.cells["Node"]((jnp.zeros(0), kids))
    return alg.cells["Leaf"]((jnp.float32(t), ()))


@settings(max_examples=3, deadline=None)
@given(st.lists(trees(4), min_size=1, max_size=3), st.integers(0, 3), st.booleans())
def test_parameter_gradient_equals_plain_recursion(forest, seed, constant_leaf):
    alg = algebra(seed, constant_leaf)
    table = cdl.tree_table(cdl.TreeF, forest, forest=True)

    def loss(a: cdl.Algebra[Any]) -> jax.Array:
        return jnp.sum(jnp.sin(cdl.cata(a)(table)))

    def ref(a: cdl.Algebra[Any]) -> jax.Array:
        return sum(jnp.sum(jnp.sin(reference(a, t))) for t in forest)

    diff = eqx.is_inexact_array
    got = eqx.filter_jit(eqx.filter_grad(loss))(alg)
    want = eqx.filter_jit(eqx.filter_grad(ref))(alg)
    for g, w in zip(
        jax.tree.leaves(eqx.filter(got, diff)),
        jax.tree.leaves(eqx.filter(want, diff)),
        strict=True,
    ):
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5)


def test_a_product_before_a_bias_shares_its_perturbation():
    cell = cdl.TreeLSTMCell(4, 5, arity=0, key=jax.random.key(0))
    _, body = split(cell, (jnp.zeros(4), ()))
    sites = Sites(body)
    # One perturbation for the product and its bias; only the payload is kept
    # (the bias's cotangent reads no input).
    assert [p.shape for p in sites.perturbations] == [(15,)]
    assert [x.shape for x in sites.inputs] == [(4,)]


def test_a_cell_without_parameters_on_the_path_gets_zero():
    class Ignore(cdl.Para[Any, Any]):
        w: jax.Array

        def __call__(self, x: Any) -> Any:
            return jnp.tanh(x[0]) * jnp.ones(H)

    node = algebra(0, False).cells["Node"]
    alg = cdl.Algebra(cdl.TreeF, Leaf=Ignore(jnp.ones(H)), Node=node)
    table = cdl.tree_table(cdl.TreeF, [((0.5, 1.0), 2.0)], forest=True)
    grad = eqx.filter_grad(lambda a: jnp.sum(cdl.cata(a)(table)))(alg)
    assert float(jnp.abs(grad.cells["Leaf"].w).sum()) == 0.0
    assert float(jnp.abs(grad.cells["Node"].a).sum()) > 0.0


def test_the_backward_pass_redoes_arithmetic_rather_than_keep_it():
    # A gate and its derivative: plain vjp keeps s, 1 - s and s * (1 - s) apart;
    # under the level engine's policy only the sigmoid's output and the inputs
    # of products stay, and the pullback is the same.
    def gate(z, c):
        s = jax.nn.sigmoid(z)
        return jnp.tanh(s * c + (1 - s) * z)

    z, c = jnp.linspace(-2, 2, 5), jnp.linspace(1, 3, 5)
    plain = jax.vjp(gate, z, c)[1]
    redone = jax.vjp(jax.checkpoint(gate, policy=_saved, prevent_cse=False), z, c)[1]
    assert len(jax.tree.leaves(redone)) < len(jax.tree.leaves(plain))
    g = jnp.cos(jnp.arange(5.0))
    for x, y in zip(redone(g), plain(g), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6)


class TwoLayerLeaf(cdl.Para[Any, Any]):
    """A payload through two products with a nonlinearity between them."""

    inner: jax.Array
    outer: jax.Array

    def __call__(self, x: Any) -> Any:
        return self.outer @ jnp.tanh(self.inner * x[0])


def test_inputs_moved_from_the_cell_input_are_recomputed_the_others_kept():
    k1, k2 = jax.random.split(jax.random.key(1))
    leaf = TwoLayerLeaf(jax.random.normal(k1, (H,)), jax.random.normal(k2, (H, H)))
    _, body = split(leaf, (jnp.float32(0.0), ()))
    # The payload is read again from the table; the activation, behind a tanh,
    # is kept from the forward pass.
    assert Sites(body).recomputed == [True, False]
    node = cdl.TreeLSTMCell(0, 4, arity=2, key=jax.random.key(2))
    kids = ((jnp.zeros(4), jnp.zeros(4)),) * 2
    assert all(Sites(split(node, (jnp.zeros(0), kids))[1]).recomputed)

    alg = cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=algebra(0, False).cells["Node"])
    forest = [((0.5, -1.0), (2.0, (0.25, 1.5))), 0.75]
    table = cdl.tree_table(cdl.TreeF, forest, forest=True)
    got = eqx.filter_grad(lambda a: jnp.sum(jnp.sin(cdl.cata(a)(table))))(alg)
    want = eqx.filter_grad(
        lambda a: sum(jnp.sum(jnp.sin(reference(a, t))) for t in forest)
    )(alg)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5)
