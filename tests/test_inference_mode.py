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


def test_equinox_inference_mode_reaches_dropout_inside_tie_and_freeze() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    model = cdl.Linear(3, 3, key=k1) >> cdl.Dropout(0.5) >> cdl.Linear(3, 3, key=k2)
    tied = cdl.tie(model, lambda m: m.factors[0].weight, lambda m: m.factors[2].weight)
    frozen = cdl.freeze(model, lambda m: m.factors[0].weight)
    x = jnp.ones(3)
    for reparametrised in (tied, frozen):
        assert reparametrised.stochastic
        off = eqx.nn.inference_mode(reparametrised)
        assert not off.stochastic and off.base().factors[1].inference
        base = reparametrised.base()
        assert bool(jnp.allclose(off(x), base.factors[2](base.factors[0](x))))
        back = eqx.nn.inference_mode(off, value=False)
        assert back.stochastic
        assert jax.tree.structure(back) == jax.tree.structure(reparametrised)
        assert not cdl.inference_mode(reparametrised).stochastic


def test_a_dropout_label_names_its_mode_not_a_bare_flag() -> None:
    model = cdl.Tanh() >> cdl.Dropout(0.2)
    assert model.label == "Tanh() >> Dropout(0.2)"
    assert cdl.inference_mode(model).label == "Tanh() >> Dropout(0.2, inference)"
