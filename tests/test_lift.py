import io

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl

KEY = jax.random.key(0)


def mlp() -> eqx.nn.MLP:
    return eqx.nn.MLP(4, 3, 8, 2, key=KEY)


def lifted_mlp(module: eqx.nn.MLP | None = None) -> cdl.Lifted:
    return cdl.lift(
        mlp() if module is None else module,
        dom=Float[Array, "4"],
        cod=Float[Array, "3"],
    )


def test_a_lifted_module_computes_the_module_and_its_leaves_are_its_parameters() -> (
    None
):
    module = mlp()
    f = lifted_mlp(module)
    x = jax.random.normal(KEY, (4,))
    assert jnp.array_equal(f(x), module(x))
    ours = jax.tree.leaves(cdl.parameters(f))
    theirs = jax.tree.leaves(eqx.filter(module, eqx.is_array))
    assert len(ours) == len(theirs)
    assert all(a is b for a, b in zip(ours, theirs, strict=True))


def test_a_lifted_function_has_no_parameters() -> None:
    gelu = cdl.lift(jax.nn.gelu, dom=Float[Array, "*s"], cod=Float[Array, "*s"])
    assert jax.tree.leaves(cdl.parameters(gelu)) == []
    assert gelu.label == "gelu"
    x = jnp.linspace(-2, 2, 5)
    assert jnp.array_equal(gelu(x), jax.nn.gelu(x))


def test_spaces_are_read_from_jaxtyping_annotations() -> None:
    attention = eqx.nn.MultiheadAttention(2, 8, key=KEY)
    f = cdl.lift(attention)
    assert (
        repr(f.dom)
        == "(float[q_seq,q_size] × float[kv_seq,k_size] × float[kv_seq,v_size])"
    )
    assert repr(f.cod) == "float[q_seq,o_size]"
    q, kv = jnp.ones((3, 8)), jnp.ones((5, 8))
    assert jnp.array_equal(f((q, kv, kv)), attention(q, kv, kv))
    rope = cdl.lift(eqx.nn.RotaryPositionalEmbedding(8))
    assert repr(rope.cod) == "float[seq_length,8]"  # the module's int field


def test_declared_dimension_names_take_given_sizes() -> None:
    f = cdl.lift(
        jnp.tanh, dom=Float[Array, "n d"], cod=Float[Array, "n d"], sizes={"d": 6}
    )
    assert repr(f.dom) == "float[n,6]"


def test_a_lifted_module_composes_and_is_checked_like_any_layer() -> None:
    f = lifted_mlp()
    model = cdl.Linear(2, 4, key=KEY) >> f >> cdl.Relu()
    assert repr(model.cod) == "float[3]"
    with pytest.raises(
        cdl.CompositionError, match=r"MLP does not compose with Linear\(5→2\)"
    ):
        f >> cdl.Linear(5, 2, key=KEY)
    with pytest.raises(cdl.SpaceError, match="MLP expects input float\\[4\\]"):
        f(jnp.ones(5))


def test_wrong_declared_spaces_fail_at_construction() -> None:
    with pytest.raises(
        cdl.SpaceError, match=r"lift\(MLP\): declared to return float\[2\]"
    ):
        cdl.lift(mlp(), dom=Float[Array, "4"], cod=Float[Array, "2"])
    with pytest.raises(TypeError, match="declare both dom= and cod="):
        cdl.lift(mlp(), dom=Float[Array, "4"])
    with pytest.raises(TypeError, match=r"lift\(Linear\): its call has no jaxtyping"):
        cdl.lift(eqx.nn.Linear(2, 2, key=KEY))
    with pytest.raises(TypeError, match="expected an Equinox module or a function"):
        cdl.lift(3)  # type: ignore[arg-type]


def test_jit_grad_and_vmap_agree_with_the_module() -> None:
    module = mlp()
    f = lifted_mlp(module)
    xs = jax.random.normal(KEY, (5, 4))
    assert jnp.allclose(jax.vmap(f)(xs), jax.vmap(module)(xs))
    assert jnp.allclose(eqx.filter_jit(lambda m, x: m(x))(f, xs[0]), module(xs[0]))

    def loss(m: eqx.Module) -> Array:
        return jnp.sum(jax.vmap(m)(xs) ** 2)

    ours = eqx.filter_grad(loss)(f)
    theirs = eqx.filter_grad(loss)(module)
    assert eqx.tree_equal(ours.fn, theirs, rtol=1e-6, atol=1e-6)


def test_a_lifted_module_serialises() -> None:
    f = lifted_mlp()
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, f)
    buffer.seek(0)
    other = lifted_mlp(eqx.nn.MLP(4, 3, 8, 2, key=jax.random.key(7)))
    restored = eqx.tree_deserialise_leaves(buffer, other)
    assert eqx.tree_equal(restored, f)


@pytest.mark.slow
def test_a_lifted_module_trains_with_fit() -> None:
    f = lifted_mlp()
    xs = jax.random.normal(KEY, (64, 4))
    ys = xs[:, :3] * 2.0
    learner = cdl.Learner(f, cdl.MeanSquaredError(), cdl.Adam(1e-2))
    result = cdl.fit(learner, f, xs, ys, epochs=30, batch_size=16, key=KEY,
                     progress=False)  # fmt: skip
    assert result.history["loss"][-1] < 0.2 * result.history["loss"][0]


def test_a_lifted_module_gets_the_key() -> None:
    drop = cdl.lift(eqx.nn.Dropout(0.5), dom=Float[Array, "*s"], cod=Float[Array, "*s"])
    y = drop(jnp.ones(1000), key=KEY)
    assert 0.3 < float((y == 0).mean()) < 0.7


def test_a_lifted_module_is_drawn_as_one_box() -> None:
    model = lifted_mlp() >> cdl.lift(
        jax.nn.relu, dom=Float[Array, "3"], cod=Float[Array, "3"], label="relu!"
    )
    assert cdl.draw(model).boxes() == ["MLP", "relu!"]


def test_a_function_with_wrong_declared_spaces_is_refused() -> None:
    with pytest.raises(
        cdl.SpaceError,
        match=r"lift\(gelu\): declared to return float\[4\] on float\[3\], "
        r"but it returns f32\[3\]",
    ):
        cdl.lift(jax.nn.gelu, dom=Float[Array, "3"], cod=Float[Array, "4"])
    # Spaces with symbolic sizes are checked at each call.
    total = cdl.lift(lambda x: x.sum(), dom=Float[Array, "n"], cod=Float[Array, "n"])
    with pytest.raises(cdl.SpaceError, match=r"must return float\[3\]"):
        total(jnp.ones(3))
