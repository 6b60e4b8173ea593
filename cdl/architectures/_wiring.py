"""Two structure maps that thread a state past a residual branch."""

from typing import Generic, TypeVar

import jax.numpy as jnp
from jaxtyping import Array, Shaped

from .._para import Para

A = TypeVar("A")
B = TypeVar("B")
S = TypeVar("S")


class Regroup(Para[tuple[A, tuple[B, S]], tuple[tuple[A, S], B]], Generic[A, B, S]):
    """Moves the state to the other branch: ``(x, (y, s)) ↦ ((x, s), y)``.

    **Arguments:** none.

    **Returns:** the structure map ``A × (B × S) → (A × S) × B``.

    >>> Regroup()((1, (2, "s")))
    ((1, 's'), 2)
    """

    def __call__(self, x: tuple[A, tuple[B, S]]) -> tuple[tuple[A, S], B]:
        """Regroup the components."""
        a, (b, s) = x
        return (a, s), b


class AddWithState(
    Para[
        tuple[tuple[Shaped[Array, "*shape"], S], Shaped[Array, "*shape"]],
        tuple[Shaped[Array, "*shape"], S],
    ],
    Generic[S],
):
    """Adds the branches, keeping the state: ``((a, s), b) ↦ (a + b, s)``.

    **Arguments:** none.

    **Returns:** the map ``(X × S) × X → X × S``.

    >>> import jax.numpy as jnp
    >>> AddWithState()(((jnp.ones(2), "s"), jnp.ones(2)))
    (Array([2., 2.], dtype=float32), 's')
    """

    def __call__(
        self, x: tuple[tuple[Shaped[Array, "*shape"], S], Shaped[Array, "*shape"]]
    ) -> tuple[Shaped[Array, "*shape"], S]:
        """Add the arrays; pass the state on."""
        (a, s), b = x
        return jnp.add(a, b), s
