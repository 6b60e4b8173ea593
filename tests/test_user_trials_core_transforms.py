"""``jax.jit(model)`` says what to jit instead; Python numbers are arrays."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl


def test_jit_of_the_model_itself_says_to_jit_a_function_of_it() -> None:
    model = cdl.Linear(3, 2, key=jax.random.key(0)) >> cdl.Tanh()
    with pytest.raises(TypeError) as e:
        jax.jit(model)(jnp.ones(3))
    assert str(e.value).startswith(
        "Linear(3→2) >> Tanh() holds arrays, so it is not hashable: `jax.jit(model)`"
    )
    assert "eqx.filter_jit(lambda m, x: m(x))(model, x)" in str(e.value)
    # Morphisms without arrays hash as Equinox modules do, and jit as functions.
    assert hash(cdl.Tanh() >> cdl.Relu()) == hash(cdl.Tanh() >> cdl.Relu())
    assert jax.jit(cdl.Tanh())(jnp.zeros(2)).shape == (2,)
    assert eqx.filter_jit(lambda m, x: m(x))(model, jnp.ones(3)).shape == (2,)


def test_a_python_number_is_taken_where_an_array_is_wanted() -> None:
    assert cdl.Tanh()(1.0) == jnp.tanh(1.0)
    assert cdl.Embedding(5, 2, key=jax.random.key(0))(3).shape == (2,)
    with pytest.raises(cdl.SpaceError, match=r"expects input float\[1\]"):
        cdl.Linear(1, 1, key=jax.random.key(0))(1.0)
