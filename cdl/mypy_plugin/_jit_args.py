"""NumPy arrays and scalars given to a jitted function, taken as jit takes them.

``jax.jit`` converts a NumPy array, a NumPy scalar and a Python number given for
an array to a jax array before the function runs; ``eqx.filter_jit`` converts
NumPy arrays and scalars (a Python number is held static). jax types
``jax.jit(f)`` as ``JitWrapped``, whose ``__call__`` takes anything: mypy
without the plugin accepts ``train_step(params, numpy_batch)`` (Equinox types
``filter_jit(f)`` as `f`, so it refuses the NumPy array there). The plugin gives
a jitted function `f`'s own signature (`._jit`), which names ``jax.Array``: at a
call of a jitted function, an argument jit converts is checked as the jax array
it becomes, of the shape NumPy's type gives (a rank, ``ndarray[tuple[int,
int], ...]``; the sizes of a ``Float[np.ndarray, "n d"]`` annotation; a scalar
is 0-d), and mypy's ``[arg-type]`` error about its type is dropped. A Python
number given where the parameter cannot be 0-d keeps mypy's error. A function
that is not jitted refuses NumPy where it declares a jax array, as jaxtyping
does at run time.
"""

import dataclasses
from collections.abc import Callable
from typing import Final, TypeVar

from mypy.checker import TypeChecker
from mypy.nodes import CallExpr, Context
from mypy.plugin import (
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
)
from mypy.types import (
    AnyType,
    CallableType,
    ExtraAttrs,
    FunctionLike,
    Instance,
    LiteralType,
    NoneType,
    Type,
    TypeOfAny,
    UnionType,
    flatten_nested_unions,
    get_proper_type,
)

from ._calls import array_dims_or_optional, in_scope
from ._names import JIT_WRAPPED
from ._numpy import numpy_dims
from ._shapes import Dim, Star, align
from ._types import Env, array_dims
from ._unknown import replace_error

_PYTHON_SCALARS: Final = frozenset(
    {"builtins.bool", "builtins.int", "builtins.float", "builtins.complex"}
)
FILTER_JIT: Final = "equinox._jit.filter_jit"
# Marks the fallback of what ``eqx.filter_jit`` returns (an attribute no code reads).
FILTER_JIT_MARK: Final = "__cdl_filter_jit__"

_Call = TypeVar("_Call", FunctionContext, MethodContext)
_Sig = TypeVar("_Sig", FunctionSigContext, MethodSigContext)


# -- jitted callees --------------------------------------------------------------------


def mark_filter_jit(ctx: FunctionContext, typ: Type) -> Type:
    """What ``eqx.filter_jit`` returns, marked as jitted (also as a decorator).

    It is named after the function it jits, as ``jax.jit(f)`` is: mypy asks the
    plugin about calls of named callees only (``eqx.filter_jit(f)(x)``).
    """
    t = get_proper_type(typ)
    if not isinstance(t, CallableType):
        return typ
    given = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
    if t.name is None and isinstance(given, CallableType) and given.name:
        t = t.copy_modified(name=given.name)
    ret = get_proper_type(t.ret_type)
    if t.arg_types and isinstance(ret, CallableType) and _is_function(t.arg_types[0]):
        # ``eqx.filter_jit(donate=...)``: a decorator; what it makes is marked.
        return t.copy_modified(ret_type=_marked(ret))
    return _marked(t)


def without_context(ctx: FunctionSigContext) -> FunctionLike:
    """``eqx.filter_jit(f)`` checked without the type its result goes to.

    Equinox types it ``Callable[P, T] -> Callable[P, T]``, so mypy infers ``P``
    from that type first: a name bound first to a function of named parameters,
    then to ``eqx.filter_jit(eqx.filter_vmap(f))`` of a ``Callable`` `f`, whose
    mapped signature has positional parameters only, refused `f` ("Argument 1 to
    "filter_jit" has incompatible type"). The result is `f`'s own type; mypy's
    assignment check still compares it with the name's.
    """
    checker = getattr(ctx.api, "expr_checker", None)
    contexts: list[Type | None] | None = getattr(checker, "type_context", None)
    if contexts:
        contexts[-1] = None
    return ctx.default_signature


def _is_function(typ: Type) -> bool:
    return isinstance(get_proper_type(typ), CallableType)


def _marked(t: CallableType) -> CallableType:
    fallback = t.fallback.copy_modified()
    old = t.fallback.extra_attrs
    fallback.extra_attrs = ExtraAttrs(
        {
            **(old.attrs if old else {}),
            FILTER_JIT_MARK: AnyType(TypeOfAny.special_form),
        },
        set(old.immutable) if old else set(),
        old.mod_name if old else None,
    )
    return t.copy_modified(fallback=fallback)


def jitted(sig: FunctionLike) -> str | None:
    """``"jit"``, ``"filter_jit"`` or None: how a callee of signature `sig` is jitted.

    An overloaded jitted function is left to mypy's overload matching.
    """
    if not isinstance(sig, CallableType):
        return None
    fallback = sig.fallback
    if fallback.type.fullname == JIT_WRAPPED:
        return "jit"
    extra = fallback.extra_attrs
    if extra is not None and FILTER_JIT_MARK in extra.attrs:
        return "filter_jit"
    return None


@dataclasses.dataclass
class _Noted:
    """A call of a jitted function: its signature, kept for the return hook."""

    context: Context  # held so that its id is not reused while it is kept
    sig: CallableType
    python_scalars: bool


_NOTED: dict[int, _Noted] = {}


