"""Shape rules of jax operations: array methods, ``jax.numpy``, ``vmap``, ``scan``.

Each rule computes the result's shape from its operands' with the rules of
`._shapes`, reports a ``[shape]`` error when they cannot agree, and otherwise leaves
mypy's own answer where it models nothing.
"""

import itertools
from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

from mypy.checker import TypeChecker
from mypy.erasetype import remove_instance_last_known_values
from mypy.expandtype import expand_type
from mypy.nodes import (
    ARG_NAMED,
    ARG_NAMED_OPT,
    ARG_OPT,
    ARG_POS,
    ARG_STAR,
    ARG_STAR2,
    AssignmentExpr,
    AssignmentStmt,
    CallExpr,
    ComparisonExpr,
    ConditionalExpr,
    Context,
    Decorator,
    DelStmt,
    Expression,
    ExpressionStmt,
    FloatExpr,
    ForStmt,
    FuncItem,
    IfStmt,
    IndexExpr,
    IntExpr,
    LambdaExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    OperatorAssignmentStmt,
    OpExpr,
    RefExpr,
    ReturnStmt,
    SliceExpr,
    StarExpr,
    Statement,
    StrExpr,
    TupleExpr,
    UnaryExpr,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import (
    AttributeContext,
    CheckerPluginInterface,
    FunctionContext,
    MethodContext,
)
from mypy.plugins.functools import partial_call_callback
from mypy.subtypes import find_member
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    Overloaded,
    TupleType,
    Type,
    TypeOfAny,
    UnionType,
    get_proper_type,
)

from . import _lambdas, _messages
from ._bindings import blocks_of, bound_once
from ._calls import array_dims_or_optional, in_scope
from ._eqx_layers import mapped_call, plain_call
from ._indexing import (
    assignments_of,
    fn_top_k,
    is_none,
    number_bindings,
    slice_bounds,
    sole_assignment,
)
from ._instances import sized_call
from ._morphisms import signature
from ._names import PADDED_LIST, PARA, PARTIAL, VMAP_AXIS, VMAPS
from ._shapes import (
    Arr,
    Dim,
    Mismatch,
    Star,
    Sym,
    broadcast,
    canonical,
    concatenate,
    einsum,
    expand_dims,
    known_size,
    matmul,
    moveaxis,
    names_in,
    polynomial,
    ravel,
    render,
    render_dim,
    reshape,
    show_polynomial,
    squeeze,
    stack,
    swapaxes,
    tensordot,
)
from ._types import (
    ARRAY_CLASS,
    Env,
    array_dims,
    callee_name,
    fold,
    fold_bool,
    fold_shape,
    given_arguments,
    operand_dims,
    report,
    rigid_type,
    space_of,
    star,
)


def array_matmul(env: Env, ctx: MethodContext, *, reverse: bool) -> Type:
    this = array_dims(ctx.type)
    given = ctx.arg_types[0] if ctx.arg_types else []
    other = array_dims(given[0]) if given else None
    if this is None or other is None:
        return ctx.default_return_type
    left, right = (other, this) if reverse else (this, other)
    try:
        return env.array(matmul(left, right), ctx.default_return_type)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, "matmul", _pair(left, right, why))


def array_broadcast(env: Env, ctx: MethodContext) -> Type:
    this = array_dims(ctx.type)
    if this is None or not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    other = operand_dims(ctx.arg_types[0][0])
    if other is None and ctx.args and ctx.args[0] and number(ctx.api, ctx.args[0][0]):
        other = ()
    if other is None:
        return ctx.default_return_type
    try:
        return env.array(broadcast(this, other), ctx.default_return_type)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, "broadcast", str(why))


_NUMBER_OPS: Final = ("+", "-", "*", "/", "//", "%", "**")
_NUMBER_CALLS: Final = ("builtins.len", "builtins.int", "builtins.float")


def number(api: CheckerPluginInterface, expr: Expression, depth: int = 0) -> bool:
    """Whether the program shows `expr` to be a Python number (of no shape).

    Literals, sizes read off a shape, ``len``, arithmetic of numbers, a name of
    type ``int``/``float`` or bound once to a number. mypy types ``d ** -0.5`` as
    ``Any`` (a negative base gives a complex): ``q * (q.shape[-1] ** -0.5)``, the
    attention scale, is still ``q``'s shape.

    >>> number(None, IntExpr(3))
    True
    """
    if depth > 8:
        return False
    if isinstance(expr, IntExpr | FloatExpr):
        return True
    if isinstance(expr, UnaryExpr) and expr.op in ("-", "+"):
        return number(api, expr.expr, depth + 1)
    if isinstance(expr, OpExpr) and expr.op in _NUMBER_OPS:
        return number(api, expr.left, depth + 1) and number(api, expr.right, depth + 1)
    if isinstance(expr, ConditionalExpr):
        return number(api, expr.if_expr, depth + 1) and number(
            api, expr.else_expr, depth + 1
        )
    if isinstance(expr, IndexExpr):
        base = expr.base
        return isinstance(base, MemberExpr) and base.name == "shape"
    if isinstance(expr, CallExpr):
        callee = expr.callee
        return isinstance(callee, RefExpr) and callee.fullname in _NUMBER_CALLS
    if not isinstance(expr, NameExpr) or not isinstance(api, TypeChecker):
        return False
    if api.has_type(expr) and _numeric(api.lookup_type(expr)):
        return True
    var = expr.node
    if not isinstance(var, Var):
        return False
    # Each value the name is given is a number: a parameter of type ``float |
    # None`` re-bound to ``d ** -0.5`` where it is None, say.
    stmts = number_bindings(api, var)
    if not stmts or (var.is_argument and not _numeric_parameter(api, var)):
        return False
    return all(
        len(s.lvalues) == 1
        and isinstance(s.lvalues[0], NameExpr)
        and number(api, s.rvalue, depth + 1)
        for s in stmts
    )


def _numeric_parameter(api: TypeChecker, var: Var) -> bool:
    """Whether the parameter `var` is declared a number (or None)."""
    function = api.scope.current_function()
    sig = function.type if function is not None else None
    if function is None or not isinstance(sig, CallableType):
        return False
    for argument, declared in zip(function.arguments, sig.arg_types, strict=False):
        if argument.variable is var:
            return _numeric(declared, optional=True)
    return False


def _numeric(typ: Type | None, *, optional: bool = False) -> bool:
    """Whether `typ` is ``int``, ``float`` or a literal of them (None: `optional`)."""
    t = get_proper_type(typ)
    if isinstance(t, UnionType):
        return all(_numeric(i, optional=optional) for i in t.items)
    if optional and isinstance(t, NoneType):
        return True
    if isinstance(t, LiteralType):
        return isinstance(t.value, int | float)
    return isinstance(t, Instance) and t.type.fullname in (
        "builtins.int",
        "builtins.float",
    )


def broadcast_fn(env: Env, ctx: FunctionContext | MethodContext, fullname: str) -> Type:
    shapes = [operand_dims(ts[0]) for ts in ctx.arg_types[:2] if len(ts) == 1]
    if len(shapes) != 2 or shapes[0] is None or shapes[1] is None:
        return ctx.default_return_type
    try:
        return env.array(broadcast(shapes[0], shapes[1]), ctx.default_return_type)
    except Mismatch as why:
        name = fullname.rsplit(".", 1)[-1]
        return env.fail(ctx.api, ctx.context, name, str(why))


