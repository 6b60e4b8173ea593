"""Round core7 of user trials: composites."""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl


def test_a_long_chain_called_eagerly_compiles_no_stacking_of_its_weights(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Called outside jit, a chain of repeated layers stacked its weights and ran
    # them as one scan: each call compiled a concatenation of every layer's weights,
    # and a gradient an unstacking of their cotangents, whose compiles grow faster
    # than the depth (a 1,000-layer chain's eager gradient took 86 s, the same
    # hand-written loop 6 s; a 10,000-layer call 270 s).
    keys = jax.random.split(jax.random.key(0), 24)
    chain = cdl.Compose(
        *[f for k in keys for f in (cdl.Linear(3, 3, key=k), cdl.Tanh())]
    )
    x = jnp.array([0.5, -1.0, 0.25])

    def by_hand(m: cdl.Compose, x: jax.Array) -> jax.Array:  # type: ignore[type-arg]
        for f in m.factors:
            x = f(x)
        return x

    with caplog.at_level(logging.WARNING, logger="jax"), jax.log_compiles():
        y = chain(x)
        grad = eqx.filter_grad(lambda m: m(x).sum())(chain)
    compiled = [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]
    assert not [m for m in compiled if "stack" in m or "scan" in m], compiled
    np.testing.assert_allclose(y, by_hand(chain, x), rtol=1e-5, atol=1e-6)
    want = eqx.filter_grad(lambda m: by_hand(m, x).sum())(chain)
    for a, b in zip(jax.tree.leaves(grad), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # Traced into a program, the chain is still one scan.
    program = str(jax.make_jaxpr(lambda m: m(x))(chain))
    assert "scan" in program


def test_a_pair_of_batches_given_to_morphisms_side_by_side_says_vmap() -> None:
    # A single morphism given a batch says to map it with jax.vmap; f @ g given a pair
    # of batches said only "rank 1 is not rank 2".
    pair = cdl.Linear(3, 4, key=jax.random.key(0)) @ cdl.Linear(
        2, 5, key=jax.random.key(1)
    )
    with pytest.raises(cdl.SpaceError, match=r"It looks like a batch.*jax\.vmap"):
        pair((jnp.ones((4, 3)), jnp.ones((4, 2))))
    # Batches of different sizes, or one component batched, are no batch of pairs.
    for given in (
        (jnp.ones((4, 3)), jnp.ones((5, 2))),
        (jnp.ones((4, 3)), jnp.ones(2)),
    ):
        with pytest.raises(cdl.SpaceError) as error:
            pair(given)
        assert "looks like a batch" not in str(error.value)
    assert jax.vmap(pair)((jnp.ones((4, 3)), jnp.ones((4, 2))))[1].shape == (4, 5)


def test_complex_and_16_bit_inputs_are_named_short() -> None:
    # Every other dtype is named short (f32, i32, bf16); a complex input read
    # "complex64[3]" and an int16 one "int16[3]".
    layer = cdl.Linear(3, 2, key=jax.random.key(0))
    with pytest.raises(cdl.SpaceError, match=r"given c64\[3\] \(dtype float is"):
        layer(jnp.ones(3, jnp.complex64))
    with pytest.raises(cdl.SpaceError, match=r"given i16\[3\]"):
        layer(jnp.ones(3, jnp.int16))
