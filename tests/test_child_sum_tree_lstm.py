"""The Child-Sum Tree-LSTM cell folds rose trees as Tai et al. define it.

Checked against a plain recursion written from the paper's equations, on random
rose trees (values and gradients), for any order of the children, and as the cell
of an algebra that needs no `carrier=` (read from the cell's declared result).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

ROSE = cdl.RoseF(3)
(Node,) = ROSE.patterns
IN, HIDDEN = 3, 4


def reference(cell: cdl.ChildSumTreeLSTMCell, term: cdl.Layer) -> Any:
    """Tai et al.'s equations, by recursion over the term."""
    kids = [reference(cell, k) for k in term.children]
    n = HIDDEN
    z = cell.w_in @ term.payload + cell.bias
    h_sum = sum((h for h, _ in kids), jnp.zeros(n))
    i = jax.nn.sigmoid(z[:n] + cell.w_sum[:n] @ h_sum)
    o = jax.nn.sigmoid(z[n : 2 * n] + cell.w_sum[n : 2 * n] @ h_sum)
    u = jnp.tanh(z[2 * n : 3 * n] + cell.w_sum[2 * n :] @ h_sum)
    c = i * u
    for h_k, c_k in kids:
        c = c + jax.nn.sigmoid(z[3 * n :] + cell.w_forget @ h_k) * c_k
    return o * jnp.tanh(c), c


@st.composite
def roses(draw: Any, depth: int = 3) -> cdl.Layer:
    payload = jnp.asarray(draw(st.lists(st.floats(-1, 1), min_size=IN, max_size=IN)))
    n = 0 if depth == 0 else draw(st.integers(0, 3))
    return Node(payload, [draw(roses(depth - 1)) for _ in range(n)])


CELL = cdl.ChildSumTreeLSTMCell(IN, HIDDEN, key=jax.random.key(0))
FOLD = jax.jit(lambda cell, table: cdl.cata(cdl.Algebra(ROSE, Node=cell))(table))


def _loss(cell: Any, table: cdl.NodeTable) -> jax.Array:
    h, c = FOLD(cell, table)
    return (h * jnp.arange(1.0, HIDDEN + 1)).sum() + c.sum()


GRAD = jax.jit(jax.grad(_loss))


@settings(max_examples=5, deadline=None)
@given(roses(depth=2))
def test_a_fold_of_random_rose_trees_is_the_recursion_of_the_equations(
    term: cdl.Layer,
) -> None:
    table = cdl.tree_table(ROSE, term, buckets=[16], strategy="levels")
    for got, want in zip(FOLD(CELL, table), reference(CELL, term), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    grads = GRAD(CELL, table)

    def ref_loss(cell: Any) -> jax.Array:
        h, c = reference(cell, term)
        return (h * jnp.arange(1.0, HIDDEN + 1)).sum() + c.sum()

    want = jax.grad(ref_loss)(CELL)
    for name in ("w_in", "w_sum", "w_forget", "bias"):
        np.testing.assert_allclose(
            getattr(grads, name), getattr(want, name), rtol=1e-4, atol=1e-6
        )


def test_the_order_of_the_children_does_not_matter() -> None:
    leaves = [Node(jnp.full(IN, v), []) for v in (0.1, -0.5, 0.9)]
    inner = Node(jnp.ones(IN), leaves[:2])
    one = Node(jnp.zeros(IN), [inner, leaves[2]])
    other = Node(jnp.zeros(IN), [leaves[2], Node(jnp.ones(IN), leaves[1::-1])])
    fold = cdl.cata(cdl.Algebra(ROSE, Node=CELL))
    for a, b in zip(fold(one), fold(other), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_an_algebra_of_a_variadic_cell_reads_its_carrier_from_the_cell() -> None:
    term = Node(jnp.ones(IN), [Node(jnp.zeros(IN), [])])
    h, c = cdl.cata(cdl.Algebra(ROSE, Node=CELL))(term)
    assert h.shape == c.shape == (HIDDEN,)


def test_a_wrong_payload_size_names_the_cell() -> None:
    term = Node(jnp.ones(IN + 1), [])
    with pytest.raises(cdl.SpaceError, match="ChildSumTreeLSTMCell"):
        cdl.cata(cdl.Algebra(ROSE, Node=CELL))(term)
