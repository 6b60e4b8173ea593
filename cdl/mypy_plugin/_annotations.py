"""Jaxtyping annotations read as shaped array types.

``Float[Array, "b 784"]`` becomes ``Array[b, 784]``; the declared spaces of a `Para`
subclass (``Para[Float[Array, "in_dim"], Float[Array, "out_dim"]]``) keep their
shapes, and a generic layer's type parameters stand for the named dimensions that its
``__init__`` takes (``Linear[784, 128]``).
"""

from collections.abc import Callable
from typing import Final

from mypy.expandtype import expand_type
from mypy.nodes import (
    AssignmentStmt,
    ClassDef,
    Decorator,
    EllipsisExpr,
    Expression,
    FuncDef,
    IndexExpr,
    MemberExpr,
    NameExpr,
    OverloadedFuncDef,
    StrExpr,
    TupleExpr,
    TypeInfo,
)
from mypy.plugin import AnalyzeTypeContext, ClassDefContext
from mypy.subtypes import is_same_type
from mypy.typeops import get_all_type_vars
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    RawExpressionType,
    TupleType,
    Type,
    TypeOfAny,
    TypeVarId,
    TypeVarType,
    UnboundType,
    UnionType,
    UnpackType,
    get_proper_type,
)

from . import _messages
from ._bindings import assigned_outside_init
from ._names import DEFINED_IN, JAXTYPING_DTYPES, PARA
from ._numpy import NDARRAY, numpy_annotation
from ._shapes import Dim, Star, Sym, canonical, names_in
from ._types import ARRAY_CLASS, RIGID, Shapes, tag_of

CLASS_DIMS: Final = "cdl-class-dims"
# Under CLASS_DIMS: the attributes that the class's methods other than ``__init__``
# assign (`._instances`: an instance of such a class keeps no sizes).
REASSIGNED: Final = "reassigned"
# After mypy's own patches of a module's analysis: signatures are complete then.
_PATCH_PRIORITY: Final = 100
# The named dimensions of each function or method analysed, with the scope each is
# a symbol of (a method's: its override root's or its class's), for the functions
# nested in it.
_FUNCTION_DIMS: Final[dict[str, dict[str, str]]] = {}


def parse_dims(text: str) -> list[Dim] | None:
    """Jaxtyping's dimension string as plugin dimensions (None: not understood)."""
    dims: list[Dim] = []
    for token in text.split():
        if token == "...":
            dims.append(Star(None))
        elif token.startswith("*"):
            name = token[1:]
            dims.append(Star(name if name.isidentifier() else None))
        elif token.isdigit():
            dims.append(int(token))
        elif token.isidentifier() and token != "_":
            dims.append(Sym(token))
        else:
            # Arithmetic of names (``n+1``, ``2*d``, ``h*w``) in its canonical form,
            # so that ``w*h`` is ``h*w``; a constant (``n-n+3``) is its size.
            size = canonical(token) if names_in(token) else None
            if isinstance(size, str):
                dims.append(Sym(size))
            else:
                dims.append(size if size is not None and size >= 0 else None)
    if sum(isinstance(d, Star) for d in dims) > 1:
        return None
    return dims


def analyze_jaxtyping(ctx: AnalyzeTypeContext, *, rigid: bool = True) -> Type:
    """``Float[Array, "b 784"]`` as ``Array[b, 784]``; other ``Annotated`` as mypy does.

    With `rigid`, the named dimensions of a function's or class's annotations are
    rigid symbols there (see `._types.rigid_type`); a module's stay unknown sizes.
    """
    name = ctx.type.name.rsplit(".", 1)[-1]
    args = ctx.type.args
    if name not in JAXTYPING_DTYPES or len(args) != 2:
        return analyze_plain(ctx)
    spec = args[1]
    base = ctx.api.analyze_type(args[0])
    text: object = None
    if isinstance(spec, RawExpressionType):
        text = spec.literal_value
    elif isinstance(spec, UnboundType):
        text = spec.original_str_expr
    proper = get_proper_type(base)
    if not isinstance(text, str) or not isinstance(proper, Instance):
        return base
    numpy = proper.type.fullname == NDARRAY
    if proper.type.fullname != ARRAY_CLASS and not numpy:
        return base
    dims = parse_dims(text)
    if dims is None:
        return base
    if rigid:
        dims = [rigid_dim(ctx, d) for d in dims]
    if numpy:
        # NumPy's type as without the plugin; its sizes count where jit converts it.
        return numpy_annotation(proper, dims)
    integer = ctx.api.named_type("builtins.int", [])
    tup = ctx.api.named_type("builtins.tuple", [AnyType(TypeOfAny.special_form)])
    obj = ctx.api.named_type("builtins.object", [])
    shapes = Shapes(proper.type, tup, integer, obj)
    _join_unions_later(ctx, shapes.array_type([Star(None)]))
    return shapes.array_type(dims)


