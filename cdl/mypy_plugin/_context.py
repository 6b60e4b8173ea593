"""The type context of a call to a variadic generic function (``jax.random.split``).

mypy infers a function's type variables first from the type its result is assigned
to. Where that is ``Any`` or a union holding ``Any`` (a parameter without an
annotation, once re-bound: ``key = jr.fold_in(key, i); key = jr.split(key, n)``),
mypy 2.4 crashes on a ``TypeVarTuple`` in the result (``Invalid type replacement
to expand``), and a plain ``Any`` makes the result's shape ``Any``. ``Any`` says
nothing about the result, so for these callees the plugin drops such a context
and lets the arguments decide.
"""

from mypy.nodes import Decorator, FuncBase, SymbolNode, Var
from mypy.plugin import FunctionSigContext, MethodSigContext
from mypy.types import (
    AnyType,
    FunctionLike,
    Type,
    TypeVarTupleType,
    UnionType,
    get_proper_type,
)


def variadic(node: SymbolNode | None) -> bool:
    """Whether `node` is a function generic in a ``TypeVarTuple``."""
    if isinstance(node, Decorator):
        node = node.var
    typ = node.type if isinstance(node, (FuncBase, Var)) else None
    proper = get_proper_type(typ) if typ is not None else None
    if not isinstance(proper, FunctionLike):
        return False
    return any(
        isinstance(var, TypeVarTupleType)
        for item in proper.items
        for var in item.variables
    )


def without_any(typ: Type | None) -> Type | None:
    """`typ` as the context of a variadic generic call: none where it holds ``Any``.

    A union with ``Any`` is the context mypy gives when re-binding a name declared
    ``Any``: the old value's type joined to ``Any``, neither of which tells the new
    value's shape.

    >>> from mypy.types import AnyType, TypeOfAny
    >>> without_any(AnyType(TypeOfAny.explicit)) is None
    True
    """
    proper = get_proper_type(typ) if typ is not None else None
    if isinstance(proper, AnyType) or (
        isinstance(proper, UnionType)
        and any(isinstance(get_proper_type(t), AnyType) for t in proper.items)
    ):
        return None
    return typ


def drop_any(ctx: FunctionSigContext | MethodSigContext) -> None:
    """Remove ``Any`` from the type context of the call being checked."""
    checker = getattr(ctx.api, "expr_checker", None)
    contexts: list[Type | None] | None = getattr(checker, "type_context", None)
    if contexts:
        contexts[-1] = without_any(contexts[-1])
