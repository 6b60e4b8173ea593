"""Terms and host folds as a Haskell user writes them: patterns, cataM."""

from typing import Any

import jax
import jax.numpy as jnp
import pytest
from hypothesis import given, settings, strategies as st
from returns.maybe import Some

import cdl

ROSE = cdl.RoseF(3)
(RNODE,) = ROSE.patterns
LEAF, NODE = cdl.TreeF.patterns


@st.composite
def rose_shapes(draw: Any, depth: int = 3) -> Any:
    """A rose tree's shape: the list of its children's shapes (at most 3)."""
    if depth == 0:
        return []
    return draw(st.lists(rose_shapes(depth=depth - 1), max_size=3))


def build(shape: list[Any], payload: float = 1.0) -> Any:
    """The term of `shape`, its children given one by one, as Haskell writes them."""
    return RNODE(payload, *(build(child, payload + 1) for child in shape))


def count(shape: list[Any]) -> int:
    return 1 + sum(count(child) for child in shape)


def arity(term: Any) -> list[Any]:
    return [arity(child) for child in term.children]


@settings(max_examples=30, deadline=None)
@given(shape=rose_shapes())
def test_a_variadic_pattern_keeps_a_single_child_given_as_a_layer(shape: Any) -> None:
    # Node(p, Node(q)) unpacked its one child (a layer is a tuple) into the children:
    # ('Node', q, ()), which failed later as "a term of RoseF is a cdl.Layer, not str".
    term = build(shape)
    assert arity(term) == shape
    assert cdl.tree_table(ROSE, term).size == count(shape)


def test_a_variadic_pattern_takes_its_children_as_one_list_too() -> None:
    one = RNODE(1.0, [RNODE(2.0)])
    assert one == RNODE(1.0, RNODE(2.0))
    assert len(one.children) == 1 and one.children[0].payload == 2.0


def half(layer: Any) -> Any:
    match layer:
        case LEAF(x):
            return Some(x)
        case NODE(a, b):
            return a + b  # the container is forgotten


@pytest.mark.parametrize(
    "term", [NODE(LEAF(1.0), LEAF(2.0)), NODE(NODE(LEAF(1.0), LEAF(2.0)), LEAF(3.0))]
)
def test_a_monadic_algebra_returning_a_bare_value_is_named(term: Any) -> None:
    # At the root the bare 3.0 was returned as the fold's result; deeper, bind
    # failed with "'float' object has no attribute 'map'".
    with pytest.raises(TypeError, match=r"cataM\(TreeF, half\): the algebra returned"
                       r" float 3.0 on a Node layer.*Some\(v\)"):  # fmt: skip
        cdl.cataM(cdl.TreeF, half)(term)


def test_a_monadic_algebra_returning_none_at_a_leaf_is_named() -> None:
    with pytest.raises(TypeError, match="returned NoneType None on a Leaf layer"):
        cdl.cataM(cdl.TreeF, lambda layer: None)(NODE(LEAF(1.0), LEAF(2.0)))


def preorder(term: Any) -> list[Any]:
    return [term.payload] + [p for child in term.children for p in preorder(child)]


@settings(max_examples=30, deadline=None)
@given(shape=rose_shapes())
def test_a_term_flattens_to_its_payloads_in_preorder_and_back(shape: Any) -> None:
    term = build(shape)
    leaves, structure = jax.tree.flatten(term)
    assert leaves == preorder(term)
    assert jax.tree.unflatten(structure, leaves) == term
    doubled = jax.tree.map(lambda x: 2 * x, term)
    assert preorder(doubled) == [2 * p for p in preorder(term)]
    assert arity(doubled) == shape


def test_a_term_deeper_than_pythons_stack_passes_through_jit() -> None:
    # A Cons list of 1,200 elements as a term: JAX recursed into each layer's
    # children, and under jit the interpreter crashed (RecursionError in C++).
    nil, cons = cdl.ListF.patterns
    term = nil()
    for x in range(1200):
        term = cons(jnp.float32(x), term)
    assert len(jax.tree.leaves(term)) == 1200
    total = cdl.cata(
        cdl.Algebra(cdl.ListF, Nil=lambda p: 0.0, Cons=lambda p: p[0] + p[1][0])
    )
    assert float(jax.jit(total)(term)) == sum(range(1200))


EXPR = cdl.polynomial("ExprF", Num="a", Add="x x", Neg="x")


@pytest.mark.parametrize(
    ("functor", "cells"),
    [
        (cdl.TreeF, {"Leaf": lambda p: p[0], "Node": lambda p: p[1][0] + p[1][1]}),
        (ROSE, {"Node": lambda p: p[0] + (p[1][0] * p[1][1]).sum()}),
        (EXPR, {"Num": lambda p: p[0], "Add": lambda p: p[1][0], "Neg": lambda p: 0.0}),
    ],
)
def test_an_empty_forest_folds_to_no_rows_for_any_functor(
    functor: cdl.Functor, cells: dict[str, Any]
) -> None:
    # Only TreeF's nested pairs gave an empty table; other functors raised
    # "a node table needs at least one node".
    table = cdl.tree_table(functor, [], forest=True)
    algebra = cdl.Algebra(functor, carrier=jnp.float32(0), **cells)
    assert table.size == 0 and table.roots.shape == (0,)
    assert cdl.cata(algebra)(table).shape == (0,)
    assert not cdl.upwards(algebra)(table).any()


def test_a_law_of_the_other_kind_says_which_scheme_takes_it() -> None:
    down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    fib = cdl.ListAlgebra(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1))
    # Each said only "gcata needs a distributive law (...)", ghylo's swapped
    # laws too, naming a scheme the user had not called.
    with pytest.raises(TypeError, match="not dist_ana: dist_ana is a law of gana"):
        cdl.gcata(cdl.dist_ana, fib)
    with pytest.raises(TypeError, match=r"not dist_histo\(2\): .* law of gcata"):
        cdl.gana(cdl.dist_histo(2), down, 5)
    with pytest.raises(
        TypeError, match=r"takes the fold's law first: ghylo\(dist_histo"
    ):
        cdl.ghylo(cdl.dist_ana, cdl.dist_histo(2), fib, down, 20)
    with pytest.raises(TypeError, match="needs a distributive law .*, not ListAlgebra"):
        cdl.gcata(fib, fib)
