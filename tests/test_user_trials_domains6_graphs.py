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
