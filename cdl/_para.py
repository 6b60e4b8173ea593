"""The category Para: parametric morphisms, sequential and parallel composition.

A morphism ``f: A → B`` of Para is a pair ``(P, f: P × A → B)``. In cdl it is an
immutable Equinox module: its array leaves are the parameters ``P`` and ``__call__``
is the map. Composing ``f >> g`` pairs the parameters up, ``f @ g`` runs both side
by side on a pair. The laws hold on the nose:

>>> import jax, jax.numpy as jnp, cdl
>>> k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
>>> f, g, h = cdl.Linear(3, 4, key=k1), cdl.Tanh(), cdl.Linear(4, 2, key=k3)
>>> x = jnp.arange(3.0)
>>> bool(jnp.allclose(((f >> g) >> h)(x), (f >> (g >> h))(x)))
True
>>> bool(jnp.allclose((cdl.Identity() >> f)(x), f(x)))
True
>>> (f >> g >> h).dom, (f >> g >> h).cod
(float[3], float[2])
"""

import abc
import dataclasses
import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

import equinox as eqx
import jax
import jaxtyping
from beartype import beartype
from jaxtyping import PRNGKeyArray

from . import _messages
from ._space import (
    Mismatch,
    ProductSpace,
    Space,
    TensorSpace,
    Unifier,
    rename,
    space_from_annotation,
    space_of,
)

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")


class CompositionError(TypeError):
    """Two morphisms do not compose: the codomain of one is not the domain of the next.

    >>> import jax, cdl
    >>> k = jax.random.key(0)
    >>> cdl.Linear(784, 128, key=k) >> cdl.Tanh() >> cdl.Linear(64, 10, key=k)
    Traceback (most recent call last):
    ...
    cdl._para.CompositionError: Linear(784→128) >> Tanh() does not compose with \
Linear(64→10): output float[128] of Linear(784→128) >> Tanh() != input float[64] of \
Linear(64→10).
    """


class SpaceError(TypeError):
    """A morphism was called on, or returned, a value outside its space.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.Linear(3, 2, key=jax.random.key(0))(jnp.zeros(4))
    Traceback (most recent call last):
    ...
    cdl._para.SpaceError: Linear(3→2) expects input float[3], but was given f32[4] \
(dimension 3 is not 4).
    """


_memo: dict[tuple[int, str], tuple[weakref.ref[Any], tuple[Space, Space]]] = {}


def _remembered(
    owner: object, what: str, compute: Callable[[], tuple[Space, Space]]
) -> tuple[Space, Space]:
    """`compute()`, once per live `owner`; nothing is stored on the module itself.

    A morphism's spaces depend only on its static structure, and modules are
    immutable, so the result can be kept while `owner` lives. Keeping it on the
    instance would change its pytree structure.
    """
    key = (id(owner), what)
    entry = _memo.get(key)
    if entry is not None and entry[0]() is owner:
        return entry[1]
    value = compute()
    _memo[key] = (weakref.ref(owner, lambda _: _memo.pop(key, None)), value)
    return value


def _declared_spaces(cls: type) -> tuple[object, object]:
    """The two arguments of the ``Para[A, B]`` that `cls` derives from."""
    for klass in cls.__mro__:
        for base in klass.__dict__.get("__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Para):
                args = get_args(base)
                if origin is Para and len(args) == 2:
                    return args[0], args[1]
    return A, B


def _mentions_jaxtyping(annotation: object) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, jaxtyping.AbstractArray):
        return True
    return any(_mentions_jaxtyping(a) for a in get_args(annotation))


