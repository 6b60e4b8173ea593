"""Morphisms: composition, application and algebras of cdl's `Para` maps.

A morphism type ``Para[dom, cod]`` (or a subclass) has a signature of spaces with fresh
variables; ``f >> g`` unifies the codomain of `f` with the domain of `g`, ``f(x)``
the domain with the argument; a fold of lists with elements `E` (``Cata[E, A]``)
takes arrays ``[n, *E]``; ``ListAlgebra(nil, cons)`` and ``Algebra(F, **cells)``
must have one carrier.
"""

import json
from collections.abc import Callable, Sequence

from mypy.checker import TypeChecker
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    ARG_POS,
    CallExpr,
    Decorator,
    Expression,
    FuncDef,
    MemberExpr,
    NameExpr,
    OpExpr,
    OverloadedFuncDef,
    RefExpr,
    TypeInfo,
)
from mypy.plugin import (
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
)
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    LiteralType,
    NoneType,
    ProperType,
    Type,
    TypeOfAny,
    UninhabitedType,
    UnionType,
    get_proper_type,
)
from mypy.typevars import fill_typevars

from . import _actions, _calls, _layers, _messages
from ._annotations import dim_params
from ._names import COMPOSE, LIST_ALGEBRA, MESSAGE_PASSING, PARA, TENSOR
from ._shapes import (
    Arr,
    Mismatch,
    Opaque,
    Space,
    SpaceVar,
    Sym,
    Tup,
    Unifier,
    Var as DimVar,
    render,
)
from ._types import (
    Env,
    fold,
    forget_vars,
    literal,
    modelled,
    renamer,
    report,
    space_of,
    tag_of,
    unknown,
)


def label(env: Env, expr: Expression, typ: ProperType) -> str:
    """A short readable name for the morphism `expr` of type `typ`."""
    if isinstance(expr, OpExpr) and expr.op in (">>", "@"):
        left, right = (
            label(env, expr.left, unknown()),
            label(env, expr.right, unknown()),
        )
        text = f"{left} {expr.op} {right}"
        return f"({text})" if expr.op == "@" else text
    if isinstance(expr, CallExpr) and isinstance(expr.callee, NameExpr | MemberExpr):
        name = expr.callee.name
        if expr.callee.fullname == env.names[LIST_ALGEBRA] and len(expr.args) == 2:
            return f"{name}({label(env, expr.args[1], unknown())})"
        if isinstance(expr.callee.node, FuncDef | OverloadedFuncDef | Decorator):
            parts = [
                str(fold(a))
                if fold(a) is not None
                else label(env, a, unknown())
                if isinstance(a, RefExpr | CallExpr)
                else "…"
                for a, kind in zip(expr.args, expr.arg_kinds, strict=True)
                if kind == ARG_POS
            ]
            return f"{name}({', '.join(parts)})"
        sizes = [fold(a) for a in expr.args[:3] if fold(a) is not None]
        if isinstance(typ, Instance) and dim_params(typ.type):
            known = [literal(a) for a in typ.args]
            if all(k is not None for k in known) and len(known) >= len(sizes):
                sizes = known
        if name.endswith("Linear") and len(sizes) == 2:
            return f"{name}({sizes[0]}→{sizes[1]})"
        if isinstance(typ, Instance) and not _is_layer_generic(typ.type):
            return type_label(env, typ)
        return f"{name}({', '.join(str(s) for s in sizes)})"
    if isinstance(expr, NameExpr):
        return expr.name
    if isinstance(expr, MemberExpr):
        return expr.name
    return "the morphism"


def _is_layer_generic(info: TypeInfo) -> bool:
    return bool(dim_params(info))


def _para_base(info: TypeInfo, para: TypeInfo) -> Instance | None:
    if not info.has_base(para.fullname):
        return None
    own = fill_typevars(info)
    if not isinstance(own, Instance):
        return None
    return map_instance_to_supertype(own, para)


