"""U-Nets: an encoder and a decoder whose levels are joined by skip connections.

Each level copies its features: one copy goes down (pooled), through the levels
below and back up (a transposed convolution), and is concatenated with the other
copy, carried across as ``id`` in ``copy >> (id @ inner) >> concat``:

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.architectures import unet
>>> model = unet(1, 1, 4, 2, key=jax.random.key(0))
>>> model.output_space(cdl.space_of(jnp.ones((1, 16, 16))))
float[1,16,16]
"""

from typing import Any

import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray

from .._errors import CompositionError, SpaceError
from .._para import Para
from .._space import Space, TensorSpace, space_of
from .._structure import Copy, Identity
from ..nn import Block, Concat, Conv2d, ConvTranspose2d, MaxPool2d, Relu
from ..nn._arguments import natural_int, positive_int, prng_key
from . import _messages


class _TopLevel(Block[Any, Any]):
    """The top level of a U-Net: refuses images its poolings cannot halve.

    Below the top, each level pools by 2 and a transposed convolution doubles
    back, so the skip connection joins images of one size only when the height
    and width are multiples of ``2**depth``.
    """

    multiple: int = eqx.field(static=True)

    def _refusal(self, dom: Space) -> str | None:
        if not isinstance(dom, TensorSpace) or len(dom.shape) != 3:
            return None
        _, height, width = dom.shape
        sides = [s for s in (height, width) if isinstance(s, int)]
        if any(side % self.multiple for side in sides):
            return _messages.unet_sides(self.name, self.multiple, height, width)
        return None

    def input_hint(self, given: Space) -> str:
        """The body's: its first convolution's word on a channels-last image."""
        hint: str = self.body.input_hint(given)
        return hint

    def output_space(self, dom: Space) -> Space:
        """The body's output on `dom`, once its sides are known to halve."""
        refusal = self._refusal(dom)
        if refusal is not None:
            raise CompositionError(refusal)
        return super().output_space(dom)

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Run the body on an image whose sides halve `depth` times."""
        refusal = self._refusal(space_of(x))
        if refusal is not None:
            raise SpaceError(refusal)
        return super().__call__(x, key=key)


def double_conv(c_in: int, c_out: int, *, key: PRNGKeyArray) -> Para[Any, Any]:
    """Two 3×3 convolutions (size kept), each followed by a relu.

    **Arguments:** `c_in`, `c_out`; keyword `key`.

    **Returns:** ``float[c_in, h, w] → float[c_out, h, w]``.

    >>> import jax
    >>> double_conv(1, 4, key=jax.random.key(0)).label
    'Conv2d(1→4, 3×3) >> Relu() >> Conv2d(4→4, 3×3) >> Relu()'
    """
    positive_int("double_conv", "c_in", c_in)
    positive_int("double_conv", "c_out", c_out)
    k1, k2 = jax.random.split(prng_key("double_conv", key))
    return (
        Conv2d(c_in, c_out, 3, padding=1, key=k1)
        >> Relu()
        >> Conv2d(c_out, c_out, 3, padding=1, key=k2)
        >> Relu()
    )


def _level(
    depth: int, c_in: int, width: int, key: PRNGKeyArray, *, top: bool = False
) -> Para[Any, Any]:
    k1, k2, k3, k4 = jax.random.split(key, 4)
    encode = double_conv(c_in, width, key=k1)
    if depth == 0:
        return encode
    inner = (
        MaxPool2d(2)
        >> _level(depth - 1, width, 2 * width, k2)
        >> ConvTranspose2d(2 * width, width, 2, stride=2, key=k3)
    )
    skip = Copy() >> (Identity() @ inner) >> Concat(axis=0)
    body = encode >> skip >> double_conv(2 * width, width, key=k4)
    name = f"Level{depth}({c_in}→{width})"
    return _TopLevel(name, body, 2**depth) if top else Block(name, body)


def unet(
    channels: int, out_channels: int, width: int, depth: int, *, key: PRNGKeyArray
) -> Para[Any, Any]:
    """A U-Net: `depth` halvings of the image, each undone with a skip connection.

    **Arguments:** `channels` in, `out_channels`, `width` (channels of the top
    level, doubled at each level down), `depth` (the height and width must be
    multiples of ``2**depth``); keyword `key`.

    **Returns:** ``float[channels, h, w] → float[out_channels, h, w]`` (a 1×1
    convolution reads out the top level).

    >>> import jax, jax.numpy as jnp
    >>> model = unet(3, 2, 8, 1, key=jax.random.key(0))
    >>> model.label
    'Level1(3→8) >> Conv2d(8→2, 1×1)'
    >>> model(jnp.ones((3, 5, 6)))
    Traceback (most recent call last):
    ...
    cdl.SpaceError: Level1(3→8): a U-Net of depth 1 needs a height and width \
that are multiples of 2, but the image is 5×6: pad or crop it (to 6×6, say).
    """
    positive_int("unet", "channels", channels)
    positive_int("unet", "out_channels", out_channels)
    positive_int("unet", "width", width)
    natural_int("unet", "depth", depth)
    k1, k2 = jax.random.split(prng_key("unet", key))
    top = _level(depth, channels, width, k1, top=True)
    return top >> Conv2d(width, out_channels, 1, key=k2)
