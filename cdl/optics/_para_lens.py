"""Parametric lenses, the category Para(Lens), in which gradient-based learning happens.

A parametric lens ``(P, P') × (A, A') → (B, B')`` reads ``get(p, a): B`` forwards and
sends a change ``b'`` back to changes of both its parameters and its input,
``put(p, a, b') = (p', a')``. Composition pairs the parameters up, as in Para:

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import reverse_derivative
>>> k1, k2 = jax.random.split(jax.random.key(0))
>>> f, g = cdl.Linear(3, 4, key=k1), cdl.Tanh() >> cdl.Linear(4, 2, key=k2)
>>> lens = reverse_derivative(f) >> reverse_derivative(g)
>>> p = (cdl.parameters(f), cdl.parameters(g))
>>> x, dy = jnp.ones(3), jnp.ones(2)
>>> bool(jnp.allclose(lens.get(p, x), (f >> g)(x)))
True

The backward pass is stored as an optic's residual, so `put` never recomputes the
forward pass: `forward` returns the output and the residual, `backward` consumes it.

>>> y, residual = lens.forward(p, x)
>>> (dp_f, dp_g), dx = lens.backward(residual, dy)
>>> dx.shape, dp_f.weight.shape
((3,), (4, 3))
"""

import abc
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray

from .._category import AbstractArrow, AbstractParallel, AbstractSequential, split_among
from .._para import Para, apply
from .._reparam import is_frozen
from .._space import Space
from . import _messages
from ._lens import components

_A = TypeVar("_A")
_B = TypeVar("_B")
_C = TypeVar("_C")
_D = TypeVar("_D")


