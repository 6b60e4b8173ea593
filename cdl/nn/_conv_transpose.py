"""Transposed convolutions: `ConvTranspose1d` and `ConvTranspose2d`, channels first.

They map a small feature map to a larger one (the up-sampling half of a U-Net);
the weights have Equinox's layout, ``(out_channels, in_channels, *kernel)``, and
the output size is ``(size - 1)·stride - 2·padding + kernel + output_padding``:

>>> import jax, jax.numpy as jnp, cdl
>>> up = cdl.ConvTranspose2d(8, 4, 2, stride=2, key=jax.random.key(0))
>>> up(jnp.ones((8, 5, 5))).shape
(4, 10, 10)
"""

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
from ._arguments import affordable, natural_ints, positive_int, positive_ints, prng_key
from ._conv import image_hint

# Static channel counts, for the mypy plugin: ``ConvTranspose2d[8, 4]``.
_InChannels = TypeVar("_InChannels", covariant=True, default=Any)
_OutChannels = TypeVar("_OutChannels", covariant=True, default=Any)


class _ConvTranspose(eqx.Module):
    weight: Float[Array, "out_channels in_channels *kernel"]
    bias: Float[Array, "out_channels"]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    kernel_size: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: tuple[int, ...] = eqx.field(static=True)
    output_padding: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self, layer: str, rank: int, in_channels: int, out_channels: int,
        kernel_size: object, stride: object, padding: object, output_padding: object,
        key: PRNGKeyArray,
    ) -> None:  # fmt: skip
        self.in_channels = positive_int(layer, "in_channels", in_channels)
        self.out_channels = positive_int(layer, "out_channels", out_channels)
        self.kernel_size = positive_ints(layer, "kernel_size", kernel_size, rank)
        self.stride = positive_ints(layer, "stride", stride, rank)
        self.padding = natural_ints(layer, "padding", padding, rank)
        self.output_padding = natural_ints(
            layer, "output_padding", output_padding, rank
        )
        if any(q >= s for q, s in zip(self.output_padding, self.stride, strict=True)):
            raise ValueError(
                _messages.output_padding_too_large(
                    layer, self.output_padding, self.stride
                )
            )
        shape = (out_channels, in_channels, *self.kernel_size)
        affordable(layer, [shape])
        w_key, b_key = jax.random.split(prng_key(layer, key))
        bound = 1 / math.sqrt(in_channels * math.prod(self.kernel_size))
        self.weight = _random.uniform(w_key, shape, -bound, bound)
        self.bias = _random.uniform(b_key, (out_channels,), -bound, bound)

    def describe(self, name: str) -> str:
        """``name(in→out, k)``."""
        kernel = "×".join(str(k) for k in self.kernel_size)
        return f"{name}({self.in_channels}→{self.out_channels}, {kernel})"

    def input_hint(self, given: Space) -> str:
        """Points to channels first when `given` has them last, as `Conv2d` does."""
        return image_hint(self.in_channels, given)

    def _empty(self, sizes: tuple[Dim, ...]) -> str | None:
        """Why the output of inputs of spatial `sizes` would be empty, if it would."""
        for size, k, s, p, q in zip(
            sizes, self.kernel_size, self.stride, self.padding, self.output_padding,
            strict=True,
        ):  # fmt: skip
            if isinstance(size, int) and (size - 1) * s - 2 * p + k + q <= 0:
                label = self.describe(type(self).__name__)
                return _messages.transposed_output_empty(label, size, s, p, k, q)
        return None

    def sizes(self, cod: Space, dom: Space) -> Space:
        """`cod` with the spatial sizes that the input sizes in `dom` determine.

        Sizes that leave no output raise `cdl.CompositionError`.
        """
        if not (isinstance(cod, TensorSpace) and isinstance(dom, TensorSpace)):
            return cod
        if len(dom.shape) == len(cod.shape):
            why = self._empty(dom.shape[1:])
            if why is not None:
                raise CompositionError(why)
        dims: list[Dim] = [cod.shape[0]]
        for size, k, s, p, q, out in zip(
            dom.shape[1:], self.kernel_size, self.stride, self.padding,
            self.output_padding, cod.shape[1:], strict=True,
        ):  # fmt: skip
            dims.append(
                (size - 1) * s - 2 * p + k + q if isinstance(size, int) else out
            )
        return TensorSpace(cod.dtype, tuple(dims))

    def apply(self, x: Array) -> Array:
        """The transposed convolution: a convolution of the stride-dilated input.

        Padding that leaves no output is a `cdl.SpaceError`.
        """
        why = self._empty(tuple(x.shape[1:]))
        if why is not None:
            raise SpaceError(why)
        padding = [
            (k - 1 - p, k - 1 - p + q)
            for k, p, q in zip(
                self.kernel_size, self.padding, self.output_padding, strict=True
            )
        ]
        dtype = jnp.result_type(x, self.weight)  # as Linear's matmul promotes
        y = jax.lax.conv_general_dilated(
            x[None].astype(dtype),
            self.weight.astype(dtype),
            window_strides=(1,) * len(self.stride),
            padding=padding,
            lhs_dilation=self.stride,
        )[0]
        return y + self.bias.reshape((-1,) + (1,) * len(self.stride))


