"""Architecture builders given sizes a user gets wrong name their own arguments."""

import re
from collections.abc import Callable
from typing import Any

import jax
import pytest

from cdl.architectures import (
    basic_block,
    conv_bn,
    double_conv,
    gpt,
    resnet,
    transformer_block,
    unet,
    vit,
)

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
