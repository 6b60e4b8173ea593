"""Learners: a model, a loss and an optimiser composed into one training step.

Following Cruttwell, Gavranović, Ghani, Wilson and Zanasi, a learner is the composite
of parametric lenses

    optimiser  ;  R(model)  >>  loss  ;  cap

whose forward pass runs the model on a batch and reads the loss, and whose backward
pass starts from the loss's unit change (the cap), pulls it back through the loss and
the model, and lets the optimiser turn the parameters' change into new parameters. A
training step is that one composite, run on a batch (``vmap``) and jitted as a whole.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD
>>> model = cdl.Linear(1, 1, key=jax.random.key(0))
>>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
>>> state = learner.init(model)
>>> xs = jnp.linspace(-1, 1, 8)[:, None]
>>> step = jax.jit(learner.step)
>>> for _ in range(200):
...     state, loss = step(state, xs, 3 * xs - 1)
>>> bool(loss < 1e-6)
True
"""

from collections.abc import Callable, Iterable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._para import Para
from ..nn import inference_mode
from ..schemes import NodeTable
from . import _messages
from ._loss import check_scalar_loss, split_over_devices
from ._optimiser import AbstractOptimiser
from ._para_lens import AbstractParaLens, ReverseDerivative, split_parameters
from ._sharding import (
    AbstractParameterRule,
    ParameterRule,
    as_rule,
    place_like,
)
from ._stateful import step_with_state

_partition: Callable[..., Any] = PartitionSpec
_constrain: Callable[[Any, Any], Any] = jax.lax.with_sharding_constraint


class TrainState(eqx.Module):
    """Everything a training run changes: parameters, optimiser state, step count.

    **Arguments:** `params` (a tree like ``split_parameters(model)[0]``),
    `opt_state` (the optimiser's state), `step` (an int32 scalar), `model_state`
    (the state of a model ``x × S → y × S``, e.g. batch norm's running statistics
    in an `equinox.nn.State`; None for a model without one).

    **Returns:** the state, a pytree (save it with `save_checkpoint`).

    >>> import jax, cdl
    >>> from cdl.optics import Learner, SGD, SoftmaxCrossEntropy
    >>> model = cdl.Linear(4, 3, key=jax.random.key(0))
    >>> Learner(model, SoftmaxCrossEntropy(), SGD(0.1)).init(model).step
    Array(0, dtype=int32)
    """

    params: Any
    opt_state: Any
    step: Int[Array, ""]
    model_state: Any = None


def _label(model: object) -> str:
    label = getattr(model, "label", None)
    return label if isinstance(label, str) else type(model).__name__


