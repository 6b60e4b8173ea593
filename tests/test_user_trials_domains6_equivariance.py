"""Equivariant layers, derived and checked as an outside user does."""

import functools

import jax

import cdl


def test_pointwise_names_the_function_it_applies() -> None:
    # Pointwise(act, cdl.Relu()) was labelled and drawn as "Pointwise(fn)", as was
    # any function without a __name__ (a functools.partial).
    act = cdl.permutation_action(3, (2,))
    relu = cdl.Pointwise(act, cdl.Relu())
    assert relu.label == "Pointwise(Relu())"
    assert cdl.Pointwise(act, jax.nn.relu).label == "Pointwise(relu)"
    leaky = functools.partial(jax.nn.leaky_relu, negative_slope=0.1)
    assert cdl.Pointwise(act, leaky).label == "Pointwise(partial(leaky_relu))"
    layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    assert cdl.draw(layer >> relu).boxes()[1] == "Pointwise(Relu())"