def fn_where(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.where(condition, x, y)``: the three shapes broadcast together.

    An operand of any shape leaves the result of any shape, and the other two are
    still broadcast together.
    """
    if len(ctx.arg_types) != 3 or any(len(ts) != 1 for ts in ctx.arg_types):
        return ctx.default_return_type  # ``jnp.where(condition)``: indices
    shapes = [operand_dims(ts[0]) for ts in ctx.arg_types]
    return _broadcast_all(env, ctx, "where", shapes)


def _broadcast_all(
    env: Env, ctx: FunctionContext, name: str, shapes: list[tuple[Dim, ...] | None]
) -> Type:
    """The result of `name`: `shapes` broadcast together (None: of any shape).

    An operand of any shape leaves the result of any shape; the others are still
    broadcast together.
    """
    try:
        out: tuple[Dim, ...] = ()
        for shape in shapes:
            if shape is not None:
                out = broadcast(out, shape)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, name, str(why))
    if any(shape is None for shape in shapes):
        return ctx.default_return_type
    return env.array(out, ctx.default_return_type)


def reduce_fn(env: Env, ctx: FunctionContext) -> Type:
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    return reduce(env, ctx, array_dims(ctx.arg_types[0][0]), 1)


# Arguments of reductions that change their values, not their shapes.
_SHAPE_FREE: Final = frozenset(
    "dtype out where initial ddof ord overwrite_input".split()
)


def reduce(
    env: Env,
    ctx: FunctionContext | MethodContext,
    dims: tuple[Dim, ...] | None,
    first: int,
) -> Type:
    """``x.sum(axis=…, keepdims=…)`` and the like: the axes reduced away.

    Of a shape with a variadic run (``"*b d"``), only axes right of the run,
    counted from the end (``axis=-1``), are reduced; others give any shape.
    """
    if dims is None:
        return ctx.default_return_type
    axes: list[int | None] | None = None
    keep = False
    for formal, exprs in zip(
        ctx.callee_arg_names[first:], ctx.args[first:], strict=False
    ):
        if not exprs:
            continue
        if formal == "axis":
            value = exprs[0]
            if isinstance(value, NameExpr) and value.fullname == "builtins.None":
                continue
            axes = fold_shape(value)
            if axes is None or any(a is None for a in axes):
                return ctx.default_return_type
        elif formal == "keepdims":
            flag = fold_bool(exprs[0])
            if flag is None:
                return ctx.default_return_type
            keep = flag
        elif formal not in _SHAPE_FREE:
            return ctx.default_return_type
    rank = len(dims)
    if star(dims):
        tail = rank - 1 - next(k for k, d in enumerate(dims) if isinstance(d, Star))
        if axes is None or any(a is None or not -tail <= a < 0 for a in axes):
            return ctx.default_return_type
    if axes is None:
        chosen = set(range(rank))
    else:
        known = [a for a in axes if a is not None]
        if any(not -rank <= a < rank for a in known):
            return ctx.default_return_type
        chosen = {a % rank for a in known}
    out = (
        [1 if k in chosen else d for k, d in enumerate(dims)]
        if keep
        else [d for k, d in enumerate(dims) if k not in chosen]
    )
    return env.array(out, ctx.default_return_type)


def array_reshape(env: Env, ctx: MethodContext) -> Type:
    this = array_dims(ctx.type)
    exprs = [e for group in ctx.args for e in group]
    kinds = [k for group in ctx.arg_kinds for k in group]
    names = [n for group in ctx.arg_names for n in group]
    positional = [
        StarExpr(e) if k == ARG_STAR else e
        for e, k, n in zip(exprs, kinds, names, strict=False)
        if k in (ARG_POS, ARG_STAR) and n is None
    ]
    if this is None or not positional:
        return ctx.default_return_type
    target = shape_target(
        ctx.api,
        positional[0] if len(positional) == 1 else TupleExpr(positional),
        runs=True,
    )
    return reshaped(env, ctx.api, ctx.context, this, target, ctx.default_return_type)


def size_target(api: CheckerPluginInterface, expr: Expression) -> Dim:
    """A size given to ``reshape`` or ``jnp.zeros``, when it is known statically.

    An int, ``y.shape[i]`` of a shaped `y`, or their sum, difference or product
    (``x.shape[1] + 1``).
    """
    value = fold(expr)
    if value is not None:
        return value
    if isinstance(expr, OpExpr) and expr.op in ("+", "-", "*"):
        return _arithmetic(
            size_target(api, expr.left), expr.op, size_target(api, expr.right)
        )
    if (
        isinstance(expr, IndexExpr)
        and isinstance(expr.base, MemberExpr)
        and expr.base.name == "shape"
        and isinstance(api, TypeChecker)
    ):
        index = fold(expr.index)
        dims = array_dims(api.lookup_type(expr.base.expr))
        if index is not None and dims is not None:
            return _axis_size(dims, index)
    if (
        isinstance(expr, NameExpr)
        and isinstance(expr.node, Var)
        and isinstance(api, TypeChecker)
    ):
        return _unpacked_size(api, expr.node)
    return None


def _axis_size(dims: Sequence[Dim], index: int) -> Dim:
    """The size of axis `index` of `dims` (None: unknown).

    Of a shape with a variadic run (``"*b t d"``), an axis left of the run, or
    right of it counted from the end (``x.shape[-2]`` is ``t``).
    """
    run = next((k for k, d in enumerate(dims) if isinstance(d, Star)), None)
    if run is None:
        return dims[index] if -len(dims) <= index < len(dims) else None
    if 0 <= index < run or -(len(dims) - run - 1) <= index < 0:
        return dims[index]
    return None


def _unpacked_size(api: TypeChecker, var: Var) -> Dim:
    """The size a local name was given once from a shape (None: unknown).

    ``b, t, d = x.shape`` gives `t` the size of ``x``'s second axis, and
    ``n = x.shape[0]`` the size of its first. A name given a size by several such
    assignments (``b, s, h, d = q.shape`` then ``b, t, g, d = k.shape``) has it
    when they all give the same.
    """
    found = assignments_of(api, var)
    sizes = [_assigned_size(api, stmt, var) for stmt in found]
    if not sizes or sizes[0] is None or any(s != sizes[0] for s in sizes[1:]):
        return None
    return sizes[0]


def _assigned_size(api: TypeChecker, stmt: AssignmentStmt, var: Var) -> Dim:
    """The size that the assignment `stmt` gives `var` from a shape (None: none)."""
    if len(stmt.lvalues) != 1:
        return None
    lvalue, rvalue = stmt.lvalues[0], stmt.rvalue
    if isinstance(lvalue, NameExpr):
        shaped = (
            isinstance(rvalue, IndexExpr)
            and isinstance(rvalue.base, MemberExpr)
            and api.has_type(rvalue.base.expr)
        )
        return size_target(api, rvalue) if shaped else None
    for item, d in _unpacked_shape(api, stmt):
        if isinstance(item, NameExpr) and item.node is var and not isinstance(d, list):
            return d
    return None


def _unpacked_shape(
    api: TypeChecker, stmt: AssignmentStmt
) -> list[tuple[Expression, Dim | list[Dim]]]:
    """The targets of ``b, t, d = x.shape`` with their sizes (none: another statement).

    A starred target (``*batch, t, d = x.shape``) takes the sizes it gathers, a
    variadic run among them (``"*b t d"``).
    """
    if len(stmt.lvalues) != 1:
        return []
    lvalue, rvalue = stmt.lvalues[0], stmt.rvalue
    if not isinstance(lvalue, TupleExpr | ListExpr):
        return []
    if not (isinstance(rvalue, MemberExpr) and rvalue.name == "shape"):
        return []
    if not api.has_type(rvalue.expr):
        return []
    dims = array_dims(api.lookup_type(rvalue.expr))
    if dims is None:
        return []
    items = lvalue.items
    stars = [k for k, item in enumerate(items) if isinstance(item, StarExpr)]
    run = next((k for k, d in enumerate(dims) if isinstance(d, Star)), None)
    if not stars:
        if run is not None or len(dims) != len(items):
            return []
        return list(zip(items, dims, strict=True))
    if len(stars) > 1:
        return []
    first, last = stars[0], len(items) - stars[0] - 1
    if run is not None and (first > run or last > len(dims) - run - 1):
        return []
    if first + last > len(dims):
        return []
    gathered: list[Dim] = list(dims[first : len(dims) - last])
    sizes: list[Dim | list[Dim]] = [
        *dims[:first],
        gathered,
        *dims[len(dims) - last :],
    ]
    targets = [item.expr if isinstance(item, StarExpr) else item for item in items]
    return list(zip(targets, sizes, strict=True))


def _starred_sizes(api: CheckerPluginInterface, expr: Expression) -> list[Dim] | None:
    """The sizes a name gathered from a shape (``*batch, t, d = x.shape``)."""
    if not (
        isinstance(api, TypeChecker)
        and isinstance(expr, NameExpr)
        and isinstance(expr.node, Var)
    ):
        return None
    stmt = sole_assignment(api, expr.node)
    function = api.scope.current_function()
    if stmt is None or function is None or _changed_in_place(function, expr.node):
        return None
    for item, d in _unpacked_shape(api, stmt):
        if isinstance(item, NameExpr) and item.node is expr.node:
            return d if isinstance(d, list) else None
    return None


def _changed_in_place(function: FuncItem, var: Var) -> bool:
    """Whether `function` may change the list `var` in place.

    A starred target is a list: ``*batch, d = x.shape`` then ``batch.append(1)``,
    ``batch[0] = 1`` or ``del batch[-1]`` give it other sizes than those it
    gathered. Any method read on it counts.

    >>> from mypy.nodes import Block, ExpressionStmt, FuncDef
    >>> batch = Var("batch")
    >>> name = NameExpr("batch")
    >>> name.node = batch
    >>> call = CallExpr(MemberExpr(name, "append"), [], [], [])
    >>> _changed_in_place(FuncDef("f", [], Block([ExpressionStmt(call)])), batch)
    True
    >>> _changed_in_place(FuncDef("f", [], Block([])), batch)
    False
    """
    return any(_changes(stmt, var) for stmt in function.body.body)


def _changes(stmt: Statement, var: Var) -> bool:
    """Whether `stmt`, or a statement in its blocks, may change the list `var`."""
    if isinstance(stmt, AssignmentStmt | OperatorAssignmentStmt):
        targets = stmt.lvalues if isinstance(stmt, AssignmentStmt) else [stmt.lvalue]
        if any(_item_of(t, var) for t in targets):
            return True
    if isinstance(stmt, DelStmt) and _item_of(stmt.expr, var):
        return True
    if isinstance(stmt, FuncItem):
        return any(_changes(s, var) for s in stmt.body.body)
    if isinstance(stmt, Decorator):
        return any(_changes(s, var) for s in stmt.func.body.body)
    if any(_method_of(e, var) for e in _expressions_of(stmt)):
        return True
    return any(_changes(s, var) for b in blocks_of(stmt) for s in b.body)


def _expressions_of(stmt: Statement) -> list[Expression]:
    """The expressions a statement holds itself (not those of its blocks)."""
    if isinstance(stmt, AssignmentStmt):
        return [*stmt.lvalues, stmt.rvalue]
    if isinstance(stmt, OperatorAssignmentStmt):
        return [stmt.lvalue, stmt.rvalue]
    if isinstance(stmt, ExpressionStmt):
        return [stmt.expr]
    if isinstance(stmt, ReturnStmt) and stmt.expr is not None:
        return [stmt.expr]
    if isinstance(stmt, IfStmt):
        return list(stmt.expr)
    if isinstance(stmt, WhileStmt):
        return [stmt.expr]
    if isinstance(stmt, ForStmt):
        return [stmt.index, stmt.expr]
    if isinstance(stmt, WithStmt):
        return list(stmt.expr)
    return []


def _method_of(expr: Expression | None, var: Var) -> bool:
    """Whether `expr` reads an attribute (a method) of the name `var` anywhere."""
    if expr is None:
        return False
    if isinstance(expr, MemberExpr):
        named = isinstance(expr.expr, NameExpr) and expr.expr.node is var
        return named or _method_of(expr.expr, var)
    if isinstance(expr, CallExpr):
        return _method_of(expr.callee, var) or any(
            _method_of(a, var) for a in expr.args
        )
    if isinstance(expr, OpExpr):
        return _method_of(expr.left, var) or _method_of(expr.right, var)
    if isinstance(expr, ComparisonExpr):
        return any(_method_of(e, var) for e in expr.operands)
    if isinstance(expr, IndexExpr):
        return _method_of(expr.base, var) or _method_of(expr.index, var)
    if isinstance(expr, TupleExpr | ListExpr):
        return any(_method_of(e, var) for e in expr.items)
    if isinstance(expr, StarExpr | UnaryExpr):
        return _method_of(expr.expr, var)
    if isinstance(expr, ConditionalExpr):
        parts = (expr.cond, expr.if_expr, expr.else_expr)
        return any(_method_of(e, var) for e in parts)
    if isinstance(expr, AssignmentExpr):
        return _method_of(expr.value, var)
    if isinstance(expr, LambdaExpr):
        return _method_of(expr.expr(), var)
    return False


def _item_of(target: Expression, var: Var) -> bool:
    """Whether the target `target` is an item or slice of the name `var`."""
    if isinstance(target, IndexExpr):
        return isinstance(target.base, NameExpr) and target.base.node is var
    if isinstance(target, TupleExpr | ListExpr):
        return any(_item_of(t, var) for t in target.items)
    if isinstance(target, StarExpr):
        return _item_of(target.expr, var)
    return False


def shape_target(
    api: CheckerPluginInterface, expr: Expression, *, runs: bool = False
) -> list[Dim] | None:
    """The shape given to ``reshape`` or ``jnp.zeros`` as one argument (None: unknown).

    A tuple or a list of sizes (``*y.shape[:-1]`` among them), a size, ``y.shape``
    of a shaped `y`, a slice of it with constant bounds (``y.shape[1:]``), and
    tuples of these joined with ``+`` (``y.shape[:-1] + (4,)``). With `runs`, the
    shape of a variadic `y` (``"*b t d"``) and its slices that keep the run whole
    (``y.shape[:-1]`` is ``[*b, t]``) give a shape with that run, at most one.
    """
    out = _shape_target(api, expr, runs)
    if out is not None and sum(isinstance(d, Star) for d in out) > 1:
        return None
    return out


def _shape_target(
    api: CheckerPluginInterface, expr: Expression, runs: bool
) -> list[Dim] | None:
    if isinstance(expr, TupleExpr | ListExpr):
        out: list[Dim] = []
        for item in expr.items:
            if isinstance(item, StarExpr):
                run = _shape_sequence(api, item.expr, runs)
                if run is None:
                    return None
                out.extend(run)
            else:
                out.append(size_target(api, item))
        return out
    run = _shape_sequence(api, expr, runs)
    if run is not None:
        return run
    value = size_target(api, expr)
    return None if value is None else [value]


def _shape_sequence(
    api: CheckerPluginInterface, expr: Expression, runs: bool
) -> list[Dim] | None:
    """The sizes of a tuple-valued `expr`: literal, ``y.shape``, a slice, a sum."""
    if isinstance(expr, TupleExpr | ListExpr):
        return _shape_target(api, expr, runs)
    gathered = _starred_sizes(api, expr)
    if gathered is not None:
        return gathered if runs or not star(gathered) else None
    if isinstance(expr, OpExpr) and expr.op == "+":
        left = _shape_sequence(api, expr.left, runs)
        right = _shape_sequence(api, expr.right, runs)
        return None if left is None or right is None else left + right
    index: SliceExpr | None = None
    if isinstance(expr, IndexExpr) and isinstance(expr.index, SliceExpr):
        index = expr.index
        expr = expr.base
    if not (
        isinstance(expr, MemberExpr)
        and expr.name == "shape"
        and isinstance(api, TypeChecker)
    ):
        return None
    dims = array_dims(api.lookup_type(expr.expr))
    if dims is None or (star(dims) and not runs):
        return None
    bounds = (None, None, None) if index is None else slice_bounds(index)
    if bounds is None or bounds[2] == 0:
        return None
    if star(dims):
        return _sliced_run(dims, bounds)
    return list(dims[slice(*bounds)])


def _sliced_run(
    dims: Sequence[Dim], bounds: tuple[int | None, int | None, int | None]
) -> list[Dim] | None:
    """``shape[begin:end]`` of a shape with a variadic run (None: unknown).

    Bounds left of the run count from the front, right of it from the end; a slice
    whose bounds fall inside the run, or that steps, is unknown.
    """
    begin, end, step = bounds
    if step not in (None, 1):
        return None
    run = next(k for k, d in enumerate(dims) if isinstance(d, Star))
    front, back = list(dims[:run]), list(dims[run + 1 :])

    def side(bound: int | None, default: str) -> tuple[str, int] | None:
        if bound is None:
            return default, 0
        if 0 <= bound <= len(front):
            return "front", bound
        if -len(back) <= bound < 0:
            return "back", -bound
        return None

    first, last = side(begin, "front"), side(end, "back")
    if first is None or last is None:
        return None
    if first[0] == "front" and last[0] == "front":
        return front[first[1] : last[1]]
    if first[0] == "back" and last[0] == "back":
        return back[len(back) - first[1] : len(back) - last[1]]
    if first[0] == "back":
        return None  # from right of the run to left of it: its length decides
    return [*front[first[1] :], dims[run], *back[: len(back) - last[1]]]


def _arithmetic(left: Dim, op: str, right: Dim) -> Dim:
    """``left op right`` of sizes and named dimensions of one scope (None: unknown)."""
    if isinstance(left, int) and isinstance(right, int):
        value = {"+": left + right, "-": left - right, "*": left * right}[op]
        return value if value >= 0 else None
    parts = [d for d in (left, right) if not isinstance(d, int)]
    if not all(isinstance(d, Sym) and d.scope is not None for d in parts):
        return None
    syms = [d for d in parts if isinstance(d, Sym)]
    if len({d.scope for d in syms}) != 1:
        return None
    if any(polynomial(d.name) is None for d in syms):
        return None
    size = canonical(f"({render_dim(left)}){op}({render_dim(right)})")
    if isinstance(size, str):
        return Sym(size, syms[0].scope)
    return size if size is not None and size >= 0 else None


def _merged(size: Sym, dims: Sequence[Dim]) -> list[Dim]:
    """The named sizes of `dims` whose product is `size` (none: not such a product).

    >>> _merged(Sym("h*w", "f"), [Sym("b", "f"), Sym("h", "f"), Sym("w", "f")])
    [Sym(name='h', scope='f'), Sym(name='w', scope='f')]
    """
    names = names_in(size.name)
    parts: list[Dim] = [
        d
        for d in dims
        if isinstance(d, Sym) and d.scope == size.scope and d.name in names
    ]
    if len(parts) < 2 or len({str(d) for d in parts}) != len(parts):
        return []
    return parts if ravel(parts)[0] == size else []


def _moved_entry(order: Sequence[tuple[int, Dim]]) -> tuple[Dim, Dim] | None:
    """An axis that a reshape keeping `order` puts after one that came after it.

    `order` holds the places in the source shape of the named sizes a reshape
    keeps or merges, in the order of the target shape; they must not decrease.

    >>> b, h, n, d = (Sym(s, "f") for s in "bhnd")
    >>> _moved_entry([(0, b), (2, n), (1, h), (3, d)])
    (Sym(name='h', scope='f'), Sym(name='n', scope='f'))
    >>> _moved_entry([(0, b), (1, h), (2, n), (3, d)]) is None
    True
    """
    for (place, dim), (later, after) in itertools.pairwise(order):
        if later < place:
            return after, dim
    return None


def reshaped(
    env: Env,
    api: CheckerPluginInterface,
    context: Context,
    this: Sequence[Dim],
    target: Sequence[Dim] | None,
    default: Type,
) -> Type:
    if target is None:
        return default
    # A named size kept in place (``x.reshape(x.shape[0], -1)``) cancels out: the
    # rest is reshaped by numbers.
    rest = list(this)
    places = list(range(len(this)))  # where each entry of `rest` is in `this`
    order: list[tuple[int, Dim]] = []  # the kept entries' places, in target order
    sizes: list[int | None] = []
    kept: list[Dim] = []
    for d in target:
        if isinstance(d, int) and not isinstance(d, bool):
            sizes.append(d)
        elif d is not None and d in rest:
            # Also a variadic run kept whole (``x.reshape(*x.shape[:-1], 2, -1)``).
            k = rest.index(d)
            order.append((places.pop(k), rest.pop(k)))
            kept.append(d)
            sizes.append(1)
        elif isinstance(d, Sym) and (merged := _merged(d, rest)):
            # Named sizes merged into one (``x.reshape(b, h * w, c)``).
            for part in merged:
                k = rest.index(part)
                order.append((places.pop(k), rest.pop(k)))
            kept.append(d)
            sizes.append(1)
        else:
            sizes.append(None)
    moved = _moved_entry(order)
    if moved is not None and not rest:
        return env.fail(
            api,
            context,
            "reshape",
            _messages.reshape_reorders(
                render(Arr(tuple(this))),
                render(Arr(tuple(target))),
                render_dim(moved[0]),
                render_dim(moved[1]),
            ),
        )
    try:
        out = reshape(rest, sizes)
    except Mismatch as why:
        entries = known_size(rest)
        if not kept or entries is None or target.count(-1) > 1:
            return env.fail(api, context, "reshape", str(why))
        # What the user wrote, not the shapes the kept sizes cancel out of.
        why_shown = _messages.reshape_per(
            render(Arr(tuple(this))),
            entries,
            [render_dim(d) for d in kept],
            render(Arr(tuple(target))),
        )
        return env.fail(api, context, "reshape", why_shown)
    if -1 in sizes and rest and all(s in (1, -1) for s in sizes):
        # The sizes kept in place cancel out: -1 is what is left, named or not
        # (``[t, h, k]`` to ``(x.shape[0], -1)`` is ``[t, h*k]``).
        out = tuple(
            ravel(rest)[0] if s == -1 else o for s, o in zip(sizes, out, strict=True)
        )
    # An entry given by a named size is that size (``(b, s, kh, n // kh, d)`` of
    # a ``[b, s, n, d]`` has ``kh`` heads), whatever the rest of its group is.
    dims = [
        d
        if (s == 1 and not isinstance(d, int))
        or isinstance(d, Star)
        or (s is None and isinstance(d, Sym))
        else o
        for d, s, o in zip(target, sizes, out, strict=True)
    ]
    return env.array(dims, default)


def array_transpose(env: Env, ctx: MethodContext) -> Type:
    this = array_dims(ctx.type)
    exprs = [e for group in ctx.args for e in group]
    if this is None or star(this):
        return ctx.default_return_type
    if not exprs:
        return env.array(tuple(reversed(this)), ctx.default_return_type)
    axes = fold_shape(exprs[0]) if len(exprs) == 1 else [fold(e) for e in exprs]
    return permute(env, ctx.api, ctx.context, this, axes, ctx.default_return_type)


def permute(
    env: Env,
    api: CheckerPluginInterface,
    context: Context,
    this: Sequence[Dim],
    axes: list[int | None] | None,
    default: Type,
) -> Type:
    if axes is None or any(a is None for a in axes):
        return default
    rank = len(this)
    wanted = sorted(a % rank if rank else 0 for a in axes if a is not None)
    if len(axes) != rank or wanted != list(range(rank)):
        return env.fail(
            api, context, "transpose", f"axes {tuple(axes)} for rank {rank}"
        )
    return env.array(tuple(this[a] for a in axes if a is not None), default)


def axes_rule(env: Env, ctx: FunctionContext | MethodContext, name: str) -> Type:
    """Axis moves, flattening and scans along an axis (``swapaxes``, ``cumsum``, ...).

    The same rule for ``jnp.f(x, ...)`` and ``x.f(...)``; axes must be constants.
    """
    if isinstance(ctx, MethodContext):
        this = array_dims(ctx.type)
    elif ctx.arg_types and len(ctx.arg_types[0]) == 1:
        this = array_dims(ctx.arg_types[0][0])
    else:
        this = None
    if this is None:
        return ctx.default_return_type
    given = {
        formal: exprs[0]
        for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False)
        if formal and exprs
    }
    try:
        out = (
            _moved_right(name, this, given) if star(this) else _moved(name, this, given)
        )
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, name, str(why))
    return env.array(out, ctx.default_return_type)


_AXIS_FORMALS: Final = ("axis", "axis1", "axis2", "source", "destination")


def _moved_right(
    name: str, this: tuple[Dim, ...], given: dict[str, Expression]
) -> tuple[Dim, ...] | None:
    """`_moved` of an array whose shape opens with a variadic run (``"*b d 1"``).

    Axes counted from the right (``x.squeeze(-1)``, ``jnp.expand_dims(x, -1)``)
    move the dimensions right of the run; the run is kept. Others: None.
    """
    if not isinstance(this[0], Star) or star(this[1:]):
        return None
    axes: list[int] = []
    for formal in _AXIS_FORMALS:
        if formal in given:
            found = fold_shape(given[formal])
            if found is None or None in found:
                return None
            axes.extend(a for a in found if a is not None)
    if not axes or any(a >= 0 for a in axes):
        return None
    tail = this[1:]
    if name != "expand_dims" and any(a < -len(tail) for a in axes):
        return None
    if name == "expand_dims" and any(a < -len(tail) - len(axes) for a in axes):
        return None
    out = _moved(name, tail, given)
    return None if out is None else (this[0], *out)


# Scans along an axis: ``jnp.cumsum(x, axis=0)`` has the shape of `x`.
_CUMULATIVE: Final = frozenset({"cumsum", "cumprod", "nancumsum", "nancumprod"})
# Sorts along an axis, the last by default: ``jnp.argsort(x)`` has the shape of `x`.
_SORTS: Final = frozenset({"sort", "argsort"})


def axes_hook(name: str) -> Callable[[Env, FunctionContext | MethodContext], Type]:
    """The hook of `axes_rule` for the function or method `name`."""
    return lambda env, ctx: axes_rule(env, ctx, name)


def _moved(
    name: str, this: tuple[Dim, ...], given: dict[str, Expression]
) -> tuple[Dim, ...] | None:
    def axes(formal: str) -> list[int] | None:
        found = fold_shape(given[formal]) if formal in given else None
        return (
            None
            if found is None or None in found
            else [a for a in found if a is not None]
        )

    if name in ("ravel", "flatten"):
        return ravel(this)
    if name in _CUMULATIVE:  # along an axis: the shape kept; with none: flattened
        axis = given.get("axis")
        if axis is None or _axis(axis) is None:
            return ravel(this)
        return None if axes("axis") is None else this
    if name in _SORTS:  # along an axis (the last by default); with None: flattened
        axis = given.get("axis")
        if axis is None:
            return this
        if isinstance(axis, NameExpr) and axis.fullname == "builtins.None":
            return ravel(this)
        return None if axes("axis") is None else this
    if name == "swapaxes":
        first, second = axes("axis1"), axes("axis2")
        if first is None or second is None or len(first) != 1 or len(second) != 1:
            return None
        return swapaxes(this, first[0], second[0])
    if name == "moveaxis":
        source, destination = axes("source"), axes("destination")
        if source is None or destination is None:
            return None
        return moveaxis(this, source, destination)
    if name == "expand_dims":
        where = axes("axis")
        return None if where is None else expand_dims(this, where)
    axis = given.get("axis")
    if axis is None or (
        isinstance(axis, NameExpr) and axis.fullname == "builtins.None"
    ):
        return squeeze(this, None)
    where = axes("axis")
    return None if where is None else squeeze(this, where)


def array_t(env: Env, ctx: AttributeContext) -> Type:
    this = array_dims(ctx.type)
    if this is None or star(this):
        return ctx.default_attr_type
    return env.array(tuple(reversed(this)), ctx.default_attr_type)


def array_mt(env: Env, ctx: AttributeContext) -> Type:
    """``x.mT``: the last two axes swapped (of a stack of matrices too)."""
    this = array_dims(ctx.type)
    if this is None or len(this) < 2 or any(isinstance(d, Star) for d in this[-2:]):
        return ctx.default_attr_type
    return env.array((*this[:-2], this[-1], this[-2]), ctx.default_attr_type)


# jax functions ----------------------------------------------------------------


def fn_matmul(env: Env, ctx: FunctionContext) -> Type:
    dims = [array_dims(ts[0]) if len(ts) == 1 else None for ts in ctx.arg_types[:2]]
    if len(dims) != 2 or dims[0] is None or dims[1] is None:
        return ctx.default_return_type
    name = callee_name(ctx.context)
    if name == "dot" and (len(dims[0]) > 2 or len(dims[1]) > 2):
        return ctx.default_return_type
    try:
        return env.array(matmul(dims[0], dims[1]), ctx.default_return_type)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, name, _pair(dims[0], dims[1], why))


def fn_tensordot(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.tensordot(a, b, axes)``: the axes left of `a`, then those of `b`."""
    dims = [array_dims(ts[0]) if len(ts) == 1 else None for ts in ctx.arg_types[:2]]
    if len(dims) != 2 or dims[0] is None or dims[1] is None:
        return ctx.default_return_type
    given = given_arguments(ctx)
    expr = given.get("axes")
    axes: tuple[list[int], list[int]] | int | None = 2 if expr is None else fold(expr)
    if axes is None and isinstance(expr, TupleExpr | ListExpr) and len(expr.items) == 2:
        pair = [fold_shape(item) for item in expr.items]
        if all(p is not None and None not in p for p in pair):
            axes = ([a for a in pair[0] or [] if a is not None],
                    [a for a in pair[1] or [] if a is not None])  # fmt: skip
    if axes is None:
        return ctx.default_return_type
    try:
        out = tensordot(dims[0], dims[1], axes)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, "tensordot", _pair(dims[0], dims[1], why))
    return env.array(out, ctx.default_return_type)


