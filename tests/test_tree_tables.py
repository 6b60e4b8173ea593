"""Tables built the fast way (pairs, bracket text) equal those built from terms."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

words = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "'s", "great", "ü"])
labels = st.sampled_from(["S", "NP", "0", "1", "4"])


def same_tables(a: cdl.NodeTable, b: cdl.NodeTable) -> None:
    assert (a.functor, a.capacity, a.widest) == (b.functor, b.capacity, b.widest)
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@st.composite
def pairs(draw, depth=6):
    """A TreeF term as nested pairs of floats."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.floats(-10, 10, width=32))
    return (draw(pairs(depth - 1)), draw(pairs(depth - 1)))


def as_layers(term):
    """The same term spelled with `cdl.Layer`s (the general walk)."""
    if isinstance(term, tuple):
        return cdl.Layer("Node", None, tuple(as_layers(t) for t in term))
    return cdl.Layer("Leaf", term, ())


@settings(max_examples=20, deadline=None)
@given(st.lists(pairs(), min_size=1, max_size=5), st.sampled_from(["levels", "nodes"]))
def test_pairs_give_the_table_of_their_terms(forest, strategy):
    fast = cdl.tree_table(cdl.TreeF, forest, forest=True, strategy=strategy)
    general = cdl.tree_table(
        cdl.TreeF, [as_layers(t) for t in forest], forest=True, strategy=strategy
    )
    same_tables(fast, general)
    same_tables(
        cdl.tree_table(cdl.TreeF, forest[0], buckets=None),
        cdl.tree_table(cdl.TreeF, as_layers(forest[0]), buckets=None),
    )


@st.composite
def phrase(draw, depth=5):
    """Bracket text of one tree: words, phrases of one or two children, chains."""
    kind = draw(st.integers(0, 3)) if depth else 0
    if kind == 0:
        w = draw(words)
        return f"({draw(labels)} {w})" if draw(st.booleans()) else w
    kids = [draw(phrase(depth - 1)) for _ in range(1 if kind == 1 else 2)]
    # Without a label, the first child must be a phrase (a word would be read
    # as the label).
    bare = kids[0].startswith("(") and draw(st.booleans())
    head = "( " if bare else f"({draw(labels)}"
    return head + " " + " ".join(kids) + ")"


@settings(max_examples=40, deadline=None)
@given(st.lists(phrase(), min_size=1, max_size=4))
def test_bracket_text_gives_the_table_of_its_terms(trees):
    text = "\n".join(t for t in trees if t.startswith("(")) or "(S a b)"
    n = text.count("\n") + 1
    forest = n > 1
    table, names = cdl.bracket_table(text, len, forest=forest, labels=True)
    terms, expected = cdl.read_brackets(text, len, forest=forest, labels=True)
    assert names == expected
    same_tables(table, cdl.tree_table(cdl.TreeF, terms, forest=forest))


@pytest.mark.parametrize(
    "text",
    ["", "   ", "(S (NP the)", "(S the))", "(S ())", "(S)", "(A a) (B b)",
     "(S (A a) (B b) (C c))", ") (S a)"],
)  # fmt: skip
def test_malformed_text_raises_as_the_reader_does(text):
    with pytest.raises(ValueError) as reader:
        cdl.read_brackets(text, len)
    with pytest.raises(ValueError) as fast:
        cdl.bracket_table(text, len)
    assert str(fast.value) == str(reader.value)


def test_deep_text_and_pairs_are_read_without_recursion():
    deep = 100_000
    chain = "(A " * deep + "w" + ")" * deep  # one word under a unary chain
    table, names = cdl.bracket_table(chain, len, labels=True)
    assert (table.size, names) == (1, ["A"])
    spine = "(S a " * 20_000 + "b" + ")" * 20_000  # a list-like binary tree
    assert cdl.bracket_table(spine, len).depth == 20_000
    term: object = 1.0
    for _ in range(20_000):
        term = (term, 2.0)
    assert cdl.tree_table(cdl.TreeF, term).depth == 20_000


def test_rose_functors_and_bounds_go_through_the_terms():
    rose = cdl.RoseF(3)
    text = "(S (NP (DT the) (JJ fat) (NN cat)) (VP (VBD sat)))"
    table = cdl.bracket_table(text, len, phrase=len, functor=rose)
    terms = cdl.read_brackets(text, len, phrase=len, functor=rose)
    same_tables(table, cdl.tree_table(rose, terms))
    with pytest.raises(ValueError, match="depth 2, more than the declared bound 1"):
        cdl.bracket_table("(S (A a b) c)", len, max_depth=1)


def test_payloads_are_pytrees_and_bad_ones_are_named():
    expr = cdl.polynomial("E", Lit="a", Add="x x")
    lit, add = expr.patterns
    term = add(lit({"v": 1.0, "w": np.ones(2)}), lit({"v": 2.0, "w": np.zeros(2)}))
    table = cdl.tree_table(expr, term)
    assert jax.tree.map(np.shape, table.payloads["Lit"])["w"][1:] == (2,)
    alg = cdl.Algebra(
        expr, Lit=lambda p: p[0]["v"] + p[0]["w"].sum(), Add=lambda p: p[1][0] + p[1][1]
    )
    assert float(cdl.cata(alg)(table)) == 1.0 + 2.0 + 2.0
    pairs = ({"v": 1.0}, {"v": 3.0})  # nested pairs with pytree leaves
    assert cdl.tree_table(cdl.TreeF, pairs).payloads["Leaf"]["v"][:2].tolist() == [
        1.0, 3.0,
    ]  # fmt: skip
    with pytest.raises(
        ValueError, match=r"Leaf's payload 1 has a leaf of shape \(3,\)"
    ):
        cdl.tree_table(cdl.TreeF, (np.ones(2), np.ones(3)))
    with pytest.raises(ValueError, match="Leaf's payload 1 holds a str"):
        cdl.tree_table(cdl.TreeF, (1.0, "a"))
    with pytest.raises(ValueError, match="E.Lit's payload 1 is a PyTreeDef"):
        cdl.tree_table(expr, add(lit({"v": 1.0}), lit((1.0,))))
