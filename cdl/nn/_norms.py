"""Normalisation beside `LayerNorm`: `RMSNorm`, and `BatchNorm` with its state.

`BatchNorm` keeps running statistics in an `equinox.nn.State`, the Equinox way:
build it with `equinox.nn.make_with_state`, call it on ``(x, state)`` pairs, and map
it over a batch with a named axis, ``jax.vmap(model, axis_name="batch",
in_axes=((0, None),), out_axes=(0, None))``. A layer without state joins such a
chain as ``f @ cdl.Identity()``, which passes the state along:

>>> import equinox as eqx, jax, jax.numpy as jnp, cdl
>>> conv = cdl.Conv2d(1, 4, 3, padding=1, key=jax.random.key(0))
>>> model, state = eqx.nn.make_with_state(
...     lambda: (conv @ cdl.Identity()) >> cdl.BatchNorm(4))()
>>> batch = jax.vmap(model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None))
>>> ys, state = batch((jnp.ones((8, 1, 5, 5)), state))
>>> ys.shape
(8, 4, 5, 5)
"""

from collections.abc import Callable
from typing import Any, Final, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float
from typing_extensions import TypeVar

from .._para import Para
from .._space import ProductSpace, Space
from . import _messages
from ._arguments import positive_int
from ._conv import image_hint

_pmean: Final[Callable[[Array, str], Array]] = jax.lax.pmean

# The static width, for the mypy plugin: ``RMSNorm[64]``, ``BatchNorm[16]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)


class RMSNorm(
    Para[Float[Array, "*batch dim"], Float[Array, "*batch dim"]], Generic[_Dim]
):
    """Divides the last axis by its root mean square, then scales: ``w x / rms(x)``.

    Equal to `equinox.nn.RMSNorm(dim)` on one vector; leading axes are batch axes.

    **Arguments:** `dim`, the size of the last axis; `eps` added to the mean square
    (1e-5); `use_bias`, whether to add a learned offset too (False).

    **Returns:** the layer ``float[*b, dim] → float[*b, dim]``.

    >>> import jax.numpy as jnp, cdl
    >>> [round(float(v), 3) for v in cdl.RMSNorm(2)(jnp.array([3.0, 4.0]))]
    [0.849, 1.131]
    """

    weight: Float[Array, "dim"]
    bias: Float[Array, "dim"] | None
    dim: int = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __init__(self, dim: int, eps: float = 1e-5, *, use_bias: bool = False) -> None:
        self.dim = positive_int("RMSNorm", "dim", dim)
        self.eps = eps
        self.weight = jnp.ones(dim)
        self.bias = jnp.zeros(dim) if use_bias else None

    @property
    def label(self) -> str:
        """``RMSNorm(dim)``."""
        return f"RMSNorm({self.dim})"

    def __call__(self, x: Float[Array, "*batch dim"]) -> Float[Array, "*batch dim"]:
        """Normalise along the last axis."""
        inv_rms = jax.lax.rsqrt(jnp.mean(x**2, axis=-1, keepdims=True) + self.eps)
        lead = (1,) * (x.ndim - 1)
        out = self.weight.reshape(lead + (self.dim,)) * (x * inv_rms)
        if self.bias is None:
            return out
        return out + self.bias.reshape(lead + (self.dim,))


