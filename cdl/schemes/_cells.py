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
from typing import Any, Generic

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray
from typing_extensions import TypeVar

from .. import _random
from .._para import Para
from .._space import _BOOL, _FLOAT, DimVar, ProductSpace, Space, TensorSpace
from ..nn._arguments import natural_int, positive_int, prng_key

_In = Float[Array, "in_dim"]
_Hidden = Float[Array, "hidden"]
_HC = tuple[_Hidden, _Hidden]

# Static sizes of a cell, for the mypy plugin: ``GRUCell[3, 4]`` is a morphism
# ``f32[3] × f32[4] → f32[4]``. The base classes spell the jaxtyping annotations out;
# the plugin would read the aliases above in their place alike.
_InDim = TypeVar("_InDim", covariant=True, default=Any)
_HiddenDim = TypeVar("_HiddenDim", covariant=True, default=Any)


def _uniform(key: PRNGKeyArray, shape: tuple[int, ...], fan_in: int) -> Array:
    bound = 1 / math.sqrt(max(fan_in, 1))
    return _random.uniform(key, shape, -bound, bound)


class ElmanCell(
    Para[
        tuple[Float[Array, " in_dim"], Float[Array, " hidden"]], Float[Array, " hidden"]
    ],
    Generic[_InDim, _HiddenDim],
):
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
        in_dim = natural_int("ElmanCell", "in_dim", in_dim)
        hidden = positive_int("ElmanCell", "hidden", hidden)
        key = prng_key("ElmanCell", key)
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


class GRUCell(
    Para[
        tuple[Float[Array, " in_dim"], Float[Array, " hidden"]], Float[Array, " hidden"]
    ],
    Generic[_InDim, _HiddenDim],
):
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
        in_dim = natural_int("GRUCell", "in_dim", in_dim)
        hidden = positive_int("GRUCell", "hidden", hidden)
        key = prng_key("GRUCell", key)
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


class LSTMCell(
    Para[
        tuple[
            Float[Array, " in_dim"],
            tuple[Float[Array, " hidden"], Float[Array, " hidden"]],
        ],
        tuple[Float[Array, " hidden"], Float[Array, " hidden"]],
    ],
    Generic[_InDim, _HiddenDim],
):
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
        in_dim = natural_int("LSTMCell", "in_dim", in_dim)
        hidden = positive_int("LSTMCell", "hidden", hidden)
        key = prng_key("LSTMCell", key)
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


def _tree_signature(in_dim: int, carrier: Space, arity: int) -> tuple[Space, Space]:
    children = ProductSpace((carrier,) * arity)
    return ProductSpace((TensorSpace(_FLOAT, (in_dim,)), children)), carrier


class TreeRNNCell(
    Para[
        tuple[Float[Array, " in_dim"], tuple[Float[Array, " hidden"], ...]],
        Float[Array, " hidden"],
    ],
    Generic[_InDim, _HiddenDim],
):
    """A recursive (tree) network's cell ``h = tanh(W x + Σ_j U_j h_j + b)``.

    With ``arity=2`` it is the ``Node`` cell of a binary tree algebra, with
    ``arity=0`` a ``Leaf`` cell (Socher et al.'s recursive networks).

    **Arguments:** `in_dim`, the payload's size (0 for constructors without one);
    `hidden`; `arity`, the number of children; a PRNG `key`.

    **Returns:** a morphism ``float[in_dim] × float[hidden]^arity → float[hidden]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cell = cdl.TreeRNNCell(0, 4, arity=2, key=jax.random.key(0))
    >>> cell.dom
    (float[0] × (float[4] × float[4]))
    """

    w_in: Float[Array, "hidden in_dim"]
    w_children: Float[Array, "arity hidden hidden"]
    bias: Float[Array, "hidden"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)
    arity: int = eqx.field(static=True)

    def __init__(
        self, in_dim: int, hidden: int, *, arity: int = 2, key: PRNGKeyArray
    ) -> None:
        in_dim = natural_int("TreeRNNCell", "in_dim", in_dim)
        hidden = positive_int("TreeRNNCell", "hidden", hidden)
        arity = natural_int("TreeRNNCell", "arity", arity)
        key = prng_key("TreeRNNCell", key)
        k1, k2 = jax.random.split(key)
        self.w_in = _uniform(k1, (hidden, in_dim), in_dim + arity * hidden)
        self.w_children = _uniform(k2, (arity, hidden, hidden), in_dim + arity * hidden)
        self.bias = jnp.zeros(hidden)
        self.in_dim, self.hidden, self.arity = in_dim, hidden, arity

    def signature(self) -> tuple[Space, Space]:
        """``float[in_dim] × float[hidden]^arity → float[hidden]``."""
        return _tree_signature(
            self.in_dim, TensorSpace(_FLOAT, (self.hidden,)), self.arity
        )

    def __call__(self, x: tuple[_In, tuple[_Hidden, ...]]) -> _Hidden:
        """Combine the payload and the children's states."""
        payload, children = x
        total = self.bias if self.in_dim == 0 else self.w_in @ payload + self.bias
        if children:
            # One matmul over the children's states side by side; the weights
            # side by side are read off the parameters alone (hoisted by a fold).
            w = jnp.concatenate(list(self.w_children), axis=1)
            total = total + w @ jnp.concatenate(children)
        return jnp.tanh(total)


