"""Equinox's own layers: sizes fixed where they are built, checked where they are used.

``eqx.nn.Linear(3, 4, key=k)`` is a ``Linear`` to mypy, whose ``__call__`` takes and
returns a bare ``Array``. The plugin reads the constant sizes given to the
constructor (``Linear``'s features, ``Embedding``'s table, ``Conv1d``/``Conv2d``/
``Conv3d``'s channels, kernel, stride, padding and dilation, ``LayerNorm``'s and
``RMSNorm``'s shape, ``GroupNorm``'s groups and channels)
and carries them on the instance's type, as it carries a cdl layer's (`._layers`).
From them, a call checks its input and has the shape Equinox documents:

- ``Linear(i, o)`` on ``[i]`` is ``[o]`` (``"scalar"``: ``[]``); its ``weight`` is
  ``[o, i]`` (``self.weight @ x``: an input whose contracted axis is another size
  fails);
- ``Embedding(n, d)`` on a scalar index is ``[d]``, its ``weight`` ``[n, d]``;
- ``Conv2d(c, o, k, ...)`` on ``[c, h, w]`` is ``[o, h', w']``, each spatial size
  ``(h + pads - dilation * (k - 1) - 1) // stride + 1`` (``"SAME"``: ``h`` divided by
  the stride, rounded up); its ``weight`` is ``[o, c // groups, k, k]``;
- ``MaxPool2d(k, stride, padding)`` (and the other pools) on ``[c, h, w]`` is
  ``[c, h', w']``, as a convolution of `c` channels (``use_ceil=True``: unknown
  spatial sizes); ``AdaptiveAvgPool2d(t)`` (and the others) is ``[c, t, t]``;
- ``LayerNorm(shape)`` and ``RMSNorm(shape)`` take exactly ``shape`` and return it
  (a ``shape`` of unknown sizes still fixes the rank: one axis for an ``int``);
- ``GroupNorm(groups, channels)`` on ``[channels, ...]`` keeps its shape.

A size that is not a constant is unknown and is never compared. The sizes travel
with the type: a layer kept in a variable, returned, or kept in a field built once
in ``__init__`` (`._fields`), and ``jax.vmap(layer)`` (`._jax_ops`). A layer whose
arrays are replaced by others of another shape (``eqx.tree_at``) keeps its type,
and so the sizes it was built with.
"""

import ast
import dataclasses
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import (
    ARG_NAMED,
    ARG_OPT,
    ARG_POS,
    CallExpr,
    Expression,
    ListExpr,
    RefExpr,
    StrExpr,
    TupleExpr,
    TypeInfo,
    Var,
)
from mypy.plugin import AttributeContext, FunctionContext, MethodContext
from mypy.subtypes import find_member
from mypy.types import (
    CallableType,
    Instance,
    LiteralType,
    Overloaded,
    TupleType,
    Type,
    get_proper_type,
)

from . import _messages
from ._layers import attrs, text_type, with_attrs
from ._shapes import Arr, Dim, Star, fixed_size, render, shifted
from ._types import (
    ARRAY_CLASS,
    Env,
    array_dims,
    fold,
    fold_bool,
    given_arguments,
    operand_dims,
    report,
    star,
)

