"""Re-binding a name to an array of another shape, as ``allow_redefinition`` does.

Plain mypy sees one type, ``Array``, before and after ``x = x.reshape(b, -1)``; the
plugin sees two shapes. mypy lets a parameter or an unannotated variable take a new
type only with ``allow_redefinition``, and even then it keeps the old shape wherever
the new one holds an unknown size (it narrows the declared ``[b, 28, 28]`` by the
assigned ``[Any, Any]`` to ``Array[*tuple[Never, ...]]``), and after a loop it keeps
the shape from before the loop in a union. No plugin hook reaches mypy's binder, so
the hooks that compute an array re-bind the name themselves when their call is the
right-hand side of an assignment to it:

- a parameter or an unannotated variable (those ``allow_redefinition`` re-types)
  takes the new shape; inside a loop or a branch the join of the old and new
  shapes, a shape that holds on every iteration and every path (equal sizes kept,
  others unknown, another rank: any shape);
- an annotated variable keeps its declared shape, and assigning another one is a
  ``[shape]`` error, so ``disable_error_code = shape`` silences it.

mypy then checks the assignment against a shape that accepts it (any shape, or with
``allow_redefinition`` the new one), and every later read sees the new shape.
"""

from typing import Final

from mypy import errorcodes as codes
from mypy.binder import CurrentType
from mypy.checker import TypeChecker
from mypy.literals import literal_hash
from mypy.messages import format_type
from mypy.nodes import (
    GDEF,
    LDEF,
    AssignmentStmt,
    Block,
    ClassDef,
    Context,
    Decorator,
    Expression,
    ForStmt,
    FuncBase,
    FuncDef,
    IfStmt,
    ListExpr,
    MatchStmt,
    MemberExpr,
    NameExpr,
    Node,
    OverloadedFuncDef,
    Statement,
    SymbolNode,
    TryStmt,
    TupleExpr,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import AttributeContext, FunctionContext, MethodContext
from mypy.subtypes import is_subtype
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    TupleType,
    Type,
    TypeOfAny,
    UninhabitedType,
    UnionType,
    get_proper_type,
)

from . import _messages
from ._shapes import Dim, Star, render_dim
from ._types import ARRAY_CLASS, Shapes, array_dims, report
from ._unknown import reads

# (assigned name or names, inside a branch or loop) for each right-hand side, by
# scope; the items of ``x, y = f(x), g(y)`` are right-hand sides of their own.
_Targets = dict[int, tuple[NameExpr | TupleExpr | MemberExpr, bool]]
_TARGETS: Final[dict[int, tuple[Node, _Targets]]] = {}
# The variables first bound by a call the plugin typed otherwise than mypy does,
# with the type mypy gives that call.
_REFINED: Final[dict[int, tuple[Var, Type]]] = {}
# The right-hand sides whose name `_retyped` gave any type.
_RETYPED: Final[dict[int, Context]] = {}
# Each call and name it re-bound: the binder's frame it did so in, the name's type
# and the type it had there before.
_FIRST: Final[dict[tuple[int, int], tuple[Context, object, Type, Type]]] = {}


def redefine(
    ctx: FunctionContext | MethodContext | AttributeContext, result: Type
) -> Type:
    """`result`, the value of a call, re-binding the name it is assigned to.

    **Arguments:** `ctx`, the hook's context (an attribute's: ``x = x.T``);
    `result`, the array type computed.

    **Returns:** the type mypy should give the call (`result` where no name is
    re-bound).
    """
    api = ctx.api
    proper = get_proper_type(result)
    if not isinstance(api, TypeChecker):
        return result
    if not (array_dims(result) is not None or isinstance(proper, TupleType)):
        if isinstance(ctx, AttributeContext):
            return result
        return _retyped(api, ctx, result)
    found = _target(api, ctx.context)
    if found is None:
        return result
    target, branch = found
    if isinstance(target, MemberExpr):
        return _attribute(api, target, result)
    if isinstance(target, TupleExpr):
        if not isinstance(proper, TupleType) or len(proper.items) != len(target.items):
            return result
        items = [
            _rebound(api, ctx.context, name, branch, item, in_tuple=True)
            if isinstance(name, NameExpr) and _rebindable(api, name)
            else item
            for name, item in zip(target.items, proper.items, strict=True)
        ]
        return proper.copy_modified(items=items)
    if not _rebindable(api, target):
        return result
    return _rebound(api, ctx.context, target, branch, result)