class TreeLSTMCell(
    Para[
        tuple[
            Float[Array, " in_dim"],
            tuple[tuple[Float[Array, " hidden"], Float[Array, " hidden"]], ...],
        ],
        tuple[Float[Array, " hidden"], Float[Array, " hidden"]],
    ],
    Generic[_InDim, _HiddenDim],
):
    """The N-ary Tree-LSTM cell (Tai, Socher and Manning, 2015); carrier ``(h, c)``.

    ``i, o, u`` from ``W x + Σ_j U_j h_j + b``; one forget gate per child,
    ``f_k = σ(W_f x + Σ_j U_{kj} h_j + b_f)``; ``c = i ⊙ tanh(u) + Σ_k f_k ⊙ c_k``,
    ``h = o ⊙ tanh(c)``. With ``arity=0`` it is the leaf cell.

    **Arguments:** `in_dim` (0 for constructors without a payload), `hidden`,
    `arity`, and a PRNG `key`.

    **Returns:** a morphism ``float[in_dim] × (float[hidden]²)^arity →
    float[hidden]²``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> leaf = cdl.TreeLSTMCell(3, 4, arity=0, key=jax.random.key(0))
    >>> node = cdl.TreeLSTMCell(2, 4, arity=2, key=jax.random.key(1))
    >>> hc = leaf((jnp.ones(3), ()))
    >>> [a.shape for a in node((jnp.ones(2), (hc, hc)))]
    [(4,), (4,)]
    """

    w_in: Float[Array, "gates in_dim"]
    w_children: Float[Array, "arity gates hidden"]
    bias: Float[Array, "gates"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)
    arity: int = eqx.field(static=True)
    gates: int = eqx.field(static=True)

    def __init__(
        self, in_dim: int, hidden: int, *, arity: int = 2, key: PRNGKeyArray
    ) -> None:
        in_dim = natural_int("TreeLSTMCell", "in_dim", in_dim)
        hidden = positive_int("TreeLSTMCell", "hidden", hidden)
        arity = natural_int("TreeLSTMCell", "arity", arity)
        key = prng_key("TreeLSTMCell", key)
        k1, k2 = jax.random.split(key)
        gates = (3 + arity) * hidden
        fan_in = in_dim + arity * hidden
        self.w_in = _uniform(k1, (gates, in_dim), fan_in)
        self.w_children = _uniform(k2, (arity, gates, hidden), fan_in)
        self.bias = jnp.zeros(gates).at[3 * hidden :].set(1.0)
        self.in_dim, self.hidden, self.arity, self.gates = in_dim, hidden, arity, gates

    def signature(self) -> tuple[Space, Space]:
        """``float[in_dim] × (float[hidden]²)^arity → float[hidden]²``."""
        h = TensorSpace(_FLOAT, (self.hidden,))
        return _tree_signature(self.in_dim, ProductSpace((h, h)), self.arity)

    def __call__(self, x: tuple[_In, tuple[_HC, ...]]) -> _HC:
        """Combine the payload and the children's ``(h, c)``."""
        payload, children = x
        z = self.bias if self.in_dim == 0 else self.w_in @ payload + self.bias
        if children:
            # One matmul over the children's states side by side.
            w = jnp.concatenate(list(self.w_children), axis=1)
            z = z + w @ jnp.concatenate([h for h, _ in children])
        n = self.hidden
        i, o, u = jax.nn.sigmoid(z[:n]), jax.nn.sigmoid(z[n : 2 * n]), z[2 * n : 3 * n]
        c = i * jnp.tanh(u)
        for k, (_, c_k) in enumerate(children):
            f_k = jax.nn.sigmoid(z[(3 + k) * n : (4 + k) * n])
            c = c + f_k * c_k
        return o * jnp.tanh(c), c


