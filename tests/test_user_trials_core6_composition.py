"""Composition with things that are not cdl morphisms names them unambiguously."""

import equinox as eqx
import jax
import pytest

import cdl


def test_an_equinox_layer_is_not_taken_for_a_cdl_one():
    layer = eqx.nn.Linear(4, 2, key=jax.random.key(0))
    with pytest.raises(
        TypeError, match=r"Linear \(an equinox\.nn\.Linear\) is not one"
    ):
        cdl.Linear(3, 4, key=jax.random.key(1)) >> layer
    with pytest.raises(TypeError, match=r"<lambda> \(a function\) is not one"):
        cdl.Tanh() @ (lambda x: x)