def signature(env: Env, typ: ProperType, para: TypeInfo) -> tuple[Space, Space] | None:
    """Domain and codomain of a morphism type, with fresh variables."""
    if not isinstance(typ, Instance) or not typ.type.has_base(para.fullname):
        return None
    rename = renamer()
    declared = _layers.parts(typ, _layers.SIGNATURE)
    if len(declared) == 2:
        dom, cod = (space_of(t, rename) for t in declared)
        return dom, cod
    sizes = _layers.sizes(typ)
    if sizes:
        found = _signature(env, typ, para, rename)
        if found is None:
            return None
        u = Unifier()
        for name, value in sizes.items():
            u.dims[rename(name)] = value
        return u.resolve(found[0]), u.resolve(found[1])
    return _signature(env, typ, para, rename)


def _signature(
    env: Env, typ: Instance, para: TypeInfo, rename: Callable[[str], str]
) -> tuple[Space, Space] | None:
    info = typ.type
    if dim_params(info):
        base = map_instance_to_supertype(typ, para)
        if len(base.args) != 2:
            return None
        dom, cod = (space_of(a, rename) for a in base.args)
        return dom, cod
    tvars: dict[str, Space] = {}
    for tv, arg in zip(info.defn.type_vars, typ.args, strict=False):
        a = get_proper_type(arg)
        if isinstance(a, UninhabitedType) or (isinstance(a, AnyType) and not tag_of(a)):
            tvars[tv.name] = SpaceVar(rename(tv.name))
        else:
            tvars[tv.name] = space_of(a, rename, tvars)
    own = _para_base(info, para)
    if own is None or len(own.args) != 2:
        return None
    dom, cod = (space_of(a, rename, tvars) for a in own.args)
    element = list_element(env, typ, rename)
    if isinstance(element, Arr):
        dom = Arr((DimVar(rename("n")), *element.dims))
    return dom, cod


def list_element(
    env: Env, typ: ProperType, rename: Callable[[str], str]
) -> Space | None:
    """The element space of a fold of lists (`Cata`, `FoldL`, `Zygo`), else None."""
    if not isinstance(typ, Instance) or typ.type.fullname not in env.names.list_folds():
        return None
    return space_of(typ.args[0], rename) if typ.args else None


# -- the plugin ----------------------------------------------------------------------


def construct(env: Env, ctx: FunctionContext, info: TypeInfo) -> Type:
    """The type of a morphism built by a constructor call, with what it fixes.

    Size arguments become the type's parameters (``Linear[784, 128]``); a layer's
    rule (kernel, stride, ...), the parts of ``Each(f)`` or ``Block(name, f)``,
    and named sizes of a non-generic layer ride on the type (see `._layers`).
    """
    ret = get_proper_type(ctx.default_return_type)
    if not isinstance(ret, Instance) or ret.type is not info:
        return ctx.default_return_type
    out = _construct(env, ctx, info, ret)
    out = _layers.constructed(env, ctx, info, out)
    if info.fullname == env.names[MESSAGE_PASSING] and isinstance(out, Instance):
        out = _message_passing(env, ctx, out)
    if info.fullname in _actions.LAYERS and isinstance(out, Instance):
        out = _actions.layer(env, ctx, out)
    inner = _layers.wrapped(env, info, ctx)
    if inner is not None and isinstance(out, Instance):
        out = _wrap(env, info, out, inner)
    return out


def _message_passing(env: Env, ctx: FunctionContext, out: Instance) -> Instance:
    """``MessagePassing(message, update)``: node widths read off the two maps.

    The update takes ``[x_v ; m_v]``, so ``in_dim`` is its input size less the
    message size, and ``out_dim`` its output size.
    """
    sizes: list[int] = []
    args = _layers.given(ctx)
    for name in ("message", "update"):
        if len(args.get(name, [])) != 1:
            return out
        sig = morphism(env, ctx.arg_types[ctx.callee_arg_names.index(name)][0])
        for space in sig or ():
            dims = space.dims if isinstance(space, Arr) else ()
            if len(dims) == 1 and isinstance(dims[0], int):
                sizes.append(dims[0])
    if len(sizes) != 4 or sizes[2] - sizes[1] < 1:
        return out
    found = {"in_dim": sizes[2] - sizes[1], "out_dim": sizes[3]}
    text = _layers.text_type(env, json.dumps(found))
    return out if text is None else _layers.with_attrs(out, {_layers.SIZES: text})


