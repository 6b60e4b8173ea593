"""Cartesian structure of Para: identity, copy, discard, swap, projections, merge.

These morphisms have no parameters. With them, a residual block is a composite:

>>> import jax, jax.numpy as jnp, cdl
>>> f = cdl.Linear(3, 3, key=jax.random.key(0))
>>> block = cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add()
>>> x = jnp.ones(3)
>>> bool(jnp.allclose(block(x), f(x) + x))
True

Copy is natural and counital: discarding either copy gives the identity.

>>> bool(jnp.allclose((cdl.Copy() >> cdl.Fst())(x), x))
True
>>> (cdl.Copy() >> cdl.Swap())(x)[0] is x
True
"""

from typing import ClassVar, Generic, TypeVar

import jax.numpy as jnp
from jaxtyping import Array, Shaped

from ._category import AbstractIdentity
from ._para import Para
from ._space import UNIT, ProductSpace, Space

A = TypeVar("A")
B = TypeVar("B")


class Identity(AbstractIdentity[A], Para[A, A], Generic[A]):
    """The identity morphism on any space, the unit of ``>>``.

    **Returns:** its input, unchanged.

    >>> import jax, cdl
    >>> cdl.Identity()(3)
    3
    >>> f = cdl.Linear(2, 2, key=jax.random.key(0))
    >>> cdl.Identity() >> f is f
    True
    """

    family: ClassVar[type] = Para

    def __call__(self, x: A) -> A:
        """Return `x`."""
        return x


class Copy(Para[A, tuple[A, A]], Generic[A]):
    """The diagonal Δ: ``A → A × A``.

    >>> import cdl
    >>> cdl.Copy()(1)
    (1, 1)
    """

    def __call__(self, x: A) -> tuple[A, A]:
        """Return ``(x, x)``."""
        return x, x

    def output_space(self, dom: Space) -> Space:
        """``dom × dom``."""
        return ProductSpace((dom, dom))


class Discard(Para[A, tuple[()]], Generic[A]):
    """The unique map to the unit: ``A → ()``.

    >>> import cdl
    >>> cdl.Discard()(1)
    ()
    """

    def __call__(self, x: A) -> tuple[()]:
        """Return ``()``."""
        return ()

    def output_space(self, dom: Space) -> Space:
        """The unit."""
        return UNIT


class Swap(Para[tuple[A, B], tuple[B, A]], Generic[A, B]):
    """The symmetry ``A × B → B × A``.

    >>> import cdl
    >>> cdl.Swap()((1, 2))
    (2, 1)
    """

    def __call__(self, x: tuple[A, B]) -> tuple[B, A]:
        """Exchange the two components."""
        a, b = x
        return b, a


class Fst(Para[tuple[A, B], A], Generic[A, B]):
    """The first projection ``A × B → A``.

    >>> import cdl
    >>> cdl.Fst()((1, 2))
    1
    """

    def __call__(self, x: tuple[A, B]) -> A:
        """Return the first component."""
        return x[0]


class Snd(Para[tuple[A, B], B], Generic[A, B]):
    """The second projection ``A × B → B``.

    >>> import cdl
    >>> cdl.Snd()((1, 2))
    2
    """

    def __call__(self, x: tuple[A, B]) -> B:
        """Return the second component."""
        return x[1]


class Add(
    Para[
        tuple[Shaped[Array, "*shape"], Shaped[Array, "*shape"]],
        Shaped[Array, "*shape"],
    ]
):
    """The additive merge ``X × X → X`` of two arrays of one shape.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Add()((jnp.ones(2), jnp.ones(2)))
    Array([2., 2.], dtype=float32)
    """

    def __call__(
        self, x: tuple[Shaped[Array, "*shape"], Shaped[Array, "*shape"]]
    ) -> Shaped[Array, "*shape"]:
        """Return the sum of both components."""
        return jnp.add(*x)
