"""cdl's mypy plugin: array shapes as types, checked through ``>>``, ``@`` and jax ops.

How shapes are carried: the stubs in ``typeshed_ext/`` make ``jax.Array`` generic in a
variadic shape. The plugin reads ``Float[Array, "b 784"]`` as ``Array[b, 784]``: a
known size is a ``Literal`` int, anything else is ``Any`` to mypy (so no annotation
ever rejects a correct program), with the dimension's name kept in a tag the plugin
reads back. Morphisms are ``Para[dom, cod]``; generic layers (``Linear[784, 128]``,
``GRUCell[3, 4]``) bind the named dimensions of their declared spaces to their type
arguments. A fold of lists with elements `E` (``Cata[E, A]``) takes arrays
``[n, *E]``; ``ListAlgebra(nil, cons)`` and ``Algebra(F, **cells)`` must have one
carrier.
"""

import itertools
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

from mypy.checker import TypeChecker
from mypy.expandtype import expand_type
from mypy.maptype import map_instance_to_supertype
from mypy.nodes import (
    ARG_POS,
    CallExpr,
    Context,
    Decorator,
    EllipsisExpr,
    Expression,
    FuncDef,
    IndexExpr,
    IntExpr,
    ListExpr,
    MemberExpr,
    NameExpr,
    OpExpr,
    OverloadedFuncDef,
    RefExpr,
    SliceExpr,
    StrExpr,
    TupleExpr,
    TypeInfo,
    UnaryExpr,
    Var,
)
from mypy.plugin import (
    AnalyzeTypeContext,
    AttributeContext,
    CheckerPluginInterface,
    ClassDefContext,
    FunctionContext,
    FunctionSigContext,
    MethodContext,
    MethodSigContext,
    Plugin,
)
from mypy.types import (
    AnyType,
    CallableType,
    FunctionLike,
    Instance,
    LiteralType,
    ProperType,
    RawExpressionType,
    TupleType,
    Type,
    TypeOfAny,
    TypeVarType,
    UnboundType,
    UninhabitedType,
    UnionType,
    UnpackType,
    get_proper_type,
)
from mypy.typevars import fill_typevars

from . import _messages
from ._shapes import (
    Arr,
    Dim,
    Mismatch,
    Opaque,
    Space,
    SpaceVar,
    Star,
    Sym,
    Tup,
    Unifier,
    Var as DimVar,
    broadcast,
    concatenate,
    einsum,
    known_size,
    matmul,
    render,
    reshape,
    stack,
)

ARRAY: Final = "jax._src.basearray.Array"
PARA: Final = "cdl._para.Para"
FLATTEN: Final = "cdl.nn._shape.Flatten"
COMPOSE: Final = "cdl._para.Compose"
BINARY_UFUNC_CALL: Final = "jax.numpy.BinaryUfunc.__call__"
TENSOR: Final = "cdl._para.Tensor"
LIST_ALGEBRA: Final = "cdl.schemes._list.ListAlgebra"
TREE_ALGEBRA: Final = "cdl.schemes._tree.Algebra"
PADDED_LIST: Final = "cdl.schemes._list.PaddedList"
# Folds of lists whose first type argument is the element space: a fold of a list of
# ``f32[3]`` takes an array ``f32[n,3]``.
LIST_FOLDS: Final = frozenset(
    f"cdl.schemes._list.{name}" for name in ("Cata", "FoldL", "Zygo")
)
TAG: Final = "cdl:"
JAXTYPING_DTYPES: Final = frozenset(
    {
        "BFloat16",
        "Bool",
        "Complex",
        "Complex64",
        "Complex128",
        "Float",
        "Float16",
        "Float32",
        "Float64",
        "Inexact",
        "Int",
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "Integer",
        "Key",
        "Num",
        "Real",
        "Shaped",
        "UInt",
        "UInt8",
        "UInt16",
        "UInt32",
        "UInt64",
    }
)
_fresh: Final = itertools.count(1)
_Ctx = TypeVar("_Ctx")
_Out = TypeVar("_Out")


# -- tags: names of dimensions kept inside the `Any` that mypy compares --------------


def _tagged(kind: str, name: str) -> AnyType:
    return AnyType(
        TypeOfAny.from_unimported_type, missing_import_name=TAG + kind + name
    )


def _tag(t: ProperType) -> tuple[str, str] | None:
    if isinstance(t, AnyType):
        name = t.missing_import_name
        if name and name.startswith(TAG):
            kind, _, rest = name[len(TAG) :].partition(":")
            return kind, rest
    return None


# -- reading jaxtyping annotations ---------------------------------------------------


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
            dims.append(None)
    if sum(isinstance(d, Star) for d in dims) > 1:
        return None
    return dims


class Shapes:
    """Conversions between mypy types and plugin spaces, given the array class."""

    def __init__(
        self, array: TypeInfo, tuple_type: Instance, int_type: Instance
    ) -> None:
        self.array = array
        self.tuple = tuple_type
        self.int_type = int_type

    def dim_type(self, d: Dim) -> Type:
        """One dimension as a type argument of ``Array``."""
        if isinstance(d, bool) or d is None:
            return AnyType(TypeOfAny.special_form)
        if isinstance(d, int):
            return LiteralType(d, self.int_type)
        if isinstance(d, Star):
            inner = (
                _tagged("star:", d.name) if d.name else AnyType(TypeOfAny.special_form)
            )
            return UnpackType(Instance(self.tuple.type, [inner]))
        return _tagged("dim:", d.name)

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
            return _tagged("space:", space.name)
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
                tag = _tag(get_proper_type(inner.args[0]))
                if tag and tag[0] == "star" and rename:
                    dims.append(Star(rename(tag[1]), var=True))
                else:
                    dims.append(Star(tag[1] if tag else None))
            else:
                dims.append(Star(None))
        elif isinstance(t, LiteralType) and type(t.value) is int:
            dims.append(t.value)
        elif isinstance(t, Instance) and t.last_known_value is not None:
            value = t.last_known_value.value
            dims.append(value if type(value) is int else None)
        else:
            tag = _tag(t)
            if tag and tag[0] == "dim":
                dims.append(DimVar(rename(tag[1])) if rename else Sym(tag[1]))
            else:
                dims.append(None)
    return dims