def fn_join(env: Env, ctx: FunctionContext) -> Type:
    name = callee_name(ctx.context)
    parts = _sequence_dims(ctx)
    axis = _keyword_int(ctx, "axis", 0)
    if parts is None and axis is not None and name in _JOINS_ALONG:
        return env.array(_joined_list(ctx, axis, name), ctx.default_return_type)
    if parts is None or axis is None:
        return ctx.default_return_type
    rule = concatenate if name in ("concatenate", "concat") else stack
    if name in ("hstack", "vstack"):
        # As numpy's: each array made at least 1-d (hstack) or 2-d (vstack, a 1-d
        # array becomes a row); hstack joins 1-d arrays end to end, others side by
        # side, as the first array decides.
        lowest = 1 if name == "hstack" else 2
        if any(star(p) for p in parts) and any(len(p) < lowest for p in parts):
            return ctx.default_return_type
        parts = [(*(1,) * max(lowest - len(p), 0), *p) for p in parts]
        one_d = bool(parts) and len(parts[0]) == 1
        rule, axis = concatenate, 1 if name == "hstack" and not one_d else 0
    try:
        return env.array(rule(parts, axis), ctx.default_return_type)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, name, str(why))


_JOINS_ALONG: Final = frozenset({"concatenate", "concat", "stack"})