def _wrap(env: Env, info: TypeInfo, out: Instance, inner: ProperType) -> Instance:
    """``Each(f)``, ``Block(name, f)``, ``OnNodes(f)``: typed from `f`."""
    sig = morphism(env, inner)
    shapes = env.shapes()
    kind = _layers.wrapper_kind(env, info)
    if sig is None or shapes is None or kind is None or len(out.args) != 2:
        return out
    dom, cod = sig
    if kind == _layers.EACH:
        length = DimVar(renamer()("n"))
        dom, cod = _layers.along(dom, length), _layers.along(cod, length)
    elif kind == _layers.ON_NODES:
        length = DimVar(renamer()("n"))
        dom, cod = _layers.along(dom, length), _layers.along(cod, length)
    if not modelled(dom) and not modelled(cod):
        return out
    args = [shapes.type_of(dom), shapes.type_of(cod)]
    typed = out.copy_modified(args=args)
    return _layers.with_attrs(typed, _layers.parts_attr(env, kind, [inner]))


def _construct(env: Env, ctx: FunctionContext, info: TypeInfo, ret: Instance) -> Type:
    names = dim_params(info)
    if names:
        shapes = env.shapes()
        if shapes is None:
            return ctx.default_return_type
        given: dict[str, int | None] = {}
        for formal, exprs, types in zip(
            ctx.callee_arg_names, ctx.args, ctx.arg_types, strict=False
        ):
            if formal in names and len(exprs) == 1:
                value = fold(exprs[0])
                given[formal] = value if value is not None else literal(types[0])
        args = [shapes.dim_type(given.get(n)) for n in names]
        return ret.copy_modified(args=args)
    named = _layers.named_parameters(env, ctx, info)
    if named is not None:
        return ret.copy_modified(args=named)
    args = [
        AnyType(TypeOfAny.special_form)
        if isinstance(get_proper_type(a), UninhabitedType)
        else a
        for a in ret.args
    ]
    return ret.copy_modified(args=args)


def _signature_of(env: Env, typ: Type) -> tuple[Space, Space] | None:
    para = env.info(PARA)
    return None if para is None else signature(env, get_proper_type(typ), para)


def morphism(env: Env, typ: Type) -> tuple[Space, Space] | None:
    """Domain and codomain of a morphism type; a layer's rule applied to its domain.

    A fold of node tables gives one carrier per root: ``[*roots, *carrier]``.
    """
    t = get_proper_type(typ)
    sig = _signature_of(env, t)
    if sig is not None and _layers.is_tree_fold(t):
        return sig[0], _layers.per_root(sig[1], None)
    rule = _layers.rule_or_flatten(env, t)
    if sig is None or rule is None:
        return sig
    try:
        return sig[0], rule.output(*sig)
    except Mismatch:
        return sig


def result(env: Env, ctx: MethodContext, cls: str, spaces: Sequence[Space]) -> Type:
    """An instance of the composite class `cls` (``Compose``, ``Tensor``)."""
    shapes, info = env.shapes(), env.info(cls)
    if shapes is None or info is None:
        return ctx.default_return_type
    return Instance(info, [shapes.type_of(s) for s in spaces])