def space_of(
    typ: Type,
    rename: Callable[[str], str] | None = None,
    tvars: dict[str, Space] | None = None,
) -> Space:
    """The space a mypy type describes (`rename`: tags become fresh variables)."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY:
        return Arr(tuple(dims_of_args(t.args, rename)))
    if isinstance(t, TupleType):
        return Tup(tuple(space_of(i, rename, tvars) for i in t.items))
    if isinstance(t, TypeVarType) and tvars is not None and t.name in tvars:
        return tvars[t.name]
    tag = _tag(t)
    if tag and tag[0] == "space" and rename:
        return SpaceVar(rename(tag[1]))
    return Opaque(typ)


def _renamer() -> Callable[[str], str]:
    suffix = f"'{next(_fresh)}"
    return lambda name: name + suffix


# -- constant folding of size arguments ---------------------------------------------


def fold(expr: Expression) -> int | None:
    """The value of an int expression built from literals and ``Final`` names."""
    if isinstance(expr, IntExpr):
        return expr.value
    if isinstance(expr, NameExpr | MemberExpr):
        node = expr.node
        if isinstance(node, Var) and type(node.final_value) is int:
            return node.final_value
        return None
    if isinstance(expr, UnaryExpr) and expr.op == "-":
        value = fold(expr.expr)
        return None if value is None else -value
    if isinstance(expr, OpExpr):
        left, right = fold(expr.left), fold(expr.right)
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


def fold_shape(expr: Expression) -> list[int | None] | None:
    """A shape given as an int or a tuple/list of ints (None when not literal)."""
    if isinstance(expr, TupleExpr | ListExpr):
        return [fold(item) for item in expr.items]
    value = fold(expr)
    return None if value is None else [value]


# -- labels of morphisms, for messages ---------------------------------------------


def label(expr: Expression, typ: ProperType) -> str:
    """A short readable name for the morphism `expr` of type `typ`."""
    if isinstance(expr, OpExpr) and expr.op in (">>", "@"):
        text = (
            f"{label(expr.left, _unknown())} {expr.op} {label(expr.right, _unknown())}"
        )
        return f"({text})" if expr.op == "@" else text
    if isinstance(expr, CallExpr) and isinstance(expr.callee, NameExpr | MemberExpr):
        name = expr.callee.name
        if expr.callee.fullname == LIST_ALGEBRA and len(expr.args) == 2:
            return f"{name}({label(expr.args[1], _unknown())})"
        if isinstance(expr.callee.node, FuncDef | OverloadedFuncDef | Decorator):
            parts = [
                label(a, _unknown()) if isinstance(a, RefExpr | CallExpr) else "…"
                for a, kind in zip(expr.args, expr.arg_kinds, strict=True)
                if kind == ARG_POS
            ]
            return f"{name}({', '.join(parts)})"
        sizes = [fold(a) for a in expr.args[:3] if fold(a) is not None]
        if isinstance(typ, Instance) and _dim_params(typ.type):
            known = [_literal(a) for a in typ.args]
            if all(k is not None for k in known) and len(known) >= len(sizes):
                sizes = known
        if name.endswith("Linear") and len(sizes) == 2:
            return f"{name}({sizes[0]}→{sizes[1]})"
        if isinstance(typ, Instance) and not _is_layer_generic(typ.type):
            return f"{name}()"
        return f"{name}({', '.join(str(s) for s in sizes)})"
    if isinstance(expr, NameExpr):
        return expr.name
    if isinstance(expr, MemberExpr):
        return expr.name
    return "the morphism"


def _unknown() -> ProperType:
    return AnyType(TypeOfAny.special_form)


def _is_layer_generic(info: TypeInfo) -> bool:
    return bool(_dim_params(info))


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


def _para_base(info: TypeInfo, para: TypeInfo) -> Instance | None:
    if not info.has_base(PARA):
        return None
    own = fill_typevars(info)
    if not isinstance(own, Instance):
        return None
    return map_instance_to_supertype(own, para)


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
        tag = _tag(t)
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


def _dim_params(info: TypeInfo) -> list[str]:
    """Names of the dimensions that the class's type parameters stand for, in order.

    Recorded by `_shape_para_base` when the class is analysed (and kept in mypy's
    cache with the class).
    """
    names = info.metadata.get("cdl", {}).get("dims", [])
    return [str(n) for n in names] if isinstance(names, list) else []


def _find_dim_params(info: TypeInfo, base: Instance) -> list[str]:
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
    tag = _tag(t)
    if tag and tag[0] == "dim" and tag[1] in tvars:
        return tvars[tag[1]]
    return typ


def signature(typ: ProperType, para: TypeInfo) -> tuple[Space, Space] | None:
    """Domain and codomain of a morphism type, with fresh variables."""
    if not isinstance(typ, Instance) or not typ.type.has_base(PARA):
        return None
    info = typ.type
    rename = _renamer()
    if _dim_params(info):
        base = map_instance_to_supertype(typ, para)
        if len(base.args) != 2:
            return None
        dom, cod = (space_of(a, rename) for a in base.args)
        return dom, cod
    tvars: dict[str, Space] = {}
    for tv, arg in zip(info.defn.type_vars, typ.args, strict=False):
        a = get_proper_type(arg)
        if isinstance(a, UninhabitedType) or (isinstance(a, AnyType) and not _tag(a)):
            tvars[tv.name] = SpaceVar(rename(tv.name))
        else:
            tvars[tv.name] = space_of(a, rename, tvars)
    own = _para_base(info, para)
    if own is None or len(own.args) != 2:
        return None
    dom, cod = (space_of(a, rename, tvars) for a in own.args)
    element = list_element(typ, rename)
    if isinstance(element, Arr):
        dom = Arr((DimVar(rename("n")), *element.dims))
    return dom, cod


def list_element(typ: ProperType, rename: Callable[[str], str]) -> Space | None:
    """The element space of a fold of lists (`Cata`, `FoldL`, `Zygo`), else None."""
    if not isinstance(typ, Instance) or typ.type.fullname not in LIST_FOLDS:
        return None
    return space_of(typ.args[0], rename) if typ.args else None


# -- the plugin ----------------------------------------------------------------------

ERASED_TYPE_VARIABLES: Final = {
    "jax._src.lax.control_flow.loops.scan": frozenset({"X", "Y"}),
}
ELEMENTWISE_METHODS: Final = frozenset(
    f"__{n}__"
    for n in (
        "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod "
        "pow rpow lt le gt ge and rand or ror xor rxor"
    ).split()
)
MORPHISM_METHODS: Final = frozenset(
    {"__rshift__", "__matmul__", "then", "tensor", "__call__"}
)
UNARY_METHODS: Final = frozenset({"__neg__", "__pos__", "__abs__", "__invert__"})
UNARY_FUNCTIONS: Final = frozenset(
    [
        f"jax.numpy.{n}"
        for n in (
            "tanh exp log log1p expm1 sin cos tan sqrt abs absolute negative square "
            "sign floor ceil round exp2 log2 log10 reciprocal arctan arcsin arccos "
            "sinh cosh arctanh logical_not isnan isfinite"
        ).split()
    ]
    + [
        f"{module}.{n}"
        for module in ("jax.nn", "jax._src.nn.functions")
        for n in (
            "relu relu6 gelu sigmoid silu swish elu celu selu softplus soft_sign "
            "leaky_relu hard_tanh hard_sigmoid log_sigmoid softmax log_softmax "
            "standardize glu mish squareplus sparse_plus"
        ).split()
    ]
)
REDUCTIONS: Final = frozenset(
    "sum mean max min prod var std any all amax amin nansum nanmean".split()
)
BINARY_FUNCTIONS: Final = frozenset(
    f"jax.numpy.{n}"
    for n in (
        "add subtract multiply divide true_divide maximum minimum power "
        "greater less greater_equal less_equal equal not_equal"
    ).split()
)


class CdlPlugin(Plugin):
    """Shape checks for cdl morphisms and the jax operations in their bodies.

    mypy makes one from its options; each ``get_*_hook`` answers for the names the
    plugin checks and leaves every other name to mypy and the other plugins.

    **Arguments:** `options`, mypy's options.

    **Returns:** the plugin.

    >>> from mypy.options import Options
    >>> plugin = CdlPlugin(Options())
    >>> plugin.set_modules({})
    >>> plugin.get_method_hook("jax._src.basearray.Array.__matmul__") is not None
    True
    >>> plugin.get_function_hook("builtins.len") is None
    True
    """

    def _info(self, fullname: str) -> TypeInfo | None:
        node = self.lookup_fully_qualified(fullname)
        return (
            node.node if node is not None and isinstance(node.node, TypeInfo) else None
        )

    def _shapes(self) -> Shapes | None:
        array, tup, integer = (
            self._info(ARRAY),
            self._info("builtins.tuple"),
            self._info("builtins.int"),
        )
        if array is None or tup is None or integer is None:
            return None
        return Shapes(
            array,
            Instance(tup, [AnyType(TypeOfAny.special_form)]),
            Instance(integer, []),
        )

    def _para(self, fullname: str) -> TypeInfo | None:
        info = self._info(fullname)
        return info if info is not None and info.has_base(PARA) else None

    # hooks ------------------------------------------------------------------------

    def _analyze_hook(
        self, fullname: str
    ) -> Callable[[AnalyzeTypeContext], Type] | None:
        """Jaxtyping's ``Float[Array, "b 784"]`` becomes ``Array[b, 784]``."""
        if fullname in ("typing.Annotated", "typing_extensions.Annotated"):
            return self._analyze_jaxtyping
        return None

    def _analyze_jaxtyping(self, ctx: AnalyzeTypeContext) -> Type:
        name = ctx.type.name.rsplit(".", 1)[-1]
        args = ctx.type.args
        if name not in JAXTYPING_DTYPES or len(args) != 2:
            return _analyze_plain(ctx)
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
        if proper.type.fullname != ARRAY:
            return base
        dims = parse_dims(text)
        if dims is None:
            return base
        integer = ctx.api.named_type("builtins.int", [])
        tup = ctx.api.named_type("builtins.tuple", [AnyType(TypeOfAny.special_form)])
        return Shapes(proper.type, tup, integer).array_type(dims)

    def _base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """Shapes in the declared spaces of a `Para` subclass.

        mypy drops the metadata of ``Annotated`` in base classes, so the plugin
        reads the jaxtyping strings from the class statement itself.
        """
        return _shape_para_base if fullname == PARA else None

    def _function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        """Constructors of generic morphisms and shape-aware jax functions."""
        if fullname in FUNCTION_RULES:
            return lambda ctx: FUNCTION_RULES[fullname](self, ctx)
        if fullname.startswith("jax.numpy.") and fullname[10:] in REDUCTIONS:
            return self._reduce_fn
        if fullname in UNARY_FUNCTIONS:
            return _same_as_first
        if fullname in BINARY_FUNCTIONS:
            return lambda ctx: self._broadcast_fn(ctx, fullname)
        if fullname.startswith(("builtins.", "typing.", "jax.", "numpy.")):
            return None
        info = self._para(fullname)
        if info is not None and info.defn.type_vars:
            return lambda ctx: self._construct(ctx, info)
        return None

    def _function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        """Shape-changing generic functions: their stacked type variables are erased.

        ``lax.scan`` stacks what its body returns, so the body's ``Y`` and the
        result's ``Y`` differ by a leading axis, which mypy's ``Y`` cannot say.
        """
        if fullname in ERASED_TYPE_VARIABLES:
            names = ERASED_TYPE_VARIABLES[fullname]
            return lambda ctx: _erase(ctx.default_signature, names)
        if fullname == LIST_ALGEBRA:
            return self._list_algebra
        if fullname == TREE_ALGEBRA:
            return self._tree_algebra
        return None

    def _types_of(
        self, ctx: FunctionSigContext, exprs: Sequence[Expression]
    ) -> list[ProperType] | None:
        """The types of argument expressions, found without reporting anything."""
        if not isinstance(ctx.api, TypeChecker):
            return None
        with ctx.api.msg.filter_errors():
            return [get_proper_type(ctx.api.expr_checker.accept(e)) for e in exprs]

    def _tree_algebra(self, ctx: FunctionSigContext) -> FunctionLike:
        """``Algebra(functor, **cells)``: the cells must share one carrier.

        Where two cells' carriers are modelled and differ, that is one ``[shape]``
        error naming both constructors (not mypy's "Cannot infer value of type
        parameter").
        """
        sig = ctx.default_signature
        para = self._info(PARA)
        formals = dict(zip(sig.arg_names, ctx.args, strict=False))
        cells = formals.get("cells", [])
        if para is None or len(cells) < 2 or not isinstance(ctx.context, CallExpr):
            return sig
        types = self._types_of(ctx, cells)
        if types is None:
            return sig
        names = dict(zip(map(id, ctx.context.args), ctx.context.arg_names, strict=True))
        seen: tuple[str, Space] | None = None
        u = Unifier()
        for expr, typ in zip(cells, types, strict=True):
            cell = signature(typ, para)
            if cell is None or not _modelled(cell[1]):
                continue
            name = names.get(id(expr)) or label(expr, typ)
            if seen is None:
                seen = name, cell[1]
                continue
            try:
                u.unify(seen[1], cell[1])
            except Mismatch:
                functor = formals.get("functor", [])
                text = _messages.cells_disagree(
                    label(functor[0], _unknown()) if functor else "?",
                    (seen[0], render(u.resolve(seen[1]))),
                    (name, render(u.resolve(cell[1]))),
                )
                report(ctx.api, text, ctx.context)
                return _relax(sig, {"cells"})
        return sig

    def _list_algebra(self, ctx: FunctionSigContext) -> FunctionLike:
        """``ListAlgebra(nil, cons)``: `nil` must lie in the carrier of the cell.

        Where the plugin models both spaces it compares them itself: a wrong `nil`
        is one ``[shape]`` error naming both spaces, and the carrier is taken from
        the cell alone (not mypy's "Cannot infer value of type parameter").
        """
        sig = ctx.default_signature
        para = self._info(PARA)
        formals = dict(zip(sig.arg_names, ctx.args, strict=False))
        nil_args, cons_args = formals.get("nil", []), formals.get("cons", [])
        if para is None or len(nil_args) != 1 or len(cons_args) != 1:
            return sig
        types = self._types_of(ctx, [nil_args[0], cons_args[0]])
        if types is None:
            return sig
        nil_type, cons_type = types
        cell = signature(cons_type, para)
        nil = space_of(nil_type)
        if cell is None or not (_modelled(cell[1]) and _modelled(nil)):
            return sig
        dom, carrier = cell
        state = dom.items[1] if isinstance(dom, Tup) and len(dom.items) == 2 else None
        algebra = f"ListAlgebra({label(cons_args[0], cons_type)})"
        u = Unifier()
        if state is not None and _modelled(state):
            try:
                u.unify(state, carrier)
            except Mismatch:
                text = _messages.cell_not_algebra(
                    algebra, render(u.resolve(carrier)), render(u.resolve(state))
                )
                report(ctx.api, text, ctx.context)
                return _relax(sig, {"nil", "cons"})
        try:
            u.unify(carrier, nil)
        except Mismatch:
            text = _messages.nil_outside_carrier(
                algebra, render(u.resolve(carrier)), render(nil)
            )
            report(ctx.api, text, ctx.context)
            return _relax(sig, {"nil"})
        return sig

    def _method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        """Let the plugin, not mypy's invariance, judge what a morphism accepts."""
        cls, _, method = fullname.rpartition(".")
        if method == "__call__" and cls in LIST_FOLDS:
            # mypy checks the kind of list (array or PaddedList), the plugin its shape.
            return None
        if method in MORPHISM_METHODS and self._para(cls) is not None:
            return self._relax_first
        return None

    def _relax_first(self, ctx: MethodSigContext) -> FunctionLike:
        sig = ctx.default_signature
        if not sig.arg_types or sig.arg_kinds[0] != ARG_POS:
            return sig
        if isinstance(ctx.context, CallExpr) and _callee_method(ctx.context) is None:
            para = self._info(PARA)
            morphism = signature(ctx.type, para) if para is not None else None
            if morphism is None or not _modelled(morphism[0]):
                return sig
        return sig.copy_modified(
            arg_types=[AnyType(TypeOfAny.special_form), *sig.arg_types[1:]]
        )

    def _method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """Composition, application of morphisms, and shape rules of array methods."""
        cls, _, method = fullname.rpartition(".")
        if method in MORPHISM_METHODS and self._para(cls) is not None:
            if method in ("__rshift__", "then"):
                return self._then
            if method in ("__matmul__", "tensor"):
                return self._tensor
            return self._apply
        if fullname == BINARY_UFUNC_CALL:
            return lambda ctx: self._broadcast_fn(ctx, _callee_name(ctx.context))
        if cls == ARRAY:
            if method == "__matmul__":
                return lambda ctx: self._array_matmul(ctx, reverse=False)
            if method == "__rmatmul__":
                return lambda ctx: self._array_matmul(ctx, reverse=True)
            if method in ELEMENTWISE_METHODS:
                return self._array_broadcast
            if method in UNARY_METHODS:
                return _same_as_object
            if method == "reshape":
                return self._array_reshape
            if method == "__getitem__":
                return self._array_index
            if method in REDUCTIONS:
                return lambda ctx: self._reduce(ctx, _dims(ctx.type), 0)
            if method == "transpose":
                return self._array_transpose
        return None

    def _attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        """``x.T`` reverses the shape of `x`."""
        if fullname == ARRAY + ".T":
            return self._array_t
        return None

    # the hooks mypy calls: a failure inside the plugin never stops mypy ---------

    def get_type_analyze_hook(
        self, fullname: str
    ) -> Callable[[AnalyzeTypeContext], Type] | None:
        """See `_analyze_hook`."""
        return _guard(self._analyze_hook(fullname), _analyze_plain)

    def get_base_class_hook(
        self, fullname: str
    ) -> Callable[[ClassDefContext], None] | None:
        """See `_base_class_hook`."""
        return _guard(self._base_class_hook(fullname), lambda ctx: None)

    def get_function_hook(
        self, fullname: str
    ) -> Callable[[FunctionContext], Type] | None:
        """See `_function_hook`."""
        return _guard(self._function_hook(fullname), _default_return)

    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        """See `_function_signature_hook`."""
        return _guard(
            self._function_signature_hook(fullname), lambda ctx: ctx.default_signature
        )

    def get_method_signature_hook(
        self, fullname: str
    ) -> Callable[[MethodSigContext], FunctionLike] | None:
        """See `_method_signature_hook`."""
        return _guard(
            self._method_signature_hook(fullname), lambda ctx: ctx.default_signature
        )

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        """See `_method_hook`."""
        return _guard(self._method_hook(fullname), _default_return)

    def get_attribute_hook(
        self, fullname: str
    ) -> Callable[[AttributeContext], Type] | None:
        """See `_attribute_hook`."""
        return _guard(self._attribute_hook(fullname), lambda ctx: ctx.default_attr_type)

    # morphisms --------------------------------------------------------------------

    def _construct(self, ctx: FunctionContext, info: TypeInfo) -> Type:
        ret = get_proper_type(ctx.default_return_type)
        if not isinstance(ret, Instance) or ret.type is not info:
            return ctx.default_return_type
        names = _dim_params(info)
        if names:
            shapes = self._shapes()
            if shapes is None:
                return ctx.default_return_type
            given: dict[str, int | None] = {}
            for formal, exprs, types in zip(
                ctx.callee_arg_names, ctx.args, ctx.arg_types, strict=False
            ):
                if formal in names and len(exprs) == 1:
                    value = fold(exprs[0])
                    given[formal] = value if value is not None else _literal(types[0])
            args = [shapes.dim_type(given.get(n)) for n in names]
            return ret.copy_modified(args=args)
        args = [
            AnyType(TypeOfAny.special_form)
            if isinstance(get_proper_type(a), UninhabitedType)
            else a
            for a in ret.args
        ]
        return ret.copy_modified(args=args)

    def _morphism(self, ctx: MethodContext, typ: Type) -> tuple[Space, Space] | None:
        para = self._info(PARA)
        return None if para is None else signature(get_proper_type(typ), para)

    def _result(self, ctx: MethodContext, cls: str, spaces: Sequence[Space]) -> Type:
        """An instance of the composite class `cls` (``Compose``, ``Tensor``)."""
        shapes, info = self._shapes(), self._info(cls)
        if shapes is None or info is None:
            return ctx.default_return_type
        return Instance(info, [shapes.type_of(s) for s in spaces])

    def _then(self, ctx: MethodContext) -> Type:
        if not ctx.arg_types or not ctx.arg_types[0]:
            return ctx.default_return_type
        left = self._morphism(ctx, ctx.type)
        right_type = get_proper_type(ctx.arg_types[0][0])
        right = self._morphism(ctx, right_type)
        if left is None or right is None:
            return ctx.default_return_type
        u = Unifier()
        try:
            u.unify(left[1], right[0])
        except Mismatch:
            exprs = _operands(ctx)
            report(
                ctx.api,
                _messages.composition(
                    label(exprs[0], ctx.type) if exprs else "the left map",
                    render(u.resolve(left[1])),
                    label(exprs[1], right_type) if exprs else "the right map",
                    render(u.resolve(right[0])),
                ),
                exprs[1] if exprs else ctx.context,
            )
            return self._result(ctx, COMPOSE, [Opaque(), Opaque(), Opaque()])
        middle = u.resolve(right[0])
        cod = _output(right_type, middle, u.resolve(right[1]))
        return self._result(ctx, COMPOSE, [u.resolve(left[0]), middle, cod])

    def _tensor(self, ctx: MethodContext) -> Type:
        if not ctx.arg_types or not ctx.arg_types[0]:
            return ctx.default_return_type
        right_type = get_proper_type(ctx.arg_types[0][0])
        left, right = self._morphism(ctx, ctx.type), self._morphism(ctx, right_type)
        if left is None or right is None:
            return ctx.default_return_type
        return self._result(ctx, TENSOR, [left[0], left[1], right[0], right[1]])

    def _apply(self, ctx: MethodContext) -> Type:
        sig = self._morphism(ctx, ctx.type)
        if sig is None or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
            return ctx.default_return_type
        given_type = ctx.arg_types[0][0]
        given = space_of(given_type)
        dom, cod = sig
        if not _modelled(dom):
            return ctx.default_return_type
        u = Unifier()
        try:
            u.unify(dom, given)
        except Mismatch:
            exprs = ctx.args[0] if ctx.args else []
            callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
            name = label(callee, ctx.type) if callee is not None else "the morphism"
            element = list_element(get_proper_type(ctx.type), _renamer())
            if isinstance(element, Arr):
                text = _messages.fold(name, render(element), render(dom), render(given))
            else:
                text = _messages.call(name, render(dom), render(given))
            if exprs and _looks_batched(dom, given):
                text += _messages.BATCH_HINT
            report(ctx.api, text, ctx.context)
            return self._shape_type(_forget_vars(cod))
        return self._shape_type(_output(ctx.type, u.resolve(dom), u.resolve(cod)))

    def _shape_type(self, space: Space) -> Type:
        shapes = self._shapes()
        if shapes is None:
            return AnyType(TypeOfAny.special_form)
        return shapes.type_of(_forget_vars(space))

    # arrays -----------------------------------------------------------------------

    def _fail(
        self, api: CheckerPluginInterface, ctx: Context, name: str, why: str
    ) -> Type:
        report(api, _messages.op(name, why), ctx)
        return self._array([Star(None)], AnyType(TypeOfAny.special_form))

    def _array(self, dims: Sequence[Dim] | None, default: Type) -> Type:
        shapes = self._shapes()
        if dims is None or shapes is None:
            return default
        return shapes.array_type(dims)

    def _array_matmul(self, ctx: MethodContext, *, reverse: bool) -> Type:
        this = _dims(ctx.type)
        other = (
            _dims(ctx.arg_types[0][0]) if ctx.arg_types and ctx.arg_types[0] else None
        )
        if this is None or other is None:
            return ctx.default_return_type
        left, right = (other, this) if reverse else (this, other)
        try:
            return self._array(matmul(left, right), ctx.default_return_type)
        except Mismatch as why:
            return self._fail(ctx.api, ctx.context, "matmul", _pair(left, right, why))

    def _array_broadcast(self, ctx: MethodContext) -> Type:
        this = _dims(ctx.type)
        if this is None or not ctx.arg_types or not ctx.arg_types[0]:
            return ctx.default_return_type
        other = _operand_dims(ctx.arg_types[0][0])
        if other is None:
            return ctx.default_return_type
        try:
            return self._array(broadcast(this, other), ctx.default_return_type)
        except Mismatch as why:
            return self._fail(ctx.api, ctx.context, "broadcast", str(why))

    def _broadcast_fn(
        self, ctx: FunctionContext | MethodContext, fullname: str
    ) -> Type:
        shapes = [_operand_dims(ts[0]) for ts in ctx.arg_types[:2] if len(ts) == 1]
        if len(shapes) != 2 or shapes[0] is None or shapes[1] is None:
            return ctx.default_return_type
        try:
            return self._array(broadcast(shapes[0], shapes[1]), ctx.default_return_type)
        except Mismatch as why:
            name = fullname.rsplit(".", 1)[-1]
            return self._fail(ctx.api, ctx.context, name, str(why))

    def _array_index(self, ctx: MethodContext) -> Type:
        """``x[i]``, ``x[:, 0]``, ``x[None]``: integers drop an axis, slices keep it."""
        dims = _dims(ctx.type)
        if dims is None or _star(dims) or not ctx.args or len(ctx.args[0]) != 1:
            return ctx.default_return_type
        index = ctx.args[0][0]
        items = index.items if isinstance(index, TupleExpr) else [index]
        whole = get_proper_type(ctx.arg_types[0][0])
        if isinstance(index, TupleExpr):
            if not isinstance(whole, TupleType) or len(whole.items) != len(items):
                return ctx.default_return_type
            types = list(whole.items)
        else:
            types = [whole]
        out: list[Dim] = []
        rest = list(dims)
        for item, typ in zip(items, types, strict=True):
            if isinstance(item, NameExpr) and item.fullname == "builtins.None":
                out.append(1)
            elif not rest:
                return ctx.default_return_type
            elif isinstance(item, SliceExpr):
                out.append(_sliced(rest.pop(0), item))
            elif _is_int(typ):
                rest.pop(0)
            else:
                return ctx.default_return_type
        return self._array([*out, *rest], ctx.default_return_type)

    def _reduce_fn(self, ctx: FunctionContext) -> Type:
        if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
            return ctx.default_return_type
        return self._reduce(ctx, _dims(ctx.arg_types[0][0]), 1)

    def _reduce(
        self,
        ctx: FunctionContext | MethodContext,
        dims: tuple[Dim, ...] | None,
        first: int,
    ) -> Type:
        """``x.sum(axis=…, keepdims=…)`` and the like: the axes reduced away."""
        if dims is None or _star(dims):
            return ctx.default_return_type
        axes: list[int | None] | None = None
        keep = False
        for formal, exprs in zip(
            ctx.callee_arg_names[first:], ctx.args[first:], strict=False
        ):
            if not exprs:
                continue
            if formal == "axis":
                value = exprs[0]
                if isinstance(value, NameExpr) and value.fullname == "builtins.None":
                    continue
                axes = fold_shape(value)
                if axes is None or any(a is None for a in axes):
                    return ctx.default_return_type
            elif formal == "keepdims":
                flag = exprs[0]
                if not isinstance(flag, NameExpr) or flag.fullname not in (
                    "builtins.True",
                    "builtins.False",
                ):
                    return ctx.default_return_type
                keep = flag.fullname == "builtins.True"
            elif formal not in ("dtype", "out", "where", "initial", "ddof"):
                return ctx.default_return_type
        rank = len(dims)
        if axes is None:
            chosen = set(range(rank))
        else:
            known = [a for a in axes if a is not None]
            if any(not -rank <= a < rank for a in known):
                return ctx.default_return_type
            chosen = {a % rank for a in known}
        out = (
            [1 if k in chosen else d for k, d in enumerate(dims)]
            if keep
            else [d for k, d in enumerate(dims) if k not in chosen]
        )
        return self._array(out, ctx.default_return_type)

    def _array_reshape(self, ctx: MethodContext) -> Type:
        this = _dims(ctx.type)
        exprs = [e for group in ctx.args for e in group]
        kinds = [k for group in ctx.arg_kinds for k in group]
        names = [n for group in ctx.arg_names for n in group]
        positional = [
            e
            for e, k, n in zip(exprs, kinds, names, strict=False)
            if k == ARG_POS and n is None
        ]
        if this is None or not positional:
            return ctx.default_return_type
        target = (
            fold_shape(positional[0])
            if len(positional) == 1
            else [fold(e) for e in positional]
        )
        return self._reshape(
            ctx.api, ctx.context, this, target, ctx.default_return_type
        )

    def _reshape(
        self,
        api: CheckerPluginInterface,
        context: Context,
        this: Sequence[Dim],
        target: list[int | None] | None,
        default: Type,
    ) -> Type:
        if target is None:
            return default
        try:
            return self._array(reshape(this, target), default)
        except Mismatch as why:
            return self._fail(api, context, "reshape", str(why))

    def _array_transpose(self, ctx: MethodContext) -> Type:
        this = _dims(ctx.type)
        exprs = [e for group in ctx.args for e in group]
        if this is None or _star(this):
            return ctx.default_return_type
        if not exprs:
            return self._array(tuple(reversed(this)), ctx.default_return_type)
        axes = fold_shape(exprs[0]) if len(exprs) == 1 else [fold(e) for e in exprs]
        return self._permute(ctx.api, ctx.context, this, axes, ctx.default_return_type)

    def _permute(
        self,
        api: CheckerPluginInterface,
        context: Context,
        this: Sequence[Dim],
        axes: list[int | None] | None,
        default: Type,
    ) -> Type:
        if axes is None or any(a is None for a in axes):
            return default
        rank = len(this)
        wanted = sorted(a % rank if rank else 0 for a in axes if a is not None)
        if len(axes) != rank or wanted != list(range(rank)):
            return self._fail(
                api, context, "transpose", f"axes {tuple(axes)} for rank {rank}"
            )
        return self._array(tuple(this[a] for a in axes if a is not None), default)

    def _array_t(self, ctx: AttributeContext) -> Type:
        this = _dims(ctx.type)
        if this is None or _star(this):
            return ctx.default_attr_type
        return self._array(tuple(reversed(this)), ctx.default_attr_type)

    # jax functions ----------------------------------------------------------------

    def _fn_matmul(self, ctx: FunctionContext) -> Type:
        dims = [_dims(ts[0]) if len(ts) == 1 else None for ts in ctx.arg_types[:2]]
        if len(dims) != 2 or dims[0] is None or dims[1] is None:
            return ctx.default_return_type
        name = _callee_name(ctx.context)
        if name == "dot" and (len(dims[0]) > 2 or len(dims[1]) > 2):
            return ctx.default_return_type
        try:
            return self._array(matmul(dims[0], dims[1]), ctx.default_return_type)
        except Mismatch as why:
            return self._fail(ctx.api, ctx.context, name, _pair(dims[0], dims[1], why))

    def _fn_join(self, ctx: FunctionContext) -> Type:
        name = _callee_name(ctx.context)
        parts = _sequence_dims(ctx)
        axis = _keyword_int(ctx, "axis", 0)
        if parts is None or axis is None:
            return ctx.default_return_type
        rule = concatenate if name in ("concatenate", "concat") else stack
        try:
            return self._array(rule(parts, axis), ctx.default_return_type)
        except Mismatch as why:
            return self._fail(ctx.api, ctx.context, name, str(why))

    def _fn_reshape(self, ctx: FunctionContext) -> Type:
        if len(ctx.args) < 2 or len(ctx.arg_types[0]) != 1 or len(ctx.args[1]) != 1:
            return ctx.default_return_type
        this = _dims(ctx.arg_types[0][0])
        if this is None:
            return ctx.default_return_type
        return self._reshape(
            ctx.api,
            ctx.context,
            this,
            fold_shape(ctx.args[1][0]),
            ctx.default_return_type,
        )

    def _fn_transpose(self, ctx: FunctionContext) -> Type:
        if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
            return ctx.default_return_type
        this = _dims(ctx.arg_types[0][0])
        if this is None or _star(this):
            return ctx.default_return_type
        if len(ctx.args) < 2 or not ctx.args[1]:
            return self._array(tuple(reversed(this)), ctx.default_return_type)
        axes = fold_shape(ctx.args[1][0])
        return self._permute(ctx.api, ctx.context, this, axes, ctx.default_return_type)

    def _fn_einsum(self, ctx: FunctionContext) -> Type:
        exprs = [e for group in ctx.args for e in group]
        types = [t for group in ctx.arg_types for t in group]
        kinds = [k for group in ctx.arg_kinds for k in group]
        if not exprs or not isinstance(exprs[0], StrExpr):
            return ctx.default_return_type
        if any(k != ARG_POS for k in kinds[: len(exprs)]):
            return ctx.default_return_type
        operands = [_dims(t) for t, e in zip(types[1:], exprs[1:], strict=False)]
        names = [n for group in ctx.arg_names for n in group]
        operands = [d for d, n in zip(operands, names[1:], strict=False) if n is None]
        if any(d is None for d in operands):
            return ctx.default_return_type
        try:
            out = einsum(exprs[0].value, [d for d in operands if d is not None])
        except Mismatch as why:
            return self._fail(ctx.api, ctx.context, "einsum", str(why))
        return self._array(out, ctx.default_return_type)

    def _fn_filled(self, ctx: FunctionContext) -> Type:
        if not ctx.args or len(ctx.args[0]) != 1:
            return ctx.default_return_type
        return self._array(fold_shape(ctx.args[0][0]), ctx.default_return_type)

    def _fn_random(self, ctx: FunctionContext) -> Type:
        for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
            if formal == "shape" and len(exprs) == 1:
                return self._array(fold_shape(exprs[0]), ctx.default_return_type)
        return self._array((), ctx.default_return_type)

    def _fn_vmap(self, ctx: FunctionContext) -> Type:
        """``jax.vmap(f)``: `f` with a leading batch axis on its arrays.

        With other ``in_axes``/``out_axes`` than 0 the result takes anything and
        returns arrays of any shape; a morphism the plugin does not model keeps
        mypy's own type.
        """
        if not ctx.arg_types or len(ctx.arg_types[0]) != 1:
            return ctx.default_return_type
        batched = True
        for formal, exprs in zip(ctx.callee_arg_names[1:], ctx.args[1:], strict=False):
            if exprs and formal in ("in_axes", "out_axes") and fold(exprs[0]) != 0:
                batched = False
        fun = get_proper_type(ctx.arg_types[0][0])
        para = self._info(PARA)
        fallback = self._info("builtins.function")
        if isinstance(fun, Instance) and para is not None and fallback is not None:
            sig = signature(fun, para)
            if sig is None:
                return ctx.default_return_type
            dom, cod = sig
            if not isinstance(dom, Arr):
                return ctx.default_return_type
            given: Type = (
                self._shape_type(_batched(dom))
                if batched
                else AnyType(TypeOfAny.special_form)
            )
            padded = self._info(PADDED_LIST)
            if fun.type.fullname in LIST_FOLDS and batched and padded is not None:
                given = UnionType.make_union([given, Instance(padded, [])])
            out = self._shape_type(cod)
            return CallableType(
                [given],
                [ARG_POS],
                ["x"],
                self._batched_type(out) if batched else self._erased_type(out),
                Instance(fallback, []),
            )
        if isinstance(fun, CallableType):
            if not batched:
                return fun.copy_modified(
                    arg_types=[AnyType(TypeOfAny.special_form) for _ in fun.arg_types],
                    ret_type=self._erased_type(fun.ret_type),
                )
            return fun.copy_modified(
                arg_types=[self._batched_type(t) for t in fun.arg_types],
                ret_type=self._batched_type(fun.ret_type),
            )
        return ctx.default_return_type

    def _erased_type(self, typ: Type) -> Type:
        """`typ` with every array's shape forgotten."""
        t = get_proper_type(typ)
        if isinstance(t, Instance) and t.type.fullname == ARRAY:
            return self._shape_type(Arr((Star(None),)))
        if isinstance(t, TupleType):
            return t.copy_modified(items=[self._erased_type(i) for i in t.items])
        return typ

    def _batched_type(self, typ: Type) -> Type:
        t = get_proper_type(typ)
        if isinstance(t, Instance) and t.type.fullname == ARRAY:
            space = space_of(t)
            assert isinstance(space, Arr)
            return self._shape_type(_batched(space))
        if isinstance(t, TupleType):
            return t.copy_modified(items=[self._batched_type(i) for i in t.items])
        return typ

    def _fn_scan(self, ctx: FunctionContext) -> Type:
        """``lax.scan``: the body's outputs, stacked along a new leading axis."""
        ret = get_proper_type(ctx.default_return_type)
        body = get_proper_type(ctx.arg_types[0][0]) if ctx.arg_types[0] else None
        if not isinstance(ret, TupleType) or len(ret.items) != 2:
            return ctx.default_return_type
        if not isinstance(body, CallableType):
            return ctx.default_return_type
        out = get_proper_type(body.ret_type)
        if not isinstance(out, TupleType) or len(out.items) != 2:
            return ctx.default_return_type
        stacked = get_proper_type(out.items[1])
        if not isinstance(stacked, Instance) or stacked.type.fullname != ARRAY:
            return ctx.default_return_type
        return ret.copy_modified(items=[ret.items[0], self._batched_type(stacked)])


