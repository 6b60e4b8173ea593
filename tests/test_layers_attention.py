import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.architectures._twins import _attention

KEY = jax.random.key(0)


def twin_of(layer: cdl.SelfAttention) -> eqx.nn.MultiheadAttention:
    return _attention(layer)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_equals_equinox_multihead_attention(causal: bool) -> None:
    layer = cdl.SelfAttention(16, 4, causal=causal, key=KEY)
    x = jax.random.normal(jax.random.key(1), (7, 16))
    mask = jnp.tril(jnp.ones((7, 7), bool)) if causal else None
    expected = twin_of(layer)(x, x, x, mask=mask)
    assert jnp.allclose(layer(x), expected, atol=1e-5)


def test_rotary_self_attention_equals_equinox_with_rotary_heads() -> None:
    layer = cdl.SelfAttention(16, 2, rotary=True, key=KEY)
    rope = eqx.nn.RotaryPositionalEmbedding(8)

    def heads(q: jax.Array, k: jax.Array, v: jax.Array) -> tuple[jax.Array, ...]:
        turn = jax.vmap(rope, in_axes=1, out_axes=1)
        return turn(q), turn(k), v

    x = jax.random.normal(jax.random.key(1), (5, 16))
    expected = twin_of(layer)(x, x, x, process_heads=heads)
    assert jnp.allclose(layer(x), expected, atol=1e-5)


def test_cross_attention_equals_equinox_and_padding_masks_keys() -> None:
    layer = cdl.PaddedCrossAttention(8, 4, 2, key=KEY)
    twin = eqx.nn.MultiheadAttention(2, 8, key_size=4, value_size=4, key=KEY)
    twin = eqx.tree_at(
        lambda t: (t.query_proj.weight, t.key_proj.weight, t.value_proj.weight,
                   t.output_proj.weight),
        twin,
        (layer.query_proj.weight, layer.key_proj.weight, layer.value_proj.weight,
         layer.output_proj.weight),
    )  # fmt: skip
    x = jax.random.normal(jax.random.key(1), (3, 8))
    memory = jax.random.normal(jax.random.key(2), (6, 4))
    valid = jnp.arange(6) < 4
    mask = jnp.broadcast_to(valid, (3, 6))
    assert jnp.allclose(
        layer((x, memory, valid)), twin(x, memory, memory, mask=mask), atol=1e-5
    )
    plain = cdl.CrossAttention(8, 4, 2, key=KEY)  # the same key: the same weights
    assert jnp.allclose(plain((x, memory)), twin(x, memory, memory), atol=1e-5)


@settings(max_examples=5, deadline=None)
@given(st.integers(2, 8), st.integers(0, 7), st.integers(0, 10_000))
def test_causal_attention_at_t_ignores_later_positions(
    length: int, t: int, seed: int
) -> None:
    t = t % length
    layer = cdl.SelfAttention(8, 2, causal=True, key=jax.random.key(seed))
    k1, k2 = jax.random.split(jax.random.key(seed + 1))
    x = jax.random.normal(k1, (length, 8))
    changed = x.at[t + 1 :].set(jax.random.normal(k2, (length - t - 1, 8)))
    assert jnp.allclose(layer(x)[: t + 1], layer(changed)[: t + 1], atol=1e-5)


@settings(max_examples=5, deadline=None)
@given(st.integers(2, 8), st.integers(1, 7), st.integers(0, 10_000))
def test_padded_positions_are_never_read(length: int, real: int, seed: int) -> None:
    real = min(real, length)
    layer = cdl.PaddedSelfAttention(8, 2, key=jax.random.key(seed))
    k1, k2 = jax.random.split(jax.random.key(seed + 1))
    x = jax.random.normal(k1, (length, 8))
    valid = jnp.arange(length) < real
    noise = jax.random.normal(k2, (length, 8))
    changed = jnp.where(valid[:, None], x, noise)
    out, other = layer((x, valid)), layer((changed, valid))
    assert jnp.allclose(out[:real], other[:real], atol=1e-5)


def test_a_sequence_that_is_all_padding_reads_nothing() -> None:
    x, noise = jax.random.normal(KEY, (2, 4, 8))
    none = jnp.zeros(4, bool)
    layer = cdl.PaddedSelfAttention(8, 2, key=KEY)
    assert jnp.array_equal(layer((x, none)), layer((noise, none)))
    cross = cdl.PaddedCrossAttention(8, 8, 2, key=KEY)
    assert jnp.array_equal(cross((x, x, none)), cross((x, noise, none)))


