"""Graphs and message passing: graph layers as parametric coKleisli morphisms.

A graph layer reads the graph as a context and maps node features to node
features; ``>>`` composes layers that share the graph. Aggregation is a
commutative monoid given as a value (`Sum`, `Mean`, `Max`, `Min`, …), and
semiring propagation (`Propagate` over `MIN_PLUS`) is Bellman-Ford.
"""

from ._graph import Graph as Graph
from ._graph import GraphError as GraphError
from ._graph import batch as batch
from ._graph import pad as pad
from ._graph import unbatch as unbatch
from ._layers import CoKleisli as CoKleisli
from ._layers import GraphConv as GraphConv
from ._layers import MessagePassing as MessagePassing
from ._layers import OnNodes as OnNodes
from ._layers import Propagate as Propagate
from ._layers import Readout as Readout
from ._layers import aggregate as aggregate
from ._monoid import LOG as LOG
from ._monoid import MAX_PLUS as MAX_PLUS
from ._monoid import MAX_TIMES as MAX_TIMES
from ._monoid import MIN_PLUS as MIN_PLUS
from ._monoid import REAL as REAL
from ._monoid import AbstractAggregator as AbstractAggregator
from ._monoid import AbstractMonoid as AbstractMonoid
from ._monoid import LogSumExp as LogSumExp
from ._monoid import Max as Max
from ._monoid import Mean as Mean
from ._monoid import Min as Min
from ._monoid import Monoid as Monoid
from ._monoid import Product as Product
from ._monoid import Semiring as Semiring
from ._monoid import Sum as Sum
