"""Round core7 of user trials: lenses."""

import jax.numpy as jnp
import pytest

from cdl.optics import first, second


def test_a_lens_on_pairs_given_an_array_names_its_space() -> None:
    # An array where a pair was expected was named by JAX's class: "was given an
    # ArrayImpl" (first()) and "was given ArrayImpl" (a lens side by side).
    with pytest.raises(
        TypeError, match=r"but was given f32\[3\]: its source is a pair"
    ):
        first().get(jnp.ones(3))
    with pytest.raises(TypeError, match=r"one per factor, but was given f32\[2,3\]\."):
        (first() @ second()).get(jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="one per factor, but was given an int"):
        (first() @ second()).get(3)
