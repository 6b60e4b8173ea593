"""Conversions between mypy's types and the plugin's spaces, and what every hook shares.

How shapes are carried: the stubs make ``jax.Array`` generic in a variadic shape. A
known size is a ``Literal`` int; a size unknown statically is ``Any``; a named
dimension keeps its name in a tag inside that ``Any`` (so mypy never rejects a program
over it) and the plugin reads it back.
"""

import itertools
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    Context,
    Expression,
    ForStmt,
    IntExpr,
    ListExpr,
    MemberExpr,
    MypyFile,
    NameExpr,
    OperatorAssignmentStmt,
    OpExpr,
    Statement,
    SymbolTableNode,
    TupleExpr,
    TypeInfo,
    UnaryExpr,
    Var,
)
from mypy.plugin import CheckerPluginInterface, FunctionContext, MethodContext
from mypy.types import (
    AnyType,
    Instance,
    LiteralType,
    ProperType,
    TupleType,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    UnpackType,
    get_proper_type,
)

from . import _messages
from ._names import ARRAY, DEFINED_IN, PARA, Names
from ._shapes import Arr, Dim, Opaque, Space, SpaceVar, Star, Sym, Tup, Var as DimVar
from ._unknown import reads_unknown

ARRAY_CLASS: Final = DEFINED_IN[ARRAY]
TAG: Final = "cdl:"
# The namespace of the type variables that stand for rigid named dimensions.
RIGID: Final = "cdl-dim:"
_fresh: Final = itertools.count(1)


# -- tags: names of dimensions kept inside the `Any` that mypy compares --------------


def tagged(kind: str, name: str) -> AnyType:
    return AnyType(
        TypeOfAny.from_unimported_type, missing_import_name=TAG + kind + name
    )


def rigid_type(d: Sym, object_type: Instance) -> TypeVarType:
    """A rigid named dimension as mypy sees it: a type variable of its scope.

    mypy compares it with itself only, so a function that returns ``[n, n]`` where
    it declares ``[d, d]`` is an error; the plugin instantiates it at calls.
    """
    scope = d.scope or ""
    return TypeVarType(
        d.name,
        f"{RIGID}{scope}.{d.name}",
        _rigid_id(d.name, scope),
        [],
        object_type,
        AnyType(TypeOfAny.from_omitted_generics),
    )


def _rigid_id(name: str, scope: str) -> TypeVarId:
    return TypeVarId(zlib.crc32(name.encode()), namespace=RIGID + scope)


def rigid_again(tv: TypeVarType) -> TypeVarType | None:
    """The named dimension that `tv` is a fresh copy of (None: `tv` is not one).

    mypy gives a generic function's type variables new ids at each use (a method
    read from an object, a call); the name they keep says which dimension they are.
    """
    if not tv.fullname.startswith(RIGID):
        return None
    scope, _, name = tv.fullname[len(RIGID) :].rpartition(".")
    return tv.copy_modified(id=_rigid_id(name, scope))


def tag_of(t: ProperType) -> tuple[str, str] | None:
    if isinstance(t, AnyType):
        name = t.missing_import_name
        if name and name.startswith(TAG):
            kind, _, rest = name[len(TAG) :].partition(":")
            return kind, rest
    return None


# -- reading jaxtyping annotations ---------------------------------------------------


class Shapes:
    """Conversions between mypy types and plugin spaces, given the array class."""

    def __init__(
        self,
        array: TypeInfo,
        tuple_type: Instance,
        int_type: Instance,
        object_type: Instance | None = None,
    ) -> None:
        self.array = array
        self.tuple = tuple_type
        self.int_type = int_type
        self.object_type = object_type

    def dim_type(self, d: Dim) -> Type:
        """One dimension as a type argument of ``Array``."""
        if isinstance(d, bool) or d is None:
            return AnyType(TypeOfAny.special_form)
        if isinstance(d, int):
            return LiteralType(d, self.int_type)
        if isinstance(d, Star):
            inner = (
                tagged("star:", d.name) if d.name else AnyType(TypeOfAny.special_form)
            )
            return UnpackType(Instance(self.tuple.type, [inner]))
        if isinstance(d, Sym) and d.scope is not None and self.object_type is not None:
            return rigid_type(d, self.object_type)
        return tagged("dim:", d.name)

    def array_type(self, dims: Sequence[Dim]) -> Instance:
        """``Array`` with the given dimensions (any shape if they are not valid)."""
        if sum(isinstance(d, Star) for d in dims) > 1:
            dims = [Star(None)]
        return Instance(self.array, [self.dim_type(d) for d in dims])

    def type_of(self, space: Space) -> Type:
        """The mypy type standing for `space`."""
        if isinstance(space, Arr):
            return self.array_type(space.dims)
        if isinstance(space, Tup):
            return TupleType([self.type_of(s) for s in space.items], self.tuple)
        if isinstance(space, SpaceVar):
            return tagged("space:", space.name)
        return (
            space.origin
            if isinstance(space.origin, Type)
            else AnyType(TypeOfAny.special_form)
        )


