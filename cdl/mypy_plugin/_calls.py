"""Named dimensions at calls: a callee's symbols are instantiated from the arguments.

Inside its own function or class a named dimension is a rigid type variable (see
`._types.rigid_type`). Everywhere else it is a variable of the callee: before mypy
checks a call, the signature's foreign symbols become ``Any`` (mypy never rejects a
call over them); after, the plugin binds them from the arguments' shapes, reports
a dimension that two arguments give two sizes (``[shape]``, on the argument's line)
and gives the result the bound sizes. A function's own dimensions are bound by
its signature (`._annotations`), so a function value keeps them; other symbols
that leave through a value (``eqx.filter_grad(loss)``, ``model.weight``) are
forgotten: unknown sizes, never flagged. A new instance of a class, built in the
class's own methods, binds the class's dimensions as a call from outside does; one
built with sizes known keeps them, and a method called on it binds them first
(`._instances`).
"""

import dataclasses
from collections.abc import Callable, Iterable

from mypy.argmap import map_actuals_to_formals
from mypy.checker import TypeChecker
from mypy.erasetype import erase_typevars
from mypy.expandtype import expand_type
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    ArgKind,
    CallExpr,
    Context,
    Decorator,
    Expression,
    FuncBase,
    FuncDef,
    MemberExpr,
    NameExpr,
    SuperExpr,
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
from mypy.plugins.dataclasses import replace_function_sig_callback
from mypy.subtypes import is_subtype
from mypy.typeops import get_all_type_vars
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    LiteralType,
    NoneType,
    TupleType,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    UnionType,
    UnpackType,
    get_proper_type,
)

from . import _instances, _messages
from ._annotations import CLASS_DIMS
from ._bindings import bound_once, rebinds
from ._named_tuples import constructed
from ._names import is_vmap_axis
from ._shapes import (
    Dim,
    Star,
    Sym,
    align,
    canonical,
    evaluate,
    names_in,
    render_dim,
    solve_for,
    substitute,
)
from ._types import (
    ARRAY_CLASS,
    RIGID,
    Env,
    Shapes,
    instance_dims,
    report,
    rigid_again,
    rigid_type,
    tag_of,
)
from ._unknown import reads_unknown, replace_error


@dataclasses.dataclass
class _Pending:
    """A call being checked: its callee's formal signatures, kept for the return hook.

    The signature hook keeps them (one per variant of an overloaded callee) and
    the return hook, which mypy calls right after, binds their symbols. `context`,
    the call's node, is held so that its id is not reused while it is kept.
    """

    context: Context
    # (formal signature, the relaxed one mypy checks, the scopes rigid at the call)
    items: list[tuple[CallableType, CallableType, set[str]]]
    overloaded: bool


_PENDING: dict[int, _Pending] = {}


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


def _other_scopes(typ: Type, scopes: set[str]) -> list[TypeVarType]:
    """The named dimensions in `typ` of scopes not in `scopes`."""
    return [
        tv
        for tv in get_all_type_vars(typ)
        if isinstance(tv, TypeVarType)
        and tv.id.namespace.startswith(RIGID)
        and tv.id.namespace[len(RIGID) :].partition("@")[0] not in scopes
    ]


def _foreign(typ: Type, scopes: set[str]) -> list[TypeVarType]:
    """The named dimensions in `typ` of scopes not in `scopes`, free in `typ`.

    A generic function's own dimensions are bound by its signature: a function
    value keeps them wherever it goes.
    """
    bound = _bound_variables(typ)
    return [tv for tv in _other_scopes(typ, scopes) if tv.id not in bound]


def _bound_variables(typ: Type) -> set[TypeVarId]:
    """The type variables that the callables inside `typ` bind."""
    t = get_proper_type(typ)
    if isinstance(t, CallableType):
        parts = [*t.arg_types, t.ret_type]
        found = {tv.id for tv in t.variables}
    else:
        parts = (
            list(t.args)
            if isinstance(t, Instance)
            else list(t.items)
            if isinstance(t, TupleType | UnionType)
            else [t.type]
            if isinstance(t, UnpackType)
            else []
        )
        found = set()
    for part in parts:
        found |= _bound_variables(part)
    return found


def _unbind_dimensions(sig: CallableType) -> CallableType:
    """`sig` with its named dimensions free: the plugin, not mypy, binds them."""
    rigid: dict[TypeVarId, Type] = {}
    for tv in sig.variables:
        again = rigid_again(tv) if isinstance(tv, TypeVarType) else None
        if again is not None:
            rigid[tv.id] = again
    if not rigid:
        return sig
    free = expand_type(sig, rigid)
    assert isinstance(free, CallableType)
    return free.copy_modified(
        variables=[tv for tv in sig.variables if tv.id not in rigid]
    )


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
    return _relax(ctx, _unbind_dimensions(sig), _constructed(sig))


def relax_replace(ctx: FunctionSigContext) -> FunctionLike:
    """``dataclasses.replace(obj, **fields)``: a new instance with sizes of its own."""
    sig = replace_function_sig_callback(ctx)
    made = get_proper_type(sig.ret_type)
    return _relax(ctx, sig, made.type if isinstance(made, Instance) else None)


