"""A fold of natural numbers given a float array names its dtype, not JAX's class."""

import jax.numpy as jnp
import numpy as np
import pytest

import cdl


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (jnp.float32(3.0), "a 0-d float32 array (3.0)"),
        (np.float64(3.0), "a 0-d float32 array (3.0)"),  # as JAX reads it
        (np.bool_(True), "a 0-d bool array (True)"),
        (2.5, "float 2.5"),
    ],
)
def test_a_fold_of_naturals_names_what_it_was_given(n: object, shown: str) -> None:
    # It said "not ArrayImpl Array(3., dtype=float32)".
    count = cdl.cata(
        cdl.Algebra(cdl.NatF, Zero=lambda p: 0.0, Succ=lambda p: p[1][0] + 1)
    )
    with pytest.raises(TypeError) as e:
        count(n)
    assert f", not {shown}; convert it with int()" in str(e.value)
    assert "ArrayImpl" not in str(e.value)
