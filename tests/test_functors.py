"""Functor laws for every base functor, on random layers."""

import jax
import pytest
from hypothesis import given, settings, strategies as st

import cdl

FUNCTORS = [
    cdl.ListF,
    cdl.NonEmptyF,
    cdl.TreeF,
    cdl.StreamF,
    cdl.NatF,
    cdl.RoseF(3),
    cdl.MealyF(2),
    cdl.MooreF(3),
    cdl.polynomial("ExprF", Num="a", Neg="x", Op="a x x"),
]


@st.composite
def layers(draw, functor):
    c = draw(st.sampled_from(functor.constructors))
    n = draw(st.integers(0, c.arity)) if c.variadic else c.arity
    payload = draw(st.integers()) if c.payload else None
    children = tuple(draw(st.lists(st.integers(), min_size=n, max_size=n)))
    return cdl.Layer(c.name, payload, children)


functions = st.sampled_from(
    [lambda x: x + 1, lambda x: 2 * x, lambda x: -x, lambda x: x * x, abs]
)


@pytest.mark.parametrize("functor", FUNCTORS, ids=lambda f: f.name)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_fmap_preserves_identity(functor, data):
    layer = data.draw(layers(functor))
    assert functor.fmap(lambda x: x, layer) == layer


@pytest.mark.parametrize("functor", FUNCTORS, ids=lambda f: f.name)
@settings(max_examples=30, deadline=None)
@given(data=st.data(), f=functions, g=functions)
def test_fmap_preserves_composition(functor, data, f, g):
    layer = data.draw(layers(functor))
    assert functor.fmap(lambda x: g(f(x)), layer) == functor.fmap(
        g, functor.fmap(f, layer)
    )


@pytest.mark.parametrize("functor", FUNCTORS, ids=lambda f: f.name)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_fmap_keeps_constructor_and_payload(functor, data):
    layer = data.draw(layers(functor))
    out = functor.fmap(str, layer)
    assert (out.constructor, out.payload) == (layer.constructor, layer.payload)
    assert out.children == tuple(str(c) for c in layer.children)


def test_wrong_arity_and_unknown_constructor_are_rejected():
    with pytest.raises(ValueError, match="TreeF.Node takes 2 recursive field"):
        cdl.TreeF.fmap(str, cdl.Layer("Node", None, (1,)))
    with pytest.raises(KeyError, match="TreeF has no constructor 'Fork'"):
        cdl.TreeF.fmap(str, cdl.Layer("Fork", None, (1, 2)))
    with pytest.raises(ValueError, match="RoseF.Node takes 2"):
        cdl.RoseF(2).fmap(str, cdl.Layer("Node", 0, (1, 2, 3)))


def test_polynomial_declarations():
    f = cdl.polynomial("F", A="", B="a x x x", C="x*4")
    assert [(c.payload, c.arity, c.variadic) for c in f.constructors] == [
        (False, 0, False),
        (True, 3, False),
        (False, 4, True),
    ]
    with pytest.raises(ValueError, match="fields are 'a'"):
        cdl.polynomial("G", A="a a")
    with pytest.raises(ValueError, match="must be its only recursive field"):
        cdl.polynomial("G", A="x x*3")


BinF = cdl.polynomial("BinF", Tip="", Bin="x a x")
RoseLast = cdl.polynomial("RoseLast", Node="x*3 a")


@st.composite
def bin_terms(draw, depth=4):
    """Random terms of ``Tip | Bin x a x`` with their plain-Python reading."""
    tip, bin_ = BinF.patterns
    if depth == 0 or draw(st.booleans()):
        return tip()
    left = draw(bin_terms(depth - 1))
    right = draw(bin_terms(depth - 1))
    return bin_(left, draw(st.integers(-5, 5)), right)


def test_payload_stands_where_it_is_declared():
    tip, bin_ = BinF.patterns
    assert repr(BinF) == "BinF = Tip() | Bin(x a x)"
    assert repr(RoseLast) == "RoseLast = Node(x*3 a)"
    term = bin_(tip(), 7, tip())
    assert term == cdl.Layer("Bin", 7, (tip(), tip()))
    match term:
        case bin_(left, a, right):
            assert (left, a, right) == (tip(), 7, tip())
    (node,) = RoseLast.patterns
    assert node(tip(), tip(), 3) == cdl.Layer("Node", 3, (tip(), tip()))
    assert node([tip()], 3) == cdl.Layer("Node", 3, (tip(),))
    with pytest.raises(TypeError, match=r"Bin\(x a x\) takes 3 fields, but 2"):
        bin_(tip(), 1)
    with pytest.raises(ValueError, match="place 3 is outside 0..2"):
        cdl.Constructor("Bin", payload=True, arity=2, payload_at=3)


def _middle(layer):  # not symmetric: swapping the fields changes the result
    tip, bin_ = BinF.patterns
    match layer:
        case tip():
            return 1
        case bin_(left, a, right):
            return 3 * left + a - right


# A fold of plain functions is hashable, so `jax.jit` takes it (and keeps one
# program per table capacity across examples).
_fold_middle = jax.jit(cdl.cata(cdl.Algebra(BinF, _middle)))


@settings(max_examples=15, deadline=None)
@given(term=bin_terms())
def test_a_fold_of_payloads_in_the_middle_is_plain_recursion(term):
    tip, bin_ = BinF.patterns

    def reference(t):
        match t:
            case tip():
                return 1
            case bin_(left, a, right):
                return 3 * reference(left) + a - reference(right)

    assert int(_fold_middle(cdl.tree_table(BinF, term))) == reference(term)
