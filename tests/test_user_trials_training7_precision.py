"""bfloat16 data through fit: NaN in it is refused by example, as in float32.

NumPy does not count ml_dtypes' bfloat16 as inexact (its kind is "V"), so
the host checks that read `np.issubdtype(dtype, np.inexact)` or
`dtype.kind in "fc"` let a NaN in bfloat16 inputs, labels, validation data or
graph features through: the run then stopped at step 3 with a
NonFiniteLossError (or, in validation, recorded val_loss nan), and per-node
tree labels of bfloat16 were refused as "not numbers".
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, DataError, Learner, MeanSquaredError, Trees, fit

BF16 = jnp.bfloat16
MODEL = cdl.Linear(3, 2, key=jax.random.key(0))
XS = np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3)
YS = np.linspace(0, 1, 16, dtype=np.float32).reshape(8, 2)


def _fit(xs: Any, ys: Any, **given: Any) -> Any:
    learner = Learner(MODEL, MeanSquaredError(), SGD(0.1))
    return fit(
        learner, MODEL, xs, ys, epochs=1, batch_size=4, key=jax.random.key(0),
        progress=False, **given,
    )  # fmt: skip


def _with_nan(a: np.ndarray, row: int) -> jax.Array:
    a = a.copy()
    a[row, 0] = np.nan
    return jnp.asarray(a, BF16)


@pytest.mark.parametrize(
    ("xs", "ys", "validation", "says"),
    [
        (_with_nan(XS, 5), YS, None, r"\): the inputs hold 1 NaN .* example 5"),
        (XS, _with_nan(YS, 3), None, r"\): the labels hold 1 NaN .* example 3"),
        (XS, YS, (_with_nan(XS, 6), YS), r"validation data: the inputs .* example 6"),
    ],
)
def test_nan_in_bfloat16_arrays_is_named_before_training(
    xs: Any, ys: Any, validation: Any, says: str
) -> None:
    with pytest.raises(DataError, match=says):
        _fit(xs, ys, validation=validation)


def test_bfloat16_arrays_train_as_their_float32_values() -> None:
    got = _fit(jnp.asarray(XS, BF16), YS, shuffle=False).model
    want = _fit(np.asarray(jnp.asarray(XS, BF16), np.float32), YS, shuffle=False).model
    assert np.array_equal(got.weight, want.weight)


def test_nan_in_bfloat16_graph_features_is_named_before_training() -> None:
    graphs = [
        cdl.Graph.from_edge_list([(0, 1)], 2, nodes=jnp.ones((2, 3), BF16))
        for _ in range(4)
    ]
    graphs[2] = eqx.tree_at(
        lambda g: g.nodes, graphs[2], graphs[2].nodes.at[1, 0].set(jnp.nan)
    )
    model = cdl.graphs.Readout() >> cdl.Each(cdl.Linear(3, 1, key=jax.random.key(0)))
    learner = Learner(model, MeanSquaredError(), SGD(0.1))
    with pytest.raises(DataError, match="the inputs hold 1 NaN .* example 2"):
        fit(learner, model, graphs, np.ones((4, 1), np.float32), epochs=1,
            batch_size=2, key=jax.random.key(0), progress=False)  # fmt: skip


def test_bfloat16_node_labels_are_numbers() -> None:
    labels = [np.array([0.5, 1, 1], BF16), np.array([2.0], BF16)]
    data = Trees(cdl.TreeF, [(1.0, 2.0), 3.0], labels, per_node=True)
    assert data.labels.dtype == BF16
    assert data.labels.tolist() == [[0.5, 1, 1], [2, 2, 2]]