class Learner(eqx.Module):
    """The composite of a model, a loss and an optimiser, as parametric lenses.

    **Arguments:**

    - `model`: a Para morphism acting on one example; the learner maps it over
      batches.
    - `loss`: a loss lens (e.g. `SoftmaxCrossEntropy`) or any parametric lens
      from a batch of outputs to a scalar whose parameters are the labels.
    - `optimiser`: an optimiser lens (e.g. `Adam`, or `from_optax(...)`).
    - `mesh`: optional `jax.sharding.Mesh` with an axis ``"batch"``: batches
      are then sharded across it, parameters replicated or placed by
      `placement` (see `data_parallel`).
    - `per_example`: True (the default) when the model acts on one example and
      the learner maps it over a batch; False when the model takes a whole batch
      at once (a padded batch of graphs, a forest of trees) and returns one row
      per example. `fit` sets it from the data.
    - `placement`: with a mesh, the rule placing parameters, their gradients
      and the optimiser's moments in shards (e.g. `fsdp()`); None replicates.

    **Returns:** the learner; `init` gives a `TrainState`, `step` trains on a batch.

    >>> import jax, cdl
    >>> from cdl.optics import Learner, Adam, SoftmaxCrossEntropy
    >>> model = cdl.Linear(4, 3, key=jax.random.key(0))
    >>> Learner(model, SoftmaxCrossEntropy(), Adam(1e-3)).label
    'Linear(4→3)'

    An optax transformation is wrapped by `from_optax`:

    >>> import optax
    >>> Learner(model, SoftmaxCrossEntropy(), optax.adam(1e-3))
    Traceback (most recent call last):
    ...
    TypeError: Learner(Linear(4→3)): the optimiser must be a cdl optimiser lens \
(SGD, Adam, ...), not GradientTransformationExtraArgs: wrap an optax \
transformation as from_optax(tx).
    """

    model: ReverseDerivative[Any, Any]
    loss: AbstractParaLens[Any, Float[Array, ""]]
    optimiser: AbstractOptimiser
    mesh: Mesh | None = eqx.field(static=True)
    placement: AbstractParameterRule | None = eqx.field(static=True)

    def __init__(
        self,
        model: Para[Any, Any],
        loss: AbstractParaLens[Any, Float[Array, ""]],
        optimiser: AbstractOptimiser,
        mesh: Mesh | None = None,
        *,
        per_example: bool = True,
        placement: AbstractParameterRule | None = None,
    ) -> None:
        if not isinstance(loss, AbstractParaLens):
            raise TypeError(_messages.not_a_loss(_label(model), loss))
        if not isinstance(optimiser, AbstractOptimiser):
            raise TypeError(_messages.not_an_optimiser(_label(model), optimiser))
        self.model = ReverseDerivative(model, batched=per_example)
        self.loss = loss
        self.optimiser = optimiser
        self.mesh = mesh
        self.placement = placement

    @property
    def per_example(self) -> bool:
        """Whether the model acts on one example (and is mapped over a batch)."""
        return self.model.batched

    def with_model(
        self, model: Para[Any, Any], *, per_example: bool | None = None
    ) -> "Learner":
        """A learner with this one's loss, optimiser and mesh around `model`.

        **Arguments:** `model`; `per_example` (by default this learner's).

        **Returns:** the new learner.

        >>> import jax, cdl
        >>> from cdl.optics import Learner, MeanSquaredError, SGD
        >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
        >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
        >>> learner.with_model(model, per_example=False).per_example
        False
        """
        per = self.per_example if per_example is None else per_example
        return Learner(
            model,
            self.loss,
            self.optimiser,
            self.mesh,
            per_example=per,
            placement=self.placement,
        )

    @property
    def label(self) -> str:
        """The model's label (its class name for a model without one)."""
        return _label(self.model.skeleton)

    @property
    def lens(self) -> AbstractParaLens[Any, Float[Array, ""]]:
        """The composite ``R(model) >> loss``, with parameters ``(params, labels)``."""
        return self.model >> self.loss

    def init(self, model: Para[Any, Any], model_state: Any = None) -> TrainState:
        """The starting state: the parameters of `model`, a fresh optimiser state.

        **Arguments:** `model`, with the structure the learner was built from;
        `model_state`, the state of a model ``x × S → y × S`` (as from
        `equinox.nn.make_with_state`), which the steps then carry.

        **Returns:** the `TrainState` at step 0.
        """
        params = split_parameters(model)[0]
        step = jnp.zeros([], jnp.int32)
        return TrainState(params, self.optimiser.init(params), step, model_state)

    def model_at(self, state: TrainState) -> Para[Any, Any]:
        """The model with the parameters of `state`.

        **Arguments:** `state`.

        **Returns:** the trained Para morphism.

        >>> import jax, jax.numpy as jnp, cdl
        >>> from cdl.optics import Learner, MeanSquaredError, SGD
        >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
        >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
        >>> learner.model_at(learner.init(model))
        Linear(2→1)
        """
        return self.model.morphism(state.params)

    def _check_batch(self, xs: Any) -> None:
        """Raise ValueError unless `xs` has one batch axis to map the model over."""
        if not self.per_example:
            return
        sizes = {
            int(jnp.shape(x)[0]) if jnp.ndim(x) else 0 for x in jax.tree.leaves(xs)
        }
        leaves = jax.tree.leaves(xs)
        if sizes == {0} and all(jnp.ndim(x) for x in leaves):
            raise ValueError(_messages.empty_step_batch(self.label))
        if len(sizes) > 1 or 0 in sizes:
            kind = type(xs).__name__
            raise ValueError(_messages.not_a_batch(self.label, kind, sorted(sizes)))

    def _shard(self, tree: Any) -> Any:
        if self.mesh is None:
            return tree
        sharding = NamedSharding(self.mesh, _partition("batch"))

        def split(x: Any) -> Any:
            # A forest's node table holds levels of nodes, not examples, and
            # numbers beside them: the fold reads it whole, as it was placed.
            if isinstance(x, NodeTable) or not jnp.ndim(x):
                return x
            return _constrain(x, sharding)

        return jax.tree.map(split, tree, is_leaf=lambda x: isinstance(x, NodeTable))

    def _place(self, tree: Any, params: Any) -> Any:
        if self.mesh is None:
            return tree
        return place_like(tree, params, self.mesh, self.placement)

    def evaluate(self, state: TrainState, xs: Any, ys: Any) -> Float[Array, ""]:
        """The loss of the model at `state` on a batch, without training.

        Stochastic layers (`cdl.Dropout`) are switched off, as for `fit`'s
        validation loss (`cdl.inference_mode`), so no key is needed.

        **Arguments:** `state`; `xs` and `ys`, a batch of inputs and labels.

        **Returns:** the scalar loss.

        >>> import jax, jax.numpy as jnp, cdl
        >>> from cdl.optics import Learner, MeanSquaredError, SGD
        >>> model = cdl.Bias(1)
        >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
        >>> learner.evaluate(learner.init(model), jnp.zeros((2, 1)), jnp.ones((2, 1)))
        Array(1., dtype=float32)
        """
        self._check_batch(xs)
        learner = self
        if self.model.skeleton.stochastic:
            learner = self.with_model(inference_mode(self.model.skeleton))
        xs, ys = learner._shard((xs, ys))
        with split_over_devices(self.mesh is not None):
            return learner.lens.get((state.params, ys), xs)

    def step(
        self,
        state: TrainState,
        xs: Any,
        ys: Any,
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[TrainState, Float[Array, ""]]:
        """One training step on a batch: forward through the composite, then back.

        **Arguments:** `state`; `xs`, `ys`, a batch of inputs and labels (leading
        axis); `key`, for stochastic models (e.g. with `Dropout`).

        **Returns:** the new state and the batch's loss before the step.

        >>> import jax, jax.numpy as jnp, cdl
        >>> from cdl.optics import Learner, MeanSquaredError, SGD
        >>> model = cdl.Bias(1)
        >>> learner = Learner(model, MeanSquaredError(), SGD(0.25))
        >>> state, loss = learner.step(learner.init(model), jnp.zeros((2, 1)),
        ...                            jnp.ones((2, 1)))
        >>> state.params.bias, loss
        (Array([0.5], dtype=float32), Array(1., dtype=float32))
        """
        self._check_batch(xs)
        if key is None and self.model.skeleton.stochastic:
            raise ValueError(_messages.step_needs_key(self.label))
        with split_over_devices(self.mesh is not None):
            return self._step(state, xs, ys, key)

    def _step(
        self, state: TrainState, xs: Any, ys: Any, key: PRNGKeyArray | None
    ) -> tuple[TrainState, Float[Array, ""]]:
        if state.model_state is not None:
            params, opt, model_state, loss = step_with_state(self, state, xs, ys, key)
            return TrainState(params, opt, state.step + 1, model_state), loss
        xs, ys = self._shard((xs, ys))
        params = self.optimiser.get((state.opt_state, state.params))
        params = self._place(params, params)
        loss, residual = self.lens.forward((params, ys), xs, key=key)
        check_scalar_loss(self.label, loss)
        (grads, _), _ = self.lens.backward(residual, jnp.ones_like(loss))
        grads = self._place(grads, params)
        opt_state, new = self.optimiser.put(
            (state.opt_state, state.params),
            grads,
            value=loss,
            value_fn=lambda p: self.lens.get((p, ys), xs, key=key),
        )
        opt_state, new = self._place((opt_state, new), params)
        return TrainState(new, opt_state, state.step + 1), loss


def _device_list(devices: object) -> list[Any]:
    """`devices` as a non-empty list of JAX devices; ValueError naming it if not."""
    if isinstance(devices, str | bytes) or not isinstance(devices, Iterable):
        raise ValueError(_messages.bad_devices(devices))
    listed = list(devices)
    if not listed or not all(isinstance(d, jax.Device) for d in listed):
        raise ValueError(_messages.bad_devices(devices))
    return listed


def data_parallel(
    learner: Learner, devices: Any = None, *, params: ParameterRule | None = None
) -> Learner:
    """`learner` with each batch sharded across `devices`, parameters as `params` say.

    XLA inserts the reduction of the gradients; the result is that of one device
    (up to the order of floating-point sums). The batch size must be a multiple of
    the size of the ``"batch"`` axis. With `jax.distributed` the devices are those
    of all processes, and `fit` feeds each process's own data.

    **Arguments:** `learner`; `devices`, a sequence of devices (all, of every
    process, by default) or a `jax.sharding.Mesh` with a ``"batch"`` axis (and
    others, e.g. ``"model"``); `params`, where the parameters live: None
    (replicated), `fsdp()`, a mapping of path patterns to `PartitionSpec`s
    (`by_path`) or a function ``(path, array) -> PartitionSpec | None``.

    **Returns:** the learner, with the mesh and the parameters' placement
    (`place_state` and `fit` raise ValueError, before any training, naming a
    parameter whose spec does not fit it or the mesh).

    >>> import jax, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, data_parallel
    >>> model = cdl.Bias(1)
    >>> learner = data_parallel(Learner(model, MeanSquaredError(), SGD(0.1)))
    >>> learner.mesh.axis_names
    ('batch',)
    """
    if not isinstance(learner, Learner):
        raise TypeError(_messages.data_parallel_not_a_learner(learner))
    if isinstance(devices, Mesh):
        if "batch" not in devices.axis_names:
            raise ValueError(_messages.no_batch_axis(devices.axis_names))
        # cdl places arrays with sharding constraints: the axes must be Auto.
        auto = (AxisType.Auto,) * len(devices.axis_names)
        mesh = Mesh(devices.devices, devices.axis_names, axis_types=auto)
    else:
        listed = jax.devices() if devices is None else _device_list(devices)
        mesh = Mesh(listed, ("batch",))
    return Learner(
        learner.model.skeleton,
        learner.loss,
        learner.optimiser,
        mesh=mesh,
        per_example=learner.per_example,
        placement=None if params is None else as_rule(params),
    )