def _join_unions_later(ctx: AnalyzeTypeContext, any_shape: Instance) -> None:
    """Have the function being analysed take one array for a union of arrays.

    mypy cannot narrow ``Float[Array, "n d"] | Float[Array, " n"]`` by ``x.ndim``,
    so each branch of the body would be checked against both shapes; the
    parameter is given the shape the two have in common instead (equal sizes
    kept, others unknown, another rank any shape), as a bare ``Array`` is without
    the plugin.
    """
    analyser = getattr(ctx.api, "api", None)
    defn = getattr(analyser, "statement", None)
    schedule = getattr(analyser, "schedule_patch", None)
    if not isinstance(defn, FuncDef) or not callable(schedule):
        return
    if id(defn) in _JOINED:
        return
    _JOINED[id(defn)] = defn
    schedule(_PATCH_PRIORITY - 1, lambda: _join_array_unions(defn, any_shape))


# Functions whose unions of arrays are to be joined, once each (kept, so that an
# id is not reused by another function).
_JOINED: Final[dict[int, FuncDef]] = {}


def _join_array_unions(defn: FuncDef, any_shape: Instance) -> None:
    typ = defn.type
    if not isinstance(typ, CallableType):
        return
    joined = [_joined(t, any_shape) for t in typ.arg_types]
    if any(a is not b for a, b in zip(joined, typ.arg_types, strict=True)):
        defn.type = typ.copy_modified(arg_types=joined)


def _joined(typ: Type, any_shape: Instance) -> Type:
    """`typ` with the arrays of a union of several joined into one (`typ` if none)."""
    t = get_proper_type(typ)
    if not isinstance(t, UnionType):
        return typ
    arrays: list[Instance] = []
    others: list[Type] = []
    for item in t.items:
        proper = get_proper_type(item)
        if isinstance(proper, Instance) and proper.type.fullname == ARRAY_CLASS:
            arrays.append(proper)
        else:
            others.append(item)
    if len(arrays) < 2:
        return typ
    first = arrays[0]
    ranks = {len(a.args) for a in arrays}
    if len(ranks) != 1 or any(
        isinstance(arg, UnpackType) for a in arrays for arg in a.args
    ):
        return UnionType.make_union([any_shape, *others])
    args = [
        column[0]
        if all(is_same_type(column[0], other) for other in column[1:])
        else AnyType(TypeOfAny.special_form)
        for column in zip(*(a.args for a in arrays), strict=True)
    ]
    return UnionType.make_union([first.copy_modified(args=args), *others])


def rigid_dim(ctx: AnalyzeTypeContext, d: Dim) -> Dim:
    """`d`, a named dimension of the function or class being analysed, made rigid.

    A name of a module-level annotation stays an unknown size, and so does one that
    only an annotation in a function's body uses.
    """
    scope = _scope(ctx)
    if not isinstance(d, Sym) or scope is None:
        return d
    if _free_in_body(d, scope, ctx):
        return None
    return _scoped(d, scope, ctx)


def _free_in_body(d: Sym, scope: str, ctx: AnalyzeTypeContext) -> bool:
    """Whether `d`, named in the body of the function `scope`, is bound by nothing.

    A name that a local annotation (``t: Float[Array, "seq h*d"] = ...``) uses and
    the function's parameters do not is, to jaxtyping, bound where it is first met:
    it stands for whatever size is there, so it is an unknown size, not a size of
    its own that no other could equal. The names of the parameters, of an
    enclosing function's and of the class's fields keep their meaning.
    """
    analyser = getattr(ctx.api, "api", None)
    statement = getattr(analyser, "statement", None)
    stack = getattr(analyser, "function_stack", [])
    if isinstance(statement, (FuncDef, Decorator, OverloadedFuncDef, ClassDef)):
        return False  # a signature, or a class's fields
    if not stack or getattr(stack[-1], "fullname", None) != scope:
        return False
    names = set(names_in(d.name))
    for outer in stack:
        typ = getattr(outer, "type", None)
        if isinstance(typ, CallableType) and names & _parameter_names(typ):
            return False
    info = getattr(analyser, "type", None)
    if isinstance(info, TypeInfo):
        fields = info.metadata.get(CLASS_DIMS, {}).get("names", [])
        fields = [*fields, *inherited_dimensions(info)]
        if names & {n for field in fields for n in names_in(field)}:
            return False
    return True


