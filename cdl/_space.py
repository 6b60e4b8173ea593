"""Objects of cdl's categories: typed tensor spaces, their products, and unification.

An object is a *space*: a tensor space (a dtype kind and a shape), a product of spaces
(a tuple), or a variable standing for any space. Shapes may hold named dimensions and
one variadic dimension, so shape-polymorphic morphisms such as activations have a
signature too. Composition unifies the codomain of one morphism with the domain of the
next, binding variables as it goes.

>>> from jaxtyping import Array, Float
>>> x = space_from_annotation(Float[Array, "28 n"], {"n": 3})
>>> x
float[28,3]
>>> u = Unifier()
>>> u.unify(space_from_annotation(Float[Array, "*shape"], {}), x)
>>> u.substitute(space_from_annotation(Float[Array, "*shape"], {}))
float[28,3]
"""

import dataclasses
import itertools
import math
from collections.abc import Mapping
from typing import Any, Final, TypeAlias, TypeVar, get_args, get_origin

import jax
import jaxtyping
import numpy as np

from . import _messages

_fresh: Final = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class DimVar:
    """A named dimension, e.g. ``"b"`` in ``Float[Array, "b 784"]``."""

    name: str
    uid: int = 0

    def __repr__(self) -> str:
        return self.name


@dataclasses.dataclass(frozen=True)
class SeqVar:
    """A variadic run of dimensions, e.g. ``"*shape"``."""

    name: str
    uid: int = 0

    def __repr__(self) -> str:
        return "*" + self.name


@dataclasses.dataclass(frozen=True)
class DTypeVar:
    """A dtype left open (jaxtyping's ``Shaped``): the same on every use."""

    name: str
    uid: int = 0

    def __repr__(self) -> str:
        return "any"


Dim: TypeAlias = int | DimVar | SeqVar
DType: TypeAlias = frozenset[str] | DTypeVar


@dataclasses.dataclass(frozen=True)
class TensorSpace:
    """Arrays of one dtype kind and one shape: ``float[28,28]``."""

    dtype: DType
    shape: tuple[Dim, ...]

    def __repr__(self) -> str:
        dims = ",".join(repr(d) for d in self.shape)
        return f"{dtype_name(self.dtype)}[{dims}]"


@dataclasses.dataclass(frozen=True)
class ProductSpace:
    """The product of spaces; its points are tuples. The empty product is the unit."""

    factors: tuple["Space", ...]

    def __repr__(self) -> str:
        # Written out with a stack: a product of products (a reduction with
        # `@` over hundreds of branches) nests deeper than Python's stack.
        out: list[str] = []
        stack: list[object] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, ProductSpace) and not item.factors:
                out.append("()")
            elif isinstance(item, ProductSpace):
                tokens: list[object] = ["("]
                for index, factor in enumerate(item.factors):
                    tokens.extend([" × ", factor] if index else [factor])
                tokens.append(")")
                stack.extend(reversed(tokens))
            else:
                out.append(repr(item))
        return "".join(out)


@dataclasses.dataclass(frozen=True)
class SpaceVar:
    """Any space: the domain of a fully polymorphic morphism such as ``Identity``.

    With a `kind`, a class, it stands for any instance of that class (a graph, a
    node table) and for no array or tuple: ``(Graph × float[n,2])`` refuses
    ``(f32[4,2] × Graph)``. The kind takes no part in equality: it narrows what the
    variable may be bound to, not which variable it is.

    >>> u = Unifier()
    >>> u.unify(SpaceVar("Graph", kind=dict), space_of(jax.numpy.zeros(2)))
    Traceback (most recent call last):
    ...
    cdl._space.Mismatch: a f32[2] is not a dict
    """

    name: str
    uid: int = 0
    kind: type | None = dataclasses.field(default=None, compare=False)

    def __repr__(self) -> str:
        return self.name


Space: TypeAlias = TensorSpace | ProductSpace | SpaceVar
UNIT: Final = ProductSpace(())

