"""Forward-mode derivatives of tree folds (jax.jvp, jax.jacfwd), and the clear
errors for the derivatives the level engine cannot take (a reverse derivative of a
forward one, a second reverse derivative)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns


def _alg(layer):
    match layer:
        case Leaf(x):
            return jnp.tanh(x)
        case Node(a, b):
            return jnp.sin(a) * b + a


def _ref(t):
    if t.constructor == "Leaf":
        return jnp.tanh(t.payload)
    a, b = map(_ref, t.children)
    return jnp.sin(a) * b + a


FOLD = cdl.cata(cdl.Algebra(cdl.TreeF, _alg))
TERM = Node(Node(Leaf(1.0), Leaf(2.0)), Node(Leaf(3.0), Node(Leaf(4.0), Leaf(0.5))))
ONES = jax.tree.map(jnp.ones_like, TERM)


def _close(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def test_jvp_and_jacfwd_of_a_fold_equal_the_recursion():
    _close(jax.jvp(FOLD, (TERM,), (ONES,)), jax.jvp(_ref, (TERM,), (ONES,)))
    # around a jitted fold, and jitted itself
    _close(
        jax.jvp(eqx.filter_jit(FOLD), (TERM,), (ONES,)),
        jax.jvp(_ref, (TERM,), (ONES,)),
    )
    _close(jax.jit(jax.jacfwd(FOLD))(TERM), jax.jacfwd(_ref)(TERM))


def test_jacfwd_of_a_learned_fold_equals_jacrev():
    k1, k2 = jax.random.split(jax.random.key(0))
    alg = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(1, 3, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k2),
    )
    table = cdl.tree_table(cdl.TreeF, ((jnp.ones(1), jnp.zeros(1)), jnp.ones(1)))
    params, rest = eqx.partition(alg, eqx.is_inexact_array)

    def f(p):
        return cdl.cata(eqx.combine(p, rest))(table)

    _close(jax.jacfwd(f)(params), jax.jacrev(f)(params))


def test_a_cell_closing_over_the_differentiated_value():
    table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0))

    def g(w):
        a = cdl.Algebra(
            cdl.TreeF,
            Leaf=lambda p: w * p[0],
            Node=lambda p: jnp.tanh(p[1][0] * p[1][1]) + w,
        )
        return cdl.cata(a)(table)

    def ref(w):
        return jnp.tanh((jnp.tanh(w * w * 2) + w) * (w * 3)) + w

    _close(jax.jvp(g, (0.7,), (1.0,)), jax.jvp(ref, (0.7,), (1.0,)))


def test_second_derivatives_work_forward_over_reverse_and_say_so_otherwise():
    _close(jax.hessian(FOLD)(TERM), jax.hessian(_ref)(TERM))
    with pytest.raises(TypeError, match=r"Algebra\(TreeF.*jax\.hessian"):
        jax.jacrev(jax.jacfwd(FOLD))(TERM)
    with pytest.raises(TypeError, match=r"Algebra\(TreeF.*jax\.hessian"):
        jax.jacrev(jax.jacrev(FOLD))(TERM)


def _swap(layer):
    match layer:
        case Leaf(x):
            return Leaf(x * 0.5)
        case Node(l, r):
            return Node(r, l)


def _swap_ref(t):
    kids = [_swap_ref(c) for c in t.children]
    if t.constructor == "Leaf":
        return Leaf(t.payload * 0.5)
    return Node(kids[1], kids[0])


def _prepro_ref(t):
    if t.constructor == "Leaf":
        return t.payload
    a, b = [_prepro_ref(_swap_ref(c)) for c in t.children]
    return a - 2 * b


def test_jvp_of_prepro_after_a_plain_call():
    def shape(layer):
        match layer:
            case Leaf(x):
                return x
            case Node(a, b):
                return a - 2 * b

    pre = cdl.prepro(_swap, cdl.Algebra(cdl.TreeF, shape))
    term = Node(Node(Leaf(1.0), Leaf(2.0)), Node(Leaf(3.0), Leaf(4.0)))
    assert float(pre(term)) == pytest.approx(float(_prepro_ref(term)))  # compiled
    ones = jax.tree.map(jnp.ones_like, term)
    _close(jax.jvp(pre, (term,), (ones,)), jax.jvp(_prepro_ref, (term,), (ones,)))
