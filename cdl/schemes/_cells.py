"""Recurrent cells as (co)algebras: Elman, GRU and LSTM cells are list algebras.

A cell ``E × H → H`` is the ``cons`` of a `cdl.ListAlgebra`; its fold is the RNN, with
the cell's weights shared across every step:

>>> import jax, jax.numpy as jnp, cdl
>>> cell = cdl.ElmanCell(2, 3, key=jax.random.key(0))
>>> rnn = cdl.foldl(cdl.ListAlgebra(jnp.zeros(3), cell))
>>> xs = jnp.ones((4, 2))
>>> h = jnp.zeros(3)
>>> for x in xs:
...     h = cell((x, h))
>>> bool(jnp.allclose(rnn(xs), h, atol=1e-6))
True
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._para import Para

_In = Float[Array, "in_dim"]
_Hidden = Float[Array, "hidden"]
_HC = tuple[_Hidden, _Hidden]


def _uniform(key: PRNGKeyArray, shape: tuple[int, ...], fan_in: int) -> Array:
    bound = 1 / math.sqrt(max(fan_in, 1))
    return jax.random.uniform(key, shape, minval=-bound, maxval=bound)


class ElmanCell(Para[tuple[_In, _Hidden], _Hidden]):
    """The Elman cell ``h' = tanh(W x + U h + b)``, a list algebra's ``cons``.

    **Arguments:** `in_dim`, `hidden`, and a PRNG `key`.

    **Returns:** a morphism ``float[in_dim] × float[hidden] → float[hidden]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.ElmanCell(3, 4, key=jax.random.key(0))((jnp.ones(3), jnp.zeros(4))).shape
    (4,)
    """

    w_in: Float[Array, "hidden in_dim"]
    w_h: Float[Array, "hidden hidden"]
    bias: Float[Array, "hidden"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)

    def __init__(self, in_dim: int, hidden: int, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.w_in = _uniform(k1, (hidden, in_dim), hidden)
        self.w_h = _uniform(k2, (hidden, hidden), hidden)
        self.bias = jnp.zeros(hidden)
        self.in_dim = in_dim
        self.hidden = hidden

    def __call__(self, x: tuple[_In, _Hidden]) -> _Hidden:
        """One step of the recurrence."""
        e, h = x
        return jnp.tanh(self.w_in @ e + self.w_h @ h + self.bias)


class GRUCell(Para[tuple[_In, _Hidden], _Hidden]):
    """The gated recurrent unit (Cho et al., 2014) as a list algebra's ``cons``.

    ``r = σ(W_r x + U_r h + b_r)``, ``z = σ(W_z x + U_z h + b_z)``,
    ``n = tanh(W_n x + b_n + r ⊙ (U_n h + c_n))``, ``h' = (1 - z) ⊙ n + z ⊙ h``.

    **Arguments:** `in_dim`, `hidden`, and a PRNG `key`.

    **Returns:** a morphism ``float[in_dim] × float[hidden] → float[hidden]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cell = cdl.GRUCell(3, 4, key=jax.random.key(0))
    >>> cell.dom, cell.cod
    ((float[3] × float[4]), float[4])
    """

    w_in: Float[Array, "3*hidden in_dim"]
    w_h: Float[Array, "3*hidden hidden"]
    b_in: Float[Array, "3*hidden"]
    b_h: Float[Array, "3*hidden"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)

    def __init__(self, in_dim: int, hidden: int, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.w_in = _uniform(k1, (3 * hidden, in_dim), hidden)
        self.w_h = _uniform(k2, (3 * hidden, hidden), hidden)
        self.b_in = jnp.zeros(3 * hidden)
        self.b_h = jnp.zeros(3 * hidden)
        self.in_dim = in_dim
        self.hidden = hidden

    def __call__(self, x: tuple[_In, _Hidden]) -> _Hidden:
        """One step of the recurrence."""
        e, h = x
        gi = self.w_in @ e + self.b_in
        gh = self.w_h @ h + self.b_h
        i_r, i_z, i_n = jnp.split(gi, 3)
        h_r, h_z, h_n = jnp.split(gh, 3)
        r = jax.nn.sigmoid(i_r + h_r)
        z = jax.nn.sigmoid(i_z + h_z)
        n = jnp.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h


class LSTMCell(Para[tuple[_In, _HC], _HC]):
    """The long short-term memory cell; its carrier is the pair ``(h, c)``.

    Gates ``i, f, o = σ(·)``, candidate ``g = tanh(·)`` from ``W x + U h + b``;
    ``c' = f ⊙ c + i ⊙ g``, ``h' = o ⊙ tanh(c')``. The forget gate's bias starts at 1.

    **Arguments:** `in_dim`, `hidden`, and a PRNG `key`.

    **Returns:** a morphism ``float[in_dim] × (float[hidden] × float[hidden]) →
    float[hidden] × float[hidden]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cell = cdl.LSTMCell(3, 4, key=jax.random.key(0))
    >>> alg = cdl.ListAlgebra((jnp.zeros(4), jnp.zeros(4)), cell)
    >>> h, c = cdl.foldl(alg)(jnp.ones((5, 3)))
    >>> h.shape, c.shape
    ((4,), (4,))
    """

    w_in: Float[Array, "4*hidden in_dim"]
    w_h: Float[Array, "4*hidden hidden"]
    bias: Float[Array, "4*hidden"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)

    def __init__(self, in_dim: int, hidden: int, *, key: PRNGKeyArray) -> None:
        k1, k2 = jax.random.split(key)
        self.w_in = _uniform(k1, (4 * hidden, in_dim), hidden)
        self.w_h = _uniform(k2, (4 * hidden, hidden), hidden)
        self.bias = jnp.zeros(4 * hidden).at[hidden : 2 * hidden].set(1.0)
        self.in_dim = in_dim
        self.hidden = hidden

    def __call__(self, x: tuple[_In, _HC]) -> _HC:
        """One step of the recurrence."""
        e, (h, c) = x
        i, f, o, g = jnp.split(self.w_in @ e + self.w_h @ h + self.bias, 4)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        return jax.nn.sigmoid(o) * jnp.tanh(c), c
