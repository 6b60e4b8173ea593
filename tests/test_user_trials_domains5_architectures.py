"""Builders take sizes given as NumPy ints."""

import equinox as eqx
import jax
import numpy as np

from cdl.architectures import vit


def test_vit_takes_numpy_int_sizes() -> None:
    # Sizes read from a config array (np.int64) failed deep inside:
    # "Reshape(16, np.int64(16)): the target must be positive ints ...".
    key = jax.random.key(0)
    i = np.int64
    a = vit(i(16), i(4), i(1), i(10), i(16), i(1), i(2), key=key)
    b = vit(16, 4, 1, 10, 16, 1, 2, key=key)
    assert eqx.tree_equal(a, b)
    x = jax.random.normal(key, (1, 16, 16))
    np.testing.assert_array_equal(a(x), b(x))