def inherited_dimensions(info: TypeInfo) -> list[str]:
    """The dimensions that the fields of the bases of the class `info` name.

    A subclass's methods read them on `self` as the subclass's own (`._calls`).
    """
    return [
        str(n)
        for base in info.mro[1:]
        for n in base.metadata.get(CLASS_DIMS, {}).get("names", [])
    ]


def _parameter_names(typ: CallableType) -> set[str]:
    """The named dimensions that the parameters of `typ` use."""
    return {
        n
        for arg in typ.arg_types
        for tv in get_all_type_vars(arg)
        if isinstance(tv, TypeVarType) and tv.id.namespace.startswith(RIGID)
        for n in names_in(tv.name)
    }


def _scope(ctx: AnalyzeTypeContext) -> str | None:
    """The function or class whose annotation is analysed (None: a module's).

    Its named dimensions are rigid symbols there; a module's (e.g. of a type alias)
    stay unknown sizes.
    """
    scope = getattr(ctx.api, "tvar_scope", None)
    namespace = getattr(scope, "namespace", "")
    if not isinstance(namespace, str) or not namespace:
        return None
    # mypy analyses a type alias's definition in a scope named after the alias.
    statement = getattr(getattr(ctx.api, "api", None), "statement", None)
    if isinstance(statement, AssignmentStmt) and any(
        isinstance(lvalue, NameExpr) and namespace.endswith("." + lvalue.name)
        for lvalue in statement.lvalues
    ):
        return None
    return namespace


def _scoped(d: Sym, scope: str, ctx: AnalyzeTypeContext) -> Sym:
    """`d` in its scope: a method shares the names of its class's fields.

    The fields of a class are analysed before its methods, so a name that a field
    annotation uses is recorded on the class and is the class's in its methods.
    """
    analyser = getattr(ctx.api, "api", None)
    for outer in reversed(getattr(analyser, "function_stack", [])):
        name = getattr(outer, "fullname", "")
        shared = _FUNCTION_DIMS.get(name, {}).get(d.name) if name != scope else None
        if shared is not None and _in_parameters(outer, shared, d.name):
            return Sym(d.name, shared)  # a nested function shares its enclosing one's
    info = getattr(analyser, "type", None)
    statement = getattr(analyser, "statement", None)
    if isinstance(statement, ClassDef) and scope.rpartition(".")[2] == statement.name:
        # A NamedTuple's fields are analysed before its class is entered: they are
        # fields, as a dataclass's are, whose names a constructor binds freely.
        return d
    if not isinstance(info, TypeInfo):
        return _own(_recorded(Sym(d.name, scope), scope), analyser)
    if info.is_protocol:
        # A protocol's names are free, as a field's are: a class implements it
        # with names of its own (its fields'), which mypy would take for other
        # sizes than the protocol's own type variables.
        return d
    if info.has_base(DEFINED_IN[PARA]):
        # A morphism's named dimensions are its type parameters' (``Linear[784,
        # 128]``): the morphism rules bind them, and its methods override Para's.
        return d
    dims = info.metadata.setdefault(CLASS_DIMS, {"names": []})
    if REASSIGNED not in dims:
        # Read now, while the class's text is there: mypy drops the bodies of a
        # module it has checked, and a class from its cache has none.
        dims[REASSIGNED] = assigned_outside_init(info.defn)
    names = dims["names"]
    if scope == info.fullname:
        if d.name not in names:
            names.append(d.name)
        # A field's declared type leaves the name free, so that a constructor
        # takes any sizes; read on `self` it is the class's (`._calls`).
        return d
    if scope.startswith(info.fullname + ".") and (
        d.name in names or d.name in inherited_dimensions(info)
    ):
        return _recorded(Sym(d.name, info.fullname), scope)
    return _own(_recorded(Sym(d.name, _override_root(info, scope)), scope), analyser)


