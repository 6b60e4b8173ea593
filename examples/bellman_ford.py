"""Algorithmic alignment: a message-passing network learns Bellman-Ford.

One step of Bellman-Ford relaxes every edge, ``d'_v = min(d_v, min_{u→v} d_u + w_uv)``:
message passing over the min-plus semiring. Two networks of the same shape learn
that step from its inputs and outputs on random graphs of 16 nodes; they differ
only in the aggregation monoid, `Min()` or `Sum()`. Both are then run step after
step from the source on graphs of 16, 64 and 256 nodes, and compared with the
true shortest-path distances. The min network's structure matches the algorithm,
so its error stays put as the graphs grow; the sum network has to imitate a
minimum with sums, which fails once nodes have more neighbours than in training.

Run: ``python examples/bellman_ford.py``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PRNGKeyArray

import cdl
from cdl.graphs import Graph, MessagePassing

UNREACHED = 8.0
"""Distance given to nodes the search has not reached yet (above every real one)."""


def random_graph(n: int, degree: float, rng: np.random.Generator) -> Graph:
    """A connected undirected graph on `n` nodes with weights in [0.2, 1].

    A random tree (node ``i`` joins one earlier node) keeps it connected; other
    pairs are joined with probability ``degree / n``. Every node also gets a
    self-loop of weight 0, so that its own distance is among its messages.
    """
    parents = [int(rng.integers(i)) for i in range(1, n)]
    pairs = {(min(i, p), max(i, p)) for i, p in zip(range(1, n), parents, strict=True)}
    extra = rng.random((n, n)) < degree / n
    pairs |= {(i, j) for i, j in zip(*np.nonzero(np.triu(extra, 1)), strict=True)}
    edges = np.asarray(sorted(pairs), dtype=np.int32).reshape(-1, 2)
    weights = rng.uniform(0.2, 1.0, len(edges)).astype(np.float32)
    loops = np.stack([np.arange(n), np.arange(n)], axis=1)
    senders = np.concatenate([edges[:, 0], edges[:, 1], loops[:, 0]])
    receivers = np.concatenate([edges[:, 1], edges[:, 0], loops[:, 1]])
    w = np.concatenate([weights, weights, np.zeros(n, np.float32)])
    return Graph(senders, receivers, num_nodes=n, edges=w)


def bellman_ford(graph: Graph, steps: int) -> Float[Array, "t n"]:
    """Distances from node 0 of each graph after 0, 1, …, `steps` relaxations (rows)."""
    start = jnp.where(
        graph.node_offsets[graph.node_graph] == jnp.arange(graph.num_nodes),
        0.0,
        jnp.inf,
    )
    step = cdl.graphs.Propagate(cdl.graphs.MIN_PLUS)

    def relax(d: Array, _: None) -> tuple[Array, Array]:
        d = step((graph, d))[1]
        return d, d

    _, trace = jax.lax.scan(relax, start, None, length=steps)
    return jnp.concatenate([start[None], trace])


def capped(d: Array) -> Array:
    """Distances with ∞ replaced by `UNREACHED`, as the networks see them."""
    return jnp.minimum(d, UNREACHED)


def make_processor(
    aggregate: cdl.graphs.AbstractAggregator, hidden: int, *, key: PRNGKeyArray
) -> MessagePassing:
    """One learned relaxation step: messages from ``[d_u ; d_v ; w_uv]``, one update."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    message = (
        cdl.Linear(3, hidden, key=k1)
        >> cdl.Relu()
        >> cdl.Linear(hidden, hidden, key=k2)
    )
    update = (
        cdl.Linear(1 + hidden, hidden, key=k3)
        >> cdl.Relu()
        >> cdl.Linear(hidden, 1, key=k4)
    )
    return MessagePassing(message, update, aggregate=aggregate)


def dataset(
    sizes: int, count: int, degree: float, rng: np.random.Generator
) -> tuple[Graph, int]:
    """A batch of `count` random graphs of `sizes` nodes and its Bellman-Ford depth."""
    graph = cdl.graphs.batch([random_graph(sizes, degree, rng) for _ in range(count)])
    trace = bellman_ford(graph, sizes - 1)
    changed = jnp.any(trace[1:] != trace[:-1], axis=1)
    depth = int(jnp.sum(changed))
    return graph, max(depth, 1)


def train(
    processor: MessagePassing,
    graph: Graph,
    depth: int,
    steps: int,
    learning_rate: float,
) -> tuple[MessagePassing, float]:
    """Fit one relaxation step on every step of the training trace."""
    trace = capped(bellman_ford(graph, depth))
    inputs, targets = trace[:-1], trace[1:]
    optimiser = optax.adam(learning_rate)
    state = optimiser.init(eqx.filter(processor, eqx.is_array))

    def loss(p: MessagePassing) -> Array:
        out = jax.vmap(lambda d: p((graph, d[:, None]))[1][:, 0])(inputs)
        return jnp.mean((out - targets) ** 2)

    @eqx.filter_jit
    def update(
        p: MessagePassing, s: optax.OptState
    ) -> tuple[MessagePassing, optax.OptState, Array]:
        value, grads = eqx.filter_value_and_grad(loss)(p)
        updates, s = optimiser.update(grads, s, p)
        return eqx.apply_updates(p, updates), s, value

    value = jnp.inf
    for _ in range(steps):
        processor, state, value = update(processor, state)
    return processor, float(value)


def rollout_error(processor: MessagePassing, graph: Graph, depth: int) -> float:
    """Mean absolute error of the network run `depth` steps from the source alone."""
    trace = bellman_ford(graph, depth)

    @eqx.filter_jit
    def run(p: MessagePassing, d: Array) -> Array:
        def step(d: Array, _: None) -> tuple[Array, None]:
            return p((graph, d[:, None]))[1][:, 0], None

        return jax.lax.scan(step, d, None, length=depth)[0]

    predicted = run(processor, capped(trace[0]))
    return float(jnp.mean(jnp.abs(predicted - trace[-1])))


def main(
    train_graphs: int = 64,
    test_graphs: int = 16,
    test_sizes: tuple[int, ...] = (16, 64, 256),
    steps: int = 1500,
    hidden: int = 32,
    degree: float = 3.0,
    seed: int = 0,
) -> dict[str, dict[int, float]]:
    """Train both networks on 16-node graphs; return the rollout MAE by size."""
    rng = np.random.default_rng(seed)
    train_graph, train_depth = dataset(16, train_graphs, degree, rng)
    tests = {n: dataset(n, test_graphs, degree, rng) for n in test_sizes}
    keys = jax.random.split(jax.random.key(seed), 2)
    errors: dict[str, dict[int, float]] = {}
    for name, monoid, key in (
        ("min", cdl.graphs.Min(), keys[0]),
        ("sum", cdl.graphs.Sum(), keys[1]),
    ):
        processor = make_processor(monoid, hidden, key=key)
        processor, loss = train(processor, train_graph, train_depth, steps, 3e-3)
        errors[name] = {
            n: rollout_error(processor, g, d) for n, (g, d) in tests.items()
        }
        print(f"{name} aggregation: final training loss {loss:.2e}")
    print()
    print("mean absolute error of the shortest-path distances")
    print("nodes  steps  " + "  ".join(f"{name:>8}" for name in errors))
    for n, (_, depth) in tests.items():
        row = "  ".join(f"{errors[name][n]:8.4f}" for name in errors)
        print(f"{n:5d}  {depth:5d}  {row}")
    return errors


if __name__ == "__main__":
    main()
