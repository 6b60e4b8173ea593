"""Gradients keep their function's signature: ``jax.grad(f)``, ``value_and_grad``.

jax types ``jax.grad(f)`` as a bare ``Callable``, so its calls return ``Any`` and a
gradient returned as the wrong shape goes unreported. The gradient of `f` with
respect to an argument has that argument's type, so the plugin gives the result
`f`'s parameters and returns:

- ``jax.grad(f)``: the type of the argument at ``argnums`` (a tuple of them for a
  tuple of positions), with ``has_aux=True`` paired with `f`'s auxiliary output;
- ``jax.value_and_grad(f)``: ``(value, gradient)``, the value ``(value, aux)`` with
  ``has_aux=True``.

A gradient with respect to a Python number (``x: float``) is an array: jax's own
type stays for it.

Only a function whose signature the program declares is given one (as for
`._jit.keep_signature`); ``argnums`` and ``has_aux`` must be constants, and with
``has_aux=True`` `f` must be declared to return a pair. Otherwise jax's own type
stays.
"""

from mypy.nodes import ARG_POS
from mypy.plugin import FunctionContext
from mypy.types import (
    CallableType,
    Instance,
    TupleType,
    Type,
    UnionType,
    get_proper_type,
)

from ._types import fold, fold_bool, fold_shape


def grad(ctx: FunctionContext, *, with_value: bool) -> Type:
    """The type of ``jax.grad(f, ...)`` (or ``jax.value_and_grad`` `with_value`)."""
    default = ctx.default_return_type
    if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return default
    fun = get_proper_type(ctx.arg_types[0][0])
    if (
        not isinstance(fun, CallableType)
        or fun.is_type_obj()
        or fun.implicit
        or fun.definition is None
    ):
        return default
    argnums: int | list[int] = 0
    has_aux = False
    for formal, exprs in zip(ctx.callee_arg_names[1:], ctx.args[1:], strict=False):
        if not exprs:
            continue
        if formal == "argnums":
            value = fold(exprs[0])
            many = fold_shape(exprs[0]) if value is None else None
            if value is not None:
                argnums = value
            elif many is not None and None not in many:
                argnums = [n for n in many if n is not None]
            else:
                return default
        elif formal == "has_aux":
            flag = fold_bool(exprs[0])
            if flag is None:
                return default
            has_aux = flag
        elif formal in ("holomorphic", "allow_int", "reduce_axes"):
            continue
        else:
            return default
    positions = [argnums] if isinstance(argnums, int) else argnums
    if not positions or any(
        not 0 <= n < len(fun.arg_types) or fun.arg_kinds[n] != ARG_POS
        for n in positions
    ):
        return default
    if not all(_array_like(fun.arg_types[n]) for n in positions):
        return default
    tuple_type = ctx.api.named_generic_type("builtins.tuple", [])

    def pair(first: Type, second: Type) -> TupleType:
        return TupleType([first, second], tuple_type)

    gradient: Type = (
        fun.arg_types[argnums]
        if isinstance(argnums, int)
        else TupleType([fun.arg_types[n] for n in positions], tuple_type)
    )
    value = fun.ret_type
    if has_aux:
        out = get_proper_type(fun.ret_type)
        if not isinstance(out, TupleType) or len(out.items) != 2:
            return default
        if not with_value:
            return fun.copy_modified(ret_type=pair(gradient, out.items[1]))
    result = pair(value, gradient) if with_value else gradient
    return fun.copy_modified(ret_type=result)


# Python numbers, whose gradient is a jax array, not a number.
_NUMBERS = frozenset(
    {"builtins.float", "builtins.int", "builtins.complex", "builtins.bool"}
)


def _array_like(typ: Type) -> bool:
    """Whether a gradient with respect to a `typ` argument is of type `typ`.

    It is for arrays and pytrees of them; for a Python number it is an array.
    """
    t = get_proper_type(typ)
    if isinstance(t, UnionType):
        return all(_array_like(item) for item in t.items)
    return not (isinstance(t, Instance) and t.type.fullname in _NUMBERS)
