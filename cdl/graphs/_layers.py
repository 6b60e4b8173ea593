"""Message passing as parametric coKleisli morphisms.

The graph is a context every layer reads: a graph layer is a map
``G × X → Y`` of the coKleisli category of the comonad ``G × −``, made parametric
by its weights. cdl embeds it in Para as ``G × X → G × Y``, passing the graph
along unchanged, so that ordinary ``>>`` is coKleisli composition: both layers
read the same graph.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.graphs import Graph, GraphConv, OnNodes
>>> k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
>>> g = Graph.from_edge_list([(0, 1), (1, 2), (2, 0)], 3, nodes=jnp.eye(3))
>>> model = GraphConv(3, 8, key=k1) >> OnNodes(cdl.Relu()) >> GraphConv(8, 2, key=k2)
>>> model.dom, model.cod
((Graph × float[n,3]), (Graph × float[n,2]))
>>> graph, h = model(g.inputs())
>>> graph is g, h.shape
(True, (3, 2))

Composition is associative, and the lifted identity is a unit:

>>> f, h2 = GraphConv(3, 3, key=k1), GraphConv(3, 3, key=k3)
>>> a = ((f >> OnNodes(cdl.Tanh())) >> h2)(g.inputs())[1]
>>> b = (f >> (OnNodes(cdl.Tanh()) >> h2))(g.inputs())[1]
>>> c = (OnNodes(cdl.Identity()) >> f)(g.inputs())[1]
>>> bool(jnp.allclose(a, b)), bool(jnp.allclose(c, f(g.inputs())[1]))
(True, True)

Layers that do not fit are refused when composed:

>>> GraphConv(3, 8, key=k1) >> GraphConv(4, 2, key=k2)
Traceback (most recent call last):
...
cdl.CompositionError: GraphConv(3→8, sum) does not compose with \
GraphConv(4→2, sum): output (Graph × float[n,8]) of GraphConv(3→8, sum) != input \
(Graph × float[n,4]) of GraphConv(4→2, sum).
"""

from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray, Shaped

from .. import _messages as core_messages, _random
from .._para import CompositionError, Para, SpaceError, apply, split_key
from .._space import (
    Dim,
    DimVar,
    DTypeVar,
    Mismatch,
    ProductSpace,
    SeqVar,
    Space,
    SpaceVar,
    TensorSpace,
    Unifier,
    rename,
)
from ..nn import Embedding, Linear
from ..nn._arguments import flag, positive_int, prng_key, whole
from . import _messages
from ._graph import Graph, _concrete
from ._monoid import (
    MIN_PLUS,
    AbstractAggregator,
    AbstractMonoid,
    Mean,
    Product,
    Semiring,
    Sum,
    _column,
)

X = TypeVar("X")
Y = TypeVar("Y")


def _aggregator(owner: str, value: object) -> AbstractAggregator:
    """`value` if it is an aggregator (`Sum()` when None), else a `TypeError`."""
    if value is None:
        return Sum()
    if isinstance(value, AbstractAggregator):
        return value
    raise TypeError(_messages.not_an_aggregator(owner, value))


def _morphism(owner: str, f: object) -> None:
    """Refuse an `f` that is not a cdl morphism, naming the fix."""
    if not isinstance(f, Para):
        raise TypeError(_messages.not_a_morphism(owner, f))


