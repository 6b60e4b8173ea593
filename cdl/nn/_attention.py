"""Multi-head attention: self- and cross-attention, with causal and padding masks.

Each layer acts on one sequence ``float[n, dim]``; its weights are four `Linear`
maps laid out as `equinox.nn.MultiheadAttention`'s (query, key, value, output).
A causal layer lets position ``t`` read positions ``<= t`` only; the padded
variants take a boolean vector marking the positions that are real:

>>> import jax, jax.numpy as jnp, cdl
>>> attn = cdl.SelfAttention(16, 4, causal=True, key=jax.random.key(0))
>>> attn.dom, attn.cod
(float[n,16], float[n,16])
>>> x = jax.random.normal(jax.random.key(1), (6, 16))
>>> y, z = attn(x), attn(x.at[4:].set(0.0))
>>> bool(jnp.allclose(y[:4], z[:4]))      # the first 4 outputs ignore what follows
True
"""

import math
from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .._para import Para
from . import _messages
from ._arguments import affordable, positive_int, prng_key
from ._linear import Linear
from ._positional import rotate

# Static sizes, for the mypy plugin: ``SelfAttention[64, 4]``.
_Dim = TypeVar("_Dim", covariant=True, default=Any)
_KVDim = TypeVar("_KVDim", covariant=True, default=Any)
_Heads = TypeVar("_Heads", covariant=True, default=Any)


def causal_mask(queries: int, keys: int) -> Bool[Array, "q k"]:
    """The mask letting query ``t`` see keys ``0..t``: ``bool[queries, keys]``.

    **Arguments:** the numbers of `queries` and `keys`.

    **Returns:** the lower-triangular mask (True where attention is allowed).

    >>> causal_mask(3, 3).astype(int)
    Array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]], dtype=int32)
    """
    return jnp.tril(jnp.ones((queries, keys), dtype=bool))


def dot_product_attention(
    q: Float[Array, "n h d"],
    k: Float[Array, "m h d"],
    v: Float[Array, "m h e"],
    mask: Bool[Array, "n m"] | None = None,
) -> Float[Array, "n h e"]:
    """Scaled dot-product attention of every head: ``softmax(q kᵀ / √d) v``.

    Masked-out pairs get the least float before the softmax, as in Equinox, and
    weigh exactly 0 after it: a query that may read no key (a sequence that is all
    padding) attends to nothing and gets 0, where Equinox spreads it evenly over
    the keys it must not read.

    **Arguments:** queries `q`, keys `k`, values `v` (one slice per head), and an
    optional `mask` (True where query ``i`` may read key ``j``).

    **Returns:** the attended values, ``float[n, heads, e]``.

    >>> import jax.numpy as jnp
    >>> q = k = v = jnp.eye(2)[:, None, :]
    >>> dot_product_attention(q, k, v, causal_mask(2, 2))[0, 0]
    Array([1., 0.], dtype=float32)
    >>> dot_product_attention(q, k, v, jnp.zeros((2, 2), bool))[0, 0]
    Array([0., 0.], dtype=float32)
    """
    logits = jnp.einsum("nhd,mhd->hnm", q, k) / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = jnp.where(mask[None], logits, np.finfo(logits.dtype).min)
    weights = jax.nn.softmax(logits, axis=-1)
    if mask is not None:
        weights = jnp.where(mask[None], weights, 0.0)
    return jnp.einsum("hnm,mhe->nhe", weights, v)


