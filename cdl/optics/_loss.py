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
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

from .._para import Para
from . import _messages
from ._para_lens import AbstractParaLens, ReverseDerivative

_SPLIT: Final[ContextVar[bool]] = ContextVar("cdl_loss_split", default=False)


@contextlib.contextmanager
def split_over_devices(split: bool = True) -> Iterator[None]:
    """Trace the losses inside for a batch split over the devices of a mesh.

    A label that is not one of the logits' classes is then no run-time error
    (``equinox.error_if``), which on several devices gathers the logits onto
    one device at every step and, when it fires, stops that device alone while
    the others wait for it in the gradients' reduction until the process
    aborts. The loss of such an example is NaN instead, and so the gradient
    (`fit` checks every label on the host before training anyway).

    **Arguments:** `split`, whether the batch is split (`Learner.mesh`).

    **Returns:** a context manager.

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import SoftmaxCrossEntropy
    >>> from cdl.optics._loss import split_over_devices
    >>> loss = jax.jit(SoftmaxCrossEntropy().get)
    >>> with split_over_devices():
    ...     loss(jnp.array([3]), jnp.zeros((1, 2)))
    Array(nan, dtype=float32)
    """
    token = _SPLIT.set(split)
    try:
        yield
    finally:
        _SPLIT.reset(token)


def check_scalar_loss(name: str, loss: Any) -> None:
    """Raise `TypeError` unless the loss of a batch is one number.

    A tensor of losses (``MeanSquaredError() @ SoftmaxCrossEntropy()``) gives a
    tuple, which no gradient descent can follow.
    """
    if not (isinstance(loss, jax.Array) and loss.shape == ()):
        given = " × ".join(
            f"{leaf.dtype}{list(leaf.shape)}" for leaf in jax.tree.leaves(loss)
        )
        raise TypeError(_messages.loss_not_scalar(name, given))


class LossShapeError(ValueError):
    """Labels and predictions a loss cannot compare: their shapes differ.

    >>> import jax.numpy as jnp, cdl
    >>> try:
    ...     cdl.BinaryCrossEntropy().get(jnp.zeros(4), jnp.zeros((4, 1)))
    ... except cdl.LossShapeError as error:
    ...     print(error)
    BinaryCrossEntropy: labels f32[4] and predictions f32[4,1] differ in shape: \
give labels of shape (4, 1).
    """


def _shape(x: Any) -> str:
    text: str = jax.typeof(jnp.asarray(x)).str_short(short_dtypes=True)
    return text


def _one_array(loss: "AbstractLoss", labels: Any, predictions: Any) -> None:
    """Raise `LossShapeError` for the outputs of a model with several outputs."""
    for given in (labels, predictions):
        if isinstance(given, tuple | list | dict):
            raise LossShapeError(
                _messages.several_outputs(loss.label, type(given).__name__)
            )


def _same_shape(loss: "AbstractLoss", labels: Any, predictions: Any) -> None:
    _one_array(loss, labels, predictions)
    labels, predictions = jnp.asarray(labels), jnp.asarray(predictions)
    if predictions.ndim == 0:
        raise LossShapeError(
            _messages.loss_without_batch(
                loss.label, _shape(labels), _shape(predictions), (1,), (1,)
            )
        )
    if labels.shape != predictions.shape:
        raise LossShapeError(
            _messages.loss_shapes(
                loss.label, _shape(labels), _shape(predictions), predictions.shape
            )
        )


class Masked(eqx.Module):
    """Labels with a weight per example: padding rows weigh 0 and do not count.

    A loss given `Masked` labels averages over the examples of weight 1 only; `fit`
    uses it for batches padded to a fixed size (graphs).

    **Arguments:** `labels`; `mask`, a float array ``(batch,)`` of 0s and 1s.

    **Returns:** the masked labels, a pytree.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Masked, MeanSquaredError
    >>> labels = Masked(jnp.zeros((2, 1)), jnp.array([1.0, 0.0]))
    >>> MeanSquaredError().get(labels, jnp.array([[2.0], [100.0]]))
    Array(4., dtype=float32)
    """

    labels: Any
    mask: Float[Array, " batch"]


