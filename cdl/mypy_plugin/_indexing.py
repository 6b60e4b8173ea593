"""Shape rules of indexing: ``x[i]``, ``x[..., None]``, ``x[idx]``, ``jax.lax.top_k``.

Basic indexing (integers, slices, ``None``, ``...``) drops, keeps or adds axes.
An index that is an array of integers gathers: NumPy's rules put the broadcast
shape of the index arrays where the first of them stands (at the front when
basic indices separate them), so ``table[ids]`` of a ``"v d"`` table and ``" t"``
ids is ``[t, d]``. The static type does not hold the dtype, and a boolean mask
selects a number of elements known only at run time: an array index counts as
integers only where the program shows it (an ``Int[...]`` annotation, a result of
``jnp.argsort``, ``jnp.argmax``, ``jnp.arange``, ``jax.lax.top_k``'s indices);
another array index leaves the result of any shape.
"""

from collections.abc import Sequence
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import (
    ARG_NAMED,
    AssignmentStmt,
    CallExpr,
    EllipsisExpr,
    Expression,
    ForStmt,
    FuncItem,
    IndexExpr,
    IntExpr,
    ListExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    OperatorAssignmentStmt,
    OpExpr,
    RefExpr,
    SliceExpr,
    StarExpr,
    Statement,
    TupleExpr,
    UnaryExpr,
    Var,
    WithStmt,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext
from mypy.types import Instance, TupleType, Type, UnboundType, get_proper_type

from ._bindings import blocks_of
from ._shapes import Dim, Mismatch, Sym, broadcast, canonical, polynomial, render_dim
from ._types import Env, array_dims, fold, is_int, star

# jaxtyping's integer dtypes.
_INTEGER_DTYPES: Final = frozenset(
    "Int UInt Integer Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64".split()
)
# Functions whose result holds integers.
_INTEGER_RESULTS: Final = frozenset(
    [
        *(
            f"jax.numpy.{name}"
            for name in "argsort argmax argmin nanargmax nanargmin arange".split()
        ),
        "jax._src.random.core.randint",
        "jax._src.random.core.permutation",
    ]
)
# Array methods whose result holds integers.
_INTEGER_METHODS: Final = frozenset({"argsort", "argmax", "argmin"})
_TOP_K: Final = "jax._src.lax.lax.top_k"
# Arithmetic that keeps integers integers.
_INTEGER_OPS: Final = frozenset({"+", "-", "*", "//", "%"})
_DEPTH: Final = 4


def array_index(env: Env, ctx: MethodContext) -> Type:
    """``x[i]``, ``x[:, 0]``, ``x[..., None]``, ``x[idx]``: the indexed shape."""
    dims = array_dims(ctx.type)
    if dims is None or star(dims) or not ctx.args or len(ctx.args[0]) != 1:
        return ctx.default_return_type
    index = ctx.args[0][0]
    whole = get_proper_type(ctx.arg_types[0][0])
    if isinstance(index, TupleExpr):
        if not isinstance(whole, TupleType) or len(whole.items) != len(index.items):
            return ctx.default_return_type
        items, types = list(index.items), list(whole.items)
    else:
        items, types = [index], [ctx.arg_types[0][0]]
    try:
        out = indexed(ctx.api, dims, items, types)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, "index", str(why))
    return env.array(out, ctx.default_return_type)