def _output(morphism: ProperType, dom: Space, cod: Space) -> Space:
    """The codomain, with what a layer computes from its input's sizes filled in."""
    if not isinstance(morphism, Instance) or not isinstance(dom, Arr):
        return cod
    if morphism.type.fullname == FLATTEN:
        size = known_size(dom.dims)
        return cod if size is None else Arr((size,))
    return cod


def _batched(space: Arr) -> Arr:
    return Arr((None, *space.dims))


FUNCTION_RULES: Final[dict[str, Callable[[CdlPlugin, FunctionContext], Type]]] = {
    "jax.numpy.matmul": CdlPlugin._fn_matmul,
    "jax.numpy.dot": CdlPlugin._fn_matmul,
    "jax.numpy.concatenate": CdlPlugin._fn_join,
    "jax.numpy.concat": CdlPlugin._fn_join,
    "jax.numpy.stack": CdlPlugin._fn_join,
    "jax.numpy.reshape": CdlPlugin._fn_reshape,
    "jax.numpy.transpose": CdlPlugin._fn_transpose,
    "jax.numpy.einsum": CdlPlugin._fn_einsum,
    "jax.numpy.zeros": CdlPlugin._fn_filled,
    "jax.numpy.ones": CdlPlugin._fn_filled,
    "jax.numpy.empty": CdlPlugin._fn_filled,
    "jax.random.normal": CdlPlugin._fn_random,
    "jax.random.uniform": CdlPlugin._fn_random,
    "jax._src.random.core.normal": CdlPlugin._fn_random,
    "jax._src.random.core.uniform": CdlPlugin._fn_random,
    "jax._src.api.vmap": CdlPlugin._fn_vmap,
    "equinox._vmap_pmap.filter_vmap": CdlPlugin._fn_vmap,
    "jax._src.lax.control_flow.loops.scan": CdlPlugin._fn_scan,
}


