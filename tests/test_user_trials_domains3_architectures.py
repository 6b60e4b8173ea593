"""GPT trials: two builds share one pytree structure; generation keeps its tokens."""

import io
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
    resnet,
    transformer_block,
    unet,
    vit,
)

K = jax.random.key(0)


def _build(seed: int) -> object:
    return gpt(7, 8, 1, 2, 6, key=jax.random.key(seed))


def test_two_builds_of_a_tied_gpt_are_equal_and_share_a_structure() -> None:
    # The tie held two lambdas made afresh by each call as static metadata, so two
    # builds from one key were not tree_equal and had different tree structures.
    first, second = _build(0), _build(0)
    assert bool(eqx.tree_equal(first, second))
    assert jax.tree.structure(first) == jax.tree.structure(second)


def test_a_loaded_tied_gpt_maps_with_a_fresh_one() -> None:
    trained, fresh = _build(0), _build(1)
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, trained)
    buffer.seek(0)
    loaded = eqx.tree_deserialise_leaves(buffer, _build(2))
    # tree_map over a loaded and a freshly built model (an average, a distance)
    gap = jax.tree.map(
        lambda a, b: jnp.abs(a - b).max(),
        eqx.filter(loaded, eqx.is_inexact_array),
        eqx.filter(fresh, eqx.is_inexact_array),
    )
    assert max(float(g) for g in jax.tree.leaves(gap)) > 0
    assert bool(eqx.tree_equal(loaded, trained))


def test_generate_from_a_narrow_integer_prompt_keeps_tokens_past_its_range() -> None:
    # The buffer took the prompt's dtype, so token 299 drawn after a uint8 prompt
    # was stored as 43 (299 − 256) and fed back to the model, without a word.
    model = gpt(300, 8, 1, 2, 8, tied=False, key=jax.random.key(0))
    norm, readout = (
        layers_of(model, cdl.LayerNorm)[-1],
        layers_of(model, cdl.Linear)[-1],
    )
    model = eqx.tree_at(
        lambda m: (
            layers_of(m, cdl.LayerNorm)[-1].weight,
            layers_of(m, cdl.LayerNorm)[-1].bias,
            layers_of(m, cdl.Linear)[-1].weight,
        ),
        model,
        (
            jnp.zeros_like(norm.weight),
            jnp.ones_like(norm.bias),
            jnp.zeros_like(readout.weight).at[299].set(1.0),
        ),
    )  # every position's logits favour token 299
    for dtype in (np.uint8, np.int8, np.uint16, np.int32):
        out = generate(model, np.array([1, 2], dtype), 5, key=K, temperature=0.0)
        assert out.dtype == jnp.int32
        assert out.tolist() == [1, 2, 299, 299, 299]


def test_generate_names_a_key_that_is_not_a_prng_key() -> None:
    # It failed inside jax.random.split with "invalid PRNG key data".
    model = gpt(5, 8, 1, 2, 8, key=K)
    with pytest.raises(TypeError, match="generate: key must be a PRNG key"):
        generate(model, jnp.array([1]), 4, key=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("transformer_block", lambda: transformer_block(8, 2, key=0)),
        ("gpt", lambda: gpt(5, 8, 1, 2, 8, key=0)),
        ("vit", lambda: vit(8, 4, 1, 3, 16, 1, 2, key=0)),
        ("unet", lambda: unet(1, 1, 4, 1, key=0)),
        ("double_conv", lambda: double_conv(1, 2, key=0)),
        ("conv_bn", lambda: conv_bn(1, 2, 3, 1, key=0)),
        ("basic_block", lambda: basic_block(4, 8, 2, key=0)),
        ("resnet", lambda: resnet((1,), (4,), 1, 3, key=0)),
    ],
)
def test_builders_name_a_key_that_is_not_a_prng_key(name: str, build: Any) -> None:
    # Each failed inside jax.random.split with "invalid PRNG key data" (conv_bn
    # named its Conv2d).
    with pytest.raises(TypeError, match=f"^{name}: key must be a PRNG key"):
        build()
