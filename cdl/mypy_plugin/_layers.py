"""What each cdl layer computes from its input's sizes, carried on the layer's type.

A convolution's output height follows from its input height, kernel, stride and
padding; none of these is a type parameter of ``Conv2d[1, 8]``. At construction the
plugin reads them from the call and keeps them on the instance's type, in mypy's
per-instance attributes (``Instance.extra_attrs``, kept through assignments and
mypy's cache): a *rule* (window, transposed window, up-sampling, reshape,
concatenation). Composites keep their parts the same way (``f >> g``: a chain;
``f @ g``: a pair; ``Each(f)``, ``Block(name, f)``: the inner morphism), so the output
of any composite on a known input is computed stage by stage, wherever it is
applied or composed.

>>> rule = Rule("window", kernel=(3, 3), stride=(2, 2), padding=(1, 1))
>>> rule.output(Arr((16, 8, 8)), Arr((32, None, None)))
Arr(dims=(32, 4, 4))
>>> rule.text()
'3×3, stride 2, padding 1'
"""

import dataclasses
import json
from collections.abc import Sequence
from typing import Final

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import ArgKind, Expression, ListExpr, NameExpr, TupleExpr, TypeInfo
from mypy.plugin import FunctionContext
from mypy.types import (
    ExtraAttrs,
    Instance,
    LiteralType,
    ProperType,
    TupleType,
    Type,
    get_proper_type,
)
from mypy.typevars import fill_typevars

from ._annotations import dim_params
from ._names import (
    BLOCK,
    CONCAT,
    EACH as EACH_CLASS,
    FLATTEN,
    ON_NODES as ON_NODES_CLASS,
    PARA,
    POOLS,
    RESHAPE,
    TRANSPOSED_CONVOLUTIONS,
    TREE_FOLDS,
    UPSAMPLE,
    WINDOW_CONVOLUTIONS,
)
from ._shapes import (
    Arr,
    Dim,
    Mismatch,
    Opaque,
    Space,
    Star,
    Tup,
    Var as DimVar,
    concatenate,
    known_size,
    reshape,
)
from ._types import Env, fold, fold_shape, literal, space_of

# The per-instance attributes the plugin keeps on a morphism's type.
RULE: Final = "cdl:rule"
CHAIN: Final = "cdl:chain"
PAIR: Final = "cdl:pair"
EACH: Final = "cdl:each"
BODY: Final = "cdl:body"
ON_NODES: Final = "cdl:on-nodes"
ROOTS: Final = "cdl:roots"
SIGNATURE: Final = "cdl:signature"
SIZES: Final = "cdl:sizes"
_PARTS: Final = (CHAIN, PAIR, EACH, BODY, ON_NODES)