class BatchNorm(
    Para[
        tuple[Float[Array, " channels *spatial"], eqx.nn.State],
        tuple[Float[Array, " channels *spatial"], eqx.nn.State],
    ],
    Generic[_Dim],
):
    """Batch normalisation of each channel, its running statistics in a `State`.

    In training it normalises with the mean and variance of each channel over the
    batch (the named axis `axis_name` of the enclosing `jax.vmap`) and the spatial
    axes, and moves the running statistics towards them by ``1 - momentum``; in
    inference (``inference=True``, or `equinox.nn.inference_mode`) it uses the
    running statistics and needs no named axis. The variance is the biased one.

    **Arguments:** `channels`; `axis_name` of the batch (``"batch"``); `eps`
    (1e-5); `momentum` (0.9); `inference` (False).

    **Returns:** the layer ``float[c, *s] × State → float[c, *s] × State``; build
    it (or a model holding it) with `equinox.nn.make_with_state`.

    >>> import equinox as eqx, jax, jax.numpy as jnp, cdl
    >>> bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    >>> xs = jax.random.normal(jax.random.key(0), (16, 3, 4))
    >>> ys, state = jax.vmap(bn, axis_name="batch", in_axes=((0, None),),
    ...                      out_axes=(0, None))((xs, state))
    >>> float(jnp.abs(ys.mean(axis=(0, 2))).max()) < 1e-5
    True
    >>> mean, var = state.get(bn.running)
    >>> bool(jnp.allclose(mean, 0.1 * xs.mean(axis=(0, 2))))
    True
    """

    weight: Float[Array, "channels"]
    bias: Float[Array, "channels"]
    running: eqx.nn.StateIndex[tuple[Array, Array]]
    inference: bool
    channels: int = eqx.field(static=True)
    axis_name: str = eqx.field(static=True)
    eps: float = eqx.field(static=True)
    momentum: float = eqx.field(static=True)

    def __init__(
        self,
        channels: int,
        axis_name: str = "batch",
        eps: float = 1e-5,
        momentum: float = 0.9,
        *,
        inference: bool = False,
    ) -> None:
        self.channels = positive_int("BatchNorm", "channels", channels)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(_messages.not_momentum("BatchNorm", momentum))
        self.axis_name, self.eps, self.momentum = axis_name, eps, momentum
        self.weight = jnp.ones(channels)
        self.bias = jnp.zeros(channels)
        self.running = eqx.nn.StateIndex((jnp.zeros(channels), jnp.ones(channels)))
        self.inference = inference

    def input_hint(self, given: Space) -> str:
        """Points to channels first when the image part of `given` has them last."""
        if isinstance(given, ProductSpace) and len(given.factors) == 2:
            return image_hint(self.channels, given.factors[0])
        return ""

    def _running(self, state: eqx.nn.State) -> tuple[Array, Array]:
        """The running mean and variance this layer keeps in `state`.

        A state built with another model has none for it (Equinox's `KeyError`
        names only a path) or holds statistics of another width.
        """
        try:
            mean, var = state.get(self.running)
        except KeyError:
            raise ValueError(_messages.foreign_state(self.label)) from None
        if mean.shape != (self.channels,):
            raise ValueError(_messages.foreign_state(self.label, tuple(mean.shape)))
        return mean, var

    @property
    def label(self) -> str:
        """``BatchNorm(channels)``."""
        return f"BatchNorm({self.channels})"

    def __call__(
        self, x: tuple[Float[Array, " channels *spatial"], eqx.nn.State]
    ) -> tuple[Float[Array, " channels *spatial"], eqx.nn.State]:
        """Normalise each channel; return the output and the updated state."""
        y, state = x
        axes = tuple(range(1, y.ndim))
        if self.inference:
            mean, var = self._running(state)
        else:
            try:
                mean = _pmean(jnp.mean(y, axis=axes), self.axis_name)
            except NameError:  # jax's "unbound axis name"
                raise NameError(
                    _messages.unbound_batch_axis(self.label, self.axis_name)
                ) from None
            square = _pmean(jnp.mean(y**2, axis=axes), self.axis_name)
            var = jnp.maximum(square - mean**2, 0.0)
            old_mean, old_var = self._running(state)
            keep = self.momentum
            state = state.set(
                self.running,
                (
                    keep * old_mean + (1 - keep) * mean,
                    keep * old_var + (1 - keep) * var,
                ),
            )
        shape = (-1,) + (1,) * len(axes)
        scale = (self.weight * jax.lax.rsqrt(var + self.eps)).reshape(shape)
        out = (y - mean.reshape(shape)) * scale + self.bias.reshape(shape)
        return out, state
