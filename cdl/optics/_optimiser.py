"""Optimisers as lenses ``(S × P, S × P) → (P, P')``.

An optimiser's `get` shows the parameters the model should use; its `put` takes the
state and parameters with a gradient ``p'`` and returns the new state and parameters.
Each optimiser here reproduces optax's numbers step for step, and `from_optax` turns
any optax `GradientTransformation` into such a lens. Hyperparameters are ordinary
fields, so a learning rate given as an array can itself be learned; a learning rate
given as an optax schedule (a function of the step count) is read at each step.

>>> import jax.numpy as jnp
>>> from cdl.optics import SGD
>>> sgd = SGD(0.1)
>>> params = jnp.array([1.0, 2.0])
>>> state = sgd.init(params)
>>> sgd.put((state, params), jnp.array([1.0, -1.0]))[1]
Array([0.9, 2.1], dtype=float32)
"""

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array

from . import _messages
from ._lens import AbstractLens

Scalar = float | Array
Rate = Scalar | Callable[[Array], Array]
"""A learning rate: a number, an array, or an optax schedule of the step count."""


def _tree_map(f: Any, *trees: Any) -> Any:
    return jax.tree.map(f, *trees)


def _apply(params: Any, updates: Any) -> Any:
    """``p + u`` leaf by leaf, keeping each parameter's dtype (as optax does)."""
    return _tree_map(
        lambda p, u: jnp.asarray(p + u).astype(jnp.asarray(p).dtype), params, updates
    )


