"""Graphs and message passing: graph layers as parametric coKleisli morphisms.

A graph layer reads the graph as a context and maps node features to node
features; ``>>`` composes layers that share the graph. Aggregation is a
commutative monoid given as a value (`Sum`, `Mean`, `Max`, `Min`, …), and
semiring propagation (`Propagate` over `MIN_PLUS`) is Bellman-Ford.
"""

from ._action import GraphAction as GraphAction
from ._graph import (
    Graph as Graph,
    GraphError as GraphError,
    batch as batch,
    pad as pad,
    unbatch as unbatch,
)
from ._layers import (
    CoKleisli as CoKleisli,
    GraphAttention as GraphAttention,
    GraphConv as GraphConv,
    MessagePassing as MessagePassing,
    OnNodes as OnNodes,
    Propagate as Propagate,
    Readout as Readout,
    aggregate as aggregate,
    segment_softmax as segment_softmax,
)
from ._monoid import (
    LOG as LOG,
    MAX_PLUS as MAX_PLUS,
    MAX_TIMES as MAX_TIMES,
    MIN_PLUS as MIN_PLUS,
    REAL as REAL,
    AbstractAggregator as AbstractAggregator,
    AbstractMonoid as AbstractMonoid,
    LogSumExp as LogSumExp,
    Max as Max,
    Mean as Mean,
    Min as Min,
    Monoid as Monoid,
    Product as Product,
    Semiring as Semiring,
    Sum as Sum,
)
