"""A model file or checkpoint written with 64-bit types on is not read, silently
narrowed, where they are off (the other way round was already refused)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl


def _build() -> cdl.Linear:
    return cdl.Linear(3, 2, key=jax.random.key(0))


def test_a_float64_model_file_is_refused_where_64_bit_types_are_off(
    tmp_path: os.PathLike[str],
) -> None:
    path = os.path.join(tmp_path, "wide.cdl")
    with jax.enable_x64(True):
        cdl.save(path, _build())  # float64 weights: built with x64 on
    with pytest.raises(ValueError) as e:
        cdl.load(path, _build)
    assert "it holds float64[2, 3] at .weight where the model built has " in str(
        e.value
    )
    assert "written with jax_enable_x64 on, and this process has it off" in str(e.value)


def test_bfloat16_files_still_load_bit_for_bit(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "narrow.cdl")
    model = jax.tree.map(lambda a: a.astype(jnp.bfloat16), _build())
    cdl.save(path, model)
    back = cdl.load(path, lambda: model)
    assert back.weight.dtype == jnp.bfloat16
    assert np.asarray(back.weight).tobytes() == np.asarray(model.weight).tobytes()
