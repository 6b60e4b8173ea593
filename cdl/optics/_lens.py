"""Lenses: bidirectional maps ``(S, S') → (A, A')``, a forward `get`, a backward `put`.

A lens reads a view ``get(s): A`` out of a source and writes a change of the view back
``put(s, a'): S'``. Lenses compose like functions, ``l >> m`` reading through both and
writing back through both in reverse order, and side by side, ``l @ m`` on pairs.
A lens into part of a structure is *lawful* when writing what was read changes nothing
(get-put), reading what was written returns it (put-get), and a second write overrides
the first (put-put). Lenses built from `at`, `first` and `second` are lawful, and so
are their composites:

>>> import jax.numpy as jnp
>>> from cdl.optics import at, first
>>> lens = first() >> at(lambda s: s["w"])
>>> s = ({"w": jnp.array(1.0), "b": jnp.array(2.0)}, jnp.array(3.0))
>>> lens.get(s)
Array(1., dtype=float32, weak_type=True)
>>> lens.put(s, lens.get(s))[0]["w"]            # get-put
Array(1., dtype=float32, weak_type=True)
>>> lens.get(lens.put(s, jnp.array(5.0)))       # put-get
Array(5., dtype=float32, weak_type=True)
>>> t = lens.put(lens.put(s, jnp.array(5.0)), jnp.array(7.0))
>>> bool(t[0]["w"] == lens.put(s, jnp.array(7.0))[0]["w"])   # put-put
True
"""

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx

_S = TypeVar("_S")
_A = TypeVar("_A")
_B = TypeVar("_B")
_T = TypeVar("_T")
_C = TypeVar("_C")


class AbstractLens(eqx.Module, Generic[_S, _A]):
    """A lens from a source ``S`` to a view ``A``: `get` reads, `put` writes back.

    Subclasses define `get` and `put`; ``>>`` (`then`) and ``@`` (`tensor`) are
    defined here once.

    **Arguments:** those of the subclass.

    **Returns:** a lens, an immutable Equinox module.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Lens
    >>> double = Lens(lambda s: 2 * s, lambda s, a: a / 2)
    >>> (double >> double).get(jnp.array(1.0)), (double >> double).put(
    ...     jnp.array(1.0), jnp.array(8.0))
    (Array(4., dtype=float32, weak_type=True), Array(2., dtype=float32, weak_type=True))
    """

    @abc.abstractmethod
    def get(self, s: _S) -> _A:
        """Read the view out of the source `s`."""

    @abc.abstractmethod
    def put(self, s: _S, a: _A) -> _S:
        """Write the view `a` back into the source `s`."""

    def then(self, other: "AbstractLens[_A, _B]") -> "AbstractLens[_S, _B]":
        """The composite ``self >> other``: read through both, write back in reverse."""
        return ComposeLens(self, other)

    def tensor(
        self, other: "AbstractLens[_T, _C]"
    ) -> "AbstractLens[tuple[_S, _T], tuple[_A, _C]]":
        """The parallel lens ``self @ other`` on pairs."""
        return TensorLens(self, other)

    def __rshift__(self, other: "AbstractLens[_A, _B]") -> "AbstractLens[_S, _B]":
        return self.then(other)

    def __matmul__(
        self, other: "AbstractLens[_T, _C]"
    ) -> "AbstractLens[tuple[_S, _T], tuple[_A, _C]]":
        return self.tensor(other)


class Lens(AbstractLens[_S, _A]):
    """A lens given by its two functions.

    **Arguments:** `get: S → A` and `put: S × A → S` (plain functions; kept static).

    **Returns:** the lens.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Lens
    >>> head = Lens(lambda s: s[0], lambda s, a: s.at[0].set(a))
    >>> head.put(jnp.arange(3.0), jnp.array(9.0))
    Array([9., 1., 2.], dtype=float32)
    """

    getter: Callable[[_S], _A] = eqx.field(static=True)
    putter: Callable[[_S, _A], _S] = eqx.field(static=True)

    def __init__(self, get: Callable[[_S], _A], put: Callable[[_S, _A], _S]) -> None:
        self.getter = get
        self.putter = put

    def get(self, s: _S) -> _A:
        """Apply the `get` function."""
        return self.getter(s)

    def put(self, s: _S, a: _A) -> _S:
        """Apply the `put` function."""
        return self.putter(s, a)