def _rebound(
    api: TypeChecker,
    context: Context,
    name: NameExpr,
    branch: bool,
    result: Type,
    *,
    in_tuple: bool = False,
) -> Type:
    """`result` assigned to `name`, which takes its shape (see `redefine`).

    **Arguments:** `in_tuple`, whether `name` is one of several names a tuple is
    unpacked to (``carry, ys = lax.scan(step, carry, xs)``).
    """
    if array_dims(result) is None:
        return result
    var = name.node
    assert isinstance(var, Var) and var.type is not None
    frame = api.binder.frames[-1]
    key = (id(context), id(var))
    first = _FIRST.get(key)
    if first is not None and first[0] is context and first[1] is frame:
        # The same call again, in the same pass (a next variant of an overloaded
        # callee, another type context): from the name's type before the first.
        var.type, current = first[2], first[3]
    else:
        current = _current(api, name, var.type)
        if current is None:
            return result
        _FIRST[key] = (context, frame, var.type, current)
    if not (var.is_argument or var.is_inferred):
        return _declared(api, context, name.name, var.type, result)
    new = _join(current, result, api) if branch else result
    if branch:
        _rebind(api, name, new)
    if api.options.allow_redefinition:
        if in_tuple and api.expr_checker.type_context[-1] is None:
            # mypy infers a tuple unpacked to names once without a type context,
            # then again in the context of the names' types: those must still be
            # their own then (as nothing, they made the callee's type variables
            # nothing: "Argument 2 to "scan" has incompatible type "Array";
            # expected "Never"").
            return new
        # mypy widens the variable to the union of its type and the new one:
        # the union of nothing and `new` is `new`.
        var.type = UninhabitedType()
        return new
    var.type = new
    return _accepted(api, new, result)


def _retyped(
    api: TypeChecker, ctx: FunctionContext | MethodContext, result: Type
) -> Type:
    """`result`, not an array, assigned to a name (see `redefine`).

    The plugin makes such an assignment fail exactly where mypy would (the
    types mypy gives the call and the name's first value decide):
    ``f = jax.vmap(f)`` (jax types the result as `f`'s own type; the plugin, as
    `f` with a batch axis), or a name first bound by a call the plugin refined
    (``m = eqx.nn.inference_mode(model)``, then ``m = eqx.Partial(m, ...)``). An
    unannotated name then takes any type from there on (mypy checks the
    assignment against the type the name had before it, so the new type cannot
    be given to it); an annotated one keeps mypy's own check.
    """
    found = _target(api, ctx.context)
    if found is None:
        return result
    name, branch = found
    if not isinstance(name, NameExpr):
        return result
    var = name.node
    if name.is_inferred_def and isinstance(var, Var):
        if _refines(result, ctx.default_return_type):
            _REFINED[id(var)] = (var, ctx.default_return_type)
        return result
    if not _rebindable(api, name):
        return result
    assert isinstance(var, Var) and var.type is not None
    anything = AnyType(TypeOfAny.special_form)
    if _RETYPED.get(id(ctx.context)) is ctx.context:
        return anything  # mypy checks the right-hand side again
    if not (var.is_argument or var.is_inferred) or _identical(result, var.type):
        return result
    if is_subtype(result, var.type) and not isinstance(
        get_proper_type(result), CallableType
    ):
        return result  # mypy narrows the name to it
    refined = _REFINED.get(id(var))
    plain = refined[1] if refined is not None and refined[0] is var else var.type
    if not is_subtype(ctx.default_return_type, plain):
        # mypy's own error, kept: where the plugin's types would pass, reported
        # with mypy's types.
        if is_subtype(result, var.type):
            text = _messages.incompatible_assignment(
                format_type(ctx.default_return_type, api.options),
                format_type(plain, api.options),
            )
            api.fail(text, ctx.context, code=codes.ASSIGNMENT)
        return result
    if branch:
        _rebind(api, name, anything)
    var.type = anything
    _RETYPED[id(ctx.context)] = ctx.context
    return anything


def _identical(a: Type, b: Type) -> bool:
    """Whether two types are one, type variables included.

    mypy's `is_same_type` unifies a generic callable's type variables: to it,
    ``[b, 3] -> [b, 4]`` and ``[a, b, 3] -> [a, b, 4]`` are the same.
    """
    return get_proper_type(a) == get_proper_type(b)


