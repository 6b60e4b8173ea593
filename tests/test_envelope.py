"""Tables laid out in an `Envelope`: the unrolled engine against the level engine.

An envelope fixes the rows of every level and constructor for a set of tables,
so that a fold over any of them is one program with static shapes, and nodes may
wait past their height for room. Folding a table laid out in one must give what
the level engine gives on the table as built: the roots, every node, the para,
and the gradients, on random forests.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float

import cdl

H = 4

trees = st.recursive(
    st.floats(-2, 2, width=32),
    lambda kids: st.tuples(kids, kids),
    max_leaves=10,
)
forests = st.lists(trees, min_size=1, max_size=5)


def table_of(forest: list[Any]) -> cdl.NodeTable:
    lifted = [jax.tree.map(lambda v: np.full(1, v, np.float32), t) for t in forest]
    return cdl.tree_table(cdl.TreeF, lifted, forest=True)


def algebra(seed: int) -> cdl.Algebra[Any]:
    k1, k2 = jax.random.split(jax.random.key(seed))
    return cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(1, H, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, H, arity=2, key=k2),
    )


def loss_and_folds(alg: cdl.Algebra[Any], table: cdl.NodeTable) -> Any:
    """A loss of the roots and of every node, with the two folds beside it."""
    roots, every = cdl.cata(alg)(table), cdl.upwards(alg)(table)
    # `every` holds zeros past the last node
    return (roots**2).sum() + jnp.sin(every).sum(), (roots, every)


def loss(alg: cdl.Algebra[Any], table: cdl.NodeTable) -> jax.Array:
    return loss_and_folds(alg, table)[0]


@jax.jit
def folds_and_gradient(alg: cdl.Algebra[Any], table: cdl.NodeTable) -> Any:
    """The roots, every node and the gradient of `loss`: one program per layout."""
    (_, (roots, every)), grad = jax.value_and_grad(loss_and_folds, has_aux=True)(
        alg, table
    )
    return roots, every, grad


@settings(max_examples=4, deadline=None)
@given(st.lists(forests, min_size=1, max_size=3), st.integers(0, 3))
def test_folds_in_an_envelope_equal_the_level_engine(
    batches: list[list[Any]], seed: int
) -> None:
    tables = [table_of(f) for f in batches]
    envelope = cdl.Envelope.covering(tables)
    alg = algebra(seed)
    for table in tables:
        laid = envelope.layout(table)
        assert laid.capacity == envelope.rows and laid.envelope == envelope
        (roots, every, grad), (want_roots, want_every, want_grad) = (
            folds_and_gradient(alg, laid),
            folds_and_gradient(alg, table),
        )
        np.testing.assert_allclose(roots, want_roots, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            every[: table.size], want_every[: table.size], rtol=1e-5, atol=1e-6
        )
        for got, want in zip(
            jax.tree.leaves(grad), jax.tree.leaves(want_grad), strict=True
        ):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(st.lists(forests, min_size=2, max_size=8), st.integers(1, 3))
def test_every_covered_table_fits_its_smallest_envelope(
    batches: list[list[Any]], count: int
) -> None:
    tables = [table_of(f) for f in batches]
    envelopes = cdl.Envelopes.covering(tables, count=count)
    rows = [e.rows for e in envelopes.envelopes]
    assert rows == sorted(rows) and len(rows) <= count
    for table in tables:
        laid = envelopes.layout(table)
        # No envelope smaller than the one chosen holds it.
        for smaller in envelopes.envelopes:
            if smaller.rows >= laid.capacity:
                break
            with pytest.raises(ValueError, match="does not fit"):
                smaller.layout(table)
        # The nodes keep their order and children.
        rows_of = np.asarray(laid.nodes)[: table.size]
        assert len(set(rows_of.tolist())) == table.size
        assert (np.asarray(laid.rows.tags)[rows_of] >= 0).all()


def test_nodes_wait_for_room_and_keep_the_levels() -> None:
    # Two forests: one bushy, one a chain; the envelope's levels past the first
    # hold the most nodes at or above each height, not the widest of each.
    bushy = table_of([((1.0, 2.0), (3.0, 4.0)), ((5.0, 6.0), (7.0, 8.0))])
    chain = table_of([((((1.0, 2.0), 3.0), 4.0), 5.0)])
    envelope = cdl.Envelope.covering([bushy, chain])
    assert len(envelope.widths) == 5
    assert envelope.widths[0] == (8, 0)
    inner = [w[1] for w in envelope.widths[1:]]
    assert sum(inner) == 6 < 4 + 2 + 1 + 1
    alg = algebra(0)
    for table in (bushy, chain):
        np.testing.assert_allclose(
            cdl.cata(alg)(envelope.layout(table)), cdl.cata(alg)(table), rtol=1e-5
        )


def test_one_program_for_every_table_of_an_envelope() -> None:
    # Three forests of three trees each (the roots' count is a shape), of
    # different sizes and heights.
    batches = [
        [(1.0, 2.0), 3.0, 4.0],
        [((1.0, 2.0), 3.0), (4.0, 5.0), 6.0],
        [(((1.0, 2.0), 3.0), 4.0), ((5.0, 6.0), (7.0, 8.0)), (9.0, 1.0)],
    ]
    tables = [table_of(b) for b in batches]
    envelope = cdl.Envelope.covering(tables)
    step = jax.jit(jax.grad(loss))
    for table in tables:
        step(algebra(0), envelope.layout(table))
    assert step._cache_size() == 1  # type: ignore[attr-defined]


ROSE = cdl.RoseF(3)


_RoseLayer = tuple[Float[Array, ""], tuple[Float[Array, "3 2"], Any]]


class Mean(cdl.Para[_RoseLayer, Float[Array, "2"]]):
    """The mean of the children present, divided by their count: at a leaf 0/0
    unless the count is guarded, so padding rows must repeat real nodes."""

    w: Float[Array, "2"]

    def __call__(self, x: Any) -> Any:
        payload, (kids, mask) = x
        count = mask.sum()
        mean = jnp.where(mask[:, None], kids, 0.0).sum(0) / jnp.maximum(count, 1)
        return jnp.tanh(self.w * payload + mean * count / jnp.maximum(count, 1))


def test_rose_trees_in_an_envelope_have_finite_gradients() -> None:
    def node(v: float, *kids: Any) -> Any:
        return cdl.Layer("Node", jnp.float32(v), kids)

    terms = [
        node(1, node(2), node(3, node(4), node(5), node(6)), node(7)),
        node(8, node(9, node(10))),
    ]
    tables = [cdl.tree_table(ROSE, t) for t in terms]
    alg = cdl.Algebra(ROSE, carrier=jnp.zeros(2), Node=Mean(jnp.array([0.5, -1.0])))
    envelope = cdl.Envelope.covering(tables)

    def total(a: Any, t: cdl.NodeTable) -> jax.Array:
        return cdl.cata(a)(t).sum()

    grad = jax.jit(jax.grad(total))
    for table in tables:
        got, want = grad(alg, envelope.layout(table)), grad(alg, table)
        np.testing.assert_allclose(got.cells["Node"].w, want.cells["Node"].w, rtol=1e-5)
        assert np.isfinite(got.cells["Node"].w).all()


def test_tables_that_do_not_fit_are_named() -> None:
    small = cdl.Envelope.covering([table_of([(1.0, 2.0)])])
    with pytest.raises(ValueError, match="3 Leaf node.s. without children, room for 2"):
        small.layout(table_of([((1.0, 2.0), 3.0)]))
    # Two nodes ready on level 1, room for one, and no level after it.
    narrow = cdl.Envelope(cdl.TreeF, ((4, 0), (0, 1)))
    with pytest.raises(ValueError, match="1 node.s. find no room in its 2 levels"):
        narrow.layout(table_of([(1.0, 2.0), (3.0, 4.0)]))
    roomy = cdl.Envelope(cdl.TreeF, ((4, 0), (0, 1), (0, 1)))
    assert int(roomy.layout(table_of([(1.0, 2.0), (3.0, 4.0)])).levels) == 3
    envelopes = cdl.Envelopes((small,))
    big = table_of([((1.0, 2.0), 3.0)])
    assert envelopes.layout(big, strict=False) is big
    with pytest.raises(ValueError, match="does not fit"):
        envelopes.layout(big)


def test_bad_envelopes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one node table"):
        cdl.Envelope.covering([])
    with pytest.raises(ValueError, match="a count of at least 1, not 0"):
        cdl.Envelopes.covering([table_of([1.0])], count=0)
    with pytest.raises(ValueError, match="one non-negative width per constructor"):
        cdl.Envelope(cdl.TreeF, ((2,),))
    with pytest.raises(ValueError, match="some nodes on every level"):
        cdl.Envelope(cdl.TreeF, ((2, 0), (0, 0)))
    rose = cdl.tree_table(ROSE, cdl.Layer("Node", jnp.float32(1.0), ()))
    with pytest.raises(ValueError, match="table 1 is a table of RoseF"):
        cdl.Envelope.covering([table_of([1.0]), rose])


class ParaNode(cdl.Para[tuple[Float[Array, "0"], tuple[object, object]], jax.Array]):
    """A node cell that reads its left child's size, height and leaf payload."""

    a: Float[Array, "4 4"]

    def __call__(self, x: Any) -> Any:
        _, ((left, lo), (_, r)) = x
        facts = jnp.stack(
            [
                left.size.astype(jnp.float32) / 10,
                left.height.astype(jnp.float32) / 5,
                jnp.where(left.is_("Leaf"), left.payload("Leaf")[0], 0.0),
                jnp.float32(0.0),
            ]
        )
        return jnp.tanh(self.a @ (lo + r) + facts)