_FLOAT: Final = frozenset(jaxtyping.Float[jaxtyping.Array, ""].dtypes)  # type: ignore[attr-defined]
_INT: Final = frozenset(jaxtyping.Int[jaxtyping.Array, ""].dtypes)  # type: ignore[attr-defined]
_UINT: Final = frozenset(jaxtyping.UInt[jaxtyping.Array, ""].dtypes)  # type: ignore[attr-defined]
_BOOL: Final = frozenset(("bool", "bool_"))
_SHORT: Final = {"float32": "f32", "float64": "f64", "float16": "f16",
                 "bfloat16": "bf16", "int32": "i32", "int64": "i64", "int8": "i8",
                 "uint8": "u8", "uint32": "u32", "bool": "bool", "int16": "i16",
                 "uint16": "u16", "uint64": "u64", "complex64": "c64",
                 "complex128": "c128"}  # fmt: skip


def dtype_name(dtype: DType) -> str:
    """Short name of a dtype kind: ``f32`` for one dtype, ``float`` for the kind.

    >>> dtype_name(frozenset({"float32"})), dtype_name(_FLOAT), dtype_name(_BOOL)
    ('f32', 'float', 'bool')
    """
    if isinstance(dtype, DTypeVar):
        return "any"
    if len(dtype) == 1:
        (only,) = dtype
        return _SHORT.get(only, only)
    kinds = ((_FLOAT, "float"), (_INT, "int"), (_UINT, "uint"), (_BOOL, "bool"))
    for kind, name in kinds:
        if dtype <= kind:
            return name
    if dtype <= _INT | _UINT:
        return "integer"
    return "num" if dtype <= _FLOAT | _INT | _UINT else "|".join(sorted(dtype))


class Mismatch(Exception):
    """Raised by `Unifier` when two spaces cannot be the same."""


def _check_kind(var: SpaceVar, space: Space) -> None:
    """Raise `Mismatch` if `var`, of a kind, cannot stand for `space`.

    A variable of another kind may, if either kind is a subclass of the other.
    """
    if var.kind is None:
        return
    if isinstance(space, SpaceVar):
        if space.kind is None or issubclass(space.kind, var.kind):
            return
        if issubclass(var.kind, space.kind):
            return
    raise Mismatch(_messages.not_of_kind(repr(space), var.kind.__name__))


def _is_pytree(annotation: type) -> bool:
    """Whether `annotation` is jaxtyping's ``PyTree`` (any value may be one)."""
    try:
        return issubclass(annotation, jaxtyping.PyTree)
    except TypeError:
        return False


def _kind(annotation: type) -> type | None:
    """The class a space read from `annotation` is limited to, if any.

    Classes whose values are arrays, numbers or tuples have spaces of their own
    (tensor spaces, products), and protocols are met by classes unrelated to
    them: neither limits a variable.
    """
    valued = (np.ndarray, np.generic, jax.Array, int, float, complex, tuple)
    if (
        annotation is object
        or getattr(annotation, "_is_protocol", False)
        or _is_pytree(annotation)
    ):
        return None
    try:
        return None if issubclass(annotation, valued) else annotation
    except TypeError:
        return None


_V = TypeVar("_V", DimVar, SeqVar, DTypeVar, SpaceVar)


