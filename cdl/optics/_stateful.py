"""Training a model with state, such as batch norm's running statistics.

A model with state maps ``x × S → y × S``: `cdl.BatchNorm` keeps its running
statistics in an `equinox.nn.State` ``S``. A learner maps such a model over a batch
with one state and the batch axis named ``"batch"`` (the axis batch norm averages
over), differentiates the loss with respect to the parameters only, and carries the
state the model returns into the next step. `with_state_fixed` turns the model
and a state into a plain morphism ``x → y``, for metrics and inference. With
`data_parallel` the batch is split across devices (and processes), batch norm's
means are taken over the whole batch, and the state is replicated: every device
holds the same statistics, equal to those of one device.

>>> import equinox as eqx, jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD
>>> model, state = eqx.nn.make_with_state(
...     lambda: (cdl.Linear(2, 3, key=jax.random.key(0)) @ cdl.Identity())
...     >> cdl.BatchNorm(3))()
>>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
>>> train = learner.init(model, model_state=state)
>>> xs = jax.random.normal(jax.random.key(1), (8, 2))
>>> new, loss = learner.step(train, xs, jnp.zeros((8, 3)))
>>> mean, _ = new.model_state.get(model.factors[1].running)
>>> bool(jnp.allclose(mean, 0.1 * jax.vmap(model.factors[0].factors[0])(xs).mean(0)))
True
"""

from collections.abc import Callable
from typing import Any, Final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._para import Para, apply
from .._space import ProductSpace, Space
from ._loss import check_scalar_loss

BATCH_AXIS: Final = "batch"
"""The name of the batch axis a model with state is mapped over."""


def _fresh(model_state: Any) -> Any:
    """A copy of `model_state`: an `equinox.nn.State` is spent once it is set."""
    leaves, structure = jax.tree.flatten(model_state)
    return jax.tree.unflatten(structure, leaves)


def run_with_state(
    model: Para[Any, Any],
    xs: Any,
    model_state: Any,
    key: PRNGKeyArray | None,
    per_example: bool,
) -> tuple[Any, Any]:
    """A batch of outputs of a model with state, and the state it returns.

    **Arguments:** `model`, ``x × S → y × S``; `xs`, a batch (leading axis);
    `model_state`; `key`, for a stochastic model; `per_example`, whether the
    model acts on one example (mapped over the batch, the axis named ``"batch"``)
    or on the whole batch.

    **Returns:** ``(outputs, new_state)``.

    >>> import equinox as eqx, jax.numpy as jnp, cdl
    >>> bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(2)
    >>> ys, state = run_with_state(bn, jnp.ones((4, 2)), state, None, True)
    >>> ys.shape
    (4, 2)
    """
    model_state = _fresh(model_state)
    if not per_example:
        out: tuple[Any, Any] = apply(model, (xs, model_state), key)
        return out

    def one(x: Any, k: PRNGKeyArray | None) -> tuple[Any, Any]:
        out: tuple[Any, Any] = apply(model, (x, model_state), k)
        return out

    keys = None
    if key is not None and model.stochastic:
        keys = jax.random.split(key, jax.tree.leaves(xs)[0].shape[0])
    mapped: Callable[[Any, Any], tuple[Any, Any]] = jax.vmap(
        one, in_axes=(0, None if keys is None else 0), axis_name=BATCH_AXIS,
        out_axes=(0, None),
    )  # fmt: skip
    return mapped(xs, keys)