@settings(max_examples=4, deadline=None)
@given(st.lists(forests, min_size=1, max_size=3), st.integers(0, 3))
def test_para_and_payload_gradients_in_an_envelope(
    batches: list[list[Any]], seed: int
) -> None:
    # The subtrees' views read sizes, heights and payloads moved by the layout;
    # the gradient reaches the payloads (here through a common scale).
    tables = [table_of(f) for f in batches]
    envelope = cdl.Envelope.covering(tables)
    base = algebra(seed)
    a = jax.random.normal(jax.random.key(seed + 7), (H, H)) / 2
    alg = cdl.Algebra(cdl.TreeF, Leaf=base.cells["Leaf"], Node=ParaNode(a))

    scale = jnp.float32(1.3)
    for table in tables:
        (roots, got), (want_roots, want) = (
            para_and_gradient(alg, scale, envelope.layout(table)),
            para_and_gradient(alg, scale, table),
        )
        np.testing.assert_allclose(roots, want_roots, rtol=1e-5, atol=1e-6)
        for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def scaled_para(al: cdl.Algebra[Any], scale: jax.Array, t: cdl.NodeTable) -> Any:
    """`para` of `t` with every payload times `scale`."""
    scaled = eqx.tree_at(
        lambda u: u.payloads, t, jax.tree.map(lambda p: p * scale, t.payloads)
    )
    return cdl.para(al)(scaled)


