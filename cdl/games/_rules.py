"""Update rules for games: how each player's gradient is turned into a direction.

A game with players ``i = 1..n`` has losses ``L_i(θ)`` of all parameters
``θ = (θ_1, …, θ_n)``. Plain gradient play moves each player along its own gradient,
the *simultaneous gradient* ``ξ(θ) = (∇_{θ_1} L_1, …, ∇_{θ_n} L_n)``; its Jacobian
``J = ∇ξ`` is not symmetric, so the dynamics rotate where descent on one loss would
not. The rules here change the direction ``ξ`` and compose: the ones with an `inner`
rule (extragradient, optimistic, consensus, symplectic adjustment) wrap any other,
e.g. ``Extragradient(0.1, Consensus(0.5))``. Each player's optimiser then takes its
own part of the direction, so a player's step never touches another's parameters.

A rule acts on a function from the parameters (a tuple, one tree per player) to the
losses (a tuple of scalars); its state holds one entry per player. On the bilinear
game ``L_x = xy = −L_y``, every rule but plain play pulls towards the equilibrium:

>>> import jax.numpy as jnp
>>> from cdl.games import Consensus, GradientPlay, SGA
>>> def losses(p):
...     return p[0] * p[1], -p[0] * p[1]
>>> p = (jnp.array(1.0), jnp.array(2.0))
>>> def show(rule):
...     return [float(d) for d in rule.direction(losses, p, rule.init(p))[0]]
>>> show(GradientPlay())
[2.0, -1.0]
>>> show(SGA(1.0))          # ξ + λ Aᵀξ = ξ + λθ here
[3.0, 1.0]
>>> show(Consensus(1.0))    # ξ + γ Jᵀξ
[3.0, 1.0]
"""

import abc
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..nn._arguments import flag
from . import _messages

Params = tuple[Any, ...]
Losses = Callable[[Params], tuple[Float[Array, ""], ...]]
PlayerLosses = Losses | Sequence[Callable[[Params], Float[Array, ""]]]


def _map(f: Callable[..., Any], *trees: Any) -> Any:
    return jax.tree.map(f, *trees)


def _axpy(a: Any, x: Any, y: Any) -> Any:
    """``a x + y`` leaf by leaf."""
    return _map(lambda u, v: a * u + v, x, y)


def _dot(x: Any, y: Any) -> Float[Array, ""]:
    """The inner product of two trees of the same structure."""
    pairs = zip(jax.tree.leaves(x), jax.tree.leaves(y), strict=True)
    products = [jnp.vdot(u, v) for u, v in pairs]
    return jnp.sum(jnp.stack(products)) if products else jnp.zeros(())


def _size(tree: Any) -> int:
    return sum(leaf.size for leaf in jax.tree.leaves(tree))


_COEFFICIENTS = ("step", "gamma", "lam", "alpha")


