"""Nonlinear equivariant blocks: pointwise nonlinearities, invariant pooling, networks.

A permutation representation moves entries around without mixing them, so any
function applied entry by entry commutes with it; when the monoid also writes
zeros (a shift with zero fill) the function must send 0 to 0. Summing, averaging
or taking the maximum over the moved points forgets where they were, which makes
an invariant. With derived linear layers these compose with ``>>`` into whole
equivariant or invariant networks:

>>> import jax, cdl
>>> act = cdl.permutation_action(6, (2,))
>>> hidden = cdl.permutation_action(6, (8,))
>>> net = equivariant_mlp([act, hidden], key=jax.random.key(0))
>>> model = net >> Pool(hidden, "max")
>>> model.cod
float[8]
>>> invariant = cdl.trivial_action(act.monoid, (8,))
>>> cdl.is_equivariant(model, act, invariant, key=jax.random.key(1))
True
"""

from collections.abc import Callable, Sequence
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._para import Para
from .._space import _FLOAT, Space, TensorSpace
from ..nn import Relu
from . import _messages
from ._action import AbstractAction, DirectSum, IndexAction, trivial_action
from ._linear import EquivariantLinear, _space
from ._monoid import Monoid

_REDUCE: dict[str, Callable[..., Array]] = {
    "sum": jnp.sum,
    "mean": jnp.mean,
    "max": jnp.max,
}


def _reindexes(act: AbstractAction) -> bool:
    """Whether `act` only moves entries: an `IndexAction`, or a sum of such."""
    if isinstance(act, DirectSum):
        return all(_reindexes(summand) for summand in act.summands)
    return isinstance(act, IndexAction)


def _writes_zeros(monoid: Monoid) -> bool:
    """Whether some element writes a zero (a generator has a ``-1``).

    Products of maps that never write zeros never do, so the generators decide.
    """
    return any(-1 in g for g in monoid.generators)


def _fn_name(fn: object) -> str:
    """How `fn` is named in labels and messages: its label, its name or its kind.

    >>> import functools, jax, cdl
    >>> _fn_name(cdl.Relu()), _fn_name(jax.nn.relu)
    ('Relu()', 'relu')
    >>> _fn_name(functools.partial(jax.nn.leaky_relu, negative_slope=0.1))
    'partial(leaky_relu)'
    """
    label = getattr(fn, "label", None)
    if isinstance(label, str):
        return label
    name = getattr(fn, "__name__", None)
    if isinstance(name, str):
        return name
    inner = getattr(fn, "func", None)  # functools.partial and jax's Partial
    if inner is not None:
        return f"{type(fn).__name__}({_fn_name(inner)})"
    return type(fn).__name__