def _recorded(d: Sym, scope: str) -> Sym:
    """`d`, named by the function `scope`'s annotations, kept for its nested ones."""
    if d.scope is not None:
        _FUNCTION_DIMS.setdefault(scope, {})[d.name] = d.scope
    return d


def _in_parameters(outer: object, scope: str, name: str) -> bool:
    """Whether the parameters of the function `outer` name `name`, a symbol of `scope`.

    A name only the return type uses is an unknown size in the function's body
    (`_bind_own_dims`): a function nested in it that names it too has it as its own.
    """
    typ = getattr(outer, "type", None)
    if not isinstance(typ, CallableType):
        return False
    used = {
        n
        for arg in typ.arg_types
        for tv in get_all_type_vars(arg)
        if isinstance(tv, TypeVarType) and tv.id.namespace == RIGID + scope
        for n in names_in(tv.name)
    }
    return set(names_in(name)) <= used


def _own(d: Sym, analyser: object) -> Sym:
    """`d`, a dimension the function being analysed names for itself.

    It is a type variable of the function's signature, as a ``TypeVar`` of a
    generic function is: rigid in its body, and fresh at each use of the
    function as a value (``jax.lax.scan(step, ...)``, ``jax.jit(f)``). The
    signature is complete only once analysed, so it is bound after that.
    """
    defn = getattr(analyser, "statement", None)
    schedule = getattr(analyser, "schedule_patch", None)
    if isinstance(defn, FuncDef) and d.scope is not None and callable(schedule):
        scope = d.scope
        schedule(_PATCH_PRIORITY, lambda: _bind_own_dims(defn, scope))
    return d


def _bind_own_dims(defn: FuncDef, scope: str) -> None:
    """Make the named dimensions of `scope` in `defn`'s parameters its type variables.

    A name only the return type uses is not bound by any argument: jaxtyping binds
    it to what the function returns, so it is an unknown size, in the body
    (``-> Float[Array, "b feat"]`` may return ``[b, 784]``) and to callers.
    """
    if not isinstance(defn.type, CallableType):
        return
    typ = _free_element_dims(defn.type, scope)
    known = {tv.id for tv in typ.variables}
    own: dict[TypeVarId, TypeVarType] = {}
    for tv in (tv for arg in typ.arg_types for tv in get_all_type_vars(arg)):
        if (
            isinstance(tv, TypeVarType)
            and tv.id.namespace == RIGID + scope
            and tv.id not in known
        ):
            own.setdefault(tv.id, tv)
    bound = {n for tv in own.values() for n in names_in(tv.name)}
    bound |= {n for tv in typ.variables for n in names_in(tv.name)}
    free: dict[TypeVarId, Type] = {
        tv.id: AnyType(TypeOfAny.special_form)
        for tv in get_all_type_vars(typ.ret_type)
        if isinstance(tv, TypeVarType)
        and tv.id.namespace == RIGID + scope
        and not set(names_in(tv.name)) <= bound
    }
    if own or free or typ is not defn.type:
        defn.type = typ.copy_modified(
            variables=[*typ.variables, *own.values()],
            ret_type=expand_type(typ.ret_type, free) if free else typ.ret_type,
        )


# Containers whose items are alike in type but not in size: a list of layers'
# weights (``list[tuple[Float[Array, "i o"], Float[Array, " o"]]]``) holds
# layers of several widths.
_CONTAINERS: Final = frozenset(
    {
        "builtins.list",
        "builtins.set",
        "builtins.frozenset",
        "builtins.dict",
        "builtins.tuple",  # tuple[X, ...]; a tuple of fixed length is a TupleType
        "typing.Sequence",
        "typing.MutableSequence",
        "typing.Iterable",
        "typing.Iterator",
        "typing.Collection",
        "typing.AbstractSet",
        "typing.MutableSet",
        "typing.Mapping",
        "typing.MutableMapping",
    }
)


def _free_element_dims(typ: CallableType, scope: str) -> CallableType:
    """`typ` with the names that only the items of containers use made unknown sizes.

    Each item of a ``list[Float[Array, "d_in d_out"]]`` has sizes of its own (a
    list of layers' weights is one per width), as jaxtyping checks them: a name
    that the parameters use only inside such items binds nothing across them, so
    it is an unknown size. A name also used outside a container (the list's
    arrays against another parameter, or the return's) stays the function's one
    size.
    """
    outside: set[str] = set()
    inside: dict[TypeVarId, TypeVarType] = {}
    for arg in typ.arg_types:
        _element_vars(arg, scope, False, outside, inside)
    _element_vars(typ.ret_type, scope, False, outside, {})
    free: dict[TypeVarId, Type] = {
        tv.id: AnyType(TypeOfAny.special_form)
        for tv in inside.values()
        if not set(names_in(tv.name)) <= outside
    }
    if not free:
        return typ
    return typ.copy_modified(arg_types=[expand_type(t, free) for t in typ.arg_types])


