"""mypy's errors that the plugin does not report.

A name re-bound to an untyped value has any shape from there on, as it has without
the plugin, though mypy keeps its declared shape (see `unknown`); and where the
plugin reports an argument of another rank, its ``[shape]`` error replaces mypy's
(see `replace_error`).
"""

from typing import Final

from mypy.checker import TypeChecker
from mypy.errors import ErrorInfo
from mypy.nodes import (
    AssignmentStmt,
    Block,
    Context,
    ForStmt,
    IfStmt,
    MatchStmt,
    NameExpr,
    Statement,
    SymbolNode,
    TryStmt,
    Var,
    WhileStmt,
    WithStmt,
)
from mypy.types import AnyType, get_proper_type

# What mypy's errors may say about a name of unknown shape.
_ABOUT_SHAPES: Final = frozenset({"return-value", "arg-type", "assignment", "shape"})


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
    return unknown_at(checker, info.code.code, start, end)


def unknown_at(
    checker: TypeChecker, code: str, start: tuple[int, int], end: tuple[int, int]
) -> bool:
    """Whether an error of `code` about the source from `start` to `end` is unknown.

    That is, whether the source reads a name re-bound to a value of type ``Any``
    (see `unknown`).
    """
    if code not in _ABOUT_SHAPES:
        return False
    function = checker.scope.current_function()
    if function is None:
        return False
    assigned: set[SymbolNode] = set()
    _untyped(function.body.body, checker, assigned)
    return bool(assigned) and any(
        isinstance(expr, NameExpr)
        and expr.node in assigned
        and start <= (expr.line, expr.column) < end
        for types in checker._type_maps
        for expr in types
    )


def _untyped(body: list[Statement], checker: TypeChecker, out: set[SymbolNode]) -> None:
    """The names that `body` assigns a value of type ``Any``, nested scopes aside."""
    for stmt in body:
        if isinstance(stmt, AssignmentStmt):
            found = checker.lookup_type_or_none(stmt.rvalue)
            if found is not None and isinstance(get_proper_type(found), AnyType):
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