def _joined_list(ctx: FunctionContext, axis: int, name: str) -> list[Dim] | None:
    """A list (or tuple) of arrays of one type and unknown length, joined along `axis`.

    ``jnp.stack(cols, axis=1)`` of ``cols: list[Array[b, t]]`` is ``[b, ?, t]``; the
    joined axis of a concatenation is of unknown length, the other axes are kept.
    """
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return None
    seq = get_proper_type(ctx.arg_types[0][0])
    if not (
        isinstance(seq, Instance)
        and seq.type.fullname in ("builtins.list", "builtins.tuple")
        and len(seq.args) == 1
    ):
        return None
    item = array_dims(seq.args[0])
    if item is None or star(item):
        return None
    dims: list[Dim] = list(item)
    if name == "stack":
        if not -len(dims) - 1 <= axis <= len(dims):
            return None
        dims.insert(axis % (len(dims) + 1), None)
        return dims
    if not -len(dims) <= axis < len(dims):
        return None
    dims[axis] = None
    return dims


def fn_reshape(env: Env, ctx: FunctionContext) -> Type:
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    if this is None:
        return ctx.default_return_type
    return reshaped(
        env,
        ctx.api,
        ctx.context,
        this,
        shape_target(ctx.api, ctx.args[1][0], runs=True),
        ctx.default_return_type,
    )


def fn_transpose(env: Env, ctx: FunctionContext) -> Type:
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    if this is None or star(this):
        return ctx.default_return_type
    if len(ctx.args) < 2 or not ctx.args[1]:
        return env.array(tuple(reversed(this)), ctx.default_return_type)
    axes = fold_shape(ctx.args[1][0])
    return permute(env, ctx.api, ctx.context, this, axes, ctx.default_return_type)


def fn_einsum(env: Env, ctx: FunctionContext) -> Type:
    exprs = [e for group in ctx.args for e in group]
    types = [t for group in ctx.arg_types for t in group]
    kinds = [k for group in ctx.arg_kinds for k in group]
    if not exprs or not isinstance(exprs[0], StrExpr):
        return ctx.default_return_type
    if kinds[0] != ARG_POS or any(k in (ARG_STAR, ARG_STAR2) for k in kinds):
        return ctx.default_return_type  # operands of unknown number
    names = [n for group in ctx.arg_names for n in group]
    given = [t for t, n in zip(types[1:], names[1:], strict=False) if n is None]
    subscripts = exprs[0].value.split("->")[0].replace(" ", "").split(",")
    if len(subscripts) != len(given):
        return ctx.default_return_type
    operands = [
        _einsum_operand(t, subscript)
        for t, subscript in zip(given, subscripts, strict=True)
    ]
    if any(d is None for d in operands):
        return ctx.default_return_type
    try:
        out = einsum(exprs[0].value, [d for d in operands if d is not None])
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, "einsum", str(why))
    return env.array(out, ctx.default_return_type)


def _einsum_operand(typ: Type, subscript: str) -> Sequence[Dim] | None:
    """The shape of an einsum operand (None: unknown).

    An optional array (``inputs: Float[Array, "t i"] | None``) is checked as the
    array; an operand of no known shape (``Any``) as one of sizes unknown, as many
    as its subscript names, so that the others are still compared.
    """
    dims = array_dims_or_optional(typ)
    if dims is not None:
        return dims
    if isinstance(get_proper_type(typ), AnyType) and "." not in subscript:
        return [None] * len(subscript)
    return None


def fn_filled(env: Env, ctx: FunctionContext) -> Type:
    if not ctx.args or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    shape = _created_shape(ctx.api, ctx.args[0][0], ctx.arg_types[0][0])
    return env.array(shape, ctx.default_return_type)


def _created_shape(
    api: CheckerPluginInterface, expr: Expression, typ: Type
) -> list[Dim] | None:
    """The shape given to ``jnp.zeros`` or ``jax.random.normal`` (None: unknown).

    A size of unknown value still fixes the rank: an ``int`` (``self.hidden``) is
    one axis, a tuple of ints of known length (``shape: tuple[int, int]``) as many.
    """
    target = shape_target(api, expr, runs=True)
    if target is not None:
        return target
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == "builtins.int":
        return [None]
    if isinstance(t, TupleType) and all(
        isinstance(i, Instance) and i.type.fullname == "builtins.int"
        for i in map(get_proper_type, t.items)
    ):
        return [None] * len(t.items)
    return None


