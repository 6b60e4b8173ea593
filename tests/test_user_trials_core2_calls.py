"""Calls as a user ported from Equinox writes them: a key passed to every layer."""

import jax
import jax.numpy as jnp
import pytest

import cdl

K1, K2 = jax.random.split(jax.random.key(0))


def test_a_layer_without_randomness_ignores_a_key_as_equinox_layers_do() -> None:
    model = cdl.Linear(4, 8, key=K1) >> cdl.Dropout(0.5) >> cdl.Linear(8, 2, key=K2)
    x = jnp.ones(4)
    keys = jax.random.split(K2, len(model.factors))
    y = x
    for layer, key in zip(model.factors, keys, strict=True):
        y = layer(y, key=key)  # "got an unexpected keyword argument 'key'"
    assert y.shape == (2,)
    assert jnp.array_equal(model.factors[0](x, key=K1), model.factors[0](x))


def test_a_key_that_is_not_a_prng_key_is_named_at_the_call() -> None:
    model = cdl.Linear(4, 2, key=K1) >> cdl.Dropout(0.5)
    with pytest.raises(TypeError) as e:
        model(jnp.ones(4), key=0)
    assert str(e.value) == (
        "Linear(4→2) >> Dropout(0.5): key must be a PRNG key such as "
        "jax.random.key(0), not int 0."
    )
    with pytest.raises(TypeError, match="Tanh\\(\\): key must be a PRNG key"):
        cdl.Tanh()(jnp.ones(2), key="seed")