def dims_of_args(
    args: Sequence[Type], rename: Callable[[str], str] | None
) -> list[Dim]:
    """Dimensions from the type arguments of ``Array`` (`rename`: read as variables)."""
    dims: list[Dim] = []
    for arg in args:
        t = get_proper_type(arg)
        if isinstance(t, UnpackType):
            inner = get_proper_type(t.type)
            if isinstance(inner, TupleType):
                dims.extend(dims_of_args(inner.items, rename))
            elif isinstance(inner, Instance) and inner.args:
                tag = tag_of(get_proper_type(inner.args[0]))
                if tag and tag[0] == "star" and rename:
                    dims.append(Star(rename(tag[1]), var=True))
                else:
                    dims.append(Star(tag[1] if tag else None))
            else:
                dims.append(Star(None))
        elif isinstance(t, TypeVarType) and t.id.namespace.startswith(RIGID):
            dims.append(Sym(t.name, t.id.namespace[len(RIGID) :]))
        elif isinstance(t, LiteralType) and type(t.value) is int:
            dims.append(t.value)
        elif isinstance(t, Instance) and t.last_known_value is not None:
            value = t.last_known_value.value
            dims.append(value if type(value) is int else None)
        else:
            tag = tag_of(t)
            if tag and tag[0] == "dim":
                dims.append(DimVar(rename(tag[1])) if rename else Sym(tag[1]))
            else:
                dims.append(None)
    return dims


def instance_dims(t: Instance, rename: Callable[[str], str] | None) -> list[Dim]:
    """The dimensions of an ``Array`` instance.

    jax's own ``Array`` (read when cdl's stubs are not on mypy's path) takes no type
    arguments, so a bare one says nothing of its shape: a run of unknown length,
    not a scalar.
    """
    if not t.args and not t.type.type_vars:
        return [Star(None)]
    return dims_of_args(t.args, rename)


