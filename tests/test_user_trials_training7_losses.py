"""A loss of one's own gives a value per example, or per position of each.

`AbstractLoss.value` took the mean of whatever `losses` returned: a loss
returning its batch's mean trained graphs on the padding graph too, since the
mask of a padded batch then weighed one number. Such losses are refused; losses
of shape ``(batch, ...)`` (a value per token, per output) are averaged, weighed by
a mask per example or by one of their own shape.
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


class PerValue(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return (predictions - labels) ** 2  # one per output (or token)


class BatchMean(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(
            predictions, labels
        ).mean()


class Transposed(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return ((predictions - labels) ** 2).T


class PerExample(AbstractLoss):
    def losses(self, labels: Any, predictions: Any) -> jax.Array:
        return optax.softmax_cross_entropy_with_integer_labels(predictions, labels)


def test_losses_without_the_batch_axis_are_refused() -> None:
    predictions = jnp.zeros((4, 3))
    masked = Masked(jnp.array([0, 1, 2, 0]), jnp.array([1, 1, 1, 0]))
    with pytest.raises(
        LossShapeError,
        match=r"BatchMean.losses returned f32\[\] for a batch of 4 examples: "
        r"it must return one value per example, of shape \(4,\)",
    ):
        BatchMean().get(masked, predictions)
    with pytest.raises(LossShapeError, match=r"returned f32\[3,4\] for a batch of 4"):
        Transposed().get(jnp.ones((4, 3)), predictions)
    logits = jnp.array([[0.0, 1, 2], [1, 0, 0], [2, 2, 0], [9, -9, 0]])
    want = optax.softmax_cross_entropy_with_integer_labels(
        logits[:3], masked.labels[:3]
    )
    assert np.isclose(PerExample().get(masked, logits), want.mean())


def test_losses_per_position_are_averaged_over_what_the_mask_keeps() -> None:
    key1, key2 = jax.random.split(jax.random.key(0))
    predictions = jax.random.normal(key1, (4, 5))
    labels = jax.random.normal(key2, (4, 5))
    squares = (predictions - labels) ** 2
    assert np.isclose(PerValue().get(labels, predictions), squares.mean())
    examples = jnp.array([1, 1, 0, 1])
    kept = PerValue().get(Masked(labels, examples), predictions)
    assert np.isclose(kept, squares[examples == 1].mean())
    tokens = jnp.arange(5)[None, :] < jnp.array([5, 2, 1, 3])[:, None]
    token_mean = PerValue().get(Masked(labels, tokens), predictions)
    assert np.isclose(token_mean, squares[tokens].mean())
    with pytest.raises(LossShapeError, match=r"or one per value of the losses"):
        PerValue().get(Masked(labels, tokens[:, :4]), predictions)


def test_fit_names_a_loss_of_the_batch_mean_before_training() -> None:
    model = cdl.Linear(2, 3, key=jax.random.key(0))
    xs, ys = np.ones((6, 2), np.float32), np.zeros(6, np.int32)
    with pytest.raises(DataError, match=r"BatchMean.losses returned f32\[\]"):
        fit(Learner(model, BatchMean(), SGD(0.1)), model, xs, ys, epochs=1,
            batch_size=3, key=jax.random.key(0), progress=False)  # fmt: skip


def test_fit_trains_a_loss_per_output_as_their_mean() -> None:
    model = cdl.Linear(2, 3, key=jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (6, 2))
    ys = jnp.zeros((6, 3))
    result = fit(Learner(model, PerValue(), SGD(0.1)), model, xs, ys, epochs=1,
                 batch_size=6, key=jax.random.key(0), progress=False)  # fmt: skip
    want = jnp.mean((jax.vmap(model)(xs) - ys) ** 2)
    assert np.isclose(result.history["loss"][0], want)