def test_attention_spaces_and_argument_checks() -> None:
    layer = cdl.CrossAttention(8, 4, 2, key=KEY)
    assert repr(layer.dom) == "(float[n,8] × float[m,4])"
    with pytest.raises(cdl.CompositionError, match="SelfAttention"):
        cdl.Each(cdl.Linear(3, 6, key=KEY)) >> cdl.SelfAttention(8, 2, key=KEY)
    with pytest.raises(ValueError, match="dim must be a multiple of heads"):
        cdl.SelfAttention(10, 4, key=KEY)
    with pytest.raises(ValueError, match="heads must be a positive int"):
        cdl.SelfAttention(8, 0, key=KEY)
    with pytest.raises(ValueError, match="dim // heads must be even"):
        cdl.SelfAttention(6, 2, rotary=True, key=KEY)


def test_an_empty_sequence_attends_to_an_empty_sequence() -> None:
    self_attention = cdl.SelfAttention(8, 2, causal=True, key=KEY)
    assert self_attention(jnp.ones((0, 8))).shape == (0, 8)
    cross = cdl.CrossAttention(8, 4, 2, key=KEY)
    assert cross((jnp.ones((0, 8)), jnp.ones((3, 4)))).shape == (0, 8)


def test_rotary_and_sinusoidal_encodings() -> None:
    x = jax.random.normal(KEY, (6, 8))
    assert jnp.allclose(
        cdl.RotaryEmbedding(8)(x), eqx.nn.RotaryPositionalEmbedding(8)(x), atol=1e-6
    )
    table = cdl.SinusoidalPositions(8)(jnp.zeros((6, 8)))
    p, i = 3, 2
    assert jnp.isclose(table[p, 2 * i], jnp.sin(p / 10000 ** (2 * i / 8)))
    assert jnp.isclose(table[p, 2 * i + 1], jnp.cos(p / 10000 ** (2 * i / 8)))
    positions = cdl.LearnedPositions(4, 8, key=KEY)
    with pytest.raises(
        ValueError, match="the sequence has 6 positions, more than the 4"
    ):
        positions(x)


def test_each_maps_over_positions_with_fresh_keys() -> None:
    embed = cdl.Each(cdl.Embedding(10, 4, key=KEY))
    tokens = jnp.array([3, 1, 3])
    assert jnp.array_equal(embed(tokens), embed.f.table[tokens])
    drop = cdl.Each(cdl.Dropout(0.5))
    assert drop.stochastic
    y = drop(jnp.ones((2, 200)), key=KEY)
    assert not jnp.array_equal(y[0] == 0, y[1] == 0)
    pairs = cdl.Each(cdl.Add())
    assert repr(pairs.dom) == "(any[n,*shape] × any[n,*shape])"


def test_residual_and_block() -> None:
    f = cdl.LayerNorm(4) >> cdl.Linear(4, 4, key=KEY)
    x = jax.random.normal(KEY, (4,))
    assert jnp.allclose(cdl.residual(f)(x), f(x) + x)
    shortcut = cdl.Linear(4, 4, key=jax.random.key(3))
    assert jnp.allclose(cdl.residual(f, shortcut)(x), f(x) + shortcut(x))
    block = cdl.Block("Mix", cdl.residual(f))
    assert cdl.draw(block).boxes() == ["Mix"]
    assert cdl.draw(block.body).boxes() == ["LayerNorm(4, 1e-05)", "Linear(4→4)"]
    assert jax.tree.leaves(cdl.parameters(block)) == jax.tree.leaves(
        cdl.parameters(block.body)
    )


@pytest.mark.parametrize("causal", [False, True])
def test_padded_self_attention_equals_equinox_with_the_key_mask(causal: bool) -> None:
    layer = cdl.PaddedSelfAttention(16, 4, causal=causal, key=KEY)
    x = jax.random.normal(jax.random.key(1), (6, 16))
    valid = jnp.arange(6) < 4
    mask = jnp.broadcast_to(valid, (6, 6))
    if causal:
        mask = mask & jnp.tril(jnp.ones((6, 6), bool))
    expected = twin_of(layer)(x, x, x, mask=mask)
    assert jnp.allclose(layer((x, valid)), expected, atol=1e-5)