def relax_constructor(ctx: FunctionSigContext) -> FunctionLike:
    """A call of a local name or of a value, if it builds one or names dimensions.

    ``cls(rows)`` in a class method builds an instance; ``jax.vmap(f)(xs, w)`` and
    ``jax.jit(f)(x)`` call a value with `f`'s named dimensions as type variables,
    which the plugin binds (a name given two sizes is a ``[shape]`` error, not
    mypy's "Cannot infer value of type parameter").
    """
    sig = ctx.default_signature
    if _constructed(sig) is not None or _unbind_dimensions(sig) is not sig:
        return relax(ctx)
    return named_value(ctx)


def named_value(ctx: FunctionSigContext) -> FunctionLike:
    """A function of arrays kept in a name, called under that name in mypy's errors.

    mypy names no callee for a value (``batched = jax.vmap(predict, in_axes=(0,
    None))``, then ``batched(params, images)``): its "Argument 2 has incompatible
    type" did not say which function the argument was given to.
    """
    sig = ctx.default_signature
    call = ctx.context
    if (
        not isinstance(sig, CallableType)
        or sig.name is not None
        or not isinstance(call, CallExpr)
        or not isinstance(call.callee, NameExpr)
        or not isinstance(call.callee.node, Var)
        or not takes_arrays(sig)
    ):
        return sig
    return sig.copy_modified(name=call.callee.name)


def takes_arrays(sig: CallableType) -> bool:
    """Whether a parameter of `sig` is an array."""
    return any(
        isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS
        for t in map(get_proper_type, sig.arg_types)
    )


def _constructed(sig: CallableType) -> TypeInfo | None:
    """The class of which a call of `sig` makes a new instance (None: not one)."""
    return sig.type_object() if sig.is_type_obj() else None


def _relax(
    ctx: FunctionSigContext | MethodSigContext,
    sig: CallableType,
    made: TypeInfo | None,
) -> CallableType:
    """`sig` with the symbols that are not rigid at the call taking any size.

    A new instance of a class gets sizes of its own: inside the class's methods
    only `self`'s fields share the class's dimension names, so the class's
    symbols are the callee's at a constructor, bound from the arguments.
    """
    scopes = in_scope(ctx.api) - ({made.fullname} if made is not None else set())
    symbols = _foreign(sig, scopes)
    overloaded = _is_overload(sig)
    constructs = made is not None and _instances.sized_class(made)
    if not symbols and not overloaded and not constructs and not _named_run(sig):
        return sig
    if sig.variables:
        # mypy infers a generic callee's own variables: the result's symbols are
        # forgotten with the rest (mypy cannot solve constraints on free ones).
        relaxed = _forget(sig, symbols)
        assert isinstance(relaxed, CallableType)
    else:
        # The result keeps the symbols, for `instantiate` to bind after mypy's check.
        relaxed = sig.copy_modified(
            arg_types=[_forget(a, symbols) for a in sig.arg_types]
        )
    _keep(ctx.context, sig, relaxed, scopes, overloaded=overloaded)
    return relaxed


def _is_overload(sig: CallableType) -> bool:
    """Whether `sig` is one variant of an overloaded function or method."""
    definition = sig.definition
    return isinstance(definition, FuncDef | Decorator) and definition.is_overload


def _keep(
    context: Context,
    sig: CallableType,
    relaxed: CallableType,
    scopes: set[str],
    *,
    overloaded: bool,
) -> None:
    """Keep `sig` for the return hook: mypy gives an overload's variants in turn."""
    pending = _PENDING.get(id(context))
    if (
        overloaded
        and pending is not None
        and pending.context is context
        and pending.overloaded
        and all(item[0].definition is not sig.definition for item in pending.items)
    ):
        pending.items.append((sig, relaxed, scopes))
        return
    _PENDING[id(context)] = _Pending(context, [(sig, relaxed, scopes)], overloaded)


def foreign(api: CheckerPluginInterface, types: Iterable[Type]) -> bool:
    """Whether any of `types` carries named dimensions of another scope.

    A function value carries its own (bound by its signature).
    """
    scopes = in_scope(api)
    return any(_other_scopes(t, scopes) for t in types)


def forget_foreign(api: CheckerPluginInterface, typ: Type) -> Type:
    """`typ` with the symbols of functions and classes not being checked forgotten.

    A callable that leaves a call (``jax.jit(f)``, ``eqx.filter_grad(loss)``) keeps
    its parameters' symbols otherwise, and mypy would compare another function's
    ``b`` with the caller's sizes.
    """
    return _forget(typ, _foreign(typ, in_scope(api)))


def super_result(
    hook: Callable[[FunctionContext], Type] | None,
) -> Callable[[FunctionContext], Type]:
    """What ``super().m(...)`` returns: the overridden method's names forgotten.

    mypy calls a function hook under the callee's name (``__call__ of Base``), as
    it calls no hook of the method's own for a callee ``super().m``. The method
    keeps its class's rigid names, which are not the caller's: its result has them
    of unknown size, as ``Base.m(self, ...)`` has. Any other callee of no full
    name (``jax.vmap(model)(xs)``) is left to `hook` (None: mypy's result).
    """

    def run(ctx: FunctionContext) -> Type:
        call = ctx.context
        if isinstance(call, CallExpr) and isinstance(call.callee, SuperExpr):
            return forget_foreign(ctx.api, ctx.default_return_type)
        return ctx.default_return_type if hook is None else hook(ctx)

    return run