_NN: Final = "equinox.nn."
LINEAR: Final = _NN + "_linear.Linear"
EMBEDDING: Final = _NN + "_embedding.Embedding"
LAYER_NORM: Final = _NN + "_normalisation.LayerNorm"
RMS_NORM: Final = _NN + "_normalisation.RMSNorm"
GROUP_NORM: Final = _NN + "_normalisation.GroupNorm"
MLP: Final = _NN + "_mlp.MLP"
GRU_CELL: Final = _NN + "_rnn.GRUCell"
LSTM_CELL: Final = _NN + "_rnn.LSTMCell"
SEQUENTIAL: Final = _NN + "_sequential.Sequential"
BATCH_NORM: Final = _NN + "_batch_norm.BatchNorm"
# ``eqx.nn.inference_mode(model)``: the model, its layers switched to inference.
INFERENCE_MODE: Final = _NN + "_inference.inference_mode"
# Layers that keep the shape of their input (``Lambda`` only of the functions below).
_KEEP: Final = {
    _NN + "_sequential.Lambda",
    _NN + "_dropout.Dropout",
    _NN + "_linear.Identity",
}
# Functions that keep the shape of their argument, given to ``eqx.nn.Lambda``.
_ELEMENTWISE: Final = frozenset(
    {
        *("relu", "relu6", "gelu", "silu", "swish", "sigmoid", "softplus", "elu"),
        *("selu", "celu", "leaky_relu", "log_sigmoid", "hard_tanh", "mish"),
        *("softmax", "log_softmax", "tanh", "exp", "sin", "cos", "abs", "square"),
    }
)
_ELEMENTWISE_MODULES: Final = frozenset(
    {"jax.nn", "jax.numpy", "jax._src.nn.functions", "jax._src.numpy.ufuncs"}
)
_CONV: Final = _NN + "_conv.Conv"
_CONVS: Final = {_CONV + "1d": 1, _CONV + "2d": 2, _CONV + "3d": 3}
_TRANSPOSED: Final = {_CONV + f"Transpose{n}d": n for n in (1, 2, 3)}
_POOLS: Final = {
    f"{_NN}_pool.{kind}Pool{n}d": n for kind in ("Max", "Avg") for n in (1, 2, 3)
}
_ADAPTIVE: Final = {
    f"{_NN}_pool.Adaptive{kind}Pool{n}d": n
    for kind in ("Max", "Avg")
    for n in (1, 2, 3)
}
CONSTRUCTORS: Final = frozenset(
    {LINEAR, EMBEDDING, LAYER_NORM, RMS_NORM, GROUP_NORM, MLP, GRU_CELL, LSTM_CELL}
    | {SEQUENTIAL, BATCH_NORM, *_CONVS, *_TRANSPOSED, *_POOLS, *_ADAPTIVE, *_KEEP}
)
# mypy names a method by the class of the object it is called on.
CALLS: Final = frozenset(f"{cls}.__call__" for cls in CONSTRUCTORS)
WEIGHTS: Final = frozenset(f"{cls}.weight" for cls in (LINEAR, EMBEDDING, _CONV))
_KEY: Final = "cdl:eqx"
# The parameters of each constructor, in order.
_FORMALS: Final = {
    LINEAR: ("in_features", "out_features"),
    EMBEDDING: ("num_embeddings", "embedding_size"),
    LAYER_NORM: ("shape",),
    RMS_NORM: ("shape",),
    GROUP_NORM: ("groups", "channels", "eps", "channelwise_affine"),
    MLP: ("in_size", "out_size"),
    GRU_CELL: ("input_size", "hidden_size"),
    LSTM_CELL: ("input_size", "hidden_size"),
    BATCH_NORM: ("input_size",),
    **{
        conv: (
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "padding",
            "dilation",
            "groups",
        )
        for conv in _CONVS
    },
    **{
        conv: (
            "in_channels",
            "out_channels",
            "kernel_size",
            "stride",
            "output_padding",
            "padding",
            "dilation",
            "groups",
        )
        for conv in _TRANSPOSED
    },
    **{pool: ("kernel_size", "stride", "padding", "use_ceil") for pool in _POOLS},
    **{pool: ("target_shape",) for pool in _ADAPTIVE},
}
_Size = int | str | None  # a constant int, "scalar", or unknown


@dataclasses.dataclass(frozen=True)
class Layer:
    """The sizes an Equinox layer was built with (None: not a constant)."""

    kind: str  # "linear", "embedding", "norm", "group_norm", "conv", ...
    sizes: tuple[_Size, ...]  # features, table, shape, or the channels
    kernel: tuple[int | None, ...] = ()
    stride: tuple[int | None, ...] = ()
    padding: tuple[tuple[int, int] | None, ...] | str | None = None
    dilation: tuple[int | None, ...] = ()
    groups: int | None = 1
    ceil: bool | None = False
    name: str = ""  # the class's
    parts: tuple[tuple[object, ...], ...] = ()  # a Sequential's layers, as tuples
    output_padding: tuple[int | None, ...] = ()  # a transposed convolution's
    transposed: bool = False
    rank: int | None = None  # a norm's: the length of its shape, where known

    def encode(self) -> str:
        return repr(dataclasses.astuple(self))

    @classmethod
    def decode(cls, text: str) -> "Layer | None":
        try:
            return cls(*ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError):
            return None

    def layers(self) -> list["Layer"]:
        """A ``Sequential``'s layers."""
        return [Layer(*part) for part in self.parts]  # type: ignore[arg-type]

    def label(self) -> str:
        """How messages write the layer: ``eqx.nn.Linear(3, 4)``."""
        if self.kind == "sequential":
            return "eqx.nn.Sequential"
        args = self.kernel if self.kind in ("pool", "adaptive") else self.sizes
        shown = ", ".join("?" if s is None else str(s) for s in args)
        return f"eqx.nn.{self.name}({shown})"


