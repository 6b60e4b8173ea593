"""Named dimensions at calls: a callee's symbols are instantiated from the arguments.

Inside its own function or class a named dimension is a rigid type variable (see
`._types.rigid_type`). Everywhere else it is a variable of the callee: before mypy
checks a call, the signature's foreign symbols become ``Any`` (mypy never rejects a
call over them); after, the plugin binds them from the arguments' shapes, reports
a dimension that two arguments give two sizes (``[shape]``, on the argument's line)
and gives the result the bound sizes. Symbols that still leave through a value
(``jax.jit(f)``, ``model.weight``) are forgotten: unknown sizes, never flagged.
"""

from collections.abc import Iterable

from mypy.checker import TypeChecker
from mypy.expandtype import expand_type
from mypy.nodes import (
    CallExpr,
    Context,
    Decorator,
    Expression,
    FuncBase,
    SymbolNode,
    TypeInfo,
    Var,
)
from mypy.plugin import (
    AttributeContext,
    CheckerPluginInterface,
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
)
from mypy.typeops import get_all_type_vars
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    LiteralType,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    get_proper_type,
)

from . import _messages
from ._annotations import CLASS_DIMS
from ._shapes import Dim, Star, Sym, evaluate, names_in, render_dim
from ._types import ARRAY_CLASS, RIGID, Env, dims_of_args, report, rigid_type

# Formal signatures of the calls being checked, by the call's node: the signature
# hook keeps them for the return hook, which mypy calls right after.
_PENDING: dict[int, CallableType] = {}


def in_scope(api: CheckerPluginInterface) -> set[str]:
    """The functions and classes being checked: their symbols are rigid here."""
    if not isinstance(api, TypeChecker):
        return set()
    names = set()
    for node in api.scope.stack:
        name = getattr(node, "fullname", None)
        if isinstance(name, str) and name:
            names.add(name)
    return names


def _foreign(typ: Type, scopes: set[str]) -> list[TypeVarType]:
    return [
        tv
        for tv in get_all_type_vars(typ)
        if isinstance(tv, TypeVarType)
        and tv.id.namespace.startswith(RIGID)
        and tv.id.namespace[len(RIGID) :] not in scopes
    ]


def _forget(typ: Type, symbols: Iterable[TypeVarType]) -> Type:
    mapping: dict[TypeVarId, Type] = {
        tv.id: AnyType(TypeOfAny.special_form) for tv in symbols
    }
    return expand_type(typ, mapping) if mapping else typ


def relax(
    ctx: FunctionSigContext | MethodSigContext, sig: FunctionLike | None = None
) -> FunctionLike:
    """The signature mypy checks a call with: the callee's symbols taking any size."""
    sig = sig if sig is not None else ctx.default_signature
    if not isinstance(sig, CallableType):
        return sig
    symbols = _foreign(sig, in_scope(ctx.api))
    if not symbols:
        return sig
    _PENDING[id(ctx.context)] = sig
    if sig.variables:
        # mypy infers a generic callee's own variables: the result's symbols are
        # forgotten with the rest (mypy cannot solve constraints on free ones).
        relaxed = _forget(sig, symbols)
        assert isinstance(relaxed, CallableType)
        return relaxed
    # The result keeps the symbols, for `instantiate` to bind after mypy's check.
    return sig.copy_modified(arg_types=[_forget(a, symbols) for a in sig.arg_types])


def foreign(api: CheckerPluginInterface, types: Iterable[Type]) -> bool:
    """Whether any of `types` carries named dimensions of another scope."""
    scopes = in_scope(api)
    return any(_foreign(t, scopes) for t in types)


def forget_foreign(api: CheckerPluginInterface, typ: Type) -> Type:
    """`typ` with the symbols of functions and classes not being checked forgotten.

    A callable that leaves a call (``jax.jit(f)``, ``eqx.filter_grad(loss)``) keeps
    its parameters' symbols otherwise, and mypy would compare another function's
    ``b`` with the caller's sizes.
    """
    return _forget(typ, _foreign(typ, in_scope(api)))