def aggregate(
    graph: Graph,
    messages: Shaped[Array, " e *d"],
    monoid: AbstractAggregator,
    *,
    empty: float | None = None,
) -> Shaped[Array, " n *d"]:
    """Fold the messages of the edges at their receivers.

    **Arguments:**

    - `graph`: the graph whose `receivers` say where each message goes.
    - `messages`: one row per edge.
    - `monoid`: the aggregation, e.g. `Sum()` or `Min()`.
    - `empty`: a value for nodes that receive nothing, whatever the monoid
      (default: the monoid's identity, which is ±∞ for max and min, 1 for a
      product).

    **Returns:** one row per node.

    >>> import jax.numpy as jnp, cdl
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1), (2, 1)], 3)
    >>> m = jnp.array([4.0, 2.0])
    >>> cdl.graphs.aggregate(g, m, cdl.graphs.Min())
    Array([inf,  2., inf], dtype=float32)
    >>> cdl.graphs.aggregate(g, m, cdl.graphs.Min(), empty=0.0)
    Array([0., 2., 0.], dtype=float32)
    >>> cdl.graphs.aggregate(g, m, cdl.graphs.Product(), empty=0.0)
    Array([0., 8., 0.], dtype=float32)
    """
    if not isinstance(graph, Graph):
        raise TypeError(_messages.not_a_graph("aggregate", graph))
    monoid = _aggregator("aggregate", monoid)
    if not (hasattr(messages, "shape") and hasattr(messages, "dtype")):
        raise TypeError(_messages.not_an_array("aggregate", "messages", messages))
    shape = tuple(jnp.shape(messages))
    if not shape or shape[0] != graph.num_edges:
        raise SpaceError(_messages.message_rows(shape, graph.num_edges))
    if jnp.result_type(messages) == jnp.bool_ and isinstance(
        monoid, Sum | Mean | Product
    ):  # JAX's own error names its add or mul, not the fold
        raise TypeError(_messages.bool_messages(monoid.label))
    folded = monoid.segment(messages, graph.receivers, graph.num_nodes)
    given: object = empty  # annotated as a float, but a user may pass anything
    if given is not None and not isinstance(given, jax.core.Tracer):
        _check_empty(given, folded.dtype)
    if empty is None or _folds_nothing_to(monoid, empty, folded.dtype):
        return folded
    received = _column(graph.in_degree > 0, folded)
    return jnp.where(received, folded, jnp.asarray(empty, folded.dtype))


def _check_empty(empty: object, dtype: Any) -> None:
    """Refuse an `empty` that is not one real number the rows of `dtype` hold.

    Cast without a word, 1.5 in int rows was cut to 1 and -1 in uint8 rows
    wrapped to 255.
    """
    value = np.asarray(empty)
    real = (
        np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.bool_)
    ) and not np.iscomplexobj(value)
    if real and not value.shape and jnp.issubdtype(dtype, jnp.inexact):
        return
    if not real or value.shape or value.astype(dtype) != value:
        raise ValueError(_messages.bad_empty(empty, str(dtype)))


def _folds_nothing_to(monoid: AbstractAggregator, empty: Any, dtype: Any) -> bool:
    """Whether `monoid` already folds an empty segment to `empty` (0 for a sum)."""
    if isinstance(empty, jax.core.Tracer):
        return False
    with jax.ensure_compile_time_eval():
        if isinstance(monoid, Mean):
            nothing = jnp.zeros((), dtype)
        elif isinstance(monoid, AbstractMonoid):
            nothing = monoid.identity(dtype)
        else:
            return False
        return bool(nothing == jnp.asarray(empty, dtype))


def segment_softmax(
    logits: Float[Array, " e *d"], segment_ids: Int[Array, " e"], num_segments: int
) -> Float[Array, " e *d"]:
    """Softmax over the rows of each segment: attention weights of incoming edges.

    **Arguments:** `logits`, one row per edge; `segment_ids`, the receiver of each
    edge (ints in ``0..num_segments-1``: concrete ones are checked, as an id
    outside would belong to no segment); `num_segments`, the number of nodes.

    **Returns:** weights of the shape of `logits` that sum to 1 over each segment;
    a segment whose logits are all ``-inf`` (every edge masked) gets weights 0.

    >>> import jax.numpy as jnp, cdl
    >>> ids = jnp.array([0, 0, 1])
    >>> w = cdl.graphs.segment_softmax(jnp.array([0.0, jnp.log(3.0), 5.0]), ids, 2)
    >>> w.round(4)
    Array([0.25, 0.75, 1.  ], dtype=float32)
    >>> cdl.graphs.segment_softmax(jnp.array([0.0, -jnp.inf]), jnp.array([0, 1]), 2)
    Array([1., 0.], dtype=float32)
    """
    for name, value in (("logits", logits), ("segment_ids", segment_ids)):
        if not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(_messages.not_an_array("segment_softmax", name, value))
    rows, ids = tuple(jnp.shape(logits)), tuple(jnp.shape(segment_ids))
    if len(ids) != 1 or not rows or rows[0] != ids[0]:
        raise SpaceError(_messages.segment_rows(rows, ids))
    count = whole(num_segments)
    if count is None or count < 0:
        raise ValueError(_messages.bad_segment_count(num_segments))
    if not jnp.issubdtype(jnp.result_type(segment_ids), jnp.integer):
        raise ValueError(_messages.segment_ids_not_ints(jnp.result_type(segment_ids)))
    given = _concrete(segment_ids)
    if given is not None:  # an id outside 0..count-1 would be dropped by the sums
        outside = np.flatnonzero((given < 0) | (given >= count))
        if outside.size:
            row = int(outside[0])
            raise ValueError(_messages.segment_outside(row, int(given[row]), count))
    return _softmax_within(logits, segment_ids, count)


