"""A class label that is not one of the logits' classes is an error, not a NaN loss.

`optax.softmax_cross_entropy_with_integer_labels` gives NaN for a label past the
logits (or below 0), which a game or a hand-written training loop then follows
silently; `fit` checks its data first, but the loss lens is used without it too.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings, strategies as st

import cdl

LOSS = cdl.SoftmaxCrossEntropy()
LOGITS = jnp.linspace(-1.0, 1.0, 8).reshape(2, 4)
JITTED = jax.jit(LOSS.get)


def test_a_label_past_the_classes_is_named_with_its_example() -> None:
    with pytest.raises(cdl.optics.LossShapeError, match="label 7 of example 1"):
        LOSS.get(jnp.array([0, 7]), LOGITS)
    with pytest.raises(cdl.optics.LossShapeError, match="label -1 of example 0"):
        LOSS.get(np.array([-1, 2]), LOGITS)


def test_in_a_sequence_the_example_is_named_not_the_position() -> None:
    labels = jnp.array([[0, 1, 2], [3, 9, 0]])
    with pytest.raises(cdl.optics.LossShapeError, match="label 9 of example 1"):
        LOSS.get(labels, jnp.zeros((2, 3, 4)))


def test_under_jit_the_program_raises_instead_of_returning_nan() -> None:
    run = eqx.filter_jit(LOSS.get)
    with pytest.raises(eqx.EquinoxRuntimeError, match="not a class of the 4 logits"):
        run(jnp.array([0, 4]), LOGITS)
    grad = eqx.filter_jit(jax.grad(lambda p, y: LOSS.get(y, p)))
    with pytest.raises(eqx.EquinoxRuntimeError, match="labels must lie in 0..3"):
        grad(LOGITS, jnp.array([5, 0]))


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=2))
def test_labels_in_range_give_optax_s_loss(labels: list[int]) -> None:
    y = jnp.asarray(labels)
    want = optax.softmax_cross_entropy_with_integer_labels(LOGITS, y).mean()
    np.testing.assert_allclose(LOSS.get(y, LOGITS), want, rtol=1e-6)
    np.testing.assert_allclose(JITTED(y, LOGITS), want, rtol=1e-6)
