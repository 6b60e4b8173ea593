"""Convolutions: `Conv1d` and `Conv2d`, channels first, one example at a time."""

import math
from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _random
from .._errors import CompositionError, SpaceError
from .._para import Para
from .._space import Dim, Space, TensorSpace
from . import _messages
from ._arguments import affordable, natural_int, positive_int, positive_ints, prng_key

# Static channel counts, for the mypy plugin: ``Conv2d[1, 8]``.
_InChannels = TypeVar("_InChannels", covariant=True, default=Any)
_OutChannels = TypeVar("_OutChannels", covariant=True, default=Any)


def image_hint(channels: int, given: Space) -> str:
    """A hint for an image given as the layers do not take it.

    Its last axis, not its first, holds `channels` (channels last), or it holds
    integers (pixels of 0..255).

    >>> from cdl._space import space_of
    >>> import jax.numpy as jnp
    >>> image_hint(3, space_of(jnp.ones((32, 32, 3)))).split(":")[0]
    ' It looks channels-last'
    >>> image_hint(3, space_of(jnp.ones((3, 32, 32), jnp.uint8))).split(":")[0]
    ' The image holds integers'
    """
    if not isinstance(given, TensorSpace) or len(given.shape) < 2:
        return ""
    hint = ""
    if given.shape[-1] == channels and given.shape[0] != channels:
        hint += _messages.CHANNELS_LAST
    if _integers(given.dtype):
        hint += _messages.INTEGER_IMAGE
    return hint


def _integers(kinds: object) -> bool:
    """Whether the dtype names `kinds` (a frozenset, or a variable) are all ints."""
    if not isinstance(kinds, frozenset) or not kinds:
        return False
    try:
        return all(jnp.issubdtype(jnp.dtype(kind), jnp.integer) for kind in kinds)
    except TypeError:  # a name that is no dtype
        return False


def _init(
    key: PRNGKeyArray, out_channels: int, in_channels: int, kernel: tuple[int, ...]
) -> tuple[Array, Array]:
    w_key, b_key = jax.random.split(key)
    bound = 1 / math.sqrt(in_channels * math.prod(kernel))
    shape = (out_channels, in_channels, *kernel)
    weight = _random.uniform(w_key, shape, -bound, bound)
    bias = _random.uniform(b_key, (out_channels,), -bound, bound)
    return weight, bias


def _convolve(
    x: Array, weight: Array, bias: Array, stride: tuple[int, ...], padding: int
) -> Array:
    dtype = jnp.result_type(x, weight)  # as Linear's matmul promotes bf16 x f32
    y = jax.lax.conv_general_dilated(
        x[None].astype(dtype),
        weight.astype(dtype),
        window_strides=stride,
        padding=[(padding, padding)] * len(stride),
    )[0]
    return y + bias.reshape((-1,) + (1,) * len(stride))


def _too_small(
    sizes: tuple[Dim, ...], kernel: tuple[int, ...], pad: int
) -> tuple[int, int] | None:
    """The first (kernel, size) whose kernel is larger than the padded size."""
    for size, k in zip(sizes, kernel, strict=True):
        if isinstance(size, int) and size + 2 * pad < k:
            return k, size
    return None


def _fits(label: str, x: Array, kernel: tuple[int, ...], pad: int) -> None:
    """Raise `cdl.SpaceError` when a kernel is larger than `x`'s padded size."""
    over = _too_small(tuple(x.shape[1:]), kernel, pad)
    if over is not None:
        raise SpaceError(_messages.kernel_over_input(label, over[0], over[1], pad))