def noting(
    hook: Callable[[_Sig], FunctionLike] | None,
) -> Callable[[_Sig], FunctionLike]:
    """`hook` (or mypy's signature), noting a call of a jitted function first."""

    def run(ctx: _Sig) -> FunctionLike:
        sig = ctx.default_signature
        kind = jitted(sig)
        if kind is not None and isinstance(sig, CallableType):
            _NOTED[id(ctx.context)] = _Noted(ctx.context, sig, kind == "jit")
        return ctx.default_signature if hook is None else hook(ctx)

    return run


def converting(
    env: Env, hook: Callable[[_Call], Type] | None
) -> Callable[[_Call], Type]:
    """`hook` (or mypy's result), given what jit converts as jax arrays."""

    def run(ctx: _Call) -> Type:
        noted = _NOTED.pop(id(ctx.context), None)
        if noted is None or noted.context is not ctx.context:
            noted = _called_at_once(ctx)
        if noted is not None:
            ctx = _converted(env, ctx, noted)
        return ctx.default_return_type if hook is None else hook(ctx)

    return run


def _called_at_once(ctx: FunctionContext | MethodContext) -> _Noted | None:
    """A jitted value called where it is made (``jax.jit(f)(x)``), if this is one.

    mypy asks no signature hook for it: its type is read from the call's callee.
    """
    call = ctx.context
    api = ctx.api
    if not isinstance(call, CallExpr) or not isinstance(api, TypeChecker):
        return None
    if not isinstance(call.callee, CallExpr):
        return None
    callee = api.lookup_type_or_none(call.callee)
    sig = get_proper_type(callee) if callee is not None else None
    kind = jitted(sig) if isinstance(sig, CallableType) else None
    if kind is None or not isinstance(sig, CallableType):
        return None
    return _Noted(call, sig, kind == "jit")


def _converted(env: Env, ctx: _Call, noted: _Noted) -> _Call:
    """`ctx` with the arguments jit converts typed as the jax arrays they become."""
    shapes = env.shapes()
    if shapes is None:
        return ctx
    scopes = in_scope(ctx.api)
    sig = noted.sig
    changed = False
    arg_types: list[list[Type]] = []
    for k, (types, exprs) in enumerate(zip(ctx.arg_types, ctx.args, strict=False)):
        formal = (
            array_dims_or_optional(sig.arg_types[k]) if k < len(sig.arg_types) else None
        )
        optional = k < len(sig.arg_types) and _optional(sig.arg_types[k])
        row: list[Type] = []
        for typ, expr in zip(types, exprs, strict=False):
            items = flatten_nested_unions([typ], handle_type_alias_type=True)
            none = optional and any(_is_none(i) for i in items)
            given = _given_items(
                [i for i in items if not _is_none(i)],
                formal,
                scopes,
                python_scalars=noted.python_scalars,
            )
            if formal is None or given is None:
                row.append(typ)
                continue
            array = shapes.array_type(given)
            row.append(UnionType.make_union([array, NoneType()]) if none else array)
            changed = True
            if _fits(formal, given):
                replace_error(ctx.api, expr, "arg-type")
            # Otherwise mypy's error stays, or the plugin's binding of the
            # callee's names replaces it with its own (another rank).
        arg_types.append(row)
    if not changed:
        return ctx
    return ctx._replace(arg_types=arg_types + list(ctx.arg_types[len(arg_types) :]))


def _fits(formal: tuple[Dim, ...], given: tuple[Dim, ...]) -> bool:
    """Whether `given` has `formal`'s rank and its constant sizes where both do."""
    aligned = align(formal, given)
    if aligned is None:
        return False
    return all(
        not (isinstance(a, int) and isinstance(b, int)) or a == b for a, b in aligned[0]
    )


def _given_items(
    items: list[Type],
    formal: tuple[Dim, ...] | None,
    scopes: set[str],
    *,
    python_scalars: bool,
) -> tuple[Dim, ...] | None:
    """The shape jit gives an argument of one of the types `items` (None: not one).

    Every item is a jax array or one that jit converts (``ArrayLike``), and one at
    least is converted; the shape is the items' if they share one, else any
    (``ArrayLike``: an array of any shape, or a number). A number alone where
    the parameter has axes is not converted: mypy's error stays.
    """
    shapes: set[tuple[Dim, ...]] = set()
    converted = False
    for item in items:
        dims = _given(item, scopes, python_scalars=python_scalars)
        if dims is not None:
            converted = True
        else:
            dims = array_dims(item)
        if dims is None or formal is None:
            return None
        if dims == () and len(items) == 1 and align(formal, ()) is None:
            return None
        shapes.add(dims)
    if not converted or not shapes:
        return None
    return shapes.pop() if len(shapes) == 1 else (Star(None),)


def _optional(typ: Type) -> bool:
    t = get_proper_type(typ)
    return isinstance(t, UnionType) and any(_is_none(i) for i in t.items)


def _is_none(typ: Type) -> bool:
    return isinstance(get_proper_type(typ), NoneType)


def _given(
    typ: Type, scopes: set[str], *, python_scalars: bool
) -> tuple[Dim, ...] | None:
    """The shape jit gives an argument of type `typ` (None: not one it converts)."""
    t = get_proper_type(typ)
    if python_scalars and isinstance(t, LiteralType):
        t = t.fallback
    if (
        python_scalars
        and isinstance(t, Instance)
        and t.type.fullname in _PYTHON_SCALARS
    ):
        return ()
    return numpy_dims(t, scopes)
