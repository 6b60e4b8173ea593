"""Checks of layer constructor arguments, each failing with a one-line error.

Every layer validates what it is given before it allocates anything, so a bad
size fails at construction, naming the layer, the argument and its value:

>>> from cdl.nn._arguments import positive_int
>>> positive_int("Linear", "in_dim", -1)
Traceback (most recent call last):
...
ValueError: Linear: in_dim must be a positive int, but was given -1.
"""

import math
import operator
from collections.abc import Sequence
from typing import Final

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from . import _messages

# The most parameter entries one layer may allocate (16 GiB of float32): an
# absurd size fails at construction instead of at the first call on a device.
MAX_ENTRIES: Final = 2**32


def prng_key(layer: str, key: PRNGKeyArray) -> PRNGKeyArray:
    """`key` if it is a PRNG key (typed or raw), else `TypeError` naming the layer.

    >>> prng_key("Linear", 0)
    Traceback (most recent call last):
    ...
    TypeError: Linear: key must be a PRNG key such as jax.random.key(0), not int 0.
    """
    if isinstance(key, jax.Array | np.ndarray):
        return key
    raise TypeError(_messages.bad_key(layer, key))


def positive_int(layer: str, name: str, value: object) -> int:
    """`value` as an int if it is an integer >= 1, else `ValueError`.

    >>> positive_int("Linear", "out_dim", 3)
    3
    """
    return _int_at_least(layer, name, value, 1, "a positive int")


def natural_int(layer: str, name: str, value: object) -> int:
    """`value` as an int if it is an integer >= 0, else `ValueError`.

    >>> natural_int("Conv1d", "padding", 0)
    0
    """
    return _int_at_least(layer, name, value, 0, "an int >= 0")


def positive_ints(layer: str, name: str, value: object, rank: int) -> tuple[int, ...]:
    """An int or a tuple of `rank` positive ints, as a tuple of `rank` ints.

    >>> positive_ints("Conv2d", "kernel_size", 3, 2)
    (3, 3)
    >>> positive_ints("Conv2d", "stride", (1, 2), 2)
    (1, 2)
    """
    items = _per_axis(layer, name, value, rank)
    return tuple(positive_int(layer, name, item) for item in items)


def natural_ints(layer: str, name: str, value: object, rank: int) -> tuple[int, ...]:
    """An int or a tuple of `rank` ints >= 0, as a tuple of `rank` ints.

    >>> natural_ints("Conv2d", "padding", 0, 2)
    (0, 0)
    """
    items = _per_axis(layer, name, value, rank)
    return tuple(natural_int(layer, name, item) for item in items)


def flag(owner: str, name: str, value: object) -> bool:
    """`value` as a bool if it is True or False (or a NumPy bool), else `TypeError`.

    A string such as ``"no"`` or an int such as ``0`` is refused rather than read
    by its truth value.

    >>> flag("Game", "batched", np.bool_(True))
    True
    >>> flag("Propagate", "keep", "no")
    Traceback (most recent call last):
    ...
    TypeError: Propagate: keep must be True or False, but was given 'no'.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(_messages.not_a_flag(owner, name, value))
    return bool(value)


def probability(layer: str, name: str, value: object) -> float:
    """`value` as a float if it is a real number in [0, 1), else `ValueError`.

    >>> probability("Dropout", "p", 0.25)
    0.25
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise ValueError(_messages.not_probability(layer, name, value))
    number = float(value)
    if not 0.0 <= number < 1.0:
        raise ValueError(_messages.not_probability(layer, name, value))
    return number


def affordable(layer: str, shapes: Sequence[tuple[int, ...]]) -> None:
    """Raise `ValueError` when arrays of `shapes` hold more than `MAX_ENTRIES`.

    >>> affordable("Linear", [(128, 784), (128,)])
    """
    entries = sum(math.prod(shape) for shape in shapes)
    if entries > MAX_ENTRIES:
        raise ValueError(_messages.too_large(layer, entries, MAX_ENTRIES))


def whole(value: object) -> int | None:
    """`value` as an int if it is a whole number, else None.

    Python and NumPy ints and concrete 0-d integer arrays (``jnp.int32(3)``,
    ``senders.max() + 1``) are whole numbers; bools, floats and traced values are
    not.

    >>> import jax.numpy as jnp, numpy as np
    >>> from cdl.nn._arguments import whole
    >>> whole(3), whole(np.int64(3)), whole(jnp.int32(3)), whole(True), whole(3.0)
    (3, 3, 3, None, None)
    """
    if isinstance(value, bool | np.bool_):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:  # not an integer, or traced
        return None


def _int_at_least(layer: str, name: str, value: object, least: int, what: str) -> int:
    number = whole(value)
    if number is None or number < least:
        raise ValueError(_messages.bad_int(layer, name, value, what))
    return number


def _per_axis(layer: str, name: str, value: object, rank: int) -> tuple[object, ...]:
    if isinstance(value, tuple | list):
        if len(value) != rank:
            raise ValueError(_messages.bad_rank(layer, name, value, rank))
        return tuple(value)
    return (value,) * rank
