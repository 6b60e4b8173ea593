"""Stochastic regularisation: `Dropout`, and `inference_mode` to switch it off."""

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
    """

    p: float = eqx.field(static=True)
    inference: bool = eqx.field(static=True, default=False)

    def __check_init__(self) -> None:
        probability("Dropout", "p", self.p)

    @property
    def stochastic(self) -> bool:
        """True in training mode."""
        return not self.inference and self.p > 0

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


def inference_mode(model: _M, value: bool = True) -> _M:
    """`model` with every `Dropout` inside switched to inference (or back).

    **Arguments:** `model`, any pytree of morphisms; `value`, the mode to set.

    **Returns:** a copy of `model`.

    >>> import cdl
    >>> cdl.inference_mode(cdl.Tanh() >> cdl.Dropout(0.1)).factors[1].inference
    True
    """

    def switch(node: object) -> object:
        return Dropout(node.p, inference=value) if isinstance(node, Dropout) else node

    switched: _M = jax.tree.map(
        switch, model, is_leaf=lambda node: isinstance(node, Dropout)
    )
    return switched