def _softmax_within(
    logits: Float[Array, " e *d"], segment_ids: Int[Array, " e"], num_segments: int
) -> Float[Array, " e *d"]:
    """`segment_softmax` of ids known to lie in ``0..num_segments-1`` (a graph's)."""
    top = jax.ops.segment_max(logits, segment_ids, num_segments)
    top = jax.lax.stop_gradient(jnp.where(jnp.isfinite(top), top, 0.0))
    weights = jnp.exp(logits - top[segment_ids])
    total = jax.ops.segment_sum(weights, segment_ids, num_segments)[segment_ids]
    # a segment whose logits are all -inf (every edge masked) gets weights 0, not
    # 0/0; dividing by 1 there keeps the gradient finite too
    return weights / jnp.where(total > 0, total, 1)


def _rows(f: Para[Any, Any], xs: Array, key: PRNGKeyArray | None) -> Array:
    """`f` applied to every row of `xs`, with a key of its own for each row."""
    if key is None or not f.stochastic:
        out: Array = jax.vmap(lambda x: apply(f, x, None))(xs)
        return out
    keys = jax.random.split(key, xs.shape[0])
    mapped: Array = jax.vmap(lambda x, k: apply(f, x, k))(xs, keys)
    return mapped


def _needs_key(layer: Para[Any, Any], key: PRNGKeyArray | None) -> None:
    """Refuse a stochastic layer called without a key, by its own name."""
    if key is None and layer.stochastic:
        raise ValueError(core_messages.needs_key(layer.label))


def _node_table(label: str, x: tuple[Graph, Any]) -> tuple[Graph, Array]:
    """The graph and its node table; a table without one row per node is refused."""
    graph, h = x
    shape = tuple(jnp.shape(h))
    if not shape or shape[0] != graph.num_nodes:
        raise SpaceError(_messages.node_rows(label, graph.num_nodes, shape))
    return graph, h


def _vector_size(space: Space) -> int | None:
    if isinstance(space, TensorSpace) and len(space.shape) == 1:
        (size,) = space.shape
        return size if isinstance(size, int) else None
    return None


def _lift(space: Space, rows: Dim) -> Space:
    """The space of tables with one row in `space` per node."""
    if isinstance(space, TensorSpace):
        return TensorSpace(space.dtype, (rows, *space.shape))
    return TensorSpace(DTypeVar("dtype"), (rows, SeqVar("row")))


def _unlift(space: Space) -> Space:
    """The space of one row of a node table."""
    if isinstance(space, TensorSpace) and space.shape:
        return TensorSpace(space.dtype, space.shape[1:])
    return SpaceVar("row")


def _graph_pair(rows: Space, context: Space | None = None) -> ProductSpace:
    return ProductSpace((context or SpaceVar("Graph"), rows))


