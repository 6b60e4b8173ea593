"""NumPy arrays read as shapes: ``Float[np.ndarray, "n d"]`` and NumPy's own ranks.

The sizes of a jaxtyping annotation of a NumPy array ride in a tagged ``Any``
inside NumPy's shape type (``tuple[Any, ...]``, as without the plugin), so that
NumPy code is typed as before; the plugin reads them where jit converts the array
(`._jit_args`).
"""

import json
from collections.abc import Sequence
from typing import Final

from mypy.types import (
    AnyType,
    Instance,
    LiteralType,
    TupleType,
    Type,
    TypeOfAny,
    UnpackType,
    get_proper_type,
)

from ._shapes import Dim, Star, Sym
from ._types import tag_of, tagged

NDARRAY: Final = "numpy.ndarray"
_GENERIC: Final = "numpy.generic"
_TAG: Final = "np:"


def numpy_annotation(base: Instance, dims: Sequence[Dim]) -> Instance:
    """NumPy's `base` array type, the sizes `dims` kept in a tag of its shape type."""
    if not base.args:
        return base
    shape = get_proper_type(base.args[0])
    if not isinstance(shape, Instance) or shape.type.fullname != "builtins.tuple":
        return base
    text = json.dumps([_encode(d) for d in dims])
    # An ``Any`` from another: ``disallow_any_unimported`` does not see it.
    inner = AnyType(TypeOfAny.from_another_any, source_any=tagged(_TAG, text))
    return base.copy_modified(args=[shape.copy_modified(args=[inner]), *base.args[1:]])


def _encode(d: Dim) -> object:
    if isinstance(d, Star):
        return ["*", d.name]
    if isinstance(d, Sym):
        return [d.name, d.scope]
    return d if isinstance(d, int) and not isinstance(d, bool) else None


def _decode(item: object, scopes: set[str]) -> Dim:
    if isinstance(item, int) and not isinstance(item, bool):
        return item
    if isinstance(item, list) and len(item) == 2 and item[0] == "*":
        return Star(item[1] if isinstance(item[1], str) else None)
    if isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
        scope = item[1]
        # Another function's names (a NumPy array it returned) are unknown here.
        return Sym(item[0], scope) if scope in scopes else None
    return None


def numpy_dims(typ: Type, scopes: set[str]) -> tuple[Dim, ...] | None:
    """The shape of a NumPy array or scalar type (None: not one).

    A 0-d array for a NumPy scalar; the sizes a jaxtyping annotation gave, or the
    rank NumPy's own type gives, for an array; any shape otherwise.
    """
    t = get_proper_type(typ)
    if not isinstance(t, Instance):
        return None
    if t.type.has_base(_GENERIC):
        return ()
    if not t.type.has_base(NDARRAY):
        return None
    shape = get_proper_type(t.args[0]) if t.args else None
    if isinstance(shape, TupleType):
        dims: list[Dim] = []
        for item in map(get_proper_type, shape.items):
            if isinstance(item, UnpackType):
                dims.append(Star(None))
            elif isinstance(item, LiteralType) and type(item.value) is int:
                dims.append(item.value)
            else:
                dims.append(None)
        return tuple(dims) if sum(isinstance(d, Star) for d in dims) <= 1 else None
    if isinstance(shape, Instance) and shape.args:
        inner = get_proper_type(shape.args[0])
        tag = tag_of(inner) if isinstance(inner, AnyType) else None
        if tag is not None and tag[0] == _TAG[:-1]:
            items = json.loads(tag[1])
            return tuple(_decode(item, scopes) for item in items)
    return (Star(None),)
