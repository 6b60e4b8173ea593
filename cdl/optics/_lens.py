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
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._category import (
    AbstractArrow,
    AbstractIdentity,
    AbstractParallel,
    AbstractSequential,
)
from .._messages import with_article
from .._space import space_of
from . import _messages

_S = TypeVar("_S")
_A = TypeVar("_A")
_B = TypeVar("_B")
_T = TypeVar("_T")
_C = TypeVar("_C")


class AbstractLens(AbstractArrow[_S, _A]):
    """A lens from a source ``S`` to a view ``A``: `get` reads, `put` writes back.

    Subclasses define `get` and `put`; ``>>`` (`then`) and ``@`` (`tensor`) come
    from `AbstractArrow`, as for every arrow of cdl.

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

    if TYPE_CHECKING:
        # How `>>` and `@` are typed on lenses; both are defined on `AbstractArrow`.
        def then(self, other: "AbstractLens[_A, _B]") -> "AbstractLens[_S, _B]": ...

        def tensor(
            self, other: "AbstractLens[_T, _C]"
        ) -> "AbstractLens[tuple[_S, _T], tuple[_A, _C]]": ...

        def __rshift__(
            self, other: "AbstractLens[_A, _B]"
        ) -> "AbstractLens[_S, _B]": ...

        def __matmul__(
            self, other: "AbstractLens[_T, _C]"
        ) -> "AbstractLens[tuple[_S, _T], tuple[_A, _C]]": ...


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

    @property
    def label(self) -> str:
        """``first()``, ``second()``, ``at(where)``, or ``Lens(get)`` by its name.

        >>> from cdl.optics import Lens, first
        >>> (first() @ Lens(abs, lambda s, a: a)).label
        '(first() @ Lens(abs))'
        """
        getter = self.getter
        if getter is _fst or getter is _snd:
            return "first()" if getter is _fst else "second()"
        if isinstance(getattr(getter, "__self__", None), _At):
            where = getter.__self__.where  # type: ignore[attr-defined]
            return f"at({getattr(where, '__name__', type(where).__name__)})"
        return f"Lens({getattr(getter, '__name__', type(getter).__name__)})"

    def get(self, s: _S) -> _A:
        """Apply the `get` function."""
        return self.getter(s)

    def put(self, s: _S, a: _A) -> _S:
        """Apply the `put` function."""
        return self.putter(s, a)


class IdentityLens(AbstractIdentity[_S], AbstractLens[_S, _S]):
    """The identity lens: reads the whole source, and a write replaces it.

    **Returns:** the unit of ``>>`` on lenses.

    >>> from cdl.optics import IdentityLens, first
    >>> IdentityLens() >> first() == first()
    True
    >>> IdentityLens().put(1, 2)
    2
    """

    family: ClassVar[type] = AbstractLens

    def get(self, s: _S) -> _S:
        """Return `s`."""
        return s

    def put(self, s: _S, a: _S) -> _S:
        """Return `a`."""
        return a


class ComposeLens(AbstractSequential[_S, _B], AbstractLens[_S, _B]):
    """The composite ``l_1 >> … >> l_n`` of lenses, a flat tuple of factors.

    **Arguments:** the factors ``l_i: A_i → A_{i+1}``.

    **Returns:** the lens ``A_1 → A_{n+1}``: `get` reads through every factor,
    `put` writes back through them in reverse.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import ComposeLens, first
    >>> ComposeLens(first(), first()).get(((jnp.array(1.0), 2), 3))
    Array(1., dtype=float32, weak_type=True)
    """

    family: ClassVar[type] = AbstractLens

    def __init__(self, *factors: AbstractLens[Any, Any]) -> None:
        super().__init__(*factors)

    def get(self, s: _S) -> _B:
        """Read through every factor in turn."""
        view: Any = s
        for lens in self.factors:
            view = lens.get(view)
        out: _B = view
        return out

    def put(self, s: _S, b: _B) -> _S:
        """Read down to each factor's source, then write back in reverse."""
        sources: list[Any] = [s]
        for lens in self.factors[:-1]:
            sources.append(lens.get(sources[-1]))
        change: Any = b
        for lens, source in zip(reversed(self.factors), reversed(sources), strict=True):
            change = lens.put(source, change)
        out: _S = change
        return out


class TensorLens(AbstractParallel[Any, Any], AbstractLens[Any, Any]):
    """The parallel lens ``l_1 @ … @ l_n``: each factor on its component of a tuple.

    **Arguments:** the factors ``l_i: S_i → A_i``.

    **Returns:** the lens ``S_1 × … × S_n → A_1 × … × A_n``.

    >>> from cdl.optics import TensorLens, first
    >>> TensorLens(first(), first()).get(((1, 2), (3, 4)))
    (1, 3)
    """

    family: ClassVar[type] = AbstractLens

    def __init__(self, *factors: AbstractLens[Any, Any]) -> None:
        super().__init__(*factors)

    def get(self, s: tuple[Any, ...]) -> tuple[Any, ...]:
        """Read each component."""
        parts = components(self, "source", s)
        return tuple(
            lens.get(part) for lens, part in zip(self.factors, parts, strict=True)
        )

    def put(self, s: tuple[Any, ...], a: tuple[Any, ...]) -> tuple[Any, ...]:
        """Write each component back."""
        parts, changes = components(self, "source", s), components(self, "view", a)
        return tuple(
            lens.put(part, change)
            for lens, part, change in zip(self.factors, parts, changes, strict=True)
        )