class MessagePassing(
    Para[
        tuple[Graph, Float[Array, " n in_dim"]],
        tuple[Graph, Float[Array, " n out_dim"]],
    ]
):
    """A message-passing layer: messages along edges, a monoid at nodes, an update.

    For each edge ``u → v`` the `message` map sees ``[x_u ; x_v ; e_uv]`` (sender
    features, receiver features, edge features, concatenated); the messages
    arriving at ``v`` are folded by `aggregate`, and the `update` map sees
    ``[x_v ; m_v]``. Nodes that receive nothing get 0 as their folded message.
    All sizes are read off the two maps.

    **Arguments:**

    - `message`: a morphism ``float[2·in_dim + edge_dim] → float[message_dim]``.
    - `update`: a morphism ``float[in_dim + message_dim] → float[out_dim]``.
    - `aggregate`: the aggregation (default `Sum()`): `Mean()`, `Max()`, `Min()`…

    **Returns:** the layer ``G × float[n, in_dim] → G × float[n, out_dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> k1, k2 = jax.random.split(jax.random.key(0))
    >>> layer = cdl.graphs.MessagePassing(
    ...     cdl.Linear(2 * 4 + 1, 16, key=k1) >> cdl.Relu(),
    ...     cdl.Linear(4 + 16, 4, key=k2),
    ...     aggregate=cdl.graphs.Max(),
    ... )
    >>> layer
    MessagePassing(4→4, edges 1, messages 16, max)
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1), (1, 0)], 2, edges=jnp.ones(2))
    >>> layer((g, jnp.ones((2, 4))))[1].shape
    (2, 4)
    """

    message: Para[Any, Any]
    update: Para[Any, Any]
    aggregate: AbstractAggregator
    in_dim: int = eqx.field(static=True)
    edge_dim: int = eqx.field(static=True)
    message_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)

    def __init__(
        self,
        message: Para[Any, Any],
        update: Para[Any, Any],
        *,
        aggregate: AbstractAggregator | None = None,
    ) -> None:
        _morphism("MessagePassing's message", message)
        _morphism("MessagePassing's update", update)
        self.message = message
        self.update = update
        self.aggregate = _aggregator("MessagePassing", aggregate)
        sizes = []
        for part, f in (("message", message), ("update", update)):
            for space in f.signature():
                size = _vector_size(space)
                if size is None:
                    raise CompositionError(
                        _messages.unsized("MessagePassing", part, space)
                    )
                sizes.append(size)
        k, m, u, o = sizes
        in_dim = u - m
        if in_dim < 1:
            detail = (
                f"the update map reads [x_v ; m_v], a node's features and its "
                f"message of size {m}, so it must take more than {m} inputs, but it "
                f"takes {u}"
            )
            raise CompositionError(_messages.split_mismatch("MessagePassing", detail))
        if k < 2 * in_dim:
            detail = (
                f"messages of size {m} leave {in_dim} node features for the "
                f"update's input of size {u}, so the message map, which reads "
                f"[x_u ; x_v ; e_uv], must take at least 2·{in_dim} = {2 * in_dim} "
                f"inputs, but it takes {k}"
            )
            raise CompositionError(_messages.split_mismatch("MessagePassing", detail))
        self.in_dim, self.edge_dim, self.message_dim, self.out_dim = (
            in_dim,
            k - 2 * in_dim,
            m,
            o,
        )

    @property
    def label(self) -> str:
        """``MessagePassing(in→out, edges e, messages m, aggregation)``."""
        return (
            f"MessagePassing({self.in_dim}→{self.out_dim}, edges {self.edge_dim}, "
            f"messages {self.message_dim}, {self.aggregate.label})"
        )

    def __repr__(self) -> str:
        return self.label

    @property
    def stochastic(self) -> bool:
        """Whether the message or update map needs a key."""
        return self.message.stochastic or self.update.stochastic

    def __call__(
        self,
        x: tuple[Graph, Float[Array, " n in_dim"]],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Graph, Float[Array, " n out_dim"]]:
        """Send, fold and update once; the graph passes through unchanged."""
        _needs_key(self, key)
        graph, h = _node_table(self.label, x)
        parts = [h[graph.senders], h[graph.receivers]]
        if self.edge_dim:
            width = 0 if graph.edges is None else int(graph.edges.shape[1])
            if width != self.edge_dim or graph.edges is None:
                raise SpaceError(_messages.edge_width(self.label, self.edge_dim, width))
            parts.append(graph.edges.astype(h.dtype))
        k1, k2 = split_key(key, self.stochastic)
        messages = _rows(self.message, jnp.concatenate(parts, axis=1), k1)
        folded = aggregate(graph, messages, self.aggregate, empty=0.0)
        return graph, _rows(self.update, jnp.concatenate([h, folded], axis=1), k2)


