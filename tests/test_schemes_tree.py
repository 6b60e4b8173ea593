"""Tree folds against a plain-Python reference recursion, on random trees."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax.test_util import check_grads
from jaxtyping import Array, Float

import cdl

H = 4
Vec = Float[Array, "4"]


class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Vec]):
    w: Vec

    def __call__(self, x):
        return jnp.tanh(self.w * x[0])


class Node(cdl.Para[tuple[Float[Array, "0"], tuple[Vec, Vec]], Vec]):
    a: Float[Array, "4 4"]
    b: Float[Array, "4 4"]

    def __call__(self, x):
        _, (left, right) = x
        return jnp.tanh(self.a @ left + self.b @ right)


def tree_algebra(seed: int) -> cdl.Algebra:
    k = jax.random.split(jax.random.key(seed), 3)
    return cdl.Algebra(
        cdl.TreeF,
        Leaf=Leaf(jax.random.normal(k[0], (H,))),
        Node=Node(
            0.6 * jax.random.normal(k[1], (H, H)), 0.6 * jax.random.normal(k[2], (H, H))
        ),
    )


def to_layer(t):
    if isinstance(t, tuple):
        return cdl.Layer("Node", None, (to_layer(t[0]), to_layer(t[1])))
    return cdl.Layer("Leaf", jnp.float32(t), ())


def ref_cata(alg, term):
    """cata = alg . fmap(cata) . out, by plain recursion."""
    return alg(alg.functor.fmap(lambda t: ref_cata(alg, t), term))


def shapes(draw, n):
    if n == 1:
        return draw(st.floats(-2, 2, width=32))
    k = draw(st.integers(1, n - 1))
    return (shapes(draw, k), shapes(draw, n - k))


@st.composite
def trees(draw, max_leaves=12):
    return shapes(draw, draw(st.integers(1, max_leaves)))


@settings(max_examples=8, deadline=None)
@given(trees(), st.sampled_from(["levels", "nodes"]), st.integers(0, 100))
def test_cata_matches_the_reference(tree, strategy, seed):
    alg = tree_algebra(seed)
    table = cdl.tree_table(cdl.TreeF, tree, strategy=strategy)
    expected = ref_cata(alg, to_layer(tree))
    np.testing.assert_allclose(cdl.cata(alg)(table), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=8, deadline=None)
@given(st.lists(trees(6), min_size=1, max_size=5))
def test_forest_folds_every_tree(forest):
    alg = tree_algebra(0)
    table = cdl.tree_table(cdl.TreeF, forest, forest=True)
    got = jax.jit(lambda t: cdl.cata(alg)(t))(table)
    assert got.shape == (len(forest), H)
    for out, tree in zip(got, forest, strict=True):
        np.testing.assert_allclose(
            out, ref_cata(alg, to_layer(tree)), rtol=1e-5, atol=1e-5
        )


@settings(max_examples=4, deadline=None)
@given(trees(10), st.sampled_from(["levels", "nodes"]))
def test_gradient_rule_matches_autodiff_of_the_reference(tree, strategy):
    alg = tree_algebra(1)
    table = cdl.tree_table(cdl.TreeF, tree, strategy=strategy)
    weights = jnp.arange(H, dtype=jnp.float32)
    got = jax.grad(lambda a: cdl.cata(a)(table) @ weights)(alg)
    expected = jax.grad(lambda a: ref_cata(a, to_layer(tree)) @ weights)(alg)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@settings(max_examples=2, deadline=None)
@given(trees(6), st.sampled_from(["levels", "nodes"]), st.floats(0.2, 1.5))
def test_cells_closing_over_a_differentiated_value_pass_its_gradient(tree, strategy, w):
    """Plain functions as cells may read the value a loss is differentiated by."""
    table = cdl.tree_table(cdl.TreeF, tree, strategy=strategy)

    def algebra(w):
        return cdl.Algebra(
            cdl.TreeF,
            Leaf=lambda x: w * x[0],
            Node=lambda x: jnp.tanh(x[1][0] + w * x[1][1]),
        )

    def loss(w):
        return cdl.cata(algebra(w))(table)

    def ref(w):
        return ref_cata(algebra(w), to_layer(tree))

    np.testing.assert_allclose(
        jax.grad(loss)(w), jax.grad(ref)(w), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        jax.jit(jax.grad(loss))(w), jax.grad(ref)(w), rtol=1e-4, atol=1e-5
    )


def test_gradient_matches_finite_differences_for_payloads_and_weights():
    alg = tree_algebra(2)
    table = cdl.tree_table(cdl.TreeF, ((0.5, -1.0), (0.3, (1.2, 0.7))))

    def loss(a, leaves):
        t = eqx.tree_at(lambda t: t.payloads["Leaf"], table, leaves)
        return cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=Leaf(a), Node=alg.cells["Node"]))(
            t
        ).sum()

    check_grads(
        loss,
        (alg.cells["Leaf"].w, table.payloads["Leaf"]),
        order=1,
        modes=["rev"],
        atol=2e-2,
        rtol=2e-2,
    )


def test_a_fold_jitted_inside_a_gradient_equals_one_traced_with_it():
    """`grad` of a `filter_jit`-ed fold: the whole table is traced by the jit."""
    alg = tree_algebra(3)
    table = cdl.tree_table(cdl.TreeF, ((0.5, -1.0), (0.3, (1.2, 0.7))))
    fold = cdl.cata(alg)
    jitted = eqx.filter_jit(fold)

    def loss(leaves, scheme):
        t = eqx.tree_at(lambda t: t.payloads["Leaf"], table, leaves)
        return jnp.sum(scheme(t) ** 2)

    leaves = jnp.asarray(table.payloads["Leaf"])
    expected = jax.grad(loss)(leaves, fold)
    got = jax.grad(loss)(leaves, jitted)
    assert float(jnp.abs(expected).max()) > 1e-3
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kept", [True, False])
def test_tree_lstm_gradient_from_kept_residuals_or_cells_run_again(kept, monkeypatch):
    from cdl.schemes import _residuals

    if not kept:  # every chunk's cells run again in the backward sweep
        monkeypatch.setattr(_residuals.Keep, "kept", lambda self, name: False)
    k = jax.random.split(jax.random.key(3), 2)
    alg = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeLSTMCell(2, 3, arity=0, key=k[0]),
        Node=cdl.TreeLSTMCell(0, 3, arity=2, key=k[1]),
    )
    leaf = [jnp.array([0.1 * i, 1.0 - 0.2 * i]) for i in range(6)]
    tree = (((leaf[0], leaf[1]), leaf[2]), ((leaf[3], (leaf[4], leaf[5])), leaf[0]))
    table = cdl.tree_table(cdl.TreeF, tree)

    def term(t):
        if isinstance(t, tuple):
            return cdl.Layer("Node", None, (term(t[0]), term(t[1])))
        return cdl.Layer("Leaf", t, ())

    def loss(a, pay):
        t = eqx.tree_at(lambda t: t.payloads["Leaf"], table, pay)
        every = jnp.stack(cdl.upwards(a)(t))  # [h/c, capacity, 3]
        return jnp.sum(jnp.sin(every) * t.mask[None, :, None])

    def ref_loss(a, t):
        """The carrier of `t` and the sum over its nodes, by plain recursion."""
        kids = [ref_loss(a, c) for c in t.children]
        out = a(cdl.Layer(t.constructor, t.payload, tuple(k[0] for k in kids)))
        return out, sum(k[1] for k in kids) + jnp.sum(jnp.sin(jnp.stack(out)))

    got = jax.grad(loss, argnums=(0, 1))(alg, table.payloads["Leaf"])
    expected = jax.grad(lambda a: ref_loss(a, term(tree))[1])(alg)
    for g, e in zip(jax.tree.leaves(got[0]), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    assert float(jnp.abs(got[1]).sum()) > 0


def test_user_declared_functor_with_tree_lstm_cells():
    expr = cdl.polynomial("ExprF", Num="a", Neg="x", Op="a x x")
    k = jax.random.split(jax.random.key(0), 3)
    alg = cdl.Algebra(
        expr,
        Num=cdl.TreeLSTMCell(1, 5, arity=0, key=k[0]),
        Neg=cdl.TreeLSTMCell(0, 5, arity=1, key=k[1]),
        Op=cdl.TreeLSTMCell(2, 5, arity=2, key=k[2]),
    )

    def num(v):
        return cdl.Layer("Num", jnp.array([v], jnp.float32), ())

    plus = jnp.array([1.0, 0.0])
    term = cdl.Layer(
        "Op",
        plus,
        (
            num(1.0),
            cdl.Layer(
                "Neg", None, (cdl.Layer("Op", plus[::-1], (num(2.0), num(3.0))),)
            ),
        ),
    )
    table = cdl.tree_table(expr, term)
    h, c = cdl.cata(alg)(table)
    h_ref, c_ref = ref_cata(alg, term)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, c_ref, rtol=1e-5, atol=1e-6)


def test_rose_trees_get_stacked_children_and_a_mask():
    rose = cdl.RoseF(3)

    class Sum(
        cdl.Para[
            tuple[Float[Array, ""], tuple[Float[Array, "3"], object]], Float[Array, ""]
        ]
    ):
        def __call__(self, x):
            payload, (kids, mask) = x
            return payload + jnp.where(mask, kids, 0.0).sum()

    def node(v, *kids):
        return cdl.Layer("Node", jnp.float32(v), kids)

    term = node(1, node(2), node(3, node(4), node(5), node(6)), node(7))
    alg = cdl.Algebra(rose, carrier=jnp.float32(0), Node=Sum())
    table = cdl.tree_table(rose, term)
    assert float(cdl.cata(alg)(table)) == 28.0
    assert float(ref_cata(alg, term)) == 28.0


def test_malformed_tables_are_rejected():
    leaf = np.ones(2)
    with pytest.raises(ValueError, match="cycle through node"):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, [1, 0, 1], [[2, 1], [-1, -1], [0, 1]], {"Leaf": np.ones(1)}, 2
        )
    with pytest.raises(ValueError, match="node 2 has child 7, outside the table of 3"):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, [0, 0, 1], [[-1, -1], [-1, -1], [0, 7]], {"Leaf": leaf}, 2
        )
    with pytest.raises(ValueError, match="TreeF.Node takes 2 recursive field"):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, [0, 0, 1], [[-1, -1], [-1, -1], [0, -1]], {"Leaf": leaf}, 2
        )
    with pytest.raises(ValueError, match="depth 3, more than the declared bound 2"):
        cdl.tree_table(cdl.TreeF, (1.0, (2.0, (3.0, 4.0))), max_depth=2)
    with pytest.raises(ValueError, match="strategy must be"):
        cdl.tree_table(cdl.TreeF, (1.0, 2.0), strategy="fast")


def test_a_term_that_contains_itself_is_rejected():
    children: list = []
    term = cdl.Layer("Node", None, children)  # a list, so it can be filled later
    children.extend([term, cdl.Layer("Leaf", 1.0, ())])
    with pytest.raises(ValueError, match="contains itself"):
        cdl.tree_table(cdl.TreeF, term)


def test_an_algebra_of_another_functor_is_rejected():
    nat = cdl.tree_table(
        cdl.NatF, cdl.Layer("Succ", None, (cdl.Layer("Zero", None, ()),))
    )
    with pytest.raises(
        TypeError, match="the algebra is one of TreeF, but the data is a NatF"
    ):
        cdl.cata(tree_algebra(0))(nat)
    # An array is one leaf's payload (the tree Leaf x, as inside a forest): a
    # matrix where the leaf cell takes a number is named at that cell.
    with pytest.raises(
        TypeError,
        match=r"expects input \(float\[\] × \(\)\), but was given \(f32\[3,4\]",
    ):
        cdl.cata(tree_algebra(0))(jnp.ones((3, 4)))


def spine(n):
    """A list-like tree: each node's right child is the rest."""
    t = 0.0
    for i in range(n):
        t = (float(i), t)
    return t