def instantiate(env: Env, ctx: FunctionContext | MethodContext) -> Type:
    """The result of a call: the callee's symbols bound from the arguments.

    For an overloaded callee mypy tries the variants in turn, calling this hook for
    each: a variant's shapes are reported only when no variant that the arguments
    fit agrees with their sizes, so an overload never gives a false error.
    """
    pending = _PENDING.get(id(ctx.context))
    if pending is None or pending.context is not ctx.context:
        return _forget_result(ctx)
    if not pending.overloaded:
        del _PENDING[id(ctx.context)]
    shapes = env.shapes()
    if shapes is None or shapes.object_type is None:
        return ctx.default_return_type
    trial = _trial(pending, ctx)
    if trial is None:
        return _forget_result(ctx)
    sig, _, scopes = trial
    # A method of an instance that carries its fields' sizes binds them first.
    sizes = (
        _instances.given(ctx.type, in_scope(ctx.api), _instances.method_class(sig))
        if isinstance(ctx, MethodContext)
        else None
    )
    binding = _bind(
        sig, _known(ctx, _formals(sig, ctx)), scopes, _callee(ctx), given=sizes
    )
    result = ctx.default_return_type
    if binding.errors and pending.overloaded:
        other = _agreeing_variant(pending, ctx, exclude=trial)
        if other is not None:
            sig, _, scopes = other
            formals = _known(ctx, _actual_formals(sig, ctx))
            binding = _bind(sig, formals, scopes, _callee(ctx), given=sizes)
            if sig.variables:
                return _forget_result(ctx)
            result = sig.ret_type
        elif not _fits(trial[1], ctx):
            binding.errors.clear()  # mypy rejects this variant and tries the next
    for message, where in binding.errors:
        report(ctx.api, message, where)
    for where in binding.ranks if binding.errors else []:
        replace_error(ctx.api, where, "arg-type")  # the [shape] error says more
    if binding.errors:
        # A mapped axis bound by arguments that disagree is left unknown.
        _unbind_mapped_axes(binding)
    result = _bound_result(result, scopes, binding, shapes)
    bound = {name: size for name, (size, _) in binding.bound.items()}
    made = _constructed(sig)
    if made is not None and not binding.errors and _sized_here(ctx):
        result = _instances.built(env, ctx, made, result, bound, binding.runs)
    return constructed(ctx, result, bound, shapes)


def _sized_here(ctx: FunctionContext | MethodContext) -> bool:
    """Whether a new instance built by the call `ctx` may carry its sizes.

    Not when it is assigned to a name bound again (in a loop, in two branches):
    the name keeps one type, which the other value's sizes would contradict.
    """
    return isinstance(ctx.api, TypeChecker) and bound_once(ctx.api, ctx.context)


def _forget_result(ctx: FunctionContext | MethodContext) -> Type:
    """The result mypy gives, the symbols of scopes not being checked forgotten."""
    result = ctx.default_return_type
    return _forget(result, _foreign(result, in_scope(ctx.api)))


@dataclasses.dataclass
class _Binding:
    """A callee's symbols bound from a call's arguments, and what disagrees."""

    bound: dict[str, tuple[Dim, int]]
    values: dict[str, int]
    runs: dict[str, tuple[Dim, ...]]
    errors: list[tuple[str, Context]]
    ranks: list[Context]  # the arguments of another rank: mypy reports them too


def _known(
    ctx: FunctionContext | MethodContext,
    formals: list[tuple[Type, Type, Expression]],
) -> list[tuple[Type, Type, Expression]]:
    """The arguments that bind named dimensions: not those of unknown shape.

    An argument that reads a name re-bound to an untyped value (`._unknown`) has
    the shape mypy keeps for it, not its own.
    """
    return [f for f in formals if not reads_unknown(ctx.api, f[2])]