def _element_vars(
    typ: Type,
    scope: str,
    in_item: bool,
    outside: set[str],
    inside: dict[TypeVarId, TypeVarType],
) -> None:
    """Sort the named dimensions of `scope` in `typ` by where they are used."""
    t = get_proper_type(typ)
    items: list[Type] = []
    if isinstance(t, TypeVarType):
        if t.id.namespace == RIGID + scope:
            if in_item:
                inside.setdefault(t.id, t)
            else:
                outside.update(names_in(t.name))
        return
    if isinstance(t, Instance):
        in_item = in_item or t.type.fullname in _CONTAINERS
        items = list(t.args)
    elif isinstance(t, TupleType | UnionType):
        items = list(t.items)
    elif isinstance(t, UnpackType):
        items = [t.type]
    for item in items:
        _element_vars(item, scope, in_item, outside, inside)


def _override_root(info: TypeInfo, scope: str) -> str:
    """The scope of a method's dimensions: the first definition of what it overrides.

    An override names the same dimensions as the method it overrides, and mypy
    compares their signatures: both are given the base method's symbols.
    """
    method = scope[len(info.fullname) + 1 :]
    if not scope.startswith(info.fullname + ".") or "." in method:
        return scope
    roots = [
        base.fullname
        for base in info.mro[1:]
        if method in base.names and not base.fullname.startswith("builtins.")
    ]
    return f"{roots[-1]}.{method}" if roots else scope


def analyze_plain(ctx: AnalyzeTypeContext) -> Type:
    """What mypy itself makes of ``Annotated[T, ...]``: `T`."""
    if len(ctx.type.args) < 2:
        ctx.api.fail(_messages.ANNOTATED_ARGUMENTS, ctx.context)
        return AnyType(TypeOfAny.from_error)
    return ctx.api.analyze_type(ctx.type.args[0])


def shape_para_base(
    para: str,
    ctx: ClassDefContext,
    alias: Callable[[Expression], Expression | None] | None = None,
) -> None:
    """The declared spaces of a `Para` subclass, with the shapes written in its base.

    `alias` gives the definition of a type alias that the base names (None: not one).
    """
    expr, info = ctx.reason, ctx.cls.info
    if not isinstance(expr, IndexExpr) or not isinstance(expr.index, TupleExpr):
        return
    integer = ctx.api.named_type("builtins.int", [])
    shapes = Shapes(
        integer.type,
        ctx.api.named_type("builtins.tuple", [AnyType(TypeOfAny.special_form)]),
        integer,
    )
    for k, base in enumerate(info.bases):
        if base.type.fullname == para and len(base.args) == len(expr.index.items):
            args = [
                shape_expr(e, a, shapes.dim_type, alias)
                for e, a in zip(expr.index.items, base.args, strict=True)
            ]
            shaped = base.copy_modified(args=args)
            names = _finddim_params(info, shaped)
            if names:
                tvars = {
                    n: tv
                    for n, tv in zip(names, info.defn.type_vars, strict=True)
                    if isinstance(tv, TypeVarType)
                }
                shaped = shaped.copy_modified(
                    args=[_bind_dims(a, tvars) for a in shaped.args]
                )
                info.metadata["cdl"] = {"dims": names}
            info.bases[k] = shaped