def _is_number(value: object) -> bool:
    """Whether `value` is a real number or an array of them (a traced one too)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | np.integer | np.floating):
        return True
    return isinstance(value, jax.Array | np.ndarray) and (
        jnp.issubdtype(value.dtype, jnp.integer)
        or jnp.issubdtype(value.dtype, jnp.floating)
    )


def _finite(value: object) -> bool:
    """Whether a concrete coefficient is finite (a traced one passes)."""
    if isinstance(value, jax.core.Tracer):
        return True
    return bool(np.all(np.isfinite(np.asarray(value))))


def _unit(values: tuple[Array, ...], i: int) -> tuple[Array, ...]:
    return tuple(jnp.ones_like(v) if j == i else jnp.zeros_like(v)
                 for j, v in enumerate(values))  # fmt: skip


def _checked(
    losses: PlayerLosses,
    params: Params,
    owner: str,
) -> Losses:
    """`losses` as one function returning one scalar per player, checked.

    A sequence of functions, one per player, is taken as their tuple.
    """
    if isinstance(losses, tuple | list):
        if not all(callable(f) for f in losses):
            raise TypeError(_messages.losses_not_functions(owner))
        each = tuple(losses)

        def joined(p: Params) -> tuple[Float[Array, ""], ...]:
            return tuple(f(p) for f in each)

        losses = joined
    elif not callable(losses):
        raise TypeError(_messages.losses_not_functions(owner))
    function = losses

    def checked(p: Params) -> tuple[Float[Array, ""], ...]:
        values = function(p)
        if not isinstance(values, tuple | list) or len(values) != len(params):
            count = len(values) if isinstance(values, tuple | list) else None
            raise ValueError(_messages.losses_count(owner, len(params), count))
        shapes = [jnp.shape(v) for v in values]
        if any(shape != () for shape in shapes):
            raise ValueError(_messages.losses_not_scalars(owner, shapes))
        return tuple(values)

    return checked


def all_gradients(losses: PlayerLosses, params: Params) -> tuple[Params, ...]:
    """Every player's loss differentiated in every player's parameters.

    One forward pass and one backward pass per player (`jax.vjp`).

    **Arguments:** `losses`, from parameters (one tree per player) to one scalar
    per player (or a sequence of functions, one per player); `params`.

    **Returns:** ``g`` with ``g[i][j] = ∇_{θ_j} L_i``.

    >>> import jax.numpy as jnp
    >>> from cdl.games import all_gradients
    >>> g = all_gradients(lambda p: (p[0] * p[1], p[1] ** 2),
    ...                   (jnp.array(2.0), jnp.array(3.0)))
    >>> [[float(d) for d in row] for row in g]
    [[3.0, 2.0], [0.0, 6.0]]
    """
    values, pullback = jax.vjp(_checked(losses, params, "all_gradients"), params)
    return tuple(pullback(_unit(values, i))[0] for i in range(len(params)))


def simultaneous_gradient(losses: PlayerLosses, params: Params) -> Params:
    """The simultaneous gradient ``ξ``: each player's loss in its own parameters.

    **Arguments:** `losses`, from parameters to one scalar per player (or a
    sequence of functions, one per player); `params`.

    **Returns:** ``(∇_{θ_1} L_1, …, ∇_{θ_n} L_n)``, one tree per player.

    >>> import jax.numpy as jnp
    >>> from cdl.games import simultaneous_gradient
    >>> xi = simultaneous_gradient(lambda p: (p[0] * p[1], -p[0] * p[1]),
    ...                            (jnp.array(1.0), jnp.array(2.0)))
    >>> [float(d) for d in xi]
    [2.0, -1.0]
    """
    function = _checked(losses, params, "simultaneous_gradient")
    values, pullback = jax.vjp(function, params)
    return tuple(pullback(_unit(values, i))[0][i] for i in range(len(params)))


class AbstractGameRule(eqx.Module):
    """An update rule for a game: the direction each player steps along.

    Subclasses define `init` (one state entry per player) and `direction`.

    **Arguments:** those of the subclass.

    **Returns:** the rule, an immutable Equinox module.

    >>> import jax.numpy as jnp
    >>> from cdl.games import GradientPlay
    >>> rule = GradientPlay()
    >>> p = (jnp.array(1.0),)
    >>> float(rule.direction(lambda p: (p[0] ** 2,), p, rule.init(p))[0][0])
    2.0
    """

    def __check_init__(self) -> None:
        inner = getattr(self, "inner", None)
        if inner is not None and not isinstance(inner, AbstractGameRule):
            raise TypeError(
                _messages.not_a_rule(f"{type(self).__name__}: inner", inner)
            )
        for name in _COEFFICIENTS:
            if not hasattr(self, name):
                continue
            value = getattr(self, name)
            items = value if name == "alpha" and isinstance(value, tuple) else (value,)
            if name == "alpha" and _is_number(value) and np.ndim(value) == 1:
                items = tuple(value)  # an array of rates: one per player
            if not all(_is_number(item) and np.ndim(item) == 0 for item in items):
                raise TypeError(
                    _messages.bad_coefficient(type(self).__name__, name, value)
                )
            if not all(_finite(item) for item in items):
                raise ValueError(
                    _messages.coefficient_not_finite(type(self).__name__, name, value)
                )

    @abc.abstractmethod
    def init(self, params: Params) -> tuple[Any, ...]:
        """The initial state: one entry per player."""

    @abc.abstractmethod
    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """The direction of each player (one tree each) and the new state."""


class GradientPlay(AbstractGameRule):
    """Plain gradient play: each player follows the gradient of its own loss, ``ξ``.

    **Arguments:** none.

    **Returns:** the rule; its state is empty.

    >>> import jax.numpy as jnp
    >>> from cdl.games import GradientPlay
    >>> p = (jnp.array(1.0), jnp.array(2.0))
    >>> d, _ = GradientPlay().direction(lambda p: (p[0] * p[1], -p[0] * p[1]), p,
    ...                                ((), ()))
    >>> [float(v) for v in d]
    [2.0, -1.0]
    """

    def init(self, params: Params) -> tuple[Any, ...]:
        """No state."""
        return tuple(() for _ in params)

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """The simultaneous gradient."""
        return simultaneous_gradient(losses, params), state


class Extragradient(AbstractGameRule):
    """Extragradient (Korpelevich 1976): the direction read at a look-ahead point.

    Every player first steps ``θ̃ = θ − step · d(θ)``, and the direction used is
    the inner rule's ``d(θ̃)`` there.

    **Arguments:** `step`, the size of the look-ahead step; `inner`, the rule
    extrapolated (plain gradient play by default).

    **Returns:** the rule; its state is the inner rule's.

    >>> import jax.numpy as jnp
    >>> from cdl.games import Extragradient
    >>> p = (jnp.array(1.0), jnp.array(0.0))
    >>> rule = Extragradient(0.5)
    >>> d, _ = rule.direction(lambda p: (p[0] * p[1], -p[0] * p[1]), p, rule.init(p))
    >>> [float(v) for v in d]
    [0.5, -1.0]
    """

    step: float | Array
    inner: AbstractGameRule = GradientPlay()

    def init(self, params: Params) -> tuple[Any, ...]:
        """The inner rule's state."""
        return self.inner.init(params)

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """The inner direction at the look-ahead point."""
        first, _ = self.inner.direction(losses, params, state)
        ahead = _axpy(-self.step, first, params)
        return self.inner.direction(losses, ahead, state)