def _bind(
    sig: CallableType,
    formals: list[tuple[Type, Type, Expression]],
    scopes: set[str],
    callee: str,
    *,
    given: tuple[dict[str, Dim], dict[str, tuple[Dim, ...]], str] | None = None,
) -> _Binding:
    """Bind the symbols of `sig` from (formal, argument type, argument) triples.

    `given`: the sizes (and runs) that the instance a method is called on carries,
    bound first (its class's name, for messages).
    """
    bound: dict[str, tuple[Dim, int]] = {}
    runs: dict[str, tuple[tuple[Dim, ...], int]] = {}
    owner = ""
    if given is not None:
        sizes, given_runs, owner = given
        bound.update({n: (d, _INSTANCE) for n, d in sizes.items()})
        runs.update({n: (r, _INSTANCE) for n, r in given_runs.items()})
    exprs: dict[str, list[tuple[Dim, Expression]]] = {}
    errors: list[tuple[str, Context]] = []
    ranks: list[Context] = []
    for position, (formal, actual, expr) in enumerate(formals, start=1):
        dims, given = _array_dims(formal), _array_dims(actual)
        if dims is None or given is None:
            continue
        aligned = align(dims, given)
        if aligned is None:
            if not _has_star(dims) and not _has_star(given):
                batch = (
                    len(given) == len(dims) + 1 and align(dims, given[1:]) is not None
                )
                shown = _messages.call_rank(
                    callee, position, _show(dims), _show(given), batch=batch
                )
                errors.append((shown, expr))
                ranks.append(expr)
            continue  # a run too short for the declared shape is mypy's error
        pairs, run = aligned
        if run is not None:
            name, run_dims = run
            if name in runs and not _runs_agree(runs[name][0], run_dims):
                first, where = runs[name]
                shown = (
                    _messages.instance_run_conflict(
                        callee,
                        name,
                        _show_run(first),
                        owner,
                        _show_run(run_dims),
                        position,
                    )
                    if where == _INSTANCE
                    else _messages.run_conflict(
                        callee,
                        name,
                        _show_run(first),
                        where,
                        _show_run(run_dims),
                        position,
                    )
                )
                errors.append((shown, expr))
            runs.setdefault(name, (run_dims, position))
        for d, g in pairs:
            if not isinstance(d, Sym) or d.scope in scopes or g is None:
                continue
            if not d.name.isidentifier():
                exprs.setdefault(d.name, []).append((g, expr))
                continue
            if d.name in bound and not _agree(bound[d.name][0], g):
                first, where = bound[d.name]
                shown = (
                    _messages.instance_conflict(
                        callee,
                        d.name,
                        render_dim(first),
                        owner,
                        render_dim(g),
                        position,
                    )
                    if where == _INSTANCE
                    else _messages.dimension_conflict(
                        callee,
                        d.name,
                        render_dim(first),
                        where,
                        render_dim(g),
                        position,
                    )
                )
                errors.append((shown, expr))
                continue
            bound.setdefault(d.name, (g, position))
    values = {n: v for n, (v, _) in bound.items() if isinstance(v, int)}
    for text, uses in exprs.items():
        for g, expr in uses:
            value = evaluate(text, values)
            if value is not None and isinstance(g, int) and value != g:
                shown = _messages.arithmetic_conflict(callee, text, value, g)
                errors.append((shown, expr))
            if not _solve(text, g, values, bound) and isinstance(g, int):
                shown = _messages.arithmetic_impossible(callee, text, g)
                errors.append((shown, expr))
    runs_bound = {n: r for n, (r, _) in runs.items()}
    return _Binding(bound, values, runs_bound, errors, ranks)


# The position of the sizes an instance carries, among a call's arguments.
_INSTANCE = -1


def _runs_agree(first: tuple[Dim, ...], second: tuple[Dim, ...]) -> bool:
    """Whether two arguments give one variadic run (``*b``) the same dimensions."""
    return len(first) == len(second) and all(
        _agree(a, b) for a, b in zip(first, second, strict=True)
    )


def _bound_result(
    result: Type, scopes: set[str], binding: _Binding, shapes: Shapes
) -> Type:
    """`result` with the callee's symbols replaced by the sizes they are bound to."""
    assert shapes.object_type is not None
    mapping: dict[TypeVarId, Type] = {}
    for tv in _foreign(result, scopes):
        value = binding.bound.get(tv.name, (None, 0))[0]
        if value is None and not tv.name.isidentifier():
            value = evaluate(tv.name, binding.values)
            if value is None:
                value = _symbolic(tv.name, binding.bound)
        mapping[tv.id] = _dim_type(value, shapes.int_type, shapes.object_type)
    result = expand_type(result, mapping) if mapping else result
    return _expand_runs(result, binding.runs, shapes) if binding.runs else result


def _symbolic(expr: str, bound: dict[str, tuple[Dim, int]]) -> Dim:
    """The arithmetic `expr` of names bound to the caller's named dimensions.

    ``2*d`` with ``d`` bound to the caller's ``k`` is the caller's ``2*k``, when
    every name is bound to a size or to a named dimension of one scope.
    """
    parts: dict[str, str] = {}
    scopes: set[str | None] = set()
    for name in names_in(expr):
        value = bound.get(name, (None, 0))[0]
        if isinstance(value, int) and not isinstance(value, bool):
            parts[name] = str(value)
        elif isinstance(value, Sym) and value.scope is not None:
            parts[name] = value.name
            scopes.add(value.scope)
        else:
            return None
    if len(scopes) != 1:
        return None
    size = canonical(substitute(expr, parts))
    if isinstance(size, str):
        return Sym(size, scopes.pop())
    return size if size is not None and size >= 0 else None


