"""para, zygo, mutu and histo over node tables against plain-Python recursion."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float

import cdl

H = 3
Vec = Float[Array, "3"]


def shapes(draw, n):
    if n == 1:
        return draw(st.floats(-2, 2, width=32))
    k = draw(st.integers(1, n - 1))
    return (shapes(draw, k), shapes(draw, n - k))


@st.composite
def trees(draw, max_leaves=10):
    return shapes(draw, draw(st.integers(1, max_leaves)))


@st.composite
def roses(draw, depth=3):
    """A term of RoseF(3) as (value, children)."""
    value = draw(st.floats(-2, 2, width=32))
    if depth == 0:
        return (value, ())
    n = draw(st.integers(0, 3))
    return (value, tuple(draw(roses(depth - 1)) for _ in range(n)))


def tree_term(t):
    if isinstance(t, tuple):
        return cdl.Layer("Node", None, (tree_term(t[0]), tree_term(t[1])))
    return cdl.Layer("Leaf", jnp.float32(t), ())


def rose_term(t):
    value, kids = t
    return cdl.Layer("Node", jnp.float32(value), tuple(rose_term(k) for k in kids))


# Plain-Python facts about terms, the reference for the table views.


def size(term):
    return 1 + sum(size(c) for c in term.children)


def height(term):
    return 1 + max((height(c) for c in term.children), default=-1)


def leaf_value(term):
    return term.payload if term.constructor == "Leaf" else jnp.float32(0.0)


class LeafCell(cdl.Para[tuple[Float[Array, ""], tuple[()]], Vec]):
    w: Vec

    def __call__(self, x):
        return jnp.tanh(self.w * x[0])


class NodeCell(cdl.Para[tuple[Float[Array, "0"], tuple[Vec, Vec]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        _, (left, right) = x
        return jnp.tanh(self.a @ left + self.b @ right)


def weights(seed):
    k = jax.random.split(jax.random.key(seed), 3)
    return (
        jax.random.normal(k[0], (H,)),
        0.6 * jax.random.normal(k[1], (H, H)),
        0.6 * jax.random.normal(k[2], (H, H)),
    )


# para: the node cell sees views of its children.


class ParaNode(cdl.Para[tuple[Float[Array, "0"], tuple[object, object]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        _, ((left, lo), (right, r)) = x
        facts = jnp.stack(
            [
                left.size.astype(jnp.float32) / 10,
                right.height.astype(jnp.float32) / 5,
                jnp.where(left.is_("Leaf"), left.payload("Leaf"), 0.0),
            ]
        )
        return jnp.tanh(self.a @ lo + self.b @ r + facts)


def ref_para(alg, term):
    if term.constructor == "Leaf":
        return alg.cells["Leaf"]((term.payload, ()))
    left, right = term.children
    node = alg.cells["Node"]
    lo, r = ref_para(alg, left), ref_para(alg, right)
    facts = jnp.stack(
        [
            jnp.float32(size(left)) / 10,
            jnp.float32(height(right)) / 5,
            leaf_value(left),
        ]
    )
    return jnp.tanh(node.a @ lo + node.b @ r + facts)


@settings(max_examples=8, deadline=None)
@given(trees(), st.integers(0, 50), st.sampled_from(["levels", "nodes"]))
def test_para_sees_the_children_subtrees(tree, seed, strategy):
    w, a, b = weights(seed)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=ParaNode(a, b))
    table = cdl.tree_table(cdl.TreeF, tree, strategy=strategy)
    got = jax.jit(lambda t: cdl.para(alg)(t))(table)
    np.testing.assert_allclose(
        got, ref_para(alg, tree_term(tree)), rtol=1e-5, atol=1e-5
    )


def test_para_gradient_matches_autodiff_of_the_reference():
    tree = ((0.5, -1.0), (0.3, (1.2, 0.7)))
    w, a, b = weights(3)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=ParaNode(a, b))
    table = cdl.tree_table(cdl.TreeF, tree)
    got = jax.grad(lambda al: cdl.para(al)(table).sum())(alg)
    expected = jax.grad(lambda al: ref_para(al, tree_term(tree)).sum())(alg)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


class RoseSum(cdl.Para[tuple[Float[Array, ""], object], Float[Array, ""]]):
    def __call__(self, x):
        payload, ((views, results), mask) = x
        weighted = results * (1 + views.size.astype(jnp.float32))
        return payload + jnp.where(mask, weighted, 0.0).sum()


def ref_rose_sum(term):
    return term.payload + sum(ref_rose_sum(c) * (1 + size(c)) for c in term.children)


@settings(max_examples=8, deadline=None)
@given(roses())
def test_para_on_rose_trees_gets_stacked_views(rose):
    functor = cdl.RoseF(3)
    alg = cdl.Algebra(functor, carrier=jnp.float32(0.0), Node=RoseSum())
    table = cdl.tree_table(functor, rose_term(rose))
    np.testing.assert_allclose(
        cdl.para(alg)(table), ref_rose_sum(rose_term(rose)), rtol=1e-5, atol=1e-4
    )


# zygo and mutu: two carriers in one pass.


class Count(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
    def __call__(self, x):
        return jnp.float32(1.0)


class AddCounts(
    cdl.Para[
        tuple[Float[Array, "0"], tuple[Float[Array, ""], Float[Array, ""]]],
        Float[Array, ""],
    ]
):
    def __call__(self, x):
        return x[1][0] + x[1][1]


class ZygoNode(cdl.Para[tuple[Float[Array, "0"], tuple[object, object]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        _, ((nl, lo), (nr, r)) = x
        return jnp.tanh(self.a @ lo / nl + self.b @ r / nr)


def leaves(term):
    return 1 if term.constructor == "Leaf" else sum(map(leaves, term.children))


def ref_zygo(alg, term):
    if term.constructor == "Leaf":
        return alg.cells["Leaf"]((term.payload, ()))
    left, right = term.children
    node = alg.cells["Node"]
    return jnp.tanh(
        node.a @ ref_zygo(alg, left) / leaves(left)
        + node.b @ ref_zygo(alg, right) / leaves(right)
    )


@settings(max_examples=8, deadline=None)
@given(trees(), st.integers(0, 50))
def test_zygo_main_cells_see_the_helper(tree, seed):
    w, a, b = weights(seed)
    count = cdl.Algebra(cdl.TreeF, Leaf=Count(), Node=AddCounts())
    main = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=ZygoNode(a, b))
    table = cdl.tree_table(cdl.TreeF, tree)
    np.testing.assert_allclose(
        cdl.zygo(count, main)(table),
        ref_zygo(main, tree_term(tree)),
        rtol=1e-5,
        atol=1e-5,
    )


class MutuLeaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
    scale: float

    def __call__(self, x):
        return self.scale * x[0]


F = Float[Array, ""]


class MutuNode(cdl.Para[tuple[Float[Array, "0"], tuple[tuple[F, F], tuple[F, F]]], F]):
    mine: int

    def __call__(self, x):
        _, ((a1, b1), (a2, b2)) = x
        if self.mine == 0:
            return a1 - b2
        return b1 * 0.5 + a2


def ref_mutu(term):
    if term.constructor == "Leaf":
        return term.payload, 2 * term.payload
    (a1, b1), (a2, b2) = map(ref_mutu, term.children)
    return a1 - b2, b1 * 0.5 + a2


@settings(max_examples=8, deadline=None)
@given(trees())
def test_mutu_each_algebra_sees_both_results(tree):
    first = cdl.Algebra(cdl.TreeF, Leaf=MutuLeaf(1.0), Node=MutuNode(0))
    second = cdl.Algebra(cdl.TreeF, Leaf=MutuLeaf(2.0), Node=MutuNode(1))
    got = cdl.mutu(first, second)(cdl.tree_table(cdl.TreeF, tree))
    expected = ref_mutu(tree_term(tree))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


# histo: each cell sees its descendants' results, `depth` generations down.


@dataclasses.dataclass
class RefHistory:
    value: object
    children: tuple


class HistoNode(cdl.Para[tuple[Float[Array, "0"], tuple[object, object]], Vec]):
    a: Float[Array, "3 3"]
    b: Float[Array, "3 3"]

    def __call__(self, x):
        _, (left, right) = x
        out = self.a @ left.value + self.b @ right.value
        if left.children:  # the grandchildren on the left, where they exist
            for g, here in zip(left.children, left.present, strict=True):
                out = out + jnp.where(here, 0.5 * g.value, 0.0)
                if g.children:
                    for gg, there in zip(g.children, g.present, strict=True):
                        out = out + jnp.where(here & there, 0.25 * gg.value, 0.0)
        return jnp.tanh(out)


def ref_histo(alg, term, depth):
    """The history of `term`, by recursion; only its first `depth` generations."""
    if term.constructor == "Leaf":
        value = alg.cells["Leaf"]((term.payload, ()))
        return RefHistory(value, ())
    left, right = (ref_histo(alg, c, depth) for c in term.children)
    node = alg.cells["Node"]
    out = node.a @ left.value + node.b @ right.value
    if depth >= 2:
        for g in left.children:
            out = out + 0.5 * g.value
            if depth >= 3:
                out = out + sum(0.25 * gg.value for gg in g.children)
    return RefHistory(jnp.tanh(out), (left, right))


@settings(max_examples=8, deadline=None)
@given(trees(), st.integers(0, 50), st.sampled_from([1, 2, 3]))
def test_histo_sees_descendants_down_to_its_depth(tree, seed, depth):
    w, a, b = weights(seed)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=HistoNode(a, b))
    table = cdl.tree_table(cdl.TreeF, tree)
    np.testing.assert_allclose(
        cdl.histo(alg, depth=depth)(table),
        ref_histo(alg, tree_term(tree), depth).value,
        rtol=1e-5,
        atol=1e-5,
    )


def test_histo_of_depth_one_is_cata():
    w, a, b = weights(4)
    histo = cdl.histo(cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=HistoNode(a, b)), 1)
    cata = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=NodeCell(a, b)))
    table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), (0.5, (0.1, 0.2))))
    np.testing.assert_allclose(histo(table), cata(table), rtol=1e-6, atol=1e-6)


def test_histo_gradient_matches_the_reference():
    tree = ((0.5, -1.0), ((0.3, 0.9), (1.2, 0.7)))
    w, a, b = weights(5)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=HistoNode(a, b))
    table = cdl.tree_table(cdl.TreeF, tree)
    got = jax.grad(lambda al: cdl.histo(al, 3)(table).sum())(alg)
    expected = jax.grad(lambda al: ref_histo(al, tree_term(tree), 3).value.sum())(alg)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


# Bad input.


def test_tree_folds_reject_wrong_input():
    w, a, b = weights(0)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=NodeCell(a, b))
    nat = cdl.Algebra(cdl.NatF, Zero=Count(), Succ=Count())
    with pytest.raises(TypeError, match="zygo needs two algebras of one functor"):
        cdl.zygo(nat, alg)
    with pytest.raises(TypeError, match="mutu needs two algebras of one functor"):
        cdl.mutu(alg, nat)
    with pytest.raises(TypeError, match="zygo over node tables needs a cdl.Algebra"):
        cdl.zygo(alg, jnp.float32(0.0))
    with pytest.raises(
        ValueError, match="histo's look-back needs a maximum size of at least 1, not 0"
    ):
        cdl.histo(alg, 0)
    # An array is one leaf's payload (the tree Leaf x): named at the leaf cell.
    with pytest.raises(
        TypeError,
        match=r"expects input \(float\[\] × \(\)\), but was given \(f32\[3,3\]",
    ):
        cdl.para(alg)(jnp.ones((3, 3)))
    table = cdl.tree_table(cdl.NatF, cdl.Layer("Zero", None, ()))
    with pytest.raises(TypeError, match="one of TreeF, but the data is a NatF"):
        cdl.para(alg)(table)


def test_tree_folds_take_terms_and_forests_as_cata_does():
    """A term, nested pairs or a list of them is stored as a table first."""
    leaf = lambda p: p[0]  # noqa: E731
    size = cdl.Algebra(cdl.TreeF, Leaf=lambda p: 1.0, Node=lambda p: p[1][0] + p[1][1])
    total = cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=lambda p: p[1][0] + 2 * p[1][1])
    seen = cdl.Algebra(  # zygo: (helper, own) per child; para: (subtree, own)
        cdl.TreeF, Leaf=leaf, Node=lambda p: p[1][0][0] * p[1][1][1] + p[1][0][1]
    )
    para = cdl.Algebra(
        cdl.TreeF, Leaf=leaf, Node=lambda p: p[1][0][0].size * p[1][1][1]
    )
    pairs = ((0.5, -1.0), 2.0)
    forest = [pairs, (1.0, (0.25, 3.0))]
    for fold, data in (
        (cdl.para(para), tree_term(pairs)), (cdl.zygo(size, seen), pairs),
        (cdl.upwards(total), forest),
    ):  # fmt: skip
        table = cdl.tree_table(cdl.TreeF, forest if data is forest else pairs,
                               forest=data is forest)  # fmt: skip
        assert np.allclose(fold(data), fold(table)), fold.label


# upwards: the fold of every node's subtree, in node order.


def ref_cata(alg, term):
    return alg(alg.functor.fmap(lambda t: ref_cata(alg, t), term))


def ref_every(alg, term):
    """`ref_cata` of every subterm, in tree_table's node order (children first)."""
    out = []

    def go(t):
        value = alg(alg.functor.fmap(go, t))
        out.append(value)
        return value

    go(term)
    return out


