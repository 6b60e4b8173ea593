import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jaxtyping import Array, Float

import cdl

KEY = jax.random.key(0)


Vector = Float[Array, " n"]


def mlp(*sizes: int) -> cdl.Para[Vector, Vector]:
    keys = jax.random.split(KEY, len(sizes))
    model: cdl.Para[Vector, Vector] = cdl.Linear(sizes[0], sizes[1], key=keys[0])
    for i in range(1, len(sizes) - 1):
        model = model >> cdl.Tanh() >> cdl.Linear(sizes[i], sizes[i + 1], key=keys[i])
    return model


class PatchEmbed(cdl.Para[Float[Array, "28 28"], Float[Array, "16 32"]]):
    proj: cdl.Linear

    def __init__(self, *, key: jax.Array) -> None:
        self.proj = cdl.Linear(49, 32, key=key)

    def __call__(self, x: Float[Array, "28 28"]) -> Float[Array, "16 32"]:
        patches = x.reshape(4, 7, 4, 7).transpose(0, 2, 1, 3).reshape(16, 49)
        return jax.vmap(self.proj)(patches)


def test_composition_error_names_both_morphisms_and_spaces() -> None:
    with pytest.raises(cdl.CompositionError) as info:
        cdl.Linear(784, 128, key=KEY) >> cdl.Linear(64, 10, key=KEY)
    assert str(info.value) == (
        "Linear(784→128) does not compose with Linear(64→10): output float[128] "
        "of Linear(784→128) != input float[64] of Linear(64→10)."
    )


def test_composition_error_across_polymorphic_activations() -> None:
    with pytest.raises(cdl.CompositionError, match="float\\[128\\].*float\\[64\\]"):
        (
            cdl.Linear(784, 128, key=KEY)
            >> cdl.Relu()
            >> cdl.Tanh()
            >> cdl.Linear(64, 10, key=KEY)
        )
    with pytest.raises(cdl.CompositionError):
        (
            cdl.Tanh()
            >> cdl.Linear(3, 3, key=KEY)
            >> cdl.Softmax()
            >> cdl.Embedding(4, 2, key=KEY)
        )


def test_activation_takes_shape_from_neighbours() -> None:
    model = cdl.Tanh() >> cdl.Linear(3, 5, key=KEY) >> cdl.Gelu()
    assert repr(model.dom) == "float[3]"
    assert repr(model.cod) == "float[5]"


def test_user_layer_declares_its_spaces() -> None:
    embed = PatchEmbed(key=KEY)
    assert repr(embed.dom) == "float[28,28]" and repr(embed.cod) == "float[16,32]"
    assert embed(jnp.zeros((28, 28))).shape == (16, 32)
    with pytest.raises(cdl.CompositionError, match="float\\[16,32\\]"):
        embed >> cdl.Linear(32, 10, key=KEY)
    ok = embed >> cdl.Flatten() >> cdl.Linear(512, 10, key=KEY)
    assert ok(jnp.zeros((28, 28))).shape == (10,)


def test_call_errors_name_morphism_expected_and_given() -> None:
    layer = cdl.Linear(3, 2, key=KEY)
    with pytest.raises(cdl.SpaceError, match=r"Linear\(3→2\) expects input float\[3\]"):
        layer(jnp.zeros(4))
    with pytest.raises(cdl.SpaceError, match="dtype"):
        layer(jnp.zeros(3, dtype=jnp.int32))
    with pytest.raises(cdl.SpaceError, match="rank 1 is not rank 0"):
        layer(jnp.float32(1.0))
    with pytest.raises(cdl.SpaceError, match="jax.vmap"):
        layer(jnp.zeros((8, 3)))


def test_wrong_output_of_a_user_layer_is_caught() -> None:
    class Bad(cdl.Para[Float[Array, "3"], Float[Array, "2"]]):
        def __call__(self, x: Float[Array, "3"]) -> Float[Array, "2"]:
            return x

    with pytest.raises(cdl.SpaceError, match=r"Bad\(\) violates .*Expected type"):
        Bad()(jnp.zeros(3))

    class Unannotated(cdl.Para[Float[Array, "3"], Float[Array, "2"]]):
        def __call__(self, x):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(cdl.SpaceError, match="must return float\\[2\\]"):
        Unannotated()(jnp.zeros(3))