def _expand_runs(typ: Type, runs: dict[str, tuple[Dim, ...]], shapes: Shapes) -> Type:
    """`typ` with the variadic runs bound at a call (``*b``) spelled out."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        args: list[Type] = []
        for arg in t.args:
            name = _run_name(arg)
            if name in runs:
                args.extend(shapes.dim_type(d) for d in runs[name])
            else:
                args.append(arg)
        return t.copy_modified(args=args)
    if isinstance(t, Instance):
        return t.copy_modified(args=[_expand_runs(a, runs, shapes) for a in t.args])
    if isinstance(t, TupleType):
        return t.copy_modified(items=[_expand_runs(i, runs, shapes) for i in t.items])
    return typ


def _run_name(arg: Type) -> str | None:
    """The name of the variadic run (``*b``) that a type argument of ``Array`` is."""
    t = get_proper_type(arg)
    if not isinstance(t, UnpackType):
        return None
    inner = get_proper_type(t.type)
    if not isinstance(inner, Instance) or not inner.args:
        return None
    tag = tag_of(get_proper_type(inner.args[0]))
    return tag[1] if tag is not None and tag[0] == "star" else None


def _trial(
    pending: _Pending, ctx: FunctionContext | MethodContext
) -> tuple[CallableType, CallableType, set[str]] | None:
    """The variant whose call mypy is checking: the one that gave the result."""
    if len(pending.items) == 1:
        return pending.items[0]
    for item in pending.items:
        if item[1].ret_type is ctx.default_return_type:
            return item
    names = list(ctx.callee_arg_names)
    for item in pending.items:
        if item[1].arg_names == names and _fits(item[1], ctx):
            return item
    return None


def _agreeing_variant(
    pending: _Pending,
    ctx: FunctionContext | MethodContext,
    exclude: tuple[CallableType, CallableType, set[str]],
) -> tuple[CallableType, CallableType, set[str]] | None:
    """The first other variant that the arguments fit and whose sizes agree."""
    for item in pending.items:
        if item is exclude or not _fits(item[1], ctx):
            continue
        sig, _, scopes = item
        if not _bind(sig, _actual_formals(sig, ctx), scopes, "").errors:
            return item
    return None


def _actuals(
    ctx: FunctionContext | MethodContext,
) -> list[tuple[Expression, Type, ArgKind, str | None]]:
    """The call's arguments, once each, in the order they are given."""
    seen: set[int] = set()
    out = []
    for exprs, types, kinds, names in zip(
        ctx.args, ctx.arg_types, ctx.arg_kinds, ctx.arg_names, strict=False
    ):
        for expr, typ, kind, name in zip(exprs, types, kinds, names, strict=False):
            if id(expr) not in seen:
                seen.add(id(expr))
                out.append((expr, typ, kind, name))
    return sorted(out, key=lambda a: (a[0].line, a[0].column))


def _mapping(
    sig: CallableType, ctx: FunctionContext | MethodContext
) -> tuple[list[tuple[Expression, Type, ArgKind, str | None]], list[list[int]]]:
    actuals = _actuals(ctx)
    return actuals, map_actuals_to_formals(
        [a[2] for a in actuals],
        [a[3] for a in actuals],
        sig.arg_kinds,
        sig.arg_names,
        lambda i: actuals[i][1],
    )


def _actual_formals(
    sig: CallableType, ctx: FunctionContext | MethodContext
) -> list[tuple[Type, Type, Expression]]:
    """(formal type, argument type, argument) of `sig`'s formals given one argument."""
    actuals, to_actual = _mapping(sig, ctx)
    return [
        (sig.arg_types[k], actuals[found[0]][1], actuals[found[0]][0])
        for k, found in enumerate(to_actual)
        if len(found) == 1
    ]


def _fits(relaxed: CallableType, ctx: FunctionContext | MethodContext) -> bool:
    """Whether the call's arguments fit `relaxed` as mypy checks them, sizes aside."""
    actuals, to_actual = _mapping(relaxed, ctx)
    used = {i for found in to_actual for i in found}
    if len(used) != len(actuals):
        return False
    for k, found in enumerate(to_actual):
        if not found and relaxed.arg_kinds[k].is_required():
            return False
        formal = erase_typevars(relaxed.arg_types[k])
        for i in found:
            if actuals[i][2] in (ARG_STAR, ARG_STAR2):
                continue
            if not is_subtype(actuals[i][1], formal):
                return False
    return True


def _solve(
    text: str, size: Dim, values: dict[str, int], bound: dict[str, tuple[Dim, int]]
) -> bool:
    """Bind the one unbound name of the arithmetic `text` to what makes it `size`.

    False where no size of the name does (``2*d`` given 7, ``n+1`` given 0).
    """
    if isinstance(size, Sym) and size.scope is not None:
        _solve_symbolic(text, size, bound)
        return True
    free = [n for n in names_in(text) if n not in values]
    if len(free) != 1 or not isinstance(size, int):
        return True
    at = [evaluate(text, {**values, free[0]: x}) for x in (0, 1, 2)]
    if at[0] is None or at[1] is None or at[2] is None:
        return True
    slope = at[1] - at[0]
    if not slope or at[2] - at[1] != slope:
        return True
    if (size - at[0]) % slope or (size - at[0]) // slope < 0:
        return False
    values[free[0]] = (size - at[0]) // slope
    bound[free[0]] = (values[free[0]], 0)
    return True


