"""prepro, postpro and chrono against their definitions, on random lists."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float

import cdl

F = Float[Array, ""]


class Affine(cdl.Para[F, F]):
    a: F
    b: F

    def __call__(self, x):
        return jnp.tanh(self.a * x + self.b)


class Mix(cdl.Para[tuple[F, F], F]):
    w: F

    def __call__(self, x):
        e, acc = x
        return jnp.sin(self.w * e) + 0.7 * acc


def ref_prepro(eta, nil, cons, xs):
    """prepro eta alg = alg . fmap (prepro eta alg . hoist eta) . project."""
    if not xs:
        return nil
    head, tail = xs[0], [eta(x) for x in xs[1:]]
    return cons((head, ref_prepro(eta, nil, cons, tail)))


floats = st.floats(-2, 2, width=32)


@settings(max_examples=10, deadline=None)
@given(st.lists(floats, min_size=0, max_size=9), floats, floats, floats)
def test_prepro_matches_its_recursive_definition(xs, a, b, w):
    eta, cell = Affine(jnp.float32(a), jnp.float32(b)), Mix(jnp.float32(w))
    alg = cdl.ListAlgebra(jnp.float32(0.5), cell)
    got = jax.jit(lambda v: cdl.prepro(eta, alg)(v))(jnp.array(xs, jnp.float32))
    expected = ref_prepro(eta, alg.nil, cell, [jnp.float32(x) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(st.lists(floats, min_size=1, max_size=8), st.integers(0, 8), floats)
def test_prepro_skips_the_padding_of_a_padded_list(xs, length, a):
    length = min(length, len(xs))
    eta, cell = Affine(jnp.float32(a), jnp.float32(0.1)), Mix(jnp.float32(1.0))
    alg = cdl.ListAlgebra(jnp.float32(0.0), cell)
    padded = cdl.PaddedList(jnp.array(xs, jnp.float32), jnp.int32(length))
    expected = cdl.prepro(eta, alg)(jnp.array(xs[:length], jnp.float32))
    np.testing.assert_allclose(
        cdl.prepro(eta, alg)(padded), expected, rtol=1e-5, atol=1e-6
    )


def test_prepro_with_the_identity_is_cata_and_has_gradients():
    alg = cdl.ListAlgebra(jnp.float32(0.0), Mix(jnp.float32(0.3)))
    xs = jnp.linspace(-1, 1, 6)
    np.testing.assert_allclose(
        cdl.prepro(cdl.Identity(), alg)(xs), cdl.cata(alg)(xs), rtol=1e-6
    )
    eta = Affine(jnp.float32(0.8), jnp.float32(0.1))
    grads = jax.grad(lambda e: cdl.prepro(e, alg)(xs))(eta)
    ref = jax.grad(lambda e: ref_prepro(e, alg.nil, alg.cons, list(xs)))(eta)
    np.testing.assert_allclose(grads.a, ref.a, rtol=1e-4)
    np.testing.assert_allclose(grads.b, ref.b, rtol=1e-4)


class Step(cdl.Para[F, tuple[F, F]]):
    def __call__(self, s):
        return s * 0.5, s + 1.0


@settings(max_examples=10, deadline=None)
@given(floats, st.integers(1, 8), floats)
def test_postpro_transforms_the_i_th_element_i_times(seed, size, a):
    eta = Affine(jnp.float32(a), jnp.float32(-0.2))
    coalg = cdl.ListCoalgebra(Step(), lambda s: s > 4.0)
    got = cdl.postpro(eta, coalg, size)(jnp.float32(seed))
    plain = cdl.ana(coalg, size)(jnp.float32(seed))
    assert int(got.length) == int(plain.length)
    for i in range(int(plain.length)):
        expected = plain.values[i]
        for _ in range(i):
            expected = eta(expected)
        np.testing.assert_allclose(got.values[i], expected, rtol=1e-5, atol=1e-6)


class Expand(cdl.Para[Float[Array, ""], tuple[Array, Float[Array, "3"], F]]):
    def __call__(self, s):
        count = (jnp.abs(s) * 7).astype(jnp.int32) % 4
        return count, s + jnp.arange(3.0), s * 0.5 + 0.3


class Look(cdl.Para[tuple[F, tuple[F, F, F]], F]):
    def __call__(self, x):
        e, (r1, r2, r3) = x
        return e + 0.5 * r1 - 0.25 * r2 + 0.125 * r3


@settings(max_examples=10, deadline=None)
@given(floats, st.integers(1, 12))
def test_chrono_is_histo_after_futu(seed, size):
    unfold = cdl.futu(Expand(), lambda s: s > 0.55, max_size=size)
    fold = cdl.histo(jnp.float32(0.0), Look(), 3)
    listed = unfold(jnp.float32(seed))
    if bool(listed.truncated):  # a cut-off unfold is never folded silently
        with pytest.raises(Exception, match="cut off at max_size"):
            cdl.chrono(unfold, fold)(jnp.float32(seed))
        return
    got = cdl.chrono(unfold, fold)(jnp.float32(seed))
    elements = [float(v) for v in listed.values[: int(listed.length)]]
    history = [0.0, 0.0, 0.0]
    for e in reversed(elements):
        history = [e + 0.5 * history[0] - 0.25 * history[1] + 0.125 * history[2]] + (
            history[:2]
        )
    np.testing.assert_allclose(got, history[0], rtol=1e-5, atol=1e-5)


def test_postpro_needs_a_size():
    coalg = cdl.ListCoalgebra(Step(), lambda s: s > 4.0)
    with pytest.raises(ValueError, match="postpro needs a maximum size of at least 1"):
        cdl.postpro(cdl.Identity(), coalg, 0)
