"""The architecture builders of `cdl.architectures`, typed from their size arguments.

``gpt(vocab, dim, ...)`` is declared to return ``Para[Any, Any]``: its spaces depend
on the values of its arguments. With those known (literals, ``Final`` or module
constants) the plugin gives the call its spaces, ``int[n] → float[n, vocab]``, so a
wrong width in a composite built around it is a ``[shape]`` error; sizes known only
at run time stay unknown.

>>> from cdl.mypy_plugin._shapes import render
>>> [render(s) for s in spaces("vit", {"channels": 3, "classes": 10})]
['f32[3,height,width]', 'f32[10]']
"""

from collections.abc import Callable
from typing import Final

from mypy.plugin import FunctionContext
from mypy.types import Instance, Type, get_proper_type

from . import _layers
from ._shapes import Arr, Dim, Opaque, Space, Sym, Tup
from ._types import Env, fold, literal

_MODULE: Final = "cdl.architectures."
_Sizes = dict[str, int | None]


def _image(channels: Dim, height: str = "height", width: str = "width") -> Arr:
    return Arr((channels, Sym(height), Sym(width)))


def _stateful(space: Space) -> Tup:
    """`space` beside the `equinox.nn.State` of its batch norms."""
    return Tup((space, Opaque()))


def _basic_block(s: _Sizes) -> tuple[Space, Space]:
    same = s.get("stride", 1) == 1
    out = _image(s["c_out"]) if same else _image(s["c_out"], "out_height", "out_width")
    return _stateful(_image(s["c_in"])), _stateful(out)


def _resnet(s: _Sizes) -> tuple[Space, Space]:
    return _stateful(_image(s["channels"])), _stateful(Arr((s["classes"],)))


_RULES: Final[dict[str, Callable[[_Sizes], tuple[Space, Space]]]] = {
    "gpt": lambda s: (Arr((Sym("n"),)), Arr((Sym("n"), s["vocab"]))),
    "vit": lambda s: (_image(s["channels"]), Arr((s["classes"],))),
    "transformer_block": lambda s: (
        Arr((Sym("n"), s["dim"])),
        Arr((Sym("n"), s["dim"])),
    ),
    "basic_block": _basic_block,
    "resnet": _resnet,
    "resnet18": _resnet,
    "unet": lambda s: (_image(s["channels"]), _image(s["out_channels"])),
}
# The int parameters each builder's spaces are read from, with their defaults.
_PARAMETERS: Final[dict[str, _Sizes]] = {
    "gpt": {"vocab": None},
    "vit": {"channels": None, "classes": None},
    "transformer_block": {"dim": None},
    "basic_block": {"c_in": None, "c_out": None, "stride": 1},
    "resnet": {"channels": None, "classes": None},
    "resnet18": {"channels": None, "classes": None},
    "unet": {"channels": None, "out_channels": None},
}


def spaces(builder: str, sizes: _Sizes) -> tuple[Space, Space]:
    """Domain and codomain of what `builder` returns, given its size arguments.

    **Arguments:** `builder`, the builder's name (``"gpt"``); `sizes`, its int
    arguments by name (None: unknown).

    **Returns:** the two spaces; named dimensions are free (unified at use).
    """
    return _RULES[builder]({**_PARAMETERS[builder], **sizes})


def builder_name(fullname: str) -> str | None:
    """The builder a callee's full name is, None when it is none."""
    if not fullname.startswith(_MODULE):
        return None
    name = fullname.rpartition(".")[2]
    return name if name in _RULES else None


def build(env: Env, ctx: FunctionContext, builder: str) -> Type:
    """The call of a builder, its result typed with its spaces."""
    ret = get_proper_type(ctx.default_return_type)
    shapes = env.shapes()
    if not isinstance(ret, Instance) or len(ret.args) != 2 or shapes is None:
        return ctx.default_return_type
    args = _layers.given(ctx)
    sizes: _Sizes = {}
    for name in _PARAMETERS[builder]:
        exprs = args.get(name)
        if not exprs:
            continue
        value = fold(exprs[0]) if len(exprs) == 1 else None
        if value is None and len(exprs) == 1:
            index = ctx.callee_arg_names.index(name)
            value = literal(ctx.arg_types[index][0])
        sizes[name] = value
    dom, cod = spaces(builder, sizes)
    return ret.copy_modified(args=[shapes.type_of(dom), shapes.type_of(cod)])
