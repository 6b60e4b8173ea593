"""A tied GPT built twice is one pytree structure: equal, and mapped together."""

import io

import equinox as eqx
import jax
import jax.numpy as jnp

from cdl.architectures import gpt


def _build(seed: int) -> object:
    return gpt(7, 8, 1, 2, 6, key=jax.random.key(seed))


def test_two_builds_of_a_tied_gpt_are_equal_and_share_a_structure() -> None:
    # The tie held two lambdas made afresh by each call as static metadata, so two
    # builds from one key were not tree_equal and had different tree structures.
    first, second = _build(0), _build(0)
    assert bool(eqx.tree_equal(first, second))
    assert jax.tree.structure(first) == jax.tree.structure(second)


def test_a_loaded_tied_gpt_maps_with_a_fresh_one() -> None:
    trained, fresh = _build(0), _build(1)
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, trained)
    buffer.seek(0)
    loaded = eqx.tree_deserialise_leaves(buffer, _build(2))
    # tree_map over a loaded and a freshly built model (an average, a distance)
    gap = jax.tree.map(
        lambda a, b: jnp.abs(a - b).max(),
        eqx.filter(loaded, eqx.is_inexact_array),
        eqx.filter(fresh, eqx.is_inexact_array),
    )
    assert max(float(g) for g in jax.tree.leaves(gap)) > 0
    assert bool(eqx.tree_equal(loaded, trained))
