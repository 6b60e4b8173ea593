"""Jitted functions keep their signatures: ``jax.jit(f)``, ``@partial(jax.jit, ...)``.

jax types ``jax.jit(f)`` as its ``JitWrapped``, whose ``__call__`` takes anything and
returns ``Any``: the shapes of `f` would be lost at every call. The plugin gives a
jitted function `f`'s own signature instead, with ``JitWrapped`` as its fallback, so
that a call is checked as a call of `f` and ``.lower(...)``, ``.trace(...)`` and
``.eval_shape(...)`` are still jax's. ``static_argnums``, ``static_argnames`` and
``donate_argnums`` change how a call is compiled, not what it accepts: the signature
is the same. ``jax.jit(static_argnums=1)`` and ``functools.partial(jax.jit, ...)``
are decorators that do the same to the function they are given. ``jax.checkpoint``
(``jax.remat``) keeps the signature too.
"""

from typing import Final

from mypy.nodes import ARG_POS, ARG_STAR, ARG_STAR2, RefExpr
from mypy.plugin import FunctionContext
from mypy.plugins.functools import partial_new_callback
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    Overloaded,
    ParamSpecFlavor,
    ParamSpecType,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    get_proper_type,
)

from ._calls import check_partial
from ._names import JIT, JIT_WRAPPED
from ._shapes import Star
from ._types import Env, array_dims

# The namespace of the decorator's own type variables (``Callable[P, R] -> ...``).
_NAMESPACE: Final = "cdl.jit"


def jit(env: Env, ctx: FunctionContext) -> Type:
    """``jax.jit(f, ...)``: `f`'s signature; ``jax.jit(...)`` alone: a decorator."""
    wrapped = _wrapped_type(env)
    if wrapped is None:
        return ctx.default_return_type
    function = _positional(ctx)
    if function is not None:
        return keep_signature(function, wrapped) or ctx.default_return_type
    if any(k in (ARG_POS, ARG_STAR) for kinds in ctx.arg_kinds for k in kinds):
        return ctx.default_return_type
    return decorator(ctx, wrapped)


def partial(env: Env, ctx: FunctionContext) -> Type:
    """``functools.partial(jax.jit, ...)``: a decorator; any other as mypy has it.

    The arguments a partial binds are checked against the function's named
    dimensions (`._calls.check_partial`).
    """
    first = ctx.args[0][0] if ctx.args and ctx.args[0] else None
    if isinstance(first, RefExpr) and first.fullname == JIT:
        wrapped = _wrapped_type(env)
        made = get_proper_type(ctx.default_return_type)
        if wrapped is not None and isinstance(made, Instance) and not ctx.args[1]:
            jitting = decorator(ctx, wrapped)
            return jitting.copy_modified(fallback=made)
    made_type = partial_new_callback(ctx)
    check_partial(ctx)
    return made_type


def keep_signature(function: Type, wrapped: Instance) -> Type | None:
    """`function`'s signature, called and read as a jitted function (None: not one).

    The signature of a function definition is kept, and that of a callable value
    whose annotations have shapes. An unannotated function (``def loss(x, y)``, a
    lambda) has no shapes to keep, and a value of a declared callable type
    (optax's ``Schedule``, ``Callable[[Numeric], Numeric]``) none either: jax's
    ``JitWrapped`` stays for them, as without the plugin.
    """
    t = get_proper_type(function)
    if isinstance(t, CallableType) and not t.is_type_obj() and not t.implicit:
        if t.definition is None and not _shaped(t):
            return None
        return t.copy_modified(fallback=wrapped)
    if isinstance(t, Overloaded) and not t.is_type_obj():
        return Overloaded([i.copy_modified(fallback=wrapped) for i in t.items])
    return None


def checkpoint(ctx: FunctionContext) -> Type:
    """``jax.checkpoint(f)``, ``@jax.remat``: `f`'s own signature.

    jax types the result as a bare ``Callable``, so its calls would return
    ``Any``; rematerialising changes how the gradient is computed, not what `f`
    accepts. As for `jax.jit`, only a function definition or a callable value
    whose annotations have shapes keeps its signature.
    """
    function = _positional(ctx)
    t = get_proper_type(function) if function is not None else None
    if isinstance(t, CallableType) and not t.is_type_obj() and not t.implicit:
        if t.definition is not None or _shaped(t):
            return t
    if isinstance(t, Overloaded) and not t.is_type_obj():
        return t
    return ctx.default_return_type


def _shaped(sig: CallableType) -> bool:
    """Whether a parameter or the result of `sig` is an array with a shape."""
    for part in [*sig.arg_types, sig.ret_type]:
        dims = array_dims(part)
        if dims is not None and dims != (Star(None),):
            return True
    return False


def decorator(ctx: FunctionContext, wrapped: Instance) -> CallableType:
    """``def [P, R] (Callable[P, R]) -> Callable[P, R]``, the result jitted."""
    function = ctx.api.named_generic_type("builtins.function", [])
    obj = ctx.api.named_generic_type("builtins.object", [])
    any_type = AnyType(TypeOfAny.from_omitted_generics)
    result = TypeVarType(
        "R", f"{_NAMESPACE}.R", TypeVarId(-1, namespace=_NAMESPACE), [], obj, any_type
    )
    params = ParamSpecType(
        "P",
        f"{_NAMESPACE}.P",
        TypeVarId(-2, namespace=_NAMESPACE),
        ParamSpecFlavor.BARE,
        obj,
        any_type,
    )

    def call(fallback: Instance) -> CallableType:
        return CallableType(
            [
                params.with_flavor(ParamSpecFlavor.ARGS),
                params.with_flavor(ParamSpecFlavor.KWARGS),
            ],
            [ARG_STAR, ARG_STAR2],
            [None, None],
            result,
            fallback,
        )

    return CallableType(
        [call(function)],
        [ARG_POS],
        ["fun"],
        call(wrapped),
        function,
        variables=[params, result],
        name="jit",
    )


def _wrapped_type(env: Env) -> Instance | None:
    info = env.info(JIT_WRAPPED)
    return None if info is None else Instance(info, [])


def _positional(ctx: FunctionContext) -> Type | None:
    """The type of the function given to ``jax.jit`` (None: none given)."""
    for types, kinds in zip(ctx.arg_types, ctx.arg_kinds, strict=False):
        if len(types) == 1 and kinds[0] == ARG_POS:
            return types[0]
    return None