# -- helpers -------------------------------------------------------------------------


def _shape_para_base(ctx: ClassDefContext) -> None:
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
        if base.type.fullname == PARA and len(base.args) == len(expr.index.items):
            args = [
                _shape_expr(e, a, shapes)
                for e, a in zip(expr.index.items, base.args, strict=True)
            ]
            shaped = base.copy_modified(args=args)
            names = _find_dim_params(info, shaped)
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


def _shape_expr(expr: Expression, analyzed: Type, shapes: Shapes) -> Type:
    """`analyzed` with the shapes that the jaxtyping strings in `expr` give."""
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
        return t.copy_modified(args=[_shape_expr(items[0], t.args[0], shapes)])
    if isinstance(t, TupleType) and len(items) == len(t.items):
        return t.copy_modified(
            items=[
                _shape_expr(e, i, shapes) for e, i in zip(items, t.items, strict=True)
            ]
        )
    if (
        expr.base.name in JAXTYPING_DTYPES
        and len(items) == 2
        and isinstance(items[1], StrExpr)
        and isinstance(t, Instance)
        and t.type.fullname == ARRAY
    ):
        dims = parse_dims(items[1].value)
        if dims is not None:
            return Instance(t.type, [shapes.dim_type(d) for d in dims])
    return analyzed