class Optimistic(AbstractGameRule):
    """Optimistic gradient (Daskalakis et al. 2018): ``2 d_t − d_{t−1}``.

    The last direction is remembered; the first step uses ``d_0`` alone.

    **Arguments:** `inner`, the rule whose directions are extrapolated in time
    (plain gradient play by default).

    **Returns:** the rule; each player's state is its last direction, whether it
    has one yet, and the inner rule's state.

    >>> import jax.numpy as jnp
    >>> from cdl.games import Optimistic
    >>> rule = Optimistic()
    >>> p = (jnp.array(1.0),)
    >>> d, s = rule.direction(lambda p: (p[0] ** 2,), p, rule.init(p))
    >>> float(rule.direction(lambda p: (p[0] ** 2,), (jnp.array(0.5),), s)[0][0])
    0.0
    """

    inner: AbstractGameRule = GradientPlay()

    def init(self, params: Params) -> tuple[Any, ...]:
        """Zero last directions, not yet seen, and the inner rule's state."""
        inner = self.inner.init(params)
        return tuple(
            (_map(jnp.zeros_like, p), jnp.zeros((), bool), s)
            for p, s in zip(params, inner, strict=True)
        )

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """``d + seen · (d − last)``, per player."""
        inner_state = tuple(s[2] for s in state)
        now, inner_state = self.inner.direction(losses, params, inner_state)
        directions = tuple(
            _map(lambda d, last, seen=s[1]: d + jnp.where(seen, d - last, 0.0), n, s[0])
            for n, s in zip(now, state, strict=True)
        )
        new_state = tuple(
            (n, jnp.ones((), bool), s) for n, s in zip(now, inner_state, strict=True)
        )
        return directions, new_state


def _field_vjp(
    rule: AbstractGameRule, losses: Losses, params: Params, state: tuple[Any, ...]
) -> tuple[Params, Callable[[Params], tuple[Params]], tuple[Any, ...]]:
    """The inner direction ``d(θ)``, its transposed Jacobian product and new state."""

    def field(p: Params) -> tuple[Params, tuple[Any, ...]]:
        return rule.direction(losses, p, state)

    direction, pullback, new_state = jax.vjp(field, params, has_aux=True)
    return direction, pullback, new_state


class Consensus(AbstractGameRule):
    """Consensus optimisation (Mescheder et al. 2017): ``d + γ ∇(½‖d‖²) = d + γ Jᵀd``.

    Every player also descends the squared norm of the joint direction, which
    vanishes exactly at the game's stationary points.

    **Arguments:** `gamma` γ; `inner`, the rule adjusted (plain gradient play by
    default).

    **Returns:** the rule; its state is the inner rule's.

    >>> import jax.numpy as jnp
    >>> from cdl.games import Consensus
    >>> p = (jnp.array(1.0), jnp.array(0.0))
    >>> rule = Consensus(0.5)
    >>> d, _ = rule.direction(lambda p: (p[0] * p[1], -p[0] * p[1]), p, rule.init(p))
    >>> [float(v) for v in d]
    [0.5, -1.0]
    """

    gamma: float | Array
    inner: AbstractGameRule = GradientPlay()

    def init(self, params: Params) -> tuple[Any, ...]:
        """The inner rule's state."""
        return self.inner.init(params)

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """``d + γ Jᵀ d``."""
        d, pullback, new_state = _field_vjp(self.inner, losses, params, state)
        (jt_d,) = pullback(d)
        return _axpy(self.gamma, jt_d, d), new_state


def _align(value: object) -> bool:
    """SGA's `align` as a Python bool, checked before it is stored as static."""
    return flag("SGA", "align", value)