class GraphConv(
    Para[
        tuple[Graph, Float[Array, " n in_dim"]],
        tuple[Graph, Float[Array, " n out_dim"]],
    ]
):
    """The graph convolution ``x'_v = W₁ x_v + W₂ ⊕_{u→v} x_u + b``.

    With `Sum()` this is the layer of Morris et al. (GraphConv); with `Mean()` the
    mean aggregator of GraphSAGE; any aggregation may be given. Nodes that receive
    nothing fold to 0.

    **Arguments:**

    - `in_dim`, `out_dim`: feature sizes.
    - `aggregate`: the aggregation (default `Sum()`).
    - `key`: PRNG key for the weights.

    **Returns:** the layer ``G × float[n, in_dim] → G × float[n, out_dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> mean = cdl.graphs.Mean()
    >>> conv = cdl.graphs.GraphConv(2, 3, aggregate=mean, key=jax.random.key(0))
    >>> conv
    GraphConv(2→3, mean)
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2)
    >>> conv((g, jnp.ones((2, 2))))[1].shape
    (2, 3)
    """

    root: Linear
    neighbours: Linear
    aggregate: AbstractAggregator
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        aggregate: AbstractAggregator | None = None,
        key: PRNGKeyArray,
    ) -> None:
        in_dim = positive_int("GraphConv", "in_dim", in_dim)
        out_dim = positive_int("GraphConv", "out_dim", out_dim)
        k1, k2 = jax.random.split(prng_key("GraphConv", key))
        self.root = Linear(in_dim, out_dim, key=k1)
        self.neighbours = Linear(in_dim, out_dim, use_bias=False, key=k2)
        self.aggregate = _aggregator("GraphConv", aggregate)
        self.in_dim, self.out_dim = in_dim, out_dim

    @property
    def label(self) -> str:
        """``GraphConv(in→out, aggregation)``."""
        return f"GraphConv({self.in_dim}→{self.out_dim}, {self.aggregate.label})"

    def __repr__(self) -> str:
        return self.label

    def __call__(
        self, x: tuple[Graph, Float[Array, " n in_dim"]]
    ) -> tuple[Graph, Float[Array, " n out_dim"]]:
        """Fold the neighbours' features, then mix them with the node's own."""
        graph, h = _node_table(self.label, x)
        folded = aggregate(graph, h[graph.senders], self.aggregate, empty=0.0)
        out = jax.vmap(self.root)(h) + jax.vmap(self.neighbours)(folded)
        return graph, out


def _slope(value: object) -> float:
    """A LeakyReLU slope as a float: a finite real number, or a 0-d array of one."""
    if isinstance(value, np.ndarray | jax.Array) and value.shape == ():
        try:  # its number, kept as static metadata (a traced one cannot be)
            value = np.asarray(value).item()
        except jax.errors.TracerArrayConversionError:
            pass
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not np.isfinite(value)
    ):
        raise ValueError(_messages.bad_negative_slope(value))
    return float(value)