# -- construction ---------------------------------------------------------------------


def construct(env: Env, ctx: FunctionContext, fullname: str, built: Type) -> Type:
    """`built`, the type of a new layer, carrying the sizes it is built with.

    A ``Sequential`` carries the sizes of its layers; one whose output is not
    the next one's input is reported.
    """
    if fullname == SEQUENTIAL:
        layer = _sequential(ctx)
        if layer is not None:
            _check_chain(ctx, layer)
        return _carrying(env, built, layer, fullname)
    layer = _read(ctx, fullname)
    if layer is not None and layer.kind == "norm" and layer.rank is None:
        layer = dataclasses.replace(layer, rank=_rank_of_shape(ctx))
    return _carrying(env, built, layer, fullname)


def _rank_of_shape(ctx: FunctionContext) -> int | None:
    """The length of a norm's shape of unknown sizes, from its argument's type.

    ``LayerNorm(d_model)`` of an ``int`` parameter takes a vector of unknown
    size; a ``tuple[int, int]`` a matrix.
    """
    for formal, types in zip(ctx.callee_arg_names, ctx.arg_types, strict=False):
        if formal != "shape" or len(types) != 1:
            continue
        t = get_proper_type(types[0])
        if isinstance(t, LiteralType):
            t = t.fallback
        if isinstance(t, Instance) and t.type.fullname == "builtins.int":
            return 1
        if isinstance(t, TupleType):
            return len(t.items)
    return None


def _sequential(ctx: FunctionContext) -> Layer | None:
    """A ``Sequential`` of the layers of a list or tuple written in the call."""
    found = given_arguments(ctx).get("layers")
    api = ctx.api
    if not isinstance(found, ListExpr | TupleExpr) or not isinstance(api, TypeChecker):
        return None
    parts: list[Layer] = []
    for item in found.items:
        part = layer_of(api.lookup_type(item)) if api.has_type(item) else None
        if part is None:
            part = Layer("unknown", ())
        parts.append(dataclasses.replace(part, parts=()) if part.parts else part)
        if part.kind == "sequential":
            parts[-1:] = part.layers()
    return Layer("sequential", (), parts=tuple(dataclasses.astuple(p) for p in parts))


def _check_chain(ctx: FunctionContext, layer: Layer) -> None:
    """Each layer of a ``Sequential`` against the output of the ones before it.

    The shape flows from the first layer's input; after a layer of unknown output
    it starts again from the next layer's input.
    """
    shape: tuple[Dim, ...] | None = None
    source = ""
    for part in layer.layers():
        if shape is None and part.kind not in ("linear", "mlp", "conv", "norm"):
            continue
        try:
            out = _output(part, _input(part) if shape is None else shape)
        except _Wrong as wrong:
            assert shape is not None
            shown = _messages.composition(
                source, render(Arr(shape)), part.label(), wrong.expected
            )
            report(ctx.api, shown, ctx.context)
            return
        shape = None if out is None else tuple(out)
        if part.kind != "same":
            source = part.label()


def _input(layer: Layer) -> tuple[Dim, ...]:
    """The input a layer takes, its unknown sizes None (a guess for the others)."""
    if layer.kind in ("linear", "mlp", "cell"):
        return tuple(_features(layer.sizes[0]))
    if layer.kind == "conv":
        c_in = layer.sizes[0]
        return (c_in if isinstance(c_in, int) else None, *([None] * len(layer.kernel)))
    if layer.kind == "norm":
        return tuple(s if isinstance(s, int) else None for s in layer.sizes)
    return ()


