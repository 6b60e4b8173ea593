"""The CLRS-30 Bellman-Ford task: its graph sampler, its output and its score.

Written from "The CLRS Algorithmic Reasoning Benchmark" (Veličković et al., 2022)
and the sampler it describes. A graph on `n` nodes is Erdős–Rényi: each ordered
pair ``(i, j)``, the diagonal included, is drawn with probability `p`, and the
graph keeps the pairs drawn both ways (``A * Aᵀ``), so an edge ``i–j`` is present
with probability ``p²`` and a self-loop with probability ``p``. Each ordered pair
also draws a weight uniform in ``[0, 1)``; an undirected edge weighs
``sqrt(w_ij · w_ji + 1e-3)``. The source is a node drawn uniformly. Training
graphs have 16 nodes with `p` drawn from ``{0.1, …, 0.9}`` for each graph;
the out-of-distribution test graphs have 64 nodes and ``p = 0.5``.

The output is the predecessor array `pi` of Bellman-Ford as CLRS runs it: every
node starts pointing at itself, and a node the source cannot reach keeps doing
so. The score is the accuracy of the pointers over the nodes (what the paper's
micro-F1 is for a pointer output).

>>> import numpy as np
>>> from cdl.graphs import clrs
>>> data = clrs.sample(3, 16, p=clrs.TRAIN_P, seed=0)
>>> data.weights.shape, data.source.shape, data.pointers.shape
((3, 16, 16), (3,), (3, 16))
>>> bool(np.all(data.weights == data.weights.transpose(0, 2, 1)))
True
>>> clrs.pointer_accuracy(data.pointers, data.pointers)
1.0
"""

from typing import Final, NamedTuple

import jax.numpy as jnp
import numpy as np

from ..nn._arguments import whole
from . import _messages

TRAIN_NODES: Final = 16
"""Nodes of a CLRS-30 training graph."""

TEST_NODES: Final = 64
"""Nodes of a CLRS-30 (out-of-distribution) test graph."""

TRAIN_P: Final = tuple(round(0.1 * i, 1) for i in range(1, 10))
"""Edge draws for training: `p` uniform from ``{0.1, …, 0.9}`` per graph."""

TEST_P: Final = (0.5,)
"""Edge draw of the CLRS-30 test set (the sampler's default)."""


class Sample(NamedTuple):
    """A batch of Bellman-Ford instances of one size.

    **Arguments:**

    - `weights`: ``float32[count, n, n]``, the symmetric weighted adjacency,
      0 where there is no edge.
    - `source`: ``int32[count]``, the source of each graph.
    - `pointers`: ``int32[count, n]``, the predecessor of each node.

    **Returns:** the batch.

    >>> import numpy as np
    >>> Sample(np.zeros((1, 2, 2)), np.zeros(1, int), np.array([[0, 1]])).pointers
    array([[0, 1]])
    """

    weights: np.ndarray
    source: np.ndarray
    pointers: np.ndarray


def _whole(value: object) -> bool:
    """Whether `value` is a whole number (a Python or NumPy int, a 0-d int array)."""
    return whole(value) is not None


