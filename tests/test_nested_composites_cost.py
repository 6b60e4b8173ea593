"""A composite nested in composites costs work linear in its depth.

Residual blocks inside residual blocks were pushed through whole at every level
above them, as each level was built, and flattened whole at every level as it
was first called: building and tracing were quadratic in the depth, and a nest
of 300 blocks took minutes to jit. The counts below are of the innermost
layer's work, which a quadratic walk repeats once per level above it.
"""

import sys
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl
from cdl._space import Space

COUNTS = {"pushed": 0, "flattened": 0}


class Probe:
    """A pytree node that counts how often it is flattened."""

    def __init__(self) -> None:
        self.value = jnp.zeros(3)


jax.tree_util.register_pytree_node(
    Probe,
    lambda p: (
        COUNTS.__setitem__("flattened", COUNTS["flattened"] + 1) or ([p.value], None)
    ),
    lambda _, leaves: _probe_of(leaves[0]),
)


def _probe_of(value: Any) -> Probe:
    p = object.__new__(Probe)
    p.value = value
    return p


class Counted(cdl.Para[Float[Array, "3"], Float[Array, "3"]]):
    """Adds its probe's zeros; counts how often a space is pushed through it."""

    probe: Probe

    def __call__(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
        return x + self.probe.value

    def output_space(self, dom: Space) -> Space:
        COUNTS["pushed"] += 1
        return super().output_space(dom)


def nest(depth: int) -> Any:
    block: Any = Counted(Probe()) >> cdl.Tanh()
    for _ in range(depth):
        block = cdl.Copy() >> (block @ cdl.Identity()) >> cdl.Add()
    return block


@pytest.fixture
def deep_stack() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def test_building_pushes_a_space_through_the_innermost_layer_a_few_times() -> None:
    COUNTS["pushed"] = 0
    model = nest(400)
    assert repr(model.cod) == "float[3]"
    # Quadratic: about 400 * 401 / 2 pushes.
    assert COUNTS["pushed"] <= 10


def test_a_first_call_flattens_the_innermost_layer_a_few_times(
    deep_stack: None,
) -> None:
    model = nest(120)
    COUNTS["flattened"] = 0
    y = model(jnp.array([0.1, -0.2, 0.3]))
    assert jnp.allclose(
        y,
        jnp.tanh(jnp.array([0.1, -0.2, 0.3])) + 120 * jnp.array([0.1, -0.2, 0.3]),
        atol=1e-5,
    )
    # Quadratic: the nest was flattened once per level, the probe with it.
    assert COUNTS["flattened"] <= 10
