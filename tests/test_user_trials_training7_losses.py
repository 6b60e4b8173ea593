"""A loss of one's own whose `losses` are not one value per example is refused.

`AbstractLoss.value` took the mean of whatever `losses` returned: a value per
output (shape (batch, 3)) trained on the mean of those, and a loss returning
its batch's mean trained graphs on the padding graph too, since the mask of a
padded batch then weighed one number. Both were silent.
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import cdl
from cdl.optics import (
    SGD,
    AbstractLoss,
    DataError,
    Learner,
    LossShapeError,
    Masked,
    fit,
)


class PerOutput(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return (predictions - labels) ** 2  # forgot to sum the outputs


class BatchMean(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(
            predictions, labels
        ).mean()


class PerExample(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(predictions, labels)


def test_losses_of_another_shape_than_one_per_example_are_refused() -> None:
    predictions = jnp.zeros((4, 3))
    with pytest.raises(
        LossShapeError,
        match=r"PerOutput.losses returned f32\[4,3\] for a batch of 4 examples: "
        r"it must return one value per example, of shape \(4,\)",
    ):
        PerOutput().get(jnp.ones((4, 3)), predictions)
    masked = Masked(jnp.array([0, 1, 2, 0]), jnp.array([1, 1, 1, 0]))
    with pytest.raises(LossShapeError, match=r"returned f32\[\] for a batch of 4"):
        BatchMean().get(masked, predictions)
    logits = jnp.array([[0.0, 1, 2], [1, 0, 0], [2, 2, 0], [9, -9, 0]])
    want = optax.softmax_cross_entropy_with_integer_labels(
        logits[:3], masked.labels[:3]
    )
    assert np.isclose(PerExample().get(masked, logits), want.mean())


def test_fit_names_such_a_loss_before_training() -> None:
    model = cdl.Linear(2, 3, key=jax.random.key(0))
    xs, ys = np.ones((6, 2), np.float32), np.zeros((6, 3), np.float32)
    with pytest.raises(DataError, match=r"PerOutput.losses returned f32\[6,3\]"):
        fit(Learner(model, PerOutput(), SGD(0.1)), model, xs, ys, epochs=1,
            batch_size=3, key=jax.random.key(0), progress=False)  # fmt: skip
