"""The derivative functors name what is not a morphism."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import forward_derivative, reverse_derivative


@pytest.mark.parametrize("functor", [reverse_derivative, forward_derivative])
def test_a_derivative_of_a_plain_function_points_to_lift(functor: object) -> None:
    with pytest.raises(TypeError, match="takes a cdl.Para morphism, not PjitFunction"):
        functor(jnp.tanh)  # type: ignore[operator]
    model = cdl.Linear(2, 2, key=jax.random.key(0))
    assert functor(model) is not None  # type: ignore[operator]
