"""Builders take only True or False for their switches."""

import jax
import jax.numpy as jnp
import pytest

from cdl.architectures import generate, gpt, transformer_block

KEY = jax.random.key(0)


def test_switches_that_are_not_bools_are_refused() -> None:
    # "no" and "yes" were both read as True: tied="no" built a tied model and
    # causal="no" a decoder block.
    with pytest.raises(TypeError, match="gpt: tied must be True or False"):
        gpt(5, 8, 1, 2, 8, tied="no", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transformer_block: causal must be True"):
        transformer_block(8, 2, causal="no", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transformer_block: rotary must be True"):
        transformer_block(8, 2, rotary=1, key=KEY)  # type: ignore[arg-type]
    assert transformer_block(8, 2, causal=True, key=KEY).label.startswith("Decoder")


def test_a_traced_temperature_that_is_negative_or_nan_fails_when_it_runs() -> None:
    # Concrete ones were refused, but under vmap or jit -1 sampled the least
    # likely tokens and NaN wrote token 0 everywhere, without a word.
    model = gpt(5, 8, 1, 2, 4, key=KEY)
    prompt = jnp.array([1])

    def run(t: jax.Array) -> jax.Array:
        return generate(model, prompt, 4, key=KEY, temperature=t)

    for bad in (-1.0, jnp.nan):
        with pytest.raises(Exception, match="traced temperature is negative or NaN"):
            jax.block_until_ready(jax.vmap(run)(jnp.array([1.0, bad])))
    greedy = jax.vmap(run)(jnp.array([0.0, 0.0]))
    assert (
        greedy[0].tolist()
        == generate(model, prompt, 4, key=KEY, temperature=0.0).tolist()
    )


def test_a_model_that_gives_no_next_token_logits_is_refused() -> None:
    # A model giving float[n] (or float[n, 3, 4], or a fixed float[2, 7]) was
    # read with argmax of a scalar or a clamped row: the prompt, then zeros.
    from jaxtyping import Array, Float, Int

    import cdl

    def scores(t: jax.Array) -> jax.Array:
        return jnp.sin(t.astype(jnp.float32))

    flat = cdl.lift(scores, dom=Int[Array, "n"], cod=Float[Array, "n"])
    with pytest.raises(
        ValueError, match=r"float\[n, vocab\] \(here n = 5\), but .* gives \(5,\)"
    ):
        generate(flat, jnp.array([1, 2]), 5, key=KEY)

    def fixed(t: jax.Array) -> jax.Array:
        return jnp.zeros((2, 7))

    short = cdl.lift(fixed, dom=Int[Array, "n"], cod=Float[Array, "2 7"])
    with pytest.raises(ValueError, match=r"gives \(2, 7\)"):
        generate(short, jnp.array([1, 2]), 5, key=KEY)
