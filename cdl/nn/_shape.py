"""Structural layers that move entries around: `Flatten`, `Reshape`, `Concat`."""

import math

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Shaped

from .._errors import CompositionError, SpaceError
from .._para import Para
from .._space import (
    Dim,
    DimVar,
    ProductSpace,
    SeqVar,
    Space,
    TensorSpace,
    known_size,
    rename,
    space_of,
)
from . import _messages
from ._arguments import whole


def _fills(target: tuple[int, ...], size: int) -> bool:
    """Whether `size` entries fill `target` (a -1 standing for the rest)."""
    rest = math.prod(d for d in target if d != -1)
    return size % rest == 0 if -1 in target else size == rest


def _unjoinable(left: tuple[Dim, ...], right: tuple[Dim, ...], axis: int) -> str | None:
    """Why arrays of shapes `left` and `right` do not join along `axis`, if known."""
    if any(isinstance(d, SeqVar) for d in left + right):
        return None
    if len(left) != len(right):
        return f"their ranks {len(left)} and {len(right)} differ"
    if not -len(left) <= axis < len(left):
        return f"axis {axis} is outside rank {len(left)}"
    axis %= len(left)
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        if index != axis and isinstance(a, int) and isinstance(b, int) and a != b:
            return (
                f"dimension {index} is {a} and {b}, and they may differ only "
                f"along axis {axis}"
            )
    return None


class Flatten(Para[Shaped[Array, "*shape"], Shaped[Array, " size"]]):
    """Flattens any array into a vector.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Flatten()(jnp.ones((2, 3))).shape
    (6,)
    """

    def __call__(self, x: Shaped[Array, "*shape"]) -> Shaped[Array, " size"]:
        """Return `x` as a vector."""
        return jnp.ravel(x)

    def output_space(self, dom: Space) -> Space:
        """The vector's size is the product of the input's dimensions when known."""
        cod = super().output_space(dom)
        if isinstance(dom, TensorSpace) and isinstance(cod, TensorSpace):
            size = known_size(dom)
            if size is not None:
                return TensorSpace(cod.dtype, (size,))
        return cod


class Reshape(Para[Shaped[Array, "*dims"], Shaped[Array, "*target"]]):
    """Reshapes an array to `shape` (one entry may be -1).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Reshape(4, -1)(jnp.ones(8)).shape
    (4, 2)
    """

    target: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, *shape: int) -> None:
        numbers = [whole(d) for d in shape]
        target = tuple(d for d in numbers if d is not None)
        if (
            len(target) != len(shape)
            or sum(d == -1 for d in target) > 1
            or any(d < -1 or d == 0 for d in target)
        ):
            raise ValueError(_messages.bad_target_shape(shape))
        self.target = target

    @property
    def label(self) -> str:
        """``Reshape(shape)``."""
        return f"Reshape{self.target}"

    def __call__(self, x: Shaped[Array, "*dims"]) -> Shaped[Array, "*target"]:
        """Return `x` reshaped; too many or too few entries are a `cdl.SpaceError`."""
        if not _fills(self.target, x.size):
            raise SpaceError(
                _messages.reshape_size(self.label, space_of(x), x.size, self.target)
            )
        return jnp.reshape(x, self.target)

    def output_space(self, dom: Space) -> Space:
        """The target shape, with -1 solved when the input size is known.

        An input whose known size does not fill the target raises
        `cdl.CompositionError`.
        """
        cod = super().output_space(dom)
        size = known_size(dom) if isinstance(dom, TensorSpace) else None
        if size is not None and not _fills(self.target, size):
            raise CompositionError(
                _messages.reshape_size(self.label, dom, size, self.target)
            )
        if -1 not in self.target or size is None or not isinstance(cod, TensorSpace):
            return cod
        rest = math.prod(d for d in self.target if d != -1)
        shape = tuple(size // rest if d == -1 else d for d in self.target)
        return TensorSpace(cod.dtype, shape)

    def signature(self) -> tuple[Space, Space]:
        """The target shape, with a fresh dimension standing for a -1."""
        dom, cod = super().signature()
        if -1 not in self.target or not isinstance(cod, TensorSpace):
            return dom, cod
        rest = rename(TensorSpace(cod.dtype, (DimVar("rest"),)))
        assert isinstance(rest, TensorSpace)
        shape = tuple(rest.shape[0] if d == -1 else d for d in cod.shape)
        return dom, TensorSpace(cod.dtype, shape)


class Concat(
    Para[
        tuple[Shaped[Array, "*left"], Shaped[Array, "*right"]], Shaped[Array, "*joined"]
    ]
):
    """Concatenates a pair of arrays along `axis` (0 by default).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Concat()((jnp.ones(2), jnp.zeros(3))).shape
    (5,)
    """

    axis: int = eqx.field(static=True, default=0)

    def __call__(
        self, x: tuple[Shaped[Array, "*left"], Shaped[Array, "*right"]]
    ) -> Shaped[Array, "*joined"]:
        """Concatenate both components; shapes that do not join are a `SpaceError`."""
        left, right = x
        why = _unjoinable(left.shape, right.shape, self.axis)
        if why is not None:
            raise SpaceError(
                _messages.concat_mismatch(
                    self.label, space_of(left), space_of(right), why
                )
            )
        return jnp.concatenate(x, axis=self.axis)

    def output_space(self, dom: Space) -> Space:
        """Sum the sizes along `axis` when both are known.

        Known shapes that do not join raise `cdl.CompositionError`.
        """
        cod = super().output_space(dom)
        if not isinstance(dom, ProductSpace) or len(dom.factors) != 2:
            return cod
        left, right = dom.factors
        if not (isinstance(left, TensorSpace) and isinstance(right, TensorSpace)):
            return cod
        why = _unjoinable(left.shape, right.shape, self.axis)
        if why is not None:
            raise CompositionError(
                _messages.concat_mismatch(self.label, left, right, why)
            )
        if any(isinstance(d, SeqVar) for d in left.shape + right.shape):
            return cod
        axis = self.axis % len(left.shape)
        a, b = left.shape[axis], right.shape[axis]
        if not (isinstance(a, int) and isinstance(b, int)):
            return cod
        shape = list(left.shape)
        shape[axis] = a + b
        return TensorSpace(left.dtype, tuple(shape))
