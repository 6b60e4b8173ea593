"""prepro, postpro and hoist with natural transformations that change constructors.

Each is checked against Haskell's recursive definition, run on Python terms:
``hoist k = cata (embed . k)``, ``prepro k f = f . fmap (prepro k f . hoist k) .
project`` and ``postpro k g = embed . fmap (hoist k . postpro k g) . g``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

Nil, Cons = cdl.ListF.patterns
BinF = cdl.polynomial("BinF", Tip="", Bin="a x x")
Tip, Bin = BinF.patterns


# Plain recursion on terms: a layer's children are terms, fmap maps over them.
def fmap(f, t):
    return cdl.Layer(t.constructor, t.payload, tuple(f(c) for c in t.children))


def hoist_ref(k, t):
    return k(fmap(lambda c: hoist_ref(k, c), t))


def prepro_ref(k, f, t):
    return f(fmap(lambda c: prepro_ref(k, f, hoist_ref(k, c)), t))


def postpro_ref(k, g, s):
    return fmap(lambda c: hoist_ref(k, postpro_ref(k, g, c)), g(s))


# One transformation, written twice: for cdl (traced, with choose) and plain.
def swap_cut(limit):
    def k(layer):
        match layer:
            case Bin(x, l, r):
                return cdl.choose(x > limit, Tip(), Bin(x + 0.5, r, l))
            case _:
                return layer

    def k_ref(t):
        if t.constructor == "Bin" and t.payload > limit:
            return Tip()
        if t.constructor == "Bin":
            return Bin(t.payload + 0.5, t.children[1], t.children[0])
        return t

    return k, k_ref


def weigh(layer):
    match layer:
        case Tip():
            return 0.25
        case Bin(x, a, b):
            return x + 0.5 * a - 0.25 * b


def weigh_ref(t):
    if t.constructor == "Tip":
        return 0.25
    a, b = t.children
    return t.payload + 0.5 * a - 0.25 * b


CUTS = {limit: swap_cut(limit) for limit in (0.7, 1.2, 2.5, 9.0)}


@st.composite
def bins(draw, depth=4):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return Tip()
    x = draw(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0]))
    return Bin(x, draw(bins(depth - 1)), draw(bins(depth - 1)))


@settings(max_examples=8, deadline=None)
@given(bins(depth=3))
def test_tree_prepro_with_a_cutting_transformation_is_its_definition(term):
    k, k_ref = CUTS[1.2]
    expected = prepro_ref(k_ref, weigh_ref, term)
    scheme = cdl.prepro(k, cdl.Algebra(BinF, weigh))
    np.testing.assert_allclose(scheme(term), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(bins(), st.sampled_from(sorted(CUTS)))
def test_tree_prepro_is_its_definition_for_every_cut_also_under_jit(term, limit):
    k, k_ref = CUTS[limit]
    expected = prepro_ref(k_ref, weigh_ref, term)
    scheme = cdl.prepro(k, cdl.Algebra(BinF, weigh))
    np.testing.assert_allclose(scheme(term), expected, rtol=1e-5, atol=1e-6)
    traced = eqx.filter_jit(scheme)(cdl.tree_table(BinF, term))
    np.testing.assert_allclose(traced, expected, rtol=1e-5, atol=1e-6)


def cut_list(layer):
    match layer:
        case Cons(x, rest):
            return cdl.choose(x > 1.5, Nil(), Cons(x + 0.5, rest))
        case _:
            return layer


def cut_list_ref(t):
    if t.constructor == "Cons":
        x = t.payload
        return Nil() if x > 1.5 else Cons(x + 0.5, t.children[0])
    return t


@jax.jit
def list_prepro_and_postpro(values, n):
    """prepro of the list `values[:n]`, and postpro of its unfold (one compile)."""
    mix = cdl.ListAlgebra(0.0, lambda p: p[0] - 0.5 * p[1])
    folded = cdl.prepro(cut_list, mix)(cdl.PaddedList(values, n))
    walk = cdl.ListCoalgebra(lambda i: (values[i], i + 1), lambda i: i >= n)
    return folded, cdl.postpro(cut_list, walk, max_size=9)(jnp.int32(0))


@settings(max_examples=8, deadline=None)
@given(st.lists(st.floats(-2, 2, width=32), max_size=8))
def test_list_prepro_and_postpro_end_where_an_element_becomes_nil(xs):
    def f_ref(t):
        return 0.0 if t.constructor == "Nil" else t.payload - 0.5 * t.children[0]

    term = Nil()
    for x in reversed(xs):
        term = Cons(np.float32(x), term)
    values = np.zeros(9, np.float32)  # one more: the step runs past the end
    values[: len(xs)] = xs
    folded, out = list_prepro_and_postpro(jnp.asarray(values), jnp.int32(len(xs)))
    expected = prepro_ref(cut_list_ref, f_ref, term)
    np.testing.assert_allclose(folded, expected, rtol=1e-5, atol=1e-6)

    def g_ref(i):  # the list xs again, as an unfold of positions
        return Nil() if i >= len(xs) else Cons(np.float32(xs[i]), i + 1)

    def items(t):
        out = []
        while t.constructor == "Cons":
            out.append(float(t.payload))
            (t,) = t.children
        return out

    assert not bool(out.truncated)
    np.testing.assert_allclose(
        [float(v) for v in out.to_list()], items(postpro_ref(cut_list_ref, g_ref, 0))
    )


def grow(n):  # a complete tree of the seeds n < 7, labelled by n
    return (
        jnp.where(n < 7, 1, 0),
        {"Bin": n.astype(jnp.float32)},
        jnp.stack([2 * n + 1, 2 * n + 2]),
    )


def grow_ref(n):
    return Bin(float(n), 2 * n + 1, 2 * n + 2) if n < 7 else Tip()


def same_term(a, b):
    assert a.constructor == b.constructor
    if a.payload is not None:
        np.testing.assert_allclose(a.payload, b.payload, rtol=1e-6)
    assert len(a.children) == len(b.children)
    for x, y in zip(a.children, b.children, strict=True):
        same_term(x, y)


@pytest.mark.parametrize(
    "limit", [1.2, *(pytest.param(x, marks=pytest.mark.slow) for x in (0.7, 2.5, 9.0))]
)
def test_tree_postpro_and_hoist_of_an_unfold_are_their_definitions(limit):
    k, k_ref = CUTS[limit]
    coalg = cdl.Coalgebra(BinF, grow)

    @jax.jit
    def schemes(seed):  # postpro, and hoist and prepro of the plain unfold
        tree = cdl.ana(coalg, max_depth=4, max_width=8)(seed)
        out = cdl.postpro(k, coalg, max_depth=4, max_width=8)(seed)
        folded = cdl.prepro(k, cdl.Algebra(BinF, weigh))(tree)
        return out, tree, cdl.hoist(BinF, k)(tree), folded

    out, tree, hoisted, folded = schemes(jnp.int32(0))
    same_term(out.to_terms(), postpro_ref(k_ref, grow_ref, 0))
    term = tree.to_terms()
    same_term(hoisted.to_terms(), hoist_ref(k_ref, term))
    same_term(cdl.hoist(BinF, k)(term), hoist_ref(k_ref, term))
    np.testing.assert_allclose(folded, prepro_ref(k_ref, weigh_ref, term), rtol=1e-5)


def test_a_transformation_that_ends_an_endless_unfold_clears_the_cut():
    k, _ = CUTS[2.5]
    endless = cdl.Coalgebra(
        BinF, lambda n: (1, {"Bin": n.astype(float)}, jnp.stack([n + 1, n + 1]))
    )

    @jax.jit
    def both(seed):
        cut = cdl.postpro(k, endless, max_depth=6, max_width=32)(seed)
        return cut, cdl.postpro(
            lambda layer: layer, endless, max_depth=6, max_width=32
        )(seed)

    cut, kept = both(jnp.int32(0))
    assert not bool(cut.truncated)
    # The node at depth d is Bin(d), transformed d times: d, d + 0.5, … until
    # over 2.5: Bins at depths 0 to 2, Tips at depth 3.
    assert cut.valid.sum(axis=1).tolist() == [1, 2, 4, 8, 0, 0]
    assert cut.tags[3, :8].tolist() == [0] * 8
    assert bool(kept.truncated)  # without the cut, the endless unfold stays cut off


def test_tree_prepro_differentiates_as_its_definition():
    k, k_ref = swap_cut(1.2)

    def term(v):  # the Bins' payloads in tree_table's node order (children first)
        return Bin(
            v[3], Bin(v[1], Tip(), Bin(v[0], Tip(), Tip())), Bin(v[2], Tip(), Tip())
        )

    v = jnp.array([1.0, 0.25, -1.0, 0.5])
    table = cdl.tree_table(BinF, term(np.asarray(v)))
    nodes = table.nodes[: table.size]
    slots = table.rows.slots[nodes[table.rows.tags[nodes] == 1]]
    scheme = cdl.prepro(k, cdl.Algebra(BinF, weigh))

    def folded(v):
        payloads = jnp.asarray(table.payloads["Bin"]).at[slots].set(v)
        return scheme(eqx.tree_at(lambda t: t.payloads["Bin"], table, payloads))

    expected = jax.grad(lambda v: prepro_ref(k_ref, weigh_ref, term(v)))(v)
    np.testing.assert_allclose(jax.jit(jax.grad(folded))(v), expected, rtol=1e-5)
    bounded = cdl.prepro(k, cdl.Algebra(BinF, weigh), max_depth=3)
    traced = eqx.filter_jit(bounded)(table)  # under jit the depth is data
    np.testing.assert_allclose(traced, prepro_ref(k_ref, weigh_ref, term(v)), rtol=1e-6)
    with pytest.raises(Exception, match="deeper than max_depth=2"):
        cdl.prepro(k, cdl.Algebra(BinF, weigh), max_depth=2)(table)


ROSE = cdl.RoseF(3)
(RNode,) = ROSE.patterns


def drop_first(layer):  # a node over 2 loses its first child
    match layer:
        case RNode(x, kids):
            return cdl.choose(x > 2, RNode(x + 1, kids[1:]), RNode(x + 1, kids))


def drop_first_ref(t):
    kids = t.children[1:] if t.payload > 2 else t.children
    return RNode(t.payload + 1, list(kids))


def rose_total(layer):
    match layer:
        case RNode(x, (kids, mask)):
            return x + 0.5 * jnp.where(mask, kids, 0.0).sum()


def rose_total_ref(t):
    return t.payload + 0.5 * sum(t.children)


@st.composite
def roses(draw, depth=3):
    x = draw(st.sampled_from([0.0, 1.0, 2.5]))
    n = 0 if depth == 0 else draw(st.integers(0, 3))
    return RNode(x, [draw(roses(depth - 1)) for _ in range(n)])


@settings(max_examples=6, deadline=None)
@given(roses(depth=2))  # at most 13 nodes: one table capacity
def test_rose_tree_prepro_drops_a_run_of_children_as_its_definition(term):
    alg = cdl.Algebra(ROSE, rose_total, carrier=jnp.float32(0))
    got = cdl.prepro(drop_first, alg)(term)
    expected = prepro_ref(drop_first_ref, rose_total_ref, term)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    hoisted = cdl.hoist(ROSE, drop_first)(term)
    assert hoisted == hoist_ref(drop_first_ref, term)


def test_rose_tree_postpro_is_its_definition():
    def count_down(n):  # n has min(n, 3) children n-1, n-2, …
        kids = jnp.stack([n - 1, n - 2, n - 3])
        return 0, {"Node": n.astype(jnp.float32)}, kids, jnp.minimum(n, 3)

    def count_down_ref(n):
        return RNode(float(n), [n - j for j in range(1, min(n, 3) + 1)])

    unfold = cdl.postpro(
        drop_first, cdl.Coalgebra(ROSE, count_down), max_depth=5, max_width=16
    )
    out = jax.jit(unfold)(jnp.int32(4))
    assert not bool(out.truncated)
    same_term(out.to_terms(), postpro_ref(drop_first_ref, count_down_ref, 4))


def test_transformations_that_are_not_natural_are_clear_errors():
    alg = cdl.Algebra(BinF, weigh)
    half = cdl.lift(
        lambda x: 0.5 * x,
        dom=cdl.space_of(jnp.float32(0)),
        cod=cdl.space_of(jnp.float32(0)),
    )
    with pytest.raises(TypeError, match="transforms a list's elements"):
        cdl.prepro(half, alg)
    made = cdl.prepro(lambda layer: Bin(1.0, Tip(), Tip()), alg)
    with pytest.raises(TypeError, match="not make new ones"):
        made(Bin(1.0, Tip(), Tip()))
    reshaped = cdl.prepro(
        lambda layer: (
            Bin(jnp.zeros(2), *layer.children) if layer.constructor == "Bin" else layer
        ),
        alg,
    )
    with pytest.raises(TypeError, match="payload in"):
        reshaped(Bin(1.0, Tip(), Tip()))
    rose = cdl.Algebra(ROSE, lambda layer: 0.0, carrier=jnp.float32(0))
    reverse = cdl.prepro(lambda t: RNode(t.payload, t.children[::-1]), rose)
    with pytest.raises(TypeError, match="keep a run of them"):
        reverse(RNode(1.0, [RNode(2.0, [])]))
    shared = Bin(1.0, Tip(), Tip())
    term = Bin(0.0, shared, Bin(0.0, shared, Tip()))
    with pytest.raises(Exception, match="shared at two different depths"):
        cdl.prepro(lambda layer: layer, alg)(term)