def then(env: Env, ctx: MethodContext) -> Type:
    if not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    left = morphism(env, ctx.type)
    right_type = get_proper_type(ctx.arg_types[0][0])
    right = morphism(env, right_type)
    if left is None or right is None:
        return ctx.default_return_type
    exprs = _operands(ctx)
    u = Unifier()
    try:
        u.unify(left[1], right[0])
    except Mismatch:
        report(
            ctx.api,
            _messages.composition(
                label(env, exprs[0], ctx.type) if exprs else "the left map",
                render(u.resolve(left[1])),
                label(env, exprs[1], right_type) if exprs else "the right map",
                render(u.resolve(right[0])),
            ),
            exprs[1] if exprs else ctx.context,
        )
        return result(env, ctx, COMPOSE, [Opaque(), Opaque(), Opaque()])
    middle = u.resolve(right[0])
    where = exprs[1] if exprs else ctx.context
    try:
        cod = flow(env, right_type, middle)
    except Broken as broken:
        before = label(env, exprs[0], ctx.type) if exprs else "the left map"
        report(ctx.api, broken.text(before), where)
        return result(env, ctx, COMPOSE, [u.resolve(left[0]), middle, Opaque()])
    except Unfit as unfit:
        name = label(env, exprs[1], right_type) if exprs else "the right map"
        report(ctx.api, _messages.op(name, str(unfit)), where)
        return result(env, ctx, COMPOSE, [u.resolve(left[0]), middle, Opaque()])
    except Mismatch:
        cod = u.resolve(right[1])
    out = result(env, ctx, COMPOSE, [u.resolve(left[0]), middle, cod])
    return _keep_parts(env, out, _layers.CHAIN, ctx.type, right_type)


def tensor(env: Env, ctx: MethodContext) -> Type:
    if not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    right_type = get_proper_type(ctx.arg_types[0][0])
    left, right = morphism(env, ctx.type), morphism(env, right_type)
    if left is None or right is None:
        return ctx.default_return_type
    out = result(env, ctx, TENSOR, [left[0], left[1], right[0], right[1]])
    return _keep_parts(env, out, _layers.PAIR, ctx.type, right_type)


def _keep_parts(env: Env, out: Type, kind: str, left: Type, right: Type) -> Type:
    """`out` keeping its two parts when the output of either depends on its input."""
    if not isinstance(out, Instance):
        return out
    if not (_layers.dependent(env, left) or _layers.dependent(env, right)):
        return out
    return _layers.with_attrs(out, _layers.parts_attr(env, kind, [left, right]))


def apply(env: Env, ctx: MethodContext) -> Type:
    sig = morphism(env, ctx.type)
    if sig is None or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    given_type = ctx.arg_types[0][0]
    given = space_of(given_type)
    dom, cod = sig
    forest = _layers.roots(given) is not None
    if not _has_array(dom) and not forest:
        return ctx.default_return_type
    callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
    name = label(env, callee, ctx.type) if callee is not None else "the morphism"
    if _layers.dependent(env, ctx.type):
        try:
            return env.shape_type(flow(env, get_proper_type(ctx.type), given))
        except Broken as broken:
            text = _messages.applied(name, render(given), broken.text(None))
            report(ctx.api, text, ctx.context)
            return env.shape_type(forget_vars(cod))
        except Unfit as unfit:
            report(ctx.api, _messages.op(name, str(unfit)), ctx.context)
            return env.shape_type(forget_vars(cod))
        except Mismatch:
            pass  # at the domain itself: reported below
    u = Unifier()
    try:
        u.unify(dom, given)
    except Mismatch:
        exprs = ctx.args[0] if ctx.args else []
        element = list_element(env, get_proper_type(ctx.type), renamer())
        if isinstance(element, Arr):
            text = _messages.fold(name, render(element), render(dom), render(given))
        else:
            text = _messages.call(name, render(dom), render(given))
        if exprs and _looks_batched(dom, given):
            text += _messages.BATCH_HINT
        report(ctx.api, text, ctx.context)
        return env.shape_type(forget_vars(cod))
    return env.shape_type(u.resolve(cod))


# -- outputs computed stage by stage ---------------------------------------------------


class Unfit(Exception):
    """A layer's rule cannot hold on the sizes given (a kernel over its input)."""