@dataclasses.dataclass(frozen=True)
class Rule:
    """How a layer's output sizes follow from its input's.

    `kind` is ``window`` (convolution, pooling: ``(n + 2p - k) // s + 1``),
    ``transposed`` (``(n - 1) s - 2p + k + q``), ``upsample`` (``n · scale``),
    ``reshape`` (to `target`), ``concat`` (along `axis`) or ``flatten``.
    """

    kind: str
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    extra: tuple[int, ...] = ()
    target: tuple[int, ...] = ()
    scale: int = 1
    axis: int = 0

    def text(self) -> str:
        """The rule's sizes as a label shows them."""
        if self.kind in ("window", "transposed"):
            out = "×".join(map(str, self.kernel))
            if set(self.stride) != {1}:
                out += ", stride " + "×".join(map(str, sorted(set(self.stride))))
            if set(self.padding) != {0}:
                out += ", padding " + "×".join(map(str, sorted(set(self.padding))))
            return out
        if self.kind == "upsample":
            return f"×{self.scale}"
        if self.kind == "reshape":
            return ", ".join(map(str, self.target))
        if self.kind == "concat":
            return f"axis={self.axis}" if self.axis else ""
        return ""

    def output(self, dom: Space, cod: Space) -> Space:
        """The output on the input `dom` (unified with the layer's domain)."""
        if self.kind == "flatten":
            size = known_size(dom.dims) if isinstance(dom, Arr) else None
            return cod if size is None else Arr((size,))
        if self.kind == "reshape":
            if not isinstance(dom, Arr):
                return cod
            return Arr(reshape(dom.dims, self.target))
        if self.kind == "concat":
            return self._concat(dom, cod)
        if not isinstance(dom, Arr) or not isinstance(cod, Arr) or not cod.dims:
            return cod
        if any(isinstance(d, Star) for d in dom.dims):
            return cod
        if self.kind == "upsample":
            spatial = [
                self.scale * d if isinstance(d, int) else None for d in dom.dims[1:]
            ]
            return Arr((cod.dims[0], *spatial))
        rank = len(self.kernel)
        if len(dom.dims) != rank + 1:
            return cod
        if len(cod.dims) != rank + 1:
            return cod
        sizes = [
            self._size(n, axis) if isinstance(n, int) else out
            for axis, (n, out) in enumerate(
                zip(dom.dims[1:], cod.dims[1:], strict=True)
            )
        ]
        return Arr((cod.dims[0], *sizes))

    def _size(self, n: int, axis: int) -> int:
        k, s, p = self.kernel[axis], self.stride[axis], self.padding[axis]
        if self.kind == "transposed":
            return (n - 1) * s - 2 * p + k + self.extra[axis]
        if n + 2 * p < k:
            raise Mismatch(f"kernel {k} is larger than the padded input {n + 2 * p}")
        return (n + 2 * p - k) // s + 1

    def _concat(self, dom: Space, cod: Space) -> Space:
        if not isinstance(dom, Tup) or len(dom.items) != 2:
            return cod
        left, right = dom.items
        if not (isinstance(left, Arr) and isinstance(right, Arr)):
            return cod
        joined = concatenate([left.dims, right.dims], self.axis)
        return cod if joined is None else Arr(joined)

    def encode(self) -> str:
        """The rule as text, as the type keeps it."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> "Rule | None":
        """The rule that `encode` wrote (None: not one)."""
        try:
            data = json.loads(text)
            return cls(
                kind=str(data["kind"]),
                **{
                    name: tuple(int(v) for v in data[name])
                    for name in ("kernel", "stride", "padding", "extra", "target")
                },
                scale=int(data["scale"]),
                axis=int(data["axis"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def _int(d: Dim) -> bool:
    return isinstance(d, int) and not isinstance(d, bool)


# -- reading a rule off a constructor call ---------------------------------------------


def given(ctx: FunctionContext) -> dict[str, list[Expression]]:
    """The argument expressions of a call by the callee's parameter names.

    **Arguments:** `ctx`, mypy's context of the call.

    **Returns:** the expressions given for each named parameter.
    """
    out: dict[str, list[Expression]] = {}
    for name, exprs, kinds in zip(
        ctx.callee_arg_names, ctx.args, ctx.arg_kinds, strict=False
    ):
        if name is not None and all(k != ArgKind.ARG_STAR2 for k in kinds):
            out[name] = exprs
    return out


def _per_axis(
    exprs: list[Expression] | None, rank: int, default: object
) -> tuple[int, ...] | None:
    """An int or a tuple of `rank` ints given for each axis (None: not known)."""
    if not exprs:
        return tuple([default] * rank) if isinstance(default, int) else None
    if len(exprs) != 1:
        return None
    shape = fold_shape(exprs[0])
    if shape is None or any(v is None for v in shape):
        return None
    values = [v for v in shape if v is not None]
    if len(values) == 1:
        values = values * rank
    return tuple(values) if len(values) == rank else None


def rule_of_call(env: Env, info_name: str, ctx: FunctionContext) -> Rule | None:
    """The rule of the layer that the constructor call `ctx` builds (None: unknown)."""
    names = env.names
    args = given(ctx)
    for public, rank in WINDOW_CONVOLUTIONS.items():
        if info_name == names[public]:
            kernel = _per_axis(args.get("kernel_size"), rank, None)
            stride = _per_axis(args.get("stride"), rank, 1)
            padding = _per_axis(args.get("padding"), rank, 0)
            return _window("window", kernel, stride, padding, (0,) * rank)
    for public, rank in TRANSPOSED_CONVOLUTIONS.items():
        if info_name == names[public]:
            kernel = _per_axis(args.get("kernel_size"), rank, None)
            stride = _per_axis(args.get("stride"), rank, 1)
            padding = _per_axis(args.get("padding"), rank, 0)
            extra = _per_axis(args.get("output_padding"), rank, 0)
            return _window("transposed", kernel, stride, padding, extra)
    for public, rank in POOLS.items():
        if info_name == names[public]:
            kernel = _per_axis(args.get("kernel_size"), rank, None)
            exprs = args.get("stride")
            stride = kernel if not exprs else _per_axis(exprs, rank, None)
            padding = _per_axis(args.get("padding"), rank, 0)
            return _window("window", kernel, stride, padding, (0,) * rank)
    if info_name == names[UPSAMPLE]:
        scale = args.get("scale")
        value = fold(scale[0]) if scale and len(scale) == 1 else None
        return None if value is None else Rule("upsample", scale=value)
    if info_name == names[RESHAPE]:
        exprs = args.get("shape", [])
        target = [fold(e) for e in exprs]
        if not target or any(v is None for v in target):
            return None
        return Rule("reshape", target=tuple(v for v in target if v is not None))
    if info_name == names[CONCAT]:
        exprs = args.get("axis")
        axis = fold(exprs[0]) if exprs and len(exprs) == 1 else 0
        return None if axis is None else Rule("concat", axis=axis)
    return None


def _window(
    kind: str,
    kernel: tuple[int, ...] | None,
    stride: tuple[int, ...] | None,
    padding: tuple[int, ...] | None,
    extra: tuple[int, ...] | None,
) -> Rule | None:
    if kernel is None or stride is None or padding is None or extra is None:
        return None
    return Rule(kind, kernel=kernel, stride=stride, padding=padding, extra=extra)


def has_rule(env: Env, fullname: str) -> bool:
    """Whether the class `fullname` is a layer with a rule read at construction."""
    names = env.names
    publics = [
        *WINDOW_CONVOLUTIONS,
        *TRANSPOSED_CONVOLUTIONS,
        *POOLS,
        UPSAMPLE,
        RESHAPE,
        CONCAT,
    ]
    return any(fullname == names[p] for p in publics)


# -- the attributes on types --------------------------------------------------------


def attrs(typ: Type) -> dict[str, Type]:
    """The plugin's per-instance attributes of a morphism type."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.extra_attrs is not None:
        return {k: v for k, v in t.extra_attrs.attrs.items() if k.startswith("cdl:")}
    return {}


