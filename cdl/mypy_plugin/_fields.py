"""A layer kept in a field keeps what its construction fixed.

``conv: cdl.Conv2d`` declares a field of any channels and no known kernel; the call
that builds it in ``__init__`` (``self.conv = cdl.Conv2d(1, 8, 3, key=k)``) fixes
both, and the plugin carries them on the call's type (see `._layers`). Where a
field declared with its class alone is read (``self.conv(x)``, ``self.conv >> ...``),
the plugin gives it the type of that call, when the class's ``__init__`` assigns the
field exactly once, outside any branch or loop: functions and methods of the module
wait for mypy to check ``__init__``. Elsewhere (code at the module's top level, which
mypy checks before any function body; another module's class) the field has its
declared type, as has a field declared with its spaces.
"""

from mypy.checker import TypeChecker
from mypy.nodes import (
    AssignmentStmt,
    Block,
    Decorator,
    Expression,
    FuncDef,
    MemberExpr,
    NameExpr,
    TypeInfo,
    Var,
)
from mypy.plugin import AttributeContext
from mypy.subtypes import is_subtype
from mypy.types import AnyType, Instance, Type, get_proper_type

from . import _calls
from ._bindings import blocks_of


def built_in_init(info: TypeInfo, name: str) -> tuple[FuncDef, Expression] | None:
    """The one value that ``__init__`` of `info` assigns to ``self.<name>`` (or None).

    **Arguments:** `info`, the class; `name`, the field.

    **Returns:** ``__init__`` and the right-hand side of the assignment, when there
    is exactly one and it is a statement of the body itself (not inside a branch
    or a loop). A class read from mypy's cache has no body: None.

    >>> from mypy.nodes import Block, FuncDef, MDEF, SymbolTable, SymbolTableNode
    >>> from mypy.nodes import ClassDef, TypeInfo
    >>> cached = FuncDef.deserialize(FuncDef("__init__", [], Block([])).serialize())
    >>> info = TypeInfo(SymbolTable(), ClassDef("Net", Block([])), "m")
    >>> info.names["__init__"] = SymbolTableNode(MDEF, cached)
    >>> built_in_init(info, "conv") is None
    True
    """
    node = info.names.get("__init__")
    init = node.node if node is not None else None
    if isinstance(init, Decorator):
        init = init.func
    if not isinstance(init, FuncDef):
        return None
    try:
        arguments, body = init.arguments, init.body
    except AttributeError:  # a definition read from mypy's cache
        return None
    if not arguments or not body.body:
        return None
    found = _assignments(body, arguments[0].variable.name, name)
    if len(found) != 1 or found[0] not in body.body:
        return None
    return init, found[0].rvalue


def declared_morphism(info: TypeInfo, name: str, para: str) -> bool:
    """Whether the field `name` of `info` is declared as a cdl morphism."""
    node = info.names.get(name)
    var = node.node if node is not None else None
    if not isinstance(var, Var) or var.type is None:
        return False
    declared = get_proper_type(var.type)
    return isinstance(declared, Instance) and declared.type.has_base(para)


def field_type(
    ctx: AttributeContext,
    init: FuncDef,
    rvalue: Expression,
    *,
    owner: TypeInfo | None,
) -> Type:
    """The field's type: that of the call that built it, where mypy has checked it.

    With an `owner` (a class whose annotations name dimensions), the class's
    symbols are forgotten outside it, as for every field
    (`._calls.forget_attribute`).
    """
    forget = owner is not None
    declared = (
        _calls.forget_attribute(ctx, owner)
        if owner is not None
        else ctx.default_attr_type
    )
    api = ctx.api
    if ctx.is_lvalue or not isinstance(api, TypeChecker):
        return declared
    built = api.lookup_type_or_none(rvalue)
    if built is None:
        wait(api, init)
        return declared
    if not isinstance(get_proper_type(built), Instance):
        return declared
    if not (_bare(ctx.default_attr_type) and is_subtype(built, ctx.default_attr_type)):
        return declared
    return _calls.forget_foreign(ctx.api, built) if forget else built


def _assignments(block: Block, this: str, name: str) -> list[AssignmentStmt]:
    """The assignments to ``<this>.<name>`` anywhere in `block`."""
    found: list[AssignmentStmt] = []
    for stmt in block.body:
        if isinstance(stmt, AssignmentStmt) and any(
            isinstance(lvalue, MemberExpr)
            and lvalue.name == name
            and isinstance(lvalue.expr, NameExpr)
            and lvalue.expr.name == this
            for lvalue in stmt.lvalues
        ):
            found.append(stmt)
        for inner in blocks_of(stmt):
            found += _assignments(inner, this, name)
    return found


def _bare(declared: Type) -> bool:
    """Whether the field is declared with its class alone (``conv: cdl.Conv2d``).

    A field declared with its spaces (``cdl.Para[Float[Array, "3"], ...]``) keeps
    them: the call that built it knows no more.
    """
    t = get_proper_type(declared)
    return isinstance(t, Instance) and all(
        isinstance(get_proper_type(a), AnyType) for a in t.args
    )


def wait(api: TypeChecker, init: FuncDef) -> None:
    """Check the function being checked again after `init`.

    As mypy does with a function that reads an attribute whose type is not
    inferred yet: it defers it to its next pass. Code at a module's top level is
    checked before any function body, and cannot wait.
    """
    node = api.scope.top_level_function()
    if api.pass_num < api.last_pass and isinstance(node, FuncDef) and node is not init:
        api.defer_node(node, api.scope.enclosing_class(node))
        api.current_node_deferred = True