def _guard(
    hook: Callable[[_Ctx], _Out] | None, fallback: Callable[[_Ctx], _Out]
) -> Callable[[_Ctx], _Out] | None:
    """`hook`, falling back to mypy's own answer if the plugin fails on a program."""
    if hook is None:
        return None
    checked = hook

    def run(ctx: _Ctx) -> _Out:
        try:
            return checked(ctx)
        except Exception:  # a plugin bug must not stop type checking
            return fallback(ctx)

    return run


def _default_return(ctx: FunctionContext | MethodContext) -> Type:
    return ctx.default_return_type


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
    watchers, errors._watchers = errors._watchers, []
    try:
        api.fail(message, context, code=_messages.SHAPE)
    finally:
        errors._watchers = watchers


def _analyze_plain(ctx: AnalyzeTypeContext) -> Type:
    """What mypy itself makes of ``Annotated[T, ...]``: `T`."""
    if len(ctx.type.args) < 2:
        ctx.api.fail(_messages.ANNOTATED_ARGUMENTS, ctx.context)
        return AnyType(TypeOfAny.from_error)
    return ctx.api.analyze_type(ctx.type.args[0])


def _relax(sig: CallableType, names: set[str]) -> CallableType:
    """`sig` with the parameters called `names` taking anything."""
    return sig.copy_modified(
        arg_types=[
            AnyType(TypeOfAny.special_form) if name in names else t
            for name, t in zip(sig.arg_names, sig.arg_types, strict=True)
        ]
    )