@jax.jit
def para_and_gradient(al: cdl.Algebra[Any], scale: jax.Array, t: cdl.NodeTable) -> Any:
    """The roots of `scaled_para`, and the gradient of a loss of them."""

    def total(a: cdl.Algebra[Any], s: jax.Array) -> jax.Array:
        return jnp.sin(scaled_para(a, s, t)).sum()

    return scaled_para(al, scale, t), jax.grad(total, argnums=(0, 1))(al, scale)


def test_an_outsized_table_gets_an_envelope_of_its_own() -> None:
    # Nine small forests and one large: cut in two, the large one alone.
    small = [table_of([(1.0, 2.0), 3.0]) for _ in range(9)]
    large = table_of([((1.0, 2.0), (3.0, 4.0))] * 6)
    envelopes = cdl.Envelopes.covering([*small, large], count=2)
    assert [e.rows for e in envelopes.envelopes] == [small[0].size, large.size]
    assert cdl.Envelopes.covering([*small, large], count=3) == envelopes


def test_widths_given_as_numpy_integers_are_plain_ints() -> None:
    envelope = cdl.Envelope(cdl.TreeF, tuple(map(tuple, np.array([[2, 0], [0, 1]]))))
    assert envelope == cdl.Envelope(cdl.TreeF, ((2, 0), (0, 1)))
    assert all(type(w) is int for row in envelope.widths for w in row)
