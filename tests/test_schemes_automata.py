"""Coalgebras and machines against plain-Python loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float, Int

import cdl


class Step(
    cdl.Para[
        tuple[Float[Array, "2"], Float[Array, "3"]],
        tuple[Float[Array, ""], Float[Array, "3"]],
    ]
):
    w: Float[Array, "3 2"]
    u: Float[Array, "3 3"]

    def __call__(self, x):
        i, s = x
        nxt = jnp.tanh(self.w @ i + self.u @ s)
        return nxt.sum(), nxt


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 9), st.integers(0, 1000))
def test_mealy_matches_the_loop(n, seed):
    k = jax.random.split(jax.random.key(seed), 3)
    cell = Step(jax.random.normal(k[0], (3, 2)), 0.5 * jax.random.normal(k[1], (3, 3)))
    inputs = jax.random.normal(k[2], (n, 2))
    s, expected = jnp.zeros(3), []
    for i in inputs:
        o, s = cell((i, s))
        expected.append(o)
    got = cdl.Mealy(cell, jnp.zeros(3))(inputs)
    np.testing.assert_allclose(got, np.stack(expected), rtol=1e-5, atol=1e-6)


def test_moore_outputs_depend_on_the_state_only():
    class Move(cdl.Para[tuple[Int[Array, ""], Int[Array, ""]], Int[Array, ""]]):
        def __call__(self, x):
            return (2 * x[1] + x[0]) % 5

    class Out(cdl.Para[Int[Array, ""], Int[Array, ""]]):
        def __call__(self, s):
            return s * s

    bits = jnp.array([1, 0, 1, 1, 0, 0, 1])
    s, expected = 0, []
    for b in bits.tolist():
        s = (2 * s + b) % 5
        expected.append(s * s)
    assert cdl.Moore(Out(), Move(), jnp.int32(0))(bits).tolist() == expected


def test_unfold_and_encoder_decoder_match_the_loop():
    dec = cdl.DecoderCell(4, 2, key=jax.random.key(0))
    h, outs = jnp.ones(4), []
    for _ in range(5):
        o, h = dec(h)
        outs.append(o)
    np.testing.assert_allclose(
        cdl.unfold(dec, 5)(jnp.ones(4)), np.stack(outs), rtol=1e-5
    )
    enc = cdl.ListAlgebra(jnp.zeros(4), cdl.GRUCell(3, 4, key=jax.random.key(1)))
    xs = jax.random.normal(jax.random.key(2), (6, 3))
    model = cdl.encoder_decoder(enc, dec, 5)
    np.testing.assert_allclose(
        model(xs), cdl.unfold(dec, 5)(cdl.foldl(enc)(xs)), rtol=1e-6
    )
    assert (repr(model.dom), repr(model.cod)) == ("float[n,3]", "float[5,2]")


def test_finite_mealy_keeps_distributions_on_long_inputs():
    cell = cdl.FiniteMealyCell(5, 3, 4, key=jax.random.key(0))
    inputs = jax.random.randint(jax.random.key(1), (1000,), 0, 3)
    outputs = cdl.Mealy(cell, cell.start())(inputs)
    assert outputs.shape == (1000, 4)
    np.testing.assert_allclose(outputs.sum(-1), 1.0, rtol=1e-4)
    grads = jax.grad(lambda m: jnp.log(m(inputs)[:, 0]).sum())(
        cdl.Mealy(cell, cell.start())
    )
    assert np.isfinite(np.asarray(grads.cell.transitions)).all()


def test_machines_and_unfolds_take_plain_functions_and_python_numbers():
    xor = cdl.Mealy(lambda x: (x[0] ^ x[1], x[0] ^ x[1]), 0)
    assert xor(jnp.array([1, 0, 1, 1])).tolist() == [1, 1, 0, 1]
    running = cdl.Mealy(lambda x: (x[0] + x[1], x[0] + x[1]), 0)  # int start
    assert running([0.5, 1.0, 2.0]).tolist() == [0.5, 1.5, 3.5]

    def products(start):
        return cdl.Mealy(lambda x: (x[0] * x[1], x[0] * x[1]), start)

    grad = jax.grad(lambda s: products(s)(jnp.arange(1.0, 4.0)).sum())
    assert float(grad(1.0)) == 1 + 2 + 6
    moore = cdl.Moore(lambda s: s % 3 == 0, lambda x: x[0] + x[1], 0)
    assert moore(jnp.array([1, 1, 1, 2])).tolist() == [False, False, True, False]
    doubling = cdl.unfold(lambda s: (2 * s, s + 1), 4)
    assert doubling(1).tolist() == [2, 4, 6, 8]
    assert doubling(0.5).tolist() == [1.0, 3.0, 5.0, 7.0]


def test_a_machine_whose_state_changes_shape_is_named():
    grows = cdl.Mealy(lambda x: (x[0], jnp.zeros(3)), jnp.float32(0))
    with pytest.raises(TypeError, match=r"Mealy\(<lambda>\): .* f32\[\] .* f32\[3\]"):
        grows(jnp.ones(4))
    with pytest.raises(TypeError, match="Mealy's cell must be a cdl.Para"):
        cdl.Mealy(3, 0.0)