def _erase(sig: CallableType, names: frozenset[str]) -> CallableType:
    erased = {
        tv.id: AnyType(TypeOfAny.special_form)
        for tv in sig.variables
        if tv.name in names
    }
    if not erased:
        return sig
    out = expand_type(sig, erased)
    assert isinstance(out, CallableType)
    return out.copy_modified(
        variables=[tv for tv in sig.variables if tv.id not in erased]
    )


def _callee_method(call: CallExpr) -> str | None:
    """The method name when `call` is ``obj.then(...)``-like, None for ``f(x)``."""
    if isinstance(call.callee, MemberExpr) and call.callee.name in ("then", "tensor"):
        return call.callee.name
    return None


def _modelled(space: Space) -> bool:
    """Whether the plugin checks every part of `space` itself."""
    if isinstance(space, Tup):
        return all(_modelled(s) for s in space.items)
    return not isinstance(space, Opaque)


def _operands(ctx: MethodContext) -> tuple[Expression, Expression] | None:
    node = ctx.context
    if isinstance(node, OpExpr):
        return node.left, node.right
    if isinstance(node, CallExpr) and isinstance(node.callee, MemberExpr) and node.args:
        return node.callee.expr, node.args[0]
    return None


def _looks_batched(dom: Space, given: Space) -> bool:
    if not (isinstance(dom, Arr) and isinstance(given, Arr)) or not given.dims:
        return False
    try:
        Unifier().unify(dom, Arr(given.dims[1:]))
    except Mismatch:
        return False
    return True


