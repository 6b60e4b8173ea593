"""Meta-learning as composition: learn a hyperparameter through the inner steps.

A run of inner training steps is itself a composite of learners, and so a
differentiable function of everything in them, the optimiser's hyperparameters
included. `MetaLearner` unrolls a few inner steps, reads the loss on held-out data,
and differentiates it with respect to a hyperparameter (e.g. the learning rate); an
outer optimiser lens then updates that hyperparameter.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD, Adam, MetaLearner
>>> model = cdl.Linear(1, 1, key=jax.random.key(0))
>>> learner = Learner(model, MeanSquaredError(), SGD(jnp.array(0.01)))
>>> meta = MetaLearner(learner, lambda m: m.optimiser.learning_rate, Adam(0.1))
>>> xs = jnp.linspace(-1, 1, 16)[:, None]
>>> hyper, meta_state, state = meta.init(model)
>>> for _ in range(5):
...     hyper, meta_state, state, _ = meta.step(
...         hyper, meta_state, state, (xs[None], 2 * xs[None]), (xs, 2 * xs))
>>> bool(hyper > 0.01)      # a larger step size fits faster
True
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
from jaxtyping import Array, Float

from .._para import Para
from .._space import SeqVar, TensorSpace, space_of
from . import _messages
from ._learner import Learner, TrainState
from ._optimiser import AbstractOptimiser


def _identity(x: Any) -> Any:
    return x


def unroll(
    learner: Learner, state: TrainState, xs: Any, ys: Any
) -> tuple[TrainState, Float[Array, " steps"]]:
    """Run one learner step per batch of `xs`, `ys` (stacked on a leading axis).

    **Arguments:** `learner`; `state`; `xs`, `ys` of shape ``(steps, batch, ...)``.

    **Returns:** the final state and the loss of every step, differentiable in
    everything (a `jax.lax.scan`).

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, unroll
    >>> model = cdl.Bias(1)
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.25))
    >>> _, losses = unroll(learner, learner.init(model), jnp.zeros((3, 2, 1)),
    ...                    jnp.ones((3, 2, 1)))
    >>> losses
    Array([1.    , 0.25  , 0.0625], dtype=float32)
    """
    _check_stacked(learner, xs)

    def body(
        state: TrainState, batch: tuple[Any, Any]
    ) -> tuple[TrainState, Float[Array, ""]]:
        return learner.step(state, *batch)

    return jax.lax.scan(body, state, (xs, ys))


def _check_stacked(learner: Learner, xs: Any) -> None:
    """Raise ValueError for an array of inputs that is one batch, not a stack.

    Scanned over, one batch of a model of ``float[3]`` gave each step a single
    example, which the step then mapped over its numbers: an error about the
    model's input that did not say the batches were not stacked.
    """
    dom = getattr(learner.model.skeleton, "dom", None)
    if not (learner.per_example and isinstance(xs, jax.Array)):
        return
    if not isinstance(dom, TensorSpace) or any(
        isinstance(d, SeqVar) for d in dom.shape
    ):
        return
    if xs.ndim != len(dom.shape) + 2:
        raise ValueError(
            _messages.not_stacked(learner.label, dom, space_of(xs), len(dom.shape) + 2)
        )


class MetaLearner(eqx.Module):
    """Learns a hyperparameter of `learner` by differentiating through its steps.

    **Arguments:**

    - `learner`: the inner learner; its hyperparameter must be an array (e.g.
      ``SGD(jnp.array(0.01))``).
    - `where`: picks the hyperparameter out of the learner, as for
      `equinox.tree_at`.
    - `optimiser`: the outer optimiser lens, updating the meta-parameter.
    - `via`: maps the meta-parameter to the hyperparameter (e.g. `jnp.exp` to learn
      a log learning rate); the identity by default.

    **Returns:** the meta-learner.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, MetaLearner
    >>> model = cdl.Bias(1)
    >>> learner = Learner(model, MeanSquaredError(), SGD(jnp.array(0.1)))
    >>> meta = MetaLearner(learner, lambda m: m.optimiser.learning_rate, SGD(0.1))
    >>> meta.hyperparameter(jnp.array(0.3))
    Array(0.3, dtype=float32, weak_type=True)
    """

    learner: Learner
    where: Callable[[Learner], Any] = eqx.field(static=True)
    optimiser: AbstractOptimiser
    via: Callable[[Any], Any] = eqx.field(static=True, default=_identity)

    def hyperparameter(self, meta_params: Any) -> Any:
        """The hyperparameter for meta-parameters `meta_params` (``via``)."""
        return self.via(meta_params)

    def learner_at(self, meta_params: Any) -> Learner:
        """The inner learner with the hyperparameter set from `meta_params`."""
        learner: Learner = eqx.tree_at(self.where, self.learner, self.via(meta_params))
        return learner

    def init(
        self, model: Para[Any, Any], meta_params: Any = None
    ) -> tuple[Any, Any, TrainState]:
        """The meta-parameters, the outer optimiser's state and the inner state.

        **Arguments:** `model`; `meta_params`, the starting meta-parameters (by
        default the learner's hyperparameter as it is, which needs `via` to be
        the identity).

        **Returns:** ``(meta_params, meta_state, state)``.
        """
        if meta_params is None:
            meta_params = self.where(self.learner)
        state = self.learner.init(model)
        return meta_params, self.optimiser.init(meta_params), state

    def step(
        self,
        meta_params: Any,
        meta_state: Any,
        state: TrainState,
        train: tuple[Any, Any],
        validation: tuple[Any, Any],
    ) -> tuple[Any, Any, TrainState, Float[Array, ""]]:
        """Unroll the inner steps, then update the meta-parameters by their gradient.

        **Arguments:** `meta_params`, `meta_state`, `state`; `train`, batches
        ``(xs, ys)`` stacked as ``(steps, batch, ...)``; `validation`, one batch on
        which the unrolled run is judged.

        **Returns:** new meta-parameters and meta-state, the inner state after the
        unrolled steps (training goes on from there), and the validation loss.
        """

        def judged(meta: Any) -> tuple[Float[Array, ""], TrainState]:
            learner = self.learner_at(meta)
            after, _ = unroll(learner, state, *train)
            return learner.evaluate(after, *validation), after

        (loss, after), grads = jax.value_and_grad(judged, has_aux=True)(meta_params)
        meta_state, meta_params = self.optimiser.put((meta_state, meta_params), grads)
        return meta_params, meta_state, after, loss
