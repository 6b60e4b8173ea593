"""The whole-number arguments of schemes (a maximum size, a look-back, a depth)."""

from ..nn._arguments import whole
from . import _messages


def size(what: str, value: object, least: int = 1) -> int:
    """`value` as an int of at least `least`, else `ValueError` naming `what`.

    Python and NumPy ints and concrete 0-d integer arrays are taken (a size read
    from a config array is a NumPy int), and kept as Python ints: a scheme keeps
    its sizes as static fields, where a NumPy int is a JAX array to Equinox.
    Bools, floats and anything else are refused.

    >>> import numpy as np
    >>> size("ana", np.int64(10))
    10
    >>> size("ana", 2.5)
    Traceback (most recent call last):
    ...
    ValueError: ana needs a maximum size of at least 1, not 2.5.
    """
    number = whole(value)
    if number is None or number < least:
        raise ValueError(_messages.bad_size(what, value, least))
    return number