def _with_checks(call: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``__call__`` with cdl's space checks and jaxtyping + beartype."""
    hints = getattr(call, "__annotations__", {})
    inner = call
    if any(_mentions_jaxtyping(h) for h in hints.values() if not isinstance(h, str)):
        inner = jaxtyping.jaxtyped(typechecker=beartype)(call)

    @functools.wraps(call)
    def checked(self: "Para[Any, Any]", x: object, *args: Any, **kwargs: Any) -> Any:
        dom, cod = self._call_signature
        unifier = Unifier()
        given = space_of(x)
        try:
            unifier.unify(dom, given)
        except Mismatch as error:
            message = _messages.call_mismatch(self.label, dom, given, str(error))
            if _looks_batched(dom, given):
                message += _messages.BATCH_HINT
            raise SpaceError(message) from None
        try:
            out = inner(self, x, *args, **kwargs)
        except jaxtyping.TypeCheckError as error:
            detail = _messages.annotation_mismatch(self.label, str(error))
            raise SpaceError(detail) from error
        expected = unifier.substitute(cod)
        returned = space_of(out)
        try:
            unifier.unify(expected, returned)
        except Mismatch as error:
            raise SpaceError(
                _messages.output_mismatch(self.label, expected, returned, str(error))
            ) from None
        return out

    return checked


def _looks_batched(dom: Space, given: Space) -> bool:
    if not (isinstance(dom, TensorSpace) and isinstance(given, TensorSpace)):
        return False
    if not given.shape:
        return False
    try:
        Unifier().unify(dom, TensorSpace(given.dtype, given.shape[1:]))
    except Mismatch:
        return False
    return True


class Para(eqx.Module, Generic[A, B]):
    """A parametric morphism ``A → B``: an Equinox module whose arrays are parameters.

    Subclass it with the spaces written as jaxtyping annotations; dimensions named
    after an int field of the layer take that field's value. Every call is checked
    against the domain and codomain, once per trace under `jax.jit`.

    **Arguments:** those of the subclass.

    **Returns:** a morphism with ``>>`` (`then`), ``@`` (`tensor`), `dom` and `cod`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Double(cdl.Para[Float[Array, "n"], Float[Array, "n"]]):
    ...     def __call__(self, x: Float[Array, "n"]) -> Float[Array, "n"]:
    ...         return 2 * x
    >>> (Double() >> Double())(jnp.ones(2))
    Array([4., 4.], dtype=float32)
    """

    takes_key: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "__isabstractmethod__", False):
            cls.__call__ = _with_checks(call)  # type: ignore[method-assign]
            cls.takes_key = "key" in inspect.signature(call).parameters

    @abc.abstractmethod
    def __call__(self, x: A) -> B:
        """Apply the morphism to one point of its domain."""

    @property
    def stochastic(self) -> bool:
        """Whether the morphism draws random numbers and so needs ``key=``."""
        return False

    @property
    def _call_signature(self) -> tuple[Space, Space]:
        """The signature that calls are checked against, computed once."""
        return _remembered(self, "call", self.signature)

    @property
    def label(self) -> str:
        """Short name used in messages and diagrams, e.g. ``Linear(784→128)``."""
        sizes = [
            repr(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), int | float | str)
        ]
        return f"{type(self).__name__}({', '.join(sizes)})"

    def signature(self) -> tuple[Space, Space]:
        """Domain and codomain, with variables fresh to this call."""
        dom, cod = _declared_spaces(type(self))
        sizes = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        sizes = {k: v for k, v in sizes.items() if type(v) in (int, tuple)}
        both = rename(
            ProductSpace(
                (space_from_annotation(dom, sizes), space_from_annotation(cod, sizes))
            )
        )
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    def output_space(self, dom: Space) -> Space:
        """The codomain this morphism gives on inputs from `dom` (raises `Mismatch`)."""
        expected, cod = self.signature()
        unifier = Unifier()
        unifier.unify(expected, dom)
        return unifier.substitute(cod)

    @property
    def dom(self) -> Space:
        """The domain: the space of inputs."""
        return self.signature()[0]

    @property
    def cod(self) -> Space:
        """The codomain: the space of outputs."""
        return self.signature()[1]

    def then(self, other: "Para[B, C]") -> "Para[A, C]":
        """Sequential composite ``self >> other``; raises `CompositionError`."""
        return Compose(self, other)

    def tensor(self, other: "Para[C, D]") -> "Para[tuple[A, C], tuple[B, D]]":
        """Parallel composite ``self @ other``, acting on pairs."""
        return Tensor(self, other)

    def __rshift__(self, other: "Para[B, C]") -> "Para[A, C]":
        return self.then(other)

    def __matmul__(self, other: "Para[C, D]") -> "Para[tuple[A, C], tuple[B, D]]":
        return self.tensor(other)


def apply(morphism: "Para[A, B]", x: A, key: PRNGKeyArray | None) -> B:
    """Call `morphism` on `x`, passing `key` only to morphisms that take one."""
    if key is not None and morphism.takes_key:
        return morphism(x, key=key)  # type: ignore[call-arg]
    if morphism.stochastic:
        raise ValueError(_messages.needs_key(morphism.label))
    return morphism(x)