def _refines(result: Type, default: Type) -> bool:
    """Whether the plugin typed a call otherwise than mypy (`default`) does."""
    if isinstance(get_proper_type(default), AnyType):
        return not isinstance(get_proper_type(result), AnyType)
    return not _identical(result, default)


def _declared(
    api: TypeChecker, context: Context, name: str, declared: Type, result: Type
) -> Type:
    """An annotated variable keeps its shape: another one is a ``[shape]`` error."""
    if not is_subtype(result, declared):
        report(
            api,
            _messages.redeclared(name, _render(declared), _render(result)),
            context,
        )
    return _accepted(api, declared, result)


def _attribute(api: TypeChecker, target: MemberExpr, result: Type) -> Type:
    """`result` assigned to an attribute that mypy inferred from its first value.

    ``self.data = jnp.concatenate([self.data, x])`` grows a buffer first built as
    ``jnp.zeros((0, 4))``: mypy gives the attribute the type of that first value,
    which for arrays fixes a shape (``[0, 4]``) that plain mypy, to which every
    array is one type, never compares. The attribute takes the join of its shapes
    (sizes that agree, any shape for another rank), and the assignment is
    accepted. An annotated attribute keeps mypy's check.
    """
    owner = get_proper_type(api.lookup_type_or_none(target.expr))
    if not isinstance(owner, Instance) or array_dims(result) is None:
        return result
    node = owner.type.get(target.name)
    var = node.node if node is not None else None
    if not isinstance(var, Var) or var.type is None:
        return result
    if not var.is_inferred or var.explicit_self_type:
        return result  # annotated (``self.w: Float[Array, "3 4"] = ...``)
    if array_dims(var.type) is None or is_subtype(result, var.type):
        return result
    var.type = _join(var.type, result, api)
    return _any_shape(api, result)


def _target(
    api: TypeChecker, context: Context
) -> tuple[NameExpr | TupleExpr | MemberExpr, bool] | None:
    """The name or names that `context` is assigned to."""
    function = api.scope.current_function()
    scope: Node = function if function is not None else api.tree
    entry = _TARGETS.get(id(scope))
    if entry is None or entry[0] is not scope:
        targets: _Targets = {}
        body = function.body.body if function is not None else api.tree.defs
        _index(body, targets, branch=False)
        entry = (scope, targets)
        _TARGETS[id(scope)] = entry
    return entry[1].get(id(context))


def _rebindable(api: TypeChecker, name: NameExpr) -> bool:
    """Whether the assignment to `name` re-binds a local variable (not defines it)."""
    var = name.node
    if not isinstance(var, Var) or var.type is None or var.is_final:
        return False
    if name.is_inferred_def:
        return False  # the definition itself: mypy infers its type
    function = api.scope.current_function()
    return name.kind == LDEF or (name.kind == GDEF and function is None)


def _index(body: list[Statement], targets: _Targets, *, branch: bool) -> None:
    """Record the simple assignments of `body`, not those of nested scopes."""
    for stmt in body:
        if isinstance(stmt, AssignmentStmt):
            if len(stmt.lvalues) == 1 and not stmt.is_alias_def and stmt.type is None:
                _assigned(stmt.lvalues[0], stmt.rvalue, targets, branch)
        elif isinstance(stmt, ForStmt | WhileStmt):
            _blocks([stmt.body, stmt.else_body], targets, branch=True)
        elif isinstance(stmt, IfStmt):
            _blocks([*stmt.body, stmt.else_body], targets, branch=True)
        elif isinstance(stmt, WithStmt):
            _index(stmt.body.body, targets, branch=branch)
        elif isinstance(stmt, TryStmt):
            blocks = [stmt.body, *stmt.handlers, stmt.else_body, stmt.finally_body]
            _blocks(blocks, targets, branch=True)
        elif isinstance(stmt, MatchStmt):
            _blocks(list(stmt.bodies), targets, branch=True)
        elif isinstance(stmt, Block):
            _index(stmt.body, targets, branch=branch)
        elif isinstance(
            stmt, FuncBase | Decorator | OverloadedFuncDef | ClassDef
        ):  # their own scopes
            continue