def components(arrow: Any, what: str, value: Any) -> tuple[Any, ...]:
    """`value` as a tuple of one component per factor of the parallel `arrow`.

    A `TypeError` naming `arrow` for a value that is no tuple (or list) of that
    many components: zipped as it was, a longer tuple lost its last components
    without a word and an array was read row by row.

    >>> from cdl.optics import first
    >>> components(first() @ first(), "source", [(1, 2), (3, 4)])
    ((1, 2), (3, 4))
    >>> components(first() @ first(), "source", ((1, 2),))
    Traceback (most recent call last):
    ...
    TypeError: (first() @ first()) takes its source as a tuple of 2 components, \
one per factor, but was given a tuple of 1.
    """
    count = len(arrow.factors)
    if isinstance(value, tuple | list) and len(value) == count:
        return tuple(value)
    raise TypeError(
        _messages.lens_components(arrow.label, what, count, described(value))
    )


def described(value: Any) -> str:
    """What a lens that wants a tuple was given: an array by its space, not class.

    >>> import jax.numpy as jnp
    >>> described(jnp.zeros(3)), described((1,)), described(2.0)
    ('f32[3]', 'a tuple of 1', 'a float')
    """
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    if _is_array(value):
        return _space(value)
    return with_article(type(value).__name__)


def _parts(s: Any, lens: str, index: int) -> Any:
    """`s` if it is a tuple (or list) with a component `index`, else `TypeError`."""
    if not isinstance(s, tuple | list) or len(s) <= index:
        raise TypeError(_messages.lens_needs_tuple(lens, index, described(s)))
    return s


def _fst(s: tuple[Any, Any]) -> Any:
    return _parts(s, "first()", 0)[0]


def _snd(s: tuple[Any, Any]) -> Any:
    return _parts(s, "second()", 1)[1]


def _put_fst(s: tuple[Any, Any], a: Any) -> tuple[Any, Any]:
    # The rest of a longer tuple is kept, not dropped.
    return (a, *_parts(s, "first()", 0)[1:])


def _put_snd(s: tuple[Any, Any], a: Any) -> tuple[Any, Any]:
    s = _parts(s, "second()", 1)
    return (s[0], a, *s[2:])


def first() -> Lens[tuple[Any, Any], Any]:
    """The lawful lens onto the first component of a pair (or of any tuple).

    **Returns:** the lens ``S × T → S``; writing keeps the other components.

    >>> from cdl.optics import first
    >>> first().put((1, 2), 5), first().put((1, 2, 3), 5)
    ((5, 2), (5, 2, 3))
    """
    return Lens(_fst, _put_fst)


def second() -> Lens[tuple[Any, Any], Any]:
    """The lawful lens onto the second component of a pair (or of any tuple).

    **Returns:** the lens ``S × T → T``; writing keeps the other components.

    >>> from cdl.optics import second
    >>> second().put((1, 2), 5), second().put((1, 2, 3), 5)
    ((1, 5), (1, 5, 3))
    """
    return Lens(_snd, _put_snd)