def with_attrs(inst: Instance, new: dict[str, Type]) -> Instance:
    """`inst` carrying `new` among its per-instance attributes."""
    if not new:
        return inst
    old = inst.extra_attrs
    out = inst.copy_modified()
    out.extra_attrs = ExtraAttrs(
        {**(old.attrs if old else {}), **new},
        set(old.immutable) if old else set(),
        old.mod_name if old else None,
    )
    return out


def text_type(env: Env, text: str) -> Type | None:
    """A ``Literal`` str type holding `text`."""
    str_info = env.info("builtins.str")
    if str_info is None:
        return None
    return LiteralType(text, Instance(str_info, []))


def rule(typ: Type) -> Rule | None:
    """The rule a morphism type carries."""
    t = get_proper_type(attrs(typ).get(RULE))
    if isinstance(t, LiteralType) and isinstance(t.value, str):
        return Rule.decode(t.value)
    return None


def rule_attr(env: Env, r: Rule) -> dict[str, Type]:
    """The attributes that keep `r` on a type."""
    t = text_type(env, r.encode())
    return {} if t is None else {RULE: t}


def parts(typ: Type, kind: str) -> list[ProperType]:
    """The morphism types that the attribute `kind` (`CHAIN`, `PAIR`, ...) keeps."""
    t = get_proper_type(attrs(typ).get(kind))
    if isinstance(t, TupleType):
        return [get_proper_type(i) for i in t.items]
    return []


def parts_attr(env: Env, kind: str, types: Sequence[Type]) -> dict[str, Type]:
    """The attributes that keep the morphism types `types` as `kind`."""
    tup = env.info("builtins.tuple")
    if tup is None:
        return {}
    obj = env.info("builtins.object")
    fallback = Instance(tup, [Instance(obj, [])] if obj is not None else [])
    return {kind: TupleType(list(types), fallback)}


