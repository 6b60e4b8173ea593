"""General unfolds against plain-Python recursion, on random structures."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax.test_util import check_grads
from jaxtyping import Array, Bool, Float

import cdl

H = 3
N = 32  # rows of a random coalgebra's table (padded)
D, W = 7, 16  # the unfolds' bounds
Vec = Float[Array, "3"]
Scalar = Float[Array, ""]
Empty = Float[Array, "0"]

EXPR = cdl.polynomial("ExprF", Num="a", Neg="x", Op="a x x")
ROSE = cdl.RoseF(3)
FUNCTORS = {"tree": cdl.TreeF, "rose": ROSE, "expr": EXPR}


# Cells: nonlinear and order-sensitive, so a wrong child or payload shows.


class Leaf(cdl.Para[tuple[Scalar, tuple[()]], Vec]):
    w: Vec

    def __call__(self, x):
        return jnp.tanh(self.w * x[0])


class Node(cdl.Para[tuple[Empty, tuple[Vec, Vec]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        _, (left, right) = x
        return jnp.tanh(self.a @ left + self.b @ right)


class Rose(cdl.Para[tuple[Scalar, tuple[Float[Array, "3 3"], Bool[Array, "3"]]], Vec]):
    w: Vec
    m: Float[Array, "3 3 3"]

    def __call__(self, x):
        p, (kids, mask) = x
        mixed = jnp.einsum("jab,jb->ja", self.m, kids)
        return jnp.tanh(self.w * p + jnp.where(mask[:, None], mixed, 0.0).sum(0))


class Neg(cdl.Para[tuple[Empty, tuple[Vec]], Vec]):
    c: Float[Array, "3 3"]

    def __call__(self, x):
        return -jnp.tanh(self.c @ x[1][0])


class Op(cdl.Para[tuple[Scalar, tuple[Vec, Vec]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        p, (left, right) = x
        return jnp.tanh(p * (self.a @ left) + self.b @ right)


def algebra(name: str, seed: int) -> cdl.Algebra:
    k = jax.random.split(jax.random.key(seed), 4)

    def mat(key, *shape):
        return 0.7 * jax.random.normal(key, shape)

    if name == "tree":
        return cdl.Algebra(
            cdl.TreeF,
            Leaf=Leaf(mat(k[0], H)),
            Node=Node(mat(k[1], H, H), mat(k[2], H, H)),
        )
    if name == "rose":
        return cdl.Algebra(
            ROSE, carrier=jnp.zeros(H), Node=Rose(mat(k[0], H), mat(k[1], 3, H, H))
        )
    return cdl.Algebra(
        EXPR,
        Num=Leaf(mat(k[0], H)),
        Neg=Neg(mat(k[1], H, H)),
        Op=Op(mat(k[2], H, H), mat(k[3], H, H)),
    )


# Random terms, and coalgebras that unfold them from a table.


@st.composite
def terms(draw, functor, max_nodes=20, max_depth=6):
    # Nodes still to be had; a node's children are paid for when it is drawn,
    # so the term never has more than `max_nodes` nodes.
    budget = [draw(st.integers(1, max_nodes)) - 1]

    def grow(depth):
        choices = [
            c
            for c in functor.constructors
            if c.arity == 0 or (budget[0] >= c.arity and depth < max_depth)
        ] or [c for c in functor.constructors if c.variadic]
        c = draw(st.sampled_from(choices))
        n = c.arity
        if c.variadic:
            n = draw(st.integers(0, min(c.arity, budget[0])))
            if depth >= max_depth:
                n = 0
        budget[0] -= n
        payload = (
            jnp.float32(draw(st.floats(-2, 2, width=32, allow_subnormal=False)))
            if c.payload
            else None
        )
        return cdl.Layer(c.name, payload, tuple(grow(depth + 1) for _ in range(n)))

    return grow(0)


def encode(functor, term):
    """A table whose row `i` is node `i` of `term` (depth first)."""
    k = max(c.arity for c in functor.constructors)
    tags = np.zeros(N, np.int32)
    pays = np.zeros(N, np.float32)
    kids = np.zeros((N, k), np.int32)
    counts = np.zeros(N, np.int32)
    rows = [0]

    def visit(t):
        i = rows[0]
        rows[0] += 1
        tags[i] = functor.tag(t.constructor)
        pays[i] = 0.0 if t.payload is None else float(t.payload)
        counts[i] = len(t.children)
        for j, child in enumerate(t.children):
            kids[i, j] = visit(child)
        return i

    visit(term)
    return tuple(jnp.asarray(a) for a in (tags, pays, kids, counts))


def table_step(functor, table, scale=1.0):
    tags, pays, kids, counts = table

    def step(i):
        payloads = {c.name: scale * pays[i] for c in functor.constructors if c.payload}
        return tags[i], payloads, kids[i], counts[i]

    return step


def ref_ana(functor, step, seed):
    """The unfold by plain recursion: ``ana = fmap(ana) . step``."""
    out = step(seed)
    c = functor.constructors[int(out[0])]
    n = min(int(out[3]), c.arity) if c.variadic and len(out) == 4 else c.arity
    seeds = out[2]
    kids = tuple(
        ref_ana(functor, step, jax.tree.map(lambda s, j=j: s[j], seeds))
        for j in range(n)
    )
    return cdl.Layer(c.name, out[1][c.name] if c.payload else None, kids)


def ref_cata(alg, term):
    """cata = alg . fmap(cata), by plain recursion."""
    return alg(alg.functor.fmap(lambda t: ref_cata(alg, t), term))


def same(a, b):
    assert a.constructor == b.constructor
    if a.payload is None or b.payload is None:
        assert a.payload is None and b.payload is None
    else:
        np.testing.assert_allclose(a.payload, b.payload, rtol=1e-6)
    assert len(a.children) == len(b.children)
    for x, y in zip(a.children, b.children, strict=True):
        same(x, y)


def shape_of(term):
    """Number of levels and the width of each."""
    widths, level = [], [term]
    while level:
        widths.append(len(level))
        level = [c for t in level for c in t.children]
    return widths


@eqx.filter_jit
def unfold(functor, table, seed):
    coalg = cdl.Coalgebra(functor, table_step(functor, table))
    return cdl.ana(coalg, max_depth=D, max_width=W)(seed)


@eqx.filter_jit
def fold_three_ways(alg, table):
    coalg = cdl.Coalgebra(alg.functor, table_step(alg.functor, table))
    tree = cdl.ana(coalg, max_depth=D, max_width=W)(jnp.int32(0))
    return cdl.cata(alg)(tree), cdl.hylo(alg, coalg, max_depth=D, max_width=W)(
        jnp.int32(0)
    )


def fits(term):
    widths = shape_of(term)
    return len(widths) <= D and max(widths) <= W


functor_terms = st.sampled_from(sorted(FUNCTORS)).flatmap(
    lambda name: st.tuples(st.just(name), terms(FUNCTORS[name]))
)


@settings(max_examples=12, deadline=None)
@given(functor_terms)
def test_ana_matches_the_recursive_unfold(named):
    name, term = named
    functor = FUNCTORS[name]
    table = encode(functor, term)
    tree = unfold(functor, table, jnp.int32(0))
    assert bool(tree.truncated) == (not fits(term))
    if fits(term):
        got = tree.to_terms()
        same(got, term)
        same(got, ref_ana(functor, table_step(functor, table), jnp.int32(0)))
        assert tree.to_table().size == sum(shape_of(term))
        np.testing.assert_array_equal(
            np.asarray(tree.valid.sum(1))[: len(shape_of(term))], shape_of(term)
        )


@settings(max_examples=10, deadline=None)
@given(functor_terms, st.integers(0, 50))
def test_cata_of_ana_is_hylo_is_the_recursion(named, seed):
    name, term = named
    if not fits(term):
        return
    alg = algebra(name, seed)
    table = encode(alg.functor, term)
    via_tree, via_hylo = fold_three_ways(alg, table)
    expected = ref_cata(alg, term)
    np.testing.assert_allclose(via_tree, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(via_hylo, expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=6, deadline=None)
@given(terms(cdl.TreeF))
def test_hylo_solves_its_equation(term):
    # h = alg . fmap(h) . coalg, checked at the root with h run on the children.
    if not fits(term):
        return
    alg = algebra("tree", 3)
    table = encode(cdl.TreeF, term)
    step = table_step(cdl.TreeF, table)

    def h(seed):
        return hylo_at(alg, table, seed)

    tag, payloads, seeds, _ = step(jnp.int32(0))
    name = cdl.TreeF.names[int(tag)]
    arity = cdl.TreeF.constructor(name).arity
    layer = cdl.Layer(
        name, payloads.get(name), tuple(h(seeds[j]) for j in range(arity))
    )
    np.testing.assert_allclose(h(jnp.int32(0)), alg(layer), rtol=1e-5, atol=1e-6)


@eqx.filter_jit
def hylo_at(alg, table, seed):
    coalg = cdl.Coalgebra(alg.functor, table_step(alg.functor, table))
    return cdl.hylo(alg, coalg, max_depth=D, max_width=W)(seed)


class Sum(cdl.Para[tuple[Empty, tuple[Scalar, Scalar]], Scalar]):
    def __call__(self, x):
        return x[1][0] + x[1][1]


class Prod(cdl.Para[tuple[Empty, tuple[Scalar, Scalar]], Scalar]):
    def __call__(self, x):
        return x[1][0] * x[1][1]


class Id(cdl.Para[tuple[Scalar, tuple[()]], Scalar]):
    def __call__(self, x):
        return x[0]


class Exp(cdl.Para[tuple[Scalar, tuple[()]], Scalar]):
    def __call__(self, x):
        return jnp.exp(x[0])


@settings(max_examples=6, deadline=None)
@given(terms(cdl.TreeF))
def test_cata_fusion(term):
    # exp . sum = prod . fmap(exp), so exp . cata(sum) = cata(prod, exp).
    if not fits(term):
        return
    tree = unfold(cdl.TreeF, encode(cdl.TreeF, term), jnp.int32(0))
    total = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=Id(), Node=Sum()))(tree)
    product = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=Exp(), Node=Prod()))(tree)
    np.testing.assert_allclose(jnp.exp(total), product, rtol=1e-4)


@settings(max_examples=6, deadline=None)
@given(
    terms(cdl.TreeF, max_nodes=30, max_depth=9), st.integers(1, 8), st.integers(1, 8)
)
def test_truncation_is_flagged(term, depth, width):
    widths = shape_of(term)
    table = encode(cdl.TreeF, term)
    coalg = cdl.Coalgebra(cdl.TreeF, table_step(cdl.TreeF, table))
    tree = cdl.ana(coalg, max_depth=depth, max_width=width)(jnp.int32(0))
    too_wide = any(w > width for w in widths[:depth])
    assert bool(tree.too_wide) == too_wide
    assert bool(tree.truncated) == (too_wide or len(widths) > depth)
    if not too_wide:
        assert bool(tree.too_deep) == (len(widths) > depth)
    if bool(tree.truncated):
        with pytest.raises(ValueError, match="cut off"):
            tree.to_terms()
        alg = cdl.Algebra(cdl.TreeF, Leaf=Id(), Node=Sum())
        with pytest.raises(eqx.EquinoxRuntimeError, match="was cut off by max_depth"):
            cdl.hylo(alg, coalg, max_depth=depth, max_width=width)(jnp.int32(0))


@settings(max_examples=4, deadline=None)
@given(terms(cdl.TreeF, max_nodes=24, max_depth=7), st.data())
def test_one_width_per_level(term, data):
    widths = tuple(shape_of(term))
    table = encode(cdl.TreeF, term)
    coalg = cdl.Coalgebra(cdl.TreeF, table_step(cdl.TreeF, table))
    tree = cdl.ana(coalg, max_depth=len(widths), max_width=widths)(jnp.int32(0))
    assert tree.widths == widths and not bool(tree.truncated)
    same(tree.to_terms(), term)
    alg = algebra("tree", 5)
    np.testing.assert_allclose(
        cdl.cata(alg)(tree), ref_cata(alg, term), rtol=1e-5, atol=1e-5
    )
    wide = [d for d, w in enumerate(widths) if w > 1]
    if wide:
        d = data.draw(st.sampled_from(wide))
        narrow = widths[:d] + (widths[d] - 1,) + widths[d + 1 :]
        cut = cdl.ana(coalg, max_depth=len(widths), max_width=narrow)(jnp.int32(0))
        assert bool(cut.too_wide)


def from_tuples(t):
    if isinstance(t, tuple):
        return cdl.Layer("Node", None, (from_tuples(t[0]), from_tuples(t[1])))
    return cdl.Layer("Leaf", jnp.float32(t), ())


def test_vmap_over_a_forest_of_seeds():
    forest = [from_tuples(t) for t in [(1.0, (2.0, 3.0)), 4.0, ((5.0, 6.0), 7.0)]]
    # One table holding the three trees one after the other.
    sizes = [sum(shape_of(t)) for t in forest]
    starts = np.cumsum([0, *sizes[:-1]])
    parts = [encode(cdl.TreeF, t) for t in forest]
    table = tuple(
        jnp.concatenate(
            [
                p[f][:n] + (o if f == 2 else 0)
                for p, n, o in zip(parts, sizes, starts, strict=True)
            ]
        )
        for f in range(4)
    )
    coalg = cdl.Coalgebra(cdl.TreeF, table_step(cdl.TreeF, table))
    roots = jnp.asarray(starts, jnp.int32)
    trees = eqx.filter_jit(jax.vmap(cdl.ana(coalg, max_depth=4, max_width=8)))(roots)
    assert trees.truncated.shape == (3,)
    alg = algebra("tree", 7)
    folded = jax.vmap(cdl.cata(alg))(trees)
    hylo = cdl.hylo(alg, coalg, max_depth=4, max_width=8)
    hylo = eqx.filter_jit(jax.vmap(lambda r: hylo(r)))(roots)
    for i, term in enumerate(forest):
        one = jax.tree.map(lambda x, i=i: x[i], trees)
        same(one.to_terms(), term)
        expected = ref_cata(alg, term)
        np.testing.assert_allclose(folded[i], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(hylo[i], expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="a batch"):
        trees.to_terms()


# Gradients: a coalgebra with float seeds, so they flow through the seeds too.


class Split(cdl.Para[tuple[Scalar, Float[Array, ""]], object]):
    a: Scalar
    b: Scalar

    def __call__(self, seed):
        h, x = seed
        kids = (jnp.stack([h - 1, h - 1]), jnp.stack([self.a * x, self.b * x + 1.0]))
        return jnp.where(h <= 0, 0, 1), {"Leaf": jnp.sin(x)}, kids


def ref_hylo(alg, split, seed):
    tag, payloads, (hs, xs), *_ = split(seed)
    if int(tag) == 0:
        return alg(cdl.Layer("Leaf", payloads["Leaf"], ()))
    kids = tuple(ref_hylo(alg, split, (hs[j], xs[j])) for j in range(2))
    return alg(cdl.Layer("Node", None, kids))


def test_gradients_match_the_recursion_and_finite_differences():
    alg = algebra("tree", 4)
    split = Split(jnp.float32(0.8), jnp.float32(-0.6))
    seed = (jnp.float32(3.0), jnp.float32(0.7))
    weights = jnp.arange(1.0, H + 1)

    def loss(a, s):
        h = cdl.hylo(a, cdl.Coalgebra(cdl.TreeF, s), max_depth=4, max_width=8)
        return h(seed) @ weights

    got = jax.grad(loss, argnums=(0, 1))(alg, split)
    expected = jax.grad(lambda a, s: ref_hylo(a, s, seed) @ weights, argnums=(0, 1))(
        alg, split
    )
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)

    def by_arrays(w, ab):
        a = eqx.tree_at(lambda a: a.cells["Leaf"].w, alg, w)
        return loss(a, Split(ab[0], ab[1]))

    check_grads(
        eqx.filter_jit(by_arrays),
        (alg.cells["Leaf"].w, jnp.array([0.8, -0.6])),
        order=1,
        modes=["rev"],
        atol=2e-2,
        rtol=2e-2,
    )


# apo: insertion into a search tree, the rest copied from the old tree.

BST = cdl.polynomial("BST", Tip="", Bin="a x x")


def build(seed):
    lo, hi = seed[0], seed[1]
    mid = (lo + hi) // 2
    seeds = jnp.stack([jnp.stack([lo, mid]), jnp.stack([mid + 1, hi])])
    return jnp.where(lo < hi, 1, 0), {"Bin": mid}, seeds


def ref_insert(t, v):
    if t.constructor == "Tip":
        return cdl.Layer("Bin", v, (t, t))
    left, right = t.children
    if v < int(t.payload):
        return cdl.Layer("Bin", t.payload, (ref_insert(left, v), right))
    return cdl.Layer("Bin", t.payload, (left, ref_insert(right, v)))


def inserter(old, v):
    def insert(seed):
        tag, payloads, kids, _ = old.at(seed[0])
        key = payloads["Bin"]
        left = jnp.stack([kids[0], (v >= key).astype(jnp.int32)])
        right = jnp.stack([kids[1], (v < key).astype(jnp.int32)])
        at_tip = tag == 0
        tip = jnp.stack([seed[0], jnp.int32(1)])
        seeds = jnp.where(at_tip, jnp.stack([tip, tip]), jnp.stack([left, right]))
        return 1, {"Bin": jnp.where(at_tip, v, key)}, seeds

    return insert


@eqx.filter_jit
def insert(n, v):
    old = cdl.ana(cdl.Coalgebra(BST, build), max_depth=6, max_width=16)(
        jnp.stack([jnp.int32(0), n])
    )
    apo = cdl.apo(
        cdl.Coalgebra(BST, inserter(old, v)),
        lambda s: s[1] == 1,
        lambda s: s[0],
        old,
        max_depth=7,
        max_width=16,
    )
    return old, apo(jnp.array([0, 0]))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 12), st.integers(-1, 14))
def test_apo_inserts_into_a_search_tree(n, v):
    # Keys 0..n-1 in a balanced tree; insert v; compare with the recursion.
    old, new = insert(jnp.int32(n), jnp.int32(v))
    assert not bool(new.truncated)
    expected = ref_insert(old.to_terms(), v)
    same(new.to_terms(), expected)


def test_apo_that_never_finishes_is_ana_and_copying_the_root_is_the_source():
    old = cdl.ana(cdl.Coalgebra(BST, build), max_depth=5, max_width=16)(
        jnp.array([0, 9])
    )
    coalg = cdl.Coalgebra(BST, build)
    never = cdl.apo(coalg, lambda s: False, lambda s: 0, old, max_depth=5, max_width=16)
    same(never(jnp.array([0, 9])).to_terms(), old.to_terms())
    root = cdl.apo(coalg, lambda s: True, lambda s: 0, old, max_depth=5, max_width=16)
    same(root(jnp.array([3, 4])).to_terms(), old.to_terms())
    # Re-unfolding a structure from its own layers gives it back.
    again = cdl.ana(cdl.Coalgebra(BST, old.at), max_depth=5, max_width=16)(jnp.int32(0))
    same(again.to_terms(), old.to_terms())


# futu: the step hands over some children as whole layers.


def look_ahead(functor, table, bits):
    tags, pays, kids, counts = table
    layer = table_step(functor, table)

    def step(i):
        below = jax.vmap(layer)(kids[i])
        ahead = bits[i] & (jnp.arange(kids.shape[1]) < counts[i])
        return layer(i), below, ahead

    return step


@eqx.filter_jit
def grow_ahead(functor, table, bits):
    coalg = cdl.Coalgebra(functor, look_ahead(functor, table, bits))
    return cdl.futu(coalg, max_depth=D, max_width=W)(jnp.int32(0))


def ref_futu(functor, step, seed):
    """``futu = fmap(either(id-of-layer, futu)) . step``, by plain recursion."""
    top, below, ahead = step(seed)

    def grow(layer, child):
        c = functor.constructors[int(layer[0])]
        n = min(int(layer[3]), c.arity) if c.variadic else c.arity
        return cdl.Layer(
            c.name,
            layer[1][c.name] if c.payload else None,
            tuple(
                child(jax.tree.map(lambda s, j=j: s[j], layer[2]), j) for j in range(n)
            ),
        )

    def child(s, j):
        if bool(ahead[j]):
            one = jax.tree.map(lambda x: x[j], below)
            return grow(one, lambda s2, _: ref_futu(functor, step, s2))
        return ref_futu(functor, step, s)

    return grow(top, child)


@settings(max_examples=8, deadline=None)
@given(functor_terms, st.integers(0, 2**16))
def test_futu_matches_the_recursion(named, bits_seed):
    name, term = named
    functor = FUNCTORS[name]
    if not fits(term):
        return
    table = encode(functor, term)
    k = table[2].shape[1]
    bits = jnp.asarray(np.random.default_rng(bits_seed).random((N, k)) < 0.5)
    step = look_ahead(functor, table, bits)
    tree = grow_ahead(functor, table, bits)
    assert not bool(tree.truncated)
    got = tree.to_terms()
    same(got, term)
    same(got, ref_futu(functor, step, jnp.int32(0)))


# Errors.


def grow_tree(h):
    return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])


def test_bounds_must_be_positive_and_given():
    coalg = cdl.Coalgebra(cdl.TreeF, grow_tree)
    with pytest.raises(
        ValueError, match="ana's depth needs a maximum size of at least"
    ):
        cdl.ana(coalg, max_depth=0, max_width=4)
    with pytest.raises(
        ValueError, match="hylo's width needs a maximum size of at least"
    ):
        cdl.hylo(algebra("tree", 0), coalg, max_depth=3, max_width=0)
    with pytest.raises(TypeError, match="needs max_depth= and max_width="):
        cdl.futu(coalg, max_depth=3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="one width per level: 3 for max_depth=3"):
        cdl.ana(coalg, max_depth=3, max_width=(1, 2))
    with pytest.raises(TypeError, match="copies finished subtrees from a source"):
        cdl.apo(coalg, lambda s: False, lambda s: 0, 5, max_depth=3, max_width=4)


def test_a_tag_out_of_range_is_an_error_under_jit():
    coalg = cdl.Coalgebra(cdl.TreeF, lambda h: (h, {"Leaf": h}, jnp.stack([h, h])))
    run = eqx.filter_jit(cdl.ana(coalg, max_depth=3, max_width=4))
    with pytest.raises(eqx.EquinoxRuntimeError, match="tag outside 0..1"):
        jax.block_until_ready(run(jnp.int32(5)))


def test_malformed_steps_are_rejected():
    def no_payload(h):
        return 0, {}, jnp.stack([h, h])

    def flat_seeds(h):
        return 0, {"Leaf": h}, h

    with pytest.raises(TypeError, match="missing \\['Leaf'\\]"):
        cdl.ana(cdl.Coalgebra(cdl.TreeF, no_payload), max_depth=2, max_width=2)(
            jnp.int32(0)
        )
    with pytest.raises(TypeError, match="first axis of length 2"):
        cdl.ana(cdl.Coalgebra(cdl.TreeF, flat_seeds), max_depth=2, max_width=2)(
            jnp.int32(0)
        )
    with pytest.raises(TypeError, match="returns \\(tag, payloads, seeds\\)"):
        cdl.ana(cdl.Coalgebra(cdl.TreeF, lambda h: h), max_depth=2, max_width=2)(
            jnp.int32(0)
        )


def test_functors_must_agree():
    tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow_tree), max_depth=3, max_width=4)(
        jnp.int32(2)
    )
    with pytest.raises(TypeError, match="the algebra is one of ExprF, but the data"):
        cdl.cata(algebra("expr", 0))(tree)
    with pytest.raises(TypeError, match="coalgebra of TreeF"):
        cdl.hylo(
            algebra("expr", 0),
            cdl.Coalgebra(cdl.TreeF, grow_tree),
            max_depth=3,
            max_width=4,
        )
    with pytest.raises(TypeError, match="source of TreeF"):
        cdl.apo(
            cdl.Coalgebra(BST, build),
            lambda s: False,
            lambda s: 0,
            tree,
            max_depth=3,
            max_width=4,
        )


def test_list_unfolds_keep_their_behaviour():
    down = cdl.ListCoalgebra(
        cdl.Copy() >> (cdl.Identity() @ cdl.Bias((), -1.0)), lambda s: s <= 0
    )
    out = cdl.ana(down, max_size=5)(jnp.float32(3.0))
    assert isinstance(out, cdl.PaddedList)
    assert int(out.length) == 3
    with pytest.raises(TypeError, match="takes the arguments of the list version"):
        cdl.ana(down)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="takes the arguments of the list version"):
        cdl.ana(down, max_depth=3, max_width=2)  # type: ignore[call-overload]
    coalg = cdl.Coalgebra(cdl.TreeF, grow_tree)
    with pytest.raises(TypeError, match="needs max_depth= and max_width="):
        cdl.ana(coalg, 5, max_depth=3, max_width=2)  # type: ignore[call-overload]


def test_folding_an_unfolded_checks_and_widens_the_carrier_as_tables_do():
    def grow(h):
        stop = jnp.where(h == 0, 0, 1)
        return stop, {"Leaf": jnp.float32(1.0)}, jnp.stack([h - 1, h - 1])

    down = cdl.Coalgebra(cdl.TreeF, grow)
    tree = cdl.ana(down, max_depth=4, max_width=8)(jnp.int32(3))
    halves = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: p[0].astype(jnp.int32),
        Node=lambda p: p[1][0] + 0.5 * p[1][1],
    )  # fmt: skip
    want = float(cdl.cata(halves)(tree.to_table()))
    assert want == 1.5**3  # nothing truncated to the leaves' int
    assert float(cdl.cata(halves)(tree)) == want
    assert float(cdl.hylo(halves, down, max_depth=4, max_width=8)(jnp.int32(3))) == want
    grows = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: jnp.full(3, p[0]),
        Node=lambda p: jnp.concatenate(p[1]),
    )  # fmt: skip
    with pytest.raises(TypeError, match=r"Node returns f32\[6\], but the carrier"):
        cdl.cata(grows)(tree)


def test_seeds_may_come_one_per_child():
    def grow(h):  # Haskell's `Node (h - 1) (h - 1)`, and pairs of seeds
        return jnp.where(h == 0, 0, 1), {"Leaf": h.astype(float)}, (h - 1, h - 1)

    count = cdl.Algebra(cdl.TreeF, Leaf=lambda p: 1.0, Node=lambda p: sum(p[1]))
    leaves = cdl.hylo(count, cdl.Coalgebra(cdl.TreeF, grow), max_depth=5, max_width=16)
    assert float(leaves(jnp.int32(3))) == 8.0

    def halves(span):  # a seed that is itself a pair: one pair per child
        lo, hi = span
        mid = (lo + hi) // 2
        return (
            jnp.where(hi - lo <= 1, 0, 1),
            {"Leaf": lo.astype(float)},
            [
                (lo, mid),
                (mid, hi),
            ],
        )

    total = cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: sum(p[1]))
    fold = cdl.hylo(total, cdl.Coalgebra(cdl.TreeF, halves), max_depth=5, max_width=8)
    assert float(fold((jnp.int32(0), jnp.int32(6)))) == sum(range(6))


def test_a_step_branching_in_python_is_named():
    def grow(h):
        if h == 0:
            return 0, {"Leaf": 1.0}, jnp.stack([h, h])
        return 1, {"Leaf": 0.0}, jnp.stack([h - 1, h - 1])

    with pytest.raises(TypeError, match=r"Coalgebra\(TreeF; step\) branches in Python"):
        cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=3, max_width=4)(jnp.int32(2))

    def countdown(n):
        return (n, n - 1) if n > 0 else (n, n)

    listed = cdl.ListCoalgebra(countdown, lambda n: n <= 0)
    with pytest.raises(TypeError, match="branches in Python"):
        cdl.ana(listed, max_size=4)(jnp.int32(3))