def test_degenerate_trees_fold_in_one_loop_and_share_compiles():
    # List-like trees of 200 and 220 nodes: one bucket, one compiled fold.
    alg = tree_algebra(0)
    fold = jax.jit(lambda a, t: cdl.cata(a)(t))
    for n in (100, 110):
        table = cdl.tree_table(cdl.TreeF, spine(n))
        assert (table.depth, table.capacity) == (n, 256)
        np.testing.assert_allclose(
            fold(alg, table), ref_cata(alg, to_layer(spine(n))), rtol=1e-4, atol=1e-5
        )
    assert fold._cache_size() == 1


@pytest.mark.parametrize(
    ("tags", "children", "roots", "message"),
    [
        ([0, -1], [[-1, -1], [-1, -1]], 0, "node 1 has tag -1, but TreeF has"),
        ([0, 2], [[-1, -1], [-1, -1]], 0, "node 1 has tag 2"),
        ([0, 0, 1], [[-1, -1], [-1, -1], [0, 1]], -1, "root -1 is outside the table"),
        ([0, 0, 1], [[-1, -1], [-1, -1], [0, 1]], 3, "root 3 is outside the table"),
        ([0, 0, 1], [[-1, -1], [-1, -1], [0.0, 1.5]], 2, "children are integer"),
        ([0, 0, 1], [[-1, -1], [-1, -1], [0, -2]], 2, "node 2 has child -2"),
        ([0, 0, 1], [[-1, -1, -1], [-1, -1, -1], [0, -1, 1]], 2, "not a gap"),
        ([0, 0, 1], [[-1, -1], [-1], [0, 1]], 2, r"rows have lengths \[1, 2\]"),
    ],
)
def test_from_arrays_rejects_bad_indices(tags, children, roots, message):
    with pytest.raises(ValueError, match=message):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, tags, children, {"Leaf": np.ones(tags.count(0))}, roots
        )


