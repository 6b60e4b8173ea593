"""Optics as an outside user met them: a learner's step given an empty batch."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import SGD, Learner, MeanSquaredError


@pytest.mark.parametrize("xs", [jnp.zeros((0, 3)), {"a": jnp.zeros((0, 3))}])
def test_a_step_given_an_empty_batch_says_it_is_empty(xs):
    # It said xs "has arrays of leading sizes [0] (0 for a scalar), not one batch
    # axis" and suggested Learner(..., per_example=False).
    model = cdl.Linear(3, 2, key=jax.random.key(0))
    learner = Learner(model, MeanSquaredError(), SGD(0.1))
    with pytest.raises(ValueError, match=r"the batch is empty \(xs holds 0 examples\)"):
        learner.step(learner.init(model), xs, jnp.zeros((0, 2)))
