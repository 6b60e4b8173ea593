"""The sizes an instance's fields were built with, carried on its type.

A class whose fields name dimensions (``w: Float[Array, "o i"]`` of an
``eqx.Module``) takes any sizes: each instance has its own. Where one is built
with arrays of known shape, by the ``__init__`` a dataclass (or Equinox) makes of
the fields, by an ``__init__`` whose parameters name the fields' dimensions, or
by an ``__init__`` that assigns each field once an array whose shape is written
out (``self.w = jax.random.normal(key, (4, 8))``, or ``(dout, din)`` of two
``int`` parameters given as constants), the plugin keeps the sizes its
dimensions got on the instance's type (mypy's per-instance attributes, as for
Equinox's layers, `._eqx_layers`): they travel with the value through names
bound once, the one ``return`` of a module-level function, a field built once
in ``__init__`` (`._fields`), a module given to a dataclass's field
(``Net(enc=MLP(w))``, then ``net.enc``) and ``jax.vmap``.

A method called on such an instance (``m(x)``, ``m.step(x)``) then binds the
dimensions of its class's fields to those sizes first: an argument of another
size is a ``[shape]`` error naming the dimension, and the result has the sizes.
A method's own dimensions stay free at each call. Nothing is carried for a
size that is not known (an argument of unknown shape, a name of another
function), for a name bound again, for a class whose methods other than
``__init__`` assign its fields, or through ``eqx.tree_at`` and ``tree_map``
(typed ``Any``). The bodies of ``__init__`` and of functions are read only in
the module being checked: mypy drops them once a module is checked.

>>> decode(encode({"i": 8, "o": None}, {}))
({'i': 8}, {})
"""

import json
from collections.abc import Mapping
from typing import Final

