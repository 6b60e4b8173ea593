"""Round core7 of user trials: recursion schemes."""

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
