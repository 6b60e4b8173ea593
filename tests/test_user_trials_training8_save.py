"""cdl.save's hyperparameters: any name, and arrays refused in one line."""

import jax
import jax.numpy as jnp
import pytest

import cdl


def build(path: str, model: int) -> cdl.Para:
    return cdl.Linear(2, model, key=jax.random.key(0))


def test_hyperparameters_may_be_named_path_and_model(tmp_path):
    # save(path, model, **hyperparameters) took them as its own arguments:
    # "save() got multiple values for argument 'path'".
    cdl.save(tmp_path / "m.cdl", build("a", 3), path="a", model=3)
    assert cdl.load(tmp_path / "m.cdl", build).weight.shape == (3, 2)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(jnp.array([3, 4]), "int32[2]"), (jax.random.key(0), "key<fry>[]")],
)
def test_an_array_hyperparameter_is_named_in_one_line(tmp_path, value, shown):
    with pytest.raises(TypeError) as error:
        cdl.save(tmp_path / "m.cdl", cdl.Bias(2), sizes=value)
    text = str(error.value)
    assert "\n" not in text
    assert f"hyperparameter sizes, an array {shown}" in text
    assert "sizes=sizes.tolist()" in text