class AbstractLoss(AbstractParaLens[Any, Float[Array, ""]]):
    """A loss lens: parameters are the labels, input the predictions, output a scalar.

    Subclasses define `losses`, the loss of each example of a batch; `value` is
    their mean (over the examples of weight 1 for `Masked` labels), and `forward`
    and `backward` are its `jax.vjp`. One example without a batch axis (a scalar
    prediction, one row of logits) is a `LossShapeError`: give it as a batch of one.

    **Arguments:** those of the subclass.

    **Returns:** the loss lens.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import BinaryCrossEntropy
    >>> float(BinaryCrossEntropy().get(jnp.ones(1), jnp.zeros(1)))  # log 2
    0.693...
    """

    @abc.abstractmethod
    def losses(self, labels: Any, predictions: Any) -> Array:
        """The loss of each example of a batch of `predictions` against `labels`."""

    @property
    def label(self) -> str:
        """The loss's class name."""
        return type(self).__name__

    def value(self, labels: Any, predictions: Any) -> Float[Array, ""]:
        """The mean loss of a batch (over its examples of weight 1 when masked).

        `losses` give one value per example, or one per position of each example
        (a token, a node: shape ``(batch, ...)``), all averaged. A mask weighs
        each example, or each value `losses` give (a mask of their shape: the
        mean over the unmasked tokens of a padded batch of sequences, say). A
        batch of no examples is a `LossShapeError` (its mean is undefined), and
        so are `losses` without the batch's leading axis (the batch's own mean,
        which the mask could not weigh) and a mask of another shape.

        >>> import jax.numpy as jnp
        >>> from cdl.optics import AbstractLoss, Masked
        >>> class TokenLoss(AbstractLoss):
        ...     def losses(self, labels, predictions):
        ...         return (predictions - labels) ** 2  # (batch, time)
        >>> valid = jnp.array([[1, 1, 1], [1, 0, 0]])  # the second is padded
        >>> float(TokenLoss().get(Masked(jnp.zeros((2, 3)), valid), jnp.ones((2, 3))))
        1.0
        """
        leaves = jax.tree.leaves(predictions)
        if leaves and all(jnp.ndim(x) >= 1 and jnp.shape(x)[0] == 0 for x in leaves):
            raise LossShapeError(_messages.empty_batch(self.label, _shape(leaves[0])))
        given = labels.labels if isinstance(labels, Masked) else labels
        losses = jnp.asarray(self.losses(given, predictions))
        # The batch is the leading axis of the outputs that have one (a head
        # giving one number for the whole batch has none).
        batched = [x for x in leaves if jnp.ndim(x)]
        rows = jnp.shape(batched[0])[0] if batched else None
        if rows is not None and losses.shape[:1] != (rows,):
            # The batch's mean (or another's rows) cannot be weighed per example.
            raise LossShapeError(
                _messages.losses_not_per_example(self.label, _shape(losses), rows)
            )
        if not isinstance(labels, Masked):
            return jnp.mean(losses)
        mask = jnp.shape(labels.mask)
        if rows is not None and mask not in ((rows,), losses.shape):
            # Another shape would broadcast against the losses (or fail inside
            # JAX): one weight per example, or one per value.
            raise LossShapeError(
                _messages.mask_not_per_example(self.label, mask, rows, losses.shape)
            )
        weights = labels.mask.astype(jnp.result_type(float))
        weights = jnp.broadcast_to(
            weights.reshape(weights.shape + (1,) * (losses.ndim - weights.ndim)),
            losses.shape,
        )
        total = jnp.sum(losses * weights)
        return total / jnp.maximum(jnp.sum(weights), 1.0)

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

    **Returns:** the loss lens; labels must have the shape of the predictions
    (a `LossShapeError` names both shapes otherwise: nothing broadcasts).

    >>> import jax.numpy as jnp
    >>> from cdl.optics import MeanSquaredError
    >>> MeanSquaredError().get(jnp.zeros((1, 2)), jnp.ones((1, 2)))
    Array(2., dtype=float32)
    >>> MeanSquaredError().get(jnp.zeros(3), jnp.ones((3, 1)))
    Traceback (most recent call last):
    ...
    cdl.optics._loss.LossShapeError: MeanSquaredError: labels f32[3] and \