def _output_space(
    label: str,
    cod: Space,
    dom: Space,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pad: int,
) -> Space:
    """Fill in the spatial output sizes that the input sizes determine.

    A kernel larger than a padded input size raises `cdl.CompositionError`.
    """
    if not (isinstance(cod, TensorSpace) and isinstance(dom, TensorSpace)):
        return cod
    over = _too_small(dom.shape[1:], kernel, pad)
    if over is not None:
        raise CompositionError(
            _messages.kernel_over_input(label, over[0], over[1], pad)
        )
    dims: list[Dim] = [cod.shape[0]]
    for size, k, s, out in zip(
        dom.shape[1:], kernel, stride, cod.shape[1:], strict=True
    ):
        dims.append((size + 2 * pad - k) // s + 1 if isinstance(size, int) else out)
    return TensorSpace(cod.dtype, tuple(dims))


class Conv1d(
    Para[Float[Array, "in_channels length"], Float[Array, "out_channels out_length"]],
    Generic[_InChannels, _OutChannels],
):
    """One-dimensional convolution over ``float[in_channels, length]``.

    **Arguments:** `in_channels`, `out_channels`, `kernel_size`; keyword `stride`
    (1), `padding` (0, on both sides) and `key`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> conv = cdl.Conv1d(2, 4, 3, key=jax.random.key(0))
    >>> conv(jnp.ones((2, 10))).shape
    (4, 8)
    """

    weight: Float[Array, "out_channels in_channels kernel"]
    bias: Float[Array, "out_channels"]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    kernel_size: int = eqx.field(static=True)
    stride: int = eqx.field(static=True)
    padding: int = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        key: PRNGKeyArray,
    ) -> None:
        in_channels = positive_int("Conv1d", "in_channels", in_channels)
        out_channels = positive_int("Conv1d", "out_channels", out_channels)
        (kernel_size,) = positive_ints("Conv1d", "kernel_size", kernel_size, 1)
        (stride,) = positive_ints("Conv1d", "stride", stride, 1)
        padding = natural_int("Conv1d", "padding", padding)
        affordable("Conv1d", [(out_channels, in_channels, kernel_size)])
        key = prng_key("Conv1d", key)
        self.weight, self.bias = _init(key, out_channels, in_channels, (kernel_size,))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    @property
    def label(self) -> str:
        """``Conv1d(in→out, k)``."""
        return f"Conv1d({self.in_channels}→{self.out_channels}, {self.kernel_size})"

    def output_space(self, dom: Space) -> Space:
        """The output length follows from the input length."""
        return _output_space(
            self.label,
            super().output_space(dom),
            dom,
            (self.kernel_size,),
            (self.stride,),
            self.padding,
        )

    def input_hint(self, given: Space) -> str:
        """Points to channels first when `given` has them last."""
        return image_hint(self.in_channels, given)

    def __call__(
        self, x: Float[Array, "in_channels length"]
    ) -> Float[Array, "out_channels out_length"]:
        """Convolve; a kernel longer than the padded input is a `cdl.SpaceError`."""
        _fits(self.label, x, (self.kernel_size,), self.padding)
        return _convolve(x, self.weight, self.bias, (self.stride,), self.padding)


class Conv2d(
    Para[
        Float[Array, "in_channels height width"],
        Float[Array, "out_channels out_height out_width"],
    ],
    Generic[_InChannels, _OutChannels],
):
    """Two-dimensional convolution over ``float[in_channels, height, width]``.

    **Arguments:** `in_channels`, `out_channels`, `kernel_size` (an int or a pair);
    keyword `stride` (1), `padding` (0, on every side) and `key`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> conv = cdl.Conv2d(1, 8, 3, padding=1, key=jax.random.key(0))
    >>> conv(jnp.ones((1, 8, 8))).shape
    (8, 8, 8)
    >>> cdl.Conv2d(1, 8, 3, key=jax.random.key(0))(jnp.ones((1, 2, 2)))
    Traceback (most recent call last):
    ...
    cdl.SpaceError: Conv2d(1→8, 3×3): kernel 3 is larger than the padded input 2 \
(size 2, padding 0), so its output would be empty.
    """

    weight: Float[Array, "out_channels in_channels kh kw"]
    bias: Float[Array, "out_channels"]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    kernel_size: tuple[int, int] = eqx.field(static=True)
    stride: tuple[int, int] = eqx.field(static=True)
    padding: int = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int = 0,
        key: PRNGKeyArray,
    ) -> None:
        in_channels = positive_int("Conv2d", "in_channels", in_channels)
        out_channels = positive_int("Conv2d", "out_channels", out_channels)
        kh, kw = positive_ints("Conv2d", "kernel_size", kernel_size, 2)
        sh, sw = positive_ints("Conv2d", "stride", stride, 2)
        padding = natural_int("Conv2d", "padding", padding)
        affordable("Conv2d", [(out_channels, in_channels, kh, kw)])
        key = prng_key("Conv2d", key)
        self.weight, self.bias = _init(key, out_channels, in_channels, (kh, kw))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kh, kw)
        self.stride = (sh, sw)
        self.padding = padding

    def input_hint(self, given: Space) -> str:
        """Points to channels first when `given` has them last."""
        return image_hint(self.in_channels, given)

    @property
    def label(self) -> str:
        """``Conv2d(in→out, kh×kw)``."""
        kh, kw = self.kernel_size
        return f"Conv2d({self.in_channels}→{self.out_channels}, {kh}×{kw})"

    def output_space(self, dom: Space) -> Space:
        """The output height and width follow from the input's."""
        return _output_space(
            self.label,
            super().output_space(dom),
            dom,
            self.kernel_size,
            self.stride,
            self.padding,
        )

    def __call__(
        self, x: Float[Array, "in_channels height width"]
    ) -> Float[Array, "out_channels out_height out_width"]:
        """Convolve; a kernel larger than the padded input is a `cdl.SpaceError`."""
        _fits(self.label, x, self.kernel_size, self.padding)
        return _convolve(x, self.weight, self.bias, self.stride, self.padding)
