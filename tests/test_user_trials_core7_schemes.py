"""Round core7 of user trials: recursion schemes."""

import copy
import pickle
import re

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import cdl

_F = Float[Array, ""]
Leaf, Node = cdl.TreeF.patterns


def test_a_tree_cell_with_a_checkpointed_product_has_weight_gradients() -> None:
    # A cell that runs its weighted sum under jax.checkpoint (rematerialisation) has a
    # site with two row inputs; the gradient of its weights failed inside cdl with
    # "Comparator raised exception while sorting pytree dictionary keys".
    class Mix(cdl.Para[tuple[Float[Array, "0"], tuple[_F, _F]], _F]):
        w: Float[Array, "2"]

        def __call__(self, x: tuple[Array, tuple[Array, Array]]) -> Array:
            a, b = x[1]
            mix = jax.checkpoint(lambda w, a, b: jnp.tanh(w[0] * a + w[1] * b))
            return mix(self.w, a, b)

    leaf = cdl.lift(lambda x: x[0], dom=(cdl.space_of(jnp.float32(0)), ()),
                    cod=cdl.space_of(jnp.float32(0)))  # fmt: skip
    term = ((1.0, 2.0), (3.0, -1.0))

    def reference(w: Array, t: object) -> Array:
        if isinstance(t, tuple):
            return jnp.tanh(w[0] * reference(w, t[0]) + w[1] * reference(w, t[1]))
        return jnp.float32(t)

    def loss(cell: Mix) -> Array:
        return cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=cell))(term)

    w = jnp.array([0.3, -0.7])
    got = eqx.filter_grad(loss)(Mix(w)).w
    np.testing.assert_allclose(got, jax.grad(reference)(w, term), rtol=1e-5)

    # The same cell written as a closure over the differentiated weights.
    def closed(w: Array) -> Array:
        mix = jax.checkpoint(lambda a, b: jnp.tanh(w[0] * a + w[1] * b))
        node = lambda x: mix(*x[1])  # noqa: E731
        return cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=node))(term)

    closure = jax.grad(closed)(w)
    np.testing.assert_allclose(closure, jax.grad(reference)(w, term), rtol=1e-5)


def test_a_carrier_of_dicts_that_changes_names_its_keys() -> None:
    # A dict carrier was printed as its class alone: "the carrier starts in dict but
    # the step returns dict", which does not say what differs.
    xs = jnp.array([1.0, 2.0])
    keys = cdl.cata(
        cdl.ListAlgebra({"n": jnp.float32(0)}, lambda p: {"n": p[1]["n"], "x": p[0]})
    )
    with pytest.raises(TypeError) as error:
        keys(xs)
    assert "starts in {'n': f32[]} but the step returns {'n': f32[], 'x': f32[]}" in (
        str(error.value)
    )

    def cell(layer: cdl.Layer) -> object:
        match layer:
            case Leaf(x):
                return {"sum": x}
            case Node(a, b):
                return (a["sum"], b["sum"])

    with pytest.raises(TypeError) as error:
        cdl.cata(cdl.Algebra(cdl.TreeF, cell))(((1.0, 2.0), 3.0))
    assert "the cell of Node returns (f32[] × f32[]), but the carrier is " in str(
        error.value
    )
    assert "{'sum': f32[]}" in str(error.value)


def test_a_natural_transformation_into_another_functor_says_how_to_map_terms() -> None:
    # Haskell's hoist goes from one functor to another; cdl's transforms a functor into
    # itself, and a transformation returning NatF layers from ListF ones failed with
    # "KeyError: ListF has no constructor 'Zero'" from deep inside.
    Nil, Cons = cdl.ListF.patterns
    Zero, Succ = cdl.NatF.patterns

    def forget(layer: cdl.Layer) -> cdl.Layer:
        match layer:
            case Nil():
                return Zero()
            case Cons(_, rest):
                return Succ(rest)
        raise AssertionError

    text = "returns layers of ListF (Nil, Cons), but on a Nil layer it returned a Zero"
    with pytest.raises(TypeError, match=re.escape(text) + ".*cdl.cataM"):
        cdl.hoist(cdl.ListF, forget)(Cons(1.0, Nil()))
    total = cdl.ListAlgebra(0.0, lambda p: p[0] + p[1])
    with pytest.raises(TypeError, match=re.escape(text)):
        cdl.prepro(forget, total)(jnp.ones(3))


def test_a_tree_of_one_leaf_given_as_nested_pairs_folds() -> None:
    # In nested pairs a bare payload is the tree `Leaf x` (as inside a forest), but a
    # fold given one said it "folds a cdl.NodeTable, but was given float" (under
    # jax.grad: "given LinearizeTracer").
    alg = cdl.Algebra(cdl.TreeF, Leaf=lambda p: 2.0 * p[0], Node=lambda p: sum(p[1]))
    assert float(cdl.cata(alg)(3.0)) == 6.0
    assert float(cdl.cata(alg)(jnp.float32(3.0))) == 6.0
    assert float(jax.grad(cdl.cata(alg))(3.0)) == 2.0
    assert float(cdl.upwards(alg)(3.0)[0]) == 6.0
    k1, k2 = jax.random.split(jax.random.key(0))
    rnn = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(2, 3, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k2),
    )
    leaf = jnp.array([1.0, -1.0])
    np.testing.assert_allclose(cdl.cata(rnn)(leaf), cdl.cata(rnn)([leaf])[0])
    with pytest.raises(TypeError, match="folds a `cdl.NodeTable`"):
        cdl.cata(alg)("3")


def test_functors_tables_and_folds_copy_and_pickle() -> None:
    # copy.deepcopy and pickle of a functor (so of a node table or a tree fold, which
    # hold one) ended in RecursionError: they make the object before setting its
    # fields, and the lookup of a missing field asked for the constructors' names.
    ExprF = cdl.polynomial("ExprF", Lit="a", Add="x x")
    for functor in (cdl.TreeF, ExprF):
        assert copy.deepcopy(functor) == functor
        assert pickle.loads(pickle.dumps(functor)) == functor
    table = cdl.tree_table(cdl.TreeF, ((1.0, 2.0), 3.0))
    fold = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=_first, Node=_product))
    assert float(fold(pickle.loads(pickle.dumps(table)))) == 6.0
    assert float(copy.deepcopy(fold)(copy.deepcopy(table))) == 6.0
    assert float(pickle.loads(pickle.dumps(fold))(table)) == 6.0


def _first(p: tuple[Array, tuple[()]]) -> Array:
    return p[0]


def _product(p: tuple[Array, tuple[Array, Array]]) -> Array:
    return p[1][0] * p[1][1]
