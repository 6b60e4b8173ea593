"""Activations: parameterless, shape-polymorphic morphisms ``float[*s] → float[*s]``.

They take no size: the shape flows through them when they are composed.

>>> import jax, cdl
>>> m = cdl.Linear(4, 8, key=jax.random.key(0)) >> cdl.Gelu()
>>> m.cod
float[8]
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._errors import CompositionError, SpaceError
from .._para import Para
from .._space import SeqVar, Space, TensorSpace, space_of
from . import _messages
from ._arguments import whole


class _AlongAxis(eqx.Module):
    """A map along one axis: its `axis` is an int, and lies inside the input's rank."""

    axis: eqx.AbstractVar[int]

    def __check_init__(self) -> None:
        if whole(self.axis) is None:
            name = type(self).__name__
            raise TypeError(_messages.bad_int(name, "axis", self.axis, "an int"))

    def _outside(self, shape: tuple[object, ...]) -> bool:
        return not -len(shape) <= self.axis < len(shape)

    def fits(self, label: str, x: Array) -> None:
        """Raise `cdl.SpaceError` when `x` has no axis `axis`."""
        if self._outside(x.shape):
            raise SpaceError(_messages.axis_outside(label, self.axis, space_of(x)))

    def fits_space(self, label: str, dom: Space) -> None:
        """Raise `cdl.CompositionError` when `dom`'s known rank has no axis `axis`."""
        if not isinstance(dom, TensorSpace):
            return
        if any(isinstance(d, SeqVar) for d in dom.shape):
            return
        if self._outside(dom.shape):
            raise CompositionError(_messages.axis_outside(label, self.axis, dom))


class Tanh(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Elementwise hyperbolic tangent.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Tanh()(jnp.zeros(2))
    Array([0., 0.], dtype=float32)
    """

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply tanh."""
        return jnp.tanh(x)


class Relu(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Elementwise rectifier ``max(x, 0)``.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Relu()(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
    """

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply relu."""
        return jax.nn.relu(x)


class Sigmoid(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Elementwise logistic function.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Sigmoid()(jnp.zeros(1))
    Array([0.5], dtype=float32)
    """

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply the sigmoid."""
        return jax.nn.sigmoid(x)


class Gelu(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Elementwise Gaussian error linear unit, ``x·Φ(x)``.

    **Arguments:** `approximate`, whether to use the tanh approximation (the
    default, as `jax.nn.gelu` and GPT-2) or the exact form by the error function
    (PyTorch's `nn.GELU()` default, used by BERT and ViT weights; the two differ
    by up to about 5e-4).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Gelu()(jnp.zeros(1))
    Array([0.], dtype=float32)
    >>> exact = cdl.Gelu(approximate=False)
    >>> exact, round(float(exact(jnp.ones(1))[0]), 4)  # Φ(1) = 0.8413
    (Gelu(approximate=False), 0.8413)
    """

    approximate: bool = eqx.field(static=True, default=True, kw_only=True)

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply gelu."""
        return jax.nn.gelu(x, approximate=self.approximate)


class Softmax(_AlongAxis, Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Softmax along `axis` (the last by default).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.Softmax()(jnp.zeros(4))
    Array([0.25, 0.25, 0.25, 0.25], dtype=float32)
    """

    axis: int = eqx.field(static=True, default=-1)

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply softmax; an input without axis `axis` is a `cdl.SpaceError`."""
        self.fits(self.label, x)
        return jax.nn.softmax(x, axis=self.axis)

    def output_space(self, dom: Space) -> Space:
        """`dom`; a known rank without axis `axis` is a `cdl.CompositionError`."""
        self.fits_space(self.label, dom)
        return super().output_space(dom)


class LogSoftmax(_AlongAxis, Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Log-softmax along `axis` (the last by default).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.LogSoftmax()(jnp.zeros(2))
    Array([-0.6931472, -0.6931472], dtype=float32)
    """

    axis: int = eqx.field(static=True, default=-1)

    def __call__(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Apply log-softmax; an input without axis `axis` is a `cdl.SpaceError`."""
        self.fits(self.label, x)
        return jax.nn.log_softmax(x, axis=self.axis)

    def output_space(self, dom: Space) -> Space:
        """`dom`; a known rank without axis `axis` is a `cdl.CompositionError`."""
        self.fits_space(self.label, dom)
        return super().output_space(dom)
