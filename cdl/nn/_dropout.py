"""Stochastic regularisation: `Dropout`, and `inference_mode` to switch it off."""

import copy
from typing import TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _messages
from .._para import Para
from ._arguments import probability

_M = TypeVar("_M")


class Dropout(Para[Float[Array, "*shape"], Float[Array, "*shape"]]):
    """Zeroes each entry with probability `p` and rescales the rest by ``1/(1-p)``.

    It needs ``key=`` when called in training mode; composites split their key
    among the stochastic morphisms inside them.

    >>> import jax, jax.numpy as jnp, cdl
    >>> drop = cdl.Dropout(0.5)
    >>> y = drop(jnp.ones(1000), key=jax.random.key(0))
    >>> 0.4 < float((y == 0).mean()) < 0.6
    True
    >>> cdl.inference_mode(drop)(jnp.ones(2))
    Array([1., 1.], dtype=float32)

    Its `inference` flag is a field, as in `equinox.nn.Dropout`, so Equinox's
    own `equinox.nn.inference_mode` switches it too, inside `cdl.tie` and
    `cdl.freeze` as well:

    >>> import equinox as eqx
    >>> model = cdl.Linear(2, 2, key=jax.random.key(0)) >> drop
    >>> eqx.nn.inference_mode(model).factors[1].inference
    True
    >>> eqx.nn.inference_mode(cdl.freeze(model)).stochastic
    False
    """

    p: float = eqx.field(static=True)
    inference: bool = False

    def __check_init__(self) -> None:
        probability("Dropout", "p", self.p)

    @property
    def stochastic(self) -> bool:
        """True in training mode."""
        return not self.inference and self.p > 0

    @property
    def label(self) -> str:
        """``Dropout(p)``; ``Dropout(p, inference)`` in inference mode.

        >>> import cdl
        >>> cdl.Dropout(0.1).label, cdl.inference_mode(cdl.Dropout(0.1)).label
        ('Dropout(0.1)', 'Dropout(0.1, inference)')
        """
        mode = ", inference" if self.inference is True else ""
        return f"Dropout({self.p}{mode})"

    def __call__(
        self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*shape"]:
        """Drop entries at random (or return `x` in inference mode)."""
        if not self.stochastic:
            return x
        if key is None:
            raise ValueError(_messages.needs_key(self.label))
        keep = jax.random.bernoulli(key, 1 - self.p, x.shape)
        return jnp.where(keep, x / (1 - self.p), 0.0)


def _has_mode(node: object) -> bool:
    return isinstance(node, eqx.Module) and hasattr(node, "inference")


def _switched(node: object, value: bool) -> object:
    """`node` with its `inference` flag (and those of modules inside) set."""
    if not _has_mode(node):
        return node
    inner = jax.tree.map(
        lambda child: _switched(child, value),
        node,
        is_leaf=lambda child: child is not node and _has_mode(child),
    )
    out = copy.copy(inner)
    object.__setattr__(out, "inference", value)
    return out


def inference_mode(model: _M, value: bool = True) -> _M:
    """`model` with every layer that has a mode switched to inference (or back).

    It sets the ``inference`` flag of every module that has one: `Dropout`,
    `BatchNorm`, and Equinox layers such as `equinox.nn.Dropout`, whether the
    flag is a static field or a leaf.

    **Arguments:** `model`, any pytree of morphisms; `value`, the mode to set.

    **Returns:** a copy of `model`.

    >>> import cdl
    >>> cdl.inference_mode(cdl.Tanh() >> cdl.Dropout(0.1)).factors[1].inference
    True
    """
    switched: _M = jax.tree.map(
        lambda node: _switched(node, value), model, is_leaf=_has_mode
    )
    return switched
