"""A tree fold inside a jvp that does not reach it, under a gradient: the jvp is
in another variable, so the gradient is an ordinary one and the fold's reverse
rule serves it. It was refused as 'a forward-mode derivative ... cannot itself be
differentiated in reverse mode'."""

import jax
import jax.numpy as jnp
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns
_ALGEBRA = cdl.Algebra(
    cdl.TreeF, Leaf=lambda p: jnp.tanh(p[0]), Node=lambda p: p[1][0] * p[1][1]
)


def _loss(w: jax.Array, fold: object) -> jax.Array:
    def inner(y: jax.Array) -> jax.Array:  # the fold does not depend on y
        return y * fold(w)  # type: ignore[operator]

    return jax.jvp(inner, (1.0,), (1.0,))[1]


def test_a_fold_under_a_gradient_beside_an_unrelated_jvp() -> None:
    term = Node(Leaf(1.0), Leaf(2.0))
    fold = cdl.cata(_ALGEBRA)

    def folded(w: jax.Array) -> jax.Array:
        return fold(jax.tree.map(lambda x: x * w, term))

    def ref(w: jax.Array) -> jax.Array:
        return jnp.tanh(1.0 * w) * jnp.tanh(2.0 * w)

    got = jax.grad(lambda w: _loss(w, folded))(0.5)
    assert float(got) == pytest.approx(float(jax.grad(lambda w: _loss(w, ref))(0.5)))