def _carrying(env: Env, typ: Type, layer: Layer | None, fullname: str) -> Type:
    """`typ` carrying the sizes of `layer`, a `fullname` (unchanged when None)."""
    t = get_proper_type(typ)
    if layer is not None:
        layer = dataclasses.replace(layer, name=fullname.rpartition(".")[2])
    text = text_type(env, layer.encode()) if layer is not None else None
    if not isinstance(t, Instance) or text is None:
        return typ
    return with_attrs(t, {_KEY: text})


def built_by(env: Env, field: Type, rvalue: Expression) -> Type:
    """`field`, the type of a layer's field, with the sizes of the call `rvalue`.

    Read from the call's text, so that a field has them also where mypy has not
    checked ``__init__`` yet (code at a module's top level).
    """
    if layer_of(field) is not None or not isinstance(rvalue, CallExpr):
        return field
    callee = rvalue.callee
    fullname = callee.fullname if isinstance(callee, RefExpr) else ""
    t = get_proper_type(field)
    if fullname not in _FORMALS or not isinstance(t, Instance):
        return field
    if t.type.fullname != fullname:
        return field
    formals = _FORMALS[fullname]
    given: dict[str, Expression] = {}
    for position, (arg, kind, name) in enumerate(
        zip(rvalue.args, rvalue.arg_kinds, rvalue.arg_names, strict=True)
    ):
        if kind == ARG_NAMED and name is not None:
            given[name] = arg
        elif kind == ARG_POS and position < len(formals):
            given[formals[position]] = arg
        elif kind != ARG_POS:
            return field  # *args or **kwargs: not read
    return _carrying(env, field, _layer(fullname, given), fullname)


def _read(ctx: FunctionContext, fullname: str) -> Layer | None:
    return _layer(fullname, given_arguments(ctx))


def _layer(fullname: str, given: dict[str, Expression]) -> Layer | None:
    """The layer `fullname` built from the arguments `given` for its parameters."""
    if fullname in (LINEAR, MLP):
        sizes = tuple(_size(given.get(n)) for n in _FORMALS[fullname])
        return Layer("linear" if fullname == LINEAR else "mlp", sizes)
    if fullname == BATCH_NORM:
        return Layer("batch_norm", (_size(given.get("input_size")),))
    if fullname in (GRU_CELL, LSTM_CELL):
        sizes = tuple(_size(given.get(n)) for n in _FORMALS[fullname])
        return Layer("cell", sizes)
    if fullname == GROUP_NORM:
        # Without its affine weights, a GroupNorm does not read its channels.
        affine = given.get("channelwise_affine")
        checked = affine is None or fold_bool(affine) is not False
        channels = _size(given.get("channels")) if checked else None
        return Layer("group_norm", (_size(given.get("groups")), channels))
    if fullname in _KEEP:
        function = given.get("fn")
        named = function.fullname if isinstance(function, RefExpr) else ""
        module, _, name = named.rpartition(".")
        keeps = not fullname.endswith("Lambda") or (
            module in _ELEMENTWISE_MODULES and name in _ELEMENTWISE
        )
        return Layer("same" if keeps else "unknown", ())
    if fullname == EMBEDDING:
        if "weight" in given:
            return None
        sizes = tuple(_size(given.get(n)) for n in _FORMALS[EMBEDDING])
        return Layer("embedding", sizes)
    if fullname in (LAYER_NORM, RMS_NORM):
        shape = given.get("shape")
        if isinstance(shape, TupleExpr | ListExpr):
            return Layer("norm", _ints(shape, None), rank=len(shape.items))
        size = None if shape is None else fold(shape)
        return Layer("norm", (size,), rank=None if size is None else 1)
    if fullname in _ADAPTIVE:
        target = _ints(given.get("target_shape"), _ADAPTIVE[fullname])
        return Layer("adaptive", (), kernel=target)
    if fullname in _POOLS:
        n = _POOLS[fullname]
        stride, ceil = given.get("stride"), given.get("use_ceil")
        return Layer(
            "pool",
            (),
            kernel=_ints(given.get("kernel_size"), n),
            stride=(1,) * n if stride is None else _ints(stride, n),
            padding=_padding(given.get("padding"), n),
            dilation=(1,) * n,
            ceil=False if ceil is None else fold_bool(ceil),
        )
    transposed = fullname in _TRANSPOSED
    n = _TRANSPOSED[fullname] if transposed else _CONVS[fullname]
    stride, dilation = given.get("stride"), given.get("dilation")
    groups, extra = given.get("groups"), given.get("output_padding")
    return Layer(
        "conv",
        (_size(given.get("in_channels")), _size(given.get("out_channels"))),
        output_padding=(0,) * n if extra is None else _ints(extra, n),
        transposed=transposed,
        kernel=_ints(given.get("kernel_size"), n),
        stride=(1,) * n if stride is None else _ints(stride, n),
        padding=_padding(given.get("padding"), n),
        dilation=(1,) * n if dilation is None else _ints(dilation, n),
        groups=1 if groups is None else fold(groups),
    )