class GraphAttention(
    Para[
        tuple[Graph, Float[Array, " n in_dim"]],
        tuple[Graph, Float[Array, " n out_dim"]],
    ]
):
    """Graph attention: ``x'_v = b + Σ_{u→v} α_uv W x_u``, α a softmax over ``u``.

    The scores are ``LeakyReLU(aᵀ W x_u + cᵀ W x_v)`` (GAT, one head), normalised
    over the edges arriving at each node by `segment_softmax`. A node that
    receives nothing gets ``b``.

    **Arguments:** `in_dim`, `out_dim`; `negative_slope` of the LeakyReLU
    (default 0.2); `key`.

    **Returns:** the layer ``G × float[n, in_dim] → G × float[n, out_dim]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> gat = cdl.graphs.GraphAttention(3, 4, key=jax.random.key(0))
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1), (2, 1)], 3)
    >>> gat, gat((g, jnp.ones((3, 3))))[1].shape
    (GraphAttention(3→4), (3, 4))
    """

    linear: Linear
    source_score: Float[Array, " out_dim"]
    target_score: Float[Array, " out_dim"]
    bias: Float[Array, " out_dim"]
    in_dim: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)
    negative_slope: float = eqx.field(static=True)

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        negative_slope: float = 0.2,
        key: PRNGKeyArray,
    ) -> None:
        in_dim = positive_int("GraphAttention", "in_dim", in_dim)
        out_dim = positive_int("GraphAttention", "out_dim", out_dim)
        negative_slope = _slope(negative_slope)
        k1, k2, k3 = jax.random.split(prng_key("GraphAttention", key), 3)
        self.linear = Linear(in_dim, out_dim, use_bias=False, key=k1)
        bound = 1 / max(out_dim, 1) ** 0.5
        self.source_score = _random.uniform(k2, (out_dim,), -bound, bound)
        self.target_score = _random.uniform(k3, (out_dim,), -bound, bound)
        self.bias = jnp.zeros(out_dim)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.negative_slope = negative_slope

    @property
    def label(self) -> str:
        """``GraphAttention(in→out)``."""
        return f"GraphAttention({self.in_dim}→{self.out_dim})"

    def __repr__(self) -> str:
        return self.label

    def __call__(
        self, x: tuple[Graph, Float[Array, " n in_dim"]]
    ) -> tuple[Graph, Float[Array, " n out_dim"]]:
        """Score the incoming edges, normalise, and sum the weighted messages."""
        graph, h = _node_table(self.label, x)
        z = jax.vmap(self.linear)(h)
        scores = (z @ self.source_score)[graph.senders] + (z @ self.target_score)[
            graph.receivers
        ]
        scores = jax.nn.leaky_relu(scores, self.negative_slope)
        alpha = _softmax_within(scores, graph.receivers, graph.num_nodes)
        sent = alpha[:, None] * z[graph.senders]
        folded = jax.ops.segment_sum(sent, graph.receivers, graph.num_nodes)
        return graph, folded + self.bias[None]


class Propagate(
    Para[tuple[Graph, Shaped[Array, " n *d"]], tuple[Graph, Shaped[Array, " n *d"]]]
):
    """One step of semiring message passing: ``x'_v = x_v ⊕ ⊕_{u→v} (w_uv ⊗ x_u)``.

    The weights ``w`` are the first column of the graph's edge features. Over the
    min-plus semiring this is one relaxation of Bellman-Ford; repeated
    ``n - 1`` times from distances 0 at the source and ∞ elsewhere it gives the
    shortest-path distances. Over `REAL` it multiplies by ``I + Aᵀ``.

    **Arguments:**

    - `semiring`: the semiring (default `MIN_PLUS`).
    - `keep`: include the node's own value ``x_v`` in the fold (default True).

    **Returns:** the parameter-free layer ``G × S[n, *d] → G × S[n, *d]``.

    >>> import jax.numpy as jnp, cdl
    >>> g = cdl.graphs.Graph.from_edge_list(
    ...     [(0, 1), (1, 2), (0, 2)], 3, edges=jnp.array([1.0, 1.0, 5.0]))
    >>> d = jnp.array([0.0, jnp.inf, jnp.inf])
    >>> step = cdl.graphs.Propagate()
    >>> (step >> step)((g, d))[1]
    Array([0., 1., 2.], dtype=float32)
    """

    semiring: Semiring
    keep: bool = eqx.field(static=True, default=True)

    def __init__(self, semiring: Semiring | None = None, *, keep: bool = True) -> None:
        if semiring is not None and not isinstance(semiring, Semiring):
            raise TypeError(_messages.not_a_semiring(semiring))
        self.semiring = MIN_PLUS if semiring is None else semiring
        self.keep = flag("Propagate", "keep", keep)

    @property
    def label(self) -> str:
        """``Propagate(semiring)``."""
        return f"Propagate({self.semiring.name})"

    def __call__(
        self, x: tuple[Graph, Shaped[Array, " n *d"]]
    ) -> tuple[Graph, Shaped[Array, " n *d"]]:
        """Relax every edge once."""
        graph, h = _node_table(self.label, x)
        if graph.edges is None:
            raise SpaceError(_messages.no_weights(self.label))
        s = self.semiring
        sent = h[graph.senders]
        weights = _column(graph.edges[:, 0].astype(h.dtype), sent)
        folded = s.plus.segment(
            s.times(weights, sent), graph.receivers, graph.num_nodes
        )
        return graph, s.plus.combine(h, folded) if self.keep else folded


