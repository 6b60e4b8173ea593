"""Graph monoids and semirings take the units a user writes: truth values for the
boolean monoids, and numbers given as 0-d arrays."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cdl.graphs import Graph, Monoid, Semiring, Sum, aggregate


def _brute(messages: np.ndarray, receivers: np.ndarray, n: int, fold, unit):
    out = []
    for v in range(n):
        acc = unit
        for m in messages[receivers == v]:
            acc = fold(acc, bool(m))
        out.append(acc)
    return np.array(out)


def test_the_boolean_monoids_are_taken_and_fold_as_any_and_all() -> None:
    # Their law check sampled ints (a bool is an int), so `op(a, False) = a` failed
    # at a = 3: Monoid(jnp.logical_or, False) was refused as not a monoid.
    rng = np.random.default_rng(0)
    n, e = 7, 30
    s, r = rng.integers(0, n, e), rng.integers(0, n, e)
    g = Graph(jnp.asarray(s), jnp.asarray(r), num_nodes=n)
    messages = rng.random(e) < 0.3
    for op, unit, fold in (
        (jnp.logical_or, False, lambda a, b: a or b),
        (jnp.logical_and, True, lambda a, b: a and b),
        (jnp.logical_xor, np.False_, lambda a, b: a != b),
    ):
        m = Monoid(op, unit, "bool")
        got = aggregate(g, jnp.asarray(messages), m)
        assert got.dtype == jnp.bool_
        np.testing.assert_array_equal(got, _brute(messages, r, n, fold, bool(unit)))
    # A wrong unit is still refused, at the triple that breaks the law.
    with pytest.raises(ValueError, match=r"op\(a, True\) = a fails \(at a = False"):
        Monoid(jnp.logical_or, True, "or")


def test_a_unit_given_as_a_0d_array_is_taken_as_a_number() -> None:
    # jnp.float32(0) (a jax array), np.array(0.0) and jnp.array(1) are one real
    # number each, but were refused as "not one real number".
    for unit in (jnp.float32(0), np.array(0.0), jnp.array(0), np.int64(0)):
        m = Monoid(jnp.add, unit, "add")
        assert type(m.unit) in (int, float)  # static metadata: a hashable number
        s = jnp.array([0, 0, 1])
        r = jnp.array([1, 1, 2])
        g = Graph(s, r, num_nodes=3)
        x = jnp.array([1.0, 2.0, 4.0])
        out = jax.jit(lambda g, x, m=m: aggregate(g, x, m))(g, x)
        np.testing.assert_array_equal(out, [0.0, 3.0, 4.0])
    ring = Semiring(Sum(), jnp.multiply, jnp.array(1.0), "real")
    assert ring.one == 1.0 and type(ring.one) is float
    # An array of several numbers is still refused.
    with pytest.raises(TypeError, match="the unit must be one real number"):
        Monoid(jnp.add, np.zeros(2), "add")


def test_bellman_ford_takes_a_bool_adjacency_matrix_as_unit_weights() -> None:
    # It was refused as "not real numbers" (bool is neither float nor int), though
    # `adjacency > 0` reads as weights 1 and was taken before weights were checked.
    import networkx as nx

    from cdl.graphs import clrs

    rng = np.random.default_rng(3)
    adjacency = rng.random((12, 12)) < 0.2
    np.fill_diagonal(adjacency, False)
    pointers = clrs.bellman_ford(adjacency, 0)
    hops = nx.single_source_shortest_path_length(nx.DiGraph(adjacency), 0)
    for v in range(12):
        if v not in hops:
            assert pointers[v] == v  # unreached: points at itself
            continue
        length, u = 0, v
        while u != 0:
            assert adjacency[pointers[u], u]
            u, length = int(pointers[u]), length + 1
        assert length == hops[v]


def test_whole_numbers_given_as_jax_scalars_are_taken() -> None:
    # num_nodes = senders.max() + 1 is a jax int: it was refused as "not a whole
    # number", and so were pad's sizes, bellman_ford's source and a jnp.float32
    # negative_slope of GraphAttention ("must be a finite number").
    import jax

    from cdl.graphs import GraphAttention, clrs, pad

    s, r = jnp.array([0, 1, 2]), jnp.array([1, 2, 0])
    g = Graph(s, r, num_nodes=jnp.maximum(s.max(), r.max()) + 1)
    assert g.num_nodes == 3 and type(g.num_nodes) is int
    padded = pad(g, jnp.int32(5), np.int64(4), jnp.int32(2))
    want = pad(g, 5, 4, 2)
    assert padded.num_nodes == want.num_nodes == 5
    np.testing.assert_array_equal(padded.n_node, want.n_node)
    w = np.array([[0, 1, 5], [1, 0, 1], [5, 1, 0]], np.float32)
    np.testing.assert_array_equal(clrs.bellman_ford(w, jnp.int32(0)), [0, 0, 1])
    key = jax.random.key(0)
    x = jnp.arange(6.0).reshape(3, 2)
    a = GraphAttention(2, 4, negative_slope=jnp.float32(0.1), key=key)
    b = GraphAttention(2, 4, negative_slope=0.1, key=key)
    assert isinstance(a.negative_slope, float)
    np.testing.assert_allclose(a((g, x))[1], b((g, x))[1], rtol=1e-6)
    # Floats, bools and arrays of several numbers are still refused.
    for bad in (2.0, True, jnp.array([3])):
        with pytest.raises(Exception, match="whole number"):
            Graph(s, r, num_nodes=bad)
