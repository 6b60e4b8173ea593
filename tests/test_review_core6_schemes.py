"""A fold of natural numbers given a float array names its dtype, not JAX's class."""

import jax.numpy as jnp
import numpy as np
import pytest

import cdl


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (jnp.float32(3.0), "a 0-d float32 array (3.0)"),
        (np.float64(3.0), "a 0-d float32 array (3.0)"),  # as JAX reads it
        (np.bool_(True), "a 0-d bool array (True)"),
        (2.5, "float 2.5"),
    ],
)
def test_a_fold_of_naturals_names_what_it_was_given(n: object, shown: str) -> None:
    # It said "not ArrayImpl Array(3., dtype=float32)".
    count = cdl.cata(
        cdl.Algebra(cdl.NatF, Zero=lambda p: 0.0, Succ=lambda p: p[1][0] + 1)
    )
    with pytest.raises(TypeError) as e:
        count(n)
    assert f", not {shown}; convert it with int()" in str(e.value)
    assert "ArrayImpl" not in str(e.value)


def test_a_tree_fold_given_a_tuple_of_tables_says_so() -> None:
    # A tuple was read as nested pairs, a Node of two leaves whose payloads were
    # the tables: 'tanh requires ndarray or scalar arguments, got NodeTable'.
    algebra = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: jnp.tanh(p[0]), Node=lambda p: p[1][0] * p[1][1]
    )
    tables = (cdl.tree_table(cdl.TreeF, (1.0, 2.0)), cdl.tree_table(cdl.TreeF, 3.0))
    with pytest.raises(TypeError) as e:
        cdl.cata(algebra)(tables)
    assert "was given a tuple of 2 values holding a NodeTable" in str(e.value)
    assert "read as a term of TreeF (nested pairs)" in str(e.value)


@pytest.mark.parametrize("read", [float, int, lambda c: [1.0, 2.0][c]])
def test_a_natural_transformation_converting_a_child_says_so(read: object) -> None:
    # float(child) said "float() argument must be a string or a real number, not
    # 'Slot'"; arithmetic on a child already gave the message below.
    Leaf, Node = cdl.TreeF.patterns
    algebra = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0] - p[1][1]
    )

    def nat(layer: object) -> object:
        if layer.constructor == "Node":  # type: ignore[attr-defined]
            return Node(read(layer.child_0), layer.child_1)  # type: ignore[attr-defined, operator]
        return layer

    term = Node(Leaf(1.0), Leaf(2.0))
    with pytest.raises(
        TypeError, match="a natural transformation computed with child 0"
    ):
        cdl.prepro(cdl.schemes.Natural(cdl.TreeF, nat), algebra)(term)