def instantiate(env: Env, ctx: FunctionContext | MethodContext) -> Type:
    """The result of a call: the callee's symbols bound from the arguments."""
    sig = _PENDING.pop(id(ctx.context), None)
    scopes = in_scope(ctx.api)
    if sig is None:
        return _forget(
            ctx.default_return_type, _foreign(ctx.default_return_type, scopes)
        )
    shapes = env.shapes()
    if shapes is None or shapes.object_type is None:
        return ctx.default_return_type
    bound: dict[str, tuple[Dim, int]] = {}
    exprs: dict[str, list[tuple[str, Dim]]] = {}
    formals = _formals(sig, ctx)
    for position, (formal, actual, expr) in enumerate(formals, start=1):
        dims, given = _array_dims(formal), _array_dims(actual)
        if dims is None or given is None or _has_star(dims) or _has_star(given):
            continue
        if len(dims) != len(given):
            report(
                ctx.api,
                _messages.call_rank(_callee(ctx), position, _show(dims), _show(given)),
                expr,
            )
            continue
        for d, g in zip(dims, given, strict=True):
            if not isinstance(d, Sym) or d.scope in scopes or g is None:
                continue
            if not d.name.isidentifier():
                exprs.setdefault(d.name, []).append((str(position), g))
                continue
            if d.name in bound and not _agree(bound[d.name][0], g):
                first, where = bound[d.name]
                report(
                    ctx.api,
                    _messages.dimension_conflict(
                        _callee(ctx),
                        d.name,
                        render_dim(first),
                        where,
                        render_dim(g),
                        position,
                    ),
                    expr,
                )
                continue
            bound.setdefault(d.name, (g, position))
    values = {n: v for n, (v, _) in bound.items() if isinstance(v, int)}
    for text, uses in exprs.items():
        value = evaluate(text, values)
        for _, g in uses:
            if value is not None and isinstance(g, int) and value != g:
                report(
                    ctx.api,
                    _messages.arithmetic_conflict(_callee(ctx), text, value, g),
                    ctx.context,
                )
            _solve(text, g, values, bound)
    result = ctx.default_return_type
    mapping: dict[TypeVarId, Type] = {}
    for tv in _foreign(result, scopes):
        value = bound.get(tv.name, (None, 0))[0]
        if value is None and not tv.name.isidentifier():
            value = evaluate(tv.name, values)
        mapping[tv.id] = _dim_type(value, shapes.int_type, shapes.object_type)
    return expand_type(result, mapping) if mapping else result


def _solve(
    text: str, size: Dim, values: dict[str, int], bound: dict[str, tuple[Dim, int]]
) -> None:
    """Bind the one unbound name of the arithmetic `text` to what makes it `size`."""
    free = [n for n in names_in(text) if n not in values]
    if len(free) != 1 or not isinstance(size, int):
        return
    at = [evaluate(text, {**values, free[0]: x}) for x in (0, 1, 2)]
    if at[0] is None or at[1] is None or at[2] is None:
        return
    slope = at[1] - at[0]
    if slope and at[2] - at[1] == slope and (size - at[0]) % slope == 0:
        values[free[0]] = (size - at[0]) // slope
        bound[free[0]] = (values[free[0]], 0)


def _agree(a: Dim, b: Dim) -> bool:
    if a is None or b is None or a == b:
        return True
    return not (isinstance(a, int | Sym) and isinstance(b, int | Sym))


def _dim_type(value: Dim, int_type: Instance, object_type: Instance) -> Type:
    if isinstance(value, int) and not isinstance(value, bool):
        return LiteralType(value, int_type)
    if isinstance(value, Sym) and value.scope is not None:
        return rigid_type(value, object_type)
    return AnyType(TypeOfAny.special_form)


def _formals(
    sig: CallableType, ctx: FunctionContext | MethodContext
) -> list[tuple[Type, Type, Expression]]:
    """(formal type, argument type, argument) of each positional-or-named argument."""
    out = []
    for k, (types, exprs) in enumerate(zip(ctx.arg_types, ctx.args, strict=False)):
        if k >= len(sig.arg_types) or len(types) != 1 or len(exprs) != 1:
            continue
        out.append((sig.arg_types[k], types[0], exprs[0]))
    return out


def _array_dims(typ: Type) -> tuple[Dim, ...] | None:
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return tuple(dims_of_args(t.args, None))
    return None


def _has_star(dims: tuple[Dim, ...]) -> bool:
    return any(isinstance(d, Star) for d in dims)


def _show(dims: tuple[Dim, ...]) -> str:
    return "f32[" + ",".join(render_dim(d) for d in dims) + "]"


def _callee(ctx: FunctionContext | MethodContext) -> str:
    node: Context = ctx.context
    if isinstance(node, CallExpr):
        callee = node.callee
        name = getattr(callee, "name", None)
        if isinstance(name, str):
            return name
    return "the call"


def names_dimensions(node: SymbolNode | None) -> bool:
    """Whether the function, method, class or variable `node` has named dimensions."""
    if isinstance(node, Decorator):
        node = node.func
    if isinstance(node, TypeInfo):
        init = node.get("__init__")
        return carries_symbols(node) or (
            init is not None and names_dimensions(init.node)
        )
    typ = node.type if isinstance(node, FuncBase | Var) else None
    if typ is None:
        return False
    return any(
        isinstance(tv, TypeVarType) and tv.id.namespace.startswith(RIGID)
        for tv in get_all_type_vars(typ)
    )


def forget_attribute(ctx: AttributeContext) -> Type:
    """A field read outside its class, or assigned: its class's symbols forgotten."""
    typ = ctx.default_attr_type
    scopes = set() if ctx.is_lvalue else in_scope(ctx.api)
    return _forget(typ, _foreign(typ, scopes))


def carries_symbols(info: TypeInfo) -> bool:
    """Whether annotations inside the class `info` name dimensions."""
    return bool(info.metadata.get(CLASS_DIMS, {}).get("names"))
