"""Monoids take generators and sizes computed with jax.numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl


def test_a_monoid_takes_generators_given_as_jax_arrays() -> None:
    # jnp.roll(jnp.arange(4), 1) was refused: "generator 0 of C4 must be 4
    # indices in [-1, 4), but is [3 0 1 2]"; a size given as jnp.int32(4) too.
    m = cdl.Monoid(jnp.int32(4), [jnp.roll(jnp.arange(4), 1)], name="C4")
    assert m == cdl.Monoid(4, [(3, 0, 1, 2)], name="C4")
    assert hash(m) == hash(cdl.Monoid(4, [(3, 0, 1, 2)], name="C4"))
    assert m.order == 4 and type(m.size) is int
    act = cdl.signal_action(m, 4, 1)
    layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    assert layer.size == 4  # circulant matrices
    # Still refused: indices that are not whole numbers, out of range.
    for bad in (jnp.array([0.5, 1, 2, 3]), jnp.array([0, 1, 2, 4])):
        with pytest.raises(ValueError, match="must be 4 indices"):
            cdl.Monoid(4, [bad])
    with pytest.raises(ValueError, match="positive whole number"):
        cdl.Monoid(jnp.float32(4), [(0, 1, 2, 3)])
    np.testing.assert_array_equal(m.generators, [(3, 0, 1, 2)])