def indexed(
    api: CheckerPluginInterface,
    dims: tuple[Dim, ...],
    items: list[Expression],
    types: list[Type],
) -> tuple[Dim, ...] | None:
    """The shape of `dims` indexed by `items` (of `types`); None when unknown."""
    kinds: list[str] = []
    shapes: list[tuple[Dim, ...]] = []
    for item, typ in zip(items, types, strict=True):
        found = array_dims(typ)
        if is_none(item):
            kinds.append("new")
        elif isinstance(item, SliceExpr):
            kinds.append("slice")
        elif is_int(typ):
            kinds.append("int")
        elif _is_ellipsis(item):
            kinds.append("...")
        elif found is not None and not star(found) and integers(api, item):
            kinds.append("array")
            shapes.append(found)
        else:
            return None
    if kinds.count("...") > 1:
        return None
    used = sum(k in ("slice", "int", "array") for k in kinds)
    if used > len(dims):
        raise Mismatch(f"{used} indices for an array of rank {len(dims)}")
    if "..." in kinds:
        at = kinds.index("...")
        fill = ["slice"] * (len(dims) - used)
        kinds[at : at + 1] = fill
        items[at : at + 1] = [SliceExpr(None, None, None)] * len(fill)
    else:
        kinds += ["slice"] * (len(dims) - used)
        items += [SliceExpr(None, None, None)] * (len(dims) - used)
    gathered = "array" in kinds
    out: list[Dim] = []
    first: int | None = None
    rest = list(dims)
    for kind, item in zip(kinds, items, strict=True):
        if kind == "new":
            out.append(1)
            continue
        dim = rest.pop(0)
        if kind == "slice" and isinstance(item, SliceExpr):
            out.append(_sliced(dim, item))
        elif gathered and first is None:
            first = len(out)
    if not gathered:
        return tuple(out)
    joint: tuple[Dim, ...] = ()
    for shape in shapes:
        joint = broadcast(joint, shape)
    advanced = [i for i, k in enumerate(kinds) if k in ("array", "int")]
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
    at = first if adjacent and first is not None else 0
    return (*out[:at], *joint, *out[at:])


def is_none(expr: Expression) -> bool:
    """Whether `expr` is the constant ``None``."""
    return isinstance(expr, NameExpr) and expr.fullname == "builtins.None"


def _is_ellipsis(expr: Expression) -> bool:
    return isinstance(expr, EllipsisExpr)


def slice_bounds(item: SliceExpr) -> tuple[int | None, int | None, int | None] | None:
    """The begin, end and step of the slice `item`, None where left out.

    None when a bound given is not a constant.
    """
    parts = (item.begin_index, item.end_index, item.stride)
    begin, end, step = (None if p is None else fold(p) for p in parts)
    bounds = (begin, end, step)
    if any(v is None and p is not None for v, p in zip(bounds, parts, strict=True)):
        return None
    return bounds


def _sliced(dim: Dim, item: SliceExpr) -> Dim:
    """The length of ``dim`` after the slice `item` (None when unknown)."""
    bounds = slice_bounds(item)
    if bounds is None:
        return None
    if bounds == (None, None, None):
        return dim
    if isinstance(dim, Sym):
        return _trimmed(dim, *bounds)
    if not isinstance(dim, int) or bounds[2] == 0:
        return None
    return len(range(dim)[slice(*bounds)])


def _trimmed(dim: Sym, begin: int | None, end: int | None, step: int | None) -> Dim:
    """A named axis without `begin` entries in front and ``-end`` at the back.

    ``x[1:]`` and ``x[:-1]`` of ``"t"`` are ``t-1``, as jaxtyping would write them;
    ``x[:1]`` and ``x[-1:]`` are 1 (as ``t-1`` does, this takes the axis to be
    non-empty); a slice of other bounds (another positive end, a step) is of
    unknown length: ``x[:2]`` of an axis of 1 is 1 long.
    """
    if step in (None, 1) and (begin, end) in ((None, 1), (0, 1), (-1, None)):
        return 1
    if step not in (None, 1) or dim.scope is None or polynomial(dim.name) is None:
        return None
    front = begin or 0
    back = end or 0
    if front < 0 or back > 0 or (end == 0):
        return None
    size = canonical(f"({dim.name})-{front}+{back}")
    return Sym(size, dim.scope) if isinstance(size, str) else None


# -- what shows that an index holds integers -----------------------------------------


