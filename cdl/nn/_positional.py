"""Positional encodings for sequences ``float[n, dim]``: sinusoidal, learned, rotary.

Attention does not see the order of its inputs; these layers tell it. The first two
add a vector per position, rotary encodings rotate pairs of features by an angle
growing with the position (apply them to queries and keys, as
``SelfAttention(..., rotary=True)`` does):

>>> import jax.numpy as jnp, cdl
>>> x = jnp.zeros((3, 4))
>>> [round(float(v), 3) for v in cdl.SinusoidalPositions(4)(x)[1]]
[0.841, 0.54, 0.01, 1.0]
"""

from typing import Any, Generic

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _random
from .._para import Para
from . import _messages
from ._arguments import affordable, positive_int, prng_key

# The static width, for the mypy plugin: ``SinusoidalPositions[64]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)


def sinusoids(length: int, dim: int, base: float = 10000.0) -> Float[Array, "n d"]:
    """The table of sinusoidal encodings of Vaswani et al., ``float[length, dim]``.

    Feature ``2i`` of position ``p`` is ``sin(p / base^(2i/dim))``, feature
    ``2i+1`` its cosine.

    **Arguments:** `length`, `dim`, and the `base` of the wavelengths.

    **Returns:** the table.

    >>> [[round(float(v), 4) for v in row] for row in sinusoids(2, 2)]
    [[0.0, 1.0], [0.8415, 0.5403]]
    """
    half = (dim + 1) // 2
    rates = base ** (-jnp.arange(half, dtype=jnp.float32) * 2 / dim)
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * rates[None, :]
    table = jnp.stack([jnp.sin(angles), jnp.cos(angles)], axis=-1)
    return table.reshape(length, 2 * half)[:, :dim]


class SinusoidalPositions(
    Para[Float[Array, "n dim"], Float[Array, "n dim"]], Generic[_Dim]
):
    """Adds the fixed sinusoidal encoding of each position: ``x[p] + PE[p]``.

    **Arguments:** `dim`, the width; `base` of the wavelengths (10000).

    **Returns:** the parameterless morphism ``float[n, dim] → float[n, dim]``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.SinusoidalPositions(8)(jnp.zeros((5, 8))).shape
    (5, 8)
    """

    dim: int = eqx.field(static=True)
    base: float = eqx.field(static=True)

    def __init__(self, dim: int, base: float = 10000.0) -> None:
        self.dim = positive_int("SinusoidalPositions", "dim", dim)
        self.base = base

    @property
    def label(self) -> str:
        """``SinusoidalPositions(dim)``."""
        return f"SinusoidalPositions({self.dim})"

    def __call__(self, x: Float[Array, "n dim"]) -> Float[Array, "n dim"]:
        """Add the encodings."""
        return x + sinusoids(x.shape[0], self.dim, self.base).astype(x.dtype)


class LearnedPositions(
    Para[Float[Array, "n dim"], Float[Array, "n dim"]], Generic[_Dim]
):
    """Adds a learned vector per position, from a table of `max_length` rows.

    Positions count from the first element, or with `from_end` from the last (the
    last element gets row 0): right-aligned data, such as the digits of a number
    counted from the units, then share rows whatever their length.

    **Arguments:** `max_length`, the longest sequence; `dim`, the width; `key`
    (entries drawn from N(0, 0.02²)); `from_end` (False).

    **Returns:** the morphism ``float[n, dim] → float[n, dim]`` for ``n <=
    max_length``; a longer sequence is a `ValueError`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> pos = cdl.LearnedPositions(16, 8, key=jax.random.key(0))
    >>> pos(jnp.zeros((5, 8))).shape, pos.table.shape
    ((5, 8), (16, 8))
    >>> right = cdl.LearnedPositions(16, 8, from_end=True, key=jax.random.key(0))
    >>> bool((right(jnp.zeros((5, 8)))[-1] == right.table[0]).all())
    True
    """

    table: Float[Array, "max_length dim"]
    max_length: int = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    from_end: bool = eqx.field(static=True)

    def __init__(
        self, max_length: int, dim: int, *, from_end: bool = False, key: PRNGKeyArray
    ) -> None:
        self.max_length = positive_int("LearnedPositions", "max_length", max_length)
        self.dim = positive_int("LearnedPositions", "dim", dim)
        affordable("LearnedPositions", [(max_length, dim)])
        key = prng_key("LearnedPositions", key)
        self.table = 0.02 * _random.normal(key, (max_length, dim))
        self.from_end = from_end

    @property
    def label(self) -> str:
        """``LearnedPositions(max_length, dim[, from end])``."""
        end = ", from end" * self.from_end
        return f"LearnedPositions({self.max_length}, {self.dim}{end})"

    def __call__(self, x: Float[Array, "n dim"]) -> Float[Array, "n dim"]:
        """Add the first ``n`` rows of the table (reversed with `from_end`)."""
        length = x.shape[0]
        if length > self.max_length:
            raise ValueError(_messages.too_long(self.label, length, self.max_length))
        rows = self.table[:length]
        return x + (rows[::-1] if self.from_end else rows)


