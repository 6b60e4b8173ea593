"""Equality and hashing of a frozen dataclass by its fields' values, arrays included.

A derived layer keeps its basis and its structured operation as static fields, so
they are part of the layer's pytree structure: two layers built alike must compare
equal there, or `jax.tree.map` over a loaded and a fresh layer, a model soup or
`equinox.tree_equal` fail, and a jitted function compiles again for each new build.
NumPy arrays compare by identity in a dataclass's own ``__eq__``; `ByValue` compares
them by content, and hashes a digest of them computed once.
"""

import dataclasses
import hashlib
from typing import Any

import numpy as np


class ByValue:
    """Mixin for frozen dataclasses (declared ``eq=False``): equal when the fields are.

    >>> import dataclasses, numpy as np
    >>> @dataclasses.dataclass(frozen=True, eq=False)
    ... class Table(ByValue):
    ...     rows: np.ndarray
    >>> a, b = Table(np.arange(3)), Table(np.arange(3))
    >>> a == b, a == Table(np.ones(3))
    (True, False)
    >>> len({Table(np.arange(3)), Table(np.arange(3))})
    1
    """

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in dataclasses.fields(self))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ByValue)
        pairs = zip(self._values(), other._values(), strict=True)
        return hash(self) == hash(other) and all(_same(a, b) for a, b in pairs)

    def __hash__(self) -> int:
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            digest = hashlib.blake2b(digest_size=8)
            for value in self._values():
                if isinstance(value, np.ndarray):
                    digest.update(repr((value.shape, value.dtype.str)).encode())
                    digest.update(np.ascontiguousarray(value).tobytes())
                else:
                    digest.update(hash(value).to_bytes(8, "little", signed=True))
            cached = int.from_bytes(digest.digest(), "little", signed=True)
            object.__setattr__(self, "_hash", cached)
        return cached


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
    return bool(a == b)