def fn_arange(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.arange(n)``, ``jnp.arange(a, b)``: one axis of ``b - a`` entries.

    Bounds are ints, constants or sizes read from shapes (``x.shape[1]``); a step
    is counted when every bound is an int. Other bounds give one axis of unknown
    length.
    """
    given = given_arguments(ctx)
    start, stop, step = (given.get(name) for name in ("start", "stop", "step"))
    size: Dim = None
    if start is not None and stop is None and step is None:
        size = size_target(ctx.api, start)
    elif start is not None and stop is not None and step is None:
        size = _arithmetic(size_target(ctx.api, stop), "-", size_target(ctx.api, start))
    elif start is not None and stop is not None and step is not None:
        bounds = [fold(start), fold(stop), fold(step)]
        if None not in bounds and bounds[2] != 0:
            first, last, stride = (b for b in bounds if b is not None)
            size = len(range(first, last, stride))
    return env.array([size], ctx.default_return_type)


def fn_repeat(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.repeat(x, r, axis)``: the axis `r` times longer (flattened without one).

    A constant `r` multiplies the axis, another (``repeats=self.heads``) makes it of
    unknown length; ``total_repeat_length`` is the axis's length.
    """
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    times = fold(ctx.args[1][0])
    given = given_arguments(ctx)
    if this is None or star(this) or (times is not None and times < 0):
        return ctx.default_return_type
    axis_expr = given.get("axis")
    flat = axis_expr is None or is_none(axis_expr)
    axis = 0 if flat or axis_expr is None else fold(axis_expr)
    if axis is None:
        return ctx.default_return_type
    dims = list(ravel(this)) if flat else list(this)
    if not -len(dims) <= axis < len(dims):
        return ctx.default_return_type
    total = given.get("total_repeat_length")
    dims[axis] = (
        size_target(ctx.api, total)
        if total is not None
        else None
        if times is None
        else _arithmetic(dims[axis], "*", times)
    )
    return env.array(dims, ctx.default_return_type)


def fn_tile(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.tile(x, reps)``: each axis times its repetitions, aligned at the right."""
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    reps = fold_shape(ctx.args[1][0])
    if this is None or star(this) or reps is None or None in reps:
        return ctx.default_return_type
    times = [r for r in reps if r is not None]
    rank = max(len(this), len(times))
    dims = [1] * (rank - len(this)) + list(this)
    times = [1] * (rank - len(times)) + times
    return env.array(
        [_arithmetic(d, "*", t) for d, t in zip(dims, times, strict=True)],
        ctx.default_return_type,
    )


def fn_eye(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.eye(n)``, ``jnp.eye(n, m)``: ``[n, n]`` or ``[n, m]``."""
    given = given_arguments(ctx)
    rows = given.get("N")
    if rows is None:
        return ctx.default_return_type
    n = size_target(ctx.api, rows)
    columns = given.get("M")
    m = n if columns is None else size_target(ctx.api, columns)
    return env.array([n, m], ctx.default_return_type)


def fn_clip(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.clip(x, lo, hi)``: `x` broadcast with the bounds it is given."""
    shapes = [operand_dims(ts[0]) for ts in ctx.arg_types if len(ts) == 1]
    if not shapes or any(shape is None for shape in shapes):
        return ctx.default_return_type
    return _broadcast_all(env, ctx, "clip", shapes)


def fn_like(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.zeros_like(x)`` and the like: the shape of `x` (or the ``shape`` given)."""
    for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if formal == "shape" and exprs:
            return env.array(shape_target(ctx.api, exprs[0]), ctx.default_return_type)
    return same_as_first(env, ctx)


def fn_asarray(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.asarray(x)``, ``jnp.array(x, dtype)``, ``jnp.copy(x)``: the shape of `x`.

    An array keeps its shape (its dtype aside), a Python number is 0-d; a list, or
    ``ndmin=`` (which may add axes), gives jax's own type.
    """
    if "ndmin" in given_arguments(ctx):
        return ctx.default_return_type
    return same_as_first(env, ctx)


def fn_linspace(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.linspace(start, stop, num)``: one axis of `num` entries (50 by default)."""
    given = given_arguments(ctx)
    if given.get("axis") is not None or not _is_scalar(ctx, 0):
        return ctx.default_return_type
    num = given.get("num")
    size = 50 if num is None else size_target(ctx.api, num)
    return env.array([size], ctx.default_return_type)


def _is_scalar(ctx: FunctionContext, position: int) -> bool:
    """Whether argument `position` is a Python number or a 0-d array."""
    if len(ctx.arg_types) <= position or len(ctx.arg_types[position]) != 1:
        return False
    dims = operand_dims(ctx.arg_types[position][0])
    return dims == ()


def fn_broadcast_to(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.broadcast_to(x, shape)``: the shape given, checked against `x`'s."""
    given = given_arguments(ctx)
    shape = given.get("shape")
    if shape is None:
        return ctx.default_return_type
    target = shape_target(ctx.api, shape)
    this = array_dims(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
    if target is not None and this is not None and not star(this):
        try:
            broadcast(this, target)
        except Mismatch as why:
            return env.fail(ctx.api, ctx.context, "broadcast_to", str(why))
    return env.array(target, ctx.default_return_type)


def fn_permutation(env: Env, ctx: FunctionContext) -> Type:
    """``jax.random.permutation(key, x)``: ``[n]`` of an int `n`, else `x`'s shape."""
    if len(ctx.arg_types) < 2 or len(ctx.arg_types[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[1][0])
    if this is not None:
        return ctx.arg_types[1][0] if this else ctx.default_return_type
    return env.array([size_target(ctx.api, ctx.args[1][0])], ctx.default_return_type)


def fn_diag(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.diag(v)``: a ``[n, n]`` matrix of ``[n]``, the diagonal of a square one."""
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1 or "k" in given_arguments(ctx):
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    if this is None or star(this):
        return ctx.default_return_type
    if len(this) == 1:
        return env.array([this[0], this[0]], ctx.default_return_type)
    if len(this) == 2:
        rows, columns = this
        same = rows is not None and rows == columns
        return env.array([rows if same else None], ctx.default_return_type)
    return ctx.default_return_type


# The shape of the transform of `n` entries along its axis, from the input's length.
_FFT_LENGTH: Final[dict[str, Callable[[Dim], Dim]]] = {
    **{
        name: lambda d: d
        for name in ("fft", "ifft", "fftn", "ifftn", "fft2", "ifft2")
        + ("fftshift", "ifftshift")
    },
    "rfft": lambda d: d // 2 + 1 if isinstance(d, int) else None,
    "irfft": lambda d: 2 * (d - 1) if isinstance(d, int) else None,
}


def fn_fft(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.fft.fft(a, n, axis)`` and the like: the shape of `a`, its axis transformed.

    The axis (``axis``, the last by default) has `n` entries when `n` is given;
    ``rfft`` keeps ``n // 2 + 1`` of them. The transforms of several axes keep the
    shape when no sizes ``s`` are given.
    """
    name = callee_name(ctx.context)
    if name not in _FFT_LENGTH or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    given = given_arguments(ctx)
    if this is None or star(this) or not this or "s" in given:
        return ctx.default_return_type
    dims = list(this)
    if name in ("fftn", "ifftn", "fft2", "ifft2", "fftshift", "ifftshift"):
        return env.array(dims, ctx.default_return_type)
    axis_expr = given.get("axis")
    axis = -1 if axis_expr is None else fold(axis_expr)
    if axis is None or not -len(dims) <= axis < len(dims):
        return ctx.default_return_type
    n = given.get("n")
    if n is None:
        dims[axis] = _FFT_LENGTH[name](dims[axis])
    else:
        length = size_target(ctx.api, n)
        dims[axis] = _FFT_LENGTH["rfft"](length) if name == "rfft" else length
    return env.array(dims, ctx.default_return_type)


def fn_solve(env: Env, ctx: FunctionContext) -> Type:
    """``solve(a, b)``, ``solve_triangular(a, b)``, ``cho_solve((c, lower), b)``.

    The result has the shape of `b`; a matrix `a` of ``solve`` and
    ``solve_triangular`` is square, and its columns are as many as `b`'s rows.
    """
    if len(ctx.arg_types) < 2 or len(ctx.arg_types[1]) != 1:
        return ctx.default_return_type
    b = get_proper_type(ctx.arg_types[1][0])
    if not isinstance(b, Instance) or b.type.fullname != ARRAY_CLASS:
        return ctx.default_return_type
    a = array_dims(ctx.arg_types[0][0]) if len(ctx.arg_types[0]) == 1 else None
    rows = array_dims(b)
    if a is not None and (len(a) != 2 or star(a)):
        return ctx.default_return_type  # a batch of matrices broadcasts against `b`
    if a is None or rows is None or not 1 <= len(rows) <= 2:
        return b
    name = callee_name(ctx.context)
    shown = render(Arr(a)), render(Arr(rows))
    try:
        matmul(a, a)
    except Mismatch:
        return env.fail(ctx.api, ctx.context, name, _messages.not_square(shown[0]))
    try:
        matmul(a, rows)
    except Mismatch as why:
        return env.fail(
            ctx.api, ctx.context, name, _messages.solve_for(*shown, str(why))
        )
    return b


def fn_split(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.split(x, k, axis)``: a list of `k` arrays, the axis divided by `k`.

    A named axis is divided where its arithmetic is a multiple of `k`
    (``"2*d"`` by 2 is ``d``); split at indices (``[2, 5]``), the parts have an
    axis of unknown length and the other axes of `x`.
    """
    default = get_proper_type(ctx.default_return_type)
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    axis = _keyword_int(ctx, "axis", 0)
    if this is None or axis is None or not isinstance(default, Instance):
        return ctx.default_return_type
    runs = [k for k, d in enumerate(this) if isinstance(d, Star)]
    # Of a shape with a variadic run (``"*b s 3*d"``), only an axis right of the
    # run, counted from the end (``axis=-1``), is known.
    low = -(len(this) - 1 - runs[0]) if runs else -len(this)
    if not low <= axis < (0 if runs else len(this)):
        return ctx.default_return_type
    dims = list(this)
    parts = fold(ctx.args[1][0])
    whole = dims[axis]
    if isinstance(whole, int) and parts is not None and parts > 0 and whole % parts:
        why = _messages.split_unequal(whole, parts, axis)
        return env.fail(ctx.api, ctx.context, "split", why)
    dims[axis] = _divided(whole, parts)
    if not isinstance(ctx.api, TypeChecker) or not bound_once(ctx.api, ctx.context):
        return ctx.default_return_type  # a list given to a name bound again
    part = env.array(dims, AnyType(TypeOfAny.special_form))
    return default.copy_modified(args=[part])


def _divided(dim: Dim, parts: int | None) -> Dim:
    """`dim` split into `parts` equal parts (None: unknown or not a multiple)."""
    if parts is None or parts <= 0:
        return None
    if isinstance(dim, int) and not isinstance(dim, bool):
        return dim // parts if dim % parts == 0 else None
    if not isinstance(dim, Sym) or dim.scope is None:
        return None
    terms = polynomial(dim.name)
    if terms is None or any(c % parts for c in terms.values()):
        return None
    size = canonical(show_polynomial({m: c // parts for m, c in terms.items()}))
    return Sym(size, dim.scope) if isinstance(size, str) else size


def fn_pad(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.pad(x, pad_width)``: each axis longer by what is added before and after.

    `pad_width` of constants: ``n``, ``(before, after)`` or one pair per axis.
    """
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    widths = _pad_widths(ctx.args[1][0], len(this) if this is not None else 0)
    if this is None or star(this) or widths is None:
        return ctx.default_return_type
    return env.array(
        [_arithmetic(d, "+", sum(w)) for d, w in zip(this, widths, strict=True)],
        ctx.default_return_type,
    )


def _pad_widths(expr: Expression, rank: int) -> list[tuple[int, int]] | None:
    """The (before, after) of each of `rank` axes that `expr` gives (None: unknown)."""
    value = fold(expr)
    if value is not None:
        return [(value, value)] * rank
    if not isinstance(expr, TupleExpr | ListExpr):
        return None
    items = expr.items
    flat = [fold(e) for e in items]
    if len(items) == 1 and flat[0] is not None:
        return [(flat[0], flat[0])] * rank
    if len(items) == 2 and all(v is not None for v in flat):
        before, after = flat
        assert before is not None and after is not None
        return [(before, after)] * rank
    pairs: list[tuple[int, int]] = []
    for item in items:
        pair = (
            [fold(e) for e in item.items]
            if isinstance(item, TupleExpr | ListExpr)
            else []
        )
        if len(pair) == 1:
            pair = pair * 2
        if len(pair) != 2 or pair[0] is None or pair[1] is None:
            return None
        pairs.append((pair[0], pair[1]))
    if len(pairs) == 1:
        return pairs * rank
    return pairs if len(pairs) == rank else None


def fn_segment_sum(env: Env, ctx: FunctionContext) -> Type:
    """``jax.ops.segment_sum(data, ids, num_segments)``: one row per segment."""
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    if this is None or star(this) or not this:
        return ctx.default_return_type
    segments: Dim = None
    for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if formal == "num_segments" and len(exprs) == 1:
            segments = size_target(ctx.api, exprs[0])
    return env.array([segments, *this[1:]], ctx.default_return_type)


def fn_random(env: Env, ctx: FunctionContext) -> Type:
    groups = zip(ctx.callee_arg_names, ctx.args, ctx.arg_types, strict=False)
    for formal, exprs, types in groups:
        if formal == "shape" and len(exprs) == 1:
            shape = _created_shape(ctx.api, exprs[0], types[0])
            return env.array(shape, ctx.default_return_type)
    return env.array((), ctx.default_return_type)


def fn_outer(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.outer(a, b)``: ``[a.size, b.size]``, so ``[n, m]`` of two vectors.

    Operands of more axes are flattened first, as NumPy does.
    """
    shapes = [operand_dims(ts[0]) for ts in ctx.arg_types[:2] if len(ts) == 1]
    if len(shapes) != 2:
        return ctx.default_return_type
    a, b = shapes
    if a is None or b is None or star(a) or star(b):
        return ctx.default_return_type
    return env.array([*ravel(a), *ravel(b)], ctx.default_return_type)


def fn_take_along_axis(env: Env, ctx: FunctionContext) -> Type:
    """``jnp.take_along_axis(arr, indices, axis)``: `indices`' length along `axis`.

    The array and the indices have one rank; their other axes broadcast together,
    as NumPy's rule has it: ``logp`` of ``"b k"`` and ``labels[:, None]`` along
    ``-1`` give ``[b, 1]``. ``axis=None`` takes from the flattened array: the
    indices' shape. An array or indices of a variadic shape give jax's own type.
    """
    given = given_arguments(ctx)
    if len(ctx.arg_types) < 2 or any(len(ts) != 1 for ts in ctx.arg_types[:2]):
        return ctx.default_return_type
    arr = array_dims(ctx.arg_types[0][0])
    indices = array_dims(ctx.arg_types[1][0])
    if arr is None or indices is None or star(arr) or star(indices):
        return ctx.default_return_type
    if "axis" not in given:
        return ctx.default_return_type
    if is_none(given["axis"]):
        return env.array(indices, ctx.default_return_type)
    axis = fold(given["axis"])
    name = "take_along_axis"
    if len(arr) != len(indices):
        why = _messages.indices_rank(render(Arr(indices)), render(Arr(arr)))
        return env.fail(ctx.api, ctx.context, name, why)
    if axis is None or not -len(arr) <= axis < len(arr):
        return ctx.default_return_type
    at = axis % len(arr)
    try:
        out = list(
            broadcast(arr[:at] + arr[at + 1 :], indices[:at] + indices[at + 1 :])
        )
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, name, str(why))
    out.insert(at, indices[at])
    return env.array(out, ctx.default_return_type)


def _argument(ctx: FunctionContext, name: str) -> tuple[Expression, Type] | None:
    """The expression given for the parameter `name`, and its type."""
    for formal, exprs, types in zip(
        ctx.callee_arg_names, ctx.args, ctx.arg_types, strict=False
    ):
        if formal == name and len(exprs) == 1:
            return exprs[0], types[0]
    return None


def _longer(
    sizes: Sequence[Dim], dims: Sequence[Dim], axes: Sequence[int]
) -> tuple[int, int] | None:
    """The first constant size in `sizes` past the constant axis it is taken from."""
    for size, dim, axis in zip(sizes, dims, axes, strict=True):
        if isinstance(size, int) and isinstance(dim, int) and size > dim:
            return size, axis
    return None


def fn_dynamic_slice(env: Env, ctx: FunctionContext) -> Type:
    """``lax.dynamic_slice(x, starts, sizes)``: an array of the `sizes` given.

    `sizes` are read as ``jnp.zeros`` reads a shape (``(5, x.shape[1])`` of
    ``"t d"`` is ``[5, d]``); as many as `x` has axes, none longer than its axis.
    """
    operand = _argument(ctx, "operand")
    sizes = _argument(ctx, "slice_sizes")
    if operand is None or sizes is None:
        return ctx.default_return_type
    shape = _created_shape(ctx.api, sizes[0], sizes[1])
    dims = array_dims(operand[1])
    if shape is None:
        return ctx.default_return_type
    if dims is not None and not star(dims):
        array = render(Arr(dims))
        if len(shape) != len(dims):
            sizes_text = "(" + ", ".join(render_dim(d) for d in shape)
            sizes_text += ",)" if len(shape) == 1 else ")"
            why = _messages.slice_rank(sizes_text, array)
            return env.fail(ctx.api, ctx.context, "dynamic_slice", why)
        longer = _longer(shape, dims, range(len(dims)))
        if longer is not None:
            why = _messages.slice_too_long(*longer, array)
            return env.fail(ctx.api, ctx.context, "dynamic_slice", why)
    return env.array(shape, ctx.default_return_type)


def fn_dynamic_slice_in_dim(env: Env, ctx: FunctionContext) -> Type:
    """``lax.dynamic_slice_in_dim(x, start, size, axis)``: `x`, `size` on `axis`."""
    operand = _argument(ctx, "operand")
    size = _argument(ctx, "slice_size")
    if operand is None or size is None:
        return ctx.default_return_type
    dims = array_dims(operand[1])
    axis = _keyword_int(ctx, "axis", 0)
    if dims is None or star(dims) or axis is None or not -len(dims) <= axis < len(dims):
        return ctx.default_return_type
    at = axis % len(dims)
    length = size_target(ctx.api, size[0])
    longer = _longer([length], [dims[at]], [at])
    if longer is not None:
        why = _messages.slice_too_long(*longer, render(Arr(dims)))
        return env.fail(ctx.api, ctx.context, "dynamic_slice_in_dim", why)
    return env.array([*dims[:at], length, *dims[at + 1 :]], ctx.default_return_type)


def fn_dynamic_update_slice(env: Env, ctx: FunctionContext) -> Type:
    """``lax.dynamic_update_slice(x, update, starts)``: the shape of `x`.

    `update` has as many axes as `x`, none longer than `x`'s.
    """
    operand = _argument(ctx, "operand")
    update = _argument(ctx, "update")
    if operand is None or update is None:
        return ctx.default_return_type
    dims = array_dims(operand[1])
    new = array_dims(update[1])
    if dims is None or star(dims):
        return ctx.default_return_type
    if new is not None and not star(new):
        array = render(Arr(dims))
        if len(new) != len(dims):
            why = _messages.update_rank(render(Arr(new)), array)
            return env.fail(ctx.api, ctx.context, "dynamic_update_slice", why)
        longer = _longer(new, dims, range(len(dims)))
        if longer is not None:
            why = _messages.slice_too_long(*longer, array)
            return env.fail(ctx.api, ctx.context, "dynamic_update_slice", why)
    return env.array(dims, ctx.default_return_type)


def fn_random_of_shape(env: Env, ctx: FunctionContext) -> Type:
    """``jax.random.randint(key, shape, ...)``, ``bernoulli(key, p, shape)``, ...

    The `shape` given, read as ``jnp.zeros`` reads one; without it (or ``None``),
    jax's own type (``bernoulli``'s of `p`'s shape).
    """
    found = _argument(ctx, "shape")
    if found is None or is_none(found[0]):
        return ctx.default_return_type
    return env.array(_created_shape(ctx.api, *found), ctx.default_return_type)


def fn_one_hot(env: Env, ctx: FunctionContext) -> Type:
    """``jax.nn.one_hot(x, n)``: the shape of `x` with a last axis of `n` classes."""
    if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
        return ctx.default_return_type
    this = array_dims(ctx.arg_types[0][0])
    if this is None:
        return ctx.default_return_type
    axis = _keyword_int(ctx, "axis", -1)
    if axis != -1:
        return ctx.default_return_type
    classes = size_target(ctx.api, ctx.args[1][0])
    return env.array([*this, classes], ctx.default_return_type)


# ``in_axes``: one axis for every argument, or one each (an int, None: not mapped,
# "?": not a constant).
_Axes: TypeAlias = int | None | str | list[int | None | str]


def fn_vmap(env: Env, ctx: FunctionContext) -> Type:
    """``jax.vmap(f)``: `f` with a batch axis on its arrays.

    A function's (or an ``eqx.Module``'s) arguments gain the batch axis where
    ``in_axes`` puts it (an int, ``None`` or a tuple of them, for each argument),
    its result where ``out_axes`` does; a morphism's only at 0. Axes that are not
    constants give a callable that takes anything and returns arrays of any shape;
    a morphism the plugin does not model keeps mypy's own type.
    """
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    in_axes, out_axis = _vmap_axes(ctx.callee_arg_names[1:], ctx.args[1:])
    made = mapped(env, ctx.arg_types[0][0], in_axes, out_axis, ctx.default_return_type)
    made = _lambdas.register(ctx.args[0][0], made, in_axes, out_axis)
    return _typed_as(made, ctx.default_return_type)


def _typed_as(made: Type, default: Type) -> Type:
    """`made`, an untyped callable only where mypy's own result (`default`) is one.

    The mapped type copies the function's; of an unannotated function (a lambda
    kept in a name) it is "untyped", and calling it is ``[no-untyped-call]`` under
    ``--strict``. ``jax.vmap`` returns the function's own type, so mypy reports
    that call too; ``eqx.filter_vmap``'s result is typed, and so stays the mapped
    type.
    """
    t, d = get_proper_type(made), get_proper_type(default)
    if isinstance(t, CallableType) and t.implicit:
        if not (isinstance(d, CallableType) and d.implicit):
            return t.copy_modified(implicit=False)
    return made


def partial_vmap_call(env: Env, ctx: MethodContext) -> Type:
    """``partial(jax.vmap, in_axes=...)(f)``, also as a decorator: ``jax.vmap(f, ...)``.

    mypy's own rule for calls of a ``functools.partial`` checks the call first; the
    function it is given is then mapped as `fn_vmap` maps it, on the axes that the
    ``partial(...)`` expression names.
    """
    default = partial_call_callback(ctx)
    made = _partial_vmap(ctx)
    kinds = [k for group in ctx.arg_kinds for k in group]
    if made is None or kinds != [ARG_POS]:
        return default
    positional = ["in_axes", "out_axes"]
    names = [
        name if name is not None else positional.pop(0) if positional else None
        for name in made.arg_names[1:]
    ]
    in_axes, out_axis = _vmap_axes(names, [[e] for e in made.args[1:]])
    return mapped(env, ctx.arg_types[0][0], in_axes, out_axis, default)


def _partial_vmap(ctx: MethodContext) -> CallExpr | None:
    """The ``partial(jax.vmap, ...)`` expression that `ctx` calls (None: another)."""
    context = ctx.context
    if isinstance(context, CallExpr):
        callee = context.callee
        return (
            callee
            if isinstance(callee, CallExpr) and _is_partial_vmap(callee)
            else None
        )
    if not isinstance(context, Decorator) or not ctx.args or not ctx.args[0]:
        return None
    given = ctx.args[0][0]  # a node placed where the decorator is written
    for d in context.decorators:
        if (
            isinstance(d, CallExpr)
            and (d.line, d.column) == (given.line, given.column)
            and _is_partial_vmap(d)
        ):
            return d
    return None


def _is_partial_vmap(expr: CallExpr) -> bool:
    return (
        isinstance(expr.callee, RefExpr)
        and expr.callee.fullname == PARTIAL
        and bool(expr.args)
        and isinstance(expr.args[0], RefExpr)
        and expr.args[0].fullname in VMAPS
        and all(k in (ARG_POS, ARG_NAMED) for k in expr.arg_kinds)
    )


def _vmap_axes(
    formals: Sequence[str | None], args: Sequence[Sequence[Expression]]
) -> tuple[_Axes, _Axes]:
    """``in_axes`` and ``out_axes`` of a ``jax.vmap`` given `args` for `formals`."""
    in_axes: _Axes = 0
    out_axis: _Axes = 0
    for formal, exprs in zip(formals, args, strict=False):
        if exprs and formal == "in_axes":
            in_axes = _in_axes(exprs[0])
        elif exprs and formal == "out_axes":
            out_axis = _in_axes(exprs[0])
    return in_axes, out_axis


def _mapped_output(env: Env, ret: Type, out_axis: _Axes) -> Type | None:
    """A mapped function's result: its batch axis where `out_axis` puts it.

    One axis for every array of the result, or one for each item of a tuple
    (``out_axes=(0, None)``: a batched output and a state that is not); ``None``
    leaves an output as it is. None: axes that are not constants.
    """
    if out_axis is None:
        return ret
    if isinstance(out_axis, int):
        return batched_type(env, ret, out_axis)
    t = get_proper_type(ret)
    if (
        not isinstance(out_axis, list)
        or not isinstance(t, TupleType)
        or len(t.items) != len(out_axis)
        or "?" in out_axis
    ):
        return None
    return t.copy_modified(
        items=[
            item if a is None or isinstance(a, str) else batched_type(env, item, a)
            for item, a in zip(t.items, out_axis, strict=True)
        ]
    )


def mapped(
    env: Env, function: Type, in_axes: _Axes, out_axis: _Axes, default: Type
) -> Type:
    """The type of `function` mapped by ``jax.vmap`` on `in_axes` and `out_axis`.

    **Arguments:** `default`, the type to give when the plugin models nothing.
    """
    batched = in_axes in (0, [0]) and out_axis == 0
    fun = get_proper_type(function)
    if isinstance(fun, Overloaded):
        # An overloaded function (``jnp.linalg.norm``) maps as each of its variants.
        items = [mapped(env, item, in_axes, out_axis, item) for item in fun.items]
        if all(isinstance(i, CallableType) for i in items):
            return Overloaded([i for i in items if isinstance(i, CallableType)])
        return default
    para = env.info(PARA)
    fallback = env.info("builtins.function")
    if isinstance(fun, Instance) and (
        para is None or not fun.type.has_base(para.fullname)
    ):
        # A module with ``__call__`` (an ``eqx.Module``) maps as its call does, a
        # ``functools.partial`` as the arguments it has left; an untyped
        # ``__call__`` (jax's ``jax.jit(f)``) keeps mypy's own type, which calls it
        # without ``disallow_untyped_calls``'s error.
        arguments = len(in_axes) if isinstance(in_axes, list) else None
        call = _step(fun) or plain_call(fun, arguments)
        if call is not None:
            fun = sized_call(env, fun, mapped_call(env, fun, call))
    out = (
        _mapped_output(env, fun.ret_type, out_axis)
        if isinstance(fun, CallableType)
        else None
    )
    if isinstance(fun, CallableType) and out is not None:
        axes = in_axes if isinstance(in_axes, list) else [in_axes] * len(fun.arg_types)
        axes = _axes_of_defaults(fun, axes)
        if len(axes) == len(fun.arg_types) and "?" not in axes:
            made = fun.copy_modified(
                arg_types=[
                    t if a is None else batched_type(env, t, a)
                    for t, a in zip(fun.arg_types, axes, strict=True)
                    if not isinstance(a, str)
                ],
                ret_type=out,
            )
            return _sized_batch(env, made, axes, out_axis)
    if isinstance(fun, Instance) and para is not None and fallback is not None:
        sig = signature(env, fun, para)
        if sig is None:
            return default
        dom, cod = sig
        if not isinstance(dom, Arr):
            return default
        given: Type = (
            env.shape_type(_batched(dom))
            if batched
            else AnyType(TypeOfAny.special_form)
        )
        padded = env.info(PADDED_LIST)
        if (
            fun.type.fullname in env.names.list_folds()
            and batched
            and padded is not None
        ):
            given = UnionType.make_union([given, Instance(padded, [])])
        out = env.shape_type(cod)
        return CallableType(
            [given],
            [ARG_POS],
            ["x"],
            batched_type(env, out) if batched else erased_type(env, out),
            Instance(fallback, []),
        )
    if isinstance(fun, CallableType):
        return fun.copy_modified(
            arg_types=[AnyType(TypeOfAny.special_form) for _ in fun.arg_types],
            ret_type=erased_type(env, fun.ret_type),
        )
    return default


def _axes_of_defaults(
    fun: CallableType, axes: list[int | None | str]
) -> list[int | None | str]:
    """`axes` for every parameter of `fun`: ``in_axes`` names only those passed.

    ``vmap(f, in_axes=(None, 0))`` of ``f(a, b, axis=-1)`` leaves ``axis`` to its
    default; given by keyword, jax maps it over its leading axis.
    """
    rest = fun.arg_kinds[len(axes) :]
    if not rest or not all(k in (ARG_OPT, ARG_NAMED, ARG_NAMED_OPT) for k in rest):
        return axes
    return [*axes, *[0] * len(rest)]


def _sized_batch(
    env: Env, made: CallableType, in_axes: list[int | None | str], out_axis: _Axes
) -> CallableType:
    """`made` with its batch axes one named dimension of its own signature.

    A call then binds it from the mapped arguments, as a function's own names
    are bound: two arguments mapped over axes of different sizes (``in_axes=(0,
    0)`` given ``[n, d]`` and ``[d, k]``) are reported, and the result's batch
    axis has the arguments' size.
    """
    shapes = env.shapes()
    if shapes is None or shapes.object_type is None:
        return made
    # A function mapped twice (``pairwise``) has a batch axis of each mapping.
    taken = {tv.name for tv in made.variables}
    name = next(
        n
        for n in (VMAP_AXIS + suffix for suffix in ("", *"23456789"))
        if n not in taken
    )
    batch = rigid_type(Sym(name, "cdl-vmap"), shapes.object_type)
    mapped_axes = [a for a in in_axes if not isinstance(a, str)]
    args = [
        _set_any_batch(t, a, batch) if isinstance(a, int) else t
        for t, a in zip(made.arg_types, mapped_axes, strict=True)
    ]
    if all(a is t for a, t in zip(args, made.arg_types, strict=True)):
        return made  # no mapped argument is an array: nothing would bind the axis
    outs = out_axis if isinstance(out_axis, list) else None
    ret = get_proper_type(made.ret_type)
    if isinstance(out_axis, int):
        ret_type = _set_any_batch(made.ret_type, out_axis, batch)
    elif (
        outs is not None
        and isinstance(ret, TupleType)
        and ret.partial_fallback.type.fullname == "builtins.tuple"
    ):
        ret_type = ret.copy_modified(
            items=[
                i if not isinstance(a, int) else _set_any_batch(i, a, batch)
                for i, a in zip(ret.items, outs, strict=True)
            ]
        )
    else:
        ret_type = made.ret_type
    return made.copy_modified(
        arg_types=args, ret_type=ret_type, variables=[*made.variables, batch]
    )


def _set_any_batch(t: Type, axis: int, batch: Type) -> Type:
    """`t`, a batched array or tuple of them, with `batch` as the axis at `axis`."""
    p = get_proper_type(t)
    if (
        isinstance(p, TupleType)
        and p.partial_fallback.type.fullname == "builtins.tuple"
    ):
        # A NamedTuple's fields keep a batch axis of unknown size: it is accepted
        # where it is declared, its sizes not bound.
        return p.copy_modified(items=[_set_any_batch(i, axis, batch) for i in p.items])
    if isinstance(p, UnionType):
        items = [_set_any_batch(i, axis, batch) for i in p.items]
        return UnionType.make_union(items, p.line, p.column)
    if not isinstance(p, Instance) or p.type.fullname != ARRAY_CLASS:
        return t
    dims = array_dims(p)
    if dims is None or (star(dims) and axis != 0):
        return t
    position = axis if axis >= 0 else len(dims) + axis
    if not 0 <= position < len(p.args) or dims[position] is not None:
        return t
    args = list(p.args)
    args[position] = batch
    return p.copy_modified(args=args)


def _in_axes(expr: Expression) -> _Axes:
    if isinstance(expr, TupleExpr | ListExpr):
        return [_axis(e) for e in expr.items]
    return _axis(expr)


def _axis(expr: Expression) -> int | None | str:
    """One entry of ``in_axes``/``out_axes``: an int, None (not mapped), "?"."""
    if isinstance(expr, NameExpr) and expr.fullname == "builtins.None":
        return None
    value = fold(expr)
    return "?" if value is None else value


def _any() -> Type:
    return AnyType(TypeOfAny.special_form)


def erased_type(env: Env, typ: Type) -> Type:
    """`typ` with every array's shape forgotten."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return env.shape_type(Arr((Star(None),)))
    if isinstance(t, TupleType):
        return t.copy_modified(items=[erased_type(env, i) for i in t.items])
    return typ


def batched_type(env: Env, typ: Type, axis: int = 0) -> Type:
    """`typ` with a batch axis of unknown size at `axis` of each array."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        space = space_of(t)
        assert isinstance(space, Arr)
        if axis == 0:
            return env.shape_type(_batched(space))
        rank = len(space.dims) + 1
        if star(space.dims) or not -rank <= axis < rank:
            return env.shape_type(Arr((Star(None),)))
        dims = list(space.dims)
        dims.insert(axis % rank, None)
        return env.shape_type(Arr(tuple(dims)))
    if isinstance(t, TupleType):
        return t.copy_modified(items=[batched_type(env, i, axis) for i in t.items])
    if isinstance(t, UnionType):
        # An optional array (``Float[Array, "t i"] | None``): None maps to None.
        items = [batched_type(env, i, axis) for i in t.items]
        return UnionType.make_union(items, t.line, t.column)
    return typ


def fn_scan(env: Env, ctx: FunctionContext) -> Type:
    """``lax.scan``: the body's outputs, stacked along a new leading axis.

    An array `xs` is checked against the body's second argument, one element (its
    leading axis dropped) at a time.
    """
    ret = get_proper_type(ctx.default_return_type)
    body = _step(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
    wrong = isinstance(body, CallableType) and not _check_elements(env, ctx, body)
    if not isinstance(ret, TupleType) or len(ret.items) != 2:
        return ctx.default_return_type
    if not isinstance(body, CallableType):
        return ctx.default_return_type
    out = get_proper_type(body.ret_type)
    if not isinstance(out, TupleType) or len(out.items) != 2:
        return ctx.default_return_type
    stacked = get_proper_type(out.items[1])
    if not isinstance(stacked, Instance) or stacked.type.fullname != ARRAY_CLASS:
        return ctx.default_return_type
    result = batched_type(env, stacked)
    # Stacked along as many steps as the scan takes (unknown where xs is wrong).
    dims, length = array_dims(result), None if wrong else _scan_length(ctx)
    if length is not None and dims and dims[0] is None:
        result = env.array([length, *dims[1:]], result)
    return ret.copy_modified(items=[ret.items[0], result])


def _scan_length(ctx: FunctionContext) -> Dim:
    """How many steps a scan takes: ``length=``, or the leading axis of ``xs``."""
    given = {
        formal: (types[0], exprs[0])
        for formal, types, exprs in zip(
            ctx.callee_arg_names, ctx.arg_types, ctx.args, strict=False
        )
        if formal and len(types) == 1 and len(exprs) == 1
    }
    if "length" in given:
        value = fold(given["length"][1])
        if value is not None:
            return value
    if "xs" not in given:
        return None
    xs = get_proper_type(given["xs"][0])
    first = (
        get_proper_type(xs.items[0]) if isinstance(xs, TupleType) and xs.items else xs
    )
    dims = array_dims(first)
    if not dims or isinstance(dims[0], Star):
        return None
    return dims[0]


def fn_while_loop(env: Env, ctx: FunctionContext) -> Type:
    """``lax.while_loop`` of an array or a tuple: the carry's type (jax's ``T``).

    The body of an array carry must give it back with the same shape (a
    ``[shape]`` error where it does not).

    The stubs answer ``Any`` for a carry that is not one array; a tuple of a known
    length keeps its items (``x, i = while_loop(cond, body, (x0, 0))``), as without
    the stubs, so that returning ``x`` is no ``[no-any-return]``. A carry of another
    kind (``tuple(a_list)``) stays ``Any``.
    """
    ret = get_proper_type(ctx.default_return_type)
    if len(ctx.arg_types) != 3 or not ctx.arg_types[2] or not ctx.arg_types[1]:
        return ctx.default_return_type
    init = get_proper_type(ctx.arg_types[2][0])
    carry = array_dims(init)
    if carry is not None:
        # One array: the body, called as ``body(carry)``, keeps its shape.
        body = _step(ctx.arg_types[1][0])
        if body is not None and body.arg_types:
            _check_carry(env, ctx, "while_loop", carry, body, 0)
        return remove_instance_last_known_values(init)
    if isinstance(ret, AnyType) and isinstance(init, TupleType):
        return remove_instance_last_known_values(init)
    return ctx.default_return_type


def fn_fori_loop(env: Env, ctx: FunctionContext) -> Type:
    """``lax.fori_loop(lower, upper, body, init)`` of one array: init's type.

    The body, called as ``body(i, carry)``, must take the carry and give it back
    with the same shape; a ``[shape]`` error says where it does not. A carry that is
    not one array keeps jax's answer (any type).
    """
    if len(ctx.arg_types) < 4 or not ctx.arg_types[3] or not ctx.arg_types[2]:
        return ctx.default_return_type
    init = get_proper_type(ctx.arg_types[3][0])
    carry = array_dims(init)
    if carry is None:
        return ctx.default_return_type
    body = _step(ctx.arg_types[2][0])
    if body is not None and len(body.arg_types) >= 2:
        _check_carry(env, ctx, "fori_loop", carry, body, 1)
    return remove_instance_last_known_values(init)


def _check_carry(
    env: Env,
    ctx: FunctionContext,
    loop: str,
    carry: tuple[Dim, ...],
    body: CallableType,
    position: int,
) -> None:
    """A ``[shape]`` error where a loop's body does not take or give its carry.

    The body's parameter at `position` takes the carry; the body's own named
    dimensions are bound by the carry, as at a call.
    """
    scopes = in_scope(ctx.api)
    takes = array_dims(body.arg_types[position])
    gives = array_dims(body.ret_type)
    bound: dict[Sym, Dim] = {}
    if takes is not None and len(takes) == len(carry):
        for c, t in zip(carry, takes, strict=True):
            if isinstance(t, Sym) and _own(t, scopes) and _known(c, scopes):
                bound.setdefault(t, c)
    for dims, text in ((takes, _messages.loop_takes), (gives, _messages.loop_gives)):
        if dims is None or star(dims) or star(carry):
            continue
        dims = tuple(bound.get(d, d) if isinstance(d, Sym) else d for d in dims)
        if len(dims) == len(carry) and all(
            not (_known(d, scopes) and _known(c, scopes)) or d == c
            for d, c in zip(dims, carry, strict=True)
        ):
            continue
        report(ctx.api, text(loop, render(Arr(dims)), render(Arr(carry))), ctx.context)
        return


def _step(typ: Type) -> CallableType | None:
    """The signature of a function value: a function, a ``partial`` of one, a module.

    None for an untyped ``__call__`` and for other values.
    """
    t = get_proper_type(typ)
    if isinstance(t, CallableType):
        return t
    if not isinstance(t, Instance):
        return None
    if t.type.fullname == PARTIAL and t.extra_attrs is not None:
        partial = get_proper_type(t.extra_attrs.attrs.get("__mypy_partial"))
        return partial if isinstance(partial, CallableType) else None
    call = get_proper_type(find_member("__call__", t, t))
    return call if isinstance(call, CallableType) and not call.implicit else None


def _check_elements(env: Env, ctx: FunctionContext, body: CallableType) -> bool:
    """A ``[shape]`` error where an element of ``xs`` is not the body's input.

    An ``xs`` of a tuple of arrays is checked item by item against a step that
    takes a tuple. False where an error was reported.
    """
    given = {
        formal: (types[0], exprs[0])
        for formal, types, exprs in zip(
            ctx.callee_arg_names, ctx.arg_types, ctx.args, strict=False
        )
        if formal and len(types) == 1 and len(exprs) == 1
    }
    if "xs" not in given or len(body.arg_types) < 2:
        return True
    xs, expr = get_proper_type(given["xs"][0]), given["xs"][1]
    takes = get_proper_type(body.arg_types[1])
    pairs: list[tuple[Type, Type, Expression]] = [(xs, takes, expr)]
    if isinstance(xs, TupleType) and isinstance(takes, TupleType):
        if len(xs.items) != len(takes.items):
            return True
        items = expr.items if isinstance(expr, TupleExpr) else [expr] * len(xs.items)
        pairs = list(zip(xs.items, takes.items, items, strict=True))
    scopes = in_scope(ctx.api)
    # The step's own names, bound by the carry it is given first.
    carry = array_dims(given["init"][0]) if "init" in given else None
    first = array_dims(body.arg_types[0]) if body.arg_types else None
    bound: dict[Sym, Dim] = {}
    if carry is not None and first is not None and len(carry) == len(first):
        for c, t in zip(carry, first, strict=True):
            if _own(t, scopes) and _known(c, scopes) and isinstance(t, Sym):
                bound.setdefault(t, c)
    fits = True
    for stacked_type, wanted_type, at in pairs:
        stacked, wanted = array_dims(stacked_type), array_dims(wanted_type)
        if not stacked or wanted is None or star(stacked) or star(wanted):
            continue
        element = stacked[1:]
        wanted = tuple(bound.get(w, w) if isinstance(w, Sym) else w for w in wanted)
        if len(element) == len(wanted) and all(
            not (_known(e, scopes) and _known(w, scopes)) or e == w
            for e, w in zip(element, wanted, strict=True)
        ):
            continue
        why = (
            f"each element of xs is {render(Arr(element))}, "
            f"but the step takes {render(Arr(wanted))}"
        )
        env.fail(ctx.api, at, "scan", why)
        fits = False
    return fits


def _known(d: Dim, scopes: set[str]) -> bool:
    """A size or a named dimension of a scope being checked: equal to itself only.

    A step's own names (not its enclosing function's) are bound by each call.
    """
    return (isinstance(d, int) and not isinstance(d, bool)) or (
        isinstance(d, Sym) and d.scope in scopes
    )


def _own(d: Dim, scopes: set[str]) -> bool:
    """A named dimension of a step function itself, bound at each call of it."""
    return isinstance(d, Sym) and d.scope not in scopes and d.name.isidentifier()


def _batched(space: Arr) -> Arr:
    return Arr((None, *space.dims))


def erase(sig: CallableType, names: frozenset[str]) -> CallableType:
    erased = {
        tv.id: AnyType(TypeOfAny.special_form)
        for tv in sig.variables
        if tv.name in names
    }
    if not erased:
        return sig
    out = expand_type(sig, erased)
    assert isinstance(out, CallableType)
    return out.copy_modified(
        variables=[tv for tv in sig.variables if tv.id not in erased]
    )


def _pair(left: Sequence[Dim], right: Sequence[Dim], why: Mismatch) -> str:
    return f"{render(Arr(tuple(left)))} @ {render(Arr(tuple(right)))}: {why}"


def _sequence_dims(ctx: FunctionContext) -> list[tuple[Dim, ...]] | None:
    if not ctx.args or len(ctx.args[0]) != 1:
        return None
    expr = ctx.args[0][0]
    if not isinstance(expr, TupleExpr | ListExpr):
        return None
    typ = get_proper_type(ctx.arg_types[0][0])
    items: list[Type]
    if isinstance(typ, TupleType):
        items = list(typ.items)
    elif isinstance(ctx.api, TypeChecker):
        items = [ctx.api.expr_checker.accept(e) for e in expr.items]
    else:
        return None
    out = []
    for item in items:
        dims = array_dims(item)
        if dims is None:
            return None
        out.append(dims)
    return out


def _keyword_int(ctx: FunctionContext, name: str, default: int) -> int | None:
    for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if formal == name and exprs:
            return fold(exprs[0])
    return default


_PYTHON_NUMBERS: Final = frozenset(
    f"builtins.{name}" for name in ("bool", "int", "float", "complex")
)


def same_as_first(env: Env, ctx: FunctionContext) -> Type:
    """An elementwise function: its argument's shape; of a Python number, 0-d.

    ``jnp.sqrt(d)`` of an ``int`` is an array of shape ``()``, so that
    ``x / jnp.sqrt(d)`` keeps the shape of `x`.
    """
    if ctx.arg_types and len(ctx.arg_types[0]) == 1:
        first = get_proper_type(ctx.arg_types[0][0])
        if isinstance(first, LiteralType):
            first = first.fallback
        if isinstance(first, Instance) and first.type.fullname == ARRAY_CLASS:
            return first
        if isinstance(first, Instance) and first.type.fullname in _PYTHON_NUMBERS:
            ret = get_proper_type(ctx.default_return_type)
            if isinstance(ret, Instance) and ret.type.fullname == ARRAY_CLASS:
                return env.shape_type(Arr(()))
    return ctx.default_return_type


def same_as_object(ctx: MethodContext) -> Type:
    t = get_proper_type(ctx.type)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return t
    return ctx.default_return_type


FUNCTION_RULES: Final[dict[str, Callable[[Env, FunctionContext], Type]]] = {
    "jax.numpy.matmul": fn_matmul,
    "jax.numpy.dot": fn_matmul,
    "jax.numpy.tensordot": fn_tensordot,
    "jax.numpy.concatenate": fn_join,
    "jax.numpy.concat": fn_join,
    "jax.numpy.stack": fn_join,
    "jax.numpy.hstack": fn_join,
    "jax.numpy.vstack": fn_join,
    "jax.numpy.reshape": fn_reshape,
    "jax.numpy.transpose": fn_transpose,
    **{
        f"jax.numpy.{name}": axes_hook(name)
        for name in ("swapaxes", "moveaxis", "expand_dims", "squeeze", "ravel")
        + tuple(sorted(_CUMULATIVE | _SORTS))
    },
    "jax.numpy.einsum": fn_einsum,
    "jax.numpy.where": fn_where,
    "jax.numpy.arange": fn_arange,
    "jax.numpy.eye": fn_eye,
    "jax.numpy.repeat": fn_repeat,
    "jax.numpy.tile": fn_tile,
    "jax.numpy.clip": fn_clip,
    "jax.numpy.split": fn_split,
    "jax.numpy.linspace": fn_linspace,
    "jax.numpy.broadcast_to": fn_broadcast_to,
    "jax.numpy.diag": fn_diag,
    "jax.random.permutation": fn_permutation,
    "jax._src.random.core.permutation": fn_permutation,
    **{f"jax._src.numpy.fft.{name}": fn_fft for name in _FFT_LENGTH},
    **{
        f"jax._src.scipy.linalg.{name}": fn_solve
        for name in ("solve_triangular", "cho_solve")
    },
    "jax.numpy.linalg.solve": fn_solve,
    **{
        f"{module}.cholesky": lambda env, ctx: same_as_first(env, ctx)
        for module in ("jax._src.numpy.linalg", "jax._src.scipy.linalg")
    },
    **{
        f"jax.numpy.{name}_like": fn_like for name in ("zeros", "ones", "empty", "full")
    },
    **{f"jax.numpy.{name}": fn_asarray for name in ("array", "asarray", "copy")},
    "jax.numpy.zeros": fn_filled,
    "jax.numpy.ones": fn_filled,
    "jax.numpy.empty": fn_filled,
    "jax.numpy.full": fn_filled,
    "jax.random.normal": fn_random,
    "jax.random.uniform": fn_random,
    "jax._src.random.core.normal": fn_random,
    "jax._src.random.core.uniform": fn_random,
    **{
        f"{module}.{name}": rule
        for module in ("jax.random", "jax._src.random.core")
        for name, rule in (
            ("randint", fn_random_of_shape),
            ("bernoulli", fn_random_of_shape),
            ("truncated_normal", fn_random_of_shape),
            *(
                (name, fn_random)
                for name in "gumbel laplace logistic exponential cauchy".split()
            ),
        )
    },
    "jax.numpy.take_along_axis": fn_take_along_axis,
    "jax.numpy.outer": fn_outer,
    "jax._src.lax.slicing.dynamic_slice": fn_dynamic_slice,
    "jax._src.lax.slicing.dynamic_slice_in_dim": fn_dynamic_slice_in_dim,
    "jax._src.lax.slicing.dynamic_update_slice": fn_dynamic_update_slice,
    "jax.nn.one_hot": fn_one_hot,
    "jax._src.nn.functions.one_hot": fn_one_hot,
    "jax._src.api.vmap": fn_vmap,
    "equinox._vmap_pmap.filter_vmap": fn_vmap,
    "jax._src.lax.control_flow.loops.scan": fn_scan,
    "jax.lax.while_loop": fn_while_loop,
    "jax.lax.fori_loop": fn_fori_loop,
    "jax._src.lax.lax.top_k": fn_top_k,
    "jax.numpy.pad": fn_pad,
    **{
        f"jax._src.ops.scatter.segment_{name}": fn_segment_sum
        for name in ("sum", "max", "min", "prod")
    },
}