class Pointwise(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """A function applied entry by entry, checked to commute with an action.

    The action must reindex entries (an `IndexAction`, or a `DirectSum` of them,
    whose tuples get `fn` on each array); if it also writes zeros, the function
    must send 0 to 0.

    **Arguments:** `act`, the action; `fn`, the scalar function (vectorised).

    **Returns:** the morphism ``x ↦ fn(x)`` on the space of `act`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> shifts = cdl.signal_action(cdl.Monoid.shifts(4), 4)
    >>> Pointwise(shifts, jnp.tanh)(jnp.zeros(4))
    Array([0., 0., 0., 0.], dtype=float32)
    >>> Pointwise(shifts, jax.nn.sigmoid)
    Traceback (most recent call last):
    ...
    ValueError: sigmoid does not commute with Shift4 on float[4] (0): ...
    """

    fn: Callable[[Array], Array] = eqx.field(static=True)
    act: AbstractAction = eqx.field(static=True)

    def __init__(self, act: AbstractAction, fn: Callable[[Array], Array]) -> None:
        if isinstance(fn, type) or not callable(fn):
            raise TypeError(_messages.not_a_function("Pointwise", fn))
        name = _fn_name(fn)
        if any(eqx.is_array(leaf) for leaf in jax.tree.leaves(fn)):
            raise TypeError(_messages.function_with_weights("Pointwise", name))
        if not _reindexes(act):
            raise ValueError(_messages.not_pointwise(name, act.label))
        if _writes_zeros(act.monoid) and float(fn(jnp.zeros(()))) != 0.0:
            raise ValueError(_messages.zero_not_fixed(name, act.label))
        self.fn = fn
        self.act = act

    @property
    def label(self) -> str:
        """``Pointwise(fn)``, naming the function (``Pointwise(Relu())``)."""
        return f"Pointwise({_fn_name(self.fn)})"

    def signature(self) -> tuple[Space, Space]:
        """The space of `act`, to itself."""
        space = _space(self.act)
        return space, space

    def __call__(self, x: Any) -> Any:
        """Apply `fn` to every entry (of every array of a direct sum's tuple)."""
        return jax.tree.map(self.fn, x)


class Pool(Para[Any, Any]):
    """Invariant pooling: reduce over every point the monoid moves.

    Only a group (its elements permute the points) leaves a sum, mean or maximum
    over the points unchanged; a monoid that drops entries (zero-fill shifts,
    truncations) is refused, and `EquivariantLinear` into `cdl.trivial_action`
    solves for its invariant linear maps instead.

    **Arguments:** `act`, an `IndexAction` of a group; `reduce`, one of
    ``"sum"``, ``"mean"``, ``"max"``.

    **Returns:** the morphism from the space of `act` to the features, invariant
    (equivariant into `act_out`, the trivial action).

    >>> import jax.numpy as jnp, cdl
    >>> pool = Pool(cdl.permutation_action(3, (2,)), "sum")
    >>> pool(jnp.arange(6.0).reshape(3, 2))
    Array([6., 9.], dtype=float32)
    >>> pool.act_out.label
    'S3 on float[2] trivially'
    >>> Pool(cdl.signal_action(cdl.Monoid.shifts(4), 4), "sum")
    Traceback (most recent call last):
    ...
    ValueError: Pool(sum) is not invariant under Shift4 on float[4] (0): ...
    """

    act: IndexAction = eqx.field(static=True)
    reduce: Literal["sum", "mean", "max"] = eqx.field(static=True)

    def __check_init__(self) -> None:
        if not isinstance(self.act, IndexAction):
            raise TypeError(_messages.pool_needs_index_action(self.act.label))
        if self.reduce not in _REDUCE:
            raise ValueError(_messages.bad_reduce(self.reduce))
        if not self.act.monoid.is_group:
            raise ValueError(_messages.pool_not_invariant(self.reduce, self.act.label))

    def signature(self) -> tuple[Space, Space]:
        """From the space of `act` to the features."""
        dom = TensorSpace(_FLOAT, self.act.shape)
        return dom, TensorSpace(_FLOAT, self._features())

    def _axes(self) -> tuple[int, ...]:
        return tuple(a for s in self.act.slots for a in s)

    def _features(self) -> tuple[int, ...]:
        axes = self._axes()
        return tuple(s for a, s in enumerate(self.act.shape) if a not in axes)

    @property
    def act_out(self) -> IndexAction:
        """The trivial action on the pooled features."""
        return trivial_action(self.act.monoid, self._features())

    @property
    def label(self) -> str:
        """``Pool(reduce)``."""
        return f"Pool({self.reduce})"

    def __call__(self, x: Array) -> Array:
        """Reduce over the moved axes."""
        return _REDUCE[self.reduce](x, axis=self._axes())


def _check_activation(sigma: Para[Any, Any], act: AbstractAction) -> None:
    """Refuse an activation that need not commute with the hidden action `act`.

    As for `Pointwise`: only an action that reindexes entries commutes with every
    function applied entry by entry, and one that writes zeros needs ``σ(0) = 0``.
    """
    if isinstance(act, DirectSum) and _reindexes(act):
        raise ValueError(_messages.activation_on_tuples(sigma.label, act.label))
    if not isinstance(act, IndexAction):
        raise ValueError(_messages.not_pointwise(sigma.label, act.label))
    if not _writes_zeros(act.monoid):
        return
    at_zero = sigma(jnp.zeros(act.shape))
    if not bool(jnp.all(at_zero == 0)):
        raise ValueError(_messages.zero_not_fixed(sigma.label, act.label))


def equivariant_mlp(
    actions: Sequence[AbstractAction],
    *,
    key: PRNGKeyArray,
    activation: Para[Any, Any] | None = None,
    use_bias: bool = True,
) -> Para[Any, Any]:
    """Derived linear layers between successive actions, with activations between.

    **Arguments:** `actions`, at least two, all of one monoid; `key`; `activation`,
    a pointwise morphism (default `cdl.Relu`), so the hidden actions must reindex
    entries (`IndexAction`), and where they write zeros it must send 0 to 0;
    `use_bias`.

    **Returns:** ``L_1 >> σ >> L_2 >> … >> L_k`` (no activation after the last).

    >>> import jax, cdl
    >>> c = cdl.Monoid.cyclic(8)
    >>> acts = [cdl.signal_action(c, 8, 1), cdl.signal_action(c, 8, 4)]
    >>> print(equivariant_mlp(acts + acts[:1], key=jax.random.key(0)).label)
    EquivariantLinear(C8: float[1,8]→float[4,8]) >> Relu() >> \
EquivariantLinear(C8: float[4,8]→float[1,8])
    """
    if not isinstance(actions, Sequence):
        raise TypeError(_messages.actions_not_a_sequence(actions))
    if len(actions) < 2:
        raise ValueError(_messages.too_few_actions(len(actions)))
    sigma: Para[Any, Any] = Relu() if activation is None else activation
    for hidden in actions[1:-1]:
        _check_activation(sigma, hidden)
    keys = jax.random.split(key, len(actions) - 1)
    layers: list[Para[Any, Any]] = []
    for i, (a, b) in enumerate(zip(actions[:-1], actions[1:], strict=True)):
        if layers:
            layers.append(sigma)
        layers.append(EquivariantLinear(a, b, key=keys[i], use_bias=use_bias))
    model = layers[0]
    for layer in layers[1:]:
        model = model >> layer
    return model