def dependent(env: Env, typ: Type) -> bool:
    """Whether the output of the morphism depends on more than its declared spaces."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == env.names[FLATTEN]:
        return True
    if is_tree_fold(t):
        return True
    return any(k in attrs(typ) for k in (RULE, *_PARTS))


def rule_or_flatten(env: Env, typ: Type) -> Rule | None:
    """The rule of a morphism type; `Flatten`'s needs none at construction."""
    t = get_proper_type(typ)
    if isinstance(t, Instance) and t.type.fullname == env.names[FLATTEN]:
        return FLATTEN_RULE
    return rule(t)


FLATTEN_RULE: Final = Rule("flatten")


# -- sequences and wrappers -----------------------------------------------------------


def along(space: Space, length: Dim) -> Space:
    """`space` with a leading dimension `length` on every array inside it."""
    if isinstance(space, Arr):
        return Arr((length, *space.dims))
    if isinstance(space, Tup):
        return Tup(tuple(along(s, length) for s in space.items))
    return space


def strip(space: Space) -> tuple[Space, Dim | None]:
    """`space` without its leading dimension, and that dimension (None: none)."""
    if isinstance(space, Arr) and space.dims and not isinstance(space.dims[0], Star):
        return Arr(space.dims[1:]), space.dims[0]
    if isinstance(space, Tup) and space.items:
        found = [strip(s) for s in space.items]
        if any(d is None and not isinstance(s, Opaque) for (s, d) in found):
            return space, None
        return Tup(tuple(s for s, _ in found)), found[0][1]
    return space, None


def wrapper_kind(env: Env, info: TypeInfo) -> str | None:
    """`EACH`, `BODY` or `ON_NODES` when `info` wraps one morphism, else None."""
    kinds = {EACH_CLASS: EACH, BLOCK: BODY, ON_NODES_CLASS: ON_NODES}
    for public, kind in kinds.items():
        if info.fullname == env.names[public]:
            return kind
    return None


def wrapped(env: Env, info: TypeInfo, ctx: FunctionContext) -> ProperType | None:
    """The type of the morphism that ``Each(f)``/``Block(name, f)``/... wraps."""
    if wrapper_kind(env, info) is None:
        return None
    args = given(ctx)
    for name in ("f", "body"):
        exprs = args.get(name)
        if exprs and len(exprs) == 1:
            index = ctx.callee_arg_names.index(name)
            return get_proper_type(ctx.arg_types[index][0])
    return None


def constructed(env: Env, ctx: FunctionContext, info: TypeInfo, out: Type) -> Type:
    """`out` carrying the rule or the named sizes that the call fixes."""
    inst = get_proper_type(out)
    if not isinstance(inst, Instance):
        return out
    r = rule_of_call(env, info.fullname, ctx)
    if r is not None:
        return with_attrs(inst, rule_attr(env, r))
    found = _named_sizes(env, ctx, info)
    if found:
        t = text_type(env, json.dumps(found, separators=(",", ":")))
        return inst if t is None else with_attrs(inst, {SIZES: t})
    return inst


def sizes(typ: Type) -> dict[str, int]:
    """The named sizes a morphism type carries (``{"in_dim": 2}``)."""
    t = get_proper_type(attrs(typ).get(SIZES))
    if not (isinstance(t, LiteralType) and isinstance(t.value, str)):
        return {}
    try:
        data = json.loads(t.value)
    except ValueError:
        return {}
    return {str(k): v for k, v in data.items() if type(v) is int}


def _space_names(env: Env, info: TypeInfo) -> list[str]:
    """The named dimensions of the spaces that a morphism class declares."""
    para = env.info(PARA)
    if para is None or not info.has_base(para.fullname):
        return []
    own = fill_typevars(info)
    if not isinstance(own, Instance):
        return []
    base = map_instance_to_supertype(own, para)
    found: list[str] = []
    for arg in base.args:
        _collect(space_of(arg, lambda n: n), found)
    return found


def _collect(space: Space, out: list[str]) -> None:
    if isinstance(space, Arr):
        out.extend(
            d.name for d in space.dims if isinstance(d, DimVar) and d.name not in out
        )
    elif isinstance(space, Tup):
        for s in space.items:
            _collect(s, out)


