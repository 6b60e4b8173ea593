"""``jax.vmap`` of an unannotated lambda: its result read from the call's arguments.

A lambda's parameters have no annotations, so mypy types its body with them as
``Any`` and its result as ``Any``: ``jax.vmap(lambda x: x * w, out_axes=1)(xs)``
has no shape. Where such a mapped lambda is called, the plugin types the body
again with each parameter given the slice of its argument that the lambda sees
(the batch axis ``in_axes`` names removed), and the result gains the batch axis
where ``out_axes`` puts it. A body the plugin cannot type so (an error with those
types, an argument of unknown shape) keeps mypy's own result.
"""

from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import ARG_POS, CallExpr, Expression, LambdaExpr
from mypy.plugin import FunctionContext, MethodContext
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    Type,
    TypeOfAny,
    get_proper_type,
)

from ._shapes import Dim
from ._types import Env, array_dims, star

# The lambdas ``jax.vmap`` mapped: their in_axes and out_axes, by the lambda's id.
_Axes = int | None | str | list[int | None | str]
_VMAPPED: Final[dict[int, tuple[LambdaExpr, _Axes, _Axes]]] = {}
# The mark on a mapped lambda's signature (on its fallback), followed by that id.
_MARK: Final = "__cdl_vmapped_lambda_"


def register(function: Expression, made: Type, in_axes: _Axes, out_axis: _Axes) -> Type:
    """`made`, ``jax.vmap``'s result for `function`, marked if that is a lambda."""
    m = get_proper_type(made)
    if not isinstance(function, LambdaExpr) or not isinstance(m, CallableType):
        return made
    _VMAPPED[id(function)] = (function, in_axes, out_axis)
    fallback = m.fallback.copy_modified()
    old = m.fallback.extra_attrs
    fallback.extra_attrs = ExtraAttrs(
        {
            **(old.attrs if old else {}),
            f"{_MARK}{id(function)}": AnyType(TypeOfAny.special_form),
        },
        set(old.immutable) if old else set(),
        old.mod_name if old else None,
    )
    return m.copy_modified(fallback=fallback)


def is_mapped(typ: Type | None) -> bool:
    """Whether `typ` is the type ``jax.vmap`` gave a lambda."""
    sig = get_proper_type(typ) if typ is not None else None
    return isinstance(sig, CallableType) and _mapped_lambda(sig) is not None


def _mapped_lambda(sig: CallableType) -> tuple[LambdaExpr, _Axes, _Axes] | None:
    """The lambda, in_axes and out_axes of a mapped lambda's signature `sig`."""
    extra = sig.fallback.extra_attrs
    for key in extra.attrs if extra is not None else ():
        if key.startswith(_MARK):
            return _VMAPPED.get(int(key[len(_MARK) :]))
    return None


def vmapped_call(env: Env, ctx: FunctionContext | MethodContext) -> Type | None:
    """The result of calling a mapped lambda (None: the call is not one)."""
    call, api = ctx.context, ctx.api
    if not isinstance(call, CallExpr) or not isinstance(api, TypeChecker):
        return None
    callee = api.lookup_type_or_none(call.callee)
    sig = get_proper_type(callee) if callee is not None else None
    if not isinstance(sig, CallableType):
        return None
    entry = _mapped_lambda(sig)
    if entry is None:
        return None
    function, in_axes, out_axis = entry
    count = len(function.arguments)
    if (
        any(kind != ARG_POS for kind in function.arg_kinds)
        or len(ctx.arg_types) != count
        or any(kinds != [ARG_POS] for kinds in ctx.arg_kinds)
        or not (out_axis is None or isinstance(out_axis, int))
    ):
        return None
    axes = in_axes if isinstance(in_axes, list) else [in_axes] * count
    if len(axes) != count:
        return None
    given: list[Type] = []
    batch: Dim = None
    for types, axis in zip(ctx.arg_types, axes, strict=True):
        if axis is None:
            given.append(types[0])
            continue
        dims = array_dims(types[0])
        if not isinstance(axis, int) or dims is None or star(dims):
            return None
        if not -len(dims) <= axis < len(dims):
            return None
        place = axis % len(dims)
        batch = dims[place] if batch is None else batch
        given.append(env.array([*dims[:place], *dims[place + 1 :]], types[0]))
    body = _body_type(api, function, given)
    if body is None or out_axis is None:
        return body
    dims = array_dims(body)
    if dims is None or star(dims) or not -len(dims) - 1 <= out_axis <= len(dims):
        return None
    place = out_axis % (len(dims) + 1)
    return env.array([*dims[:place], batch, *dims[place:]], ctx.default_return_type)


def _body_type(
    api: TypeChecker, function: LambdaExpr, given: list[Type]
) -> Type | None:
    """The type of `function`'s body with its parameters of the `given` types."""
    saved = [argument.variable.type for argument in function.arguments]
    try:
        with (
            api.msg.filter_errors() as errors,
            api.binder.frame_context(can_skip=True, fall_through=0),
            api.scope.push_function(function),
        ):
            for argument, typ in zip(function.arguments, given, strict=True):
                argument.variable.type = typ
            if len(function.body.body) != 1:
                return None
            result = api.expr_checker.accept(function.expr(), allow_none_return=True)
    finally:
        for argument, typ in zip(function.arguments, saved, strict=True):
            argument.variable.type = typ
    if errors.has_new_errors() or array_dims(result) is None:
        return None
    return result