def _size(expr: Expression | None) -> _Size:
    if isinstance(expr, StrExpr):
        return "scalar" if expr.value == "scalar" else None
    return None if expr is None else fold(expr)


def _ints(expr: Expression | None, n: int | None) -> tuple[int | None, ...]:
    """An int or a sequence of ints, one for each of `n` axes (None: any number)."""
    if isinstance(expr, TupleExpr | ListExpr):
        if n is not None and len(expr.items) != n:
            return (None,) * n
        return tuple(fold(item) for item in expr.items)
    value = None if expr is None else fold(expr)
    return (value,) * (1 if n is None else n)


def _padding(
    expr: Expression | None, n: int
) -> tuple[tuple[int, int] | None, ...] | str | None:
    if expr is None:
        return ((0, 0),) * n
    if isinstance(expr, StrExpr):
        return expr.value.upper()
    if isinstance(expr, TupleExpr | ListExpr) and all(
        isinstance(item, TupleExpr | ListExpr) for item in expr.items
    ):
        pairs = [_ints(item, 2) for item in expr.items]
        if len(pairs) != n:
            return None
        return tuple(
            (p[0], p[1]) if p[0] is not None and p[1] is not None else None
            for p in pairs
        )
    return tuple(None if p is None else (p, p) for p in _ints(expr, n))


def layer_of(typ: Type) -> Layer | None:
    """The sizes a layer's type carries (None: built elsewhere, or not a layer)."""
    found = get_proper_type(attrs(typ).get(_KEY))
    if isinstance(found, LiteralType) and isinstance(found.value, str):
        return Layer.decode(found.value)
    return None


# -- use ------------------------------------------------------------------------------


class _Wrong(Exception):
    def __init__(self, expected: str, *, batch: bool) -> None:
        super().__init__(expected)
        self.expected, self.batch = expected, batch


def call(env: Env, ctx: MethodContext) -> Type:
    """``layer(x)``: `x` checked against the layer's input, the result's shape.

    A ``Linear`` or ``MLP`` whose sizes its type does not carry (a parameter
    ``model: eqx.nn.MLP``, an item of a tuple of layers) still takes one vector
    (or a scalar), and returns an array of any shape (its output may be a scalar).
    """
    known = layer_of(ctx.type)
    layer = known or _unsized(ctx.type)
    if layer is None or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    if layer.kind == "cell":
        return _cell_call(env, ctx, layer)
    if layer.kind == "batch_norm":
        return _batch_norm_call(env, ctx, layer)
    default = get_proper_type(ctx.default_return_type)
    if not isinstance(default, Instance) or default.type.fullname != ARRAY_CLASS:
        return ctx.default_return_type
    given = operand_dims(ctx.arg_types[0][0])
    if given is None or star(given):
        return ctx.default_return_type
    try:
        out = _output(layer, given)
    except _Wrong as wrong:
        _report(ctx, layer, wrong, given)
        return env.array([Star(None)], ctx.default_return_type)
    if out is None or known is None:
        return ctx.default_return_type
    return env.array(out, default)


def _unsized(typ: Type) -> Layer | None:
    """A ``Linear`` or ``MLP`` of sizes unknown to the plugin (None: another)."""
    t = get_proper_type(typ)
    if not isinstance(t, Instance) or t.type.fullname not in (LINEAR, MLP):
        return None
    kind = "linear" if t.type.fullname == LINEAR else "mlp"
    return Layer(kind, (None, None), name=t.type.name)


def _report(
    ctx: MethodContext, layer: Layer, wrong: _Wrong, given: tuple[Dim, ...]
) -> None:
    hint = _messages.CALL_BATCH_HINT if wrong.batch else ""
    shown = _messages.call(layer.label(), wrong.expected, render(Arr(given)))
    report(ctx.api, shown + hint, ctx.context)


