"""Losses and checkpoints that still let bad input by, found reviewing training7.

- `Masked` labels whose mask is not one weight per example broadcast against
  the losses: a per-token mask ``(batch, time)`` (with as many positions as
  examples) or a mask ``(batch, 1)`` gave a wrong mean without a word, other
  shapes a bare JAX broadcasting error.
- `AbstractLoss.value` took the batch from the outputs' first leaf, so outputs
  whose first leaf is one number (a dict with a scalar head) skipped the check
  that `losses` give one value per example.
"""

import jax
import jax.numpy as jnp
import pytest

from cdl.optics import (
    AbstractLoss,
    LossShapeError,
    Masked,
    MeanSquaredError,
    SoftmaxCrossEntropy,
)


def test_a_mask_per_position_is_refused() -> None:
    logits = jax.random.normal(jax.random.key(0), (4, 4, 3))
    tokens = jnp.zeros((4, 4), jnp.int32)
    per_token = jnp.tril(jnp.ones((4, 4)))
    with pytest.raises(LossShapeError, match=r"mask .* shape \(4, 4\) .* \(4,\)"):
        SoftmaxCrossEntropy().get(Masked(tokens, per_token), logits)


@pytest.mark.parametrize("mask", [jnp.ones((4, 1)), jnp.zeros(1), jnp.ones(3)])
def test_a_mask_not_one_weight_per_example_is_refused(mask: jax.Array) -> None:
    labels = Masked(jnp.zeros((4, 2)), mask)
    with pytest.raises(LossShapeError, match=r"MeanSquaredError: the mask"):
        MeanSquaredError().get(labels, jnp.ones((4, 2)))


def test_a_mask_per_example_still_weighs_them() -> None:
    labels = Masked(jnp.zeros((4, 1)), jnp.array([1.0, 1.0, 0.0, 0.0]))
    predictions = jnp.array([[1.0], [3.0], [100.0], [100.0]])
    assert float(MeanSquaredError().get(labels, predictions)) == 5.0


class _MeanOfZ(AbstractLoss):
    """A loss that returns the batch's mean (wrong) of the head "z"."""

    def losses(self, labels: jax.Array, predictions: dict) -> jax.Array:
        return jnp.mean((predictions["z"] - labels) ** 2)


class _PerExampleOfZ(AbstractLoss):
    def losses(self, labels: jax.Array, predictions: dict) -> jax.Array:
        return jnp.sum((predictions["z"] - labels) ** 2, axis=1)


def test_losses_are_checked_past_a_scalar_output() -> None:
    outputs = {"a_temperature": jnp.array(1.0), "z": jnp.ones((4, 2))}
    with pytest.raises(LossShapeError, match=r"returned f32\[\] .* shape \(4,\)"):
        _MeanOfZ().get(jnp.zeros((4, 2)), outputs)
    assert float(_PerExampleOfZ().get(jnp.zeros((4, 2)), outputs)) == 2.0
