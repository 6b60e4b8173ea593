"""Up-sampling of ``float[channels, *spatial]`` by an integer factor per axis."""

from typing import Final

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._para import Para
from .._space import Dim, Space, TensorSpace
from . import _messages
from ._arguments import positive_int

METHODS: Final = ("nearest", "linear")


class Upsample(Para[Float[Array, " c *spatial"], Float[Array, " c *larger"]]):
    """Enlarges every spatial axis `scale` times, by repetition or interpolation.

    **Arguments:** `scale`, a positive int; `method`, ``"nearest"`` (each entry
    repeated) or ``"linear"`` (``jax.image.resize``'s linear interpolation).

    **Returns:** the layer ``float[c, *s] → float[c, *(scale·s)]``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Upsample(2)(jnp.array([[1.0, 2.0]]))
    Array([[1., 1., 2., 2.]], dtype=float32)
    >>> cdl.Upsample(2, "cubic")
    Traceback (most recent call last):
    ...
    ValueError: Upsample: method must be one of 'nearest', 'linear', but was \
given 'cubic'.
    """

    scale: int = eqx.field(static=True)
    method: str = eqx.field(static=True)

    def __init__(self, scale: int, method: str = "nearest") -> None:
        self.scale = positive_int("Upsample", "scale", scale)
        if method not in METHODS:
            raise ValueError(
                _messages.bad_choice("Upsample", "method", method, METHODS)
            )
        self.method = method

    @property
    def label(self) -> str:
        """``Upsample(×scale)``."""
        return f"Upsample(×{self.scale})"

    def output_space(self, dom: Space) -> Space:
        """Each known spatial size times `scale`."""
        cod = super().output_space(dom)
        if not (isinstance(dom, TensorSpace) and isinstance(cod, TensorSpace)):
            return cod
        if not dom.shape:
            return cod
        dims: list[Dim] = [dom.shape[0]]
        for size in dom.shape[1:]:
            if not isinstance(size, int):
                return cod
            dims.append(size * self.scale)
        return TensorSpace(cod.dtype, tuple(dims))

    def __call__(self, x: Float[Array, " c *spatial"]) -> Float[Array, " c *larger"]:
        """Enlarge the spatial axes."""
        if self.method == "linear":
            shape = (x.shape[0], *(self.scale * s for s in x.shape[1:]))
            resized: Array = jax.image.resize(x, shape, "linear")
            return resized
        for axis in range(1, x.ndim):
            x = jnp.repeat(x, self.scale, axis=axis)
        return x