def space_of(
    typ: Type,
    rename: Callable[[str], str] | None = None,
    tvars: dict[str, Space] | None = None,
) -> Space:
    """The space a mypy type describes (`rename`: tags become fresh variables)."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return Arr(tuple(instance_dims(t, rename)))
    if isinstance(t, TupleType):
        return Tup(tuple(space_of(i, rename, tvars) for i in t.items))
    if isinstance(t, TypeVarType) and tvars is not None and t.name in tvars:
        return tvars[t.name]
    tag = tag_of(t)
    if tag and tag[0] == "space" and rename:
        return SpaceVar(rename(tag[1]))
    return Opaque(typ)


def renamer() -> Callable[[str], str]:
    suffix = f"'{next(_fresh)}"
    return lambda name: name + suffix


# -- constant folding of size arguments ---------------------------------------------


class ModuleConstants:
    """Module-level int constants assigned once (``HIDDEN = 128``, no ``Final`` needed).

    Read from the modules' trees: a name bound by exactly one top-level assignment to
    a foldable int (``t, d = 6, 8`` binds each), and never re-bound there (``+=``, a
    second assignment, a ``for`` loop's target), is that int.

    **Arguments:** `modules`, mypy's trees by module name.

    **Returns:** the table.
    """

    def __init__(self, modules: dict[str, MypyFile]) -> None:
        self.modules = modules
        self._values: dict[str, dict[str, int]] = {}

    def value(self, var: Var) -> int | None:
        """The constant `var` is bound to, None when it is not one."""
        module, _, name = var.fullname.rpartition(".")
        tree = self.modules.get(module)
        if tree is None:
            return None
        symbol = tree.names.get(name)
        if symbol is None or symbol.node is not var:
            return None
        if module not in self._values:
            self._values[module] = {}  # filled in order: later constants see earlier
            self._scan(tree, self._values[module])
        return self._values[module].get(name)

    def _scan(self, tree: MypyFile, values: dict[str, int]) -> None:
        bindings: dict[str, int] = {}
        rvalues: dict[str, Expression] = {}
        for stmt in tree.defs:
            targets: list[Expression] = []
            if isinstance(stmt, AssignmentStmt):
                targets = list(stmt.lvalues)
            elif isinstance(stmt, OperatorAssignmentStmt):
                targets = [stmt.lvalue, stmt.lvalue]  # re-binds: never a constant
            elif isinstance(stmt, ForStmt):
                targets = [stmt.index, stmt.index]
            for target in targets:
                for name, rvalue in _bound_names(target, stmt):
                    bindings[name.name] = bindings.get(name.name, 0) + 1
                    if rvalue is not None:
                        rvalues[name.name] = rvalue
        for name, count in bindings.items():
            value = fold(rvalues[name]) if count == 1 and name in rvalues else None
            if value is not None:
                values[name] = value


def _bound_names(
    target: Expression, stmt: Statement
) -> list[tuple[NameExpr, Expression | None]]:
    """The names `target` binds, each with its value when `stmt` assigns one.

    ``t, d = 6, 8`` binds each name to its item; unpacking anything else binds
    the names to no known value (twice, so that they are never constants).
    """
    rvalue = stmt.rvalue if isinstance(stmt, AssignmentStmt) else None
    if isinstance(target, NameExpr):
        return [(target, rvalue)]
    if not isinstance(target, TupleExpr | ListExpr):
        return []
    names = [i for i in target.items if isinstance(i, NameExpr)]
    if isinstance(rvalue, TupleExpr | ListExpr) and len(names) == len(
        target.items
    ) == len(rvalue.items):
        return list(zip(names, rvalue.items, strict=True))
    unknown: list[tuple[NameExpr, Expression | None]] = [(n, None) for n in names]
    return unknown * 2


_constants: list[ModuleConstants] = []


def use_module_constants(table: ModuleConstants) -> None:
    """Let `fold` read module-level constants from `table` (the plugin's modules)."""
    _constants[:] = [table]


def fold(expr: Expression, values: Mapping[Var, int] | None = None) -> int | None:
    """The value of an int expression of literals, ``Final`` names and constants.

    `values` gives some variables theirs (a function's parameters, as a call
    gives them).
    """
    if isinstance(expr, IntExpr):
        return expr.value
    if isinstance(expr, NameExpr | MemberExpr):
        node = expr.node
        if values and isinstance(node, Var) and node in values:
            return values[node]
        if isinstance(node, Var) and type(node.final_value) is int:
            return node.final_value
        if isinstance(node, Var) and _constants:
            return _constants[0].value(node)
        return None
    if isinstance(expr, UnaryExpr) and expr.op == "-":
        value = fold(expr.expr, values)
        return None if value is None else -value
    if isinstance(expr, OpExpr):
        left, right = fold(expr.left, values), fold(expr.right, values)
        if left is None or right is None:
            return None
        if expr.op == "+":
            return left + right
        if expr.op == "-":
            return left - right
        if expr.op == "*":
            return left * right
        if expr.op == "//" and right:
            return left // right
        if expr.op == "%" and right:
            return left % right
        if expr.op == "**" and 0 <= right < 64:
            return int(left**right)
    return None


def fold_bool(expr: Expression) -> bool | None:
    """The value of ``True`` or ``False`` written as such (None: another expression)."""
    if isinstance(expr, NameExpr) and expr.fullname == "builtins.True":
        return True
    if isinstance(expr, NameExpr) and expr.fullname == "builtins.False":
        return False
    return None


def fold_shape(expr: Expression) -> list[int | None] | None:
    """A shape given as an int or a tuple/list of ints (None when not literal)."""
    if isinstance(expr, TupleExpr | ListExpr):
        return [fold(item) for item in expr.items]
    value = fold(expr)
    return None if value is None else [value]


# -- labels of morphisms, for messages ---------------------------------------------


# -- helpers --


def report(api: CheckerPluginInterface, message: str, context: Context) -> None:
    """Report a shape error, also from inside mypy's trial of an operator.

    For ``a + b`` mypy tries ``a.__add__(b)``, then ``b.__radd__(a)``, keeping
    errors aside; when both fail it keeps the first errors but makes the result
    ``Any``, so a correct line after it would be flagged ("Returning Any"). A shape
    error does not depend on which method mypy tries, so it is reported directly.
    """
    errors = api.msg.errors if isinstance(api, TypeChecker) else None
    if errors is None:
        api.fail(message, context, code=_messages.SHAPE)
        return
    if reads_unknown(api, context):
        return  # about a name of unknown shape, as mypy's own errors (`._unknown`)
    watchers, errors._watchers = errors._watchers, []
    try:
        api.fail(message, context, code=_messages.SHAPE)
    finally:
        errors._watchers = watchers


def forget_vars(space: Space) -> Space:
    """Unbound dimension variables of a result keep their name, as symbols."""
    if isinstance(space, Arr):
        return Arr(
            tuple(
                Sym(d.name.split("'", 1)[0])
                if isinstance(d, DimVar)
                else Star(None)
                if isinstance(d, Star) and d.var
                else d
                for d in space.dims
            )
        )
    if isinstance(space, Tup):
        return Tup(tuple(forget_vars(s) for s in space.items))
    if isinstance(space, SpaceVar):
        return Opaque(None)
    return space


def array_dims(typ: Type) -> tuple[Dim, ...] | None:
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        return tuple(instance_dims(t, None))
    return None


def operand_dims(typ: Type) -> tuple[Dim, ...] | None:
    """Shape of an operand of an elementwise op: Python numbers are scalars."""
    t = get_proper_type(typ)
    if isinstance(t, LiteralType) or (
        isinstance(t, Instance)
        and t.type.fullname in ("builtins.int", "builtins.float", "builtins.bool")
    ):
        return ()
    return array_dims(t)


def literal(typ: Type) -> int | None:
    """The int that ``Literal[32]`` (or an int known to be 32) stands for."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.last_known_value is not None:
        t = t.last_known_value
    if isinstance(t, LiteralType) and type(t.value) is int:
        return t.value
    return None


def is_int(typ: Type) -> bool:
    t = get_proper_type(typ)
    if isinstance(t, LiteralType):
        return type(t.value) is int
    return isinstance(t, Instance) and t.type.fullname == "builtins.int"


def star(dims: Sequence[Dim]) -> bool:
    return any(isinstance(d, Star) for d in dims)


def callee_name(node: Context) -> str:
    if isinstance(node, CallExpr) and isinstance(node.callee, NameExpr | MemberExpr):
        return node.callee.name
    return "op"


def given_arguments(ctx: FunctionContext | MethodContext) -> dict[str, Expression]:
    """The expression given for each parameter that one argument fills, by name.

    Positional arguments count under their parameter's name.
    """
    return {
        formal: exprs[0]
        for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False)
        if formal is not None and len(exprs) == 1
    }


def modelled(space: Space) -> bool:
    """Whether the plugin checks every part of `space` itself."""
    if isinstance(space, Tup):
        return all(modelled(s) for s in space.items)
    return not isinstance(space, Opaque)


def unknown() -> ProperType:
    return AnyType(TypeOfAny.special_form)


class Env:
    """What the hooks share: the names of cdl's classes, and types built from spaces.

    **Arguments:** `lookup`, mypy's ``lookup_fully_qualified`` of the plugin.

    **Returns:** the environment.
    """

    def __init__(self, lookup: Callable[[str], SymbolTableNode | None]) -> None:
        self.names = Names(lookup)
        self._lookup = lookup

    def info(self, fullname: str) -> TypeInfo | None:
        """The class called `fullname` (a public name of cdl's, or a builtin)."""
        if fullname in DEFINED_IN:
            return self.names.info(fullname)
        node = self._lookup(fullname)
        return (
            node.node if node is not None and isinstance(node.node, TypeInfo) else None
        )

    def para(self, fullname: str) -> TypeInfo | None:
        """The class called `fullname` when it is a cdl morphism."""
        info = self.info(fullname)
        return info if info is not None and info.has_base(self.names[PARA]) else None

    def shapes(self) -> "Shapes | None":
        """The converter from spaces to types, once jax's ``Array`` is loaded."""
        array, tup, integer, obj = (
            self.info(ARRAY),
            self.info("builtins.tuple"),
            self.info("builtins.int"),
            self.info("builtins.object"),
        )
        if array is None or tup is None or integer is None or obj is None:
            return None
        return Shapes(
            array,
            Instance(tup, [AnyType(TypeOfAny.special_form)]),
            Instance(integer, []),
            Instance(obj, []),
        )

    def array(self, dims: Sequence[Dim] | None, default: Type) -> Type:
        """``Array`` with `dims` (`default` when they are unknown)."""
        shapes = self.shapes()
        if dims is None or shapes is None:
            return default
        return shapes.array_type(dims)

    def shape_type(self, space: Space) -> Type:
        """The type of a value in `space`, unbound variables forgotten."""
        shapes = self.shapes()
        if shapes is None:
            return AnyType(TypeOfAny.special_form)
        return shapes.type_of(forget_vars(space))

    def fail(
        self, api: CheckerPluginInterface, ctx: Context, name: str, why: str
    ) -> Type:
        """Report that the jax operation `name` fails; its result has any shape."""
        report(api, _messages.op(name, why), ctx)
        return self.array([Star(None)], AnyType(TypeOfAny.special_form))