@pytest.mark.parametrize(
    ("payloads", "message"),
    [
        ({"Leaf": np.ones(2), "Node": np.ones(1)}, "given for 'Node'"),
        ({"Leaf": np.ones(2), "Lef": np.ones(2)}, "given for 'Lef'.*\\['Leaf'\\]"),
    ],
)
def test_from_arrays_rejects_payloads_for_no_constructor_that_carries_one(
    payloads, message
):
    with pytest.raises(ValueError, match=message):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, [0, 0, 1], [[-1, -1], [-1, -1], [0, 1]], payloads, 2
        )


def test_from_arrays_rejects_an_empty_table():
    with pytest.raises(ValueError, match="at least one node"):
        cdl.NodeTable.from_arrays(cdl.TreeF, [], [], {"Leaf": np.ones(0)}, [])


def test_a_rose_node_with_a_gap_before_a_child_is_rejected():
    with pytest.raises(ValueError, match="node 2 has children \\[0, -1, 1\\]"):
        cdl.NodeTable.from_arrays(
            cdl.RoseF(3),
            [0, 0, 0],
            [[-1, -1, -1], [-1, -1, -1], [0, -1, 1]],
            {"Node": np.ones(3)},
            2,
        )


def test_buckets_fix_the_capacity_and_per_node_values_line_up():
    term = ((1.0, 2.0), 3.0)
    assert cdl.tree_table(cdl.TreeF, term).capacity == 16
    assert cdl.tree_table(cdl.TreeF, term, buckets=None).capacity == 5
    assert cdl.tree_table(cdl.TreeF, term, buckets=[4, 8, 32]).capacity == 8
    big = cdl.tree_table(cdl.TreeF, [term] * 40, forest=True)  # 200 nodes
    assert big.capacity == 256 and big.roots.shape == (40,)
    table = cdl.tree_table(cdl.TreeF, term)
    assert np.asarray(table.mask).sum() == 5
    np.testing.assert_array_equal(table.per_node(np.arange(5))[:6], [0, 1, 2, 3, 4, 0])
    with pytest.raises(ValueError, match="the table has 5 nodes, but 4"):
        table.per_node(np.arange(4))
    with pytest.raises(ValueError, match="buckets are"):
        cdl.tree_table(cdl.TreeF, term, buckets=[8, 4])
    assert big.capacity == 256
    assert (
        cdl.tree_table(cdl.TreeF, [term] * 40, forest=True, buckets="quarters").capacity
        == 224
    )
    # Past 2,048 rows the default steps by quarters; "doubling" keeps doubling,
    # and a list's last bucket hands over to the default.
    huge = [term] * 420  # 2,100 nodes
    assert cdl.tree_table(cdl.TreeF, huge, forest=True).capacity == 2560
    assert (
        cdl.tree_table(cdl.TreeF, huge, forest=True, buckets="doubling").capacity
        == 4096
    )
    assert cdl.tree_table(cdl.TreeF, huge, forest=True, buckets=[16]).capacity == 2560


