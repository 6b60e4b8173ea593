"""einops' ``rearrange``, ``reduce`` and ``repeat`` on jax arrays.

einops types them ``(tensor: Tensor, pattern: str, ...) -> Tensor``: to mypy with the
plugin, ``rearrange(x, "b n d -> b d n")`` would have the shape of `x`, and mypy
would infer `Tensor` from where the result goes (``Argument 1 to "rearrange" has
incompatible type "Array[b, h, w, c]"; expected "Array[b, h*w, c]"``). The plugin
erases that type variable (`._names.ERASED_TYPE_VARIABLES`) and computes the shape
from the pattern: a name takes its axis's size, a group ``(h w)`` the product, a new
name of ``repeat`` the size given for it (``repeat(x, "h w -> h w c", c=3)``),
``1`` and ``()`` an axis of one; ``...`` stands for the axes it covers.
"""

import re
from collections.abc import Sequence
from typing import Final

from mypy.nodes import ARG_NAMED, ARG_POS, StrExpr
from mypy.plugin import FunctionContext
from mypy.types import Type

from ._shapes import Arr, Dim, Mismatch, Star, ravel, render_dim
from ._types import Env, array_dims, fold

FUNCTIONS: Final = {
    f"einops.einops.{name}": name for name in ("rearrange", "reduce", "repeat")
}
_TOKEN: Final = re.compile(r"\(|\)|\.\.\.|[^\s()]+")

# One side of a pattern: each axis a list of names (a group), "..." for the
# ellipsis; a name that is a number is an axis of that size.
Side = list[list[str] | str]


def _side(text: str) -> Side:
    """The axes that one side of a pattern names."""
    axes: Side = []
    group: list[str] | None = None
    for token in _TOKEN.findall(text):
        if token == "(":
            if group is not None:
                raise Mismatch(f"nested parentheses in '{text.strip()}'")
            group = []
        elif token == ")":
            if group is None:
                raise Mismatch(f"unbalanced parentheses in '{text.strip()}'")
            axes.append(group)
            group = None
        elif token == "...":
            axes.append("...")
        elif group is not None:
            group.append(token)
        else:
            axes.append([token])
    if group is not None:
        raise Mismatch(f"unbalanced parentheses in '{text.strip()}'")
    return axes


def _size_of(name: str, sizes: dict[str, Dim]) -> Dim:
    if name.isdigit():
        return int(name)
    return sizes.get(name)


def _bind(
    axes: Side, dims: Sequence[Dim], lengths: dict[str, Dim]
) -> tuple[dict[str, Dim], tuple[Dim, ...]] | None:
    """The sizes of the names of the left side, and the axes ``...`` covers."""
    runs = [d for d in dims if isinstance(d, Star)]
    named = [a for a in axes if a != "..."]
    ellipsis = len(named) != len(axes)
    if runs and not ellipsis:
        return None
    if not runs and (len(dims) < len(named) if ellipsis else len(dims) != len(named)):
        given = " ".join(
            "..." if a == "..." else a[0] if len(a) == 1 else f"({' '.join(a)})"
            for a in axes
        )
        raise Mismatch(
            f"'{given}' names {len(named)} axes, but the array has rank {len(dims)}"
        )
    before = axes.index("...") if ellipsis else len(axes)
    after = len(axes) - before - 1 if ellipsis else 0
    if runs and (
        sum(1 for d in dims[:before] if isinstance(d, Star))
        or sum(1 for d in dims[len(dims) - after :] if isinstance(d, Star))
    ):
        return None
    covered = tuple(dims[before : len(dims) - after]) if ellipsis else ()
    pairs = [
        *zip(axes[:before], dims[:before], strict=True),
        *zip(axes[len(axes) - after :], dims[len(dims) - after :], strict=True),
    ]
    sizes: dict[str, Dim] = dict(lengths)
    for group, size in pairs:
        assert isinstance(group, list)
        if len(group) == 1:
            name = group[0]
            _agree(name, sizes.get(name) if not name.isdigit() else int(name), size)
            if not name.isdigit():
                sizes[name] = size
            continue
        known = [_size_of(n, sizes) for n in group]
        missing = [n for n, k in zip(group, known, strict=True) if k is None]
        product = ravel([k for k in known if k is not None])[0]
        if not missing:
            _agree(f"({' '.join(group)})", ravel(known)[0], size)
        elif len(missing) == 1 and isinstance(size, int) and isinstance(product, int):
            if product == 0 or size % product:
                raise Mismatch(
                    f"axis ({' '.join(group)}) of size {size} does not split into "
                    f"parts of {product}"
                )
            sizes[missing[0]] = size // product
    return sizes, covered


def _agree(name: str, expected: Dim, size: Dim) -> None:
    if (
        isinstance(expected, int)
        and isinstance(size, int)
        and not isinstance(expected, bool)
        and expected != size
    ):
        raise Mismatch(f"axis {name} is {render_dim(size)}, but {expected} was given")


def rearranged(
    kind: str, pattern: str, dims: Sequence[Dim], lengths: dict[str, Dim]
) -> tuple[Dim, ...] | None:
    """The shape of ``einops.<kind>(x, pattern, **lengths)`` for `x` of `dims`.

    None where it is unknown; `Mismatch` where the pattern does not fit `dims`.

    >>> rearranged("rearrange", "b (h w) c -> b h w c", (2, 12, 3), {"h": 4})
    (2, 4, 3, 3)
    >>> rearranged("reduce", "b n d -> b d", (2, 5, 3), {})
    (2, 3)
    >>> rearranged("repeat", "h w -> h w c", (2, 3), {"c": 4})
    (2, 3, 4)
    >>> rearranged("rearrange", "b n d -> b d n", (2, 3), {})
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: 'b n d' names 3 axes, but the array has rank 2
    """
    left, arrow, right = pattern.partition("->")
    if not arrow:
        return None
    bound = _bind(_side(left), dims, lengths)
    if bound is None:
        return None
    sizes, covered = bound
    out: list[Dim] = []
    for group in _side(right):
        if group == "...":
            out.extend(covered)
            continue
        known = [_size_of(n, sizes) for n in group]
        out.append(ravel(known)[0] if group else 1)
    return tuple(out)


def einops_call(env: Env, ctx: FunctionContext, kind: str) -> Type:
    """``einops.rearrange(x, "b n d -> b d n")``: `x`'s axes in the new order."""
    if not ctx.args or len(ctx.args[0]) != 1 or ctx.arg_kinds[0][0] != ARG_POS:
        return ctx.default_return_type
    dims = array_dims(ctx.arg_types[0][0])
    if dims is None:
        return ctx.default_return_type
    unknown = env.shape_type(Arr((Star(None),)))
    pattern = ctx.args[1][0] if len(ctx.args) > 1 and ctx.args[1] else None
    if not isinstance(pattern, StrExpr):
        return unknown
    lengths: dict[str, Dim] = {}
    for names, kinds, exprs in zip(ctx.arg_names, ctx.arg_kinds, ctx.args, strict=True):
        for name, arg_kind, expr in zip(names, kinds, exprs, strict=True):
            if arg_kind == ARG_NAMED and name is not None:
                value = fold(expr)
                lengths[name] = value if isinstance(value, int) else None
    try:
        out = rearranged(kind, pattern.value, dims, lengths)
    except Mismatch as why:
        return env.fail(ctx.api, ctx.context, kind, str(why))
    return unknown if out is None else env.array(out, unknown)