class AbstractParaLens(AbstractArrow[_A, _B]):
    """A parametric lens ``A → B``: `forward` with a residual, `backward` from it.

    Subclasses define `forward` and `backward`; `get`, `put`, ``>>`` and ``@`` follow.
    Parameters are passed in, not stored: a lens is the map, ``p`` a point of ``P``.

    **Arguments:** those of the subclass.

    **Returns:** a parametric lens (an immutable Equinox module).

    >>> import jax.numpy as jnp
    >>> from cdl.optics import reverse_derivative
    >>> import cdl
    >>> lens = reverse_derivative(cdl.Bias(2))
    >>> p = cdl.parameters(cdl.Bias(2))
    >>> dp, dx = lens.put(p, jnp.ones(2), jnp.array([1.0, 2.0]))
    >>> dx
    Array([1., 2.], dtype=float32)
    """

    @abc.abstractmethod
    def forward(
        self, p: Any, a: _A, *, key: PRNGKeyArray | None = None
    ) -> tuple[_B, Any]:
        """The output ``get(p, a)`` and the residual the backward pass needs."""

    @abc.abstractmethod
    def backward(self, residual: Any, db: Any) -> tuple[Any, Any]:
        """The changes ``(p', a')`` of parameters and input, given ``b'``."""

    def get(self, p: Any, a: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """The forward map ``P × A → B``."""
        return self.forward(p, a, key=key)[0]

    def put(
        self, p: Any, a: _A, db: Any, *, key: PRNGKeyArray | None = None
    ) -> tuple[Any, Any]:
        """The backward map ``P × A × B' → P' × A'``."""
        return self.backward(self.forward(p, a, key=key)[1], db)

    if TYPE_CHECKING:
        # How `>>` and `@` are typed on parametric lenses; both are defined on
        # `AbstractArrow`.
        def then(
            self, other: "AbstractParaLens[_B, _C]"
        ) -> "AbstractParaLens[_A, _C]": ...

        def tensor(
            self, other: "AbstractParaLens[_C, _D]"
        ) -> "AbstractParaLens[tuple[_A, _C], tuple[_B, _D]]": ...

        def __rshift__(
            self, other: "AbstractParaLens[_B, _C]"
        ) -> "AbstractParaLens[_A, _C]": ...

        def __matmul__(
            self, other: "AbstractParaLens[_C, _D]"
        ) -> "AbstractParaLens[tuple[_A, _C], tuple[_B, _D]]": ...


class ComposeParaLens(AbstractSequential[_A, _C], AbstractParaLens[_A, _C]):
    """The composite ``l_1 >> … >> l_n`` in Para(Lens); parameters are a tuple.

    **Arguments:** the factors ``l_i: A_i → A_{i+1}``.

    **Returns:** the lens ``A_1 → A_{n+1}`` whose parameters are ``(p_1, …, p_n)``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import ComposeParaLens, reverse_derivative
    >>> lens = ComposeParaLens(reverse_derivative(cdl.Bias(1)),
    ...                        reverse_derivative(cdl.Bias(1)))
    >>> p = cdl.parameters(cdl.Bias(1, init=1.0))
    >>> lens.get((p, p), jnp.zeros(1))
    Array([2.], dtype=float32)
    """

    family: ClassVar[type] = AbstractParaLens

    def __init__(self, *factors: AbstractParaLens[Any, Any]) -> None:
        super().__init__(*factors)

    def forward(
        self, p: Any, a: _A, *, key: PRNGKeyArray | None = None
    ) -> tuple[_C, Any]:
        """Run each factor on its parameters in turn; keep every residual."""
        keys = split_among(key, [lens.stochastic for lens in self.factors])
        out: Any = a
        residuals = []
        for lens, q, k in zip(self.factors, p, keys, strict=True):
            out, residual = lens.forward(q, out, key=k)
            residuals.append(residual)
        return out, tuple(residuals)

    def get(self, p: Any, a: _A, *, key: PRNGKeyArray | None = None) -> _C:
        """Each factor in turn, keeping no residuals."""
        keys = split_among(key, [lens.stochastic for lens in self.factors])
        out: Any = a
        for lens, q, k in zip(self.factors, p, keys, strict=True):
            out = lens.get(q, out, key=k)
        result: _C = out
        return result

    def backward(self, residual: Any, dc: Any) -> tuple[Any, Any]:
        """Back through every factor, last first."""
        change = dc
        changes: list[Any] = []
        for lens, r in zip(reversed(self.factors), reversed(residual), strict=True):
            dq, change = lens.backward(r, change)
            changes.append(dq)
        return tuple(reversed(changes)), change


class TensorParaLens(AbstractParallel[Any, Any], AbstractParaLens[Any, Any]):
    """The parallel composite ``l_1 @ … @ l_n`` in Para(Lens), on tuples.

    **Arguments:** the factors ``l_i: A_i → B_i``.

    **Returns:** the lens ``A_1 × … × A_n → B_1 × … × B_n`` with parameters
    ``(p_1, …, p_n)``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import TensorParaLens, reverse_derivative
    >>> lens = TensorParaLens(reverse_derivative(cdl.Bias(1)),
    ...                       reverse_derivative(cdl.Tanh()))
    >>> p = (cdl.parameters(cdl.Bias(1)), cdl.parameters(cdl.Tanh()))
    >>> lens.get(p, (jnp.ones(1), jnp.zeros(1)))
    (Array([1.], dtype=float32), Array([0.], dtype=float32))
    """

    family: ClassVar[type] = AbstractParaLens

    def __init__(self, *factors: AbstractParaLens[Any, Any]) -> None:
        super().__init__(*factors)

    def forward(
        self, p: Any, a: tuple[Any, ...], *, key: PRNGKeyArray | None = None
    ) -> tuple[tuple[Any, ...], Any]:
        """Each factor on its component."""
        keys = split_among(key, [lens.stochastic for lens in self.factors])
        p, a = components(self, "parameters", p), components(self, "input", a)
        pairs = [
            lens.forward(q, part, key=k)
            for lens, q, part, k in zip(self.factors, p, a, keys, strict=True)
        ]
        return tuple(out for out, _ in pairs), tuple(r for _, r in pairs)

    def get(
        self, p: Any, a: tuple[Any, ...], *, key: PRNGKeyArray | None = None
    ) -> tuple[Any, ...]:
        """Each factor on its component, keeping no residuals."""
        keys = split_among(key, [lens.stochastic for lens in self.factors])
        p, a = components(self, "parameters", p), components(self, "input", a)
        return tuple(
            lens.get(q, part, key=k)
            for lens, q, part, k in zip(self.factors, p, a, keys, strict=True)
        )

    def backward(self, residual: Any, db: Any) -> tuple[Any, Any]:
        """Each factor back on its component."""
        db = components(self, "change", db)
        pairs = [
            lens.backward(r, change)
            for lens, r, change in zip(self.factors, residual, db, strict=True)
        ]
        return tuple(dp for dp, _ in pairs), tuple(da for _, da in pairs)


def split_parameters(f: Para[Any, Any]) -> tuple[Any, Para[Any, Any]]:
    """Split a morphism into its trainable parameters and the rest.

    **Arguments:** `f`, a Para morphism.

    **Returns:** ``(params, skeleton)``: the floating-point arrays of `f` (None
    elsewhere) and `f` without them; ``equinox.combine`` joins them again.
    Parameters frozen by `cdl.freeze` stay with the skeleton, and so does the
    initial state a stateful layer keeps (`BatchNorm`'s running statistics in
    its `equinox.nn.StateIndex`, when the model was not built by
    `equinox.nn.make_with_state`): state is not a parameter.

    >>> import jax, cdl
    >>> from cdl.optics import split_parameters
    >>> params, skeleton = split_parameters(cdl.Linear(2, 1, key=jax.random.key(0)))
    >>> params.weight.shape, skeleton.weight
    ((1, 2), None)
    >>> split_parameters(cdl.BatchNorm(3))[0].running is None
    True
    """
    params, skeleton = eqx.partition(f, _trainable, is_leaf=_held)
    return params, skeleton


def _held(node: object) -> bool:
    return is_frozen(node) or isinstance(node, eqx.nn.StateIndex)


def _trainable(node: object) -> bool:
    return not _held(node) and eqx.is_inexact_array(node)


class ReverseDerivative(AbstractParaLens[_A, _B]):
    """The reverse derivative ``R(f)`` of a Para morphism: a parametric lens.

    `get` is `f` and `put` its vector-Jacobian product (from `jax.vjp`), with
    respect to both the parameters and the input. With ``batched=True`` the lens
    acts on a batch (leading axis) and `put` sums the parameter changes over it.

    **Arguments:** `f`, the morphism; `batched`, whether to map over a batch.

    **Returns:** the lens; its parameters are ``split_parameters(f)[0]``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import ReverseDerivative
    >>> lens = ReverseDerivative(cdl.Tanh())
    >>> lens.put(None, jnp.zeros(2), jnp.ones(2))[1]
    Array([1., 1.], dtype=float32)
    """

    skeleton: Para[_A, _B]
    batched: bool = eqx.field(static=True)

    def __init__(self, f: Para[_A, _B], batched: bool = False) -> None:
        self.skeleton = split_parameters(f)[1]
        self.batched = batched

    @property
    def stochastic(self) -> bool:
        """Whether the morphism needs a key."""
        return self.skeleton.stochastic

    def signature(self) -> tuple[Space, Space]:
        """The morphism's spaces (any to any when it acts on a batch)."""
        return super().signature() if self.batched else self.skeleton.signature()

    @property
    def label(self) -> str:
        """``R(f)`` for the morphism ``f``."""
        return f"R({self.skeleton.label})"

    def morphism(self, p: Any) -> Para[_A, _B]:
        """The morphism with parameters `p` filled in."""
        f: Para[_A, _B] = eqx.combine(p, self.skeleton)
        return f

    def _map(self, p: Any, a: _A, key: PRNGKeyArray | None) -> _B:
        f = self.morphism(p)
        if not self.batched:
            return apply(f, a, key)
        if key is None or not self.stochastic:
            out: _B = jax.vmap(lambda x: apply(f, x, None))(a)
            return out
        n = jax.tree.leaves(a)[0].shape[0]
        keys = jax.random.split(key, n)
        out = jax.vmap(lambda x, k: apply(f, x, k))(a, keys)
        return out

    def forward(
        self, p: Any, a: _A, *, key: PRNGKeyArray | None = None
    ) -> tuple[_B, Any]:
        """Run the morphism, keeping its `jax.vjp` as the residual."""
        out, pullback = jax.vjp(lambda q, x: self._map(q, x, key), p, a)
        return out, pullback

    def get(self, p: Any, a: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """Run the morphism alone."""
        return self._map(p, a, key)

    def backward(self, residual: Any, db: Any) -> tuple[Any, Any]:
        """Pull `db` back to parameters and input."""
        dp, da = residual(db)
        return dp, da


def reverse_derivative(
    f: Para[_A, _B], *, batched: bool = False
) -> ReverseDerivative[_A, _B]:
    """The reverse-derivative functor ``R: Para → Para(Lens)`` on one morphism.

    It is a functor: ``R(f >> g)`` and ``R(f) >> R(g)`` agree on every input.

    **Arguments:** `f`; `batched`, to act on a batch along the leading axis.

    **Returns:** the lens ``R(f)``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import reverse_derivative
    >>> f = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> dp, dx = reverse_derivative(f).put(cdl.parameters(f), jnp.ones(2), jnp.ones(1))
    >>> bool(jnp.allclose(dx, f.weight[0])), dp.bias
    (True, Array([1.], dtype=float32))
    """
    _check_morphism("reverse_derivative", f)
    return ReverseDerivative(f, batched)


def _check_morphism(functor: str, f: object) -> None:
    """Raise `TypeError` unless `f` is a `cdl.Para` morphism."""
    if not isinstance(f, Para):
        raise TypeError(_messages.derivative_of_non_morphism(functor, f))


class AbstractTangentMap(AbstractArrow[_A, _B]):
    """A map with its forward derivative: ``(p, a, ṗ, ȧ) ↦ (b, ḃ)``.

    This is the generalised-AD view in forward mode: tangents are pushed forwards
    alongside the values, and composites push them through each factor in turn.

    **Arguments:** those of the subclass.

    **Returns:** a tangent map with ``>>`` (`then`) and ``@`` (`tensor`).

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import forward_derivative
    >>> d = forward_derivative(cdl.Tanh()) >> forward_derivative(cdl.Tanh())
    >>> d.push((None, None), jnp.zeros(1), (None, None), jnp.ones(1))
    (Array([0.], dtype=float32), Array([1.], dtype=float32))
    """

    @abc.abstractmethod
    def push(self, p: Any, a: _A, dp: Any, da: Any) -> tuple[_B, Any]:
        """The value and its tangent, given tangents of parameters and input."""

    if TYPE_CHECKING:
        # How `>>` is typed on tangent maps; it is defined on `AbstractArrow`.
        def then(
            self, other: "AbstractTangentMap[_B, _C]"
        ) -> "AbstractTangentMap[_A, _C]": ...

        def __rshift__(
            self, other: "AbstractTangentMap[_B, _C]"
        ) -> "AbstractTangentMap[_A, _C]": ...


class ComposeTangentMap(AbstractSequential[_A, _C], AbstractTangentMap[_A, _C]):
    """The composite ``d_1 >> … >> d_n`` of tangent maps; parameters are a tuple.

    **Arguments:** the factors ``d_i: A_i → A_{i+1}``.

    **Returns:** the tangent map ``A_1 → A_{n+1}``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import ComposeTangentMap, forward_derivative
    >>> d = ComposeTangentMap(forward_derivative(cdl.Tanh()),
    ...                       forward_derivative(cdl.Tanh()))
    >>> d.push((None, None), jnp.zeros(1), (None, None), jnp.ones(1))[1]
    Array([1.], dtype=float32)
    """

    family: ClassVar[type] = AbstractTangentMap

    def __init__(self, *factors: AbstractTangentMap[Any, Any]) -> None:
        super().__init__(*factors)

    def push(self, p: Any, a: _A, dp: Any, da: Any) -> tuple[_C, Any]:
        """Push through every factor in turn."""
        out: Any = a
        tangent = da
        for tangent_map, q, dq in zip(self.factors, p, dp, strict=True):
            out, tangent = tangent_map.push(q, out, dq, tangent)
        return out, tangent


class TensorTangentMap(AbstractParallel[Any, Any], AbstractTangentMap[Any, Any]):
    """The parallel composite ``d_1 @ … @ d_n`` of tangent maps, on tuples.

    **Arguments:** the factors.

    **Returns:** the tangent map on tuples, parameters ``(p_1, …, p_n)``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import forward_derivative
    >>> d = forward_derivative(cdl.Tanh()) @ forward_derivative(cdl.Tanh())
    >>> d.push((None, None), (jnp.zeros(1),) * 2, (None, None), (jnp.ones(1),) * 2)[1]
    (Array([1.], dtype=float32), Array([1.], dtype=float32))
    """

    family: ClassVar[type] = AbstractTangentMap

    def __init__(self, *factors: AbstractTangentMap[Any, Any]) -> None:
        super().__init__(*factors)

    def push(self, p: Any, a: Any, dp: Any, da: Any) -> tuple[Any, Any]:
        """Push each component through its factor."""
        p, a = components(self, "parameters", p), components(self, "input", a)
        dp, da = (
            components(self, "parameters' tangent", dp),
            components(self, "tangent", da),
        )
        pairs = [
            tangent_map.push(q, part, dq, tangent)
            for tangent_map, q, part, dq, tangent in zip(
                self.factors, p, a, dp, da, strict=True
            )
        ]
        return tuple(out for out, _ in pairs), tuple(t for _, t in pairs)


class ForwardDerivative(AbstractTangentMap[_A, _B]):
    """The forward derivative of a Para morphism, from `jax.jvp`.

    **Arguments:** `f`, a deterministic Para morphism.

    **Returns:** the tangent map of `f`; its parameters are those of `f`.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import ForwardDerivative
    >>> ForwardDerivative(cdl.Bias(1)).push(
    ...     cdl.parameters(cdl.Bias(1)), jnp.ones(1), cdl.parameters(cdl.Bias(1)),
    ...     jnp.ones(1))
    (Array([1.], dtype=float32), Array([1.], dtype=float32))
    """

    skeleton: Para[_A, _B]

    def __init__(self, f: Para[_A, _B]) -> None:
        self.skeleton = split_parameters(f)[1]

    def signature(self) -> tuple[Space, Space]:
        """The morphism's spaces."""
        return self.skeleton.signature()

    @property
    def label(self) -> str:
        """``D(f)`` for the morphism ``f``."""
        return f"D({self.skeleton.label})"

    def push(self, p: Any, a: _A, dp: Any, da: Any) -> tuple[_B, Any]:
        """`jax.jvp` of the morphism in parameters and input together."""

        def run(q: Any, x: _A) -> _B:
            f: Para[_A, _B] = eqx.combine(q, self.skeleton)
            return f(x)

        out, tangent = jax.jvp(run, (p, a), (dp, da))
        return out, tangent


def forward_derivative(f: Para[_A, _B]) -> ForwardDerivative[_A, _B]:
    """The forward-derivative functor on one morphism: ``D(f)``, from `jax.jvp`.

    **Arguments:** `f`, a deterministic Para morphism.

    **Returns:** its tangent map; ``D(f >> g)`` agrees with ``D(f) >> D(g)``.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import forward_derivative
    >>> forward_derivative(cdl.Tanh()).push(None, jnp.zeros(1), None, jnp.full(1, 2.0))
    (Array([0.], dtype=float32), Array([2.], dtype=float32))
    """
    _check_morphism("forward_derivative", f)
    return ForwardDerivative(f)