def _cell_call(env: Env, ctx: MethodContext, layer: Layer) -> Type:
    """``cell(x, hidden)`` of a ``GRUCell`` or an ``LSTMCell`` (`hidden` a pair).

    `x` is ``[input_size]``, each hidden array ``[hidden_size]``, and so is the
    result (a pair of them for an ``LSTMCell``).
    """
    given = operand_dims(ctx.arg_types[0][0])
    state = ctx.arg_types[1][0] if len(ctx.arg_types) > 1 and ctx.arg_types[1] else None
    pair = isinstance(get_proper_type(state), TupleType)
    size = layer.sizes[1]
    hidden: list[Dim] = [size if isinstance(size, int) else None]
    try:
        if given is not None and not star(given):
            _linear(layer, given)
    except _Wrong as wrong:
        _report(ctx, layer, wrong, given or ())
        return ctx.default_return_type
    for item in _hidden_items(state):
        dims = operand_dims(item)
        if dims is None or star(dims):
            continue
        try:
            _linear(Layer("cell", (size, size)), dims)
        except _Wrong as wrong:
            shown = _messages.cell_state(
                layer.label(), wrong.expected, render(Arr(dims))
            )
            report(ctx.api, shown, ctx.context)
            return ctx.default_return_type
    out = env.array(hidden, ctx.default_return_type)
    if not pair:
        return out
    fallback = ctx.api.named_generic_type("builtins.tuple", [out])
    return TupleType([out, out], fallback)


def _batch_norm_call(env: Env, ctx: MethodContext, layer: Layer) -> Type:
    """``norm(x, state)`` of a ``BatchNorm(c)``: `x` is ``[c, ...]``, kept."""
    given = operand_dims(ctx.arg_types[0][0])
    default = get_proper_type(ctx.default_return_type)
    if given is None or star(given) or not isinstance(default, TupleType):
        return ctx.default_return_type
    try:
        kept = env.array(_output(layer, given), default.items[0])
    except _Wrong as wrong:
        _report(ctx, layer, wrong, given)
        return ctx.default_return_type
    return default.copy_modified(items=[kept, *default.items[1:]])


def inference_mode(ctx: FunctionContext) -> Type:
    """``eqx.nn.inference_mode(model)``: of `model`'s type (the same layers)."""
    if ctx.arg_types and len(ctx.arg_types[0]) == 1:
        return ctx.arg_types[0][0]
    return ctx.default_return_type


def _hidden_items(state: Type | None) -> list[Type]:
    """The arrays of a cell's hidden state: one array, or the items of a pair."""
    t = get_proper_type(state)
    if isinstance(t, TupleType):
        return list(t.items)
    return [] if t is None else [t]


def _output(layer: Layer, x: tuple[Dim, ...]) -> list[Dim] | None:
    """The shape of `layer` applied to `x`; `_Wrong` when `x` does not fit."""
    if layer.kind in ("linear", "mlp", "cell"):
        return _linear(layer, x)
    if layer.kind == "same":
        return list(x)
    if layer.kind == "sequential":
        # Only the first layer's input is the call's: a later layer that does
        # not fit the one before it is reported where the Sequential is built.
        first, *rest = layer.layers() or [Layer("same", ())]
        out = _output(first, x)
        for part in rest:
            if out is None:
                return None
            try:
                out = _output(part, tuple(out))
            except _Wrong:
                return None
        return out
    if layer.kind == "unknown":
        return None
    if layer.kind == "batch_norm":
        c = layer.sizes[0]
        if not x or (isinstance(c, int) and fixed_size(x[0]) and x[0] != c):
            raise _Wrong(f"f32[{c if isinstance(c, int) else '?'},...]", batch=False)
        return list(x)
    if layer.kind == "embedding":
        if x:
            raise _Wrong("a scalar index", batch=True)
        size = layer.sizes[1]
        return [size if isinstance(size, int) else None]
    if layer.kind == "norm":
        shape: list[Dim] = [s if isinstance(s, int) else None for s in layer.sizes]
        rank = len(shape) if None not in shape else layer.rank
        if rank is None:
            return list(x)
        if len(x) != rank or any(
            fixed_size(a) and b is not None and a != b
            for a, b in zip(x, shape, strict=False)
        ):
            batch = len(x) == rank + 1
            raise _Wrong(render(Arr(tuple(shape[:rank]))), batch=batch)
        return [a if b is None else b for a, b in zip(x, shape, strict=True)]
    if layer.kind == "group_norm":
        return _group_norm(layer, x)
    if layer.kind == "pool":
        return _pool(layer, x)
    if layer.kind == "adaptive":
        n = len(layer.kernel)
        if len(x) != n + 1:
            raise _Wrong(render(Arr((None,) * (n + 1))), batch=len(x) == n + 2)
        return [x[0], *layer.kernel]
    return _conv(layer, x)