def _solve_symbolic(text: str, size: Sym, bound: dict[str, tuple[Dim, int]]) -> None:
    """Bind the one unbound name of `text` from the caller's named dimension `size`.

    ``2*n`` given the caller's ``2*k`` binds ``n`` to ``k``, when the other names
    are bound to sizes or to the caller's named dimensions of the same scope.
    """
    parts: dict[str, str] = {}
    free: list[str] = []
    for name in names_in(text):
        value = bound.get(name, (None, 0))[0]
        if isinstance(value, int) and not isinstance(value, bool):
            parts[name] = str(value)
        elif isinstance(value, Sym) and value.scope == size.scope:
            parts[name] = value.name
        elif value is None and name not in bound:
            free.append(name)
        else:
            return
    if len(free) != 1:
        return
    found = solve_for(substitute(text, parts), free[0], size.name)
    if isinstance(found, str):
        bound[free[0]] = (Sym(found, size.scope), 0)
    elif found is not None and found >= 0:
        bound[free[0]] = (found, 0)


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
    """The shape of an array type, also of an optional one (``Array[b, d] | None``)."""
    t = get_proper_type(typ)
    if isinstance(t, UnionType):
        arrays = [i for i in t.items if not isinstance(get_proper_type(i), NoneType)]
        return _array_dims(arrays[0]) if len(arrays) == 1 else None
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return tuple(instance_dims(t, None))
    return None


def array_dims_or_optional(typ: Type) -> tuple[Dim, ...] | None:
    """The shape a parameter declares, if it is a jax array or an optional one."""
    return _array_dims(typ)


def _has_star(dims: tuple[Dim, ...]) -> bool:
    return any(isinstance(d, Star) for d in dims)


def _named_run(sig: CallableType) -> bool:
    """Whether a parameter of `sig` has a named variadic run (``"*batch d"``).

    The plugin binds a run at each call, also where every other name of the
    callee is rigid at the call (a method of `self` whose other names are its
    class's).
    """
    return any(
        isinstance(d, Star) and d.name is not None
        for t in sig.arg_types
        for d in _array_dims(t) or ()
    )


def _show(dims: tuple[Dim, ...]) -> str:
    return "f32[" + ",".join(render_dim(_shown(d)) for d in dims) + "]"


def _shown(d: Dim) -> Dim:
    """`d` as a message writes it: a mapped axis not bound is of unknown size."""
    return None if isinstance(d, Sym) and is_vmap_axis(d.name) else d


def _unbind_mapped_axes(binding: _Binding) -> None:
    """Leave unknown the mapped axes of a call whose arguments disagree."""
    for name in [n for n in binding.bound if is_vmap_axis(n)]:
        del binding.bound[name]


def _show_run(dims: tuple[Dim, ...]) -> str:
    return "[" + ",".join(render_dim(d) for d in dims) + "]"


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
        return _instances.sized_class(node) or (
            init is not None and names_dimensions(init.node)
        )
    typ = node.type if isinstance(node, FuncBase | Var) else None
    if typ is None:
        return False
    return any(
        isinstance(tv, TypeVarType) and tv.id.namespace.startswith(RIGID)
        for tv in get_all_type_vars(typ)
    )


def forget_attribute(ctx: AttributeContext, owner: TypeInfo) -> Type:
    """A field of the class `owner`: its named dimensions rigid on `self` only.

    In the class's methods a field read on `self` has the class's dimensions;
    another instance (``other.w``) has sizes of its own, and so has a field read
    outside the class. A value assigned to a field on `self` in a method keeps
    those of the class's dimensions that the method's parameters name (``self.a
    = jnp.zeros((rank, y))`` in an ``__init__(self, weight: "x y", ...)`` for an
    ``a: "x z"`` is an error); the others are the value's, as elsewhere.
    """
    typ = ctx.default_attr_type
    scopes = in_scope(ctx.api)
    here = _reading_class(ctx.api, owner) if _reads_self(ctx.context) else None
    object_type = ctx.api.named_generic_type("builtins.object", [])
    names = set(class_dimensions(owner))
    if ctx.is_lvalue:
        kept = _named_by_method(ctx.api, here) & names if here is not None else set()
        scope = here.fullname if here is not None else owner.fullname
        typ = _class_dims(typ, kept, scope, object_type)
        typ = _class_dims(typ, names - kept, None, object_type)
        return _forget(typ, _foreign(typ, {scope} if kept else set()))
    if here is None:
        scopes.discard(owner.fullname)
        sized = _instances.given(ctx.type, scopes, owner)
        if sized is not None:
            # ``m.w`` of an instance that carries the sizes it was built with.
            int_type = ctx.api.named_generic_type("builtins.int", [])
            typ = _instances.fill(typ, sized[0], int_type, object_type)
        read = _parameter_read(ctx.api, ctx.context)
        if read is not None:
            return _parameter_field(typ, names, *read, scopes, object_type)
    typ = _class_dims(
        typ, names, here.fullname if here is not None else None, object_type
    )
    return _forget(typ, _foreign(typ, scopes))


