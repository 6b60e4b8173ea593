"""einops' ``rearrange``, ``reduce`` and ``repeat`` under cdl's plugin.

einops types them ``(tensor: Tensor, pattern: str, ...) -> Tensor``, so the result
had the input's shape and mypy inferred ``Tensor`` from where the result went: a
correct ``rearrange(x, "b n d -> b d n")`` returned as ``"b d n"`` was an error, and
a transposed one returned as ``"b n d"`` passed. The plugin reads the pattern.

einops is not among cdl's dependencies: the case is checked beside a copy of
einops' signatures (as einops 0.8 declares them).
"""

import pathlib

from cdl.mypy_plugin._run import check

_EINOPS = """
from typing import Any, Callable, List, Tuple, TypeVar, Union

Tensor = TypeVar("Tensor")

def rearrange(
    tensor: Union[Tensor, List[Tensor]], pattern: str, **axes_lengths: Any
) -> Tensor: ...
def reduce(
    tensor: Union[Tensor, List[Tensor]],
    pattern: str,
    reduction: Union[str, Callable[[Tensor, Tuple[int, ...]], Tensor]],
    **axes_lengths: Any,
) -> Tensor: ...
def repeat(
    tensor: Union[Tensor, List[Tensor]], pattern: str, **axes_lengths: Any
) -> Tensor: ...
"""

_CASE = """
import einops
from einops import rearrange, reduce, repeat
from jaxtyping import Array, Float

def transpose(x: Float[Array, "b n d"]) -> Float[Array, "b d n"]:
    return einops.rearrange(x, "b n d -> b d n")

def flatten(x: Float[Array, "b h w c"]) -> Float[Array, "b h*w c"]:
    return rearrange(x, "b h w c -> b (h w) c")

def pool(x: Float[Array, "b n d"]) -> Float[Array, "b d"]:
    return reduce(x, "b n d -> b d", "mean")

def colour(x: Float[Array, "h w"]) -> Float[Array, "h w 3"]:
    return repeat(x, "h w -> h w c", c=3)

def heads(x: Float[Array, "b 12 d"]) -> Float[Array, "b 4 3 d"]:
    return rearrange(x, "b (h k) d -> b h k d", h=4)

def batched(x: Float[Array, "*batch n d"]) -> Float[Array, "*batch d n"]:
    return rearrange(x, "... n d -> ... d n")

def unknown(x: Float[Array, "b n d"], pattern: str) -> Float[Array, "n"]:
    return rearrange(x, pattern)

def transpose_bug(x: Float[Array, "b n d"]) -> Float[Array, "b n d"]:
    return einops.rearrange(x, "b n d -> b d n")

def flatten_bug(x: Float[Array, "b h w c"]) -> Float[Array, "b c h*w"]:
    return rearrange(x, "b h w c -> b (h w) c")

def pool_bug(x: Float[Array, "b n d"]) -> Float[Array, "b n"]:
    return reduce(x, "b n d -> b d", "mean")

def rank_bug(x: Float[Array, "b n"]) -> None:
    rearrange(x, "b n d -> b d n")

def heads_bug(x: Float[Array, "b 12 d"]) -> None:
    rearrange(x, "b (h k) d -> b h k d", h=5)
"""


def test_einops_patterns_give_the_shape(tmp_path: pathlib.Path) -> None:
    package = tmp_path / "einops"
    package.mkdir()
    (package / "__init__.pyi").write_text(
        "from .einops import rearrange as rearrange, reduce as reduce, "
        "repeat as repeat\n"
    )
    (package / "einops.pyi").write_text(_EINOPS)
    case = tmp_path / "einops_case.py"
    case.write_text(_CASE)
    found = check([case])["einops_case"]
    assert sorted(found) == [
        (28, "error", 'Incompatible return value type (got "Array[b, d, n]", '
         'expected "Array[b, n, d]")  [return-value]'),
        (31, "error", 'Incompatible return value type (got "Array[b, h*w, c]", '
         'expected "Array[b, c, h*w]")  [return-value]'),
        (34, "error", 'Incompatible return value type (got "Array[b, d]", '
         'expected "Array[b, n]")  [return-value]'),
        (37, "error", "rearrange: 'b n d' names 3 axes, but the array has rank 2"
         "  [shape]"),
        (40, "error", "rearrange: axis (h k) of size 12 does not split into parts "
         "of 5  [shape]"),
    ]  # fmt: skip
