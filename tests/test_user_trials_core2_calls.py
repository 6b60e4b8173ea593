"""Calls as a user ported from Equinox writes them: a key passed to every layer."""

import equinox as eqx
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


def test_an_error_inside_a_layer_names_the_layer_and_its_input() -> None:
    # A weight of the wrong shape put in by hand (eqx.tree_at; a lens refuses it) failed
    # with JAX's "add got incompatible shapes" and no word of which layer.
    layer = cdl.Linear(2, 3, key=K1)
    broken = eqx.tree_at(lambda m: m.weight, layer, jnp.zeros((2, 2)))
    model = cdl.Tanh() >> broken >> cdl.Relu()
    jitted = eqx.filter_jit(lambda m, x: m(x))
    for call in (model, lambda x: jitted(model, x)):
        with pytest.raises(TypeError) as e:
            call(jnp.ones(2))
        assert "raised in Linear(2→3), called on f32[2]" in e.value.__notes__
    with pytest.raises(ValueError) as needs_key:
        (cdl.Tanh() >> cdl.Dropout(0.5))(jnp.ones(2))
    assert not getattr(needs_key.value, "__notes__", [])


class _Refuses(cdl.Para):
    def __call__(self, x: object) -> object:
        raise ValueError("refused")


def test_the_note_does_not_read_a_deep_term_into_a_space() -> None:
    term: object = jnp.ones(2)
    for _ in range(5000):
        term = (term,)  # a term as deep as a fold's, any space
    with pytest.raises(ValueError) as e:
        _Refuses()(term)
    assert e.value.__notes__ == ["raised in _Refuses(), called on tuple"]
