"""Plain and matching cells, bounds that are never silent, and the short-cut schemes.

Each is checked against plain Python recursion, under `jit`, `vmap` and `grad` as
`cdl.Para` cells are.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float
from returns.result import Failure, Success

import cdl

Scalar = Float[Array, ""]
Leaf, Node = cdl.TreeF.patterns
floats = st.lists(st.floats(-3, 3, width=32), min_size=0, max_size=8)


class Mix(cdl.Para[tuple[Scalar, Scalar], Scalar]):
    def __call__(self, x):
        return jnp.tanh(x[0] - 0.5 * x[1])


def mix(p):
    return jnp.tanh(p[0] - 0.5 * p[1])


def fold_ref(nil, cons, xs):
    return nil if not xs else cons((xs[0], fold_ref(nil, cons, xs[1:])))


PLAIN = cdl.cata(cdl.ListAlgebra(0.3, mix))
PARA = cdl.cata(cdl.ListAlgebra(jnp.float32(0.3), Mix()))


@jax.jit
def plain_and_para(values, length):
    """Both folds and their gradients, on one padded list (one compile)."""

    def grad(fold):
        return jax.grad(lambda v: fold(cdl.PaddedList(v, length)))(values)

    padded = cdl.PaddedList(values, length)
    return PLAIN(padded), PARA(padded), grad(PLAIN), grad(PARA)


@settings(max_examples=10, deadline=None)
@given(floats)
def test_a_plain_cell_folds_as_its_para_twin_and_as_recursion(xs):
    values = np.zeros(8, np.float32)
    values[: len(xs)] = xs
    plain, para, g_plain, g_para = plain_and_para(
        jnp.asarray(values), jnp.int32(len(xs))
    )
    expected = fold_ref(jnp.float32(0.3), mix, list(jnp.asarray(values[: len(xs)])))
    np.testing.assert_allclose(plain, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain, para, rtol=1e-6)
    np.testing.assert_allclose(g_plain, g_para, rtol=1e-6)
    assert not np.any(np.asarray(g_plain)[len(xs) :])  # the padding has no gradient


def test_plain_cells_batch_and_differentiate_as_para_cells():
    xs = jax.random.normal(jax.random.key(0), (4, 6))
    plain = cdl.cata(cdl.ListAlgebra(0.0, mix))
    para = cdl.cata(cdl.ListAlgebra(jnp.float32(0.0), Mix()))
    np.testing.assert_allclose(jax.vmap(plain)(xs), jax.vmap(para)(xs), rtol=1e-6)
    g = jax.jit(jax.vmap(jax.grad(plain)))(xs)
    np.testing.assert_allclose(g, jax.vmap(jax.grad(para))(xs), rtol=1e-6)


def test_a_cell_typed_any_to_any_passes_its_own_check():
    class Sum(cdl.Para[Any, Any]):
        def __call__(self, x):
            return x[0] + x[1]

    assert float(cdl.cata(cdl.ListAlgebra(0.0, Sum()))(jnp.arange(4.0))) == 6.0


def test_an_int_nil_is_promoted_to_the_cells_float_carrier():
    total = cdl.cata(cdl.ListAlgebra(0, lambda p: p[0] + p[1]))
    assert total(jnp.array([0.5, 1.0])).dtype == jnp.float32


def test_a_cell_that_changes_the_carrier_is_a_clear_error():
    bad = cdl.cata(cdl.ListAlgebra(0.0, lambda p: jnp.stack([p[0], p[1]])))
    with pytest.raises(TypeError, match="the carrier starts in f32.. but the step"):
        bad(jnp.arange(3.0))
    with pytest.raises(TypeError, match="cons must be a cdl.Para or a function"):
        cdl.ListAlgebra(0.0, 3)


def size(layer):
    match layer:
        case Leaf(x):
            return x
        case Node(l, r):
            return l + r


def tree_ref(t):
    match t:
        case Leaf(x):
            return x
        case Node(l, r):
            return tree_ref(l) + tree_ref(r)


@st.composite
def trees(draw, depth=4):
    if depth == 0 or draw(st.booleans()):
        return Leaf(draw(st.floats(-2, 2, width=32)))
    return Node(draw(trees(depth - 1)), draw(trees(depth - 1)))


@settings(max_examples=8, deadline=None)
@given(trees())
def test_a_matching_algebra_folds_terms_as_recursion(term):
    alg = cdl.Algebra(cdl.TreeF, size)
    np.testing.assert_allclose(
        cdl.cata(alg)(term), tree_ref(term), rtol=1e-5, atol=1e-6
    )


def test_a_matching_algebra_runs_each_case_once_per_constructor_under_jit():
    seen = []

    def counted(layer):
        seen.append(layer.constructor)
        return size(layer)

    alg = cdl.Algebra(cdl.TreeF, counted)
    table = cdl.tree_table(cdl.TreeF, Node(Leaf(1.0), Node(Leaf(2.0), Leaf(3.0))))
    fold = eqx.filter_jit(cdl.cata(alg))
    assert float(fold(table)) == 6.0
    assert sorted(set(seen)) == ["Leaf", "Node"]
    grads = eqx.filter_jit(eqx.filter_grad(lambda t: cdl.cata(alg)(t).sum()))(table)
    assert float(grads.payloads["Leaf"].sum()) == 3.0


def test_matching_and_cells_together_are_rejected():
    with pytest.raises(TypeError, match="either one function"):
        cdl.Algebra(cdl.TreeF, size, Leaf=lambda x: x[0])


def test_collatz_of_27_cut_off_is_flagged_and_its_fold_raises():
    step = lambda n: (n, jnp.where(n % 2 == 0, n // 2, 3 * n + 1))  # noqa: E731
    collatz = cdl.ListCoalgebra(step, lambda n: n == 1)
    whole = cdl.ana(collatz, max_size=120)(jnp.int32(27))
    assert not bool(whole.truncated) and int(whole.length) == 111
    cut = cdl.ana(collatz, max_size=20)(jnp.int32(27))
    assert bool(cut.truncated)
    count = cdl.cata(cdl.ListAlgebra(0, lambda p: p[1] + 1))
    with pytest.raises(Exception, match="cut off at max_size=20"):
        eqx.filter_jit(count)(cut)
    batch = jax.vmap(cdl.ana(collatz, max_size=20))(jnp.array([1, 2, 27]))
    assert batch.truncated.tolist() == [False, False, True]


@pytest.mark.parametrize("accumulate", [False, True])
def test_hylo_of_factorial_10_cut_at_3_raises_under_jit(accumulate):
    down = cdl.ListCoalgebra(lambda n: (n, n - 1.0), lambda n: n <= 0)
    times = cdl.ListAlgebra(1.0, lambda p: p[0] * p[1])
    hylo = cdl.hylo(times, down, max_size=3, accumulate=accumulate)
    with pytest.raises(Exception, match="cut off at max_size=3"):
        jax.jit(hylo)(jnp.float32(10.0))
    whole = cdl.hylo(times, down, max_size=10, accumulate=accumulate)
    assert float(jax.jit(whole)(jnp.float32(10.0))) == 3628800.0


def test_postpro_keeps_the_flag():
    double = cdl.lift(
        lambda x: 2 * x,
        dom=cdl.space_of(jnp.float32(0)),
        cod=cdl.space_of(jnp.float32(0)),
    )
    ones = cdl.ListCoalgebra(lambda n: (jnp.float32(1.0), n - 1), lambda n: n <= 0)
    assert bool(cdl.postpro(double, ones, 3)(jnp.int32(5)).truncated)
    assert not bool(cdl.postpro(double, ones, 5)(jnp.int32(5)).truncated)


DOWN = cdl.ListCoalgebra(lambda k: (k, k - 1), lambda k: k <= 0)


def two_back(p):
    return 2 * p[1][0] - p[1][1] + p[0]


@jax.jit
def dyna_and_histo(n):
    dyna = cdl.dyna(1, two_back, 2, DOWN, 16)(n)
    return dyna, cdl.histo(1, two_back, 2)(cdl.ana(DOWN, 16)(n))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 12))
def test_dyna_is_histo_after_ana(n):
    dyna, histo = dyna_and_histo(jnp.int32(n))
    assert int(dyna) == int(histo)

    def ref(k):  # the cell on k, with the results on k-1 and k-2 (1 past the end)
        if k <= 0:
            return 1
        return 2 * ref(k - 1) - (ref(k - 2) if k > 1 else 1) + k

    assert int(dyna) == ref(n)


@jax.jit
def elgot_and_coelgot(xs, n, start):
    """The two schemes on a list `xs[:n]` padded to 8 (one compile for all)."""
    walk = cdl.ListCoalgebra(lambda i: (xs[i], i + 1), lambda i: i >= n)
    plus = cdl.ListAlgebra(0, lambda p: p[0] + p[1])
    exit_, result = (lambda i: xs[i] == 0), (lambda i: 100 * i)
    got = cdl.elgot(plus, walk, exit_, result, 8)(start)
    weighted = cdl.coelgot(0, lambda p: p[0] * p[1][0] + p[1][1], walk, 8)(start)
    return got, weighted


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=7), st.integers(0, 6))
def test_elgot_and_coelgot_match_their_recursive_definitions(values, start):
    n = len(values)
    xs = jnp.asarray(values + [7] * (8 - n), jnp.int32)
    got, weighted = elgot_and_coelgot(xs, jnp.int32(n), jnp.int32(start))

    def elgot_ref(i):
        if i >= n:
            return 0
        if values[i] == 0:
            return 100 * i
        return values[i] + elgot_ref(i + 1)

    assert int(got) == elgot_ref(start)

    def coelgot_ref(i):
        return 0 if i >= n else i * values[i] + coelgot_ref(i + 1)

    assert int(weighted) == coelgot_ref(start)


def test_cata_m_sequences_effects_and_stops_at_a_failure():
    Nil, Cons = cdl.ListF.patterns
    calls = []

    def checked(layer):
        match layer:
            case Nil():
                return Success(0)
            case Cons(x, total):
                calls.append(x)
                return Failure(f"negative {x}") if x < 0 else Success(x + total)

    fold = cdl.cataM(cdl.ListF, checked)
    assert fold([1, 2, 3]) == Success(6)
    calls.clear()
    assert fold([1, -2, 3, -4]) == Failure("negative -4")
    assert calls == [-4]
    deep = list(range(5000))
    assert fold(deep) == Success(sum(deep))
