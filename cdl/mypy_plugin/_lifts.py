"""Morphisms that functions make: ``cdl.lift``, ``residual``, ``tie``, ``reparam``.

``cdl.lift(fn, dom=Float[Array, "4"], cod=Float[Array, "2"])`` is a `Lifted` whose
spaces are the annotation *values* given (or, without them, the annotations of `fn`'s
call: several positional parameters make the domain their product); they ride on the
type as its signature. ``residual(f)`` and the re-parametrisations keep `f`'s spaces,
and its parts when its output depends on its input's sizes.
"""

from typing import Final

from mypy.nodes import (
    Decorator,
    Expression,
    FuncDef,
    IndexExpr,
    MemberExpr,
    NameExpr,
    OverloadedFuncDef,
    RefExpr,
    StrExpr,
    TupleExpr,
    TypeAlias,
)
from mypy.plugin import FunctionContext
from mypy.types import (
    CallableType,
    Instance,
    ProperType,
    Type,
    get_proper_type,
)

from . import _layers
from ._annotations import parse_dims
from ._names import JAXTYPING_DTYPES, LIFTED
from ._shapes import Arr, Opaque, Space, Sym, Tup
from ._types import Env, modelled, space_of

_TUPLES: Final = frozenset({"tuple", "Tuple"})


def lift(env: Env, ctx: FunctionContext) -> Type:
    """``cdl.lift(fn, dom=..., cod=...)``: a `Lifted` with those spaces."""
    ret = get_proper_type(ctx.default_return_type)
    info = env.info(LIFTED)
    if not isinstance(ret, Instance) or info is None or ret.type is not info:
        return ctx.default_return_type
    given = _layers.given(ctx)
    dom_exprs, cod_exprs = given.get("dom"), given.get("cod")
    spaces: tuple[Space, Space] | None = None
    if dom_exprs and cod_exprs and len(dom_exprs) == len(cod_exprs) == 1:
        spaces = _value_space(dom_exprs[0]), _value_space(cod_exprs[0])
    elif not dom_exprs and not cod_exprs and ctx.arg_types and ctx.arg_types[0]:
        spaces = _call_spaces(get_proper_type(ctx.arg_types[0][0]))
    shapes = env.shapes()
    if spaces is None or shapes is None or not all(map(modelled, spaces)):
        return ret
    types = [shapes.type_of(_loose(s)) for s in spaces]
    return _layers.with_attrs(ret, _layers.parts_attr(env, _layers.SIGNATURE, types))


def keep_body(env: Env, ctx: FunctionContext) -> Type:
    """``residual(f)``, ``tie(f, ...)``: `f`'s parts kept on the result."""
    ret = get_proper_type(ctx.default_return_type)
    if not isinstance(ret, Instance) or not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    inner = get_proper_type(ctx.arg_types[0][0])
    if not _layers.dependent(env, inner):
        return ret
    return _layers.with_attrs(ret, _layers.parts_attr(env, _layers.BODY, [inner]))


def _value_space(expr: Expression) -> Space:
    """The space an annotation written as a value stands for (`Opaque`: unknown)."""
    if isinstance(expr, TupleExpr):
        return Tup(tuple(_value_space(e) for e in expr.items))
    if isinstance(expr, RefExpr) and isinstance(expr.node, TypeAlias):
        return _loose(space_of(expr.node.target))
    if not isinstance(expr, IndexExpr) or not isinstance(
        expr.base, NameExpr | MemberExpr
    ):
        return Opaque()
    items = expr.index.items if isinstance(expr.index, TupleExpr) else [expr.index]
    if expr.base.name in _TUPLES:
        return Tup(tuple(_value_space(e) for e in items))
    if expr.base.name not in JAXTYPING_DTYPES or len(items) != 2:
        return Opaque()
    if not isinstance(items[1], StrExpr):
        return Opaque()
    dims = parse_dims(items[1].value)
    return Opaque() if dims is None else Arr(tuple(dims))


def _call_spaces(fn: ProperType) -> tuple[Space, Space] | None:
    """Domain and codomain from the annotations of `fn`'s call."""
    call: ProperType | None = fn
    drop = 0
    if isinstance(fn, Instance):
        method = fn.type.get_method("__call__")
        if isinstance(method, Decorator):
            method = method.func
        if isinstance(method, OverloadedFuncDef) or not isinstance(method, FuncDef):
            return None
        call = get_proper_type(method.type) if method.type is not None else None
        drop = 1
    if not isinstance(call, CallableType):
        return None
    params = [
        t
        for t, kind in zip(call.arg_types[drop:], call.arg_kinds[drop:], strict=True)
        if kind.is_positional() and kind.is_required()
    ]
    if not params:
        return None
    inputs = [space_of(t) for t in params]
    dom = inputs[0] if len(inputs) == 1 else Tup(tuple(inputs))
    return dom, space_of(call.ret_type)


def _loose(space: Space) -> Space:
    """`space` with the named dimensions of another scope free (unified at use)."""
    if isinstance(space, Arr):
        return Arr(tuple(Sym(d.name) if isinstance(d, Sym) else d for d in space.dims))
    if isinstance(space, Tup):
        return Tup(tuple(_loose(s) for s in space.items))
    return space