def _group_norm(layer: Layer, x: tuple[Dim, ...]) -> list[Dim]:
    """``GroupNorm(groups, channels)`` on ``[channels, ...]``: the same shape.

    The channels must be `channels` (the affine weights' length) and a multiple
    of `groups`.
    """
    groups, channels = layer.sizes
    c = channels if isinstance(channels, int) else None
    if not x or (c is not None and fixed_size(x[0]) and x[0] != c):
        raise _Wrong(f"f32[{'?' if c is None else c},...]", batch=False)
    first = x[0]
    if (
        isinstance(groups, int)
        and groups > 0
        and isinstance(first, int)
        and not isinstance(first, bool)
        and first % groups
    ):
        raise _Wrong(f"channels a multiple of {groups}", batch=False)
    return list(x)


def _pool(layer: Layer, x: tuple[Dim, ...]) -> list[Dim] | None:
    n = len(layer.kernel)
    if len(x) != n + 1:
        raise _Wrong(render(Arr((None,) * (n + 1))), batch=len(x) == n + 2)
    if layer.ceil is not False:
        return [x[0], *([None] * n)]
    return [x[0], *(_window(layer, axis, size) for axis, size in enumerate(x[1:]))]


def _features(size: _Size) -> list[Dim]:
    """The shape of a vector of `size` features (``"scalar"``: a scalar)."""
    return [] if size == "scalar" else [size if isinstance(size, int) else None]


def _linear(layer: Layer, x: tuple[Dim, ...]) -> list[Dim] | None:
    n_in, n_out = layer.sizes
    out = _features(n_out)
    if n_in == "scalar":
        if x:
            raise _Wrong("f32[]", batch=True)
        return out
    if not isinstance(n_in, int):
        if len(x) > 1:  # a vector, or a scalar for a "scalar" size, never more
            raise _Wrong("f32[?]", batch=True)
        return out if len(x) == 1 else None
    expected = render(Arr((n_in,)))
    if not x:
        raise _Wrong(expected, batch=False)
    contracted = x[0] if len(x) == 1 else x[-2]
    if fixed_size(contracted) and contracted != n_in:
        raise _Wrong(expected, batch=len(x) == 2 and x[1] == n_in)
    return out if len(x) == 1 else None


def _conv(layer: Layer, x: tuple[Dim, ...]) -> list[Dim] | None:
    n = len(layer.kernel)
    c_in, c_out = layer.sizes
    expected = render(Arr((c_in if isinstance(c_in, int) else None, *([None] * n))))
    if len(x) != n + 1:
        raise _Wrong(expected, batch=len(x) == n + 2)
    if isinstance(c_in, int) and fixed_size(x[0]) and x[0] != c_in:
        raise _Wrong(expected, batch=False)
    spatial = [_window(layer, axis, size) for axis, size in enumerate(x[1:])]
    return [c_out if isinstance(c_out, int) else None, *spatial]