def _assigned(
    lvalue: Expression, rvalue: Expression, targets: _Targets, branch: bool
) -> None:
    """Record `rvalue` as assigned to `lvalue`: a name, or a tuple of names.

    ``x, y = x[1:], y[:-1]`` re-binds each name by its item, as two assignments
    would, unless an item reads a name that an earlier item re-binds (the hook
    that re-binds it runs before the later item is checked).
    """
    if isinstance(lvalue, NameExpr) or (
        isinstance(lvalue, MemberExpr) and isinstance(lvalue.expr, NameExpr)
    ):
        targets[id(rvalue)] = (lvalue, branch)
        return
    if not isinstance(lvalue, TupleExpr) or not all(
        isinstance(item, NameExpr) for item in lvalue.items
    ):
        return
    names = [item for item in lvalue.items if isinstance(item, NameExpr)]
    if not isinstance(rvalue, TupleExpr | ListExpr):
        targets[id(rvalue)] = (lvalue, branch)
        return
    if len(rvalue.items) != len(names):
        return
    for k, item in enumerate(rvalue.items):
        earlier: set[SymbolNode] = {n.node for n in names[:k] if n.node is not None}
        if reads(item, earlier):
            return
    for name, item in zip(names, rvalue.items, strict=True):
        targets[id(item)] = (name, branch)


def _blocks(blocks: list[Block | None], targets: _Targets, *, branch: bool) -> None:
    for block in blocks:
        if block is not None:
            _index(block.body, targets, branch=branch)


def _current(api: TypeChecker, name: NameExpr, declared: Type) -> Type | None:
    """The type `name` has before the assignment, when it is an array's."""
    key = literal_hash(name)
    bound = api.binder.get(name) if key is not None else None
    current = bound if bound is not None else declared
    proper = get_proper_type(current)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    if all(array_dims(item) is not None for item in items):
        return current
    return None


def _join(current: Type, result: Type, api: TypeChecker) -> Type:
    """The shape that holds before and after every iteration: sizes that agree."""
    proper = get_proper_type(current)
    items = proper.items if isinstance(proper, UnionType) else [proper]
    dims = array_dims(result)
    for item in items:
        other = array_dims(item)
        if dims is None or other is None:
            dims = None
        elif dims == other:
            continue
        elif len(dims) != len(other) or any(isinstance(d, Star) for d in dims + other):
            dims = None
        else:
            pairs = zip(dims, other, strict=True)
            dims = tuple(a if a == b else None for a, b in pairs)
    shape: list[Dim] = list(dims) if dims is not None else [Star(None)]
    return _array(api, result, shape)


def _rebind(api: TypeChecker, name: NameExpr, new: Type) -> None:
    """Give `name` the loop's shape in every frame: also where the loop is skipped."""
    key = literal_hash(name)
    if key is None:
        return
    for frame in api.binder.frames:
        if key in frame.types:
            frame.types[key] = CurrentType(new, True)
    if key in api.binder.declarations:
        api.binder.declarations[key] = new


def _accepted(api: TypeChecker, name_type: Type, result: Type) -> Type:
    """The type mypy gives an assigned value, so that the name keeps `name_type`.

    mypy narrows the name to the meet of its type and the value's: any shape
    leaves a fixed shape as it is, but its meet with a variadic one (``"*b d"``)
    is ``Array[*tuple[Never, ...]]``, so that one is given as itself.
    """
    if any(isinstance(d, Star) for d in array_dims(name_type) or ()):
        return name_type
    return _any_shape(api, result)


def _any_shape(api: TypeChecker, result: Type) -> Type:
    return _array(api, result, [Star(None)])


def _array(api: TypeChecker, like: Type, dims: list[Dim]) -> Type:
    """``Array`` with `dims`, of the class of `like`."""
    proper = get_proper_type(like)
    assert isinstance(proper, Instance) and proper.type.fullname == ARRAY_CLASS
    shapes = Shapes(
        proper.type,
        api.named_generic_type("builtins.tuple", [AnyType(TypeOfAny.special_form)]),
        api.named_type("builtins.int"),
        api.named_type("builtins.object"),
    )
    return shapes.array_type(dims)


def _render(typ: Type) -> str:
    dims = array_dims(typ)
    if dims is None:
        return "Array"
    return "[" + ", ".join(render_dim(d) for d in dims) + "]"


def returns_array(node: SymbolNode | None) -> bool:
    """Whether the function or method `node` is declared to return an array.

    The plugin claims calls of these too, so that a name they re-bind (``x =
    layer(x)`` with an Equinox layer) takes the new shape.
    """
    func = node.func if isinstance(node, Decorator) else node
    if not isinstance(func, FuncDef):
        return False
    typ = get_proper_type(func.type)
    return isinstance(typ, CallableType) and array_dims(typ.ret_type) is not None