class SGA(AbstractGameRule):
    """Symplectic gradient adjustment (Balduzzi et al. 2018): ``d + λ Aᵀd``.

    ``A = (J − Jᵀ)/2`` is the antisymmetric part of the Jacobian of the direction:
    the rotation of the game, which the adjustment turns towards a fixed point. With
    ``align=True`` the sign of λ is chosen as in the paper, ``sign(⟨d, ∇H⟩⟨Aᵀd, ∇H⟩
    / dim + 1/10)`` with ``∇H = Jᵀd``, so that the step also descends
    ``H = ½‖d‖²`` near stable fixed points and ascends it near unstable ones.

    **Arguments:** `lam` λ; `inner`, the rule adjusted (plain gradient play by
    default); `align`, to choose the sign of λ.

    **Returns:** the rule; its state is the inner rule's.

    >>> import jax.numpy as jnp
    >>> from cdl.games import SGA
    >>> p = (jnp.array(1.0), jnp.array(0.0))
    >>> rule = SGA(0.5)
    >>> d, _ = rule.direction(lambda p: (p[0] * p[1], -p[0] * p[1]), p, rule.init(p))
    >>> [float(v) for v in d]
    [0.5, -1.0]
    """

    lam: float | Array
    inner: AbstractGameRule = GradientPlay()
    align: bool = eqx.field(static=True, default=False, converter=_align)

    def init(self, params: Params) -> tuple[Any, ...]:
        """The inner rule's state."""
        return self.inner.init(params)

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """``d + λ (Jᵀd − Jd) / 2``."""
        d, pullback, new_state = _field_vjp(self.inner, losses, params, state)
        (jt_d,) = pullback(d)
        _, j_d = jax.jvp(lambda p: self.inner.direction(losses, p, state)[0],
                         (params,), (d,))  # fmt: skip
        adjustment = _map(lambda u, v: (u - v) / 2, jt_d, j_d)
        lam = self.lam
        if self.align:
            alignment = _dot(d, jt_d) * _dot(adjustment, jt_d) / max(_size(d), 1)
            lam = lam * jnp.sign(alignment + 0.1)
        return _axpy(lam, adjustment, d), new_state


class LOLA(AbstractGameRule):
    """Learning with opponent-learning awareness (Foerster et al. 2018).

    Player ``i`` expects every other player ``j`` to take a gradient step of size
    ``α_i`` on its own loss, and shapes that step: its direction is the gradient in
    ``θ_i`` of ``L_i − α_i Σ_{j≠i} ⟨∇_j L_j, ∇_j L_i⟩`` with the second factor held
    fixed (the first-order LOLA of the paper, for any number of players).
    ``α_i = 0`` is a naive learner, so one game may mix LOLA and naive players.

    **Arguments:** `alpha`, one look-ahead rate for all, or one per player.

    **Returns:** the rule; its state is empty.

    >>> import jax.numpy as jnp
    >>> from cdl.games import LOLA
    >>> p = (jnp.array(1.0), jnp.array(0.0))
    >>> rule = LOLA(0.5)
    >>> d, _ = rule.direction(lambda p: (p[0] * p[1], -p[0] * p[1]), p, rule.init(p))
    >>> [float(v) for v in d]
    [0.5, -1.0]
    """

    alpha: float | Array | tuple[float | Array, ...]

    def _rates(self, players: int) -> tuple[float | Array, ...]:
        if isinstance(self.alpha, tuple) or np.ndim(self.alpha) == 1:
            rates = tuple(self.alpha)  # type: ignore[arg-type]
            if len(rates) != players:
                raise ValueError(_messages.bad_alpha(self.alpha, players))
            return rates
        return (self.alpha,) * players

    def init(self, params: Params) -> tuple[Any, ...]:
        """No state."""
        self._rates(len(params))
        return tuple(() for _ in params)

    def direction(
        self, losses: Losses, params: Params, state: tuple[Any, ...]
    ) -> tuple[Params, tuple[Any, ...]]:
        """``ξ_i − α_i [Jᵀ v_i]_i`` with ``v_i = (∇_j L_i)_{j≠i}`` held fixed."""
        rates = self._rates(len(params))
        cross = jax.lax.stop_gradient(all_gradients(losses, params))
        xi, pullback = jax.vjp(lambda p: simultaneous_gradient(losses, p), params)
        directions = []
        for i, alpha in enumerate(rates):
            shaping = tuple(
                _map(jnp.zeros_like, cross[i][j]) if j == i else cross[i][j]
                for j in range(len(params))
            )
            (jt_v,) = pullback(shaping)
            directions.append(_axpy(-alpha, jt_v[i], xi[i]))
        return tuple(directions), state
