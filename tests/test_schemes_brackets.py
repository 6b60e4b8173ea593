"""Bracketed parse trees read back as the trees they print."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

words = st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "'s", "great"])
labels = st.sampled_from(["S", "NP", "VP", "0", "1", "2", "3", "4"])


@st.composite
def binary(draw, depth=4):
    """A binary tree with labelled phrases and preterminals, and its leaf words."""
    if depth == 0 or draw(st.booleans()):
        w = draw(words)
        return f"({draw(labels)} {w})", w
    (left, a), (right, b) = draw(binary(depth - 1)), draw(binary(depth - 1))
    return f"({draw(labels)} {left} {right})", (a, b)


def shape_of(term):
    if term.constructor == "Leaf":
        return str(term.payload)
    return tuple(shape_of(c) for c in term.children)


@settings(max_examples=30, deadline=None)
@given(binary())
def test_binary_trees_read_back_as_their_shape(tree):
    text, shape = tree
    term = cdl.read_brackets(text, str)
    assert shape_of(term) == shape


@settings(max_examples=20, deadline=None)
@given(st.lists(binary(3), min_size=1, max_size=4))
def test_a_forest_is_one_table_with_a_root_per_tree(trees):
    text = "\n".join(t for t, _ in trees)
    vocab = {}
    terms = cdl.read_brackets(
        text, lambda w: np.float32(vocab.setdefault(w, len(vocab))), forest=True
    )
    table = cdl.tree_table(cdl.TreeF, terms, forest=True)
    assert table.roots.shape == (len(trees),)


def test_unary_chains_collapse_and_rose_trees_keep_labels():
    term = cdl.read_brackets("(ROOT (S (NP (DT the) (NN cat)) (VP (VBD sat))))", str)
    assert shape_of(term) == (("the", "cat"), "sat")
    rose = cdl.RoseF(3)
    tags = {"ROOT": 0.0, "S": 1.0, "NP": 2.0, "VP": 3.0}
    term = cdl.read_brackets(
        "(S (NP (DT the) (JJ fat) (NN cat)) (VP (VBD sat)))",
        lambda w: jnp.float32(len(w)),
        phrase=lambda label: jnp.float32(-tags[label]),
        functor=rose,
    )
    table = cdl.tree_table(rose, term)
    assert table.size == 7  # unary VP kept: rose trees keep every phrase
    np.testing.assert_allclose(
        sorted(np.asarray(table.payloads["Node"][: table.size])),
        sorted([-1.0, -2.0, -3.0, 3.0, 3.0, 3.0, 3.0]),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "it is empty"),
        ("(S (NP the)", "the '\\(' at character 0 is never closed"),
        ("(S the))", "a '\\)' at character 7 closes nothing"),
        ("(S ())", "the phrase at character 3 is empty"),
        ("(A a) (B b)", "holds 2 trees: pass forest=True"),
        ("(S (A a) (B b) (C c))", "has 3 children, but a TreeF node takes 2"),
    ],
)
def test_malformed_text_is_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        cdl.read_brackets(text, str)


def test_rose_trees_need_phrase_payloads_and_room():
    with pytest.raises(ValueError, match="pass `phrase`"):
        cdl.read_brackets("(S (A a) (B b))", str, functor=cdl.RoseF(2))
    with pytest.raises(ValueError, match="more than RoseF's 2"):
        cdl.read_brackets(
            "(S (A a) (B b) (C c))", str, phrase=str, functor=cdl.RoseF(2)
        )
    with pytest.raises(ValueError, match="reads TreeF or a functor with one variadic"):
        cdl.read_brackets("(S (A a) (B b))", str, phrase=str, functor=cdl.NatF)


def test_a_phrase_nested_100000_deep_is_read():
    depth = 100_000
    chain = "(A " * depth + "x" + ")" * depth
    assert cdl.read_brackets(chain, str) == cdl.Layer("Leaf", "x", ())
    spine = "(A (B w) " * depth + "(B w)" + ")" * depth
    term, labels = cdl.read_brackets(spine, lambda w: 1.0, labels=True)
    assert len(labels) == 2 * depth + 1
    table = cdl.tree_table(cdl.TreeF, term)
    assert (table.size, table.depth) == (2 * depth + 1, depth)
