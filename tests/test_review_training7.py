"""Losses and checkpoints that still let bad input by, found reviewing training7.

- `Masked` labels whose mask is not one weight per example broadcast against
  the losses: a per-token mask ``(batch, time)`` (with as many positions as
  examples) or a mask ``(batch, 1)`` gave a wrong mean without a word, other
  shapes a bare JAX broadcasting error.
- `AbstractLoss.value` took the batch from the outputs' first leaf, so outputs
  whose first leaf is one number (a dict with a scalar head) skipped the check
  that `losses` give one value per example.
- A checkpoint whose state ends in arrays the code no longer has reads that
  state whole; the recorded layout was consulted only while reading the state,
  so the error named the key read after it (``at  where ... uint32[2]``).
"""

import jax
import jax.numpy as jnp
import pytest

from cdl.optics import (
    AbstractLoss,
    CheckpointError,
    LossShapeError,
    Masked,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    TrainState,
    load_checkpoint,
    save_checkpoint,
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


def _state(model_state: dict) -> TrainState:
    return TrainState({"w": jnp.zeros(3)}, (), jnp.zeros([], jnp.int32), model_state)


def test_state_arrays_gone_from_the_end_are_named(tmp_path: object) -> None:
    saved = _state({"a": jnp.zeros(2), "b": jnp.zeros(4)})
    save_checkpoint(tmp_path, saved, key=jax.random.key(0), epoch=1, history={})
    with pytest.raises(
        CheckpointError,
        match=r"it holds float32\[4\] at \.model_state\['b'\], which this learner",
    ):
        load_checkpoint(tmp_path, _state({"a": jnp.zeros(2)}))
    restored = load_checkpoint(tmp_path, saved)
    assert restored.epoch == 1


def test_a_batch_of_one_is_one_example() -> None:
    with pytest.raises(LossShapeError, match=r"a batch of 1 example: it must"):
        _MeanOfZ().get(jnp.zeros((1, 2)), {"z": jnp.ones((1, 2))})
    labels = Masked(jnp.zeros((1, 2)), jnp.ones(2))
    with pytest.raises(LossShapeError, match=r"a batch of 1 example: give"):
        MeanSquaredError().get(labels, jnp.ones((1, 2)))
