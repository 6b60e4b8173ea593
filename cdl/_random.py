"""Initial weights drawn without one compile per shape.

`jax.random.uniform(key, shape)` compiles a program for every new shape: about
0.4 s on a CPU, so a model of twenty distinct weight shapes spends seconds in XLA
before it exists. With the threefry generator in its partitionable mode (JAX's
default), an entry's bits depend only on the key and the entry's flat index, so a
draw of any shape is the first entries of a longer flat draw. `uniform` and
`normal` draw a flat vector whose length is a power of four (one program per
length, eight in all) and cut it to the shape on the host: the same numbers as
`jax.random`'s, bit for bit, for a handful of compiles. With a traced key (as
when `jax.vmap` builds an ensemble) or another generator they call `jax.random`
itself.

>>> import jax
>>> key = jax.random.key(0)
>>> bool((uniform(key, (3, 5), -0.5, 0.5)
...       == jax.random.uniform(key, (3, 5), minval=-0.5, maxval=0.5)).all())
True
"""

import functools
import math
from typing import Final

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

SMALLEST: Final = 256
"""The shortest flat draw: smaller shapes share its program; the others are
four, sixteen, … times as long."""

LARGEST: Final = 1 << 22
"""Shapes with more entries are drawn as they are: their compile is small beside
the draw, and a flat draw up to four times their size would cost memory."""


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _flat(
    key: PRNGKeyArray,
    length: int,
    kind: str,
    dtype: str,
    low: np.ndarray | Array,
    high: np.ndarray | Array,
) -> Array:
    if kind == "uniform":
        return jax.random.uniform(key, (length,), dtype, minval=low, maxval=high)
    return jax.random.normal(key, (length,), dtype)


def _length(key: PRNGKeyArray, shape: tuple[int, ...]) -> int | None:
    """The flat draw's length for `shape`, or None where the shortcut does not hold."""
    size = math.prod(shape)
    if (
        isinstance(key, jax.core.Tracer)
        or not jax.config.values["jax_threefry_partitionable"]
        or str(jax.random.key_impl(key)) != "threefry2x32"
        or size == 0
        or size > LARGEST
    ):
        return None
    length = SMALLEST
    while length < size:
        length *= 4
    return length


def _dtype(dtype: jnp.dtype | None) -> np.dtype:
    """`dtype`, or JAX's default float (float64 with x64 enabled)."""
    return jnp.dtype(
        dtype if dtype is not None else jax.dtypes.canonicalize_dtype(float)
    )


def _cut(key: PRNGKeyArray, flat: Array, shape: tuple[int, ...]) -> Array:
    """The first entries of `flat`, shaped, placed as the key is when committed.

    Under a transformation that traces the draw though its key is concrete
    (`jax.eval_shape`, say), the cut is traced too.
    """
    if isinstance(flat, jax.core.Tracer):
        return flat[: math.prod(shape)].reshape(shape)
    host = np.asarray(flat)[: math.prod(shape)].reshape(shape)
    if getattr(key, "committed", False):
        placed: Array = jax.device_put(host, key.sharding)
        return placed
    uncommitted: Array = jax.device_put(host)
    return uncommitted


def uniform(
    key: PRNGKeyArray,
    shape: tuple[int, ...],
    minval: float,
    maxval: float,
    dtype: jnp.dtype | None = None,
) -> Array:
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``, bit for bit.

    >>> import jax
    >>> uniform(jax.random.key(1), (2, 3), -1.0, 1.0).shape
    (2, 3)
    """
    kind = _dtype(dtype)
    length = _length(key, shape)
    if length is None:
        return jax.random.uniform(key, shape, kind, minval=minval, maxval=maxval)
    low, high = np.asarray(minval, kind), np.asarray(maxval, kind)
    return _cut(key, _flat(key, length, "uniform", kind.name, low, high), shape)


def normal(
    key: PRNGKeyArray, shape: tuple[int, ...], dtype: jnp.dtype | None = None
) -> Array:
    """``jax.random.normal(key, shape, dtype)``, bit for bit.

    >>> import jax
    >>> normal(jax.random.key(1), (4,)).shape
    (4,)
    """
    kind = _dtype(dtype)
    length = _length(key, shape)
    if length is None:
        return jax.random.normal(key, shape, kind)
    zero = np.zeros((), kind)
    return _cut(key, _flat(key, length, "normal", kind.name, zero, zero), shape)
