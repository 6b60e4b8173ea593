"""The symmetric group renumbering the nodes of a graph and its node features.

Permutation equivariance of a graph layer is its being a homomorphism for this
action: renumbering the nodes of the input graph renumbers the output rows. It is
measured with `cdl.equivariance_error`, on random graphs and random permutations:

>>> import jax, numpy as np, cdl
>>> from cdl.graphs import GraphAction, GraphConv
>>> act = GraphAction(6, 10, 3)
>>> conv = GraphConv(3, 2, aggregate=cdl.graphs.Max(), key=jax.random.key(0))
>>> perms = [np.random.default_rng(i).permutation(6) for i in range(4)]
>>> error = cdl.equivariance_error(
...     lambda x: conv(x)[1], act, cdl.permutation_action(6, (2,)),
...     key=jax.random.key(1), elements=perms)
>>> float(error) < 1e-6
True
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _random
from ..equivariance import AbstractAction, Monoid
from ..nn._arguments import natural_int, positive_int
from . import _messages
from ._graph import Graph


class GraphAction(AbstractAction):
    """``S_n`` acting on pairs ``(graph, node features)`` by renumbering the nodes.

    The element ``g`` (a permutation as an index array) sends the pair to
    ``(graph.permute(g), x[g])``: new node ``i`` is old node ``g[i]``, with the
    same edges between the same nodes.

    **Arguments:**

    - `num_nodes`, `num_edges`: the sizes of the random graphs drawn for checks.
    - `node_dim`: the width of the node features.
    - `edge_dim`: the width of the random edge features (0 for none).
    - `monoid`: a subgroup of ``S_n`` to use (default: all of ``S_n``).

    **Returns:** the action, for `cdl.equivariance_error` and `cdl.is_equivariant`.

    >>> import jax, jax.numpy as jnp, numpy as np
    >>> act = GraphAction(3, 2, 1)
    >>> g = Graph.from_edge_list([(0, 1), (1, 2)], 3)
    >>> graph, x = act.act(np.array([2, 0, 1]), (g, jnp.arange(3.0)[:, None]))
    >>> graph.senders, graph.receivers, x[:, 0]
    (Array([1, 2], dtype=int32), Array([2, 0], dtype=int32), Array([2., 0., 1.], \
dtype=float32))
    """

    monoid: Monoid = eqx.field(static=True)
    num_nodes: int = eqx.field(static=True)
    num_edges: int = eqx.field(static=True)
    node_dim: int = eqx.field(static=True)
    edge_dim: int = eqx.field(static=True)

    def __init__(
        self,
        num_nodes: int,
        num_edges: int,
        node_dim: int,
        *,
        edge_dim: int = 0,
        monoid: Monoid | None = None,
    ) -> None:
        self.num_nodes = positive_int("GraphAction", "num_nodes", num_nodes)
        if monoid is not None and (
            not isinstance(monoid, Monoid)
            or monoid.size != self.num_nodes
            or not monoid.is_group
        ):
            raise ValueError(_messages.bad_graph_monoid(self.num_nodes, monoid))
        self.monoid = Monoid.symmetric(num_nodes) if monoid is None else monoid
        self.num_edges = natural_int("GraphAction", "num_edges", num_edges)
        self.node_dim = positive_int("GraphAction", "node_dim", node_dim)
        self.edge_dim = natural_int("GraphAction", "edge_dim", edge_dim)

    @property
    def is_linear(self) -> bool:
        """False: the action moves edge indices, not only coordinates."""
        return False

    @property
    def label(self) -> str:
        """``S_n on graphs with n nodes``."""
        return f"{self.monoid.name} on graphs with {self.num_nodes} nodes"

    def input_hint(self, inputs: Any) -> str:
        """Where the graphs given hold node features of their own, say to drop them."""
        if (
            isinstance(inputs, tuple)
            and inputs
            and isinstance(inputs[0], Graph)
            and inputs[0].nodes is not None
        ):
            return _messages.graph_inputs_with_nodes()
        return ""

    def act(
        self, g: Any, x: tuple[Graph, Float[Array, "n d"]]
    ) -> tuple[Graph, Float[Array, "n d"]]:
        """Renumber the nodes of the graph and the rows of the features by `g`."""
        graph, h = x
        perm = jnp.asarray(g)
        return graph.permute(perm), h[perm]

    def random_input(self, key: PRNGKeyArray) -> tuple[Graph, Float[Array, "n d"]]:
        """A graph with uniformly random edges and standard normal features."""
        ks, kr, ke, kx = jax.random.split(key, 4)
        n, e = self.num_nodes, self.num_edges
        edges = _random.normal(ke, (e, self.edge_dim)) if self.edge_dim else None
        graph = Graph(
            jax.random.randint(ks, (e,), 0, n),
            jax.random.randint(kr, (e,), 0, n),
            num_nodes=n,
            edges=edges,
        )
        return graph, _random.normal(kx, (n, self.node_dim))
