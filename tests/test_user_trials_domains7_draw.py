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


def test_copying_a_pair_is_drawn_as_forking_wires() -> None:
    # Copy() of a pair (an encoder's output beside a decoder's) was drawn as a box
    # labelled "Copy()", where docs/diagrams.md draws a copy as forking wires.
    import jax.numpy as jnp

    pair = cdl.space_of((jnp.ones(2), jnp.ones(3)))
    both = (cdl.Relu() @ cdl.Tanh()) @ (cdl.Gelu() @ cdl.Sigmoid())
    diagram = cdl.draw(cdl.Copy() >> both, dom=pair)
    assert diagram.boxes() == ["Relu()", "Tanh()", "Gelu()", "Sigmoid()"]
    assert diagram.svg().count("<circle") == 2  # one fork per wire
    one = cdl.draw(cdl.Copy(), dom=cdl.space_of(jnp.ones(2)))
    assert one.boxes() == [] and one.svg().count("<circle") == 1