_Kids = tuple[
    tuple[Float[Array, "k hidden"], Float[Array, "k hidden"]], Bool[Array, " k"]
]


class ChildSumTreeLSTMCell(
    Para[
        tuple[Float[Array, " in_dim"], _Kids],
        tuple[Float[Array, " hidden"], Float[Array, " hidden"]],
    ],
    Generic[_InDim, _HiddenDim],
):
    """The Child-Sum Tree-LSTM cell (Tai, Socher and Manning, 2015); carrier ``(h, c)``.

    For nodes with any number of children, in any order (dependency trees): the
    cell of a variadic constructor (``cdl.RoseF(k)``'s ``Node``), which is handed
    its children's ``(h, c)`` stacked with a mask of those present.
    ``h̃ = Σ_k h_k``; ``i, o, u`` from ``W x + U h̃ + b``; one forget gate per child
    from its own state, ``f_k = σ(W_f x + U_f h_k + b_f)``;
    ``c = i ⊙ tanh(u) + Σ_k f_k ⊙ c_k``, ``h = o ⊙ tanh(c)``. A node without
    children (a leaf) gets ``h̃ = 0`` and no forget gate. Its result does not
    depend on the children's order.

    **Arguments:** `in_dim` (0 for nodes without a payload), `hidden`, and a PRNG
    `key`.

    **Returns:** a morphism ``float[in_dim] × ((float[k,hidden]²) × bool[k]) →
    float[hidden]²``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> Node, = cdl.RoseF(3).patterns
    >>> cell = cdl.ChildSumTreeLSTMCell(2, 4, key=jax.random.key(0))
    >>> fold = cdl.cata(cdl.Algebra(cdl.RoseF(3), Node=cell))
    >>> leaf = lambda: Node(jnp.ones(2), [])
    >>> h, c = fold(Node(jnp.zeros(2), [leaf(), Node(jnp.ones(2), [leaf()])]))
    >>> h.shape, c.shape
    ((4,), (4,))
    """

    w_in: Float[Array, "four_hidden in_dim"]
    w_sum: Float[Array, "three_hidden hidden"]
    w_forget: Float[Array, "hidden hidden"]
    bias: Float[Array, " four_hidden"]
    in_dim: int = eqx.field(static=True)
    hidden: int = eqx.field(static=True)

    def __init__(self, in_dim: int, hidden: int, *, key: PRNGKeyArray) -> None:
        in_dim = natural_int("ChildSumTreeLSTMCell", "in_dim", in_dim)
        hidden = positive_int("ChildSumTreeLSTMCell", "hidden", hidden)
        key = prng_key("ChildSumTreeLSTMCell", key)
        k1, k2, k3 = jax.random.split(key, 3)
        fan_in = in_dim + hidden
        self.w_in = _uniform(k1, (4 * hidden, in_dim), fan_in)
        self.w_sum = _uniform(k2, (3 * hidden, hidden), fan_in)
        self.w_forget = _uniform(k3, (hidden, hidden), fan_in)
        self.bias = jnp.zeros(4 * hidden).at[3 * hidden :].set(1.0)
        self.in_dim, self.hidden = in_dim, hidden

    def signature(self) -> tuple[Space, Space]:
        """``float[in_dim] × ((float[k,hidden]²) × bool[k]) → float[hidden]²``."""
        k = DimVar("k")
        stacked = TensorSpace(_FLOAT, (k, self.hidden))
        kids = ProductSpace(
            (ProductSpace((stacked, stacked)), TensorSpace(_BOOL, (k,)))
        )
        h = TensorSpace(_FLOAT, (self.hidden,))
        payload = TensorSpace(_FLOAT, (self.in_dim,))
        return ProductSpace((payload, kids)), ProductSpace((h, h))

    def __call__(self, x: tuple[_In, _Kids]) -> _HC:
        """Combine the payload and the present children's ``(h, c)``."""
        payload, ((hs, cs), mask) = x
        n = self.hidden
        z = self.bias if self.in_dim == 0 else self.w_in @ payload + self.bias
        present = mask[:, None]
        iou = z[: 3 * n] + self.w_sum @ jnp.where(present, hs, 0.0).sum(axis=0)
        i, o = jax.nn.sigmoid(iou[:n]), jax.nn.sigmoid(iou[n : 2 * n])
        forget = jax.nn.sigmoid(z[None, 3 * n :] + hs @ self.w_forget.T)
        c = i * jnp.tanh(iou[2 * n :]) + jnp.where(present, forget * cs, 0.0).sum(0)
        return o * jnp.tanh(c), c