class OnNodes(Para[tuple[Graph, X], tuple[Graph, Y]], Generic[X, Y]):
    """A morphism on one node's features, applied to every node: ``G × Xⁿ → G × Yⁿ``.

    It reads nothing of the graph: the lifting of a map of the base category to
    the coKleisli category.

    **Arguments:** `f`, a morphism on one row of the node table.

    **Returns:** the lifted morphism.

    >>> import jax, jax.numpy as jnp, cdl
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2)
    >>> layer = cdl.graphs.OnNodes(cdl.Linear(3, 5, key=jax.random.key(0)))
    >>> layer.dom, layer.cod
    ((Graph × float[n,3]), (Graph × float[n,5]))
    >>> layer((g, jnp.ones((2, 3))))[1].shape
    (2, 5)
    """

    f: Para[Any, Any]

    def __check_init__(self) -> None:
        _morphism("OnNodes", self.f)

    @property
    def label(self) -> str:
        """``OnNodes(f)``."""
        return f"OnNodes({self.f.label})"

    @property
    def stochastic(self) -> bool:
        """Whether `f` needs a key."""
        return self.f.stochastic

    def signature(self) -> tuple[Space, Space]:
        """`f`'s spaces with a node dimension in front, beside the graph."""
        dom, cod = self.f.signature()
        both = rename(ProductSpace((dom, cod)))
        assert isinstance(both, ProductSpace)
        rows, context = DimVar("n"), SpaceVar("Graph")
        return (
            _graph_pair(_lift(both.factors[0], rows), context),
            _graph_pair(_lift(both.factors[1], rows), context),
        )

    def output_space(self, dom: Space) -> Space:
        """Push one row of `dom` through `f`."""
        expected, _ = self.signature()
        unifier = Unifier()
        unifier.unify(expected, dom)
        dom = unifier.substitute(dom)
        assert isinstance(dom, ProductSpace)
        context, table = dom.factors
        rows: Dim = DimVar("n")
        if isinstance(table, TensorSpace) and table.shape:
            rows = table.shape[0]
        return _graph_pair(_lift(self.f.output_space(_unlift(table)), rows), context)

    def __call__(
        self, x: tuple[Graph, X], *, key: PRNGKeyArray | None = None
    ) -> tuple[Graph, Y]:
        """Apply `f` to each row of the node table."""
        _needs_key(self, key)
        graph, h = _node_table(self.label, x)
        if isinstance(self.f, Embedding):  # name a concrete id it has no row for
            self.f._refuse_outside(h, self.label, "node")
        out: Y = _rows(self.f, h, key)  # type: ignore[assignment]
        return graph, out


class CoKleisli(Para[tuple[Graph, X], tuple[Graph, Y]], Generic[X, Y]):
    """Lift a map that reads the graph, ``G × X → Y``, to ``G × X → G × Y``.

    This is the embedding of the coKleisli category of ``G × −`` into Para: the
    lifted map copies the graph, uses one copy and passes the other on.

    **Arguments:** `f`, a morphism on pairs ``(graph, features)``.

    **Returns:** the lifted morphism, composable with ``>>`` with other graph layers.

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> from cdl.graphs import Graph
    >>> Table = tuple[Graph, Float[Array, "n d"]]
    >>> class Degree(cdl.Para[Table, Float[Array, "n 1"]]):
    ...     def __call__(self, x: Table) -> Float[Array, "n 1"]:
    ...         return x[0].in_degree[:, None].astype(x[1].dtype)
    >>> g = Graph.from_edge_list([(0, 1), (2, 1)], 3)
    >>> cdl.graphs.CoKleisli(Degree())((g, jnp.zeros((3, 2))))[1][:, 0]
    Array([0., 2., 0.], dtype=float32)
    """

    f: Para[Any, Any]

    def __check_init__(self) -> None:
        _morphism("CoKleisli", self.f)

    @property
    def label(self) -> str:
        """``CoKleisli(f)``."""
        return f"CoKleisli({self.f.label})"

    @property
    def stochastic(self) -> bool:
        """Whether `f` needs a key."""
        return self.f.stochastic

    def signature(self) -> tuple[Space, Space]:
        """``G × X → G × Y`` from `f`'s ``G × X → Y``."""
        dom, cod = self.f.signature()
        if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
            return dom, ProductSpace((dom.factors[0], cod))
        context, rows = SpaceVar("Graph"), SpaceVar("X")
        unifier = Unifier()
        try:
            unifier.unify(dom, ProductSpace((context, rows)))
        except Mismatch:
            pass
        return unifier.substitute(ProductSpace((context, rows))), ProductSpace(
            (context, cod)
        )

    def output_space(self, dom: Space) -> Space:
        """The graph's space beside `f`'s output."""
        out = self.f.output_space(dom)
        if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
            return ProductSpace((dom.factors[0], out))
        return super().output_space(dom)

    def __call__(
        self, x: tuple[Graph, X], *, key: PRNGKeyArray | None = None
    ) -> tuple[Graph, Y]:
        """Run `f` and keep the graph."""
        out: Y = apply(self.f, x, key)
        return x[0], out