def _real(value: object) -> float | None:
    """`value` as a float if it is a real number, else None.

    Python and NumPy numbers and concrete 0-d real arrays (``jnp.float32(0.5)``,
    ``np.array(0.5)``, bfloat16 ones too) are real numbers; bools, strings and
    traced values are not.

    >>> import jax.numpy as jnp
    >>> _real(jnp.array(0.5, jnp.bfloat16)), _real(jnp.array(True)), _real("0.5")
    (0.5, None, None)
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if getattr(value, "shape", None) == () and hasattr(value, "dtype"):
        try:
            array = np.asarray(value)
        except Exception:  # traced: no number yet
            return None
        # `jnp.issubdtype` knows bfloat16 a float, which NumPy's kind ("V") hides
        if jnp.issubdtype(array.dtype, jnp.integer) or jnp.issubdtype(
            array.dtype, jnp.floating
        ):
            return float(array)
    return None


def _probability(value: object) -> bool:
    """Whether `value` is a real number in ``[0, 1]`` (not a bool or a string)."""
    number = _real(value)
    return number is not None and 0.0 <= number <= 1.0


def _seed(value: object) -> bool:
    """Whether `value` is a seed `sample` documents: an int >= 0 or a generator."""
    if isinstance(value, np.random.Generator | np.random.SeedSequence):
        return True
    number = whole(value)
    return number is not None and number >= 0


def er_graph(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """A weighted undirected Erdős–Rényi graph as CLRS samples it.

    **Arguments:** `n`, the nodes; `p`, the probability of each one-way draw;
    `rng`, a NumPy generator.

    **Returns:** ``float32[n, n]``, symmetric, 0 where there is no edge.

    >>> g = er_graph(5, 1.0, np.random.default_rng(0))
    >>> bool((g > 0).all()), bool((g < 1.001).all())
    (True, True)
    """
    if not _whole(n) or n < 1 or not _probability(p):
        raise ValueError(_messages.clrs_bad_graph(n, p))
    if not isinstance(rng, np.random.Generator):
        raise TypeError(_messages.clrs_not_a_generator(rng))
    n, p = int(n), float(np.asarray(p))
    drawn = rng.binomial(1, p, size=(n, n))
    drawn = drawn * drawn.T
    w = rng.uniform(0.0, 1.0, size=(n, n))
    w = np.sqrt(w * w.T + 1e-3)
    return (drawn * w).astype(np.float32)


def bellman_ford(weights: np.ndarray, source: int) -> np.ndarray:
    """The predecessor array of Bellman-Ford from `source`, as CLRS computes it.

    Rounds relax every edge from the distances of the round before, until no
    distance changes; a node points at the node it was last improved from (the
    first such node on a tie), the source and unreached nodes at themselves.

    **Arguments:** `weights`, ``[n, n]`` (0: no edge; a bool adjacency matrix
    weighs every edge 1); `source`, a node.

    **Returns:** ``int32[n]``; a cycle of negative weight reachable from the
    source (no shortest paths) is a `ValueError` after ``n`` rounds.

    >>> w = np.array([[0, 1, 5], [1, 0, 1], [5, 1, 0]], np.float32)
    >>> bellman_ford(w, 0)
    array([0, 0, 1], dtype=int32)
    """
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
        raise ValueError(_messages.clrs_bad_weights(weights.shape))
    if weights.dtype == np.bool_:  # an adjacency matrix: every edge weighs 1
        weights = weights.astype(np.int32)
    if not (
        np.issubdtype(weights.dtype, np.floating)
        or np.issubdtype(weights.dtype, np.integer)
    ):
        raise ValueError(_messages.clrs_weights_not_real(weights.dtype))
    n = weights.shape[0]
    bad = np.argwhere(~np.isfinite(weights))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise ValueError(_messages.clrs_not_finite(i, j, float(weights[i, j])))
    start = whole(source)
    if start is None or not 0 <= start < n:
        raise ValueError(_messages.clrs_bad_source(n, source))
    d = np.zeros(n)
    pi = np.arange(n, dtype=np.int32)
    reached = np.zeros(n, dtype=bool)
    reached[start] = True
    edge = weights != 0
    for _ in range(n):  # shortest paths have at most n - 1 edges
        before, was = d.copy(), reached.copy()
        offers = np.where(was[:, None] & edge, before[:, None] + weights, np.inf)
        best, via = offers.min(axis=0), offers.argmin(axis=0)
        offered = np.isfinite(best)
        better = offered & (~was | (best < before))
        d[better], pi[better] = best[better], via[better]
        reached |= offered
        if np.array_equal(d, before) and np.array_equal(reached, was):
            return pi
    falling = np.flatnonzero(d < before).tolist()
    raise ValueError(_messages.clrs_negative_cycle(start, falling))


def sample(count: int, nodes: int, *, p: tuple[float, ...], seed: int) -> Sample:
    """`count` Bellman-Ford instances on `nodes` nodes, with their pointers.

    **Arguments:** `count`, `nodes`; `p`, the edge draws (one chosen uniformly
    per graph: `TRAIN_P` or `TEST_P`); `seed`, an int >= 0 (or a NumPy
    generator).

    **Returns:** a `Sample`.

    >>> s = sample(2, 8, p=TEST_P, seed=1)
    >>> s.weights.dtype, s.pointers.dtype, s.source.tolist() == s.source.tolist()
    (dtype('float32'), dtype('int32'), True)
    """
    if not _whole(count) or count < 1 or not isinstance(p, tuple | list) or not p:
        raise ValueError(_messages.clrs_bad_sample(count, p))
    if not _whole(nodes) or nodes < 1 or not all(_probability(q) for q in p):
        raise ValueError(_messages.clrs_bad_sample_graphs(nodes, p))
    if not _seed(seed):
        raise ValueError(_messages.clrs_bad_seed(seed))
    count, nodes = int(count), int(nodes)
    chances = [float(np.asarray(q)) for q in p]  # numbers, whatever held them
    rng = np.random.default_rng(seed)
    weights = np.empty((count, nodes, nodes), np.float32)
    source = np.empty(count, np.int32)
    pointers = np.empty((count, nodes), np.int32)
    for i in range(count):
        weights[i] = er_graph(nodes, float(rng.choice(chances)), rng)
        source[i] = rng.integers(nodes)
        pointers[i] = bellman_ford(weights[i], int(source[i]))
    return Sample(weights, source, pointers)


def pointer_accuracy(predicted: np.ndarray, pointers: np.ndarray) -> float:
    """The CLRS score of a pointer output: the fraction of nodes pointing right.

    **Arguments:** `predicted` and `pointers`, ``int[count, n]``.

    **Returns:** a float in ``[0, 1]``.

    >>> pointer_accuracy(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 1]]))
    0.75
    """
    predicted, pointers = np.asarray(predicted), np.asarray(pointers)
    if predicted.shape != pointers.shape:
        scores = predicted.shape == (*pointers.shape, *pointers.shape[-1:])
        raise ValueError(
            _messages.clrs_shapes(predicted.shape, pointers.shape, scores=scores)
        )
    if predicted.size == 0:
        raise ValueError(_messages.clrs_nothing_to_score())
    for name, array in (("predicted", predicted), ("pointers", pointers)):
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(
                _messages.clrs_not_nodes(name, f"values of dtype {array.dtype}")
            )
        fractional = np.flatnonzero(np.asarray(array, float) % 1 != 0)
        if fractional.size:
            value = array.ravel()[fractional[0]].item()
            raise ValueError(_messages.clrs_not_nodes(name, repr(value)))
        outside = np.flatnonzero((array < 0) | (array >= pointers.shape[-1]))
        if outside.size:
            value = array.ravel()[outside[0]].item()
            raise ValueError(_messages.clrs_not_a_node(name, value, pointers.shape[-1]))
    return float(np.mean(predicted == pointers))
