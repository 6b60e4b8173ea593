"""How often a scope binds each name: a value may keep shapes only where bound once.

A tuple of shaped arrays (a named tuple built by its constructor, the results of
``jnp.linalg.qr``) given to a name bound again later (``s = State(...)`` in a loop
or in two branches, ``q, r = qr(b)`` after ``q, r = qr(a)``) would fix the name's
type to its first shapes, and mypy would reject the second binding. Such values
keep their declared, unshaped items.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import (
    AssignmentStmt,
    Block,
    ClassDef,
    Context,
    Decorator,
    Expression,
    ForStmt,
    FuncDef,
    FuncItem,
    IfStmt,
    ListExpr,
    MatchStmt,
    MemberExpr,
    NameExpr,
    Node,
    OperatorAssignmentStmt,
    OverloadedFuncDef,
    StarExpr,
    Statement,
    TryStmt,
    TupleExpr,
    Var,
    WhileStmt,
    WithStmt,
)

# For each scope: the statement of each right-hand side, and how often names are bound.
_SCOPES: Final[dict[int, tuple[Node, dict[int, AssignmentStmt], Counter[Var]]]] = {}


class _Bindings:
    """The assignments of one scope and the names they bind (not nested scopes')."""

    def __init__(self) -> None:
        self.statements: dict[int, AssignmentStmt] = {}
        self.counts: Counter[Var] = Counter()

    def visit(self, body: Sequence[Statement]) -> None:
        for stmt in body:
            if isinstance(stmt, AssignmentStmt):
                self.statements[id(stmt.rvalue)] = stmt
                for lvalue in stmt.lvalues:
                    self._bind(lvalue)
            elif isinstance(stmt, ForStmt):
                self._bind(stmt.index)
            elif isinstance(stmt, WithStmt):
                for target in stmt.target:
                    if target is not None:
                        self._bind(target)
            for block in blocks_of(stmt):
                self.visit(block.body)

    def _bind(self, target: Expression) -> None:
        names: list[Var] = []
        _names(target, names)
        self.counts.update(names)


def blocks_of(stmt: Statement) -> list[Block]:
    """The blocks of a compound statement of the same scope.

    A nested function's or class's body is a scope of its own, not a block.
    """
    if isinstance(stmt, ForStmt | WhileStmt):
        found = [stmt.body, stmt.else_body]
    elif isinstance(stmt, IfStmt):
        found = [*stmt.body, stmt.else_body]
    elif isinstance(stmt, WithStmt):
        found = [stmt.body]
    elif isinstance(stmt, TryStmt):
        found = [stmt.body, *stmt.handlers, stmt.else_body, stmt.finally_body]
    elif isinstance(stmt, MatchStmt):
        found = list(stmt.bodies)
    elif isinstance(stmt, Block):
        found = [stmt]
    else:
        found = []
    return [block for block in found if block is not None]


def bound_once(api: TypeChecker, context: Context) -> bool:
    """Whether `context` is no right-hand side of an assignment to a name bound again.

    An assignment to anything else than names (``self.state = ...``) counts as
    bound once: its target has a declared type.
    """
    function = api.scope.current_function()
    scope: Node = function if function is not None else api.tree
    entry = _entry(scope, function.body.body if function is not None else api.tree.defs)
    stmt = entry[1].get(id(context))
    if stmt is None:
        return True
    names: list[Var] = []
    for lvalue in stmt.lvalues:
        _names(lvalue, names)
    return all(entry[2][var] <= 1 for var in names)


def rebinds(function: FuncItem, var: Var) -> bool:
    """Whether the body of `function` binds the name `var` (a parameter) again."""
    return _entry(function, function.body.body)[2][var] > 0


def _entry(
    scope: Node, body: Sequence[Statement]
) -> tuple[Node, dict[int, AssignmentStmt], Counter[Var]]:
    """The assignments of the scope `scope` (of statements `body`), found once."""
    entry = _SCOPES.get(id(scope))
    if entry is None or entry[0] is not scope:
        visitor = _Bindings()
        visitor.visit(body)
        entry = (scope, visitor.statements, visitor.counts)
        _SCOPES[id(scope)] = entry
    return entry


def _names(target: Expression, out: list[Var]) -> None:
    if isinstance(target, TupleExpr | ListExpr):
        for item in target.items:
            _names(item, out)
    elif isinstance(target, StarExpr):
        _names(target.expr, out)
    elif isinstance(target, NameExpr) and isinstance(target.node, Var):
        out.append(target.node)


def assigned_outside_init(defn: ClassDef) -> list[str]:
    """The attributes of `self` that the methods of `defn` but ``__init__`` assign.

    Read from the class's text (empty once mypy has dropped its bodies).
    """
    names: set[str] = set()
    for stmt in defn.defs.body:
        func = stmt.func if isinstance(stmt, Decorator) else stmt
        items = func.items if isinstance(func, OverloadedFuncDef) else [func]
        for item in items:
            item = item.func if isinstance(item, Decorator) else item
            if isinstance(item, FuncDef) and item.name != "__init__" and item.arguments:
                _assigned(item.body, item.arguments[0].variable.name, names)
    return sorted(names)


def _assigned(block: Block, this: str, out: set[str]) -> None:
    for stmt in block.body:
        targets = (
            stmt.lvalues
            if isinstance(stmt, AssignmentStmt)
            else [stmt.lvalue]
            if isinstance(stmt, OperatorAssignmentStmt)
            else []
        )
        for target in targets:
            _attributes(target, this, out)
        for inner in blocks_of(stmt):
            _assigned(inner, this, out)


def _attributes(target: Expression, this: str, out: set[str]) -> None:
    if isinstance(target, TupleExpr | ListExpr):
        for item in target.items:
            _attributes(item, this, out)
    elif (
        isinstance(target, MemberExpr)
        and isinstance(target.expr, NameExpr)
        and target.expr.name == this
    ):
        out.add(target.name)