class ConvTranspose1d(
    _ConvTranspose,
    Para[Float[Array, "in_channels length"], Float[Array, "out_channels out_length"]],
    Generic[_InChannels, _OutChannels],
):
    """Transposed convolution over ``float[in_channels, length]``.

    Equal to `equinox.nn.ConvTranspose1d` with the same weights.

    **Arguments:** `in_channels`, `out_channels`, `kernel_size`; keyword `stride`
    (1), `padding` (0), `output_padding` (0) and `key`.

    **Returns:** the layer ``float[in, length] → float[out, length']``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.ConvTranspose1d(2, 3, 3, stride=2, key=jax.random.key(0))(
    ...     jnp.ones((2, 4))).shape
    (3, 9)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        stride: int = 1,
        padding: int = 0,
        output_padding: int = 0,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "ConvTranspose1d", 1, in_channels, out_channels, kernel_size, stride,
            padding, output_padding, key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``ConvTranspose1d(in→out, k)``."""
        return self.describe("ConvTranspose1d")

    def output_space(self, dom: Space) -> Space:
        """The output length follows from the input length."""
        return self.sizes(super().output_space(dom), dom)

    def __call__(
        self, x: Float[Array, "in_channels length"]
    ) -> Float[Array, "out_channels out_length"]:
        """Apply the transposed convolution."""
        return self.apply(x)


class ConvTranspose2d(
    _ConvTranspose,
    Para[
        Float[Array, "in_channels height width"],
        Float[Array, "out_channels out_height out_width"],
    ],
    Generic[_InChannels, _OutChannels],
):
    """Transposed convolution over ``float[in_channels, height, width]``.

    Equal to `equinox.nn.ConvTranspose2d` with the same weights.

    **Arguments:** `in_channels`, `out_channels`, `kernel_size` (an int or a pair);
    keyword `stride` (1), `padding` (0), `output_padding` (0) and `key`.

    **Returns:** the layer ``float[in, h, w] → float[out, h', w']``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.ConvTranspose2d(4, 2, 3, padding=1, key=jax.random.key(0))(
    ...     jnp.ones((4, 6, 6))).shape
    (2, 6, 6)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        *,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "ConvTranspose2d", 2, in_channels, out_channels, kernel_size, stride,
            padding, output_padding, key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``ConvTranspose2d(in→out, kh×kw)``."""
        return self.describe("ConvTranspose2d")

    def output_space(self, dom: Space) -> Space:
        """The output height and width follow from the input's."""
        return self.sizes(super().output_space(dom), dom)

    def __call__(
        self, x: Float[Array, "in_channels height width"]
    ) -> Float[Array, "out_channels out_height out_width"]:
        """Apply the transposed convolution."""
        return self.apply(x)
