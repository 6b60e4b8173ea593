"""Drawings tried as an outside user tries them (seventh round)."""

import equinox as eqx
import jax
import pytest

import cdl


def test_drawing_an_equinox_module_points_to_lift() -> None:
    # cdl.draw(eqx.nn.MLP(...)) said only "but was given MLP".
    mlp = eqx.nn.MLP(2, 2, 4, 1, key=jax.random.key(0))
    with pytest.raises(
        TypeError, match=r"given MLP; make an Equinox module .*cdl\.lift"
    ):
        cdl.draw(mlp)
    with pytest.raises(TypeError, match=r"but was given int\.$"):
        cdl.draw(3)  # type: ignore[arg-type]
