"""Graph networks and CLRS tasks, tried as an outside user tries them."""

import jax.numpy as jnp
import numpy as np
import pytest

from cdl.graphs import clrs


def test_clrs_takes_a_probability_given_as_a_zero_d_array() -> None:
    # n may be a jax int, but p = jnp.float32(0.5) or np.array(0.5) was refused as
    # "expected ... p in [0, 1], got p=Array(0.5, dtype=float32)": a value in range.
    for p in (jnp.float32(0.5), np.array(0.5), jnp.array(1)):
        got = clrs.er_graph(6, p, np.random.default_rng(3))
        want = clrs.er_graph(6, float(p), np.random.default_rng(3))
        np.testing.assert_array_equal(got, want)
    a = clrs.sample(3, 8, p=(jnp.float32(0.3), np.array(0.7)), seed=1)
    b = clrs.sample(3, 8, p=(0.3, 0.7), seed=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    for bad in (jnp.float32(1.5), np.array([0.5]), np.nan, True, np.bool_(True), "0.5"):
        with pytest.raises(ValueError, match="p in \\[0, 1\\]"):
            clrs.er_graph(6, bad, np.random.default_rng(0))  # type: ignore[arg-type]


def test_segment_softmax_refuses_ids_outside_its_segments() -> None:
    # An id outside 0..num_segments-1 (a wrong num_segments, say) was dropped by
    # the sums but still read a clamped total: [1.0, 2.0] with ids [0, 5] and 3
    # segments gave weights [1, 7.39], nowhere summing to 1.
    from cdl.graphs import segment_softmax

    logits = jnp.array([1.0, 2.0])
    with pytest.raises(ValueError, match="row 1 has segment id 5, outside 0..2"):
        segment_softmax(logits, jnp.array([0, 5]), 3)
    with pytest.raises(ValueError, match="row 1 has segment id -1, outside 0..1"):
        segment_softmax(logits, jnp.array([0, -1]), 2)
    with pytest.raises(ValueError, match="segment_ids must be integers"):
        segment_softmax(logits, jnp.array([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="num_segments must be a whole number"):
        segment_softmax(logits, jnp.array([0, 1]), 2.0)  # type: ignore[arg-type]
    weights = segment_softmax(logits, jnp.array([1, 1]), np.int64(2))
    np.testing.assert_allclose(weights, [0.2689414, 0.7310586], rtol=1e-6)


def test_clrs_takes_a_bfloat16_probability() -> None:
    # A 0-d bfloat16 array was refused as out of range: NumPy reports its kind as
    # "V", not a float, so the check for 0-d real arrays passed it by.
    half = jnp.array(0.5, jnp.bfloat16)
    got = clrs.er_graph(6, half, np.random.default_rng(3))
    np.testing.assert_array_equal(got, clrs.er_graph(6, 0.5, np.random.default_rng(3)))
    a = clrs.sample(3, 8, p=(half, jnp.array(0.25, jnp.bfloat16)), seed=1)
    b = clrs.sample(3, 8, p=(0.5, 0.25), seed=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="p in \\[0, 1\\]"):
        clrs.er_graph(6, jnp.array(1.5, jnp.bfloat16), np.random.default_rng(0))


def test_segment_softmax_names_ids_given_as_a_list() -> None:
    # The dtype check of the segment ids read a list's dtype and failed with
    # "Cannot determine dtype of [0, 1]", naming neither the function nor the fix.
    from cdl.graphs import segment_softmax

    logits = jnp.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"segment_ids must be an array, but was"):
        segment_softmax(logits, [0, 1], 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"logits must be an array, but was given"):
        segment_softmax([1.0, 2.0], jnp.array([0, 1]), 2)  # type: ignore[arg-type]
    weights = segment_softmax(np.asarray(logits), np.array([0, 0]), 1)
    np.testing.assert_allclose(weights, [0.2689414, 0.7310586], rtol=1e-6)