class Unifier:
    """Most general unifier of spaces: binds variables so that two spaces agree.

    >>> from jaxtyping import Array, Float
    >>> u = Unifier()
    >>> u.unify(TensorSpace(_FLOAT, (DimVar("n"),)), TensorSpace(_FLOAT, (3,)))
    >>> u.substitute(TensorSpace(_FLOAT, (DimVar("n"), DimVar("n"))))
    float[3,3]
    """

    def __init__(self) -> None:
        self.bindings: dict[object, object] = {}

    def _resolve(self, term: Any) -> Any:
        while term in self.bindings:
            term = self.bindings[term]
        return term

    def unify(self, left: Space, right: Space) -> None:
        """Bind variables so that `left` and `right` agree, or raise `Mismatch`."""
        left, right = self._resolve(left), self._resolve(right)
        if left == right:
            return
        if isinstance(left, SpaceVar):
            _check_kind(left, right)
            self.bindings[left] = right
        elif isinstance(right, SpaceVar):
            _check_kind(right, left)
            self.bindings[right] = left
        elif isinstance(left, TensorSpace) and isinstance(right, TensorSpace):
            self._unify_dtype(left.dtype, right.dtype)
            self._unify_shape(self._expand(left.shape), self._expand(right.shape))
        elif isinstance(left, ProductSpace) and isinstance(right, ProductSpace):
            if len(left.factors) != len(right.factors):
                raise Mismatch(
                    f"a product of {len(left.factors)} is not "
                    f"a product of {len(right.factors)}"
                )
            for a, b in zip(left.factors, right.factors, strict=True):
                self.unify(a, b)
        else:
            raise Mismatch("a tensor is not a tuple")

    def _unify_dtype(self, left: DType, right: DType) -> None:
        left, right = self._resolve(left), self._resolve(right)
        if isinstance(left, DTypeVar):
            if left != right:
                self.bindings[left] = right
        elif isinstance(right, DTypeVar):
            self.bindings[right] = left
        elif not left & right:
            raise Mismatch(f"dtype {dtype_name(left)} is not {dtype_name(right)}")

    def _unify_dim(self, left: Dim, right: Dim) -> None:
        left, right = self._resolve(left), self._resolve(right)
        if left == right:
            return
        if isinstance(left, DimVar):
            self.bindings[left] = right
        elif isinstance(right, DimVar):
            self.bindings[right] = left
        else:
            raise Mismatch(f"dimension {left!r} is not {right!r}")

    def _expand(self, shape: tuple[Dim, ...]) -> tuple[Dim, ...]:
        out: list[Dim] = []
        for dim in shape:
            bound = self._resolve(dim)
            if isinstance(dim, SeqVar) and isinstance(bound, tuple):
                out.extend(self._expand(bound))
            else:
                out.append(bound)
        return tuple(out)

    def _unify_shape(self, left: tuple[Dim, ...], right: tuple[Dim, ...]) -> None:
        i = _seq_index(left)
        j = _seq_index(right)
        if i is None and j is None:
            if len(left) != len(right):
                raise Mismatch(f"rank {len(left)} is not rank {len(right)}")
            for a, b in zip(left, right, strict=True):
                self._unify_dim(a, b)
            return
        if i is None:
            left, right, i, j = right, left, j, None
        assert i is not None
        if j is None:
            head, tail = left[:i], left[i + 1 :]
            if len(right) < len(head) + len(tail):
                raise Mismatch(
                    f"rank {len(right)} is below the least rank {len(head) + len(tail)}"
                )
            for a, b in zip(head, right[: len(head)], strict=True):
                self._unify_dim(a, b)
            for a, b in zip(tail, right[len(right) - len(tail) :], strict=True):
                self._unify_dim(a, b)
            seq = left[i]
            assert isinstance(seq, SeqVar)
            self._bind_run(seq, right[len(head) : len(right) - len(tail)])
            return
        k = min(i, j)
        m = min(len(left) - i - 1, len(right) - j - 1)
        for a, b in zip(left[:k], right[:k], strict=True):
            self._unify_dim(a, b)
        for a, b in zip(left[len(left) - m :], right[len(right) - m :], strict=True):
            self._unify_dim(a, b)
        rest_left, rest_right = left[k : len(left) - m], right[k : len(right) - m]
        if len(rest_left) == 1:
            self._bind_run(rest_left[0], rest_right)
        elif len(rest_right) == 1:
            self._bind_run(rest_right[0], rest_left)
        # Otherwise both sides keep a variadic run in different places: any split
        # of the dimensions could agree, so nothing is bound.

    def _bind_run(self, seq: Dim, run: tuple[Dim, ...]) -> None:
        """Bind the variadic `seq` to the dimensions `run`.

        A run that is `seq` alone binds nothing (a variable bound to itself would
        be expanded forever); one that holds `seq` and more has no finite
        solution.

        >>> u = Unifier()
        >>> s = SeqVar("shape")
        >>> u._bind_run(s, (s,))
        >>> u.bindings
        {}
        >>> u._bind_run(s, (s, 3))
        Traceback (most recent call last):
        ...
        cdl._space.Mismatch: *shape cannot be [*shape,3], which holds it and more
        """
        if run == (seq,):
            return
        if seq in run:
            dims = ",".join(repr(d) for d in run)
            raise Mismatch(_messages.cyclic_run(repr(seq), dims))
        self.bindings[seq] = run

    def substitute(self, space: Space) -> Space:
        """`space` with every bound variable replaced by what it is bound to."""
        space = self._resolve(space)
        if isinstance(space, TensorSpace):
            dtype = self._resolve(space.dtype)
            return TensorSpace(dtype, self._expand(space.shape))
        if isinstance(space, ProductSpace):
            return ProductSpace(tuple(self.substitute(f) for f in space.factors))
        assert isinstance(space, SpaceVar)
        return space


