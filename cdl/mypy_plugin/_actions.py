"""Equivariant layers typed from the actions they are built on.

An action made by ``permutation_action(n, features)``, ``signal_action(m, length,
channels)``, ``image_action(m, h, w, channels)``, ``trivial_action(m, shape)`` or
``IndexAction(m, shape, slots)`` with known sizes carries its shape and the axes the
monoid moves on its type; ``EquivariantLinear(act_in, act_out)`` and ``DenseMap`` map
the space of one to the other's, ``Pool(act, ...)`` the space of `act` to its
features (the axes not moved).

>>> shape_of("signal_action", {"length": 8, "channels": 3})
([3, 8], [1])
"""

import json
from typing import Final

from mypy.nodes import Expression
from mypy.plugin import FunctionContext
from mypy.types import Instance, LiteralType, Type, get_proper_type

from . import _layers
from ._shapes import Arr
from ._types import Env, fold, fold_shape

ACTION: Final = "cdl:action"
_MODULE: Final = "cdl.equivariance._action."
BUILDERS: Final = frozenset(
    _MODULE + n
    for n in (
        "permutation_action signal_action image_action trivial_action IndexAction"
    ).split()
)
LAYERS: Final = frozenset(
    {
        "cdl.equivariance._linear.EquivariantLinear",
        "cdl.equivariance._linear.DenseMap",
        "cdl.equivariance._blocks.Pool",
    }
)
_Shape = tuple[list[int], list[int]]


def shape_of(builder: str, sizes: dict[str, object]) -> _Shape | None:
    """The shape an action builder gives, and the axes its monoid moves.

    **Arguments:** `builder`, the builder's name; `sizes`, its folded arguments
    (ints, or lists of ints for shapes and slots; None: unknown).

    **Returns:** ``(shape, moved axes)``, None when a size is unknown.
    """
    if builder == "permutation_action":
        n, order, features = (
            sizes.get("n"),
            sizes.get("order", 1),
            sizes.get("features", []),
        )
        if not (isinstance(n, int) and isinstance(order, int) and _ints(features)):
            return None
        return [n] * order + list(features), list(range(order))  # type: ignore[call-overload]
    if builder == "signal_action":
        length, channels = sizes.get("length"), sizes.get("channels")
        if not isinstance(length, int):
            return None
        if "channels" not in sizes or channels is None:
            return ([length], [0]) if "channels" not in sizes else None
        return ([channels, length], [1]) if isinstance(channels, int) else None
    if builder == "image_action":
        dims = [sizes.get(k) for k in ("channels", "height", "width")]
        if not all(isinstance(d, int) for d in dims):
            return None
        return [d for d in dims if isinstance(d, int)], [1, 2]
    if builder == "trivial_action":
        shape = sizes.get("shape", [])
        return (list(shape), []) if _ints(shape) else None  # type: ignore[call-overload]
    shape, slots = sizes.get("shape"), sizes.get("slots")
    if not (_ints(shape) and isinstance(slots, list)):
        return None
    moved = [a for s in slots if isinstance(s, list) for a in s if isinstance(a, int)]
    return list(shape), moved  # type: ignore[call-overload]


def _ints(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) for v in value)


def _value(expr: Expression) -> object:
    """An int, or a (nested) list of ints, that `expr` folds to (None: unknown)."""
    value = fold(expr)
    if value is not None:
        return value
    items = getattr(expr, "items", None)
    if isinstance(items, list):
        nested = [_value(i) for i in items]
        return None if any(v is None for v in nested) else nested
    shape = fold_shape(expr)
    return None if shape is None or None in shape else shape


def action(env: Env, ctx: FunctionContext, fullname: str) -> Type:
    """An action builder's call, its result carrying its shape when known."""
    ret = get_proper_type(ctx.default_return_type)
    if not isinstance(ret, Instance):
        return ctx.default_return_type
    sizes = {
        name: (_value(exprs[0]) if len(exprs) == 1 else None)
        for name, exprs in _layers.given(ctx).items()
        if exprs
    }
    found = shape_of(fullname.rpartition(".")[2], sizes)
    text = None if found is None else _layers.text_type(env, json.dumps(found))
    return ret if text is None else _layers.with_attrs(ret, {ACTION: text})


def _action(typ: Type) -> _Shape | None:
    t = get_proper_type(_layers.attrs(typ).get(ACTION))
    if not (isinstance(t, LiteralType) and isinstance(t.value, str)):
        return None
    shape, moved = json.loads(t.value)
    return list(shape), list(moved)


def layer(env: Env, ctx: FunctionContext, out: Instance) -> Instance:
    """An equivariant layer typed from its actions' shapes."""
    args = _layers.given(ctx)
    types: dict[str, Type] = {}
    for name in ("act_in", "act_out", "act"):
        if len(args.get(name, [])) == 1:
            types[name] = ctx.arg_types[ctx.callee_arg_names.index(name)][0]
    shapes = env.shapes()
    if shapes is None:
        return out
    if "act" in types:
        found = _action(types["act"])
        if found is None:
            return out
        shape, moved = found
        features = [s for a, s in enumerate(shape) if a not in moved]
        spaces = [Arr(tuple(shape)), Arr(tuple(features))]
    else:
        ins, outs = (
            _action(types[n]) if n in types else None for n in ("act_in", "act_out")
        )
        if ins is None or outs is None:
            return out
        spaces = [Arr(tuple(ins[0])), Arr(tuple(outs[0]))]
    typed = [shapes.type_of(s) for s in spaces]
    return _layers.with_attrs(out, _layers.parts_attr(env, _layers.SIGNATURE, typed))