class Broken(Exception):
    """A stage inside a composite rejects what the stages before it give."""

    def __init__(self, before: str, out: str, stage: str, inp: str) -> None:
        super().__init__(before, out, stage, inp)
        self.before, self.out, self.stage, self.inp = before, out, stage, inp

    def text(self, prefix: str | None) -> str:
        """The composition message, `prefix` (the stages in front) included."""
        before = self.before if prefix is None else f"{prefix} >> {self.before}"
        return _messages.composition(before, self.out, self.stage, self.inp)


def flow(env: Env, typ: ProperType, given: Space) -> Space:
    """The output of the morphism of type `typ` on `given`, computed stage by stage.

    A mismatch at the morphism's own domain is a `Mismatch`; one at a later stage of
    a composite is `Broken`; a rule that cannot hold is `Unfit`.
    """
    chain = _layers.parts(typ, _layers.CHAIN)
    if len(chain) == 2:
        middle = flow(env, chain[0], given)
        try:
            return flow(env, chain[1], middle)
        except Mismatch:
            sig = morphism(env, chain[1])
            raise Broken(
                type_label(env, chain[0]),
                render(middle),
                type_label(env, chain[1]),
                render(sig[0]) if sig is not None else "?",
            ) from None
    inner = _inner(env, typ, given)
    if inner is not None:
        return inner
    sig = morphism(env, typ)
    if sig is None:
        return Opaque()
    dom, cod = sig
    u = Unifier()
    u.unify(dom, given)
    out = u.resolve(cod)
    if _layers.is_tree_fold(typ):
        carrier = _signature_of(env, typ)
        trees = _layers.roots(given)
        return _layers.per_root(carrier[1], trees) if carrier else out
    rule = _layers.rule_or_flatten(env, typ)
    if rule is None:
        return out
    try:
        return rule.output(u.resolve(dom), out)
    except Mismatch as error:
        raise Unfit(str(error)) from None


def _inner(env: Env, typ: ProperType, given: Space) -> Space | None:
    """The output of a pair, ``Each``, ``Block`` or ``OnNodes`` from its parts'."""
    pair = _layers.parts(typ, _layers.PAIR)
    if len(pair) == 2 and isinstance(given, Tup) and len(given.items) == 2:
        return Tup(
            tuple(flow(env, f, g) for f, g in zip(pair, given.items, strict=True))
        )
    body = _layers.parts(typ, _layers.BODY)
    if len(body) == 1:
        return flow(env, body[0], given)
    each = _layers.parts(typ, _layers.EACH)
    if len(each) == 1:
        rows, length = _layers.strip(given)
        if length is not None:
            return _layers.along(flow(env, each[0], rows), length)
    nodes = _layers.parts(typ, _layers.ON_NODES)
    if len(nodes) == 1 and isinstance(given, Tup) and len(given.items) == 2:
        rows, length = _layers.strip(given.items[1])
        if length is not None:
            out = _layers.along(flow(env, nodes[0], rows), length)
            return Tup((given.items[0], out))
    return None


def type_label(env: Env, typ: ProperType) -> str:
    """A short readable name for a morphism known only by its type."""
    chain = _layers.parts(typ, _layers.CHAIN)
    if len(chain) == 2:
        return f"{type_label(env, chain[0])} >> {type_label(env, chain[1])}"
    pair = _layers.parts(typ, _layers.PAIR)
    if len(pair) == 2:
        return f"({type_label(env, pair[0])} @ {type_label(env, pair[1])})"
    if not isinstance(typ, Instance):
        return "the morphism"
    name = typ.type.name
    for kind in (_layers.EACH, _layers.BODY, _layers.ON_NODES):
        inner = _layers.parts(typ, kind)
        if len(inner) == 1:
            return f"{name}({type_label(env, inner[0])})"
    if typ.type.fullname in (env.names[COMPOSE], env.names[TENSOR]):
        sig = morphism(env, typ)
        if sig is not None:
            return (
                f"{name}({render(forget_vars(sig[0]))} → {render(forget_vars(sig[1]))})"
            )
    named = not typ.args
    sizes = [literal(a) for a in typ.args] or list(_layers.sizes(typ).values())
    shown = [str(s) for s in sizes if s is not None] if None not in sizes else []
    arrow = len(shown) == 2 and (named or bool(dim_params(typ.type)))
    text = "→".join(shown) if arrow else ", ".join(shown)
    rule = _layers.rule(typ)
    if rule is not None and rule.text():
        text = f"{text}, {rule.text()}" if text else rule.text()
    return f"{name}({text})"


