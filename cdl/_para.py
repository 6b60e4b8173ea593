"""The category Para: parametric morphisms, sequential and parallel composition.

A morphism ``f: A → B`` of Para is a pair ``(P, f: P × A → B)``. In cdl it is an
immutable Equinox module: its array leaves are the parameters ``P`` and ``__call__``
is the map. Composing ``f >> g`` pairs the parameters up, ``f @ g`` runs both side
by side on a pair. The laws hold on the nose, as equal modules:

>>> import equinox as eqx, jax, jax.numpy as jnp, cdl
>>> k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
>>> f, g, h = cdl.Linear(3, 4, key=k1), cdl.Tanh(), cdl.Linear(4, 2, key=k3)
>>> bool(eqx.tree_equal((f >> g) >> h, f >> (g >> h)))
True
>>> cdl.Identity() >> f is f
True
>>> (f >> g >> h).dom, (f >> g >> h).cod
(float[3], float[2])
>>> (f >> g >> h)(jnp.arange(3.0)).shape
(2,)
"""

import abc
import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    TypeVar,
    get_args,
    get_origin,
)

import jax
import jaxtyping
import numpy as np
from beartype import beartype
from jaxtyping import PRNGKeyArray

from . import _messages, _runs
from ._category import (
    AbstractArrow,
    AbstractParallel,
    AbstractSequential,
    output_space_of,
    signature_of,
    split_among,
    too_deep,
)
from ._errors import CompositionError as CompositionError, SpaceError as SpaceError
from ._memo import remembered
from ._space import (
    Mismatch,
    ProductSpace,
    Space,
    SpaceVar,
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


def mentions_jaxtyping(annotation: object) -> bool:
    """Whether an annotation names a jaxtyping array anywhere inside it."""
    if isinstance(annotation, type) and issubclass(annotation, jaxtyping.AbstractArray):
        return True
    return any(mentions_jaxtyping(a) for a in get_args(annotation))


@functools.cache
def _init_arguments(cls: type) -> tuple[tuple[str, bool, object], ...]:
    """The constructor's named arguments: name, whether positional, default."""
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(
        (p.name, p.kind is not p.KEYWORD_ONLY, p.default)
        for p in params
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )


class _Calls(threading.local):
    """How many morphism calls are under way in this thread (nested in each other)."""

    depth = 0


_calls: Final = _Calls()


def _with_checks(call: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``__call__`` with cdl's space checks and jaxtyping + beartype."""
    hints = getattr(call, "__annotations__", {})
    inner = call
    if any(mentions_jaxtyping(h) for h in hints.values() if not isinstance(h, str)):
        inner = jaxtyping.jaxtyped(typechecker=beartype)(call)

    @functools.wraps(call)
    def checked(self: "Para[Any, Any]", x: object, *args: Any, **kwargs: Any) -> Any:
        outermost = not _calls.depth
        _calls.depth += 1
        try:
            x = _as_jax(x)
            if "key" in kwargs:
                key = kwargs["key"]
                if key is not None and not isinstance(key, jax.Array | np.ndarray):
                    raise TypeError(_messages.call_key(self.label, key))
                if not self.takes_key:
                    del kwargs["key"]  # no randomness: ignored, as Equinox's layers do
            dom, cod = self._call_signature
            if isinstance(dom, TensorSpace) and type(x) in (int, float):
                x = jax.numpy.asarray(x)  # a Python number where an array is wanted
            unifier = Unifier()
            if not _unconstrained(dom, cod):
                given = space_of(x)
                why = _not_a_point(dom, x)
                if why is not None:
                    raise SpaceError(
                        _messages.call_mismatch(self.label, dom, given, why)
                    )
                try:
                    unifier.unify(dom, given)
                except Mismatch as error:
                    message = _messages.call_mismatch(
                        self.label, dom, given, str(error)
                    )
                    if _looks_batched(dom, given):
                        message += _messages.BATCH_HINT
                    else:
                        message += self.input_hint(given)
                    raise SpaceError(message) from None
            try:
                out = inner(self, x, *args, **kwargs)
            except jaxtyping.TypeCheckError as error:
                detail = _messages.annotation_mismatch(self.label, str(error))
                raise SpaceError(detail) from error
            except Exception as error:
                # JAX's own errors (a weight of the wrong shape put in by hand) do
                # not say which layer failed: the innermost morphism says so.
                notes = getattr(error, "__notes__", [])
                composite = isinstance(self, AbstractSequential | AbstractParallel)
                if not (
                    composite
                    or isinstance(error, SpaceError | CompositionError)
                    or any(note.startswith(_messages.RAISED_IN) for note in notes)
                ):
                    # A fold's term may nest thousands of levels: not read into a space.
                    deep = isinstance(dom, SpaceVar) and not _shallow(x)
                    given = type(x).__name__ if deep else repr(space_of(x))
                    error.add_note(_messages.raised_in(self.label, given))
                raise
            expected = unifier.substitute(cod)
            returned = space_of(out)
            try:
                unifier.unify(expected, returned)
            except Mismatch as error:
                raise SpaceError(
                    _messages.output_mismatch(
                        self.label, expected, returned, str(error)
                    )
                ) from None
            return out
        except RecursionError:
            # Composites nested in composites, hundreds deep: said once, from
            # the outermost call, rather than in a traceback of every level.
            message = too_deep(self, "calling") if outermost else None
            if message is None:
                raise
            raise RecursionError(message) from None
        finally:
            _calls.depth -= 1

    return checked


def _shallow(x: object, levels: int = 8) -> bool:
    """Whether `x` is arrays in tuples nested at most `levels` deep (no term).

    A plain function's input (an element and a carrier) is then named by its
    space in an error raised inside it, where a fold's term is not walked.

    >>> import jax.numpy as jnp
    >>> _shallow((jnp.ones(2), (jnp.ones(1), 2.0))), _shallow(((((1,),),),), 3)
    (True, False)
    """
    stack = [(x, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > levels or (isinstance(node, tuple) and hasattr(node, "_fields")):
            return False
        if isinstance(node, tuple):
            stack.extend((part, depth + 1) for part in node)
        elif not isinstance(node, jax.Array | np.ndarray | np.generic | int | float):
            return False
    return True


_PYTHON_VALUES = (list, dict, str, set, type(None))


def _not_a_point(dom: Space, x: object) -> str | None:
    """Why `x` cannot be a point of `dom`, for values read as any space.

    A Python list (dict, str, None) or a model given where an array is wanted, or a
    value that is neither a tuple (nor a list) nor an array (a graph, say) given
    where a tuple is wanted: such a value's space is a variable and would unify
    with `dom`, so it is caught here, by the value.
    """
    if isinstance(dom, TensorSpace) and isinstance(x, _PYTHON_VALUES):
        return _messages.not_an_array(type(x).__name__)
    if isinstance(dom, TensorSpace) and isinstance(x, AbstractArrow):
        return _messages.not_an_array(f"{type(x).__name__} module")
    if isinstance(dom, ProductSpace) and isinstance(x, tuple):
        for space, part in zip(dom.factors, x, strict=False):
            found = _not_a_point(space, part)
            if found is not None:
                return found
    elif isinstance(dom, ProductSpace) and not (
        isinstance(x, list) or hasattr(x, "shape")
    ):
        return _messages.not_a_tuple(type(x).__name__, len(dom.factors))
    return None


def _unconstrained(dom: Space, cod: Space) -> bool:
    """Whether any input is accepted and tells nothing about the output.

    So a fold's term, nested thousands of levels deep, is not read into a space.
    """
    if not isinstance(dom, SpaceVar):
        return False
    stack: list[Space] = [cod]
    while stack:
        space = stack.pop()
        if space == dom:
            return False
        if isinstance(space, ProductSpace):
            stack.extend(space.factors)
    return True


def _as_jax(x: object) -> Any:
    """`x` with NumPy arrays (and NumPy scalars) turned into JAX arrays.

    Nested tuples (a term thousands of levels deep) are walked with a stack, not
    by recursion.

    >>> import numpy as np
    >>> _as_jax((np.ones(2), (3, np.float32(1))))[1][1].dtype
    dtype('float32')
    """
    done: list[Any] = []
    stack: list[tuple[Any, bool]] = [(x, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, np.ndarray | np.generic):
            done.append(jax.numpy.asarray(node))
        elif not isinstance(node, tuple):
            done.append(node)
        elif not children_done:
            stack.append((node, True))
            stack.extend((part, False) for part in reversed(node))
        else:
            parts = tuple(done[len(done) - len(node) :])
            del done[len(done) - len(node) :]
            if all(new is old for new, old in zip(parts, node, strict=True)):
                done.append(node)  # nothing converted: keep the tuple, named or not
            else:
                done.append(type(node)(*parts) if hasattr(node, "_fields") else parts)
    return done[0]


def _looks_batched(dom: Space, given: Space) -> bool:
    """Whether `given` is `dom` with a batch axis in front (on every component).

    >>> f32 = frozenset({"float32"})
    >>> pair = ProductSpace((TensorSpace(f32, (3,)), TensorSpace(f32, (2,))))
    >>> _looks_batched(pair, ProductSpace((TensorSpace(f32, (4, 3)),
    ...                                    TensorSpace(f32, (4, 2)))))
    True
    """
    if isinstance(dom, ProductSpace) and isinstance(given, ProductSpace):
        parts = list(zip(dom.factors, given.factors, strict=False))
        sizes = {g.shape[0] for _, g in parts if isinstance(g, TensorSpace) and g.shape}
        return (
            len(dom.factors) == len(given.factors) > 0
            and len(sizes) == 1
            and all(_looks_batched(d, g) for d, g in parts)
        )
    if not (isinstance(dom, TensorSpace) and isinstance(given, TensorSpace)):
        return False
    if not given.shape:
        return False
    try:
        Unifier().unify(dom, TensorSpace(given.dtype, given.shape[1:]))
    except Mismatch:
        return False
    return True


class Para(AbstractArrow[A, B]):
    """A parametric morphism ``A → B``: an Equinox module whose arrays are parameters.

    Subclass it with the spaces written as jaxtyping annotations; dimensions named
    after an int field of the layer take that field's value. Every call is checked
    against the domain and codomain, once per trace under `jax.jit`. NumPy arrays
    are accepted wherever JAX arrays are, and converted as `jnp.asarray` does. A
    morphism whose call takes no ``key`` ignores ``key=`` (as Equinox's layers
    do), so one loop can pass a key to every layer.

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

    def __hash__(self) -> int:
        """Equinox's hash; a morphism holding arrays has none, and says what to jit.

        ``jax.jit(model)`` (and ``jax.checkpoint``, ``jax.pmap``) hashes the
        model as the function it transforms, so this is the error it raises:

        >>> import cdl
        >>> hash(cdl.Bias(2))
        Traceback (most recent call last):
        ...
        TypeError: Bias(2,) holds arrays, so it is not hashable: `jax.jit(model)` \
(or `jax.checkpoint`, `jax.remat`, `jax.pmap` of it) cannot take it as the function \
to transform; transform a function of the model instead, \
`eqx.filter_jit(lambda m, x: m(x))(model, x)`, `jax.jit(lambda x: model(x))`, or \
`eqx.filter_checkpoint(model)`.
        >>> hash(cdl.Tanh()) == hash(cdl.Tanh())
        True
        """
        try:
            return super().__hash__()
        except TypeError:
            raise TypeError(_messages.unhashable(self.label)) from None

    def input_hint(self, given: Space) -> str:
        """More to say when an input from `given` is refused (empty by default).

        A layer overrides it for a common mistake, e.g. a convolution given an
        image with its channels last.
        """
        return ""

    @property
    def _call_signature(self) -> tuple[Space, Space]:
        """The signature that calls are checked against, computed once."""
        # Not the bound method: Equinox wraps a looked-up method as a module,
        # which flattens the whole morphism (a walk over every composite below
        # it, for each composite of a nest).
        return remembered(self, "call", lambda: signature_of(self))

    @property
    def label(self) -> str:
        """Short name used in messages and diagrams, e.g. ``Linear(784→128)``.

        By default the sizes and flags as the constructor takes them: positional
        arguments by value, keyword-only ones as ``name=value`` where they differ
        from their default; fields the constructor does not take (derived sizes)
        are left out.

        >>> import jax, cdl
        >>> cdl.TreeLSTMCell(10, 16, arity=0, key=jax.random.key(0)).label
        'TreeLSTMCell(10, 16, arity=0)'
        """
        simple = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), int | float | str)
        }
        taken = _init_arguments(type(self))
        if not any(name in simple for name, _, _ in taken):
            sizes = [repr(v) for v in simple.values()]
        else:
            sizes = [
                repr(simple[name]) if positional else f"{name}={simple[name]!r}"
                for name, positional, default in taken
                if name in simple and (positional or simple[name] != default)
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

    if TYPE_CHECKING:
        # How `>>` and `@` are typed on morphisms; both are defined once, on
        # `AbstractArrow`.
        def then(self, other: "Para[B, C]") -> "Para[A, C]": ...

        def tensor(self, other: "Para[C, D]") -> "Para[tuple[A, C], tuple[B, D]]": ...

        def __rshift__(self, other: "Para[B, C]") -> "Para[A, C]": ...

        def __matmul__(
            self, other: "Para[C, D]"
        ) -> "Para[tuple[A, C], tuple[B, D]]": ...


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


class Compose(AbstractSequential[A, C], Para[A, C], Generic[A, B, C]):
    """Sequential composite ``f_1 >> … >> f_n``: its parameters are the factors'.

    The factors are a flat tuple: composing composites splices them in, so every
    bracketing of the same factors gives an equal module, and a chain of any
    length is built, called and differentiated without recursion. Long runs of
    repeated blocks (at least 16 equal blocks of up to 8 factors) are run as one
    `jax.lax.scan` over their stacked weights, so the forward pass traces one
    block; the values are the same. Per-layer weights still enter the program
    one array per layer, so compile time grows with depth (1.4 s at 1,000
    layers, 18 s at 5,000), and more for a gradient, which hands back one array
    per layer (see `cdl._runs`); weights shared by every block (`cdl.repeat`)
    avoid both.

    **Arguments:** the factors, ``f_i: A_i → A_{i+1}``.

    **Returns:** the morphism ``A_1 → A_{n+1}``; raises `CompositionError` when
    the spaces cannot agree.

    >>> import jax, cdl
    >>> m = cdl.Compose(cdl.Linear(2, 3, key=jax.random.key(0)), cdl.Relu())
    >>> m.cod, len(m.factors)
    (float[3], 2)
    """

    family: ClassVar[type] = Para
    takes_key: ClassVar[bool] = True

    def __init__(self, *factors: Para[Any, Any]) -> None:
        super().__init__(*factors)

    def input_hint(self, given: Space) -> str:
        """That of the first factor the input reaches with one.

        Each factor is asked on what the ones before it make of `given`, as far
        as they take it: copies and projections pass the input on, so a
        residual around a convolution points to channels first as it does.
        """
        space = given
        for factor in self.factors:
            hint: str = factor.input_hint(space)
            if hint:
                return hint
            try:
                space = output_space_of(factor, space)
            except Exception:  # noqa: BLE001 (a hint never hides its refusal)
                return ""
        return ""

    def __call__(self, x: A, *, key: PRNGKeyArray | None = None) -> C:
        """Run the factors in turn."""
        keys = split_among(key, [morphism.stochastic for morphism in self.factors])
        out: Any = x
        if len(self.factors) < _runs.MIN_REPEATS:
            for morphism, k in zip(self.factors, keys, strict=True):
                out = apply(morphism, out, k)
        else:
            start = 0
            for step in _runs.plan(self.factors):
                size = len(step.factors)
                step_keys = keys[start : start + size]
                start += size
                if size == 1:
                    out = apply(step.factors[0], out, step_keys[0])
                else:
                    out = _runs.run(step, out, step_keys, apply)
        result: C = out
        return result


class Tensor(
    AbstractParallel[tuple[A, C], tuple[B, D]],
    Para[tuple[A, C], tuple[B, D]],
    Generic[A, B, C, D],
):
    """Parallel composite ``f_1 @ … @ f_n``: one factor on each component of a tuple.

    ``f @ g`` acts on pairs; ``cdl.Tensor(f, g, h)`` on triples (its type
    parameters describe the pair ``A × C → B × D``).

    **Arguments:** the factors ``f_i: A_i → B_i``.

    **Returns:** the morphism ``A_1 × … × A_n → B_1 × … × B_n``.

    >>> import jax.numpy as jnp, cdl
    >>> (cdl.Relu() @ cdl.Tanh())((jnp.array([-1.0]), jnp.array([0.0])))
    (Array([0.], dtype=float32), Array([0.], dtype=float32))
    """

    family: ClassVar[type] = Para
    takes_key: ClassVar[bool] = True

    def __init__(self, *factors: Para[Any, Any]) -> None:
        super().__init__(*factors)

    def input_hint(self, given: Space) -> str:
        """That of the first factor with one, each on its component of `given`."""
        if not isinstance(given, ProductSpace):
            return ""
        if len(given.factors) != len(self.factors):
            return ""
        for factor, part in zip(self.factors, given.factors, strict=True):
            hint: str = factor.input_hint(part)
            if hint:
                return hint
        return ""

    def __call__(
        self, x: tuple[Any, ...], *, key: PRNGKeyArray | None = None
    ) -> tuple[Any, ...]:
        """Run each factor on its component."""
        keys = split_among(key, [morphism.stochastic for morphism in self.factors])
        return tuple(
            apply(morphism, part, k)
            for morphism, part, k in zip(self.factors, x, keys, strict=True)
        )