def integers(api: CheckerPluginInterface, expr: Expression, depth: int = 0) -> bool:
    """Whether the program shows that the array `expr` holds integers.

    >>> integers(None, IntExpr(3))
    True
    """
    if depth > _DEPTH:
        return False
    if isinstance(expr, IntExpr):
        return True
    if isinstance(expr, CallExpr):
        return _integer_call(expr)
    if isinstance(expr, IndexExpr):
        return integers(api, expr.base, depth + 1)
    if isinstance(expr, UnaryExpr) and expr.op == "-":
        return integers(api, expr.expr, depth + 1)
    if isinstance(expr, OpExpr) and expr.op in _INTEGER_OPS:
        return integers(api, expr.left, depth + 1) and integers(
            api, expr.right, depth + 1
        )
    if isinstance(expr, NameExpr) and isinstance(expr.node, Var):
        return _integer_name(api, expr.node, depth)
    return False


def _integer_call(call: CallExpr) -> bool:
    callee = call.callee
    if isinstance(callee, RefExpr) and callee.fullname in _INTEGER_RESULTS:
        return True
    if isinstance(callee, MemberExpr) and callee.name in _INTEGER_METHODS:
        return True
    if isinstance(callee, MemberExpr) and callee.name == "astype" and call.args:
        dtype = call.args[0]
        name = dtype.name if isinstance(dtype, MemberExpr | NameExpr) else ""
        return name.startswith(("int", "uint"))
    if (
        isinstance(callee, RefExpr)
        and callee.fullname in ("jax.numpy.array", "jax.numpy.asarray")
        and call.args
        and all(kind != ARG_NAMED for kind in call.arg_kinds[:1])
    ):
        return _int_literals(call.args[0])
    return False


def _int_literals(expr: Expression) -> bool:
    if isinstance(expr, IntExpr):
        return True
    if isinstance(expr, ListExpr | TupleExpr):
        return bool(expr.items) and all(_int_literals(e) for e in expr.items)
    return False


def _integer_name(api: CheckerPluginInterface, var: Var, depth: int) -> bool:
    """Whether `var`, a parameter or a variable, holds integers wherever it is bound."""
    if not isinstance(api, TypeChecker):
        return False
    for scope in reversed(api.scope.stack):
        if isinstance(scope, FuncItem):
            for argument in scope.arguments:
                if argument.variable is var:
                    return _integer_annotation(argument.type_annotation)
    body = _body_of(api)
    found = [s for s in _assignments(body) if _binds(s, var)]
    return bool(found) and all(_integer_value(api, s, var, depth) for s in found)


def _body_of(api: TypeChecker) -> list[Statement]:
    function = api.scope.current_function()
    if function is not None:
        return function.body.body
    module = api.scope.stack[0] if api.scope.stack else None
    return module.defs if isinstance(module, MypyFile) else []


def _integer_annotation(annotation: Type | None) -> bool:
    t = annotation
    return isinstance(t, UnboundType) and t.name.rsplit(".", 1)[-1] in _INTEGER_DTYPES


def _binds(stmt: AssignmentStmt, var: Var) -> bool:
    return any(_names(lvalue, var) for lvalue in stmt.lvalues)


def _names(lvalue: Expression, var: Var) -> bool:
    if isinstance(lvalue, NameExpr):
        return lvalue.node is var
    if isinstance(lvalue, TupleExpr | ListExpr):
        return any(_names(item, var) for item in lvalue.items)
    if isinstance(lvalue, StarExpr):  # ``*batch, x, y = w.shape``
        return _names(lvalue.expr, var)
    return False


def _integer_value(
    api: CheckerPluginInterface, stmt: AssignmentStmt, var: Var, depth: int
) -> bool:
    """Whether the assignment `stmt` binds `var` to integers."""
    if _integer_annotation(stmt.unanalyzed_type):
        return True
    rvalue = stmt.rvalue
    for lvalue in stmt.lvalues:
        if isinstance(lvalue, NameExpr) and lvalue.node is var:
            return integers(api, rvalue, depth + 1)
        if isinstance(lvalue, TupleExpr) and isinstance(rvalue, CallExpr):
            # ``values, indices = jax.lax.top_k(x, k)``
            callee = rvalue.callee
            position = [i for i, e in enumerate(lvalue.items) if _names(e, var)]
            return (
                isinstance(callee, RefExpr)
                and callee.fullname == _TOP_K
                and position == [1]
            )
    return False


