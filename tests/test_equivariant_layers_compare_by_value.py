"""Derived equivariant layers built alike have the same pytree structure.

A layer keeps its basis and its structured operation (circular or causal
convolution, the partition maps of S_n) as static fields holding NumPy tables.
Compared by identity, two identical builds differed in structure: `jax.tree.map`
over a loaded and a fresh layer failed, `equinox.tree_equal` said False, and a
jitted function compiled again for every new build.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from _compiles import compiles

import cdl

Monoid = cdl.Monoid

BUILDS: dict[str, Callable[[], cdl.EquivariantLinear]] = {
    "circular": lambda: cdl.EquivariantLinear(
        cdl.signal_action(Monoid.cyclic(4), 4, channels=1),
        cdl.signal_action(Monoid.cyclic(4), 4, channels=2),
        key=jax.random.key(0),
    ),
    "causal": lambda: cdl.EquivariantLinear(
        cdl.signal_action(Monoid.shifts(5), 5),
        cdl.signal_action(Monoid.shifts(5), 5),
        key=jax.random.key(0),
    ),
    "partitions": lambda: cdl.EquivariantLinear(
        cdl.permutation_action(4, order=2),
        cdl.permutation_action(4),
        key=jax.random.key(0),
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_two_builds_alike_share_one_structure(name: str) -> None:
    one, other = BUILDS[name](), BUILDS[name]()
    assert jax.tree.structure(one) == jax.tree.structure(other)
    assert eqx.tree_equal(one, other)
    soup = jax.tree.map(lambda a, b: (a + b) / 2, one, other)
    assert eqx.tree_equal(soup, one)


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_a_new_build_reuses_a_jitted_program(name: str) -> None:
    layer = BUILDS[name]()
    x = jnp.ones(layer.dom.shape)  # type: ignore[attr-defined]
    run = eqx.filter_jit(lambda m, v: m(v))
    run(layer, x)
    before = compiles()
    run(BUILDS[name](), x)
    assert compiles() == before


def test_layers_of_other_monoids_still_differ() -> None:
    shifts, cyclic = (
        BUILDS["causal"](),
        cdl.EquivariantLinear(
            cdl.signal_action(Monoid.cyclic(5), 5),
            cdl.signal_action(Monoid.cyclic(5), 5),
            key=jax.random.key(0),
        ),
    )
    assert jax.tree.structure(shifts) != jax.tree.structure(cyclic)
