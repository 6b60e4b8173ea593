"""Metrics: numbers read from a model's outputs on a batch, averaged over examples.

A metric is computed one example at a time (`per_example`), so that `fit` can
average it over batches of any kind, skipping the padding of padded batches.

>>> import jax.numpy as jnp
>>> from cdl.optics import accuracy
>>> accuracy.per_example(jnp.array([[0.0, 1.0], [2.0, 0.0]]), jnp.array([1, 1]))
Array([1., 0.], dtype=float32)
"""

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._para import Para
from . import _messages


def _shape(array: Array) -> str:
    return f"{array.dtype}{list(array.shape)}"


class AbstractMetric(eqx.Module):
    """A metric: one number per example from the model's outputs and the labels.

    Subclasses define `per_example`. Calling the metric with a model and a batch,
    ``metric(model, xs, ys)``, maps the model over the batch and averages.

    **Arguments:** those of the subclass.

    **Returns:** the metric.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import accuracy
    >>> accuracy(cdl.Identity(), jnp.eye(2), jnp.array([0, 0]))
    Array(0.5, dtype=float32)
    """

    @abc.abstractmethod
    def per_example(self, outputs: Any, labels: Any) -> Array:
        """The metric of each example of a batch of `outputs` against `labels`."""

    def __call__(self, model: Para[Any, Any], xs: Any, ys: Any) -> Float[Array, ""]:
        """The mean over a batch of the metric of `model`'s outputs."""
        return jnp.mean(self.per_example(jax.vmap(model)(xs), ys))


class Accuracy(AbstractMetric):
    """The fraction of examples whose predicted class is their integer label.

    The predicted class is the arg-max of the outputs, or, for a single output
    (one logit, as `BinaryCrossEntropy` takes it), 1 where it is positive. Labels
    of another shape (a regression's targets) are an error, not broadcast.

    **Arguments:** none.

    **Returns:** the metric (`accuracy` is one).

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import accuracy
    >>> accuracy(cdl.Identity(), jnp.eye(3), jnp.array([0, 1, 0]))
    Array(0.6666667, dtype=float32)
    >>> accuracy(cdl.Identity(), jnp.array([[2.0], [-1.0]]), jnp.array([[1], [1]]))
    Array(0.5, dtype=float32)
    """

    def per_example(self, outputs: Any, labels: Any) -> Array:
        """1.0 where the predicted class is the label, else 0.0.

        An example with several labels (a sequence) averages over its positions.
        """
        outputs, labels = jnp.asarray(outputs), jnp.asarray(labels)
        if outputs.shape[-1:] == (1,) and labels.shape in (
            outputs.shape,
            outputs.shape[:-1],
        ):
            predicted = (outputs[..., 0] > 0).astype(labels.dtype)
            right = predicted == labels.reshape(predicted.shape)
        elif labels.shape == outputs.shape[:-1]:
            right = jnp.argmax(outputs, axis=-1) == labels
        else:
            raise ValueError(_messages.accuracy_shapes(_shape(outputs), _shape(labels)))
        mean: Array = right.reshape(right.shape[0], -1).mean(axis=1, dtype=jnp.float32)
        return mean


accuracy = Accuracy()
"""The fraction of examples whose arg-max output is their label (`Accuracy`)."""