def sole_assignment(api: TypeChecker, var: Var) -> AssignmentStmt | None:
    """The one assignment that binds the local `var` (None: a parameter, or not one).

    A name bound again (another assignment, ``+=``, a ``for`` target) has no
    single value.
    """
    found = assignments_of(api, var)
    return found[0] if len(found) == 1 else None


def number_bindings(api: TypeChecker, var: Var) -> list[AssignmentStmt] | None:
    """The assignments of the current function that bind `var` (a parameter too).

    None where the function binds it otherwise too (``+=``, a ``for`` target).
    """
    function = api.scope.current_function()
    if function is None:
        return None
    body = function.body.body
    if _rebound(body, var):
        return None
    return [s for s in _assignments(body) if _binds(s, var)]


def assignments_of(api: TypeChecker, var: Var) -> list[AssignmentStmt]:
    """The assignments that bind the local `var`.

    None for a parameter, or a name bound otherwise too (``+=``, a ``for`` target).
    """
    function = api.scope.current_function()
    if function is None or any(a.variable is var for a in function.arguments):
        return []
    body = function.body.body
    if _rebound(body, var):
        return []
    return [s for s in _assignments(body) if _binds(s, var)]


def _rebound(body: Sequence[Statement], var: Var) -> bool:
    """Whether `body` binds `var` other than by a plain assignment."""
    for stmt in body:
        if isinstance(stmt, OperatorAssignmentStmt) and _names(stmt.lvalue, var):
            return True
        if isinstance(stmt, ForStmt) and _names(stmt.index, var):
            return True
        if isinstance(stmt, WithStmt) and any(
            t is not None and _names(t, var) for t in stmt.target
        ):
            return True
        if any(_rebound(b.body, var) for b in blocks_of(stmt)):
            return True
    return False


def _assignments(body: Sequence[Statement]) -> list[AssignmentStmt]:
    """The assignments of `body`, nested functions and classes aside."""
    out: list[AssignmentStmt] = []
    for stmt in body:
        if isinstance(stmt, AssignmentStmt):
            out.append(stmt)
        for block in blocks_of(stmt):
            out.extend(_assignments(block.body))
    return out


# -- jax.lax.top_k ----------------------------------------------------------------


def fn_top_k(env: Env, ctx: FunctionContext) -> Type:
    """``jax.lax.top_k(x, k)``: values and indices, the last axis of size `k`."""
    result = get_proper_type(ctx.default_return_type)
    if len(ctx.arg_types) < 2 or len(ctx.arg_types[0]) != 1 or not ctx.args[1]:
        return ctx.default_return_type
    dims = array_dims(ctx.arg_types[0][0])
    if dims is None or star(dims) or not dims or not isinstance(result, TupleType):
        return ctx.default_return_type
    axis = -1
    for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if formal == "axis" and exprs:
            found = fold(exprs[0])
            if found is None:
                return ctx.default_return_type
            axis = found
    if not -len(dims) <= axis < len(dims):
        return env.fail(
            ctx.api, ctx.context, "top_k", f"axis {axis} of f32[{_show(dims)}]"
        )
    k = fold(ctx.args[1][0])
    along = dims[axis]
    if k is not None and isinstance(along, int) and k > along:
        return env.fail(
            ctx.api, ctx.context, "top_k", f"k={k} > {along} entries along the axis"
        )
    out = list(dims)
    out[axis] = k
    item = env.array(out, ctx.default_return_type)
    if not isinstance(get_proper_type(item), Instance):
        return ctx.default_return_type
    return result.copy_modified(items=[item, item])


def _show(dims: Sequence[Dim]) -> str:
    return ",".join(render_dim(d) for d in dims)