class ComposeLens(AbstractLens[_S, _B], Generic[_S, _A, _B]):
    """The composite ``first >> second`` of two lenses.

    **Arguments:** `first: S → A`, `second: A → B`.

    **Returns:** the lens ``S → B``: ``get = second.get ∘ first.get`` and
    ``put(s, b) = first.put(s, second.put(first.get(s), b))``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import ComposeLens, first
    >>> ComposeLens(first(), first()).get(((jnp.array(1.0), 2), 3))
    Array(1., dtype=float32, weak_type=True)
    """

    first: AbstractLens[_S, _A]
    second: AbstractLens[_A, _B]

    def get(self, s: _S) -> _B:
        """Read through `first`, then `second`."""
        return self.second.get(self.first.get(s))

    def put(self, s: _S, b: _B) -> _S:
        """Write back through `second`, then `first`."""
        return self.first.put(s, self.second.put(self.first.get(s), b))


class TensorLens(AbstractLens[tuple[_S, _T], tuple[_A, _C]], Generic[_S, _A, _T, _C]):
    """The parallel lens ``left @ right``: each side on its component of a pair.

    **Arguments:** `left: S → A`, `right: T → C`.

    **Returns:** the lens ``S × T → A × C``.

    >>> from cdl.optics import TensorLens, first
    >>> TensorLens(first(), first()).get(((1, 2), (3, 4)))
    (1, 3)
    """

    left: AbstractLens[_S, _A]
    right: AbstractLens[_T, _C]

    def get(self, s: tuple[_S, _T]) -> tuple[_A, _C]:
        """Read each side."""
        return self.left.get(s[0]), self.right.get(s[1])

    def put(self, s: tuple[_S, _T], a: tuple[_A, _C]) -> tuple[_S, _T]:
        """Write each side back."""
        return self.left.put(s[0], a[0]), self.right.put(s[1], a[1])


def _fst(s: tuple[Any, Any]) -> Any:
    return s[0]


def _snd(s: tuple[Any, Any]) -> Any:
    return s[1]


def _put_fst(s: tuple[Any, Any], a: Any) -> tuple[Any, Any]:
    return a, s[1]


def _put_snd(s: tuple[Any, Any], a: Any) -> tuple[Any, Any]:
    return s[0], a


def first() -> Lens[tuple[Any, Any], Any]:
    """The lawful lens onto the first component of a pair.

    **Returns:** the lens ``S × T → S``.

    >>> from cdl.optics import first
    >>> first().put((1, 2), 5)
    (5, 2)
    """
    return Lens(_fst, _put_fst)


def second() -> Lens[tuple[Any, Any], Any]:
    """The lawful lens onto the second component of a pair.

    **Returns:** the lens ``S × T → T``.

    >>> from cdl.optics import second
    >>> second().put((1, 2), 5)
    (1, 5)
    """
    return Lens(_snd, _put_snd)


@dataclasses.dataclass(frozen=True)
class _At:
    where: Callable[[Any], Any]

    def get(self, s: Any) -> Any:
        return self.where(s)

    def put(self, s: Any, a: Any) -> Any:
        return eqx.tree_at(self.where, s, a)


def at(where: Callable[[_S], _A]) -> Lens[_S, _A]:
    """The lawful lens onto the part of a pytree that `where` picks out.

    **Arguments:** `where`, a function selecting a node, as for `equinox.tree_at`.

    **Returns:** the lens; its `put` replaces that node.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import at
    >>> layer = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> at(lambda m: m.bias).put(layer, jnp.zeros(1)).bias
    Array([0.], dtype=float32)
    """
    focus = _At(where)
    return Lens(focus.get, focus.put)
