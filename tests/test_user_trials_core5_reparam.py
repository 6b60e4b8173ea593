"""Reparametrisations as an outside user met them: a number of steps read from a
config array."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl


def test_repeat_takes_a_numpy_int_number_of_steps():
    # repeat(cell, np.int64(3)) was refused: "needs a positive int number of steps".
    cell = cdl.Linear(3, 3, key=jax.random.key(0)) >> cdl.Tanh()
    three = cdl.repeat(cell, np.int64(3))
    assert type(three.times) is int and three == cdl.repeat(cell, 3)
    assert cdl.repeat(cell, jnp.int32(2)).label == "repeat(Linear(3→3) >> Tanh(), 2)"
    x = jnp.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(three(x), cell(cell(cell(x))), rtol=1e-6)
    for bad in [True, 2.0, np.float64(2.0), 0, np.int64(-1), jnp.array([2])]:
        with pytest.raises(
            ValueError, match="repeat needs a positive int number of steps"
        ):
            cdl.repeat(cell, bad)
