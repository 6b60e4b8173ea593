"""Ties and freezes combined, in the order a new user writes them: a tie of a
frozen parameter, and a tie onto one."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import split_parameters

K1, K2 = jax.random.split(jax.random.key(0))
AE = (
    cdl.Linear(3, 2, use_bias=False, key=K1)
    >> cdl.Tanh()
    >> cdl.Linear(2, 3, use_bias=False, key=K2)
)
X = jnp.array([0.3, -0.5, 0.7])


def _encoder(m: cdl.Para) -> jax.Array:  # type: ignore[type-arg]
    return m.params.factors[0].weight  # type: ignore[attr-defined, no-any-return]


def _decoder(m: cdl.Para) -> jax.Array:  # type: ignore[type-arg]
    return m.params.factors[2].weight  # type: ignore[attr-defined, no-any-return]


def test_a_tie_of_a_frozen_parameter_copies_it_frozen() -> None:
    # via=jnp.transpose was given the Frozen wrapper ("transpose requires ndarray
    # or scalar arguments, got <class 'cdl._reparam.Frozen'>"); without via the
    # error said the reparametrisation "returned nothing" at the target.
    frozen = cdl.freeze(AE, lambda m: m.factors[0].weight)
    tied = cdl.tie(frozen, _encoder, _decoder, via=jnp.transpose)
    model = tied >> cdl.Linear(3, 1, key=K2)
    w = AE.factors[0].weight
    head = model.factors[-1]
    assert jnp.allclose(model(X), head(w.T @ jnp.tanh(w @ X)), atol=1e-6)
    grads = jax.grad(lambda m: m(X).sum())(model)
    assert not jnp.any(_encoder(grads.factors[0].params).value)  # type: ignore[attr-defined]
    assert jnp.any(grads.factors[-1].weight)  # type: ignore[attr-defined]
    trainable = jax.tree.leaves(split_parameters(model)[0])
    assert [leaf.shape for leaf in trainable] == [(1, 3), (1,)]
    square = cdl.Linear(3, 3, key=K1) >> cdl.Linear(3, 3, key=K2)
    shared = cdl.tie(
        cdl.freeze(square, lambda m: m.factors[0]),
        lambda m: m.params.factors[0],
        lambda m: m.params.factors[1],
    )
    first = square.factors[0]
    assert jnp.allclose(shared(X), first(first(X)), atol=1e-6)
    assert jax.tree.leaves(split_parameters(shared)[0]) == []


def test_a_tie_onto_a_frozen_parameter_is_refused() -> None:
    frozen = cdl.freeze(AE, lambda m: m.factors[2].weight)
    with pytest.raises(ValueError, match="target 0 holds a parameter frozen"):
        cdl.tie(frozen, _encoder, _decoder, via=jnp.transpose)
    # The order the message advises: tie, then freeze.
    tied = cdl.tie(
        AE,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[2].weight,
        via=jnp.transpose,
    )
    assert cdl.freeze(tied, lambda m: m.params.factors[0].weight)(X).shape == (3,)
