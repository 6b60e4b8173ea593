"""A metric function returning one value per example says on what batch it did.

`fit` tries metrics on a batch of two examples before training, so a metric
of ten examples that forgot its mean was reported as ``it returned
float32[2]``, a shape the user's data never had; the text now says the batch.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, Learner, SoftmaxCrossEntropy, fit


def test_a_metric_of_each_example_is_named_with_the_batch_it_ran_on() -> None:
    model = cdl.Linear(4, 3, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    xs = np.ones((10, 4), np.float32)
    ys = np.arange(10) % 3

    def correct(model: cdl.Para, xs: jax.Array, ys: jax.Array) -> jax.Array:  # type: ignore[type-arg]
        return jnp.argmax(jax.vmap(model)(xs), -1) == ys

    with pytest.raises(
        TypeError,
        match=r"metric 'correct' failed \(it returned bool\[2\] on a batch of 2 "
        r"examples\): .* returns one number, the batch's mean",
    ):
        fit(learner, model, xs, ys, epochs=1, batch_size=5, key=jax.random.key(0),
            progress=False, metrics={"correct": correct})  # fmt: skip
