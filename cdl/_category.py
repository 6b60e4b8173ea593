"""Arrows of a strict monoidal category: ``>>``, ``@`` and identities, defined once.

Para morphisms, lenses, parametric lenses and tangent maps are all arrows: each
family names its sequential composite, its parallel composite and its identity,
and inherits composition from `AbstractArrow`. A sequential composite holds a
flat tuple of factors, so associativity and the unit laws hold on the nose,
pytree structure included, and nothing recurses with the length of a chain:

>>> import equinox as eqx, jax, cdl
>>> k1, k2 = jax.random.split(jax.random.key(0))
>>> f, g, h = cdl.Linear(3, 4, key=k1), cdl.Tanh(), cdl.Linear(4, 2, key=k2)
>>> bool(eqx.tree_equal((f >> g) >> h, f >> (g >> h)))
True
>>> (f >> g >> h).factors == (f, g, h)
True
>>> cdl.Identity() >> f is f, f >> cdl.Identity() is f
(True, True)

A chain is checked as it is built, each new factor against the codomain so far:

>>> (f >> g).cod
float[4]
"""

import sys
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray

from . import _messages
from ._errors import CompositionError
from ._memo import remembered
from ._space import (
    DTypeVar,
    Mismatch,
    ProductSpace,
    Space,
    SpaceVar,
    TensorSpace,
    Unifier,
    is_concrete,
    rename,
)

_A = TypeVar("_A")
_B = TypeVar("_B")

# The composite and identity classes of each family, registered by their bases.
_SEQUENTIAL: dict[type, type] = {}
_PARALLEL: dict[type, type] = {}
_IDENTITY: dict[type, type] = {}


def _member(registry: dict[type, type], arrow: object) -> type | None:
    """The class `registry` holds for the family `arrow` belongs to."""
    for klass in type(arrow).__mro__:
        if klass in registry:
            return registry[klass]
    return None


def family_of(arrow: object) -> type | None:
    """The base class of the category `arrow` is an arrow of, if any.

    >>> import cdl
    >>> family_of(cdl.Tanh()).__name__
    'Para'
    """
    for klass in type(arrow).__mro__:
        if klass in _SEQUENTIAL:
            return klass
    return None


class AbstractArrow(eqx.Module, Generic[_A, _B]):
    """An arrow ``A → B`` of a category; ``>>`` (`then`) and ``@`` (`tensor`).

    A family of arrows (`cdl.Para`, lenses, parametric lenses) derives from this
    class and registers its composites by deriving them from `AbstractSequential`
    and `AbstractParallel` with ``family`` set. Spaces are any-to-any unless the
    family says more by overriding `signature`.

    **Arguments:** those of the subclass.

    **Returns:** an arrow, an immutable Equinox module.

    >>> import cdl
    >>> (cdl.Tanh() >> cdl.Relu()).label
    'Tanh() >> Relu()'
    """

    def signature(self) -> tuple[Space, Space]:
        """Domain and codomain, with variables fresh to this call."""
        both = rename(ProductSpace((SpaceVar("A"), SpaceVar("B"))))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    def output_space(self, dom: Space) -> Space:
        """The codomain this arrow gives on inputs from `dom` (raises `Mismatch`)."""
        expected, cod = signature_of(self)
        unifier = Unifier()
        unifier.unify(expected, dom)
        return unifier.substitute(cod)

    @property
    def dom(self) -> Space:
        """The domain: the space of inputs."""
        return signature_of(self)[0]

    @property
    def cod(self) -> Space:
        """The codomain: the space of outputs."""
        return signature_of(self)[1]

    @property
    def label(self) -> str:
        """Short name used in messages and diagrams."""
        return f"{type(self).__name__}()"

    @property
    def stochastic(self) -> bool:
        """Whether the arrow draws random numbers and so needs ``key=``."""
        return False

    def then(self, other: Any) -> Any:
        """The sequential composite ``self >> other``; raises `CompositionError`."""
        return sequence(self, other)

    def tensor(self, other: Any) -> Any:
        """The parallel composite ``self @ other``, acting on pairs."""
        return _parallel(self, other)

    def __rshift__(self, other: Any) -> Any:
        if family_of(other) is not family_of(self):
            return _not_composable(">>", "__rrshift__", self, other)
        return sequence(self, other)

    def __matmul__(self, other: Any) -> Any:
        if family_of(other) is not family_of(self):
            return _not_composable("@", "__rmatmul__", self, other)
        return _parallel(self, other)

    if not TYPE_CHECKING:  # to mypy, ``f >> g`` stays ``f.__rshift__(g)``

        def __rrshift__(self, other: Any) -> Any:
            return _not_composable_from_the_left(">>", other, self)

        def __rmatmul__(self, other: Any) -> Any:
            return _not_composable_from_the_left("@", other, self)


