"""A function or a module where a morphism belongs, or None for an array, is named.

On either side of ``>>`` and ``@`` and as the morphism of a reparametrisation, the
error says which value is not a morphism and how to make it one (``cdl.lift``).
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl

LIN = cdl.Linear(3, 3, key=jax.random.key(0))
EQX = eqx.nn.Linear(3, 3, key=jax.random.key(1))


@pytest.mark.parametrize(
    ("build", "start"),
    [
        (lambda: jnp.tanh >> LIN, "tanh >> Linear(3→3): >> composes cdl morphisms"),
        (lambda: jax.nn.relu @ LIN, "relu @ Linear(3→3): @ composes cdl morphisms"),
        (lambda: EQX >> LIN, "Linear >> Linear(3→3): >> composes cdl morphisms"),
        (lambda: cdl.repeat(jnp.tanh, 2), "repeat takes a cdl morphism"),
        (lambda: cdl.tie(jnp.tanh, lambda p: p), "tie takes a cdl morphism"),
        (lambda: cdl.freeze(jnp.tanh), "freeze takes a cdl morphism"),
        (lambda: cdl.reparam(EQX, lambda p: p, 1.0), "reparam takes a cdl morphism"),
    ],
)
def test_a_non_morphism_is_named_with_the_way_to_lift_it(
    build: Callable[[], Any], start: str
) -> None:
    with pytest.raises(TypeError) as caught:
        build()
    message = str(caught.value)
    assert message.startswith(start)
    assert "is not one: make it one with `cdl.lift(" in message


def test_values_that_are_not_functions_keep_pythons_error() -> None:
    with pytest.raises(TypeError, match="unsupported operand type"):
        3 >> LIN  # type: ignore[operator]


def test_morphisms_still_compose_and_reparametrise() -> None:
    lifted = cdl.lift(
        jnp.tanh, dom=cdl.space_of(jnp.ones(3)), cod=cdl.space_of(jnp.ones(3))
    )
    model = lifted >> LIN
    assert model(jnp.ones(3)).shape == (3,)
    assert cdl.repeat(LIN, 2)(jnp.ones(3)).shape == (3,)
    assert cdl.freeze(LIN)(jnp.ones(3)).shape == (3,)


def test_none_where_an_array_belongs_is_not_told_to_be_converted() -> None:
    # None is a value left out (a graph built without node features, say):
    # `jnp.asarray(None)` cannot help.
    with pytest.raises(cdl.SpaceError) as caught:
        (LIN @ LIN)((jnp.ones(3), None))
    message = str(caught.value)
    assert "None is not an array: a value left out" in message
    assert "jnp.asarray" not in message
