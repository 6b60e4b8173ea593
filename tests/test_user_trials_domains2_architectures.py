"""Architecture builders given sizes a user gets wrong name their own arguments."""

import re
from collections.abc import Callable
from typing import Any

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
    resnet,
    transformer_block,
    unet,
    vit,
)
from cdl.architectures._transformer import _temperature

K = jax.random.key(0)

# Each of these named a layer inside the builder ("Embedding: num must be ...",
# "SelfAttention: dim must be ...", "Conv2d: out_channels ...", "Linear: out_dim
# ...") instead of the argument the user wrote.
CASES: list[tuple[str, Callable[[], Any], str]] = [
    ("gpt vocab", lambda: gpt(0, 16, 1, 2, 8, key=K), "gpt: vocab must be a positive"),
    ("gpt dim", lambda: gpt(11, 16.0, 1, 2, 8, key=K), "gpt: dim must be a positive"),
    ("gpt heads", lambda: gpt(11, 16, 1, 0, 8, key=K), "gpt: heads must be a positive"),
    (
        "gpt heads dividing",
        lambda: gpt(11, 10, 1, 3, 8, key=K),
        "gpt: dim must be a multiple of heads (3), but was given 10.",
    ),
    (
        "gpt max_length",
        lambda: gpt(11, 16, 1, 2, 0, key=K),
        "gpt: max_length must be a positive int",
    ),
    (
        "vit heads",
        lambda: vit(8, 2, 1, 10, 16, 1, 3, key=K),
        "vit: dim must be a multiple of heads (3)",
    ),
    ("vit classes", lambda: vit(8, 2, 1, 0, 16, 1, 2, key=K), "vit: classes must be"),
    ("vit channels", lambda: vit(8, 2, 0, 3, 16, 1, 2, key=K), "vit: channels must"),
    (
        "transformer_block",
        lambda: transformer_block(10, 4, key=K),
        "transformer_block: dim must be a multiple of heads (4)",
    ),
    ("unet channels", lambda: unet(0, 1, 8, 1, key=K), "unet: channels must be"),
    ("unet out", lambda: unet(1, 0, 8, 1, key=K), "unet: out_channels must be"),
    ("double_conv", lambda: double_conv(0, 4, key=K), "double_conv: c_in must be"),
    (
        "resnet widths",
        lambda: resnet((1,), (0,), 1, 10, key=K),
        "resnet: widths[0] must be a positive int, but was given 0.",
    ),
    (
        "resnet widths float",
        lambda: resnet((1, 1), (8, 16.0), 1, 10, key=K),
        "resnet: widths[1] must be a positive int, but was given 16.0.",
    ),
    ("resnet classes", lambda: resnet((1,), (8,), 1, 0, key=K), "resnet: classes"),
    ("resnet channels", lambda: resnet((1,), (8,), 0, 3, key=K), "resnet: channels"),
    ("basic_block", lambda: basic_block(4, 4, 0, key=K), "basic_block: stride must"),
    ("conv_bn", lambda: conv_bn(4, 4, 3, 2.0, key=K), "conv_bn: stride must be"),
    ("conv_bn c_out", lambda: conv_bn(4, 0, 3, 1, key=K), "conv_bn: c_out must be"),
]


@pytest.mark.parametrize(("case", "build", "text"), CASES, ids=[c[0] for c in CASES])
def test_builders_name_their_own_arguments(
    case: str, build: Callable[[], Any], text: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(text)):
        build()


def test_conv_bn_still_names_an_even_kernel() -> None:
    with pytest.raises(ValueError, match="odd"):
        conv_bn(3, 8, 2, 1, key=K)


def test_layers_of_a_tied_model_finds_each_layer_once() -> None:
    # A tied GPT gave 14 Linear layers, the last 7 copies from its skeleton
    # without weights (`layers_of(model, cdl.Linear)[-1].weight` was None).
    tied = gpt(9, 8, 1, 2, 6, key=K)
    untied = gpt(9, 8, 1, 2, 6, tied=False, key=K)
    found = layers_of(tied, cdl.Linear)
    assert [f.label for f in found] == [f.label for f in layers_of(untied, cdl.Linear)]
    assert len(found) == 7
    assert all(f.weight is not None for f in found[:-1])  # the read-out is tied
    assert len(layers_of(cdl.parameters(tied), cdl.Embedding)) == 1


@pytest.mark.parametrize("bad", [float("nan"), "0", True, [0.5], -1.0])
def test_generate_names_a_temperature_that_is_no_number_at_least_zero(
    bad: object,
) -> None:
    model = gpt(5, 8, 1, 2, 6, key=K)
    # NaN sampled token 0 at every step, silently; "0" raised a bare TypeError.
    with pytest.raises(ValueError, match="temperature must be 0 .* positive number"):
        generate(model, jnp.array([1]), 4, key=K, temperature=bad)  # type: ignore[arg-type]


def test_a_temperature_given_as_a_concrete_array_is_read_as_a_number() -> None:
    # A jnp temperature raised TracerBoolConversionError inside the loop.
    assert _temperature(jnp.array(0.5)) == 0.5
    assert _temperature(np.float32(0.0)) == 0.0


@pytest.mark.slow
def test_generate_takes_a_temperature_traced_under_jit() -> None:
    model = gpt(5, 8, 1, 2, 6, key=K)
    prompt = jnp.array([1, 2])
    sample = jax.jit(lambda t: generate(model, prompt, 6, key=K, temperature=t))
    for t in (0.0, 0.7):
        eager = generate(model, prompt, 6, key=K, temperature=t)
        assert jnp.array_equal(sample(t), eager)
        assert jnp.array_equal(
            generate(model, prompt, 6, key=K, temperature=jnp.array(t)), eager
        )
