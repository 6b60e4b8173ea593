"""Pooling over the spatial axes of ``float[channels, *spatial]``: max and average.

Windows of `kernel_size` moved by `stride` (the kernel size unless given), with
`padding` on both sides; the output sizes follow from the input sizes as for a
convolution, so composites know them:

>>> import jax, cdl
>>> model = cdl.Conv2d(1, 4, 3, padding=1, key=jax.random.key(0)) >> cdl.MaxPool2d(2)
>>> model.output_space(cdl.space_of(jax.numpy.ones((1, 8, 8))))
float[4,4,4]
"""

import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._errors import CompositionError, SpaceError
from .._para import Para
from .._space import Dim, Space, TensorSpace
from . import _messages
from ._arguments import natural_ints, positive_ints


def _oversized(
    sizes: tuple[Dim, ...], kernel: tuple[int, ...], padding: tuple[int, ...]
) -> tuple[int, int, int] | None:
    """The first (window, size, padding) whose window exceeds the padded size."""
    for size, k, p in zip(sizes, kernel, padding, strict=True):
        if isinstance(size, int) and size + 2 * p < k:
            return k, size, p
    return None


def pooled_space(
    label: str, cod: Space, dom: Space, kernel: tuple[int, ...],
    stride: tuple[int, ...], padding: tuple[int, ...],
) -> Space:  # fmt: skip
    """`cod` with the spatial sizes that the input sizes in `dom` determine.

    A window larger than a padded input size raises `cdl.CompositionError`.
    """
    if not (isinstance(cod, TensorSpace) and isinstance(dom, TensorSpace)):
        return cod
    if len(dom.shape) != len(cod.shape):
        return cod
    over = _oversized(dom.shape[1:], kernel, padding)
    if over is not None:
        raise CompositionError(_messages.kernel_over_input(label, *over))
    dims: list[Dim] = [cod.shape[0]]
    for size, k, s, p, out in zip(
        dom.shape[1:], kernel, stride, padding, cod.shape[1:], strict=True
    ):
        dims.append((size + 2 * p - k) // s + 1 if isinstance(size, int) else out)
    return TensorSpace(cod.dtype, tuple(dims))


def _window(
    x: Array, init: Any, op: Callable[[Any, Any], Any], kernel: tuple[int, ...],
    stride: tuple[int, ...], padding: tuple[int, ...],
) -> Array:  # fmt: skip
    # Channels last, as Equinox pools: XLA's CPU backend then keeps the layout its
    # convolutions use (and pools with its fast kernels) instead of transposing.
    out: Array = jax.lax.reduce_window(
        jnp.moveaxis(x, 0, -1),
        init,
        op,
        (*kernel, 1),
        (*stride, 1),
        [(p, p) for p in padding] + [(0, 0)],
    )
    return jnp.moveaxis(out, -1, 0)


class _Pool(eqx.Module):
    kernel_size: tuple[int, ...] = eqx.field(static=True)
    stride: tuple[int, ...] = eqx.field(static=True)
    padding: tuple[int, ...] = eqx.field(static=True)

    def __init__(
        self, layer: str, rank: int, kernel_size: object, stride: object,
        padding: object,
    ) -> None:  # fmt: skip
        self.kernel_size = positive_ints(layer, "kernel_size", kernel_size, rank)
        self.stride = (
            self.kernel_size
            if stride is None
            else positive_ints(layer, "stride", stride, rank)
        )
        self.padding = natural_ints(layer, "padding", padding, rank)
        for k, p in zip(self.kernel_size, self.padding, strict=True):
            if p >= k:
                raise ValueError(_messages.padding_fills_window(layer, p, k))

    def describe(self, name: str) -> str:
        """``name(kh×kw)``, with a stride other than the kernel size and a padding.

        ``MaxPool2d(2, stride=1)``, Equinox's default stride, is then told apart
        from ``MaxPool2d(2)`` in messages and diagrams.
        """

        def sizes(values: tuple[int, ...]) -> str:
            same = all(v == values[0] for v in values)
            return str(values[0]) if same else "×".join(str(v) for v in values)

        parts = ["×".join(str(k) for k in self.kernel_size)]
        if self.stride != self.kernel_size:
            parts.append(f"stride {sizes(self.stride)}")
        if any(self.padding):
            parts.append(f"padding {sizes(self.padding)}")
        return f"{name}({', '.join(parts)})"

    def pooled(self, label: str, cod: Space, dom: Space) -> Space:
        """`cod` with the output sizes `dom`'s sizes determine (`pooled_space`)."""
        return pooled_space(
            label, cod, dom, self.kernel_size, self.stride, self.padding
        )

    def fits(self, x: Array) -> None:
        """Raise `cdl.SpaceError` when a window is larger than `x`'s padded size."""
        over = _oversized(tuple(x.shape[1:]), self.kernel_size, self.padding)
        if over is not None:
            label = self.describe(type(self).__name__)
            raise SpaceError(_messages.kernel_over_input(label, *over))

    def max(self, x: Array) -> Array:
        """The largest entry of each window (padding never wins)."""
        self.fits(x)
        return _window(
            x, -jnp.inf, jax.lax.max, self.kernel_size, self.stride, self.padding
        )

    def mean(self, x: Array) -> Array:
        """The mean of each window, padding counted as zeros."""
        self.fits(x)
        total = _window(
            x, 0.0, jax.lax.add, self.kernel_size, self.stride, self.padding
        )
        return total / math.prod(self.kernel_size)


class MaxPool1d(_Pool, Para[Float[Array, "c length"], Float[Array, "c out_length"]]):
    """Max pooling along the length of ``float[channels, length]``.

    **Arguments:** `kernel_size`; `stride` (the kernel size); `padding` (0).

    **Returns:** the layer ``float[c, length] → float[c, out_length]``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.MaxPool1d(2)(jnp.array([[1.0, 3.0, 2.0, 0.0]]))
    Array([[3., 2.]], dtype=float32)
    """

    def __init__(
        self, kernel_size: int, stride: int | None = None, padding: int = 0
    ) -> None:
        super().__init__("MaxPool1d", 1, kernel_size, stride, padding)

    @property
    def label(self) -> str:
        """``MaxPool1d(k)``."""
        return self.describe("MaxPool1d")

    def output_space(self, dom: Space) -> Space:
        """The output length follows from the input length."""
        return self.pooled(self.label, super().output_space(dom), dom)

    def __call__(self, x: Float[Array, "c length"]) -> Float[Array, "c out_length"]:
        """Take the maximum of each window."""
        return self.max(x)


class AvgPool1d(_Pool, Para[Float[Array, "c length"], Float[Array, "c out_length"]]):
    """Average pooling along the length of ``float[channels, length]``.

    **Arguments:** `kernel_size`; `stride` (the kernel size); `padding` (0,
    counted as zeros in the mean).

    **Returns:** the layer ``float[c, length] → float[c, out_length]``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.AvgPool1d(2)(jnp.array([[1.0, 3.0, 2.0, 0.0]]))
    Array([[2., 1.]], dtype=float32)
    """

    def __init__(
        self, kernel_size: int, stride: int | None = None, padding: int = 0
    ) -> None:
        super().__init__("AvgPool1d", 1, kernel_size, stride, padding)

    @property
    def label(self) -> str:
        """``AvgPool1d(k)``."""
        return self.describe("AvgPool1d")

    def output_space(self, dom: Space) -> Space:
        """The output length follows from the input length."""
        return self.pooled(self.label, super().output_space(dom), dom)

    def __call__(self, x: Float[Array, "c length"]) -> Float[Array, "c out_length"]:
        """Average each window."""
        return self.mean(x)


class MaxPool2d(
    _Pool,
    Para[Float[Array, "c height width"], Float[Array, "c out_height out_width"]],
):
    """Max pooling over the height and width of ``float[channels, h, w]``.

    **Arguments:** `kernel_size` (an int or a pair); `stride` (the kernel size);
    `padding` (0).

    **Returns:** the layer ``float[c, h, w] → float[c, h', w']``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.MaxPool2d(2)(jnp.arange(16.0).reshape(1, 4, 4))
    Array([[[ 5.,  7.],
            [13., 15.]]], dtype=float32)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__("MaxPool2d", 2, kernel_size, stride, padding)

    @property
    def label(self) -> str:
        """``MaxPool2d(kh×kw)``."""
        return self.describe("MaxPool2d")

    def output_space(self, dom: Space) -> Space:
        """The output height and width follow from the input's."""
        return self.pooled(self.label, super().output_space(dom), dom)

    def __call__(
        self, x: Float[Array, "c height width"]
    ) -> Float[Array, "c out_height out_width"]:
        """Take the maximum of each window."""
        return self.max(x)


class AvgPool2d(
    _Pool,
    Para[Float[Array, "c height width"], Float[Array, "c out_height out_width"]],
):
    """Average pooling over the height and width of ``float[channels, h, w]``.

    **Arguments:** `kernel_size` (an int or a pair); `stride` (the kernel size);
    `padding` (0, counted as zeros in the mean).

    **Returns:** the layer ``float[c, h, w] → float[c, h', w']``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.AvgPool2d(2)(jnp.arange(16.0).reshape(1, 4, 4))
    Array([[[ 2.5,  4.5],
            [10.5, 12.5]]], dtype=float32)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__("AvgPool2d", 2, kernel_size, stride, padding)

    @property
    def label(self) -> str:
        """``AvgPool2d(kh×kw)``."""
        return self.describe("AvgPool2d")

    def output_space(self, dom: Space) -> Space:
        """The output height and width follow from the input's."""
        return self.pooled(self.label, super().output_space(dom), dom)

    def __call__(
        self, x: Float[Array, "c height width"]
    ) -> Float[Array, "c out_height out_width"]:
        """Average each window."""
        return self.mean(x)


class GlobalAvgPool(Para[Float[Array, " c *spatial"], Float[Array, " c"]]):
    """The mean of each channel over all spatial positions: ``float[c, *s] → float[c]``.

    **Arguments:** none.

    **Returns:** the layer (the read-out of a ResNet).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.GlobalAvgPool()(jnp.ones((3, 4, 4)))
    Array([1., 1., 1.], dtype=float32)
    """

    def __call__(self, x: Float[Array, " c *spatial"]) -> Float[Array, " c"]:
        """Average over every axis but the first."""
        if math.prod(x.shape[1:]) == 0:
            raise SpaceError(
                _messages.empty_mean(self.label, "spatial positions", x.shape)
            )
        return jnp.mean(x.reshape(x.shape[0], -1), axis=1)
