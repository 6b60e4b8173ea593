"""A known limit of forward mode through a fold: the choice between the fold's
reverse rule and its plain loop is made when the fold is traced, and JAX reuses a
traced program (jax.jit, eqx.filter_jit, lax.cond, jax.checkpoint of the same
function) across derivatives. A gradient taken after a jvp of the same jitted
function fails with JAX's 'Reverse-mode differentiation does not work for
lax.while_loop'. Strict xfail: this test fails once that is fixed, to be turned
into a plain test then."""

import jax
import jax.numpy as jnp
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns
_FOLD = cdl.cata(
    cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: jnp.tanh(p[0]), Node=lambda p: p[1][0] * p[1][1]
    )
)
_TERM = Node(Leaf(1.0), Leaf(2.0))


@pytest.mark.xfail(strict=True, raises=ValueError, reason="jvp then grad of one jit")
def test_grad_after_jvp_of_the_same_jitted_fold() -> None:
    jitted = jax.jit(_FOLD)
    ones = jax.tree.map(jnp.ones_like, _TERM)
    jax.jvp(jitted, (_TERM,), (ones,))
    grads = jax.grad(jitted)(_TERM)
    expected = jax.grad(_FOLD)(_TERM)
    assert jax.tree.leaves(grads) == pytest.approx(jax.tree.leaves(expected))
