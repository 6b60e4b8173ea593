"""The examples run with unusual settings, as an outside user tries them."""

import time

import pytest
from _examples import load


def test_cyclic_cnn_names_a_ring_too_short_for_its_motifs() -> None:
    # main(length=3) derived and checked the layer, then failed inside JAX making
    # its data ("Incompatible types for broadcasting: float32[4] and float32[3]").
    example = load("cyclic_cnn")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="rings need length >= 4, not 3"):
        example.main(length=3, channels=1, steps=1)
    assert time.perf_counter() - start < 1.0  # refused before any work
    xs, ys = example.make_rings(example.jax.random.key(0), 5, 4)
    assert xs.shape == (5, 1, 4) and ys.shape == (5,)