from mypy.checker import TypeChecker
from mypy.expandtype import expand_type
from mypy.nodes import (
    ARG_NAMED,
    ARG_POS,
    FUNC_NO_INFO,
    Block,
    CallExpr,
    Decorator,
    Expression,
    FuncDef,
    ListExpr,
    RefExpr,
    ReturnStmt,
    SymbolNode,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.plugin import (
    AttributeContext,
    FunctionContext,
    MethodContext,
)
from mypy.typeops import get_all_type_vars
from mypy.types import (
    CallableType,
    Instance,
    LiteralType,
    TupleType,
    Type,
    TypeVarId,
    TypeVarType,
    UnionType,
    UnpackType,
    get_proper_type,
)

from ._annotations import CLASS_DIMS, REASSIGNED
from ._bindings import assigned_outside_init, blocks_of
from ._layers import attrs, text_type, with_attrs
from ._shapes import Dim, Sym
from ._types import ARRAY_CLASS, RIGID, Env, fold, rigid_type, tag_of

_KEY: Final = "cdl:fields"
# Functions that make an array of the shape they are given, and where the shape is.
_MAKERS: Final = {
    **{f"jax.numpy.{n}": 0 for n in ("zeros", "ones", "empty", "full")},
    **{
        f"jax.random.{n}": 1
        for n in ("normal", "uniform", "truncated_normal", "bernoulli", "randint")
    },
    **{f"jax.nn.initializers.{n}": 1 for n in ("zeros", "ones")},
}


# -- the attribute ------------------------------------------------------------------


def _encode_dim(d: Dim) -> object:
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    if isinstance(d, Sym) and d.scope is not None and d.name.isidentifier():
        return [d.name, d.scope]
    return None


def _decode_dim(value: object) -> Dim:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 2:
        return Sym(str(value[0]), str(value[1]))
    return None


def encode(
    sizes: Mapping[str, Dim],
    runs: Mapping[str, tuple[Dim, ...]],
    parts: Mapping[str, str] | None = None,
) -> str:
    """The text that keeps `sizes`, `runs` and `parts` (unknown sizes left out).

    `parts`: the text of the modules held in fields, by field.
    """
    kept = {n: _encode_dim(d) for n, d in sizes.items()}
    kept_runs = {n: [_encode_dim(d) for d in r] for n, r in runs.items()}
    data: dict[str, object] = {
        "sizes": {n: v for n, v in sorted(kept.items()) if v is not None},
        "runs": dict(sorted(kept_runs.items())),
    }
    if parts:
        data["parts"] = dict(sorted(parts.items()))
    return json.dumps(data, separators=(",", ":"))


def decode(text: str) -> tuple[dict[str, Dim], dict[str, tuple[Dim, ...]]]:
    """The sizes and runs `text` keeps."""
    data = json.loads(text)
    sizes = {str(n): _decode_dim(v) for n, v in data.get("sizes", {}).items()}
    runs = {
        str(n): tuple(_decode_dim(v) for v in r)
        for n, r in data.get("runs", {}).items()
    }
    return sizes, runs


def carried(typ: Type) -> tuple[dict[str, Dim], dict[str, tuple[Dim, ...]]] | None:
    """The sizes an instance's type carries (None: none)."""
    found = get_proper_type(attrs(typ).get(_KEY))
    if isinstance(found, LiteralType) and isinstance(found.value, str):
        return decode(found.value)
    return None


def _carrying(
    env: Env,
    typ: Type,
    sizes: Mapping[str, Dim],
    runs: Mapping[str, tuple[Dim, ...]],
    parts: Mapping[str, str] | None = None,
) -> Type:
    t = get_proper_type(typ)
    if not isinstance(t, Instance) or not (sizes or runs or parts):
        return typ
    text = text_type(env, encode(sizes, runs, parts))
    return typ if text is None else with_attrs(t, {_KEY: text})


def field_dimensions(info: TypeInfo) -> set[str]:
    """The dimensions that the fields of `info` and of its bases name."""
    return {
        str(n)
        for base in info.mro
        for n in base.metadata.get(CLASS_DIMS, {}).get("names", [])
    }


def _field_runs(info: TypeInfo) -> set[str]:
    """The variadic runs (``*batch``) that the array fields of `info` name."""
    found: set[str] = set()
    for base in info.mro:
        if base.fullname.startswith(("builtins.", "equinox.", "jax.")):
            continue
        for node in base.names.values():
            var = node.node
            if isinstance(var, Var) and var.type is not None:
                _runs_in(var.type, found)
    return found


def _runs_in(typ: Type, out: set[str]) -> None:
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY_CLASS:
        for arg in t.args:
            a = get_proper_type(arg)
            inner = get_proper_type(a.type) if isinstance(a, UnpackType) else None
            if isinstance(inner, Instance) and inner.args:
                tag = tag_of(get_proper_type(inner.args[0]))
                if tag is not None and tag[0] == "star":
                    out.add(tag[1])
    elif isinstance(t, TupleType | UnionType):
        for item in t.items:
            _runs_in(item, out)


# -- construction -------------------------------------------------------------------


def built(
    env: Env,
    ctx: FunctionContext | MethodContext,
    info: TypeInfo,
    result: Type,
    bound: Mapping[str, Dim],
    runs: Mapping[str, tuple[Dim, ...]],
) -> Type:
    """`result`, a new instance of `info`, carrying the sizes its fields got.

    `bound` and `runs` are what the constructor's arguments bound; the fields
    that ``__init__`` builds with shapes written out add theirs. A name given
    two sizes is not carried.
    """
    names = field_dimensions(info)
    reassigned = _reassigned(info)
    if reassigned or (reassigned is None and not _frozen(info)):
        return result
    parts = _parts(ctx, info)
    sizes: dict[str, Dim] = {}
    for name in names:
        size = bound.get(name)
        if _known(size):
            sizes[name] = size
    conflicting: set[str] = set()
    for name, size in _from_init(ctx, info).items():
        if name not in names:
            continue
        if name in sizes and sizes[name] != size:
            conflicting.add(name)
        sizes.setdefault(name, size)
    for name in conflicting:
        del sizes[name]
    run_names = _field_runs(info)
    kept_runs = {
        n: r for n, r in runs.items() if n in run_names and all(_known(d) for d in r)
    }
    return _carrying(env, result, sizes, kept_runs, parts)


def _parts(ctx: FunctionContext | MethodContext, info: TypeInfo) -> dict[str, str]:
    """The sizes that the modules given for fields of `info` carry, by field.

    A dataclass's ``__init__`` (Equinox's) takes each field under its name:
    ``Net(enc=Encoder(w), ...)`` keeps ``Encoder``'s sizes for ``net.enc``.
    """
    init = info.get("__init__")
    if init is None or not init.plugin_generated:
        return {}  # an ``__init__`` of its own builds the fields itself
    found: dict[str, str] = {}
    for formal, types in zip(ctx.callee_arg_names, ctx.arg_types, strict=False):
        if formal is None or len(types) != 1 or not declared_sized(info, formal):
            continue
        text = get_proper_type(attrs(types[0]).get(_KEY))
        if isinstance(text, LiteralType) and isinstance(text.value, str):
            found[formal] = text.value
    return found


def part(ctx: AttributeContext, name: str) -> Type | None:
    """``net.enc``: the module given for the field `name`, with its sizes."""
    t = get_proper_type(ctx.type)
    if ctx.is_lvalue or not isinstance(t, Instance) or t.extra_attrs is None:
        return None
    found = get_proper_type(attrs(t).get(_KEY))
    if not isinstance(found, LiteralType) or not isinstance(found.value, str):
        return None
    text = json.loads(found.value).get("parts", {}).get(name)
    field = get_proper_type(ctx.default_attr_type)
    if not isinstance(text, str) or not isinstance(field, Instance):
        return None
    fallback = found.fallback
    return with_attrs(field, {_KEY: LiteralType(text, fallback)})


def _known(d: Dim) -> bool:
    return (isinstance(d, int) and not isinstance(d, bool)) or (
        isinstance(d, Sym) and d.scope is not None and d.name.isidentifier()
    )


def _from_init(ctx: FunctionContext | MethodContext, info: TypeInfo) -> dict[str, int]:
    """The sizes of the fields that ``__init__`` builds with a shape written out.

    Each field assigned once in the body of ``__init__`` (not in a branch) a
    call of ``jnp.zeros``, ``jax.random.normal`` and the like, whose shape is
    made of constants and of ``__init__``'s parameters given constants here.
    """
    from ._fields import built_in_init

    found: dict[str, int] = {}
    bad: set[str] = set()
    for base in info.mro:
        for name, node in base.names.items():
            var = node.node
            if not isinstance(var, Var) or var.type is None or name in found:
                continue
            declared = get_proper_type(var.type)
            if (
                not isinstance(declared, Instance)
                or declared.type.fullname != ARRAY_CLASS
            ):
                continue
            init = built_in_init(info, name)
            if init is None:
                continue
            shape = _shape_of(ctx, *init)
            if shape is None or len(shape) != len(declared.args):
                continue
            for arg, size in zip(declared.args, shape, strict=True):
                tag = tag_of(get_proper_type(arg))
                if tag is None or tag[0] != "dim" or size is None:
                    continue
                if tag[1] in found and found[tag[1]] != size:
                    bad.add(tag[1])
                found.setdefault(tag[1], size)
    return {n: s for n, s in found.items() if n not in bad}


def _shape_of(
    ctx: FunctionContext | MethodContext, init: FuncDef, rvalue: Expression
) -> list[int | None] | None:
    """The shape of the array that `rvalue` makes, with `ctx`'s arguments."""
    if not isinstance(rvalue, CallExpr) or not isinstance(rvalue.callee, RefExpr):
        return None
    at = _MAKERS.get(rvalue.callee.fullname)
    if at is None:
        return None
    shape: Expression | None = None
    for position, (arg, kind, name) in enumerate(
        zip(rvalue.args, rvalue.arg_kinds, rvalue.arg_names, strict=True)
    ):
        if (kind == ARG_NAMED and name == "shape") or (
            kind == ARG_POS and position == at
        ):
            shape = arg
    if shape is None:
        return None
    values = _parameter_values(ctx, init)
    items = shape.items if isinstance(shape, TupleExpr | ListExpr) else [shape]
    return [fold(item, values) for item in items]


def _parameter_values(
    ctx: FunctionContext | MethodContext, init: FuncDef
) -> dict[Var, int]:
    """The parameters of `init` that the call gives a constant (a literal int)."""
    params = [a.variable for a in init.arguments[1:]]
    names = [v.name for v in params]
    values: dict[Var, int] = {}
    for formal, types, exprs in zip(
        ctx.callee_arg_names, ctx.arg_types, ctx.args, strict=False
    ):
        if formal not in names or len(exprs) != 1:
            continue
        var = params[names.index(formal)]
        value = fold(exprs[0])
        if value is None:
            t = get_proper_type(types[0])
            if isinstance(t, LiteralType) and type(t.value) is int:
                value = t.value
            elif isinstance(t, Instance) and t.last_known_value is not None:
                known = t.last_known_value.value
                value = known if type(known) is int else None
        if value is not None:
            values[var] = value
    return values


# -- use ----------------------------------------------------------------------------


def method_class(method: CallableType) -> TypeInfo | None:
    """The class that defines `method` (None: not a method)."""
    definition = method.definition
    return definition.info if isinstance(definition, FuncDef) else None


def given(
    typ: Type, scopes: set[str], owner: TypeInfo | None
) -> tuple[dict[str, Dim], dict[str, tuple[Dim, ...]], str] | None:
    """The sizes of the instance `typ`, for the class `owner`, and `typ`'s class name.

    Only the dimensions of the fields of `owner`, the class that defines the
    method called (a base's method names only its own class's) or the field read.
    A size that is a named dimension of a function not being checked (the
    instance was built inside another one) is unknown here.
    """
    found = carried(typ)
    t = get_proper_type(typ)
    if found is None or not isinstance(t, Instance) or owner is None:
        return None
    sizes, runs = found
    names, run_names = field_dimensions(owner), _field_runs(owner)

    def here(d: Dim) -> bool:
        return not isinstance(d, Sym) or d.scope in scopes

    kept = {n: d for n, d in sizes.items() if n in names and here(d)}
    kept_runs = {
        n: r for n, r in runs.items() if n in run_names and all(here(d) for d in r)
    }
    if not (kept or kept_runs):
        return None
    return kept, kept_runs, t.type.name


def sized_call(env: Env, module: Instance, call: CallableType) -> CallableType:
    """The ``__call__`` of `module` with the sizes its fields carry (``jax.vmap``).

    Only constant sizes are put in: a mapped call is checked where it is called.
    """
    found = carried(module)
    shapes = env.shapes()
    if found is None or shapes is None:
        return call
    sizes = {n: d for n, d in found[0].items() if isinstance(d, int)}
    classes = {base.fullname for base in module.type.mro}
    mapping: dict[TypeVarId, Type] = {}
    for tv in get_all_type_vars(call):
        if (
            isinstance(tv, TypeVarType)
            and tv.id.namespace.startswith(RIGID)
            and tv.id.namespace[len(RIGID) :] in classes
            and tv.name in sizes
        ):
            mapping[tv.id] = shapes.dim_type(sizes[tv.name])
    if not mapping:
        return call
    out = expand_type(call, mapping)
    assert isinstance(out, CallableType)
    return out


def declared_sized(info: TypeInfo, name: str) -> bool:
    """Whether the field `name` of `info` is declared as a class that carries sizes."""
    node = info.get(name)
    var = node.node if node is not None else None
    declared = get_proper_type(var.type) if isinstance(var, Var) and var.type else None
    return (
        isinstance(declared, Instance)
        and not declared.args
        and sized_class(declared.type)
    )


def sized_class(info: TypeInfo, seen: frozenset[str] = frozenset()) -> bool:
    """Whether instances of `info` may carry sizes.

    Its fields name dimensions, or hold modules that do (``enc: Encoder``).
    """
    if field_dimensions(info):
        return True
    if info.fullname in seen or info.fullname.startswith(_LIBRARIES):
        return False
    inner = seen | {info.fullname}
    for base in info.mro:
        if base.fullname.startswith(_LIBRARIES):
            continue
        for node in base.names.values():
            var = node.node
            t = get_proper_type(var.type) if isinstance(var, Var) and var.type else None
            if (
                isinstance(t, Instance)
                and not t.args
                and t.type is not info
                and sized_class(t.type, inner)
            ):
                return True
    return False


_LIBRARIES: Final = ("builtins.", "equinox.", "jax.", "typing.", "cdl.", "numpy.")


# -- returned -----------------------------------------------------------------------


def returns_sized(node: SymbolNode | None) -> FuncDef | None:
    """The function `node` when it is declared to return a class that carries sizes.

    Its body's one ``return`` tells which sizes (`returned`). Not a method: a
    subclass may override it with another body.
    """
    func = node.func if isinstance(node, Decorator) else node
    if not isinstance(func, FuncDef) or func.info is not FUNC_NO_INFO:
        return None
    typ = get_proper_type(func.type)
    if not isinstance(typ, CallableType):
        return None
    ret = get_proper_type(typ.ret_type)
    if not isinstance(ret, Instance) or ret.args or not field_dimensions(ret.type):
        return None
    return func


def returned(
    env: Env, ctx: FunctionContext | MethodContext, func: FuncDef, result: Type
) -> Type:
    """`result` of a call of `func`, with the constant sizes of what it returns.

    Where the body has exactly one ``return`` whose value, as mypy has checked
    it, carries sizes, and the call is assigned to a name bound once. A function
    not checked yet is waited for, as a field built in ``__init__`` is.
    """
    from ._bindings import bound_once
    from ._fields import wait

    api = ctx.api
    t = get_proper_type(result)
    if (
        not isinstance(api, TypeChecker)
        or not isinstance(t, Instance)
        or carried(t) is not None
        or not bound_once(api, ctx.context)
    ):
        return result
    try:
        body = func.body
    except AttributeError:  # a definition read from mypy's cache
        return result
    found: list[ReturnStmt] = []
    _returns(body, found)
    if len(found) != 1 or found[0].expr is None:
        return result
    value = api.lookup_type_or_none(found[0].expr)
    if value is None:
        wait(api, func)
        return result
    sizes = carried(value)
    v = get_proper_type(value)
    if sizes is None or not isinstance(v, Instance) or v.type is not t.type:
        return result
    ints = {n: d for n, d in sizes[0].items() if isinstance(d, int)}
    runs = {n: r for n, r in sizes[1].items() if all(isinstance(d, int) for d in r)}
    return _carrying(env, t, ints, runs)


def _returns(block: Block, out: list[ReturnStmt]) -> None:
    """The ``return`` statements of `block` (not of functions nested in it)."""
    for stmt in block.body:
        if isinstance(stmt, ReturnStmt):
            out.append(stmt)
        for inner in blocks_of(stmt):
            _returns(inner, out)


def fill(
    typ: Type, sizes: Mapping[str, Dim], int_type: Instance, obj: Instance
) -> Type:
    """`typ`, a field's declared type, its dimensions `sizes` names given them."""
    t = get_proper_type(typ)
    if isinstance(t, Instance):
        return t.copy_modified(args=[fill(a, sizes, int_type, obj) for a in t.args])
    if isinstance(t, TupleType):
        return t.copy_modified(items=[fill(i, sizes, int_type, obj) for i in t.items])
    if isinstance(t, UnionType):
        return UnionType([fill(i, sizes, int_type, obj) for i in t.items], t.line)
    tag = tag_of(t)
    if tag is None or tag[0] != "dim" or tag[1] not in sizes:
        return typ
    size = sizes[tag[1]]
    if isinstance(size, int) and not isinstance(size, bool):
        return LiteralType(size, int_type)
    if isinstance(size, Sym) and size.scope is not None:
        return rigid_type(size, obj)
    return typ


# -- fields assigned again ----------------------------------------------------------


def _reassigned(info: TypeInfo) -> bool | None:
    """Whether a method of `info` (or of a base) assigns a field that names sizes.

    Noted when mypy analyses a class whose annotations name dimensions
    (`._annotations`), otherwise read from the class's text where it is still
    there; None where neither is known.
    """
    unknown = False
    for base in info.mro:
        if base.fullname.startswith(_LIBRARIES):
            continue
        names = base.metadata.get(CLASS_DIMS, {}).get(REASSIGNED)
        if names is None and base.defn.defs.body:
            names = assigned_outside_init(base.defn)
        if names is None:
            unknown = True
            continue
        for name in names if isinstance(names, list) else []:
            node = info.get(str(name))
            var = node.node if node is not None else None
            if isinstance(var, Var) and var.type is not None and _assignable(var.type):
                return True
    return None if unknown else False


def _assignable(typ: Type) -> bool:
    """Whether a field of type `typ` assigned again may change an instance's sizes."""
    t = get_proper_type(typ)
    return _names_sizes(typ) or (isinstance(t, Instance) and sized_class(t.type))


def _frozen(info: TypeInfo) -> bool:
    """Whether the fields of `info` are set only in ``__init__`` (an Equinox module)."""
    return any(
        b.fullname.startswith("equinox.") and b.name == "Module" for b in info.mro
    ) or bool(info.metadata.get("dataclass", {}).get("frozen"))


def _names_sizes(typ: Type) -> bool:
    """Whether `typ` has a named dimension of a field (or is of unknown type)."""
    t = get_proper_type(typ)
    if isinstance(t, Instance):
        return any(_names_sizes(a) for a in t.args)
    if isinstance(t, TupleType | UnionType):
        return any(_names_sizes(i) for i in t.items)
    if isinstance(t, UnpackType):
        return _names_sizes(t.type)
    tag = tag_of(t)
    return tag is not None and tag[0] in ("dim", "star")
