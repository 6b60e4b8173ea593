from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.architectures import (
    basic_block,
    conv_bn,
    double_conv,
    generate,
    gpt,
    layers_of,
    residual_with_state,
    resnet,
    transformer_block,
    unet,
    vit,
    with_state,
)
from cdl.architectures._twins import gpt_twin, resnet_twin, unet_twin, vit_twin

KEY = jax.random.key(0)
run = eqx.filter_jit(lambda model, x: model(x))


def filled(build: Callable[[], Any]) -> Any:
    """`build()` with its arrays drawn by NumPy instead of its initialisers.

    A twin matches on any weights; each new weight shape would compile a JAX sampler
    (a second or more each), so the twin tests draw them this way to stay fast.
    """
    rng = np.random.default_rng(0)

    def draw(leaf: Any) -> Any:
        if not isinstance(leaf, jax.ShapeDtypeStruct):
            return leaf
        return jnp.asarray(0.5 * rng.standard_normal(leaf.shape), leaf.dtype)

    return jax.tree.map(draw, eqx.filter_eval_shape(build))


def test_gpt_equals_its_equinox_twin() -> None:
    model = filled(lambda: gpt(13, 16, 1, 2, 12, key=KEY))
    tokens = jax.random.randint(jax.random.key(1), (9,), 0, 13)
    assert jnp.allclose(run(model, tokens), run(gpt_twin(model), tokens), atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("tied", [True, False])
def test_gpt_equals_its_equinox_twin_and_so_do_its_gradients(tied: bool) -> None:
    model = gpt(13, 16, 2, 2, 12, tied=tied, key=KEY)
    twin = gpt_twin(model)
    tokens = jax.random.randint(jax.random.key(1), (9,), 0, 13)
    assert jnp.allclose(run(model, tokens), run(twin, tokens), atol=1e-5)

    def loss(m: eqx.Module) -> jax.Array:
        logits = m(tokens[:-1])
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(8), tokens[1:]])

    ours = eqx.filter_jit(eqx.filter_grad(loss))(model)
    theirs = eqx.filter_jit(eqx.filter_grad(loss))(twin)
    base = ours.params if tied else ours
    (embedding,) = layers_of(base, cdl.Embedding)
    assert jnp.allclose(embedding.table, theirs.embedding.weight, atol=1e-5)
    (block,) = layers_of(base, cdl.SelfAttention)[:1]
    assert jnp.allclose(
        block.query_proj.weight, theirs.blocks[0].attention.query_proj.weight, atol=1e-5
    )


@eqx.filter_jit
def batch_resnet(model: cdl.Para, images: jax.Array, state: eqx.nn.State) -> tuple:
    batched = jax.vmap(
        model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None)
    )
    return batched((images, state))


@eqx.filter_jit
def batch_twin(model: eqx.Module, images: jax.Array, state: eqx.nn.State) -> tuple:
    batched = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    return batched(images, state)


def test_vit_equals_its_equinox_twin() -> None:
    image = jax.random.normal(jax.random.key(1), (1, 8, 8))
    model = filled(lambda: vit(8, 2, 1, 10, 16, 2, 2, key=KEY))
    assert jnp.allclose(run(model, image), run(vit_twin(model), image), atol=1e-5)


def test_unet_equals_its_equinox_twin() -> None:
    image = jax.random.normal(jax.random.key(1), (1, 8, 8))
    net = filled(lambda: unet(1, 2, 4, 2, key=KEY))
    assert jnp.allclose(run(net, image), run(unet_twin(net), image), atol=1e-5)


def test_resnet_equals_its_equinox_twin_in_training() -> None:
    res, state = filled(
        lambda: eqx.nn.make_with_state(resnet)((1, 1), (4, 8), 1, 10, key=KEY)
    )
    twin, twin_state = resnet_twin(res)
    images = jax.random.normal(jax.random.key(2), (6, 1, 8, 8))
    ours, state = batch_resnet(res, images, state)
    theirs, _ = batch_twin(twin, images, twin_state)
    assert jnp.allclose(ours, theirs, atol=1e-5)


def abstract(build: Callable[[], Any]) -> Any:
    """Build a model with every array abstract: its spaces are checked, nothing runs."""
    return eqx.filter_eval_shape(build)


def test_a_mistyped_width_is_a_composition_error_naming_both_sides() -> None:
    embed = abstract(lambda: cdl.Each(cdl.Embedding(50, 32, key=KEY)))
    with pytest.raises(
        cdl.CompositionError, match=r"each\(Embedding.*DecoderBlock\(16"
    ):
        abstract(lambda: embed >> transformer_block(16, 4, causal=True, key=KEY))
    with pytest.raises(cdl.CompositionError, match=r"BatchNorm\(8\).*BasicBlock\(4→8"):
        abstract(lambda: conv_bn(1, 8, 3, 1, key=KEY) >> basic_block(4, 8, key=KEY))

    def unet_level() -> Any:
        down_up = (
            cdl.MaxPool2d(2)
            >> double_conv(8, 16, key=KEY)
            >> cdl.ConvTranspose2d(16, 8, 2, stride=2, key=KEY)
        )
        level = double_conv(1, 8, key=KEY) >> cdl.Copy() >> (cdl.Identity() @ down_up)
        return level >> cdl.Concat(axis=0) >> double_conv(12, 8, key=KEY)

    with pytest.raises(cdl.CompositionError, match=r"Concat.*Conv2d\(12→8"):
        abstract(unet_level)

    def vit_start() -> Any:
        patches = cdl.Conv2d(1, 16, 2, stride=2, key=KEY) >> cdl.Reshape(16, 16)
        positions = cdl.LearnedPositions(16, 16, key=KEY)
        return (
            patches >> cdl.Transpose() >> positions >> transformer_block(32, 4, key=KEY)
        )

    with pytest.raises(
        cdl.CompositionError, match=r"LearnedPositions.*EncoderBlock\(32"
    ):
        abstract(vit_start)