@settings(max_examples=5, deadline=None)
@given(st.lists(trees(8), min_size=1, max_size=3), st.integers(0, 50))
def test_upwards_folds_every_subtree_in_node_order(forest, seed):
    w, a, b = weights(seed)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=NodeCell(a, b))
    table = cdl.tree_table(cdl.TreeF, forest, forest=True)
    padded = jax.jit(lambda t: cdl.upwards(alg)(t))(table)
    # One row per node of the table's capacity; zeros past the last node.
    assert padded.shape == (table.capacity, H)
    assert not np.asarray(padded[~table.mask]).any()
    got = padded[: table.size]
    expected = jnp.stack([v for t in forest for v in ref_every(alg, tree_term(t))])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    roots = cdl.cata(alg)(table)
    np.testing.assert_allclose(got[table.size - 1], roots[-1], rtol=1e-6)


def test_upwards_gradient_of_a_loss_on_every_node():
    tree = ((0.5, -1.0), (0.3, (1.2, 0.7)))
    w, a, b = weights(6)
    alg = cdl.Algebra(cdl.TreeF, Leaf=LeafCell(w), Node=NodeCell(a, b))
    table = cdl.tree_table(cdl.TreeF, tree)
    targets = jnp.linspace(-1, 1, table.size * H).reshape(table.size, H)
    padded = table.per_node(targets)

    def ours(al):
        return (((cdl.upwards(al)(table) - padded) ** 2).sum(1) * table.mask).sum()

    def reference(al):
        out = jnp.stack(ref_every(al, tree_term(tree)))
        return ((out - targets) ** 2).sum()

    got, expected = jax.jit(jax.grad(ours))(alg), jax.grad(reference)(alg)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_bracket_labels_line_up_with_upwards():
    text = "(3 (2 It) (4 (2 's) (3 great)))\n(1 (1 so) (0 bad))"
    vocab = {"It": 1.0, "'s": 2.0, "great": 3.0, "so": 4.0, "bad": 5.0}
    terms, labels = cdl.read_brackets(
        text, lambda w: jnp.float32(vocab[w]), forest=True, labels=True
    )
    table = cdl.tree_table(cdl.TreeF, terms, forest=True)

    class Word(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
        def __call__(self, x):
            return x[0]

    class Join(
        cdl.Para[
            tuple[Float[Array, "0"], tuple[Float[Array, ""], Float[Array, ""]]],
            Float[Array, ""],
        ]
    ):
        def __call__(self, x):
            return 10 * x[1][0] + x[1][1]

    spans = cdl.upwards(cdl.Algebra(cdl.TreeF, Leaf=Word(), Node=Join()))(table)
    assert labels == ["2", "2", "3", "4", "3", "1", "0", "1"]
    np.testing.assert_allclose(spans[: table.size], [1, 2, 3, 23, 33, 4, 5, 45])