class AbstractOptimiser(AbstractLens[tuple[Any, Any], Any]):
    """An optimiser: a lens from (state, parameters) to parameters.

    Subclasses define `init` and `update` (gradient to additive update, as optax);
    `get` returns the parameters and `put` applies the update.

    **Arguments:** the hyperparameters of the subclass.

    **Returns:** the optimiser lens.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Adam
    >>> adam = Adam(0.1)
    >>> p = jnp.zeros(2)
    >>> adam.put((adam.init(p), p), jnp.array([1.0, -2.0]))[1]
    Array([-0.0999...,  0.0999...], dtype=float32)
    """

    @abc.abstractmethod
    def init(self, params: Any) -> Any:
        """The initial optimiser state for `params`."""

    @abc.abstractmethod
    def update(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """The new state and the additive update for gradient `grads`."""

    def get(self, s: tuple[Any, Any]) -> Any:
        """The parameters the model uses: those held."""
        return s[1]

    def put(self, s: tuple[Any, Any], a: Any, **extra_args: Any) -> tuple[Any, Any]:
        """One optimisation step from gradient `a`: the new (state, parameters).

        `extra_args` are what an optax transformation may read besides the
        gradient (`from_optax`): a `Learner` passes the batch's loss as `value`
        and the loss as a function of the parameters as `value_fn`. cdl's own
        optimisers do not read them.
        """
        state, params = s
        new_state, updates = self.update(state, params, a)
        return new_state, _apply(params, updates)


class ScheduleState(eqx.Module):
    """The state of an optimiser whose learning rate is a schedule.

    **Arguments:** `count`, the steps taken (an int32 scalar, as optax's);
    `inner`, the optimiser's own state.

    **Returns:** the state.

    >>> import jax.numpy as jnp, optax
    >>> from cdl.optics import SGD
    >>> SGD(optax.linear_schedule(1.0, 0.0, 10)).init(jnp.zeros(1)).count
    Array(0, dtype=int32)
    """

    count: Array
    inner: Any


class AbstractScaledOptimiser(AbstractOptimiser):
    """An optimiser whose update is ``−η d`` for a direction ``d`` and a rate η.

    The rate may be an optax schedule, a function of the step count (from 0, as
    optax's ``scale_by_schedule``); the state then counts the steps. Subclasses
    define `init_direction` and `direction`.

    **Arguments:** `learning_rate` η (a number, an array or a schedule), then the
    subclass's hyperparameters.

    **Returns:** the optimiser lens.

    >>> import jax.numpy as jnp, optax
    >>> from cdl.optics import SGD
    >>> opt = SGD(optax.piecewise_constant_schedule(1.0, {1: 0.5}))
    >>> s = (opt.init(jnp.zeros(1)), jnp.zeros(1))
    >>> s = opt.put(s, jnp.ones(1))
    >>> opt.put(s, jnp.ones(1))[1]      # a step of 1, then of 0.5
    Array([-1.5], dtype=float32)
    >>> SGD("0.01")
    Traceback (most recent call last):
    ...
    ValueError: SGD: the learning rate must be a number >= 0, an array or an optax \
schedule (a function of the step count), not '0.01'.
    """

    learning_rate: Rate

    def __check_init__(self) -> None:
        rate = self.learning_rate
        if callable(rate) or isinstance(rate, jax.Array):
            return
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float | np.number)
            or not rate >= 0
            or rate == float("inf")
        ):
            raise ValueError(_messages.bad_learning_rate(type(self).__name__, rate))

    @abc.abstractmethod
    def init_direction(self, params: Any) -> Any:
        """The state of the direction's computation for `params`."""

    @abc.abstractmethod
    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """The new state and the direction ``d`` (the update is ``−η d``)."""

    @property
    def scheduled(self) -> bool:
        """Whether the learning rate is a schedule."""
        return callable(self.learning_rate)

    def init(self, params: Any) -> Any:
        """The direction's state, with a step count when the rate is scheduled."""
        inner = self.init_direction(params)
        if self.scheduled:
            return ScheduleState(jnp.zeros([], jnp.int32), inner)
        return inner

    def update(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """``−η d``, with η read from the schedule at the step count."""
        rate: Any
        if self.scheduled:
            schedule: Any = self.learning_rate
            rate = schedule(state.count)
            inner, direction = self.direction(state.inner, params, grads)
            new_state: Any = ScheduleState(optax.safe_increment(state.count), inner)
        else:
            rate = self.learning_rate
            new_state, direction = self.direction(state, params, grads)
        return new_state, _tree_map(lambda d: -rate * d, direction)


class SGD(AbstractScaledOptimiser):
    """Plain gradient descent, ``p ← p − η g`` (optax's ``sgd``).

    **Arguments:** `learning_rate` η.

    **Returns:** the optimiser lens; its state is empty.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import SGD
    >>> SGD(0.5).put(((), jnp.ones(1)), jnp.ones(1))
    ((), Array([0.5], dtype=float32))
    """

    def init_direction(self, params: Any) -> Any:
        """No state."""
        return ()

    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """The gradient."""
        return state, grads


class Momentum(AbstractScaledOptimiser):
    """Heavy-ball momentum: ``m ← g + β m``, ``p ← p − η m`` (optax's ``sgd``).

    With ``nesterov=True`` the step is ``−η (g + β m)`` after updating `m`.

    **Arguments:** `learning_rate` η; `momentum` β (0.9); `nesterov` (False).

    **Returns:** the optimiser lens; its state is the trace `m`.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Momentum
    >>> opt = Momentum(1.0, 0.5)
    >>> s = (opt.init(jnp.zeros(1)), jnp.zeros(1))
    >>> s = opt.put(s, jnp.ones(1))
    >>> opt.put(s, jnp.ones(1))[1]   # steps of 1, then 1.5
    Array([-2.5], dtype=float32)
    """

    momentum: Scalar = 0.9
    nesterov: bool = eqx.field(static=True, default=False)

    def init_direction(self, params: Any) -> Any:
        """A zero trace."""
        return _tree_map(jnp.zeros_like, params)

    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """Update the trace, then step along it."""
        trace = _tree_map(lambda g, t: g + self.momentum * t, grads, state)
        direction = (
            _tree_map(lambda g, t: g + self.momentum * t, grads, trace)
            if self.nesterov
            else trace
        )
        return trace, direction


def Nesterov(learning_rate: Rate, momentum: Scalar = 0.9) -> Momentum:
    """Nesterov's accelerated gradient (optax's ``sgd(..., nesterov=True)``).

    **Arguments:** `learning_rate` η; `momentum` β (0.9).

    **Returns:** a `Momentum` optimiser with ``nesterov=True``.

    >>> from cdl.optics import Nesterov
    >>> Nesterov(0.1).nesterov
    True
    """
    return Momentum(learning_rate, momentum, nesterov=True)


class AdaGrad(AbstractScaledOptimiser):
    """AdaGrad: ``s ← s + g²``, ``p ← p − η g / √(s + ε)`` (optax's ``adagrad``).

    **Arguments:** `learning_rate` η; `initial_accumulator_value` (0.1); `eps`
    (1e-7).

    **Returns:** the optimiser lens; its state is the sum of squares `s`.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import AdaGrad
    >>> opt = AdaGrad(1.0, initial_accumulator_value=0.0, eps=0.0)
    >>> opt.put((opt.init(jnp.zeros(1)), jnp.zeros(1)), jnp.full(1, 3.0))[1]
    Array([-1.], dtype=float32)
    """

    initial_accumulator_value: Scalar = 0.1
    eps: Scalar = 1e-7

    def init_direction(self, params: Any) -> Any:
        """Sums of squares filled with the initial value."""
        return _tree_map(
            lambda p: jnp.full_like(p, self.initial_accumulator_value), params
        )

    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """Accumulate ``g²`` and scale by its inverse square root."""
        squares = _tree_map(lambda g, t: g * g + t, grads, state)
        scale = _tree_map(
            lambda t: jnp.where(t > 0, jax.lax.rsqrt(t + self.eps), 0.0), squares
        )
        return squares, _tree_map(lambda s, g: s * g, scale, grads)


class RMSProp(AbstractScaledOptimiser):
    """RMSProp, ``v ← ρ v + (1−ρ) g²``, ``p ← p − η g / √(v + ε)`` (optax's).

    **Arguments:** `learning_rate` η; `decay` ρ (0.9); `eps` (1e-8);
    `initial_scale` (0.0).

    **Returns:** the optimiser lens; its state is the average `v`.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import RMSProp
    >>> opt = RMSProp(0.1, decay=0.0, eps=0.0)
    >>> opt.put((opt.init(jnp.zeros(1)), jnp.zeros(1)), jnp.full(1, 4.0))[1]
    Array([-0.1], dtype=float32)
    """

    decay: Scalar = 0.9
    eps: Scalar = 1e-8
    initial_scale: Scalar = 0.0

    def init_direction(self, params: Any) -> Any:
        """Averages filled with the initial scale."""
        return _tree_map(lambda p: jnp.full_like(p, self.initial_scale), params)

    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """Average ``g²`` and scale by its inverse square root."""
        nu = _tree_map(
            lambda g, t: (1 - self.decay) * (g**2) + self.decay * t, grads, state
        )
        scaled = _tree_map(lambda n, g: jax.lax.rsqrt(n + self.eps) * g, nu, grads)
        return nu, scaled


class AdamState(eqx.Module):
    """Adam's state: the step count and both moment estimates.

    **Arguments:** `count` (int32 scalar), `mu` and `nu` (trees like the parameters).

    **Returns:** the state.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Adam
    >>> Adam(0.1).init(jnp.zeros(2)).count
    Array(0, dtype=int32)
    """

    count: Array
    mu: Any
    nu: Any


class Adam(AbstractScaledOptimiser):
    """Adam with bias correction (optax's ``adam``).

    **Arguments:** `learning_rate` η; `b1` (0.9); `b2` (0.999); `eps` (1e-8).

    **Returns:** the optimiser lens; its state is an `AdamState`.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Adam
    >>> opt = Adam(0.01)
    >>> opt.put((opt.init(jnp.zeros(1)), jnp.zeros(1)), jnp.full(1, 5.0))[1]
    Array([-0.0099...], dtype=float32)
    """

    b1: Scalar = 0.9
    b2: Scalar = 0.999
    eps: Scalar = 1e-8

    def init_direction(self, params: Any) -> AdamState:
        """Zero moments, count 0."""
        zeros = _tree_map(jnp.zeros_like, params)
        return AdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def direction(self, state: Any, params: Any, grads: Any) -> tuple[Any, Any]:
        """Update both moments and correct their bias."""
        mu = _tree_map(lambda g, t: (1 - self.b1) * g + self.b1 * t, grads, state.mu)
        nu = _tree_map(
            lambda g, t: (1 - self.b2) * (g**2) + self.b2 * t, grads, state.nu
        )
        count = optax.safe_increment(state.count)
        c1 = 1 - self.b1**count
        c2 = 1 - self.b2**count
        mu_hat = _tree_map(lambda t: t / jnp.asarray(c1).astype(t.dtype), mu)
        nu_hat = _tree_map(lambda t: t / jnp.asarray(c2).astype(t.dtype), nu)
        direction = _tree_map(
            lambda m, v: m / (jnp.sqrt(v + 0.0) + self.eps), mu_hat, nu_hat
        )
        return AdamState(count, mu, nu), direction


class OptaxOptimiser(AbstractOptimiser):
    """Any optax `GradientTransformation` as an optimiser lens.

    A transformation that reads extra arguments (optax's
    `GradientTransformationExtraArgs`) gets those a `Learner` step gives:
    `value`, the batch's loss (``optax.contrib.reduce_on_plateau``), `grad`, the
    gradient, and `value_fn`, the batch's loss as a function of the parameters
    (the line search of ``optax.lbfgs``).

    **Arguments:** `transformation`, e.g. ``optax.adamw(1e-3)``.

    **Returns:** the optimiser lens; its state is the transformation's state.

    >>> import jax.numpy as jnp, optax
    >>> from cdl.optics import OptaxOptimiser
    >>> opt = OptaxOptimiser(optax.sgd(0.5))
    >>> p = jnp.ones(1)
    >>> opt.put((opt.init(p), p), jnp.ones(1))[1]
    Array([0.5], dtype=float32)
    """

    transformation: optax.GradientTransformation = eqx.field(static=True)

    def init(self, params: Any) -> Any:
        """The transformation's initial state."""
        return self.transformation.init(params)

    def update(
        self, state: Any, params: Any, grads: Any, **extra_args: Any
    ) -> tuple[Any, Any]:
        """The transformation's update (given `extra_args` if it reads them)."""
        tx = self.transformation
        if extra_args and isinstance(tx, optax.GradientTransformationExtraArgs):
            extra = {"grad": grads, **extra_args}
            updates, new_state = tx.update(grads, state, params, **extra)
        else:
            updates, new_state = tx.update(grads, state, params)
        return new_state, updates

    def put(self, s: tuple[Any, Any], a: Any, **extra_args: Any) -> tuple[Any, Any]:
        """One step of the transformation from gradient `a` (and `extra_args`)."""
        state, params = s
        new_state, updates = self.update(state, params, a, **extra_args)
        return new_state, _apply(params, updates)


def from_optax(transformation: optax.GradientTransformation) -> OptaxOptimiser:
    """Turn an optax `GradientTransformation` into a cdl optimiser lens.

    **Arguments:** `transformation`.

    **Returns:** the `OptaxOptimiser`.

    >>> import optax
    >>> from cdl.optics import from_optax
    >>> type(from_optax(optax.lion(1e-4))).__name__
    'OptaxOptimiser'
    """
    return OptaxOptimiser(transformation)