def test_sizes_are_known_statically() -> None:
    image = cdl.space_of(jnp.ones((1, 16, 16)))
    net = abstract(lambda: unet(1, 3, 4, 2, key=KEY))
    assert net.output_space(image).shape == (3, 16, 16)
    model = abstract(lambda: resnet((1, 1), (4, 8), 1, 10, key=KEY))
    out = model.output_space(cdl.space_of((jnp.ones((1, 16, 16)), "state")))
    assert repr(out) == "(float[10] × str)"
    assert (
        repr(abstract(lambda: vit(8, 2, 1, 10, 16, 1, 2, key=KEY)).cod) == "float[10]"
    )


def test_an_image_of_a_size_an_architecture_cannot_take_is_named() -> None:
    net = abstract(lambda: unet(1, 3, 4, 2, key=KEY))  # sides multiples of 4
    joined = r"Level2\(1→4\): a U-Net of depth 2 needs .* multiples of 4, but the im"
    with pytest.raises(cdl.CompositionError, match=joined):
        net.output_space(cdl.space_of(jnp.ones((1, 10, 10))))
    with pytest.raises(cdl.SpaceError, match=joined):
        eqx.filter_eval_shape(net, jnp.ones((1, 10, 10)))
    model = abstract(lambda: vit(8, 2, 1, 10, 16, 1, 2, key=KEY))  # 8×8 images
    assert repr(model.dom) == "float[1,8,8]"
    sized = r"expects input float\[1,8,8\], but was given f32\[1,12,12\]"
    with pytest.raises(cdl.SpaceError, match=sized):
        eqx.filter_eval_shape(model, jnp.ones((1, 12, 12)))
    with pytest.raises(Exception, match="dimension 8 is not 12"):
        model.output_space(cdl.space_of(jnp.ones((1, 12, 12))))


def test_builders_name_what_is_not_a_morphism_or_a_class() -> None:
    with pytest.raises(
        TypeError, match="with_state: f must be a cdl.Para morphism, but was given"
    ):
        with_state(jax.nn.relu)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="residual_with_state: shortcut must be"):
        residual_with_state(with_state(cdl.Relu()), jnp.tanh)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kind must be a class .* 'Linear'"):
        layers_of(cdl.Relu(), "Linear")  # type: ignore[arg-type]


def test_resnet_given_its_sizes_in_the_wrong_order_says_which_comes_first() -> None:
    order = r"sequences with one entry per stage \(resnet\(stages, widths, channels"
    with pytest.raises(ValueError, match=order + r".*given 3 and 10\."):
        resnet(3, 10, (16, 32), (1, 1), key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"given \(1,\) and \(16, 32\)"):
        resnet((1,), (16, 32), 3, 10, key=KEY)
    with pytest.raises(ValueError, match=r"resnet: stages\[1\] must be a positive int"):
        resnet((1, 0), (16, 32), 3, 10, key=KEY)


def test_generate_keeps_the_prompt_and_greedy_sampling_follows_the_argmax() -> None:
    model = gpt(13, 16, 1, 2, 12, key=KEY)
    prompt = jnp.array([3, 1])
    out = eqx.filter_jit(generate)(model, prompt, 6, key=KEY, temperature=0.0)
    assert out[:2].tolist() == [3, 1]
    logits = run(model, out)
    assert out[2:].tolist() == jnp.argmax(logits[1:5], axis=-1).tolist()
    with pytest.raises(ValueError, match="the prompt must hold between 1 and length=6"):
        generate(model, jnp.arange(7), 6, key=KEY)
    with pytest.raises(ValueError, match=r"one sequence of tokens, int\[p\], but has"):
        generate(model, prompt[None], 6, key=KEY)
    with pytest.raises(ValueError, match="temperature must be 0 .* given -1.0"):
        generate(model, prompt, 6, key=KEY, temperature=-1.0)


def test_diagrams_collapse_blocks() -> None:
    model = abstract(lambda: gpt(13, 16, 2, 2, 12, tied=False, key=KEY))
    boxes = cdl.draw(model).boxes()
    assert boxes.count("DecoderBlock(16, heads=2)") == 2
    inner = cdl.draw(layers_of(model, cdl.Block)[0].body).boxes()
    assert "SelfAttention(16, heads=2, causal)" in inner