def _parameter_read(
    api: CheckerPluginInterface, node: Context
) -> tuple[FuncDef, str] | None:
    """The function whose parameter `node` reads a field of, and the path read.

    ``params.w`` or ``params.emissions.weights`` in a function (or a function
    nested in it) of a parameter ``params`` that its body never binds again: the
    fields read off it are those of one value all along. None otherwise.
    """
    if not isinstance(api, TypeChecker) or not isinstance(node, MemberExpr):
        return None
    path: list[str] = []
    base = node.expr
    while isinstance(base, MemberExpr):
        path.append(base.name)
        base = base.expr
    if not isinstance(base, NameExpr) or not isinstance(base.node, Var):
        return None
    var = base.node
    for item in reversed(api.scope.stack):
        if isinstance(item, FuncDef) and any(a.variable is var for a in item.arguments):
            kind = _class_of(item, var)
            alike = [a for a in item.arguments if _class_of(item, a.variable) is kind]
            if item.fullname == "" or kind is None or len(alike) > 1:
                return None  # two values of one class may differ in their sizes
            if rebinds(item, var):
                return None
            return item, ".".join([base.name, *reversed(path)])
    return None


def _class_of(function: FuncDef, var: Var) -> TypeInfo | None:
    """The class of the parameter `var` of `function` (None: not one of a class)."""
    if var.is_self:
        return function.info if function.info is not None else None
    t = get_proper_type(var.type) if var.type is not None else None
    if isinstance(t, TupleType):
        return t.partial_fallback.type
    return t.type if isinstance(t, Instance) else None


def _parameter_field(
    typ: Type,
    names: set[str],
    function: FuncDef,
    path: str,
    scopes: set[str],
    object_type: Instance,
) -> Type:
    """A field read off the parameter `path` of `function`: its sizes are fixed.

    A name that the function's parameters name too is theirs (``params.w`` of
    ``"n d"`` in ``f(params, x: Float[Array, " n"])`` has the rows of ``x``), as a
    method shares its class's; another is a size of that value's own
    (`own_scope`), the same at every read of the path and no other size.
    """
    named: dict[str, str] = {}
    sig = function.type
    if isinstance(sig, CallableType):
        for arg in sig.arg_types:
            for tv in get_all_type_vars(arg):
                if isinstance(tv, TypeVarType) and tv.id.namespace.startswith(RIGID):
                    for n in names_in(tv.name):
                        named.setdefault(n, tv.id.namespace[len(RIGID) :])
    own = own_scope(function.fullname, path)
    groups: dict[str, set[str]] = {}
    for name in names:
        found = {named.get(n) for n in names_in(name)}
        scope = found.pop() if len(found) == 1 else None
        groups.setdefault(scope if scope is not None else own, set()).add(name)
    for scope, group in groups.items():
        typ = _class_dims(typ, group, scope, object_type)
    return _forget(typ, _foreign(typ, scopes | set(groups)))


def own_scope(function: str, path: str) -> str:
    """The scope of the sizes of the value that `function`'s parameter `path` holds.

    It is rigid wherever `function` is (`in_scope`).

    >>> own_scope("m.f", "params.initial")
    'm.f@params.initial'
    """
    return f"{function}@{path}"


def _reading_class(api: CheckerPluginInterface, owner: TypeInfo) -> TypeInfo | None:
    """The class being checked whose `self` has the fields of `owner` (None: none).

    `owner` itself, or a subclass: a field declared in a base class is read on a
    subclass's `self` with the subclass's dimensions, which its methods name.
    """
    if not isinstance(api, TypeChecker):
        return None
    here = api.scope.current_class()
    if here is None or not here.has_base(owner.fullname):
        return None
    return here


def _named_by_method(api: CheckerPluginInterface, owner: TypeInfo) -> set[str]:
    """The dimensions of the class `owner` that the method being checked names."""
    function = api.scope.current_function() if isinstance(api, TypeChecker) else None
    sig = function.type if function is not None else None
    if not isinstance(sig, CallableType):
        return set()
    namespace = RIGID + owner.fullname
    return {
        tv.name
        for t in sig.arg_types
        for tv in get_all_type_vars(t)
        if isinstance(tv, TypeVarType) and tv.id.namespace == namespace
    }


def _class_dims(
    typ: Type, names: set[str], scope: str | None, object_type: Instance
) -> Type:
    """`typ` with the free dimensions `names` rigid in `scope` (None: unknown)."""
    t = get_proper_type(typ)
    if isinstance(t, Instance):
        return t.copy_modified(
            args=[_class_dims(a, names, scope, object_type) for a in t.args]
        )
    if isinstance(t, TupleType):
        return t.copy_modified(
            items=[_class_dims(i, names, scope, object_type) for i in t.items]
        )
    if isinstance(t, UnionType):
        return UnionType(
            [_class_dims(i, names, scope, object_type) for i in t.items], t.line
        )
    if isinstance(t, UnpackType):
        return UnpackType(_class_dims(t.type, names, scope, object_type))
    tag = tag_of(t)
    if tag is None or tag[0] != "dim" or tag[1] not in names:
        return typ
    if scope is None:
        return AnyType(TypeOfAny.special_form)
    return rigid_type(Sym(tag[1], scope), object_type)


def _reads_self(node: Context) -> bool:
    """Whether `node` reads an attribute of a method's ``self``."""
    return (
        isinstance(node, MemberExpr)
        and isinstance(node.expr, NameExpr)
        and isinstance(node.expr.node, Var)
        and node.expr.node.is_self
    )