def _forget_vars(space: Space) -> Space:
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
        return Tup(tuple(_forget_vars(s) for s in space.items))
    if isinstance(space, SpaceVar):
        return Opaque(None)
    return space


def _dims(typ: Type) -> tuple[Dim, ...] | None:
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == ARRAY:
        return tuple(dims_of_args(t.args, None))
    return None


def _operand_dims(typ: Type) -> tuple[Dim, ...] | None:
    """Shape of an operand of an elementwise op: Python numbers are scalars."""
    t = get_proper_type(typ)
    if isinstance(t, LiteralType) or (
        isinstance(t, Instance)
        and t.type.fullname in ("builtins.int", "builtins.float", "builtins.bool")
    ):
        return ()
    return _dims(t)


def _literal(typ: Type) -> int | None:
    """The int that ``Literal[32]`` (or an int known to be 32) stands for."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.last_known_value is not None:
        t = t.last_known_value
    if isinstance(t, LiteralType) and type(t.value) is int:
        return t.value
    return None


def _is_int(typ: Type) -> bool:
    t = get_proper_type(typ)
    if isinstance(t, LiteralType):
        return type(t.value) is int
    return isinstance(t, Instance) and t.type.fullname == "builtins.int"


def _sliced(dim: Dim, item: SliceExpr) -> Dim:
    """The length of ``dim`` after the slice `item` (None when unknown)."""
    parts = [item.begin_index, item.end_index, item.stride]
    if all(p is None for p in parts):
        return dim
    values = [None if p is None else fold(p) for p in parts]
    if not isinstance(dim, int) or any(
        v is None and p is not None for v, p in zip(values, parts, strict=True)
    ):
        return None
    if values[2] == 0:
        return None
    return len(range(dim)[slice(values[0], values[1], values[2])])


def _star(dims: Sequence[Dim]) -> bool:
    return any(isinstance(d, Star) for d in dims)


def _pair(left: Sequence[Dim], right: Sequence[Dim], why: Mismatch) -> str:
    return f"{render(Arr(tuple(left)))} @ {render(Arr(tuple(right)))}: {why}"


def _callee_name(node: Context) -> str:
    if isinstance(node, CallExpr) and isinstance(node.callee, NameExpr | MemberExpr):
        return node.callee.name
    return "op"


def _sequence_dims(ctx: FunctionContext) -> list[tuple[Dim, ...]] | None:
    if not ctx.args or len(ctx.args[0]) != 1:
        return None
    expr = ctx.args[0][0]
    if not isinstance(expr, TupleExpr | ListExpr):
        return None
    typ = get_proper_type(ctx.arg_types[0][0])
    items: list[Type]
    if isinstance(typ, TupleType):
        items = list(typ.items)
    elif isinstance(ctx.api, TypeChecker):
        items = [ctx.api.expr_checker.accept(e) for e in expr.items]
    else:
        return None
    out = []
    for item in items:
        dims = _dims(item)
        if dims is None:
            return None
        out.append(dims)
    return out


def _keyword_int(ctx: FunctionContext, name: str, default: int) -> int | None:
    for formal, exprs in zip(ctx.callee_arg_names, ctx.args, strict=False):
        if formal == name and exprs:
            return fold(exprs[0])
    return default


def _same_as_first(ctx: FunctionContext) -> Type:
    if ctx.arg_types and len(ctx.arg_types[0]) == 1:
        first = get_proper_type(ctx.arg_types[0][0])
        if isinstance(first, Instance) and first.type.fullname == ARRAY:
            return first
    return ctx.default_return_type


def _same_as_object(ctx: MethodContext) -> Type:
    t = get_proper_type(ctx.type)
    if isinstance(t, Instance) and t.type.fullname == ARRAY:
        return t
    return ctx.default_return_type
