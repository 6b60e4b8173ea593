"""Drawing on a domain the model cannot take, and saving what a file cannot hold."""

from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

import cdl

K = jax.random.key(0)


def test_draw_refuses_a_dom_outside_the_models_domain() -> None:
    block = cdl.Copy() >> (cdl.Linear(8, 8, key=K) @ cdl.Identity()) >> cdl.Add()
    with pytest.raises(cdl.SpaceError, match=r"takes float\[8\], not the dom= given"):
        cdl.draw(block, dom=cdl.space_of(jnp.ones(3)))
    fold = cdl.cata(cdl.ListAlgebra(jnp.zeros(4), cdl.GRUCell(3, 4, key=K)))
    # A more precise domain is what `dom=` is for: the wires show its sizes.
    assert "f32[5,3]" in cdl.draw(fold, dom=cdl.space_of(jnp.ones((5, 3)))).svg()


def test_save_names_a_hyperparameter_json_cannot_hold(tmp_path: Path) -> None:
    path = tmp_path / "m.cdl"
    with pytest.raises(TypeError, match=r"hyperparameter act=.* is not JSON"):
        cdl.save(path, cdl.Bias(2), size=2, act=jax.nn.relu)
    assert not path.exists()
    cdl.save(path, cdl.Bias(2), size=2, act="relu")
    assert cdl.load(path, lambda size, act: cdl.Bias(size)).bias.shape == (2,)


def test_load_names_a_build_that_cannot_take_the_saved_hyperparameters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.cdl"
    cdl.save(path, cdl.Bias(2), size=2)
    with pytest.raises(TypeError) as e:
        cdl.load(path, lambda width: cdl.Bias(width))
    assert str(e.value).startswith(f"cdl.load: model file {path} was saved with ")
    assert "{'size': 2}, which build cannot take (" in str(e.value)
    assert cdl.load(path, lambda size: cdl.Bias(size)).bias.shape == (2,)
