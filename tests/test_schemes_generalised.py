"""gcata, gana and ghylo against Haskell's definitions, and quicksort by hylo.

``gcata k g = g . extract . c where c = k . fmap (duplicate . fmap g . c) .
project`` is run literally on Python terms with the identity and the cofree
comonads; cdl's laws must give the same folds (and so `cata` and `histo`).
"""

import dataclasses
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

Leaf, Node = cdl.TreeF.patterns
Nil, Cons = cdl.ListF.patterns


def fmap(f, layer):
    return cdl.Layer(layer.constructor, layer.payload, tuple(map(f, layer.children)))


def gcata_ref(comonad, g, term):
    def c(t):
        return comonad.dist(
            fmap(lambda child: comonad.duplicate(comonad.fmap(g, c(child))), t)
        )

    return g(comonad.extract(c(term)))


class Identity:
    extract = staticmethod(lambda w: w)
    duplicate = staticmethod(lambda w: w)
    fmap = staticmethod(lambda g, w: g(w))
    dist = staticmethod(lambda layer: layer)


@dataclasses.dataclass
class Cofree:  # value :< tail, the tail a layer of Cofrees
    value: Any
    tail: cdl.Layer


class CofreeComonad:
    @staticmethod
    def extract(w):
        return w.value

    @staticmethod
    def duplicate(w):
        return Cofree(w, fmap(CofreeComonad.duplicate, w.tail))

    @staticmethod
    def fmap(g, w):
        return Cofree(g(w.value), fmap(lambda x: CofreeComonad.fmap(g, x), w.tail))

    @staticmethod
    def dist(layer):  # distHisto fc = fmap extract fc :< fmap (distHisto . unwrap) fc
        return Cofree(
            fmap(CofreeComonad.extract, layer),
            fmap(lambda w: CofreeComonad.dist(w.tail), layer),
        )


@dataclasses.dataclass
class View:  # a Cofree read through cdl.History's fields, two generations deep
    value: Any
    children: tuple
    present: Any


def as_history(w, depth=2):
    kids = tuple(as_history(k, depth - 1) for k in w.tail.children) if depth > 1 else ()
    blank = View(0.0, (), np.zeros(0, bool))
    width = 2 if depth > 1 else 0
    present = np.arange(width) < len(kids)
    return View(w.value, kids + (blank,) * (width - len(kids)), present)


def grand(layer):  # reads the children's and grandchildren's results
    match layer:
        case Leaf(x):
            return x
        case Node(l, r):
            below = jnp.where(l.present[0], l.children[0].value, 0.0) + jnp.where(
                r.present[1], r.children[1].value, 0.0
            )
            return l.value - 0.5 * r.value + 0.25 * below


def size(layer):
    match layer:
        case Leaf(x):
            return x
        case Node(a, b):
            return a - 0.5 * b


@st.composite
def trees(draw, depth=4):
    if depth == 0 or draw(st.booleans()):
        return Leaf(draw(st.sampled_from([-1.0, 0.5, 2.0, 3.0])))
    return Node(draw(trees(depth - 1)), draw(trees(depth - 1)))


@settings(max_examples=8, deadline=None)
@given(trees(depth=3))  # at most 15 nodes: one table capacity, one compiled fold
def test_gcata_with_identity_and_cofree_laws_is_cata_and_histo(term):
    cata_ref = gcata_ref(Identity, size, term)
    alg = cdl.Algebra(cdl.TreeF, size)
    np.testing.assert_allclose(cdl.gcata(cdl.dist_cata, alg)(term), cata_ref, rtol=1e-6)
    np.testing.assert_allclose(cdl.cata(alg)(term), cata_ref, rtol=1e-6)

    def on_cofree(layer):
        return grand(fmap(as_history, layer))

    histo_ref = gcata_ref(CofreeComonad, on_cofree, term)
    table = cdl.tree_table(cdl.TreeF, term)
    histo = cdl.gcata(cdl.dist_histo(2), cdl.Algebra(cdl.TreeF, grand))
    np.testing.assert_allclose(histo(table), histo_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        cdl.histo(cdl.Algebra(cdl.TreeF, grand), 2)(table), histo_ref, rtol=1e-5
    )


class TreeEnv(cdl.Distributive):
    """The environment comonad of a helper fold, a law written by hand."""

    helper: cdl.Algebra

    def extract(self, w):
        return w[1]

    def lift(self, algebra, layer):
        below = tuple(b for b, _ in layer.children)
        return self.helper(cdl.Layer(layer.constructor, layer.payload, below)), algebra(
            layer
        )


def height(layer):
    match layer:
        case Leaf(_):
            return 0.0
        case Node(l, r):
            return 1.0 + jnp.maximum(l, r)


def lean(layer):
    match layer:
        case Leaf(x):
            return x
        case Node((hl, a), (hr, b)):
            return a - b * (hl - hr + 0.5)