def _seq_index(shape: tuple[Dim, ...]) -> int | None:
    for index, dim in enumerate(shape):
        if isinstance(dim, SeqVar):
            return index
    return None


def rename(space: Space) -> Space:
    """`space` with fresh variables, so that two signatures share none."""
    fresh: dict[object, Any] = {}

    def var(v: _V) -> _V:
        if v not in fresh:
            fresh[v] = dataclasses.replace(v, uid=next(_fresh))
        renamed: _V = fresh[v]
        return renamed

    def go(s: Space) -> Space:
        if isinstance(s, SpaceVar):
            return var(s)
        if isinstance(s, ProductSpace):
            return ProductSpace(tuple(go(f) for f in s.factors))
        dtype = var(s.dtype) if isinstance(s.dtype, DTypeVar) else s.dtype
        shape = tuple(
            d if isinstance(d, int) else var(d) if isinstance(d, DimVar) else var(d)
            for d in s.shape
        )
        return TensorSpace(dtype, shape)

    return go(space)


def is_concrete(space: Space) -> bool:
    """Whether `space` holds no variable at all (dtype variables aside)."""
    if isinstance(space, SpaceVar):
        return False
    if isinstance(space, ProductSpace):
        return all(is_concrete(f) for f in space.factors)
    return all(isinstance(d, int) for d in space.shape)


def known_size(space: TensorSpace) -> int | None:
    """Number of elements of a tensor space, or None when a dimension is unknown."""
    if not is_concrete(space):
        return None
    return math.prod(d for d in space.shape if isinstance(d, int))


def example_of(space: Space) -> Any:
    """A `jax.ShapeDtypeStruct` (or a tuple of them) lying in a concrete `space`.

    A dtype kind is read as its usual member (float32, int32, bool).

    >>> floats = TensorSpace(frozenset({"float32", "float16"}), (2,))
    >>> example_of(ProductSpace((floats,)))
    (ShapeDtypeStruct(shape=(2,), dtype=float32),)
    """
    if isinstance(space, ProductSpace):
        return tuple(example_of(f) for f in space.factors)
    assert isinstance(space, TensorSpace)
    kinds = space.dtype if isinstance(space.dtype, frozenset) else frozenset()
    preferred = [d for d in ("float32", "int32", "bool") if d in kinds]
    dtype = preferred[0] if preferred else min(kinds, default="float32")
    shape = tuple(d for d in space.shape if isinstance(d, int))
    return jax.ShapeDtypeStruct(shape, np.dtype(dtype))  # type: ignore[no-untyped-call]


def space_of(value: object) -> Space:
    """The space a value lives in: arrays give their dtype and shape, tuples products.

    >>> import jax.numpy as jnp
    >>> space_of((jnp.zeros((2, 3)), jnp.int32(1)))
    (f32[2,3] × i32[])
    """
    if isinstance(value, tuple):
        return ProductSpace(tuple(space_of(v) for v in value))
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return TensorSpace(frozenset((np.dtype(dtype).name,)), tuple(shape))
    if isinstance(value, bool):
        return TensorSpace(_BOOL, ())
    if isinstance(value, int):
        return TensorSpace(_INT, ())
    if isinstance(value, float):
        return TensorSpace(_FLOAT, ())
    return SpaceVar(type(value).__name__, uid=next(_fresh))