def step_with_state(
    learner: Any, state: Any, xs: Any, ys: Any, key: PRNGKeyArray | None
) -> tuple[Any, Any, Any, Float[Array, ""]]:
    """One training step of a learner whose model has state.

    The forward pass runs ``R(model) >> loss`` with the state beside the batch;
    the loss's unit change is pulled back to the parameters alone, the optimiser
    updates them, and the state the model returned is kept. On a mesh
    (`data_parallel`) the batch is split along ``"batch"``, the parameters are
    placed by the learner's rule and the state is replicated.

    **Arguments:** `learner`, a `Learner`; `state`, its `TrainState` with a
    `model_state`; `xs`, `ys`, a batch; `key`, for stochastic models.

    **Returns:** ``(params, opt_state, model_state, loss)`` after the step.
    """
    xs, ys = learner._shard((xs, ys))
    params = learner.optimiser.get((state.opt_state, state.params))
    # On a mesh the model's state is replicated, read and written whole on every
    # device: batch norm's statistics are means over the whole (sharded) batch.
    params, old = learner._place((params, state.model_state), params)
    key = key if learner.model.stochastic else None

    def outputs(p: Any) -> tuple[Any, Any]:
        model = learner.model.morphism(p)
        return run_with_state(model, xs, old, key, learner.per_example)

    out, pullback, model_state = jax.vjp(outputs, params, has_aux=True)
    loss, residual = learner.loss.forward(ys, out)
    check_scalar_loss(learner.label, loss)
    _, d_out = learner.loss.backward(residual, jnp.ones_like(loss))
    (grads,) = pullback(d_out)
    grads = learner._place(grads, params)

    def value_fn(p: Any) -> Float[Array, ""]:
        value: Float[Array, ""] = learner.loss.get(ys, outputs(p)[0])
        return value

    opt_state, new = learner.optimiser.put(
        (state.opt_state, state.params), grads, value=loss, value_fn=value_fn
    )
    opt_state, new, model_state = learner._place(
        (opt_state, new, jax.lax.stop_gradient(model_state)), params
    )
    return new, opt_state, model_state, loss


def input_space(dom: Space) -> Space:
    """The space of the inputs of a model ``x × S → y × S``: its domain's first factor.

    **Arguments:** `dom`, the model's domain.

    **Returns:** the first factor of a product, else `dom` itself.

    >>> import equinox as eqx, cdl
    >>> bn, _ = eqx.nn.make_with_state(cdl.BatchNorm)(2)
    >>> input_space(bn.dom)
    float[2,*spatial]
    """
    return dom.factors[0] if isinstance(dom, ProductSpace) and dom.factors else dom


class StateFixed(Para[Any, Any]):
    """A model with state run with one fixed state: ``x ↦ model((x, state))[0]``.

    **Arguments:** `model`, ``x × S → y × S``; `state`.

    **Returns:** the morphism ``x → y``.

    >>> import equinox as eqx, jax.numpy as jnp, cdl
    >>> bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(2)
    >>> frozen = with_state_fixed(cdl.inference_mode(bn), state)
    >>> frozen(jnp.array([3.0, 4.0])).round(2)
    Array([3., 4.], dtype=float32)
    """

    model: Para[Any, Any]
    state: Any

    @property
    def label(self) -> str:
        """The model's label."""
        return self.model.label

    @property
    def stochastic(self) -> bool:
        """Whether the model needs a key."""
        return self.model.stochastic

    def signature(self) -> tuple[Space, Space]:
        """The model's spaces without the state."""
        dom, cod = self.model.signature()
        return input_space(dom), input_space(cod)

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Run the model on `x` and the fixed state; return its output alone."""
        out, _ = apply(self.model, (x, _fresh(self.state)), key)
        return out


def with_state_fixed(model: Para[Any, Any], model_state: Any) -> StateFixed:
    """`model` ``x × S → y × S`` as a morphism ``x → y`` that reads `model_state`.

    Switch batch norm to its running statistics first (`cdl.inference_mode`).

    **Arguments:** `model`; `model_state`, e.g. ``result.state.model_state``.

    **Returns:** the `StateFixed` morphism.

    >>> import equinox as eqx, jax, jax.numpy as jnp, cdl
    >>> bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    >>> with_state_fixed(bn, state).dom
    float[3,*spatial]
    """
    return StateFixed(model, model_state)
