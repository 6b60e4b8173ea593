"""Overrides that differ from the method they override only in named dimensions.

An override names the dimensions of the method it overrides (`._annotations`), but
in a class whose fields name dimensions (``w: Float[Array, "latent in"]``) a method
shares those names with the class: they are the class's there, while the method it
overrides has them as its own type variables. mypy would call the override
incompatible (``[override]``), though jaxtyping binds the names of both at each call,
as in Equinox's abstract/final pattern (an abstract ``__call__`` of ``" in"`` arrays,
a final class with an ``"latent in"`` weight). Such an error is not reported when the
two signatures agree with their named dimensions forgotten (an overloaded one variant
by variant, as mypy compares overloads); literal sizes, ranks and every other type
are compared as mypy compares them.
"""

import re
from typing import Final

from mypy.checker import TypeChecker
from mypy.errors import ErrorInfo
from mypy.expandtype import expand_type
from mypy.nodes import (
    ARG_POS,
    CallExpr,
    Decorator,
    Expression,
    FuncBase,
    FuncDef,
    SuperExpr,
)
from mypy.server.subexpr import get_subexpressions
from mypy.subtypes import is_subtype
from mypy.typeops import bind_self, get_all_type_vars
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Overloaded,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    get_proper_type,
)

from ._types import RIGID

_FORGOTTEN = "cdl-forgotten"


def renamed_only(checker: TypeChecker, info: ErrorInfo) -> bool:
    """Whether the ``[override]`` error `info` is about named dimensions only.

    **Arguments:** `checker`, mypy's type checker of the module; `info`, the error
    (or one of its notes).

    **Returns:** whether the error is to be dropped.
    """
    if info.code is None or info.code.code != "override":
        return False
    defn = checker.tscope.function
    if not isinstance(defn, FuncBase) or defn.info is None or defn.is_static:
        return False
    if not defn.line <= info.line <= (defn.end_line or defn.line):
        return False
    override = _signature(defn)
    if override is None:
        return False
    originals = [
        _signature(base.names[defn.name].node)
        for base in defn.info.mro[1:]
        if defn.name in base.names
    ]
    return bool(originals) and all(
        original is not None
        and is_subtype(
            _forget_all(bind_self(override)), _forget_all(bind_self(original))
        )
        for original in originals
    )


def _signature(node: object) -> FunctionLike | None:
    """The declared signature of a method, overloaded or not (None: no method)."""
    if isinstance(node, Decorator):
        node = node.func
    if not isinstance(node, FuncBase):
        return None
    found = get_proper_type(node.type)
    return found if isinstance(found, FunctionLike) else None


def _forget_all(sig: FunctionLike) -> FunctionLike:
    """`sig` (each variant of an overloaded one) with its names forgotten."""
    if isinstance(sig, CallableType):
        return _forget(sig)
    return Overloaded([_forget(item) for item in sig.items])


def _forget(sig: CallableType) -> CallableType:
    """`sig` with every named dimension one and the same size, of no name."""
    placeholder = TypeVarType(
        "_",
        "cdl-dim:_",
        TypeVarId(0, namespace=_FORGOTTEN),
        [],
        sig.fallback,
        AnyType(TypeOfAny.from_omitted_generics),
    )
    parts: list[Type] = [*sig.arg_types, sig.ret_type]
    named: dict[TypeVarId, Type] = {
        tv.id: placeholder
        for part in parts
        for tv in get_all_type_vars(part)
        if isinstance(tv, TypeVarType) and tv.fullname.startswith(RIGID)
    }
    named.update(
        (tv.id, placeholder)
        for tv in sig.variables
        if isinstance(tv, TypeVarType) and tv.fullname.startswith(RIGID)
    )
    forgotten = expand_type(sig, named)
    assert isinstance(forgotten, CallableType)
    return forgotten.copy_modified(
        variables=[tv for tv in sig.variables if tv.id not in named]
    )


def super_renamed(checker: TypeChecker, info: ErrorInfo) -> bool:
    """Whether the ``[arg-type]`` error `info` of ``super().m(...)`` is about names.

    mypy calls no plugin hook for a callee ``super().m``, so the overridden method
    keeps its class's rigid names (``Array[o@Base]``) and an argument of the
    caller's own (``Array[o@__init__]``) would not fit it, though
    ``Base.m(self, ...)`` takes it. Such an error is not reported when the argument
    fits the parameter with the named dimensions of both forgotten; literal sizes,
    ranks and every other type are compared as mypy compares them.

    **Arguments:** `checker`, mypy's type checker of the module; `info`, the error.

    **Returns:** whether the error is to be dropped.
    """
    if info.code is None or info.code.code != "arg-type":
        return False
    said = _ARGUMENT.match(info.message)
    if said is None:
        return False
    which, method = said.group(1), said.group(2)
    defn = checker.tscope.function
    if not isinstance(defn, FuncDef):
        return False
    calls = [
        expr
        for expr in get_subexpressions(defn)
        if isinstance(expr, CallExpr)
        and isinstance(expr.callee, SuperExpr)
        and expr.callee.name == method
    ]
    found = [
        (call, arg)
        for call in calls
        for arg in call.args
        if (arg.line, arg.column, arg.end_line, arg.end_column)
        == (info.line, info.column, info.end_line, info.end_column)
    ]
    if len(found) != 1:
        return False
    call, arg = found[0]
    callee = get_proper_type(_typed(checker, call.callee))
    if not isinstance(callee, CallableType):
        return False
    if which.isdigit():
        formal = int(which) - 1
        if formal >= len(callee.arg_kinds) or callee.arg_kinds[formal] != ARG_POS:
            return False
    elif which.strip('"') in callee.arg_names:
        formal = callee.arg_names.index(which.strip('"'))
    else:
        return False
    given = _forget(
        callee.copy_modified(
            arg_types=[_typed(checker, arg)],
            arg_kinds=[ARG_POS],
            arg_names=[None],
        )
    ).arg_types[0]
    return is_subtype(given, _forget(callee).arg_types[formal])


def _typed(checker: TypeChecker, expr: Expression) -> Type:
    """The type of `expr`, found again if mypy has not kept it.

    An error of a ``return`` is recorded after mypy has discarded the types it
    found for the expression (``TypeChecker.infer_context_dependent``).
    """
    if checker.has_type(expr):
        return checker.lookup_type(expr)
    with checker.msg.filter_errors(), checker.local_type_map:
        return checker.expr_checker.accept(expr)


# mypy's message of an argument of the wrong type to a method.
_ARGUMENT: Final = re.compile(r'Argument (\d+|"\w+") to "(\w+)" of "')
