"""JAX's transformations of a model itself, as a new user applies them."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl

MODEL = cdl.Linear(3, 2, key=jax.random.key(0)) >> cdl.Tanh()


@pytest.mark.parametrize("transform", [jax.checkpoint, jax.remat])
def test_checkpoint_of_the_model_itself_says_what_to_checkpoint(
    transform: object,
) -> None:
    # The message said `jax.jit(model)` cannot take it "as the function to
    # compile", though no jit was written.
    with pytest.raises(TypeError) as e:
        transform(MODEL)(jnp.ones(3))  # type: ignore[operator]
    assert "(or `jax.checkpoint`, `jax.remat`, `jax.pmap` of it)" in str(e.value)
    assert "`eqx.filter_checkpoint(model)`" in str(e.value)
    expected = MODEL(jnp.ones(3))
    assert jnp.array_equal(eqx.filter_checkpoint(MODEL)(jnp.ones(3)), expected)
    assert jnp.array_equal(jax.checkpoint(lambda x: MODEL(x))(jnp.ones(3)), expected)
