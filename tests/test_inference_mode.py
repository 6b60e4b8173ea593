import equinox as eqx
import jax
import jax.numpy as jnp

import cdl


def test_inference_mode_switches_every_layer_with_a_mode_and_back() -> None:
    model = [
        cdl.Linear(3, 3, key=jax.random.key(0)) >> cdl.Dropout(0.5),
        cdl.BatchNorm(3),
        eqx.nn.Dropout(0.5),
    ]
    off = cdl.inference_mode(model)
    assert off[0].factors[1].inference and off[1].inference and off[2].inference
    assert not model[1].inference  # the original is unchanged
    back = cdl.inference_mode(off, False)
    assert not (back[0].factors[1].inference or back[1].inference)
    assert jax.tree.structure(back) == jax.tree.structure(model)
    x = jnp.ones(3)
    assert bool(jnp.allclose(off[0](x), model[0].factors[0](x)))


def test_equinox_inference_mode_switches_cdl_dropout() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    model = cdl.Linear(3, 3, key=k1) >> cdl.Dropout(0.5) >> cdl.Linear(3, 2, key=k2)
    off = eqx.nn.inference_mode(model)
    assert off.factors[1].inference and not off.factors[1].stochastic
    x = jnp.ones(3)
    assert bool(jnp.allclose(off(x), model.factors[2](model.factors[0](x))))
    back = eqx.nn.inference_mode(off, value=False)
    assert back.factors[1].stochastic
    assert jax.tree.structure(back) == jax.tree.structure(model)
    assert cdl.inference_mode(model).factors[1].inference
