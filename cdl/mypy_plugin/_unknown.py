"""Names of unknown shape, and mypy's errors that the plugin does not report.

A name re-bound to an untyped value has any shape from there on, as it has without
the plugin, though mypy keeps its declared shape: the plugin's shape rules take an
operand that reads such a name as of any shape (see `erase_unknown`), and mypy's
own errors about one are not reported (see `unknown`). Where the plugin reports an
argument of another rank, its ``[shape]`` error replaces mypy's (see
`replace_error`).
"""

from typing import Final, TypeVar

from mypy.checker import TypeChecker
from mypy.errors import ErrorInfo
from mypy.nodes import (
    AssignmentStmt,
    Block,
    CallExpr,
    ComparisonExpr,
    Context,
    Expression,
    ForStmt,
    IfStmt,
    IndexExpr,
    MatchStmt,
    MemberExpr,
    NameExpr,
    OpExpr,
    Statement,
    SymbolNode,
    TryStmt,
    TupleExpr,
    UnaryExpr,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.plugin import AttributeContext, FunctionContext, MethodContext
from mypy.subtypes import is_subtype
from mypy.traverser import all_name_and_member_expressions, all_return_statements
from mypy.type_visitor import TypeTranslator
from mypy.types import (
    AnyType,
    Instance,
    TupleType,
    Type,
    TypeAliasType,
    TypeOfAny,
    UnpackType,
    get_proper_type,
)

from ._names import ARRAY, DEFINED_IN

# mypy's own errors that may be about a name of unknown shape; the plugin's
# ``[shape]`` errors never are (its rules take such a name as of any shape).
_ABOUT_SHAPES: Final = frozenset({"return-value", "arg-type", "assignment"})

_Call = TypeVar("_Call", FunctionContext, MethodContext, AttributeContext)


def unknown(checker: TypeChecker, info: ErrorInfo) -> bool:
    """Whether the error `info` is about a name re-bound to a value of type ``Any``.

    mypy keeps a parameter's or an annotated variable's declared type where an
    untyped value is assigned to it (``x = layer(x)``, ``layer`` from an untyped
    list), and after a loop it keeps it in a union with ``Any``. Without the plugin
    that type is ``Array``, of any shape; with it, the declared shape would be
    compared at the next use. An error about an expression (the error's span) that
    reads such a name is not reported.

    **Arguments:** `checker`, mypy's type checker of the module; `info`, the error.

    **Returns:** whether the error is to be dropped.
    """
    if info.code is None:
        return False
    start, end = (info.line, info.column), (info.end_line, info.end_column)
    if not unknown_at(checker, info.code.code, start, end):
        return False
    return info.code.code != "return-value" or not _wrong_item(checker, start, end)


def _wrong_item(
    checker: TypeChecker, start: tuple[int, int], end: tuple[int, int]
) -> bool:
    """Whether a returned tuple display has a wrong item that reads no unknown name.

    ``return x, state`` with ``x`` of unknown shape and ``state`` of the wrong one
    is still an error: mypy reports the whole tuple, and the error is dropped only
    if every item that disagrees with the declared one reads a name of unknown shape.
    """
    function = checker.scope.current_function()
    declared = (
        get_proper_type(checker.return_types[-1]) if checker.return_types else None
    )
    if function is None or not isinstance(declared, TupleType):
        return False
    names = unknown_names(checker)
    for stmt in all_return_statements(function):
        value = stmt.expr
        if (
            isinstance(value, TupleExpr)
            and (value.line, value.column) == start
            and (value.end_line, value.end_column) == end
            and len(value.items) == len(declared.items)
        ):
            return any(
                not reads(item, names)
                and (found := checker.lookup_type_or_none(item)) is not None
                and not is_subtype(found, want)
                for item, want in zip(value.items, declared.items, strict=True)
            )
    return False


def unknown_at(
    checker: TypeChecker, code: str, start: tuple[int, int], end: tuple[int, int]
) -> bool:
    """Whether an error of `code` about the source from `start` to `end` is unknown.

    That is, whether the source reads a name re-bound to a value of type ``Any``
    (see `unknown`).
    """
    if code not in _ABOUT_SHAPES:
        return False
    assigned = unknown_names(checker)
    return bool(assigned) and any(
        isinstance(expr, NameExpr)
        and expr.node in assigned
        and start <= (expr.line, expr.column) < end
        for types in checker._type_maps
        for expr in types
    )


def unknown_names(checker: TypeChecker) -> set[SymbolNode]:
    """The names of unknown shape in the function being checked.

    Those that it assigns a value of type ``Any``, and those that it assigns a
    value reading one of them (``y = x`` keeps ``x``'s declared shape for mypy).
    """
    function = checker.scope.current_function()
    if function is None:
        return set()
    assigned: set[SymbolNode] = set()
    size = -1
    while len(assigned) != size:
        size = len(assigned)
        _untyped(function.body.body, checker, assigned)
    return assigned


def _untyped(body: list[Statement], checker: TypeChecker, out: set[SymbolNode]) -> None:
    """The names that `body` assigns a value of type ``Any`` or reading one of `out`.

    Nested scopes aside.
    """
    for stmt in body:
        if isinstance(stmt, AssignmentStmt):
            found = checker.lookup_type_or_none(stmt.rvalue)
            if (found is not None and isinstance(get_proper_type(found), AnyType)) or (
                out and reads(stmt.rvalue, out)
            ):
                out.update(
                    lvalue.node
                    for lvalue in stmt.lvalues
                    if isinstance(lvalue, NameExpr) and isinstance(lvalue.node, Var)
                )
        elif isinstance(stmt, ForStmt | WhileStmt):
            _untyped_blocks([stmt.body, stmt.else_body], checker, out)
        elif isinstance(stmt, IfStmt):
            _untyped_blocks([*stmt.body, stmt.else_body], checker, out)
        elif isinstance(stmt, WithStmt):
            _untyped(stmt.body.body, checker, out)
        elif isinstance(stmt, TryStmt):
            blocks = [stmt.body, *stmt.handlers, stmt.else_body, stmt.finally_body]
            _untyped_blocks(blocks, checker, out)
        elif isinstance(stmt, MatchStmt):
            _untyped_blocks(list(stmt.bodies), checker, out)
        elif isinstance(stmt, Block):
            _untyped(stmt.body, checker, out)


def _untyped_blocks(
    blocks: list[Block | None], checker: TypeChecker, out: set[SymbolNode]
) -> None:
    for block in blocks:
        if block is not None:
            _untyped(block.body, checker, out)


def reads(expr: Expression, names: set[SymbolNode]) -> bool:
    """Whether `expr` reads one of `names`."""
    found, _ = all_name_and_member_expressions(expr)
    return any(name.node in names for name in found)


class _Unshaped(TypeTranslator):
    """A type with every array in it of any shape."""

    def __init__(self, any_shape: list[Type]) -> None:
        super().__init__()
        self.any_shape = any_shape

    def visit_instance(self, t: Instance) -> Type:
        if t.type.fullname == DEFINED_IN[ARRAY]:
            return t.copy_modified(args=self.any_shape)
        return super().visit_instance(t)

    def visit_type_alias_type(self, t: TypeAliasType) -> Type:
        return get_proper_type(t).accept(self)


def _unshaped(api: TypeChecker) -> _Unshaped:
    any_run = api.named_generic_type(
        "builtins.tuple", [AnyType(TypeOfAny.special_form)]
    )
    return _Unshaped([UnpackType(any_run)])


def erase_unknown(ctx: _Call) -> _Call:
    """`ctx` with each operand that reads a name of unknown shape of any shape.

    The operands are the call's arguments and, for a method (``x + y``, ``x[i]``,
    ``x.reshape(...)``), the object it is called on. The shape rules then judge
    the other operands alone: ``jnp.where(x > 0, v, u)`` with ``x`` of unknown
    shape still broadcasts ``v`` with ``u``.
    """
    api = ctx.api
    if not isinstance(api, TypeChecker):
        return ctx
    names = unknown_names(api)
    context = ctx.context
    if not names or not isinstance(context, Expression) or not reads(context, names):
        return ctx
    if isinstance(ctx, AttributeContext):
        if isinstance(context, MemberExpr) and reads(context.expr, names):
            return ctx._replace(type=get_proper_type(ctx.type.accept(_unshaped(api))))
        return ctx
    unshaped = _unshaped(api)
    arg_types = [
        [
            t.accept(unshaped) if reads(e, names) else t
            for t, e in zip(ts, es, strict=True)
        ]
        for ts, es in zip(ctx.arg_types, ctx.args, strict=True)
    ]
    if isinstance(ctx, MethodContext):
        receiver = _receiver(ctx.context, [e for es in ctx.args for e in es])
        if receiver is None or reads(receiver, names):
            return ctx._replace(
                type=get_proper_type(ctx.type.accept(unshaped)), arg_types=arg_types
            )
    return ctx._replace(arg_types=arg_types)


def _receiver(context: Context, args: list[Expression]) -> Expression | None:
    """The object that the method call `context` is on (None: not found).

    ``x`` of ``x + y``, ``x[i]``, ``-x``, ``x.reshape(...)``, ``model(x)``.
    """
    if isinstance(context, OpExpr | ComparisonExpr):
        operands = (
            [context.left, context.right]
            if isinstance(context, OpExpr)
            else context.operands
        )
        rest = [e for e in operands if all(e is not a for a in args)]
        return rest[0] if len(rest) == 1 else None
    if isinstance(context, UnaryExpr):
        return context.expr
    if isinstance(context, IndexExpr):
        return context.base
    if isinstance(context, CallExpr):
        callee = context.callee
        return callee.expr if isinstance(callee, MemberExpr) else callee
    return None


def reads_unknown(api: object, expr: Context) -> bool:
    """Whether the argument `expr` of a call reads a name of unknown shape.

    Such an argument binds none of the callee's named dimensions (see `unknown`).
    """
    if not isinstance(api, TypeChecker):
        return False
    start = (expr.line, expr.column)
    if expr.end_line is None or expr.end_column is None:
        return unknown_at(api, "shape", start, (expr.line, expr.column + 1))
    return unknown_at(api, "shape", start, (expr.end_line, expr.end_column))


# Where a [shape] error replaces mypy's own error of a code: (file, line, column, code).
_REPLACED: set[tuple[str, int, int, str]] = set()


def replace_error(api: object, context: Context, code: str) -> None:
    """Let the plugin's error about `context` replace mypy's own of `code`.

    mypy reports an argument of another rank than the parameter's against the
    signature the plugin relaxed ("expected Array[Any]"), before the plugin's hook
    runs or, checking the call again, after it; the plugin's message names the
    dimensions. mypy's error is forgotten if recorded and dropped if it comes.
    """
    errors = api.msg.errors if isinstance(api, TypeChecker) else None
    if errors is None or errors.file is None:
        return
    _REPLACED.add((errors.file, context.line, context.column, code))
    found = errors.error_info_map.get(errors.file)
    if found:
        found[:] = [info for info in found if not replaced(errors.file, info)]


def replaced(file: str, info: ErrorInfo) -> bool:
    """Whether the plugin reported what the error `info` of `file` says."""
    code = info.code.code if info.code is not None else ""
    return (file, info.line, info.column, code) in _REPLACED