class Readout(Para[tuple[Graph, Shaped[Array, " n *d"]], Shaped[Array, " g *d"]]):
    """Fold the node features of each graph of a batch: ``G × X[n] → X[g]``.

    It leaves the coKleisli category: what follows acts on one row per graph.
    Rows of padding graphs are included (mask them with `Graph.graph_mask`);
    graphs with no node fold to 0.

    **Arguments:** `aggregate`, the aggregation (default `Sum()`).

    **Returns:** the parameter-free readout.

    >>> import jax.numpy as jnp, cdl
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2)
    >>> b = cdl.graphs.batch([g, cdl.graphs.Graph.from_edge_list([], 1)])
    >>> cdl.graphs.Readout(cdl.graphs.Max())((b, jnp.array([[1.0], [3.0], [2.0]])))
    Array([[3.],
           [2.]], dtype=float32)
    """

    aggregate: AbstractAggregator

    def __init__(self, aggregate: AbstractAggregator | None = None) -> None:
        self.aggregate = _aggregator("Readout", aggregate)

    @property
    def label(self) -> str:
        """``Readout(aggregation)``."""
        return f"Readout({self.aggregate.label})"

    def signature(self) -> tuple[Space, Space]:
        """A table in, one row per graph out, of a dtype of its own.

        A mean of ints is a float: `output_space` finds the dtype from the table's.
        """
        dom, cod = super().signature()
        assert isinstance(cod, TensorSpace)
        return dom, TensorSpace(DTypeVar("folded"), cod.shape)

    def output_space(self, dom: Space) -> Space:
        """One row per graph, of the dtype the aggregation gives the table's."""
        out = super().output_space(dom)
        expected, _ = self.signature()
        unifier = Unifier()
        unifier.unify(expected, dom)
        given = unifier.substitute(dom)
        assert isinstance(given, ProductSpace) and isinstance(out, TensorSpace)
        table = given.factors[1]
        if not (isinstance(table, TensorSpace) and isinstance(table.dtype, frozenset)):
            return out
        if len(table.dtype) != 1:  # a kind (float): the aggregations keep it
            return TensorSpace(table.dtype, out.shape)
        (name,) = table.dtype
        rows, ids = jnp.zeros((1,), jnp.dtype(name)), jnp.zeros((1,), jnp.int32)
        folded = jax.eval_shape(lambda: self.aggregate.segment(rows, ids, 1))
        return TensorSpace(frozenset({folded.dtype.name}), out.shape)

    def __call__(
        self, x: tuple[Graph, Shaped[Array, " n *d"]]
    ) -> Shaped[Array, " g *d"]:
        """One row per graph."""
        graph, h = _node_table(self.label, x)
        folded = self.aggregate.segment(h, graph.node_graph, graph.num_graphs)
        if _folds_nothing_to(self.aggregate, 0, folded.dtype):
            return folded
        return jnp.where(_column(graph.n_node > 0, folded), folded, 0)
