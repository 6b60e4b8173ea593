"""Labels of trees that the loss cannot take are named at the size of the data.

The labels are checked on a batch of two trees, and for trees labelled at
their roots the loss's own text spoke of that batch: four trees with labels
of shape (4, 1) were told to ``give integer labels of shape (2,)``. Arrays and
graphs said ``(4,)`` already; trees now do too.
"""

import jax
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, DataError, Learner, SoftmaxCrossEntropy, Trees, fit


def _leaf(v: float) -> np.ndarray:
    return np.array([v], np.float32)


TERMS = [
    (_leaf(1.0), _leaf(2.0)),
    _leaf(3.0),
    ((_leaf(4.0), _leaf(5.0)), _leaf(6.0)),
    (_leaf(7.0), (_leaf(8.0), _leaf(9.0))),
]


def test_tree_labels_of_the_wrong_shape_are_named_at_the_size_of_the_data() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    cells = {
        "Leaf": cdl.TreeLSTMCell(1, 4, arity=0, key=k1),
        "Node": cdl.TreeLSTMCell(0, 4, arity=2, key=k2),
    }
    model = (
        cdl.cata(cdl.Algebra(cdl.TreeF, **cells))
        >> cdl.Fst()
        >> cdl.Each(cdl.Linear(4, 2, key=k2))
    )
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    labels = np.array([[0], [1], [0], [1]])
    with pytest.raises(
        DataError, match=r"labels i32\[4,1\] do not fit logits f32\[4,2\]: give "
        r"integer labels of shape \(4,\)",
    ):  # fmt: skip
        fit(learner, model, Trees(cdl.TreeF, TERMS, labels), epochs=1, batch_size=2,
            key=jax.random.key(0), progress=False)  # fmt: skip