def split_key(
    key: PRNGKeyArray | None, needed: bool
) -> tuple[PRNGKeyArray | None, PRNGKeyArray | None]:
    """Two keys from one when randomness is needed below, else the key twice."""
    if key is None or not needed:
        return key, key
    first, second = jax.random.split(key)
    return first, second


class Compose(Para[A, C], Generic[A, B, C]):
    """Sequential composite ``first >> second``: parameters are the pair of both.

    **Arguments:** `first: A → B`, `second: B → C`.

    **Returns:** the morphism ``A → C``; raises `CompositionError` when the spaces
    cannot agree.

    >>> import jax, cdl
    >>> m = cdl.Compose(cdl.Linear(2, 3, key=jax.random.key(0)), cdl.Relu())
    >>> m.cod
    float[3]
    """

    first: Para[A, B]
    second: Para[B, C]
    takes_key: ClassVar[bool] = True

    def __init__(self, first: Para[A, B], second: Para[B, C]) -> None:
        self.first = first
        self.second = second
        self.signature()  # raises CompositionError now rather than at the first call

    def signature(self) -> tuple[Space, Space]:
        """Unify the middle object; the outer ends follow from the bindings."""
        both = rename(ProductSpace(self._composite_signature))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def _composite_signature(self) -> tuple[Space, Space]:
        return _remembered(self, "composite", self._unify_factors)

    def _unify_factors(self) -> tuple[Space, Space]:
        f_dom, f_cod = self.first.signature()
        g_dom, _ = self.second.signature()
        unifier = Unifier()
        try:
            unifier.unify(f_cod, g_dom)
            middle = unifier.substitute(f_cod)
            cod = self.second.output_space(middle)
        except Mismatch:
            raise CompositionError(
                _messages.composition_mismatch(
                    self.first.label, self.second.label, f_cod, g_dom
                )
            ) from None
        return unifier.substitute(f_dom), cod

    def output_space(self, dom: Space) -> Space:
        """Push `dom` through both factors."""
        return self.second.output_space(self.first.output_space(dom))

    @property
    def stochastic(self) -> bool:
        """Whether either factor needs a key."""
        return self.first.stochastic or self.second.stochastic

    @property
    def label(self) -> str:
        """Both labels joined by ``>>``."""
        return f"{self.first.label} >> {self.second.label}"

    def __call__(self, x: A, *, key: PRNGKeyArray | None = None) -> C:
        """Run `first`, then `second`."""
        k1, k2 = split_key(key, self.stochastic)
        return apply(self.second, apply(self.first, x, k1), k2)


class Tensor(Para[tuple[A, C], tuple[B, D]], Generic[A, B, C, D]):
    """Parallel composite ``left @ right``: acts on pairs, one factor on each side.

    **Arguments:** `left: A → B`, `right: C → D`.

    **Returns:** the morphism ``A × C → B × D``.

    >>> import jax.numpy as jnp, cdl
    >>> (cdl.Relu() @ cdl.Tanh())((jnp.array([-1.0]), jnp.array([0.0])))
    (Array([0.], dtype=float32), Array([0.], dtype=float32))
    """

    left: Para[A, B]
    right: Para[C, D]
    takes_key: ClassVar[bool] = True

    def signature(self) -> tuple[Space, Space]:
        """Products of the factors' spaces."""
        l_dom, l_cod = self.left.signature()
        r_dom, r_cod = self.right.signature()
        return ProductSpace((l_dom, r_dom)), ProductSpace((l_cod, r_cod))

    def output_space(self, dom: Space) -> Space:
        """Push each factor of `dom` through its side."""
        if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
            return ProductSpace(
                (
                    self.left.output_space(dom.factors[0]),
                    self.right.output_space(dom.factors[1]),
                )
            )
        return super().output_space(dom)

    @property
    def stochastic(self) -> bool:
        """Whether either factor needs a key."""
        return self.left.stochastic or self.right.stochastic

    @property
    def label(self) -> str:
        """Both labels joined by ``@``."""
        return f"({self.left.label} @ {self.right.label})"

    def __call__(
        self, x: tuple[A, C], *, key: PRNGKeyArray | None = None
    ) -> tuple[B, D]:
        """Run `left` on the first component and `right` on the second."""
        k1, k2 = split_key(key, self.stochastic)
        a, c = x
        return apply(self.left, a, k1), apply(self.right, c, k2)
