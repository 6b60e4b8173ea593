"""`fit` as a new user calls it: a binary classifier's accuracy, data given as a
generator or a list of examples, and a model with two outputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    AbstractLoss,
    Adam,
    DataError,
    Learner,
    LossShapeError,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    accuracy,
    fit,
)

K = jax.random.split(jax.random.key(0), 4)
X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
SETTINGS = {"epochs": 1, "batch_size": 8, "key": K[3], "progress": False}


def test_accuracy_of_one_logit_reads_its_sign() -> None:
    # One output, as BinaryCrossEntropy takes: its arg-max was always class 0,
    # so the "accuracy" was the share of label 0, whatever the model.
    logits = jnp.array([[2.0], [-1.0], [0.5], [-3.0]])
    labels = jnp.array([[1], [0], [0], [0]])
    assert accuracy.per_example(logits, labels).tolist() == [1.0, 1.0, 0.0, 1.0]
    assert accuracy.per_example(logits, labels[:, 0]).tolist() == [1, 1, 0, 1]


@pytest.mark.parametrize("labels", [jnp.zeros((4, 2)), jnp.eye(4)[:, :2]])
def test_accuracy_of_labels_not_classes_is_an_error(labels: jax.Array) -> None:
    # Regression targets (or one-hot labels) broadcast against the arg-max.
    with pytest.raises(ValueError, match=r"outputs are float32\[4, 2\] and the labels"):
        accuracy.per_example(jnp.zeros((4, 2)), labels)


def test_a_generator_or_an_iterator_of_data_is_named() -> None:
    model = cdl.Linear(3, 1, key=K[0])
    learner = Learner(model, MeanSquaredError(), Adam(1e-2))
    batches = ((X[i : i + 8], X[i : i + 8, :1]) for i in range(0, 40, 8))
    with pytest.raises(DataError, match="the inputs are a generator, which is not"):
        fit(learner, model, batches, **SETTINGS)
    with pytest.raises(DataError, match="the labels are an iterator, which is not"):
        fit(learner, model, X, iter(X[:, :1]), **SETTINGS)


def test_a_python_list_of_examples_of_one_shape_is_named() -> None:
    # A list of 40 rows of 3 read as 40 inputs of 3 examples each: "3 inputs
    # but 40 labels".
    model = cdl.Linear(3, 1, key=K[0])
    learner = Learner(model, MeanSquaredError(), Adam(1e-2))
    with pytest.raises(DataError, match=r"Python list of 40 values with \[3\] rows"):
        fit(learner, model, list(X), X[:, :1], **SETTINGS)
    pairs = [(x, x[:1]) for x in X]
    with pytest.raises(DataError, match=r"list of 40 values with \[1, 3\] rows"):
        fit(learner, model, pairs, **SETTINGS)


class _Both(AbstractLoss):
    def losses(self, labels: tuple, predictions: tuple) -> jax.Array:
        regression = MeanSquaredError().losses(labels[0], predictions[0])
        return regression + SoftmaxCrossEntropy().losses(labels[1], predictions[1])


TWO = (
    cdl.Linear(3, 4, key=K[0])
    >> cdl.Copy()
    >> (cdl.Linear(4, 1, key=K[1]) @ cdl.Linear(4, 2, key=K[2]))
)
TWO_LABELS = (X[:, :1], (X[:, 0] > 0).astype(np.int32))


def test_a_model_with_two_outputs_needs_one_loss_of_both() -> None:
    two, ys = TWO, TWO_LABELS
    with pytest.raises(LossShapeError, match="but was given a tuple: for a model"):
        MeanSquaredError().get(ys, jax.vmap(two)(X))
    pair = Learner(two, MeanSquaredError() @ SoftmaxCrossEntropy(), Adam(1e-2))
    state = pair.init(two)
    with pytest.raises(TypeError, match=r"must be one number, but it is float32\[\] ×"):
        jax.eval_shape(pair.step, state, X[:8], (ys[0][:8], ys[1][:8]))


@pytest.mark.slow
def test_the_loss_the_error_suggests_trains_a_model_with_two_outputs() -> None:
    result = fit(Learner(TWO, _Both(), Adam(1e-2)), TWO, X, TWO_LABELS, **SETTINGS)
    assert np.isfinite(result.history["loss"][0])
