"""A run resumed from a checkpoint with another batch size, key, shuffle or data is
refused, naming the setting, unless `resume_changed=True` asks for it; other epochs
are a plain resume, and a checkpoint written before settings were recorded resumes."""

import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    SGD,
    CheckpointError,
    Graphs,
    Learner,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    Trees,
    fit,
    load_checkpoint,
    save_checkpoint,
)
from cdl.optics._checkpoint import run_of

X = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
Y = 2 * X[:, :1]
MODEL = cdl.Linear(2, 1, key=jax.random.key(1))
LEARNER = Learner(MODEL, MeanSquaredError(), SGD(0.1))
SETTINGS: dict[str, Any] = {
    "batch_size": 4,
    "key": jax.random.key(2),
    "progress": False,
}


def run(
    directory: pathlib.Path, epochs: int, xs: Any = X, ys: Any = Y, **kw: Any
) -> Any:
    return fit(
        LEARNER, MODEL, xs, ys, epochs=epochs, checkpoint=directory,
        **{**SETTINGS, **kw},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"batch_size": 8}, "given batch_size=4, and this run is given batch_size=8"),
        ({"key": jax.random.key(3)}, r"the key threefry2x32 \[0, 2\] .* \[0, 3\]"),
        ({"key": jax.random.PRNGKey(3)}, r"the key threefry2x32 \[0, 2\] .* \[0, 3\]"),
        ({"shuffle": False}, "given shuffle=True, and this run is given shuffle=False"),
        ({"xs": X[:12], "ys": Y[:12]}, "given 16 training examples, .* given 12 train"),
        ({"xs": X + 1}, "training data whose values hash to"),
        ({"xs": X[::-1].copy()}, "training data whose values hash to"),
    ],
)
def test_a_changed_setting_is_refused(
    tmp_path: pathlib.Path, change: dict[str, Any], said: str
) -> None:
    # Each was taken silently: the run went on from the saved state with the new
    # setting (or, for the key, with the saved one, the new key ignored).
    run(tmp_path, 1)
    with pytest.raises(CheckpointError, match=said) as caught:
        run(tmp_path, 2, **change)
    assert "resume_changed=True" in str(caught.value)
    assert "epoch-00000001.ckpt" in str(caught.value)


def test_other_epochs_resume_as_one_run(tmp_path: pathlib.Path) -> None:
    run(tmp_path / "a", 1)
    resumed = run(tmp_path / "a", 3)
    whole = run(tmp_path / "b", 3)
    assert resumed.history == whole.history
    assert bool((resumed.model.weight == whole.model.weight).all())
    assert run(tmp_path / "a", 2).history["loss"] == whole.history["loss"]


def test_other_validation_data_is_refused(tmp_path: pathlib.Path) -> None:
    run(tmp_path, 1, validation=(X[:4], Y[:4]))
    with pytest.raises(CheckpointError, match="validation data whose values hash"):
        run(tmp_path, 2, validation=(X[4:8], Y[4:8]))
    with pytest.raises(CheckpointError, match="given 4 validation examples"):
        run(tmp_path, 2, validation=(X[:3], Y[:3]))


def test_resume_changed_goes_on_with_the_new_settings(tmp_path: pathlib.Path) -> None:
    first = run(tmp_path, 1)
    changed = run(tmp_path, 2, batch_size=8, key=jax.random.key(5), resume_changed=True)
    # It went on from the saved state with batch size 8 and the new key: as a run
    # started from that state with those settings does (its epoch counted as 2).
    assert changed.history["loss"][:1] == first.history["loss"]
    assert not bool((changed.model.weight == first.model.weight).all())
    # The checkpoint now records the new settings: they resume without the flag.
    run(tmp_path, 3, batch_size=8, key=jax.random.key(5))
    with pytest.raises(CheckpointError, match="given batch_size=8, and this run is"):
        run(tmp_path, 4, key=jax.random.key(5))
    with pytest.raises(ValueError, match="`resume_changed` must be True or False"):
        run(tmp_path, 4, resume_changed="yes")


def test_a_checkpoint_without_the_record_resumes(tmp_path: pathlib.Path) -> None:
    # Files written before the settings were recorded hold the key alone.
    run(tmp_path / "new", 1)
    state = LEARNER.init(MODEL)
    saved = load_checkpoint(tmp_path / "new", state)
    assert saved.settings["batch_size"] == 4
    save_checkpoint(
        tmp_path / "old", saved.state, key=saved.key, epoch=1, history=saved.history,
        run=run_of(LEARNER, state),
    )  # fmt: skip
    assert load_checkpoint(tmp_path / "old", state).settings == {}
    assert len(run(tmp_path / "old", 2, batch_size=8).history["loss"]) == 2
    with pytest.raises(CheckpointError, match=r"the key threefry2x32 \[0, 2\]"):
        run(tmp_path / "old", 3, batch_size=8, key=jax.random.key(7))


def tree_model() -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=lambda p: jnp.tanh(p[0] * jnp.ones(3)),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k1),
    )
    return cdl.cata(algebra) >> cdl.Each(cdl.Linear(3, 2, key=k2))


def graph_model() -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))
    return (
        cdl.graphs.GraphConv(3, 4, key=k1)
        >> cdl.graphs.Readout()
        >> cdl.Each(cdl.Linear(4, 2, key=k2))
    )


TERMS: list[Any] = [(1.0, 2.0), 3.0, ((1.0, -2.0), 0.5), (-1.0, 1.0)]
OTHER_TERMS: list[Any] = [(1.0, 2.0), 3.0, (1.0, (-2.0, 0.5)), (-1.0, 1.0)]


def graph(n: int, value: float) -> cdl.Graph:
    return cdl.Graph.from_edge_list(
        [(0, 1)], n, nodes=np.full((n, 3), value, np.float32)
    )


@pytest.mark.parametrize(
    ("make", "data", "other"),
    [
        (tree_model, Trees(cdl.TreeF, TERMS, [0, 1, 1, 0]), None),
        (tree_model, Trees(cdl.TreeF, OTHER_TERMS, [0, 1, 1, 0]), "shape"),
        (graph_model, Graphs([graph(2, 1.0), graph(3, 0.5)] * 2, [0, 1, 1, 0]), None),
        (
            graph_model,
            Graphs([graph(2, 1.0), graph(3, 0.5)] * 2, [0, 1, 0, 0]),
            "labels",
        ),
        (
            graph_model,
            Graphs([graph(2, 1.0), graph(3, 0.7)] * 2, [0, 1, 1, 0]),
            "shape",
        ),
    ],
)
def test_other_trees_or_graphs_are_refused(
    tmp_path: pathlib.Path, make: Any, data: Any, other: str | None
) -> None:
    model = make()
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    kind = Trees if isinstance(data, Trees) else Graphs
    first = (
        Trees(cdl.TreeF, TERMS, [0, 1, 1, 0])
        if kind is Trees
        else Graphs([graph(2, 1.0), graph(3, 0.5)] * 2, [0, 1, 1, 0])
    )
    settings: dict[str, Any] = {**SETTINGS, "batch_size": 2, "checkpoint": tmp_path}
    fit(learner, model, first, epochs=1, **settings)
    if other is None:
        assert len(fit(learner, model, data, epochs=2, **settings).history["loss"]) == 2
        return
    with pytest.raises(CheckpointError, match="training data whose values hash to"):
        fit(learner, model, data, epochs=2, **settings)