def describe(value: object) -> str:
    """A value's space for messages, with the keys and fields of its containers.

    Tuples and arrays read as `space_of` prints them; a dict, list, named tuple
    or Equinox module (which `space_of` knows only by its class) shows its keys
    or fields, so that two carriers that differ there can be told apart.

    >>> import jax.numpy as jnp
    >>> describe({"n": jnp.float32(0), "sum": (jnp.zeros(3), 1)})
    "{'n': f32[], 'sum': (f32[3] × int[])}"
    >>> describe([jnp.zeros(2)])
    '[f32[2]]'

    A record of arrays shows its fields; a module holding other modules its class:

    >>> import equinox as eqx
    >>> class Stats(eqx.Module):
    ...     n: jax.Array
    >>> class Holder(eqx.Module):
    ...     stats: Stats
    >>> describe((Stats(jnp.zeros(2)), Holder(Stats(jnp.zeros(2)))))
    '(Stats(n=f32[2]) × Holder)'
    """
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return repr(space_of(value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        pairs = zip(value._fields, value, strict=True)
        fields = (f"{f}={describe(v)}" for f, v in pairs)
        return f"{type(value).__name__}({', '.join(fields)})"
    if isinstance(value, tuple):
        return "(" + " × ".join(describe(v) for v in value) + ")"
    if isinstance(value, dict):
        items = (f"{k!r}: {describe(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        values = {
            f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)
        }
        if any(dataclasses.is_dataclass(v) for v in values.values()):
            return type(value).__name__  # a structure, not a record of arrays
        fields = (f"{name}={describe(v)}" for name, v in values.items())
        return f"{type(value).__name__}({', '.join(fields)})"
    return repr(space_of(value))


def space_from_annotation(annotation: object, sizes: Mapping[str, object]) -> Space:
    """Read a space from a type annotation: jaxtyping arrays, tuples, type variables.

    Named dimensions that are keys of `sizes` with an int value take that value, so a
    layer whose annotation says ``"in_dim"`` gets the size stored in its field
    ``in_dim``; a variadic ``"*shape"`` takes a tuple of ints the same way.

    >>> from jaxtyping import Array, Float, Int
    >>> space_from_annotation(tuple[Float[Array, "n"], Int[Array, ""]], {"n": 4})
    (float[4] × int[])
    """
    if isinstance(annotation, type) and issubclass(annotation, jaxtyping.AbstractArray):
        dtypes = annotation.dtypes
        dtype: DType = (
            frozenset(dtypes) if isinstance(dtypes, tuple | list) else DTypeVar("dtype")
        )
        return TensorSpace(dtype, _parse_dims(annotation.dim_str, sizes))
    if get_origin(annotation) is tuple:
        args = get_args(annotation)
        if args == ((),):
            return UNIT
        return ProductSpace(tuple(space_from_annotation(a, sizes) for a in args))
    if isinstance(annotation, TypeVar):
        return SpaceVar(annotation.__name__)
    if annotation is Any:
        # Each `Any` is a space of its own: `Para[Any, Any]` is not `Para[X, X]`.
        return SpaceVar("Any", uid=next(_fresh))
    if isinstance(annotation, type):
        return SpaceVar(annotation.__name__, kind=_kind(annotation))
    return SpaceVar(getattr(annotation, "__name__", "X"))


def _parse_dims(dim_str: str, sizes: Mapping[str, object]) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for token in dim_str.split():
        token = token.lstrip("#").removesuffix("=")
        variadic = token.startswith("*") or token == "..."
        name = token.lstrip("*")
        known = sizes.get(name)
        if variadic and isinstance(known, tuple) and all(type(d) is int for d in known):
            dims.extend(known)
        elif variadic:
            dims.append(SeqVar(name if name != "..." else "_"))
        elif name.lstrip("-").isdigit():
            dims.append(int(name))
        elif isinstance(sizes.get(name), int):
            size = sizes[name]
            assert isinstance(size, int)
            dims.append(size)
        elif name.isidentifier():
            dims.append(DimVar(name if name != "_" else f"_{next(_fresh)}"))
        else:
            dims.append(_evaluate(name, sizes))
    return tuple(dims)


def _evaluate(expression: str, sizes: Mapping[str, object]) -> Dim:
    """A dimension written as arithmetic on sizes, e.g. ``"2*hidden"``."""
    ints = {k: v for k, v in sizes.items() if isinstance(v, int)}
    try:
        value = eval(expression, {"__builtins__": {}}, ints)  # noqa: S307
    except Exception:
        return DimVar(expression)
    return value if isinstance(value, int) else DimVar(expression)
