"""Lifted modules and functions that draw random numbers take and need a key."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl

N = Float[Array, "n"]


def test_a_lifted_equinox_dropout_is_stochastic_and_gets_the_composites_key() -> None:
    drop = cdl.lift(eqx.nn.Dropout(0.5), dom=N, cod=N)
    model = cdl.Linear(3, 8, key=jax.random.key(0)) >> drop
    assert drop.stochastic and model.stochastic
    assert not cdl.inference_mode(model).stochastic
    assert not cdl.lift(eqx.nn.Dropout(0.0), dom=N, cod=N).stochastic
    assert not cdl.lift(
        eqx.nn.MLP(3, 2, 4, 1, key=jax.random.key(0)), dom=N, cod=N
    ).stochastic
    out = model(jnp.ones(3), key=jax.random.key(1))
    assert bool((out == 0).any())
    # Without a key: cdl's error naming the layer, not Equinox's RuntimeError.
    with pytest.raises(ValueError, match="Dropout is stochastic and needs a PRNG key"):
        model(jnp.ones(3))
    with pytest.raises(ValueError, match="Dropout is stochastic and needs a PRNG key"):
        drop(jnp.ones(3))


def test_a_lifted_function_that_requires_a_key_is_stochastic() -> None:
    def noisy(x: jax.Array, *, key: jax.Array) -> jax.Array:
        return x + jax.random.normal(key, x.shape)

    f = cdl.lift(noisy, dom=Float[Array, "3"], cod=Float[Array, "3"])  # traced once
    assert f.stochastic
    assert f(jnp.zeros(3), key=jax.random.key(0)).shape == (3,)
    optional = cdl.lift(lambda x, key=None: x, dom=N, cod=N)
    assert not optional.stochastic


def test_a_lifted_function_that_fails_on_its_declared_domain_is_named() -> None:
    weights = jnp.ones((5, 2))
    with pytest.raises(cdl.SpaceError) as e:
        cdl.lift(
            lambda x: x @ weights,
            dom=Float[Array, "4"],
            cod=Float[Array, "2"],
            label="project",
        )
    assert str(e.value).startswith(
        "lift(project): calling it on the declared domain float[4] fails (TypeError: "
        "dot_general requires contracting dimensions to have the same shape"
    )