def relax_first(env: Env, ctx: MethodSigContext, *, composes: bool) -> FunctionLike:
    """The signature of a morphism's method with its first argument's shape free.

    The plugin checks that argument itself. With `composes` (``>>``, ``@``,
    ``then``, ``tensor``) only a morphism is: any other operand (``lin >> 3``)
    is left to mypy, which reports it.
    """
    sig = ctx.default_signature
    if not sig.arg_types or sig.arg_kinds[0] != ARG_POS:
        return sig
    if composes and not _may_be_morphism(env, ctx):
        return sig
    if isinstance(ctx.context, CallExpr) and _callee_method(ctx.context) is None:
        para = env.info(PARA)
        morphism = signature(env, ctx.type, para) if para is not None else None
        if morphism is None or not modelled(morphism[0]):
            return sig
    return sig.copy_modified(
        arg_types=[AnyType(TypeOfAny.special_form), *sig.arg_types[1:]]
    )


def _may_be_morphism(env: Env, ctx: MethodSigContext) -> bool:
    """Whether the first argument of the call may be a morphism (a `Para`, `Any`)."""
    para = env.info(PARA)
    if para is None or len(ctx.args) < 1 or len(ctx.args[0]) != 1:
        return True
    typ = get_proper_type(ctx.api.get_expression_type(ctx.args[0][0]))
    if isinstance(typ, LiteralType | NoneType):
        return False
    return not isinstance(typ, Instance) or typ.type.has_base(para.fullname)


def tree_algebra(env: Env, ctx: FunctionSigContext) -> FunctionLike:
    """``Algebra(functor, **cells)``: the cells must share one carrier.

    A cell is a `Para` or a plain function (its annotations are its spaces).
    Where two cells' carriers are modelled and differ, that is one ``[shape]``
    error on the second cell, naming both constructors (not mypy's "Cannot infer
    value of type parameter"). Where mypy cannot infer the carrier itself (`Para`
    cells beside functions, or functions with named dimensions), the plugin
    gives the algebra the carrier it unified.
    """
    sig = ctx.default_signature
    para = env.info(PARA)
    formals = dict(zip(sig.arg_names, ctx.args, strict=False))
    cells = formals.get("cells", [])
    if para is None or len(cells) < 2 or not isinstance(ctx.context, CallExpr):
        return sig
    types = types_of(env, ctx, cells)
    if types is None:
        return sig
    sig = _narrow(sig, "cells", types, para)
    names = dict(zip(map(id, ctx.context.args), ctx.context.arg_names, strict=True))
    seen: tuple[str, Space] | None = None
    u = Unifier()
    for expr, typ in zip(cells, types, strict=True):
        cell = cell_signature(env, typ, para)
        if cell is None or not modelled(cell[1]):
            continue
        name = names.get(id(expr)) or label(env, expr, typ)
        if seen is None:
            seen = name, cell[1]
            continue
        try:
            u.unify(seen[1], cell[1])
        except Mismatch:
            functor = formals.get("functor", [])
            text = _messages.cells_disagree(
                label(env, functor[0], unknown()) if functor else "?",
                (seen[0], render(u.resolve(seen[1]))),
                (name, render(u.resolve(cell[1]))),
            )
            report(ctx.api, text, expr)
            return _relax(sig, {"cells"})
    mixed = len({_is_para(t, para) for t in types}) == 2
    if seen is None or not (mixed or _calls.foreign(ctx.api, types)):
        return sig
    return _unified(env, _relax(sig, {"cells"}), [seen[1]], u)