def instantiate_pending(env: Env, ctx: FunctionContext) -> Type:
    """The result of a call that `relax_constructor` relaxed; others as mypy has it.

    A value called at once (``jax.vmap(f, in_axes=(0, None))(xs, w)``) gets no
    signature hook: mypy infers `f`'s named dimensions itself, and where an
    argument gives one two sizes, its "Cannot infer value of type parameter" is
    replaced by the plugin's ``[shape]`` error naming them.
    """
    pending = _PENDING.get(id(ctx.context))
    if pending is None or pending.context is not ctx.context:
        return _called_value(env, ctx)
    return instantiate(env, ctx)


def _called_value(env: Env, ctx: FunctionContext) -> Type:
    """A call of a value whose type variables are named dimensions, checked again."""
    api = ctx.api
    call = ctx.context
    if not isinstance(api, TypeChecker) or not isinstance(call, CallExpr):
        return ctx.default_return_type
    if not isinstance(call.callee, CallExpr):
        return ctx.default_return_type
    # mypy keeps the callee's type with its variables inferred: make it again.
    with api.msg.filter_errors():
        callee = get_proper_type(api.expr_checker.accept(call.callee))
    if not isinstance(callee, CallableType):
        return ctx.default_return_type
    sig = _unbind_dimensions(callee)
    shapes = env.shapes()
    if sig is callee or shapes is None or shapes.object_type is None:
        return ctx.default_return_type
    scopes = in_scope(api)
    name = callee.name or "the call"
    formals = _known(ctx, _actual_formals(sig, ctx))
    binding = _bind(sig, formals, scopes, name)
    if not binding.errors:
        # The plugin's binding, as for a value kept in a name: an argument of
        # unknown size (a key array) leaves a size another argument gives. mypy
        # infers a mapped axis from the declared return first, and then names an
        # argument that fits the binding: that error is not reported.
        for formal, actual, expr in formals:
            expected = _bound_result(formal, scopes, binding, shapes)
            if not foreign(api, [expected]) and is_subtype(actual, expected):
                replace_error(api, expr, "arg-type")
        return _bound_result(sig.ret_type, scopes, binding, shapes)
    for message, where in binding.errors:
        report(api, message, where)
    replace_error(api, call, "misc")
    for where in call.args:
        # mypy, inferring a mapped axis from the declared return, names an
        # argument instead; the plugin's error names the dimension.
        replace_error(api, where, "arg-type")
    # A mapped axis bound by arguments that disagree is left unknown.
    _unbind_mapped_axes(binding)
    return _bound_result(sig.ret_type, scopes, binding, shapes)


def carries_symbols(info: TypeInfo) -> bool:
    """Whether annotations inside the class `info` name dimensions."""
    return bool(class_dimensions(info))


def class_dimensions(info: TypeInfo) -> list[str]:
    """The dimensions that the fields of the class `info` name."""
    names = info.metadata.get(CLASS_DIMS, {}).get("names", [])
    return [str(n) for n in names] if isinstance(names, list) else []


def check_partial(ctx: FunctionContext) -> None:
    """``functools.partial(f, ...)``: the arguments it binds, checked as a call of `f`.

    mypy checks the arguments against `f`'s signature, whose named dimensions are
    its type variables: where two arguments give one name two sizes, its "Cannot
    infer value of type parameter" is replaced by the plugin's ``[shape]`` error
    naming them (arguments counted as `f`'s parameters).
    """
    api = ctx.api
    if not isinstance(api, TypeChecker) or not ctx.arg_types or not ctx.arg_types[0]:
        return
    fun = get_proper_type(ctx.arg_types[0][0])
    if not isinstance(fun, CallableType) or fun.is_type_obj():
        return
    sig = _unbind_dimensions(fun)
    if sig is fun:
        return
    given: dict[int, tuple[Type, Type, Expression]] = {}
    position = 0
    groups = zip(
        ctx.arg_types[1:],
        ctx.arg_kinds[1:],
        ctx.arg_names[1:],
        ctx.args[1:],
        strict=False,
    )
    for types, kinds, names, exprs in groups:
        for typ, kind, name, expr in zip(types, kinds, names, exprs, strict=True):
            if kind == ARG_POS and name is None:
                k = position
                position += 1
            elif kind == ARG_NAMED and name in sig.arg_names:
                k = sig.arg_names.index(name)
            else:
                return
            if k >= len(sig.arg_types) or sig.arg_kinds[k] == ARG_STAR:
                return
            given[k] = (sig.arg_types[k], typ, expr)
    if not given:
        return
    # Unbound parameters hold their places, so that messages count as `f` does.
    unbound: tuple[Type, Type, Expression] = (
        AnyType(TypeOfAny.special_form),
        AnyType(TypeOfAny.special_form),
        ctx.args[0][0],
    )
    triples = [given.get(k, unbound) for k in range(max(given) + 1)]
    scopes = in_scope(api)
    binding = _bind(sig, _known(ctx, triples), scopes, fun.name or "the function")
    if not binding.errors:
        return
    for message, where in binding.errors:
        report(api, message, where)
    replace_error(api, ctx.context, "misc")