def _window(layer: Layer, axis: int, size: Dim) -> Dim:
    """One spatial size of a convolution's output (None: unknown)."""
    k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
    if k is None or s is None or d is None or s <= 0:
        return None
    if layer.transposed:
        return _transposed_window(layer, axis, size)
    if layer.padding in ("SAME", "SAME_LOWER"):
        if s == 1:
            return size
        return -(-size // s) if isinstance(size, int) else None
    if layer.padding == "VALID":
        low, high = 0, 0
    else:
        pair = layer.padding[axis] if isinstance(layer.padding, tuple) else None
        if pair is None:
            return None
        low, high = pair
    if not isinstance(size, int) or isinstance(size, bool):
        # A named size at stride 1 is named arithmetic (``h-2``); a stride would
        # floor-divide it, which is compared as written only.
        shrink = low + high - d * (k - 1)
        return shifted(size, shrink) if s == 1 else None
    return (size + low + high - d * (k - 1) - 1) // s + 1


def _transposed_window(layer: Layer, axis: int, size: Dim) -> Dim:
    """One spatial size of a transposed convolution's output (None: unknown).

    ``(size - 1) * stride - padding + dilation * (kernel - 1) + output_padding + 1``,
    the padding being the forward convolution's (Equinox's convention).
    """
    k, s, d = layer.kernel[axis], layer.stride[axis], layer.dilation[axis]
    extra = layer.output_padding[axis] if axis < len(layer.output_padding) else None
    pair = layer.padding[axis] if isinstance(layer.padding, tuple) else None
    if None in (k, s, d, extra, pair) or not isinstance(size, int):
        return None
    assert k is not None and s is not None and d is not None and extra is not None
    assert pair is not None
    return (size - 1) * s - pair[0] - pair[1] + d * (k - 1) + extra + 1


def weight(env: Env, ctx: AttributeContext) -> Type:
    """``layer.weight``: ``[o, i]``, ``[n, d]``, ``[o, c // groups, *kernel]``."""
    layer = layer_of(ctx.type)
    if layer is None or ctx.is_lvalue or array_dims(ctx.default_attr_type) is None:
        return ctx.default_attr_type
    sizes = [
        s if isinstance(s, int) else 1 if s == "scalar" else None for s in layer.sizes
    ]
    if layer.kind == "linear":
        return env.array([sizes[1], sizes[0]], ctx.default_attr_type)
    if layer.kind == "embedding":
        return env.array(sizes, ctx.default_attr_type)
    if layer.kind == "conv":
        c_in, c_out = sizes
        groups = layer.groups
        per_group = c_in // groups if c_in is not None and groups else None
        return env.array([c_out, per_group, *layer.kernel], ctx.default_attr_type)
    return ctx.default_attr_type


def plain_call(module: Instance, arguments: int | None) -> CallableType | None:
    """The variant of an Equinox layer's overloaded ``__call__`` that ``jax.vmap`` maps.

    ``Sequential``, ``LayerNorm``, ``RMSNorm`` and ``GroupNorm`` are callable
    with a state or without (``x`` or ``x, state``). The variant of `arguments`
    positional arguments (one for each of ``in_axes``) is mapped; without a
    count, the one without a state.
    """
    if module.type.fullname not in (SEQUENTIAL, LAYER_NORM, RMS_NORM, GROUP_NORM):
        return None
    call = get_proper_type(find_member("__call__", module, module))
    if not isinstance(call, Overloaded) or not call.items:
        return None
    for item in call.items:
        positional = sum(kind in (ARG_POS, ARG_OPT) for kind in item.arg_kinds)
        if arguments is None or positional == arguments:
            return item
    return None


def mapped_call(env: Env, module: Instance, call: CallableType) -> CallableType:
    """The ``__call__`` of `module` that ``jax.vmap`` maps: shaped where known."""
    layer = layer_of(module)
    kinds = ("linear", "mlp", "embedding", "norm")
    if layer is None or layer.kind not in kinds or not call.arg_types:
        return call
    if call.arg_kinds[0] != ARG_POS:
        return call
    if layer.kind == "norm":
        shape = [s if isinstance(s, int) else None for s in layer.sizes]
        rank = len(shape) if None not in shape else layer.rank
        if rank is None:
            return call
        given = out = shape[:rank]
    else:
        n_in, n_out = layer.sizes
        given = _features(n_in) if layer.kind != "embedding" else []
        out = _features(n_out)
    first = env.array(given, call.arg_types[0])
    return call.copy_modified(
        arg_types=[first, *call.arg_types[1:]],
        ret_type=env.array(out, call.ret_type),
    )


def declared_layer(info: TypeInfo, name: str) -> bool:
    """Whether the field `name` of `info` is declared as one of these layers."""
    node = info.names.get(name)
    var = node.node if node is not None else None
    declared = get_proper_type(var.type) if isinstance(var, Var) else None
    return isinstance(declared, Instance) and declared.type.fullname in CONSTRUCTORS