def _named_sizes(env: Env, ctx: FunctionContext, info: TypeInfo) -> dict[str, int]:
    """Sizes of a cdl layer's named dimensions given as constructor arguments.

    Only cdl's own layers: their ``__init__`` parameters named as a dimension of
    their spaces are that dimension (``GraphConv(in_dim, out_dim)``).
    """
    if dim_params(info) or not info.fullname.startswith("cdl."):
        return {}
    args = given(ctx)
    out: dict[str, int] = {}
    for name in _space_names(env, info):
        exprs = args.get(name)
        if exprs and len(exprs) == 1:
            index = ctx.callee_arg_names.index(name)
            value = fold(exprs[0])
            if value is None:
                value = literal(ctx.arg_types[index][0])
            if value is not None:
                out[name] = value
    return out


def named_parameters(
    env: Env, ctx: FunctionContext, info: TypeInfo
) -> list[Type] | None:
    """Type arguments of a generic cdl layer whose type variables name its sizes.

    ``SelfAttention(16, 4)`` is ``SelfAttention[16, 4]``: `_Dim` and `_Heads` stand
    for the ``__init__`` parameters `dim` and `heads` (case and underscores aside).
    """
    shapes = env.shapes()
    tvars = info.defn.type_vars
    if shapes is None or not tvars or not info.fullname.startswith("cdl."):
        return None
    args = given(ctx)
    keys = {_key(n): n for n in ctx.callee_arg_names if n is not None}
    out: list[Type] = []
    for tv in tvars:
        name = keys.get(_key(tv.name))
        if name is None:
            return None
        exprs = args.get(name)
        value = fold(exprs[0]) if exprs and len(exprs) == 1 else None
        if value is None and exprs and len(exprs) == 1:
            value = literal(ctx.arg_types[ctx.callee_arg_names.index(name)][0])
        out.append(shapes.dim_type(value))
    return out


def _key(name: str) -> str:
    return name.replace("_", "").lower()


# -- forests ---------------------------------------------------------------------------


def forest(env: Env, ctx: FunctionContext) -> Type:
    """``tree_table(functor, terms, forest=True)``: a table with one root per term."""
    ret = get_proper_type(ctx.default_return_type)
    args = given(ctx)
    flag = args.get("forest", [])
    if not isinstance(ret, Instance) or len(flag) > 1:
        return ctx.default_return_type
    if isinstance(flag, list) and not flag:
        t = text_type(env, "[]")  # one tree: one root
        return ret if t is None else with_attrs(ret, {ROOTS: t})
    if not (isinstance(flag[0], NameExpr) and flag[0].fullname == "builtins.True"):
        return ret
    terms = args.get("terms")
    count = None
    if terms and len(terms) == 1 and isinstance(terms[0], ListExpr | TupleExpr):
        count = len(terms[0].items)
    t = text_type(env, json.dumps([count]))
    return ret if t is None else with_attrs(ret, {ROOTS: t})


def roots(given: Space) -> list[Dim] | None:
    """The shape of the roots of a table tagged by `forest` (None: not tagged)."""
    if not isinstance(given, Opaque):
        return None
    t = (
        get_proper_type(attrs(given.origin).get(ROOTS))
        if isinstance(given.origin, Instance)
        else None
    )
    if not (isinstance(t, LiteralType) and isinstance(t.value, str)):
        return None
    data = json.loads(t.value)
    return [d if type(d) is int else None for d in data]


def is_tree_fold(typ: Type) -> bool:
    """Whether `typ` is a fold of node tables (one carrier per root)."""
    t = get_proper_type(typ)
    return isinstance(t, Instance) and any(t.type.has_base(n) for n in TREE_FOLDS)


def per_root(space: Space, roots: Sequence[Dim] | None) -> Space:
    """A carrier with the axes of the roots in front (`roots` None: any axes)."""
    if isinstance(space, Arr):
        lead: tuple[Dim, ...] = (Star(None),) if roots is None else tuple(roots)
        return Arr((*lead, *space.dims))
    if isinstance(space, Tup):
        return Tup(tuple(per_root(s, roots) for s in space.items))
    return space