def list_algebra(env: Env, ctx: FunctionSigContext) -> FunctionLike:
    """``ListAlgebra(nil, cons)``: `nil` must lie in the carrier of the cell.

    The cell is a `Para` or a plain function (its annotations are its spaces; an
    unannotated one is not checked). Where the plugin models both spaces it
    compares them itself: a wrong `nil` is one ``[shape]`` error naming both
    spaces, and the carrier is taken from the cell alone (not mypy's "Cannot infer
    value of type parameter"). With a function, a Python number as `nil` is a
    scalar of the function's dtype, as at run time.
    """
    sig = ctx.default_signature
    para = env.info(PARA)
    formals = dict(zip(sig.arg_names, ctx.args, strict=False))
    nil_args, cons_args = formals.get("nil", []), formals.get("cons", [])
    if para is None or len(nil_args) != 1 or len(cons_args) != 1:
        return sig
    types = types_of(env, ctx, [nil_args[0], cons_args[0]])
    if types is None:
        return sig
    nil_type, cons_type = types
    sig = _narrow(sig, "cons", [cons_type], para)
    plain = not _is_para(cons_type, para)
    nil = space_of(nil_type)
    if plain and _is_number(nil_type):
        # A Python number is a scalar of the function's dtype (as at run time).
        nil, sig = Arr(()), _relax(sig, {"nil"})
    # mypy cannot match a function's own named dimensions with the carrier: the
    # plugin does, and types the algebra itself.
    own = {"cons"} if plain and _calls.foreign(ctx.api, [cons_type]) else set()
    cell = cell_signature(env, cons_type, para)
    if cell is None:
        return _relax(sig, own)
    dom, carrier = cell
    element, state = (
        dom.items if isinstance(dom, Tup) and len(dom.items) == 2 else (Opaque(), None)
    )
    algebra = f"ListAlgebra({label(env, cons_args[0], cons_type)})"
    u = Unifier()
    if state is not None and modelled(state) and modelled(carrier):
        try:
            u.unify(state, carrier)
        except Mismatch:
            text = _messages.cell_not_algebra(
                algebra, render(u.resolve(carrier)), render(u.resolve(state))
            )
            report(ctx.api, text, ctx.context)
            return _relax(sig, {"nil", "cons"})
    if modelled(carrier) and modelled(nil):
        try:
            u.unify(carrier, nil)
        except Mismatch:
            text = _messages.nil_outside_carrier(
                algebra, render(u.resolve(carrier)), render(nil)
            )
            report(ctx.api, text, ctx.context)
            return _relax(sig, {"nil", *own})
    if not own:
        return sig
    return _unified(env, _relax(sig, {"nil", *own}), [element, carrier], u)


def _unified(
    env: Env, sig: CallableType, spaces: Sequence[Space], u: Unifier
) -> CallableType:
    """`sig` returning its class, its type arguments `spaces` (as `u` binds them)."""
    shapes, ret = env.shapes(), get_proper_type(sig.ret_type)
    if shapes is None or not isinstance(ret, Instance) or len(ret.args) != len(spaces):
        return sig
    args = [shapes.type_of(forget_vars(u.resolve(s))) for s in spaces]
    return sig.copy_modified(ret_type=ret.copy_modified(args=args))


def cell_signature(
    env: Env, typ: ProperType, para: TypeInfo
) -> tuple[Space, Space] | None:
    """Domain and codomain of an algebra's cell: a `Para`, or a plain function.

    A function's spaces are its annotations (its named dimensions become fresh
    variables, bound where the function is used); an unannotated parameter or
    return is a space the plugin does not model.
    """
    if not isinstance(typ, CallableType):
        return signature(env, typ, para)
    if not typ.arg_types or not typ.arg_kinds[0].is_positional():
        return None
    if any(kind.is_required() for kind in typ.arg_kinds[1:]):
        return None
    rename = renamer()
    dom, cod = space_of(typ.arg_types[0]), space_of(typ.ret_type)
    return _loosen(dom, rename), _loosen(cod, rename)


