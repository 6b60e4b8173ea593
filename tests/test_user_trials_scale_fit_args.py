"""Arguments of fit, data_parallel and the parameter rules refused by name.

Each of these reached Python, NumPy or JAX before: `batch_size=np.int64(16)`
crashed inside the epoch (`'list' * DynamicJaxprTracer`), `checkpoint=""`
wrote checkpoints into the current directory, `metrics=[accuracy]`,
`callbacks=[CSVLogger]`, `keep="2"`, `checkpoint=True`, a model given as the
learner, `data_parallel(learner, 2)` and `data_parallel(learner, [])`,
`fsdp(min_size=-1)`, a pattern that is no regular expression, `fsdp("model")` on
a mesh without that axis and a list of numbers given to `global_batch`.
"""

import os
import re
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest

import cdl
from cdl.optics import (
    SGD,
    CSVLogger,
    Learner,
    SoftmaxCrossEntropy,
    accuracy,
    data_parallel,
    fit,
    fsdp,
    global_batch,
)

MODEL = cdl.Linear(2, 2, key=jax.random.key(0))
LEARNER = Learner(MODEL, SoftmaxCrossEntropy(), SGD(0.1))
XS = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
YS = np.array([0, 1, 0, 1], np.int32)
SAYS = re.escape("fit(Linear(2→2)): ")


def _fit(**given: Any) -> Any:
    settings: dict[str, Any] = dict(
        epochs=1, batch_size=2, key=jax.random.key(0), progress=False
    )
    return fit(LEARNER, MODEL, XS, YS, **{**settings, **given})


def test_numpy_ints_as_counts_train() -> None:
    result = _fit(batch_size=np.int64(2), epochs=np.int64(2))
    assert len(result.history["loss"]) == 2


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"checkpoint": ""}, "`checkpoint` must be a directory path .* not ''"),
        ({"checkpoint": True}, "`checkpoint` must be a directory path .* not True"),
        ({"keep": "2"}, "`keep` must be a positive int, not '2'"),
        ({"keep": 0}, "`keep` must be a positive int, not 0"),
        ({"metrics": [accuracy]}, "`metrics` must map names to metrics, .* not list"),
        (
            {"callbacks": [CSVLogger]},
            r"callbacks=\[CSVLogger\] holds the class, .*\[CSVLogger\(...\)\]",
        ),
        ({"callbacks": [print]}, "builtin_function_or_method .* is not a callback"),
    ],
)
def test_fit_names_bad_arguments(
    given: dict[str, Any], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=SAYS + says):
        _fit(**given)
    assert os.listdir(tmp_path) == []


def test_fit_given_a_model_as_learner_says_so() -> None:
    with pytest.raises(TypeError, match="first argument must be a Learner.*not Linear"):
        fit(MODEL, MODEL, XS, YS, epochs=1, batch_size=2, key=jax.random.key(0))  # type: ignore[arg-type]


@pytest.mark.parametrize("devices", [2, [], "cpu", [0, 1]])
def test_data_parallel_names_what_are_not_devices(devices: object) -> None:
    with pytest.raises(ValueError, match="data_parallel: `devices` must be a .*Mesh"):
        data_parallel(LEARNER, devices)
    with pytest.raises(TypeError, match="data_parallel: the first argument"):
        data_parallel(MODEL)  # type: ignore[arg-type]


def test_parameter_rules_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="fsdp: .* got axis='batch', min_size=-1"):
        fsdp(min_size=-1)
    with pytest.raises(ValueError, match="fsdp: .* min_size='a'"):
        fsdp(min_size="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"pattern '\(' is not a regular expression"):
        data_parallel(LEARNER, params={"(": jax.sharding.PartitionSpec()})


def test_fsdp_on_an_axis_the_mesh_lacks_is_named() -> None:
    learner = data_parallel(LEARNER, params=fsdp("model", min_size=0))
    with pytest.raises(ValueError, match=r"fsdp\('model'\): the mesh .* has no axis"):
        fit(learner, MODEL, XS, YS, epochs=1, batch_size=2, key=jax.random.key(0))


def test_global_batch_of_a_list_of_numbers_says_to_convert_it() -> None:
    with pytest.raises(ValueError, match="global_batch: .* one is a scalar"):
        global_batch(data_parallel(LEARNER), [1.0, 2.0])