def test_a_jitted_step_compiles_once_per_bucket_over_fresh_forests():
    rng = np.random.default_rng(0)

    def forest():
        out = []
        for _ in range(6):
            t = 1.0
            for _ in range(int(rng.integers(1, 6))):
                t = (t, 1.0) if rng.random() < 0.5 else (1.0, t)
            out.append(t)
        return out

    alg = tree_algebra(0)
    step = jax.jit(jax.grad(lambda a, t: cdl.cata(a)(t).sum()))
    tables = [cdl.tree_table(cdl.TreeF, forest(), forest=True) for _ in range(8)]
    for table in tables:
        step(alg, table)
    # One compile per bucket met, not one per table: forests of 18 to 66 nodes
    # meet two (32 and 64 rows).
    assert step._cache_size() == len({t.capacity for t in tables}) <= 2


def test_auto_strategy_runs_chains_node_by_node():
    # A chain-like tree (one node a level above the leaves) is laid out node by
    # node; a bushy forest and a small chain keep their levels; all fold alike.
    alg = tree_algebra(0)
    chain = cdl.tree_table(cdl.TreeF, spine(40))
    assert chain.widest == 1 and chain.depth == 40
    assert cdl.tree_table(cdl.TreeF, spine(20)).widest > 1
    bushy = [((float(i), 1.0), (2.0, 3.0)) for i in range(20)]
    assert cdl.tree_table(cdl.TreeF, bushy, forest=True).widest > 1
    levels = cdl.tree_table(cdl.TreeF, spine(40), strategy="levels")
    assert levels.widest > 1 and levels.depth == 40
    np.testing.assert_allclose(
        cdl.cata(alg)(chain), cdl.cata(alg)(levels), rtol=1e-5, atol=1e-6
    )


