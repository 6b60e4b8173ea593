"""Architectures tried as an outside user tries them (seventh round)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.architectures import basic_block, gpt

MOVEAXIS = r"It looks channels-last.*jnp\.moveaxis\(x, -1, 0\)"


def test_blocks_starting_with_a_convolution_point_to_channels_first() -> None:
    # A lone basic block, a user's Block around a convolution and a Block around a
    # residual convolution said only "dimension 3 is not 8" of an (8, 8, 3) image,
    # where the convolution inside says it looks channels-last.
    key = jax.random.key(0)
    block, state = eqx.nn.make_with_state(basic_block)(3, 8, 2, key=key)
    image = jnp.ones((8, 8, 3))
    with pytest.raises(
        cdl.SpaceError, match=r"BasicBlock\(3→8, stride 2\).*" + MOVEAXIS
    ):
        block((image, state))
    conv = cdl.Conv2d(3, 4, 3, padding=1, key=key)
    with pytest.raises(cdl.SpaceError, match=r"^Stem expects .*" + MOVEAXIS):
        cdl.Block("Stem", conv >> cdl.Relu())(image)
    res = cdl.residual(cdl.Conv2d(3, 3, 3, padding=1, key=key) >> cdl.Relu())
    with pytest.raises(cdl.SpaceError, match=r"^Res expects .*" + MOVEAXIS):
        cdl.Block("Res", res)(image)
    # an input that is wrong in another way gets no such hint
    with pytest.raises(cdl.SpaceError, match=r"dimension 3 is not 4\)\.$"):
        block((jnp.ones((4, 8, 8)), state))


def test_a_gpt_called_with_a_token_outside_its_vocabulary_names_it() -> None:
    # gpt(5, ...)(jnp.array([1, 7])) failed with Equinox's long runtime report from
    # inside each(Embedding)'s vmap; generate already named such a prompt token.
    model = gpt(5, 8, 1, 2, 6, key=jax.random.key(0))
    for tokens, at, token in (([1, 7], 1, 7), ([-1, 2, 3], 0, -1)):
        with pytest.raises(
            IndexError,
            match=rf"^each\(Embedding\(5, 8\)\): position {at} holds index "
            rf"{token}, but the table has rows 0..4 only\.",
        ):
            model(jnp.array(tokens))
    assert model(jnp.array([0, 4], jnp.uint8)).shape == (2, 5)
    embed = cdl.Each(cdl.Embedding(3, 2, key=jax.random.key(1)))
    with pytest.raises(IndexError, match=r"position 2 holds index 3"):
        embed(jnp.array([0, 2, 3]))


def test_architectures_is_an_attribute_of_cdl() -> None:
    # After `import cdl`, cdl.graphs and cdl.games were there but
    # cdl.architectures (which docs/architectures.md writes as
    # cdl.architectures.with_state) was "No cdl attribute architectures": the
    # lazy loader, whose names dir(cdl) lists, did not know it.
    assert "architectures" in dir(cdl) and "architectures" in cdl.__all__
    assert cdl.architectures.gpt is gpt


def test_transposed_convolutions_and_batch_norm_point_to_channels_first() -> None:
    # Conv2d said "It looks channels-last" of an (8, 8, 3) image, but
    # ConvTranspose1d/2d and BatchNorm, which also take channels first, did not.
    key = jax.random.key(0)
    with pytest.raises(
        cdl.SpaceError, match=r"ConvTranspose2d\(3→4, 2×2\).*" + MOVEAXIS
    ):
        cdl.ConvTranspose2d(3, 4, 2, stride=2, key=key)(jnp.ones((8, 8, 3)))
    with pytest.raises(cdl.SpaceError, match=r"ConvTranspose1d\(3→4, 2\).*" + MOVEAXIS):
        cdl.ConvTranspose1d(3, 4, 2, key=key)(jnp.ones((8, 3)))
    bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    with pytest.raises(cdl.SpaceError, match=r"BatchNorm\(3\).*" + MOVEAXIS):
        bn((jnp.ones((8, 8, 3)), state))
    with pytest.raises(cdl.SpaceError, match=r"dimension 3 is not 4\)\.$"):
        bn((jnp.ones((4, 8, 8)), state))


def test_a_stochastic_block_called_without_a_key_is_named() -> None:
    # A transformer block with dropout, called without a key, was refused under
    # the label of its whole body ("Copy() >> ((LayerNorm(8, 1e-05) >> ...").
    act = cdl.Gelu() >> cdl.Dropout(0.5)
    block = cdl.architectures.transformer_block(
        8, 2, activation=act, key=jax.random.key(0)
    )
    with pytest.raises(ValueError, match=r"^EncoderBlock\(8, heads=2\) is stochastic"):
        block(jnp.ones((3, 8)))
    assert block(jnp.ones((3, 8)), key=jax.random.key(1)).shape == (3, 8)


def test_a_lifted_equinox_convolution_points_to_channels_first() -> None:
    # cdl.Conv2d said "It looks channels-last" of an (8, 8, 3) image, but the
    # same convolution from Equinox, brought in with cdl.lift, did not.
    from jaxtyping import Array, Float

    conv = cdl.lift(
        eqx.nn.Conv2d(3, 4, 3, key=jax.random.key(0)),
        dom=Float[Array, "3 h w"],
        cod=Float[Array, "4 h2 w2"],
    )
    with pytest.raises(cdl.SpaceError, match=r"^Conv2d expects .*" + MOVEAXIS):
        conv(jnp.ones((8, 8, 3)))
    mlp = cdl.lift(jax.nn.relu, dom=Float[Array, "3 h w"], cod=Float[Array, "3 h w"])
    with pytest.raises(cdl.SpaceError, match=r"dimension 3 is not 8\)\.$"):
        mlp(jnp.ones((8, 8, 3)))


def test_an_image_of_integers_is_pointed_to_floats() -> None:
    # A uint8 image into a CNN or a ViT said only "dtype float is not u8".
    key = jax.random.key(0)
    model = cdl.Conv2d(3, 4, 3, key=key) >> cdl.Relu()
    image = jnp.ones((3, 8, 8), jnp.uint8)
    with pytest.raises(
        cdl.SpaceError, match=r"not u8\)\. The image holds integers.*/ 255"
    ):
        model(image)
    vit = cdl.architectures.vit(8, 4, 3, 10, 8, 1, 2, key=key)
    with pytest.raises(cdl.SpaceError, match=r"The image holds integers"):
        vit(image)
    with pytest.raises(cdl.SpaceError, match=r"dtype float is not bool\)\.$"):
        model(jnp.ones((3, 8, 8), bool))