def _space(value: Any) -> str:
    """``f32[3]`` for an array (or tracer), ``float 2.0`` for a number, a type name."""
    if _is_array(value):
        dtype = _dtype(value)
        if jnp.issubdtype(dtype, jax.dtypes.extended):
            return f"{dtype}[{','.join(map(str, np.shape(value)))}]"  # PRNG keys
        shape = jax.ShapeDtypeStruct(np.shape(value), dtype)  # type: ignore[no-untyped-call]
        return repr(space_of(shape))
    if isinstance(value, tuple | list):
        inner = ", ".join(_space(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, bool | int | float | complex | str) or value is None:
        return f"{type(value).__name__} {value!r}"
    label = getattr(value, "label", None)
    return label if isinstance(label, str) else with_article(type(value).__name__)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _dtype(value: Any) -> Any:
    """The dtype JAX gives `value` (float64 NumPy is float32 when x64 is off)."""
    return jax.dtypes.canonicalize_dtype(value.dtype, allow_extended_dtype=True)


def _fits(old: Any, new: Any) -> str | None:
    """``None`` when `new` may replace the leaf `old`, else the hint of the error.

    Only array leaves are checked: a new array must have the old shape and, after
    JAX's canonicalisation (so ``np.zeros(3)`` fills a float32 leaf when x64 is off),
    the old dtype. A Python number fills a 0-d array whose dtype it does not promote.
    Other leaves (Python numbers, strings, functions) may be replaced by anything.
    """
    if not _is_array(old):
        return None
    dtype = _dtype(old)
    if isinstance(new, bool | int | float | complex) and not _is_array(new):
        if jnp.issubdtype(dtype, jax.dtypes.extended):
            return ""  # a number is no PRNG key
        if np.shape(old) != ():
            return _messages.LENS_PUT_BROADCAST
        return None if jnp.result_type(dtype, new) == dtype else _messages.LENS_PUT_CAST
    if not _is_array(new):
        return ""
    if np.shape(new) != np.shape(old):
        return _messages.LENS_PUT_BROADCAST if np.shape(new) == () else ""
    if _dtype(new) != dtype:
        return _messages.LENS_PUT_CAST
    return None


# (which of several picked nodes, path inside it, expected, given, hint)
_Refusal = tuple[int | None, str, str, str, str]


def _refusal(old: Any, new: Any) -> _Refusal | None:
    """``None`` when `new` may replace the view `old`, else what to say and where."""
    if _is_array(old):
        hint = _fits(old, new)
        return None if hint is None else (None, "", _space(old), _space(new), hint)
    old_leaves, old_tree = jax.tree_util.tree_flatten_with_path(old)
    if not any(_is_array(leaf) for _, leaf in old_leaves):
        return None  # no array to keep (a Python number, a function, None)
    if isinstance(old, tuple | list) and isinstance(new, tuple | list):
        # `where` picking several nodes takes a tuple or list of as many.
        if len(old) != len(new):
            return (None, "", _space(old), _space(new), "")
        for index, (o, n) in enumerate(zip(old, new, strict=True)):
            found = _refusal(o, n)
            if found is not None:
                return (index, *found[1:])
        return None
    new_leaves, new_tree = jax.tree_util.tree_flatten(new)
    if new_tree != old_tree:  # type: ignore[operator]
        return (None, "", _space(old), _space(new), _messages.LENS_PUT_TREE)
    for (path, o), n in zip(old_leaves, new_leaves, strict=True):
        hint = _fits(o, n)
        if hint is not None:
            return (None, jax.tree_util.keystr(path), _space(o), _space(n), hint)
    return None


@dataclasses.dataclass(frozen=True)
class _Key:
    """A leaf's key path, as a leaf (no pytree) that `where` can pick out."""

    keys: tuple[Any, ...]


def _path(where: Callable[[Any], Any], s: Any, part: int | None = None) -> str:
    """Where `where` points in `s`, as ``jax.tree_util.keystr`` writes it, or ``""``.

    `where` is run on `s` with each leaf replaced by its key path; a subtree picked
    out is named by the path its leaves share; `part` names one of several nodes.
    """
    try:
        node = where(jax.tree_util.tree_map_with_path(lambda p, _: _Key(p), s))
    except Exception:  # noqa: BLE001 (a `where` that computes with the leaves)
        return ""
    picked = node if isinstance(node, tuple | list) else (node,)
    if part is not None and part < len(picked):
        picked = (picked[part],)
    names = []
    for one in picked:
        keys = [k.keys for k in jax.tree_util.tree_leaves(one) if isinstance(k, _Key)]
        if not keys:
            return ""
        common = keys[0]
        for other in keys[1:]:
            length = 0
            while length < min(len(common), len(other)):
                if common[length] != other[length]:
                    break
                length += 1
            common = common[:length]
        names.append(jax.tree_util.keystr(common) if common else "the source")
    return ", ".join(names)


@dataclasses.dataclass(frozen=True)
class _At:
    where: Callable[[Any], Any]

    def get(self, s: Any) -> Any:
        return self.where(s)

    def put(self, s: Any, a: Any) -> Any:
        found = _refusal(self.where(s), a)
        if found is not None:
            part, inside, expected, given, hint = found
            lens = f"at({getattr(self.where, '__name__', type(self.where).__name__)})"
            path = _path(self.where, s, part) + inside
            raise TypeError(_messages.lens_put_space(lens, path, expected, given, hint))
        return eqx.tree_at(self.where, s, a)


def at(where: Callable[[_S], _A]) -> Lens[_S, _A]:
    """The lawful lens onto the part of a pytree that `where` picks out.

    **Arguments:** `where`, a function selecting a node, as for `equinox.tree_at`.

    **Returns:** the lens; its `put` replaces that node. An array is replaced only
    by one of its shape and dtype (a NumPy array or a Python number as JAX would
    read it), so that reading back gives what was written; anything else is a
    `TypeError` naming the lens, the path and both spaces.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import at
    >>> layer = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> at(lambda m: m.bias).put(layer, jnp.zeros(1)).bias
    Array([0.], dtype=float32)
    >>> at(lambda m: m.bias).put(layer, jnp.zeros(2))
    Traceback (most recent call last):
    ...
    TypeError: at(<lambda>) (at .bias) writes back a view of f32[1], but was given \
f32[2]: put must keep the view's shape and dtype, or reading it back would not give \
what was read before.
    """
    focus = _At(where)
    return Lens(focus.get, focus.put)
