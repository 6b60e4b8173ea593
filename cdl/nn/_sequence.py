"""Sequences: a morphism applied at every position (`Each`), and `SequenceMean`.

A layer acts on one example; `Each(f)` acts on a sequence of them, mapping `f`
over the leading axis with `jax.vmap`. Its spaces are `f`'s with one more leading
dimension, so a sequence model is typed like its per-position parts:

>>> import jax, jax.numpy as jnp, cdl
>>> mlp = cdl.Each(cdl.Linear(8, 32, key=jax.random.key(0)) >> cdl.Gelu())
>>> mlp.dom, mlp.cod
(float[n,8], float[n,32])
>>> mlp(jnp.ones((5, 8))).shape
(5, 32)
"""

from typing import Any, Generic

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _messages as core_messages
from .._errors import SpaceError
from .._para import Para, apply
from .._space import DimVar, ProductSpace, Space, SpaceVar, TensorSpace, rename
from . import _messages
from ._embedding import Embedding

_A = TypeVar("_A", default=Any)
_B = TypeVar("_B", default=Any)


def _along(space: Space, length: object) -> Space:
    """`space` with a leading dimension `length` on every tensor inside it."""
    if isinstance(space, TensorSpace):
        assert isinstance(length, int | DimVar)
        return TensorSpace(space.dtype, (length, *space.shape))
    if isinstance(space, ProductSpace):
        return ProductSpace(tuple(_along(f, length) for f in space.factors))
    return space


def _strip(space: Space) -> tuple[Space, object]:
    """`space` without its leading dimension, and that dimension (None if none)."""
    if isinstance(space, TensorSpace) and space.shape:
        return TensorSpace(space.dtype, space.shape[1:]), space.shape[0]
    if isinstance(space, ProductSpace) and space.factors:
        parts = [_strip(f) for f in space.factors]
        return ProductSpace(tuple(p for p, _ in parts)), parts[0][1]
    return space, None


def _names(space: Space) -> set[str]:
    """The names of the dimensions of the tensors in `space`."""
    if isinstance(space, TensorSpace):
        return {d.name for d in space.shape if isinstance(d, DimVar)}
    if isinstance(space, ProductSpace):
        return set().union(*(_names(f) for f in space.factors))
    return set()


def _length_name(dom: Space, cod: Space) -> str:
    """``n``, or the first of ``m``, ``p``, ``q``, ``n2``, … not used in `dom` or `cod`.

    Nested maps (``Each(Each(f))``) then show two lengths as two names, not as
    ``float[n,n,…]``, which reads as a square.
    """
    used = _names(dom) | _names(cod)
    for name in ("n", "m", "p", "q"):
        if name not in used:
            return name
    index = 2
    while f"n{index}" in used:
        index += 1
    return f"n{index}"


class Each(Para[_A, _B], Generic[_A, _B]):
    """`f` applied at every position of a sequence: ``float[n, *A] → float[n, *B]``.

    The positions share `f`'s parameters; the map is one `jax.vmap`.

    **Arguments:** `f`, the per-position morphism ``A → B``.

    **Returns:** the morphism on sequences; its domain and codomain are `f`'s with a
    leading dimension ``n`` (on every component when `f` acts on tuples).

    >>> import jax, jax.numpy as jnp, cdl
    >>> embed = cdl.Each(cdl.Embedding(10, 4, key=jax.random.key(0)))
    >>> embed.dom, embed.cod
    (integer[n], float[n,4])
    >>> embed(jnp.array([1, 2, 3])).shape
    (3, 4)
    """

    f: Para[Any, Any]

    def __check_init__(self) -> None:
        if not isinstance(self.f, Para):
            raise TypeError(_messages.not_a_morphism("Each", self.f))

    @property
    def label(self) -> str:
        """``each(f)``."""
        return f"each({self.f.label})"

    @property
    def stochastic(self) -> bool:
        """Whether `f` needs a key."""
        return self.f.stochastic

    def signature(self) -> tuple[Space, Space]:
        """`f`'s spaces with one shared leading length (``n``, unless `f` has one)."""
        dom, cod = self.f.signature()
        name = _length_name(dom, cod)
        length = rename(TensorSpace(frozenset(), (DimVar(name),)))
        assert isinstance(length, TensorSpace)
        return _along(dom, length.shape[0]), _along(cod, length.shape[0])

    def output_space(self, dom: Space) -> Space:
        """`f`'s output space for one position, along the given length."""
        inner, length = _strip(dom)
        if length is None or isinstance(inner, SpaceVar):
            return super().output_space(dom)
        super().output_space(dom)  # raises `Mismatch` when `dom` is not a sequence
        return _along(self.f.output_space(inner), length)

    def __call__(self, x: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """Apply `f` at every position."""
        if key is None and self.f.stochastic:  # refused by this layer's name
            raise ValueError(core_messages.needs_key(self.label))
        if isinstance(self.f, Embedding):  # name a concrete index it has no row for
            self.f._refuse_outside(x, self.label)
        if key is None or not self.f.stochastic:
            out: _B = jax.vmap(lambda part: apply(self.f, part, key))(x)
            return out
        length = jax.tree.leaves(x)[0].shape[0]
        keys = jax.random.split(key, length)
        mapped: _B = jax.vmap(lambda part, k: apply(self.f, part, k))(x, keys)
        return mapped


class SequenceMean(Para[Float[Array, " n *features"], Float[Array, "*features"]]):
    """The mean over the positions of a sequence: ``float[n, *f] → float[*f]``.

    **Arguments:** none.

    **Returns:** the pooling morphism (e.g. the read-out of a ViT).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.SequenceMean()(jnp.array([[1.0, 2.0], [3.0, 4.0]]))
    Array([2., 3.], dtype=float32)
    """

    def __call__(self, x: Float[Array, " n *features"]) -> Float[Array, "*features"]:
        """Average over the leading axis."""
        if x.shape[0] == 0:
            raise SpaceError(_messages.empty_mean(self.label, "positions", x.shape))
        return jnp.mean(x, axis=0)


class Transpose(Para[Float[Array, "a b"], Float[Array, "b a"]]):
    """Exchanges the two axes of a matrix: ``float[a, b] → float[b, a]``.

    Channels-first feature maps become sequences of positions this way.

    **Arguments:** none.

    **Returns:** the morphism.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Transpose()(jnp.ones((2, 3))).shape
    (3, 2)
    """

    def __call__(self, x: Float[Array, "a b"]) -> Float[Array, "b a"]:
        """Return ``x.T``."""
        return x.T