def test_jit_grad_vmap_filter_jit() -> None:
    model = mlp(4, 8, 3)
    x = jnp.arange(4.0)
    assert jnp.allclose(jax.jit(lambda m, x: m(x))(model, x), model(x))
    assert jnp.allclose(eqx.filter_jit(lambda m, x: m(x))(model, x), model(x))
    xs = jnp.ones((5, 4))
    assert jax.vmap(model)(xs).shape == (5, 3)
    grads = jax.grad(lambda m: m(x).sum())(model)
    assert isinstance(grads, cdl.Compose)
    assert jax.tree.structure(grads) == jax.tree.structure(model)


def test_optax_step_changes_every_parameter() -> None:
    model = mlp(4, 8, 3)
    opt = optax.adam(1e-2)
    state = opt.init(eqx.filter(model, eqx.is_array))
    grads = eqx.filter_grad(lambda m: (m(jnp.ones(4)) ** 2).sum())(model)
    updates, state = opt.update(grads, state)
    new = eqx.apply_updates(model, updates)
    for old_leaf, new_leaf in zip(
        jax.tree.leaves(model), jax.tree.leaves(new), strict=True
    ):
        assert not jnp.allclose(old_leaf, new_leaf)


def test_serialisation_round_trip_loses_nothing(tmp_path: object) -> None:
    model = mlp(4, 8, 3) >> cdl.Dropout(0.1)
    path = f"{tmp_path}/model.eqx"
    eqx.tree_serialise_leaves(path, model)
    blank = mlp(4, 8, 3) >> cdl.Dropout(0.1)
    blank = jax.tree.map(jnp.zeros_like, blank)
    loaded = eqx.tree_serialise_leaves and eqx.tree_deserialise_leaves(path, blank)
    for a, b in zip(jax.tree.leaves(model), jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    assert jax.tree.structure(model) == jax.tree.structure(loaded)


def test_parallel_composition_acts_on_pairs() -> None:
    f, g = cdl.Linear(2, 3, key=KEY), cdl.Linear(4, 1, key=KEY)
    both = f @ g
    a, b = jnp.ones(2), jnp.ones(4)
    out = both((a, b))
    assert jnp.allclose(out[0], f(a)) and jnp.allclose(out[1], g(b))
    assert repr(both.dom) == "(float[2] × float[4])"
    with pytest.raises(cdl.SpaceError, match="tuple"):
        both(a)


def test_residual_block_from_structure() -> None:
    f = mlp(3, 6, 3)
    block = cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add()
    x = jnp.arange(3.0)
    assert jnp.allclose(block(x), f(x) + x)
    assert repr(block.dom) == "float[3]" and repr(block.cod) == "float[3]"
    with pytest.raises(cdl.CompositionError):
        cdl.Copy() >> (cdl.Linear(3, 4, key=KEY) @ cdl.Identity()) >> cdl.Add()


def test_structure_maps() -> None:
    x, y = jnp.ones(2), jnp.zeros(3)
    assert cdl.Swap()((x, y)) == (y, x)
    assert cdl.Fst()((x, y)) is x and cdl.Snd()((x, y)) is y
    assert cdl.Discard()(x) == ()
    assert repr((cdl.Linear(2, 2, key=KEY) >> cdl.Discard()).cod) == "()"
    swapped = (cdl.Linear(2, 5, key=KEY) @ cdl.Tanh()) >> cdl.Swap()
    assert repr(swapped.cod) == "(float[*shape] × float[5])"


def test_dropout_keys_through_composites() -> None:
    model = cdl.Linear(4, 4, key=KEY) >> cdl.Dropout(0.5) >> cdl.Dropout(0.5)
    x = jnp.ones(4)
    with pytest.raises(ValueError, match="needs a PRNG key"):
        model(x)
    a = model(x, key=jax.random.key(1))
    b = model(x, key=jax.random.key(2))
    assert not jnp.allclose(a, b)
    frozen = cdl.inference_mode(model)
    assert jnp.allclose(frozen(x), model.factors[0](x))


def test_calling_a_morphism_leaves_its_pytree_unchanged() -> None:
    model = mlp(3, 4, 2)
    grads = jax.grad(lambda m: m(jnp.ones(3)).sum())(model)
    before = jax.tree.structure(model)
    model(jnp.ones(3))
    assert jax.tree.structure(model) == before == jax.tree.structure(grads)
    eqx.apply_updates(model, grads)