def shape_expr(
    expr: Expression,
    analyzed: Type,
    dim_type: Callable[[Dim], Type],
    alias: Callable[[Expression], Expression | None] | None = None,
) -> Type:
    """`analyzed` with the shapes that the jaxtyping strings in `expr` give.

    mypy reads a type written as an expression (a base class, a type alias) without
    ``Annotated``'s metadata; `expr` is that expression and `analyzed` what mypy
    made of it. `dim_type` gives a dimension's type argument; `alias`, the
    definition of a type alias named in `expr` (read in its place).
    """
    defined = alias(expr) if alias is not None else None
    if defined is not None:
        return shape_expr(defined, analyzed, dim_type, alias)
    t = get_proper_type(analyzed)
    if not isinstance(expr, IndexExpr) or not isinstance(
        expr.base, NameExpr | MemberExpr
    ):
        return analyzed
    items = expr.index.items if isinstance(expr.index, TupleExpr) else [expr.index]
    if (
        isinstance(t, Instance)
        and t.type.fullname == "builtins.tuple"
        and len(items) == 2
        and isinstance(items[1], EllipsisExpr)
        and len(t.args) == 1
    ):
        return t.copy_modified(args=[shape_expr(items[0], t.args[0], dim_type, alias)])
    if isinstance(t, TupleType) and len(items) == len(t.items):
        return t.copy_modified(
            items=[
                shape_expr(e, i, dim_type, alias)
                for e, i in zip(items, t.items, strict=True)
            ]
        )
    if (
        expr.base.name in JAXTYPING_DTYPES
        and len(items) == 2
        and isinstance(items[1], StrExpr)
        and isinstance(t, Instance)
        and t.type.fullname == ARRAY_CLASS
    ):
        dims = parse_dims(items[1].value)
        if dims is not None:
            return Instance(t.type, [dim_type(d) for d in dims])
    if isinstance(t, Instance) and len(items) == len(t.args):
        return t.copy_modified(
            args=[
                shape_expr(e, a, dim_type, alias)
                for e, a in zip(items, t.args, strict=True)
            ]
        )
    return analyzed


def _init_names(info: TypeInfo) -> list[str]:
    node = info.get_method("__init__")
    if isinstance(node, Decorator):
        node = node.func
    if isinstance(node, OverloadedFuncDef) and node.items:
        first = node.items[0]
        node = first.func if isinstance(first, Decorator) else first
    if isinstance(node, FuncDef):
        return [n for n in node.arg_names if n]
    return []


def _names_in(typ: Type, out: list[str]) -> None:
    t = get_proper_type(typ)
    if isinstance(t, Instance):
        for a in t.args:
            _names_in(a, out)
    elif isinstance(t, TupleType):
        for a in t.items:
            _names_in(a, out)
    elif isinstance(t, UnpackType):
        _names_in(t.type, out)
    else:
        tag = tag_of(t)
        if tag and tag[0] == "dim" and tag[1] not in out:
            out.append(tag[1])


def _tvar_names(typ: Type, out: set[str]) -> None:
    t = get_proper_type(typ)
    if isinstance(t, TypeVarType):
        out.add(t.name)
    elif isinstance(t, Instance):
        for a in t.args:
            _tvar_names(a, out)
    elif isinstance(t, TupleType):
        for a in t.items:
            _tvar_names(a, out)
    elif isinstance(t, UnpackType):
        _tvar_names(t.type, out)


def dim_params(info: TypeInfo) -> list[str]:
    """Names of the dimensions that the class's type parameters stand for, in order.

    Recorded by `_shape_para_base` when the class is analysed (and kept in mypy's
    cache with the class).
    """
    names = info.metadata.get("cdl", {}).get("dims", [])
    return [str(n) for n in names] if isinstance(names, list) else []


def _finddim_params(info: TypeInfo, base: Instance) -> list[str]:
    """The named dimensions a generic layer's type parameters stand for.

    A generic `Para` subclass whose type variables do not occur in its declared
    spaces binds them, in order, to the named dimensions of those spaces that are
    also ``__init__`` parameters (``Linear[784, 128]``: in_dim, out_dim).
    """
    tvars = info.defn.type_vars
    used: set[str] = set()
    _tvar_names(base, used)
    if not tvars or any(tv.name in used for tv in tvars):
        return []
    found: list[str] = []
    for arg in base.args:
        _names_in(arg, found)
    init = set(_init_names(info))
    names = [n for n in found if n in init][: len(tvars)]
    return names if len(names) == len(tvars) else []


def _bind_dims(typ: Type, tvars: dict[str, TypeVarType]) -> Type:
    """`typ` with the named dimensions in `tvars` replaced by those type variables."""
    t = get_proper_type(typ)
    if isinstance(t, Instance):
        return t.copy_modified(args=[_bind_dims(a, tvars) for a in t.args])
    if isinstance(t, TupleType):
        return t.copy_modified(items=[_bind_dims(i, tvars) for i in t.items])
    tag = tag_of(t)
    if tag and tag[0] == "dim" and tag[1] in tvars:
        return tvars[tag[1]]
    return typ
