"""Training tree folds with `fit` as a Tree-LSTM paper does: labels on every node."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import Adam, DataError, Learner, SoftmaxCrossEntropy, Trees, fit

TEXT = "(2 (1 not) (2 good)) (0 (0 bad) (1 movie)) (2 good) (1 (1 not) (0 bad))"
VOCAB = {"good": 0, "bad": 1, "not": 2, "movie": 3}


def word(w: str) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[VOCAB[w]]


def treebank() -> tuple[list[Any], list[list[int]]]:
    terms, labels = cdl.read_brackets(TEXT, word, forest=True, labels=True)
    per_term, at = [], 0
    for term in terms:
        n = cdl.tree_table(cdl.TreeF, term).size
        per_term.append([int(label) for label in labels[at : at + n]])
        at += n
    return terms, per_term


def models(hidden: int = 4) -> tuple[Any, Any]:
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=lambda p: jnp.tanh(p[0][:hidden]),
        Node=lambda p: jnp.tanh(p[1][0] - 2 * p[1][1]),
    )
    head = cdl.Each(cdl.Linear(hidden, 3, key=k3))
    return cdl.upwards(algebra) >> head, cdl.cata(algebra) >> head


def test_node_labels_batch_as_masked_rows_of_the_table() -> None:
    terms, labels = treebank()
    labels[0][1] = None  # type: ignore[call-overload]  # a node without a label
    data = Trees(cdl.TreeF, terms, labels, per_node=True)
    table, masked = data.batch(np.array([3, 0]))
    assert table.size == 6
    assert masked.labels[:6].tolist() == [1, 0, 1, 1, 1, 2]  # None: masked
    assert masked.mask.tolist() == [1, 1, 1, 1, 0, 1] + [0] * (table.capacity - 6)


def test_a_batch_of_node_labels_has_the_hand_written_mean_loss() -> None:
    terms, labels = treebank()
    upwards, _ = models()
    table, masked = Trees(cdl.TreeF, terms, labels, per_node=True).batch(np.arange(4))
    logits = upwards(table)
    # The mean over the 12 nodes of the four trees, the padding rows left out.
    rows = logits[: table.size]
    targets = jnp.asarray(np.concatenate(labels))
    mean = -jnp.take_along_axis(jax.nn.log_softmax(rows), targets[:, None], 1).mean()
    loss = SoftmaxCrossEntropy().get(masked, logits)
    assert float(loss) == pytest.approx(float(mean), rel=1e-6)


@pytest.mark.slow
def test_fit_trains_a_loss_on_every_node() -> None:
    terms, labels = treebank()
    upwards, _ = models()
    learner = Learner(upwards, SoftmaxCrossEntropy(), Adam(0.1))
    result = fit(
        learner,
        upwards,
        Trees(cdl.TreeF, terms, labels, per_node=True),
        epochs=10,
        batch_size=4,
        key=jax.random.key(1),
        progress=False,
        validation=(terms[:2], labels[:2]),
    )
    assert result.history["loss"][-1] < 0.7 * result.history["loss"][0]


def test_ragged_labels_without_per_node_point_to_it() -> None:
    terms, labels = treebank()
    with pytest.raises(DataError, match=r"per_node=True\) and a model of cdl.upwards"):
        Trees(cdl.TreeF, terms, labels)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (lambda ls: np.zeros(4), r"labels have shape \(4,\); give for each term"),
        (lambda ls: [[str(x) for x in row] for row in ls], "term 0's labels are <U1"),
        (lambda ls: ls[:3], "Trees: 4 inputs but 3 labels"),
    ],
)
def test_node_labels_of_the_wrong_form_are_named(labels: Any, match: str) -> None:
    terms, given = treebank()
    with pytest.raises(DataError, match=match):
        Trees(cdl.TreeF, terms, labels(given), per_node=True)


def test_node_labels_missing_a_node_name_the_term() -> None:
    terms, labels = treebank()
    labels[2] = []
    data = Trees(cdl.TreeF, terms, labels, per_node=True)
    with pytest.raises(DataError, match="term 2 has 1 node.* but 0 label"):
        data.batch(np.array([0, 2]))


def test_a_fold_and_its_labels_of_different_rows_say_which_to_change() -> None:
    terms, labels = treebank()
    upwards, cata = models()
    kw: dict[str, Any] = {"epochs": 1, "batch_size": 2, "key": jax.random.key(1)}
    roots = Trees(cdl.TreeF, terms, np.zeros(4, np.int32))
    with pytest.raises(DataError, match=r"16 row\(s\) for 2 term.*per_node=True"):
        fit(Learner(upwards, SoftmaxCrossEntropy(), Adam(0.1)), upwards, roots, **kw)
    nodes = Trees(cdl.TreeF, terms, labels, per_node=True)
    with pytest.raises(DataError, match="fold with cdl.upwards, not cdl.cata"):
        fit(Learner(cata, SoftmaxCrossEntropy(), Adam(0.1)), cata, nodes, **kw)


def test_a_head_without_each_after_a_forest_fold_points_to_each() -> None:
    terms, _ = treebank()
    k1, k2 = jax.random.split(jax.random.key(0))
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(4, 3, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k2),
    )
    model = cdl.cata(algebra) >> cdl.Linear(3, 2, key=k2)
    data = Trees(cdl.TreeF, terms, np.zeros(4, np.int32))
    # It said to map the model with jax.vmap, which cannot take a forest's table.
    with pytest.raises(DataError, match=r"one row per tree.*cdl.Each") as error:
        fit(Learner(model, SoftmaxCrossEntropy(), Adam(0.1)), model, data,
            epochs=1, batch_size=2, key=jax.random.key(1))  # fmt: skip
    assert "jax.vmap" not in str(error.value)


def test_payloads_of_another_shape_in_a_later_term_are_named_before_training() -> None:
    terms = [(np.ones(4, np.float32), np.ones(4, np.float32))] * 5 + [
        (np.ones(3, np.float32), np.ones(3, np.float32))
    ]
    upwards, cata = models()
    learner = Learner(cata, SoftmaxCrossEntropy(), Adam(0.1))
    # Found only when a batch met term 5 (mid-epoch), as "payload 3 has a leaf
    # of shape (3,)", counting the payloads of that batch.
    with pytest.raises(DataError, match=r"term 5 has a TreeF.Leaf payload of shape "
                       r"\(3,\), where term 0's is \(4,\)"):  # fmt: skip
        fit(learner, cata, Trees(cdl.TreeF, terms, np.zeros(6, np.int32)),
            epochs=1, batch_size=2, key=jax.random.key(1))  # fmt: skip


def test_node_labels_of_a_term_drawn_twice_or_sharing_a_subterm_line_up() -> None:
    leaf, node = cdl.TreeF.patterns
    pair = node(leaf(1.0), leaf(2.0))
    terms = [pair, pair, node(pair, pair)]  # one Python object met five times
    labels = [[0, 1, 2], [0, 1, 2], [0, 1, 2, 0, 1, 2, 1]]
    # A table stores a layer met twice once: 3 nodes for 13 labels, and the
    # error blamed term 0 with "-1 node(s)".
    table, masked = Trees(cdl.TreeF, terms, labels, per_node=True).batch(np.arange(3))
    assert table.size == 13
    assert masked.labels[:13].tolist() == sum(labels, [])
    assert float(masked.mask.sum()) == 13