def rotary_angles(length: int, dim: int, theta: float) -> tuple[Array, Array]:
    """Cosines and sines of the rotary angles, each ``float[length, dim]``.

    Features ``i`` and ``i + dim/2`` form a pair turned by ``p · theta^(-2i/dim)``
    at position ``p`` (the convention of `equinox.nn.RotaryPositionalEmbedding`).

    **Arguments:** `length`, `dim` (even), `theta`.

    **Returns:** ``(cos, sin)``.

    >>> cos, sin = rotary_angles(3, 4, 10000.0)
    >>> cos.shape, float(sin[0].max())
    ((3, 4), 0.0)
    """
    rates = 1.0 / theta ** (jnp.arange(0, dim, 2, dtype=jnp.float32) / dim)
    angles = jnp.arange(length, dtype=jnp.float32)[:, None] * rates[None, :]
    return jnp.tile(jnp.cos(angles), (1, 2)), jnp.tile(jnp.sin(angles), (1, 2))


def rotate(x: Float[Array, "n d"], theta: float) -> Float[Array, "n d"]:
    """`x` with feature pairs ``(i, i + d/2)`` turned by their rotary angles.

    **Arguments:** `x`, a sequence of even width; `theta`, the base.

    **Returns:** the rotated sequence.

    >>> import jax.numpy as jnp
    >>> [round(float(v), 3) for v in rotate(jnp.ones((2, 2)), 10000.0)[1]]
    [-0.301, 1.382]
    """
    length, dim = x.shape
    cos, sin = rotary_angles(length, dim, theta)
    half = dim // 2
    turned = jnp.concatenate([-x[:, half:], x[:, :half]], axis=-1)
    return (x * cos + turned * sin).astype(x.dtype)


class RotaryEmbedding(
    Para[Float[Array, "n dim"], Float[Array, "n dim"]], Generic[_Dim]
):
    """Rotary positional encoding (RoFormer): turns feature pairs by position.

    Equal to `equinox.nn.RotaryPositionalEmbedding` of the same width and base.

    **Arguments:** `dim`, an even width; `theta`, the base (10000).

    **Returns:** the parameterless morphism ``float[n, dim] → float[n, dim]``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.RotaryEmbedding(4)(jnp.ones((3, 4))).shape
    (3, 4)
    >>> cdl.RotaryEmbedding(3)
    Traceback (most recent call last):
    ...
    ValueError: RotaryEmbedding: dim must be even, but was given 3.
    """

    dim: int = eqx.field(static=True)
    theta: float = eqx.field(static=True)

    def __init__(self, dim: int, theta: float = 10000.0) -> None:
        self.dim = positive_int("RotaryEmbedding", "dim", dim)
        if dim % 2:
            raise ValueError(_messages.not_even("RotaryEmbedding", "dim", dim))
        self.theta = theta

    @property
    def label(self) -> str:
        """``RotaryEmbedding(dim)``."""
        return f"RotaryEmbedding({self.dim})"

    def __call__(self, x: Float[Array, "n dim"]) -> Float[Array, "n dim"]:
        """Rotate each position's feature pairs."""
        return rotate(x, self.theta)