def signature_of(arrow: Any) -> tuple[Space, Space]:
    """``arrow.signature()``, without looking the method up on the instance.

    Equinox wraps a method looked up on a module as a module of its own, whose
    construction walks every leaf of `arrow`: on a chain of thousands of layers
    that walk, once per factor added, made building a chain from its right end
    quadratic.

    >>> import cdl
    >>> signature_of(cdl.Tanh())[0]
    float[*shape]
    """
    signature: tuple[Space, Space] = type(arrow).signature(arrow)
    return signature


def nesting(arrow: Any) -> int:
    """How many composites `arrow` nests one inside another, at the deepest.

    Walked with a stack, so that it can be told of a composite too deep for
    Python's recursion limit.

    >>> import cdl
    >>> nesting(cdl.Tanh()), nesting(cdl.residual(cdl.Tanh() >> cdl.Relu()))
    (0, 3)
    """
    deepest = 0
    stack = [(arrow, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in getattr(node, "__dict__", {}).values():
            parts = child if isinstance(child, tuple) else (child,)
            stack.extend(
                (part, depth + isinstance(part, AbstractSequential | AbstractParallel))
                for part in parts
                if isinstance(part, AbstractArrow)
            )
    return deepest + isinstance(arrow, AbstractSequential | AbstractParallel)


_DEEP: Final = 32
"""Composites nested this deep take a sizeable share of Python's stack."""


def too_deep(arrow: Any, doing: str) -> str | None:
    """The text of the `RecursionError` of a composite nested too deep to handle.

    None where `arrow` nests too few composites to be the cause (a recursive
    function of the user's inside a layer).
    """
    depth = nesting(arrow)
    if depth < _DEEP:
        return None
    return _messages.nested_too_deep(
        type(arrow).__name__, depth, doing, sys.getrecursionlimit()
    )


def output_space_of(arrow: Any, dom: Space) -> Space:
    """``arrow.output_space(dom)``, without looking the method up on the instance.

    As for `signature_of`: the walk over `arrow`'s leaves that Equinox's bound
    method costs, at every level of a composite nested in composites (residual
    blocks around residual blocks), made building and tracing it quadratic in
    its depth.

    A composite remembers what it gives on a domain without variables: a
    composite nested in others (residual blocks inside residual blocks) is
    otherwise walked again by every composite above it as each is built and
    traced, which is quadratic in the depth.

    >>> import jax.numpy as jnp, cdl
    >>> output_space_of(cdl.Tanh(), cdl.space_of(jnp.ones(2)))
    float[2]
    """
    push = type(arrow).output_space
    if not isinstance(arrow, AbstractSequential | AbstractParallel) or not _ground(dom):
        space: Space = push(arrow, dom)
        return space
    # A result with variables is not kept: they must stay fresh to each use.
    pushed: Space = remembered(
        arrow, ("output space", dom), lambda: push(arrow, dom), keep=_ground
    )
    return pushed


def _ground(space: Space) -> bool:
    """Whether `space` holds no variable at all, of shape or of dtype."""
    stack = [space]
    while stack:
        s = stack.pop()
        if isinstance(s, ProductSpace):
            stack.extend(s.factors)
        elif not isinstance(s, TensorSpace) or not is_concrete(s):
            return False
        elif isinstance(s.dtype, DTypeVar):
            return False
    return True


def _check_family(composite: str, family: type, factors: tuple[Any, ...]) -> None:
    """Raise `TypeError` naming the first of `factors` not an arrow of `family`."""
    for index, factor in enumerate(factors):
        if family_of(factor) is not family:
            lift = callable(factor) and not isinstance(factor, AbstractArrow)
            raise TypeError(
                _messages.not_a_factor(composite, index, factor, family.__name__, lift)
            )


def _not_composable(operator: str, reflected: str, left: Any, right: Any) -> Any:
    """Raise the error of ``left >> right`` (or ``@``) for a `right` of another kind.

    Something that is no arrow but may join from the right itself (it defines the
    reflected operator) is left to do so.
    """
    if isinstance(right, AbstractArrow):
        raise TypeError(_messages.foreign_arrows(operator, left, right))
    if callable(right) and not hasattr(type(right), reflected):
        raise TypeError(_messages.not_an_arrow(operator, left.label, right))
    return NotImplemented


def _not_composable_from_the_left(operator: str, left: Any, right: Any) -> Any:
    """Raise the error of ``left >> right`` (or ``@``) for a function `left`.

    Python asks `right` only when `left` does not compose with it itself; a
    function (``jnp.tanh >> layer``) or an Equinox module is named with the way to
    make it a morphism, and anything else gets Python's own error.
    """
    if callable(left) and not isinstance(left, AbstractArrow):
        raise TypeError(_messages.not_an_arrow_on_the_left(operator, left, right.label))
    return NotImplemented


class AbstractIdentity(AbstractArrow[_A, _A]):
    """The identity arrow of a family: the unit of ``>>``, dropped when composing.

    **Arguments:** none.

    **Returns:** the identity (a family's class derives from this and its base).

    >>> import cdl
    >>> cdl.Identity().label
    'id'
    """

    family: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            _IDENTITY[cls.__dict__["family"]] = cls

    def signature(self) -> tuple[Space, Space]:
        """``A → A`` for any space ``A``."""
        same = rename(SpaceVar("A"))
        return same, same

    def output_space(self, dom: Space) -> Space:
        """`dom` itself."""
        return dom

    @property
    def label(self) -> str:
        """``id``."""
        return "id"


def _flat_factors(cls: type, arrows: tuple[Any, ...]) -> tuple[Any, ...]:
    """`arrows` with composites of class `cls` spliced in and identities dropped."""
    factors: list[Any] = []
    for arrow in arrows:
        if isinstance(arrow, AbstractSequential) and type(arrow) is cls:
            factors.extend(arrow.factors)
        elif not isinstance(arrow, AbstractIdentity):
            factors.append(arrow)
    return tuple(factors)


def _unify(factors: tuple[Any, ...]) -> tuple[Space, Space]:
    """The signature of the chain `factors`, one factor at a time."""
    signature = signature_of(factors[0])
    for index in range(1, len(factors)):
        signature = _extend(signature, factors, index)
    return signature


def _keeps_state(space: Space) -> bool:
    """Whether `space` is a pair of a point and an `equinox.nn.State`."""
    if not isinstance(space, ProductSpace) or len(space.factors) != 2:
        return False
    last = space.factors[1]
    return isinstance(last, SpaceVar) and last.name == "State"


def _extend(
    signature: tuple[Space, Space], factors: tuple[Any, ...], index: int
) -> tuple[Space, Space]:
    """The signature of ``factors[:index + 1]``, given that of ``factors[:index]``."""
    dom, cod = signature
    arrow = factors[index]
    arrow_dom, _ = signature_of(arrow)
    unifier = Unifier()
    try:
        unifier.unify(cod, arrow_dom)
        cod = output_space_of(arrow, unifier.substitute(cod))
    except Mismatch:
        left = " >> ".join(f.label for f in factors[:index])
        message = _messages.composition_mismatch(left, arrow.label, cod, arrow_dom)
        stateful = [_keeps_state(cod), _keeps_state(arrow_dom)]
        if stateful[0] != stateful[1]:
            names = (left, arrow.label) if stateful[1] else (arrow.label, left)
            message += _messages.stateful_hint(names[1], names[0])
        raise CompositionError(message) from None
    return unifier.substitute(dom), cod


def _chain_signature(
    cls: type, pieces: tuple[Any, ...], factors: tuple[Any, ...]
) -> tuple[Space, Space]:
    """The signature of the flat chain `factors`, spliced from `pieces`.

    A piece that is itself a composite of class `cls` brings its signature, known
    since it was built: a chain built one `>>` at a time, from either end, costs
    one unification per step. Where its domain or, once joined, its codomain is
    not concrete (or the join fails, for the message), the piece's factors are
    pushed through one at a time, as `output_space` can be more precise.
    """
    signature: tuple[Space, Space] | None = None
    done = 0
    for piece in pieces:
        if isinstance(piece, AbstractIdentity):
            continue
        known = type(piece) is cls
        size = len(piece.factors) if known else 1
        if signature is None:
            signature = piece._composite_signature if known else signature_of(piece)
        else:
            joined = _join(signature, piece) if known else None
            if joined is not None:
                signature = joined
            else:
                for index in range(done, done + size):
                    signature = _extend(signature, factors, index)
        done += size
    if signature is None:  # identities only
        signature = signature_of(factors[0])
    return signature


def _join(signature: tuple[Space, Space], tail: Any) -> tuple[Space, Space] | None:
    """``signature`` followed by the composite `tail`, where both ends are known.

    With a concrete domain, the tail's signature is what pushing that input
    through its factors gives; ``None`` where it is not, or it does not fit.
    """
    dom, cod = signature
    tail_dom, tail_cod = signature_of(tail)
    if not is_concrete(tail_dom):
        # Pushing a known input through the factors may say more (a flatten's
        # size) than the tail's signature for any input.
        return None
    unifier = Unifier()
    try:
        unifier.unify(cod, tail_dom)
    except Mismatch:
        return None
    joined = unifier.substitute(tail_cod)
    if not is_concrete(joined):
        return None
    return unifier.substitute(dom), joined


class AbstractSequential(AbstractArrow[_A, _B]):
    """A sequential composite ``f_1 >> f_2 >> … >> f_n``: a flat tuple of factors.

    A family's composite class derives from this and from the family's base, with
    ``family`` set to that base. Nested composites of the same class are spliced
    in, so any bracketing of the same factors gives an equal composite.

    **Arguments:** the factors, at least one, each ``f_i: A_i → A_{i+1}``.

    **Returns:** the composite ``A_1 → A_{n+1}``; raises `CompositionError` when a
    codomain does not meet the next domain.

    >>> import jax, cdl
    >>> m = cdl.Compose(cdl.Linear(2, 3, key=jax.random.key(0)), cdl.Relu())
    >>> len(m.factors), m.cod
    (2, float[3])
    """

    factors: tuple[Any, ...]
    family: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            _SEQUENTIAL[cls.__dict__["family"]] = cls

    def __init__(self, *factors: Any) -> None:
        if not factors:
            raise ValueError(_messages.EMPTY_COMPOSITE)
        _check_family(type(self).__name__, type(self).family, factors)
        head = factors[0]
        self.factors = _flat_factors(type(self), factors) or (head,)
        try:
            signature = _chain_signature(type(self), factors, self.factors)
        except RecursionError:
            message = too_deep(self, "building")
            if message is None:
                raise
            raise RecursionError(message) from None
        remembered(self, "composite", lambda: signature)

    @property
    def _composite_signature(self) -> tuple[Space, Space]:
        factors = self.factors
        return remembered(self, "composite", lambda: _unify(factors))

    def signature(self) -> tuple[Space, Space]:
        """Domain and codomain of the chain, with fresh variables."""
        both = rename(ProductSpace(self._composite_signature))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    def output_space(self, dom: Space) -> Space:
        """Push `dom` through every factor in turn."""
        for arrow in self.factors:
            dom = output_space_of(arrow, dom)
        return dom

    @property
    def stochastic(self) -> bool:
        """Whether any factor needs a key."""
        factors = self.factors
        return remembered(
            self, "stochastic", lambda: any(arrow.stochastic for arrow in factors)
        )

    @property
    def label(self) -> str:
        """The factors' labels joined by ``>>``."""
        return " >> ".join(arrow.label for arrow in self.factors)


class AbstractParallel(AbstractArrow[_A, _B]):
    """A parallel composite ``f_1 @ … @ f_n``, acting on tuples of ``n`` components.

    ``f @ g`` acts on pairs; its factors are not spliced into those of a
    neighbouring ``@``, since ``(a, (b, c))`` and ``((a, b), c)`` are different
    data. Build a wider one directly, e.g. ``cdl.Tensor(f, g, h)``.

    **Arguments:** the factors, at least one.

    **Returns:** the composite on tuples.

    >>> import cdl
    >>> cdl.Tensor(cdl.Relu(), cdl.Tanh(), cdl.Relu()).label
    '(Relu() @ Tanh() @ Relu())'
    >>> ((cdl.Relu() >> cdl.Tanh()) @ cdl.Relu()).label
    '((Relu() >> Tanh()) @ Relu())'
    """

    factors: tuple[Any, ...]
    family: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "family" in cls.__dict__:
            _PARALLEL[cls.__dict__["family"]] = cls

    def __init__(self, *factors: Any) -> None:
        if not factors:
            raise ValueError(_messages.EMPTY_COMPOSITE)
        _check_family(type(self).__name__, type(self).family, factors)
        self.factors = factors

    def signature(self) -> tuple[Space, Space]:
        """Products of the factors' spaces."""
        pairs = [signature_of(arrow) for arrow in self.factors]
        return (
            ProductSpace(tuple(dom for dom, _ in pairs)),
            ProductSpace(tuple(cod for _, cod in pairs)),
        )

    def output_space(self, dom: Space) -> Space:
        """Push each component of `dom` through its factor."""
        if isinstance(dom, ProductSpace) and len(dom.factors) == len(self.factors):
            return ProductSpace(
                tuple(
                    output_space_of(arrow, part)
                    for arrow, part in zip(self.factors, dom.factors, strict=True)
                )
            )
        return super().output_space(dom)

    @property
    def stochastic(self) -> bool:
        """Whether any factor needs a key."""
        factors = self.factors
        return remembered(
            self, "stochastic", lambda: any(arrow.stochastic for arrow in factors)
        )

    @property
    def label(self) -> str:
        """The factors' labels joined by ``@``, a sequential factor bracketed.

        ``@`` binds tighter than ``>>`` in Python, so ``f >> g`` beside ``h``
        reads ``((f >> g) @ h)``.
        """

        def term(arrow: Any) -> str:
            if isinstance(arrow, AbstractSequential):
                return f"({arrow.label})"
            return str(arrow.label)

        return "(" + " @ ".join(term(arrow) for arrow in self.factors) + ")"


def _parallel(left: Any, right: Any) -> Any:
    parallel = _member(_PARALLEL, left)
    if parallel is None or family_of(right) is not family_of(left):
        raise TypeError(_messages.foreign_arrows("@", left, right))
    return parallel(left, right)


def sequence(*arrows: Any) -> Any:
    """The composite ``arrows[0] >> arrows[1] >> …`` in their family.

    Identities are dropped and nested composites spliced in: a chain of one arrow
    is that arrow, a chain of identities is an identity.

    **Arguments:** arrows of one family, at least one.

    **Returns:** the composite; raises `CompositionError` when spaces do not meet.

    >>> import cdl
    >>> sequence(cdl.Tanh(), cdl.Identity()).label
    'Tanh()'
    """
    families = {family_of(arrow) for arrow in arrows}
    composite = _member(_SEQUENTIAL, arrows[0])
    if composite is None or len(families) != 1:
        raise TypeError(_messages.foreign_arrows(">>", *arrows[:2]))
    if not _flat_factors(composite, arrows):
        return arrows[0]
    flat = [arrow for arrow in arrows if not isinstance(arrow, AbstractIdentity)]
    if len(flat) == 1:
        return flat[0]
    return composite(*flat)


def split_among(
    key: PRNGKeyArray | None, needs: list[bool]
) -> list[PRNGKeyArray | None]:
    """Keys for a list of arrows: a fresh one where `needs` says, else `key`.

    **Arguments:** `key` (or None); `needs`, one flag per arrow.

    **Returns:** one key (or None) per arrow.

    >>> import jax
    >>> ks = split_among(jax.random.key(0), [False, True, True])
    >>> ks[0] is not None and not (ks[1] == ks[2])
    True
    """
    count = sum(needs)
    if key is None or count == 0:
        return [key] * len(needs)
    fresh = iter(jax.random.split(key, count)) if count > 1 else iter([key])
    return [next(fresh) if need else key for need in needs]