def test_every_cell_must_return_the_carrier_and_a_wider_dtype_widens_it():
    table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0))
    grows = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: jnp.full(3, p[0]),
        Node=lambda p: jnp.concatenate([p[1][0], p[1][1]]),
    )  # fmt: skip
    with pytest.raises(
        TypeError, match=r"cell of Node returns f32\[6\], but the carrier is f32\[3\]"
    ):
        cdl.cata(grows)(table)
    pairs = cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1])
    with pytest.raises(TypeError, match=r"cell of Node returns \(f32\[\] × f32\[\]\)"):
        cdl.cata(pairs)(table)
    # an int leaf and a float node: the carrier is float, nothing is truncated
    halves = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: p[0].astype(jnp.int32),
        Node=lambda p: p[1][0] + 0.5 * p[1][1],
    )  # fmt: skip
    assert float(cdl.cata(halves)(table)) == (1 + 0.5 * 2) + 0.5 * 3


ROSE = cdl.RoseF(3)
(RoseNode,) = ROSE.patterns


@st.composite
def rose_terms(draw, depth=2):
    n = 0 if depth == 0 else draw(st.integers(0, 3))
    kids = [draw(rose_terms(depth - 1)) for _ in range(n)]
    return RoseNode(draw(st.floats(-2, 2, width=32)), kids)


def rose_total(layer):
    match layer:
        case RoseNode(x, (kids, mask)):
            return x + 0.5 * jnp.where(mask, kids, 0.0).sum()


def rose_total_ref(t):
    return t.payload + 0.5 * sum(rose_total_ref(k) for k in t.children)


@settings(max_examples=6, deadline=None)
@given(term=rose_terms())
def test_a_rose_fold_finds_its_carrier_without_being_told(term):
    got = cdl.cata(cdl.Algebra(ROSE, rose_total))(term)
    np.testing.assert_allclose(got, rose_total_ref(term), rtol=1e-5, atol=1e-5)


def test_a_rose_carrier_the_cell_does_not_keep_is_asked_for():
    def widen(layer):  # a vector carrier from scalar payloads
        match layer:
            case RoseNode(x, (kids, mask)):
                return jnp.stack([x, 1.0]) + jnp.where(mask[:, None], kids, 0).sum(0)

    term = RoseNode(1.0, [RoseNode(2.0, [])])
    with pytest.raises(ValueError, match="keeps no carrier of its payload") as e:
        cdl.cata(cdl.Algebra(ROSE, widen))(term)
    assert e.value.__cause__ is not None  # what the cell raised on the last guess
    given = cdl.Algebra(ROSE, widen, carrier=jnp.zeros(2))
    assert cdl.cata(given)(term).tolist() == [3.0, 2.0]


def test_a_tree_fold_of_a_stochastic_cell_says_where_dropout_can_go():
    k = jax.random.key(0)
    node = cdl.TreeRNNCell(0, 4, arity=2, key=k) >> cdl.Dropout(0.5)
    alg = cdl.Algebra(cdl.TreeF, Leaf=cdl.TreeRNNCell(2, 4, arity=0, key=k), Node=node)
    table = cdl.tree_table(cdl.TreeF, ((jnp.ones(2), jnp.ones(2)), jnp.ones(2)))
    with pytest.raises(ValueError, match="cells of Node draw random numbers"):
        cdl.cata(alg)(table)
    assert cdl.cata(cdl.inference_mode(alg))(table).shape == (4,)