predictions f32[3,1] differ in shape: give labels of shape (3, 1).
    """

    def losses(self, labels: Array, predictions: Array) -> Array:
        """The squared distance of each example."""
        _same_shape(self, labels, predictions)
        error = (predictions - labels).reshape(predictions.shape[0], -1)
        return jnp.sum(error**2, axis=1)


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

    def losses(self, labels: Any, predictions: Any) -> Array:
        """``logsumexp(logits) - logits[label]`` of each example.

        An example with several labels (a sequence) averages over its positions.
        """
        _one_array(self, labels, predictions)
        labels, predictions = jnp.asarray(labels), jnp.asarray(predictions)
        if not jnp.issubdtype(labels.dtype, jnp.integer):
            raise LossShapeError(
                _messages.labels_not_integer(self.label, _shape(labels))
            )
        if predictions.ndim == 1 and labels.ndim == 0:
            raise LossShapeError(
                _messages.loss_without_batch(
                    self.label,
                    _shape(labels),
                    _shape(predictions),
                    (1,),
                    (1, *predictions.shape),
                )
            )
        if predictions.ndim < 2:
            raise LossShapeError(
                _messages.logits_without_classes(
                    self.label, _shape(labels), _shape(predictions)
                )
            )
        if labels.shape != predictions.shape[:-1]:
            raise LossShapeError(
                _messages.class_labels_shape(
                    self.label,
                    _shape(labels),
                    _shape(predictions),
                    predictions.shape[:-1],
                )
            )
        predictions = _classes_only(self.label, labels, predictions)
        losses = optax.softmax_cross_entropy_with_integer_labels(predictions, labels)
        mean: Array = losses.reshape(losses.shape[0], -1).mean(axis=1)
        return mean


def _classes_only(loss: str, labels: Array, logits: Array) -> Array:
    """`logits`, or an error naming a label that is not one of their classes.

    Checked on the host when the labels are known, else (under `jax.jit`) when the
    program runs, on the logits so that a gradient alone keeps the check: a label
    past the logits would give a loss of NaN and a gradient that ignores it. On
    a mesh (`split_over_devices`) such an example's logits are NaN instead.
    """
    classes = logits.shape[-1]
    split = _SPLIT.get()
    concrete = not isinstance(labels, jax.core.Tracer)
    if concrete and getattr(labels, "is_fully_addressable", True):
        known = np.asarray(labels).reshape(-1)
        bad = np.flatnonzero((known < 0) | (known >= classes))
        if bad.size:
            flat = int(bad[0])
            example = flat // max(known.size // max(len(labels), 1), 1)
            raise LossShapeError(
                _messages.label_out_of_range(loss, int(known[flat]), example, classes)
            )
        return logits
    if split or concrete:
        # Row by row, with nothing to gather: NaN flows into the loss and,
        # added to the logits, into the gradient too.
        outside_rows = (labels < 0) | (labels >= classes)
        nan = jnp.where(outside_rows, jnp.nan, 0.0).astype(logits.dtype)
        poisoned: Array = logits + nan[..., None]
        return poisoned
    outside = jnp.any((labels < 0) | (labels >= classes))
    checked: Array = eqx.error_if(
        logits, outside, _messages.labels_past_classes(loss, classes)
    )
    return checked


def outside_unit(labels: Any) -> tuple[int, float] | None:
    """The first label outside ``[0, 1]`` (its example and value), or None.

    **Arguments:** `labels`, concrete, with the examples along the leading axis.

    **Returns:** ``(example, value)`` of the first offending label, or None.

    >>> import numpy as np
    >>> from cdl.optics._loss import outside_unit
    >>> outside_unit(np.array([[0.0], [1.0], [-1.0]]))
    (2, -1.0)
    """
    values = np.asarray(labels)
    if values.ndim == 0 or values.shape[0] == 0:
        return None
    rows = values.reshape(values.shape[0], -1)
    outside = ~((rows >= 0) & (rows <= 1))  # NaN is outside too
    if not outside.any():
        return None
    index = int(np.argmax(outside.any(axis=1)))
    return index, float(rows[index][outside[index]][0])


class BinaryCrossEntropy(AbstractLoss):
    """Binary cross-entropy of sigmoid(logits) against targets in ``[0, 1]``.

    Summed over an example's outputs (the labels of a multi-label example),
    averaged over the batch, as `MeanSquaredError` sums its squared errors:
    with 5 labels an example costs 5 times the mean over its labels that
    Keras' ``binary_crossentropy`` and PyTorch's ``BCEWithLogitsLoss`` give.

    **Arguments:** none.

    **Returns:** the loss lens; labels and logits share a shape ``(batch, ...)``
    (a `LossShapeError` names both shapes otherwise). Labels outside ``[0, 1]``
    (e.g. classes -1/1) are refused with ValueError where they are concrete:
    called outside `jax.jit`, and by `fit`, which checks its data before
    training. Inside a jitted step of your own they are traced and not checked.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import BinaryCrossEntropy
    >>> BinaryCrossEntropy().put(jnp.ones(1), jnp.zeros(1), jnp.array(1.0))[1]
    Array([-0.5], dtype=float32)
    >>> BinaryCrossEntropy().get(jnp.array([1.0, -1.0]), jnp.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: BinaryCrossEntropy: label -1 of example 1 is outside [0, 1]: \
give targets between 0 and 1 (map classes -1/1 to 0/1).
    """

    def losses(self, labels: Any, predictions: Any) -> Array:
        """The numerically stable sigmoid cross-entropy of each example."""
        _same_shape(self, labels, predictions)
        if not isinstance(labels, jax.core.Tracer):
            found = outside_unit(labels)
            if found is not None:
                raise ValueError(_messages.label_outside_unit(self.label, *found))
        losses = optax.sigmoid_binary_cross_entropy(predictions, labels)
        total: Array = losses.reshape(predictions.shape[0], -1).sum(1)
        return total


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