def _loosen(space: Space, rename: Callable[[str], str]) -> Space:
    """`space` with its named dimensions (and their arithmetic) as fresh variables."""
    if isinstance(space, Tup):
        return Tup(tuple(_loosen(s, rename) for s in space.items))
    if not isinstance(space, Arr):
        return space
    return Arr(
        tuple(DimVar(rename(d.name)) if isinstance(d, Sym) else d for d in space.dims)
    )


def _is_para(typ: ProperType, para: TypeInfo) -> bool:
    return isinstance(typ, Instance) and typ.type.has_base(para.fullname)


def _is_number(typ: ProperType) -> bool:
    if isinstance(typ, LiteralType):
        return isinstance(typ.value, int | float)
    return isinstance(typ, Instance) and typ.type.fullname in (
        "builtins.int",
        "builtins.float",
    )


def _narrow(
    sig: CallableType, name: str, given: Sequence[ProperType], para: TypeInfo
) -> CallableType:
    """`sig` with the parameter `name`, a ``Para | Callable``, narrowed to `given`.

    Cells that are all `Para` are checked against the `Para` alternative (mypy
    then reads their spaces as type arguments), plain functions against the
    callable one; a mixture keeps both.
    """
    if name not in sig.arg_names:
        return sig
    at = sig.arg_names.index(name)
    formal = get_proper_type(sig.arg_types[at])
    if not isinstance(formal, UnionType):
        return sig
    paras = [_is_para(t, para) for t in given]
    if all(paras):
        keep = [i for i in formal.items if isinstance(get_proper_type(i), Instance)]
    elif not any(paras):
        keep = [i for i in formal.items if isinstance(get_proper_type(i), CallableType)]
    else:
        return sig
    if len(keep) != 1:
        return sig
    arg_types = list(sig.arg_types)
    arg_types[at] = keep[0]
    return sig.copy_modified(arg_types=arg_types)


def types_of(
    env: Env, ctx: FunctionSigContext, exprs: Sequence[Expression]
) -> list[ProperType] | None:
    """The types of argument expressions, found without reporting anything."""
    if not isinstance(ctx.api, TypeChecker):
        return None
    with ctx.api.msg.filter_errors():
        return [get_proper_type(ctx.api.expr_checker.accept(e)) for e in exprs]


def _relax(sig: CallableType, names: set[str]) -> CallableType:
    """`sig` with the parameters called `names` taking anything."""
    return sig.copy_modified(
        arg_types=[
            AnyType(TypeOfAny.special_form) if name in names else t
            for name, t in zip(sig.arg_names, sig.arg_types, strict=True)
        ]
    )


def _callee_method(call: CallExpr) -> str | None:
    """The method name when `call` is ``obj.then(...)``-like, None for ``f(x)``."""
    if isinstance(call.callee, MemberExpr) and call.callee.name in ("then", "tensor"):
        return call.callee.name
    return None


def _operands(ctx: MethodContext) -> tuple[Expression, Expression] | None:
    node = ctx.context
    if isinstance(node, OpExpr):
        return node.left, node.right
    if isinstance(node, CallExpr) and isinstance(node.callee, MemberExpr) and node.args:
        return node.callee.expr, node.args[0]
    return None


def _has_array(space: Space) -> bool:
    """Whether `space` has an array the plugin checks (a graph beside one, say)."""
    if isinstance(space, Tup):
        return any(_has_array(s) for s in space.items)
    return isinstance(space, Arr)


def _looks_batched(dom: Space, given: Space) -> bool:
    if not (isinstance(dom, Arr) and isinstance(given, Arr)) or not given.dims:
        return False
    try:
        Unifier().unify(dom, Arr(given.dims[1:]))
    except Mismatch:
        return False
    return True
