"""Initial weights are jax.random's numbers, drawn with one program per length."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl import _random

shapes = st.lists(st.integers(1, 40), min_size=1, max_size=3).map(tuple)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), bound=st.floats(0.01, 3.0))
def test_draws_equal_jax_random_bit_for_bit(
    shape: tuple[int, ...], seed: int, bound: float
) -> None:
    key = jax.random.key(seed)
    expected = jax.random.uniform(key, shape, minval=-bound, maxval=bound)
    assert (_random.uniform(key, shape, -bound, bound) == expected).all()
    assert (_random.normal(key, shape) == jax.random.normal(key, shape)).all()


@pytest.mark.parametrize("shape", [(1,), (257,), (3, 5, 7)])
def test_draws_across_lengths_equal_jax_random(shape: tuple[int, ...]) -> None:
    key = jax.random.key(sum(shape))
    expected = jax.random.uniform(key, shape, minval=-0.5, maxval=0.5)
    assert (_random.uniform(key, shape, -0.5, 0.5) == expected).all()


def test_new_shapes_of_one_length_share_a_program() -> None:
    key = jax.random.key(0)
    _random.uniform(key, (3, 5), -1.0, 1.0)
    before = _random._flat._cache_size()
    for rows in range(4, 12):
        _random.uniform(key, (rows, 7), -1.0, 1.0)
    assert _random._flat._cache_size() == before


def test_layers_built_under_transformations_draw_alike() -> None:
    keys = jax.random.split(jax.random.key(1), 3)
    ensemble = jax.vmap(lambda k: cdl.Linear(4, 6, use_bias=False, key=k).weight)(keys)
    one_by_one = jnp.stack([cdl.Linear(4, 6, key=k).weight for k in keys])
    assert (ensemble == one_by_one).all()
    shaped = eqx.filter_eval_shape(cdl.Linear, 4, 6, key=keys[0])
    assert shaped.weight.shape == (6, 4)
    jitted = jax.jit(lambda k: _random.normal(k, (2, 9)))(keys[0])
    assert (jitted == jax.random.normal(keys[0], (2, 9))).all()


def test_other_generators_and_x64_fall_back_to_jax_random() -> None:
    key = jax.random.key(2, impl="rbg")
    assert (
        _random.uniform(key, (3, 4), 0.0, 1.0) == jax.random.uniform(key, (3, 4))
    ).all()
    with jax.threefry_partitionable(False):
        key = jax.random.key(3)
        assert (_random.normal(key, (5, 3)) == jax.random.normal(key, (5, 3))).all()
    draw = _random.uniform(jax.random.key(4), (2, 2), 0.0, 1.0, jnp.float16)
    assert draw.dtype == jnp.float16


def test_a_draw_is_placed_as_its_committed_key() -> None:
    device = jax.devices()[-1]
    key = jax.device_put(jax.random.key(5), device)
    draw = _random.uniform(key, (3, 2), -1.0, 1.0)
    assert draw.committed and draw.devices() == {device}
    assert (draw == jax.random.uniform(key, (3, 2), minval=-1.0, maxval=1.0)).all()
    assert not _random.normal(jax.random.key(5), (3, 2)).committed