def zygo_ref(t):  # (height, lean) by plain recursion
    if t.constructor == "Leaf":
        return 0.0, t.payload
    (hl, a), (hr, b) = map(zygo_ref, t.children)
    return 1.0 + max(hl, hr), a - b * (hl - hr + 0.5)


@settings(max_examples=6, deadline=None)
@given(trees(depth=3))
def test_a_law_written_by_hand_folds_as_the_librarys(term):
    helper, alg = cdl.Algebra(cdl.TreeF, height), cdl.Algebra(cdl.TreeF, lean)
    expected = zygo_ref(term)[1]
    mine = cdl.gcata(TreeEnv(helper), alg)(term)
    np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-6)
    theirs = cdl.gcata(cdl.dist_zygo(helper), alg)(term)
    np.testing.assert_allclose(theirs, expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(-3, 3), max_size=8))
def test_list_gcata_with_the_cofree_law_is_histo(xs):
    def cell(p):
        x, (r1, r2) = p
        return 2 * r1 - r2 + x

    def on_cofree(layer):
        if layer.constructor == "Nil":
            return 1
        w = layer.children[0]
        r2 = w.tail.children[0].value if w.tail.constructor == "Cons" else 1
        return cell((layer.payload, (w.value, r2)))

    term = Nil()
    for x in reversed(xs):
        term = Cons(x, term)
    expected = gcata_ref(CofreeComonad, on_cofree, term)
    arr = jnp.asarray(np.asarray(xs, np.int32).reshape(-1))
    law = cdl.gcata(cdl.dist_histo(2), cdl.ListAlgebra(1, cell))
    assert int(jax.jit(law)(arr)) == expected == int(cdl.histo(1, cell, 2)(arr))


def test_ghylo_is_the_fold_of_the_unfold_and_raises_when_cut_off():
    down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    fib = cdl.ListAlgebra(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1))
    ghylo = cdl.ghylo(cdl.dist_histo(2), cdl.dist_ana, fib, down, 20)
    assert [int(ghylo(jnp.int32(n))) for n in (1, 2, 10)] == [1, 2, 89]
    assert cdl.gana(cdl.dist_ana, down, 4)(jnp.int32(3)).to_list() == [3, 2, 1]
    with pytest.raises(Exception, match="cut off at max_size=5"):
        times = cdl.ListAlgebra(1, lambda p: p[0] * p[1])
        jax.jit(cdl.ghylo(cdl.dist_cata, cdl.dist_ana, times, down, 5))(jnp.int32(9))
    xs = jnp.array([4.0, 1.0, 3.0])
    suffix = cdl.ListAlgebra(0.0, lambda p: p[1][1] + p[0] * p[1][0].length)
    assert float(cdl.gcata(cdl.dist_para, suffix)(xs)) == 4 * 2 + 1 * 1
    with pytest.raises(TypeError, match="gcata needs a distributive law"):
        cdl.gcata(fib, fib)

    class Bare(cdl.Distributive):
        pass

    with pytest.raises(TypeError, match="defines neither `fold` nor `lift`"):
        cdl.gcata(Bare(), fib)(xs)


N = 8
BinF = cdl.polynomial("BinF", Tip="", Bin="a x x")
Tip, Bin = BinF.patterns


def quicksort(xs, count):
    """Quicksort as a tree hylomorphism: split at the first element, concatenate."""
    n = xs.shape[0]

    def split(left):  # a seed: which elements are left to sort
        pivot = jnp.argmax(left)
        rest = left & (jnp.arange(n) != pivot)
        seeds = jnp.stack([rest & (xs < xs[pivot]), rest & (xs >= xs[pivot])])
        return jnp.where(left.any(), 1, 0), {"Bin": xs[pivot]}, seeds

    def merge(layer):  # n slots, the first k filled
        match layer:
            case Tip():
                return jnp.zeros(n, xs.dtype), 0
            case Bin(x, (small, k), (large, m)):
                i = jnp.arange(n)
                after = large[jnp.clip(i - k - 1, 0, n - 1)]
                return jnp.where(i < k, small, jnp.where(i == k, x, after)), k + m + 1

    sort = cdl.hylo(
        cdl.Algebra(BinF, merge),
        cdl.Coalgebra(BinF, split),
        max_depth=n + 1,
        max_width=2 * n + 1,
    )
    return sort(jnp.arange(n) < count)


jitted_quicksort = eqx.filter_jit(quicksort)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=N))
def test_quicksort_by_hylo_is_sorted(values):
    xs = jnp.asarray(np.asarray(values + [0] * (N - len(values)), np.int32))
    out, count = jitted_quicksort(xs, jnp.int32(len(values)))
    assert int(count) == len(values)
    assert out[: len(values)].tolist() == sorted(values)
