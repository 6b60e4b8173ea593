"""Terms are pytrees: folds of terms under `jax.jit` and `jax.grad`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

ExprF = cdl.polynomial("ExprF", Lit="a", Add="x x", Mul="x x")
Lit, Add, Mul = ExprF.patterns
Nil, Cons = cdl.ListF.patterns


def evaluate(layer):
    match layer:
        case Lit(n):
            return n
        case Add(a, b):
            return a + b
        case Mul(a, b):
            return a * b


def reference(term):
    """Plain recursion over the term (differentiable: a term is a pytree)."""
    match term:
        case Lit(n):
            return n
        case Add(a, b):
            return reference(a) + reference(b)
        case Mul(a, b):
            return reference(a) * reference(b)


@st.composite
def exprs(draw, depth=2):
    if depth == 0 or draw(st.booleans()):
        return Lit(draw(st.floats(-2, 2, width=32)))
    make = draw(st.sampled_from([Add, Mul]))
    return make(draw(exprs(depth=depth - 1)), draw(exprs(depth=depth - 1)))


FOLD = cdl.cata(cdl.Algebra(ExprF, evaluate))


def test_a_term_is_a_pytree_of_its_payloads():
    term = Mul(Add(Lit(2.0), Lit(3.0)), Lit(4.0))
    assert jax.tree.leaves(term) == [2.0, 3.0, 4.0]
    scaled = jax.tree.map(lambda x: 10 * x, term)
    assert scaled == Mul(Add(Lit(20.0), Lit(30.0)), Lit(40.0))


@settings(max_examples=5, deadline=None)
@given(term=exprs())
def test_a_jitted_fold_of_a_term_and_its_gradient_are_plain_recursion(term):
    value, grad = jax.jit(jax.value_and_grad(FOLD))(term)
    np.testing.assert_allclose(value, reference(term), rtol=1e-5, atol=1e-5)
    want = jax.grad(reference)(term)
    assert jax.tree.structure(grad) == jax.tree.structure(term)
    np.testing.assert_allclose(
        jax.tree.leaves(grad), jax.tree.leaves(want), rtol=1e-5, atol=1e-5
    )


def test_nested_pairs_under_jit_and_grad():
    fold = cdl.cata(
        cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0] * p[1][1])
    )
    pairs = ((2.0, 3.0), 4.0)
    value, grad = jax.jit(jax.value_and_grad(fold))(pairs)
    assert float(value) == 24.0
    assert jax.tree.leaves(grad) == [12.0, 8.0, 6.0]


def test_list_terms_under_jit_for_both_kinds_of_list_algebra():
    term = Cons(2.0, Cons(3.0, Cons(4.0, Nil())))
    plain = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] * 10 + p[1]))
    matched = cdl.cata(
        cdl.Algebra(cdl.ListF, Nil=lambda p: 0.0, Cons=lambda p: p[0] * 10 + p[1][0])
    )
    for fold in (plain, matched):
        assert float(fold(term)) == 90.0
        assert float(jax.jit(fold)(term)) == 90.0
        assert jax.tree.leaves(jax.grad(fold)(term)) == [10.0, 10.0, 10.0]
    assert float(plain(Nil())) == 0.0


def test_a_list_term_of_other_constructors_is_named():
    fold = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))
    with pytest.raises(TypeError, match="built of Cons and ending in Nil.*'Lit'"):
        fold(Cons(1.0, Lit(2.0)))


def test_a_forest_of_terms_under_jit():
    fold = cdl.cata(
        cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0] - p[1][1])
    )
    forest = [(1.0, 2.0), (jnp.float32(5.0), (1.0, 1.0))]
    assert jax.jit(fold)(forest).tolist() == [-1.0, 5.0]


def test_a_fold_over_the_naturals_takes_a_python_int():
    Zero, Succ = cdl.NatF.patterns
    double = cdl.cata(
        cdl.Algebra(cdl.NatF, Zero=lambda p: 1.0, Succ=lambda p: 2.0 * p[1][0])
    )
    assert [float(double(n)) for n in range(6)] == [2.0**n for n in range(6)]
    assert float(double(np.int64(3))) == float(double(Succ(Succ(Succ(Zero())))))
    with pytest.raises(ValueError, match="-1 is no natural number of NatF"):
        double(-1)
    with pytest.raises(TypeError, match="folds natural numbers of NatF: an int"):
        double(True)
    with pytest.raises(TypeError, match="int outside `jax.jit`"):
        jax.jit(double)(3)


def test_a_tree_histo_without_its_depth_asks_for_it():
    alg = cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0].value)
    with pytest.raises(TypeError, match=r"needs its depth: .* histo\(algebra, depth\)"):
        cdl.histo(alg)


def test_a_term_thousands_of_levels_deep_folds_as_its_table() -> None:
    # Nested tuples 5,000 deep: the call's input checks walk them without
    # recursion (they raised RecursionError), as the table builder does.
    k1, k2 = jax.random.split(jax.random.key(0))
    alg = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(1, 3, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k2),
    )
    term: object = np.ones(1, np.float32)
    for i in range(5_000):
        term = (term, np.full(1, np.sin(i), np.float32))
    folded = cdl.cata(alg)(term)
    table = cdl.tree_table(cdl.TreeF, term)
    np.testing.assert_allclose(folded, cdl.cata(alg)(table), rtol=1e-6)