def _project(linear: Linear, x: Array, heads: int) -> Array:
    y = x @ linear.weight.T
    y = y if linear.bias is None else y + linear.bias[None, :]
    return y.reshape(x.shape[0], heads, y.shape[-1] // heads)


def _rotate_heads(x: Array, theta: float) -> Array:
    """Rotary encodings applied to each head of ``x: float[n, heads, d]``."""
    heads: Array = jax.vmap(rotate, in_axes=(1, None), out_axes=1)(x, theta)
    return heads


class _Attention(eqx.Module):
    """The weights and the computation shared by the attention layers."""

    query_proj: Linear
    key_proj: Linear
    value_proj: Linear
    output_proj: Linear
    dim: int = eqx.field(static=True)
    kv_dim: int = eqx.field(static=True)
    heads: int = eqx.field(static=True)
    causal: bool = eqx.field(static=True)
    rotary: float | None = eqx.field(static=True)

    def __init__(
        self,
        layer: str,
        dim: int,
        kv_dim: int,
        heads: int,
        *,
        causal: bool,
        rotary: bool,
        use_bias: bool,
        key: PRNGKeyArray,
    ) -> None:
        dim = positive_int(layer, "dim", dim)
        kv_dim = positive_int(layer, "kv_dim", kv_dim)
        heads = positive_int(layer, "heads", heads)
        if dim % heads:
            raise ValueError(_messages.not_divisible(layer, "dim", dim, "heads", heads))
        if rotary and (dim // heads) % 2:
            raise ValueError(_messages.not_even(layer, "dim // heads", dim // heads))
        affordable(layer, [(dim, dim), (dim, kv_dim), (dim, kv_dim), (dim, dim)])
        kq, kk, kv, ko = jax.random.split(prng_key(layer, key), 4)
        self.query_proj = Linear(dim, dim, use_bias=use_bias, key=kq)
        self.key_proj = Linear(kv_dim, dim, use_bias=use_bias, key=kk)
        self.value_proj = Linear(kv_dim, dim, use_bias=use_bias, key=kv)
        self.output_proj = Linear(dim, dim, use_bias=use_bias, key=ko)
        self.dim, self.kv_dim, self.heads = dim, kv_dim, heads
        self.causal = causal
        self.rotary = 10000.0 if rotary else None

    def attend(
        self, x: Array, memory: Array, valid: Bool[Array, " m"] | None
    ) -> Float[Array, "n dim"]:
        """Queries from `x`, keys and values from `memory`; `valid` marks real keys."""
        q = _project(self.query_proj, x, self.heads)
        k = _project(self.key_proj, memory, self.heads)
        v = _project(self.value_proj, memory, self.heads)
        theta = self.rotary
        if theta is not None:
            q, k = _rotate_heads(q, theta), _rotate_heads(k, theta)
        mask = causal_mask(x.shape[0], memory.shape[0]) if self.causal else None
        if valid is not None:
            keep = jnp.broadcast_to(valid[None, :], (x.shape[0], memory.shape[0]))
            mask = keep if mask is None else mask & keep
        out = dot_product_attention(q, k, v, mask).reshape(x.shape[0], self.dim)
        y = out @ self.output_proj.weight.T
        bias = self.output_proj.bias
        return y if bias is None else y + bias[None, :]

    def describe(self, name: str) -> str:
        """``name(dim, heads=h[, causal][, rotary])``."""
        flags = ", causal" * self.causal + ", rotary" * (self.rotary is not None)
        sizes = (
            f"{self.dim}" if self.kv_dim == self.dim else f"{self.dim}←{self.kv_dim}"
        )
        return f"{name}({sizes}, heads={self.heads}{flags})"


class SelfAttention(
    _Attention,
    Para[Float[Array, "n dim"], Float[Array, "n dim"]],
    Generic[_Dim, _Heads],
):
    """Multi-head self-attention over a sequence ``float[n, dim]``.

    **Arguments:**

    - `dim`: the width (a multiple of `heads`); `heads`: the number of heads.
    - `causal`: whether position ``t`` reads positions ``<= t`` only (False).
    - `rotary`: whether queries and keys get rotary position encodings (False).
    - `use_bias`: whether the projections have biases (False, as in Equinox).
    - `key`: PRNG key for the projections.

    **Returns:** the layer ``float[n, dim] → float[n, dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> attn = cdl.SelfAttention(16, 4, key=jax.random.key(0))
    >>> attn, attn(jnp.ones((3, 16))).shape
    (SelfAttention(16, heads=4), (3, 16))
    >>> cdl.SelfAttention(16, 3, key=jax.random.key(0))
    Traceback (most recent call last):
    ...
    ValueError: SelfAttention: dim must be a multiple of heads (3), but was given 16.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        *,
        causal: bool = False,
        rotary: bool = False,
        use_bias: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "SelfAttention", dim, dim, heads,
            causal=causal, rotary=rotary, use_bias=use_bias, key=key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``SelfAttention(dim, heads=h)``."""
        return self.describe("SelfAttention")

    def __repr__(self) -> str:
        return self.label

    def __call__(self, x: Float[Array, "n dim"]) -> Float[Array, "n dim"]:
        """Attend from every position to the sequence."""
        return self.attend(x, x, None)


class PaddedSelfAttention(
    _Attention,
    Para[tuple[Float[Array, "n dim"], Bool[Array, " n"]], Float[Array, "n dim"]],
    Generic[_Dim, _Heads],
):
    """Self-attention that ignores padding: takes ``(x, valid)``, `valid` ``bool[n]``.

    No position reads a position whose `valid` entry is False.

    **Arguments:** as `SelfAttention`.

    **Returns:** the layer ``float[n, dim] × bool[n] → float[n, dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> attn = cdl.PaddedSelfAttention(8, 2, key=jax.random.key(0))
    >>> x, valid = jnp.ones((4, 8)), jnp.array([True, True, True, False])
    >>> attn((x, valid)).shape
    (4, 8)
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        *,
        causal: bool = False,
        rotary: bool = False,
        use_bias: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "PaddedSelfAttention", dim, dim, heads,
            causal=causal, rotary=rotary, use_bias=use_bias, key=key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``PaddedSelfAttention(dim, heads=h)``."""
        return self.describe("PaddedSelfAttention")

    def __repr__(self) -> str:
        return self.label

    def __call__(
        self, x: tuple[Float[Array, "n dim"], Bool[Array, " n"]]
    ) -> Float[Array, "n dim"]:
        """Attend from every position to the valid positions."""
        seq, valid = x
        return self.attend(seq, seq, valid)


class CrossAttention(
    _Attention,
    Para[tuple[Float[Array, "n dim"], Float[Array, "m kv_dim"]], Float[Array, "n dim"]],
    Generic[_Dim, _KVDim, _Heads],
):
    """Multi-head cross-attention: ``(x, memory) ↦`` `x`'s queries read `memory`.

    **Arguments:** `dim`, the width of `x` and of the output; `kv_dim`, the width
    of `memory`; `heads`; keyword `rotary`, `use_bias` and `key` as for
    `SelfAttention`.

    **Returns:** the layer ``float[n, dim] × float[m, kv_dim] → float[n, dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> attn = cdl.CrossAttention(8, 4, 2, key=jax.random.key(0))
    >>> attn.dom
    (float[n,8] × float[m,4])
    >>> attn((jnp.ones((3, 8)), jnp.ones((5, 4)))).shape
    (3, 8)
    """

    def __init__(
        self,
        dim: int,
        kv_dim: int,
        heads: int,
        *,
        rotary: bool = False,
        use_bias: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "CrossAttention", dim, kv_dim, heads,
            causal=False, rotary=rotary, use_bias=use_bias, key=key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``CrossAttention(dim←kv_dim, heads=h)``."""
        return self.describe("CrossAttention")

    def __repr__(self) -> str:
        return self.label

    def __call__(
        self, x: tuple[Float[Array, "n dim"], Float[Array, "m kv_dim"]]
    ) -> Float[Array, "n dim"]:
        """Attend from each position of `x` to `memory`."""
        seq, memory = x
        return self.attend(seq, memory, None)


class PaddedCrossAttention(
    _Attention,
    Para[
        tuple[Float[Array, "n dim"], Float[Array, "m kv_dim"], Bool[Array, " m"]],
        Float[Array, "n dim"],
    ],
    Generic[_Dim, _KVDim, _Heads],
):
    """Cross-attention that ignores padding in the memory: ``(x, memory, valid)``.

    **Arguments:** as `CrossAttention`.

    **Returns:** the layer ``float[n, dim] × float[m, kv_dim] × bool[m] →
    float[n, dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> attn = cdl.PaddedCrossAttention(8, 4, 2, key=jax.random.key(0))
    >>> attn((jnp.ones((3, 8)), jnp.ones((5, 4)), jnp.arange(5) < 2)).shape
    (3, 8)
    """

    def __init__(
        self,
        dim: int,
        kv_dim: int,
        heads: int,
        *,
        rotary: bool = False,
        use_bias: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            "PaddedCrossAttention", dim, kv_dim, heads,
            causal=False, rotary=rotary, use_bias=use_bias, key=key,
        )  # fmt: skip

    @property
    def label(self) -> str:
        """``PaddedCrossAttention(dim←kv_dim, heads=h)``."""
        return self.describe("PaddedCrossAttention")

    def __repr__(self) -> str:
        return self.label

    def __call__(
        self,
        x: tuple[Float[Array, "n dim"], Float[Array, "m kv_dim"], Bool[Array, " m"]],
    ) -> Float[Array, "n dim"]:
        """Attend from each position of `x` to the valid positions of `memory`."""
        seq, memory, valid = x
        return self.attend(seq, memory, valid)
