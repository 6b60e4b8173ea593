"""Losses as parametric lenses: the labels are the parameters, the loss the output.

A loss ``(Y, Y') × (B, B') → (L, L')`` reads the loss of predictions ``b`` against
labels ``y`` and sends a change of the loss back to changes of both: ``b'`` trains
the model, ``y'`` trains whatever produced the labels (a generator, in a GAN). Every
loss here acts on a batch along the leading axis and averages over it; its backward
pass is the `jax.vjp` of that average.

>>> import jax.numpy as jnp
>>> from cdl.optics import MeanSquaredError
>>> mse = MeanSquaredError()
>>> labels, preds = jnp.zeros((2, 1)), jnp.array([[1.0], [3.0]])
>>> mse.get(labels, preds)
Array(5., dtype=float32)
>>> mse.put(labels, preds, jnp.array(1.0))[1]
Array([[1.],
       [3.]], dtype=float32)
"""

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._para import Para
from ._para_lens import AbstractParaLens, ReverseDerivative


class AbstractLoss(AbstractParaLens[Any, Float[Array, ""]]):
    """A loss lens: parameters are the labels, input the predictions, output a scalar.

    Subclasses define `value`, the mean loss over a batch; `forward` and `backward`
    are its `jax.vjp`.

    **Arguments:** those of the subclass.

    **Returns:** the loss lens.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import BinaryCrossEntropy
    >>> float(BinaryCrossEntropy().get(jnp.ones(1), jnp.zeros(1)))  # log 2
    0.693...
    """

    @abc.abstractmethod
    def value(self, labels: Any, predictions: Any) -> Float[Array, ""]:
        """The mean loss of a batch of `predictions` against its `labels`."""

    def forward(
        self, p: Any, a: Any, *, key: PRNGKeyArray | None = None
    ) -> tuple[Float[Array, ""], Any]:
        """The loss, keeping its `jax.vjp` as the residual."""
        loss, pullback = jax.vjp(self.value, p, a)
        return loss, pullback

    def get(
        self, p: Any, a: Any, *, key: PRNGKeyArray | None = None
    ) -> Float[Array, ""]:
        """The loss alone."""
        return self.value(p, a)

    def backward(self, residual: Any, db: Any) -> tuple[Any, Any]:
        """Changes of labels and predictions for a change `db` of the loss."""
        dy, da = residual(db)
        return dy, da


class MeanSquaredError(AbstractLoss):
    """Squared error summed over features, averaged over the batch.

    **Arguments:** none.

    **Returns:** the loss lens; labels have the shape of the predictions.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import MeanSquaredError
    >>> MeanSquaredError().get(jnp.zeros((1, 2)), jnp.ones((1, 2)))
    Array(2., dtype=float32)
    """

    def value(self, labels: Array, predictions: Array) -> Float[Array, ""]:
        """The squared distance per example, averaged over the batch."""
        error = (predictions - labels).reshape(predictions.shape[0], -1)
        return jnp.mean(jnp.sum(error**2, axis=1))


class SoftmaxCrossEntropy(AbstractLoss):
    """Cross-entropy of softmax(logits) against integer class labels.

    **Arguments:** none.

    **Returns:** the loss lens; labels are ints of shape ``(batch,)``, predictions
    logits of shape ``(batch, classes)``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import SoftmaxCrossEntropy
    >>> float(SoftmaxCrossEntropy().get(jnp.array([0]), jnp.zeros((1, 4))))  # log 4
    1.386...
    """

    def value(self, labels: Any, predictions: Any) -> Float[Array, ""]:
        """Mean of ``logsumexp(logits) - logits[label]``."""
        losses = optax.softmax_cross_entropy_with_integer_labels(predictions, labels)
        return jnp.mean(losses)


class BinaryCrossEntropy(AbstractLoss):
    """Binary cross-entropy of sigmoid(logits) against targets in ``[0, 1]``.

    **Arguments:** none.

    **Returns:** the loss lens; labels and logits share a shape ``(batch, ...)``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import BinaryCrossEntropy
    >>> BinaryCrossEntropy().put(jnp.ones(1), jnp.zeros(1), jnp.array(1.0))[1]
    Array([-0.5], dtype=float32)
    """

    def value(self, labels: Any, predictions: Any) -> Float[Array, ""]:
        """Mean of the numerically stable sigmoid cross-entropy."""
        losses = optax.sigmoid_binary_cross_entropy(predictions, labels)
        return jnp.mean(losses.reshape(predictions.shape[0], -1).sum(axis=1))


class AdversarialCost(AbstractParaLens[Any, Float[Array, ""]]):
    """The loss of one learner given by another: a critic judges its outputs.

    It is the composite ``R(critic) >> loss`` with the loss's labels fixed to
    `target`: the parameters are the critic's, the input a batch of samples. Its
    `put` sends the gradient to the samples (which trains a generator) and to the
    critic (which a minimax game may use or discard).

    **Arguments:** `critic`, a Para morphism from one sample to logits; `target`,
    the label the samples are judged against (1.0: "real"); `loss`, a loss lens
    on logits (binary cross-entropy by default).

    **Returns:** the lens, whose parameters are ``split_parameters(critic)[0]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import AdversarialCost
    >>> critic = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> cost = AdversarialCost(critic)
    >>> dp, dx = cost.put(cdl.parameters(critic), jnp.zeros((3, 2)), jnp.array(1.0))
    >>> dx.shape
    (3, 2)
    """

    critic: ReverseDerivative[Any, Any]
    loss: AbstractLoss
    target: float = eqx.field(static=True)

    def __init__(
        self,
        critic: Para[Any, Any],
        target: float = 1.0,
        loss: AbstractLoss | None = None,
    ) -> None:
        self.critic = ReverseDerivative(critic, batched=True)
        self.loss = BinaryCrossEntropy() if loss is None else loss
        self.target = target

    @property
    def stochastic(self) -> bool:
        """Whether the critic needs a key."""
        return self.critic.stochastic

    def forward(
        self, p: Any, a: Any, *, key: PRNGKeyArray | None = None
    ) -> tuple[Float[Array, ""], Any]:
        """Judge the batch `a` with the critic at parameters `p`."""
        logits, r1 = self.critic.forward(p, a, key=key)
        labels = jnp.full(logits.shape, self.target, logits.dtype)
        loss, r2 = self.loss.forward(labels, logits)
        return loss, (r1, r2)

    def get(
        self, p: Any, a: Any, *, key: PRNGKeyArray | None = None
    ) -> Float[Array, ""]:
        """The critic's judgement of `a` alone."""
        logits = self.critic.get(p, a, key=key)
        return self.loss.get(jnp.full(logits.shape, self.target, logits.dtype), logits)

    def backward(self, residual: Any, db: Any) -> tuple[Any, Any]:
        """Back through the loss, then the critic."""
        r1, r2 = residual
        _, dlogits = self.loss.backward(r2, db)
        return self.critic.backward(r1, dlogits)
