"""fit trains each kind of model cdl builds, with dropout, metrics and validation."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import cdl
from cdl.optics import (
    Adam,
    Graphs,
    Learner,
    SoftmaxCrossEntropy,
    Trees,
    accuracy,
    fit,
)


def check_history(history: dict[str, list[float]], epochs: int) -> None:
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == epochs for v in history.values())
    assert all(np.isfinite(v).all() for v in history.values())


def test_gru_fold_on_padded_ragged_lists() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=70)
    lists = [rng.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    # The class: is the sum of the first feature over the list positive?
    labels = np.array([int(xs[:, 0].sum() > 0) for xs in lists], np.int32)
    batch = cdl.batch_lists(lists, pad=True)
    assert isinstance(batch, cdl.PaddedList)
    k1, k2 = jax.random.split(jax.random.key(0))
    hidden = 8
    fold = cdl.cata(cdl.ListAlgebra(jnp.zeros(hidden), cdl.GRUCell(2, hidden, key=k1)))
    model = fold >> cdl.Dropout(0.1) >> cdl.Linear(hidden, 2, key=k2)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.03))
    train = (jax.tree.map(lambda a: a[:50], batch), labels[:50])
    held = (jax.tree.map(lambda a: a[50:], batch), labels[50:])
    result = fit(
        learner,
        model,
        *train,
        epochs=12,
        batch_size=16,  # 50 = 3 * 16 + 2: the last batch holds 2 lists
        key=jax.random.key(1),
        metrics={"accuracy": accuracy},
        validation=held,
        progress=False,
    )
    check_history(result.history, 12)
    assert int(result.state.step) == 12 * 4
    assert result.history["accuracy"][-1] > 0.8
    assert result.history["loss"][-1] < result.history["loss"][0]
    # The metrics are those of the trained model with dropout off.
    trained = cdl.inference_mode(result.model)
    assert float(accuracy(trained, *held)) == result.history["val_accuracy"][-1]


def random_graph(rng: np.random.Generator) -> tuple[cdl.Graph, int]:
    n = int(rng.integers(2, 7))
    pairs = [
        (i, j) for i in range(n) for j in range(n) if i != j and rng.random() < 0.4
    ]
    nodes = rng.normal(size=(n, 3)).astype(np.float32)
    graph = cdl.Graph.from_edge_list(pairs, n, nodes=nodes)
    return graph, int(nodes[:, 0].sum() > 0)


def test_graph_network_on_batched_padded_graphs() -> None:
    rng = np.random.default_rng(1)
    graphs, labels = zip(*(random_graph(rng) for _ in range(60)), strict=True)
    k1, k2 = jax.random.split(jax.random.key(2))
    hidden = 8
    model = (
        cdl.graphs.GraphConv(3, hidden, key=k1)
        >> cdl.graphs.OnNodes(cdl.Tanh())
        >> cdl.graphs.Readout(cdl.graphs.Sum())
        >> cdl.Dropout(0.1)
        >> cdl.Each(cdl.Linear(hidden, 2, key=k2))
    )
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.03))
    result = fit(
        learner,
        model,
        list(graphs[:45]),
        np.array(labels[:45], np.int32),
        epochs=6,
        batch_size=10,  # the last batch holds 5 graphs, padded like the others
        key=jax.random.key(3),
        metrics={"accuracy": accuracy},
        validation=Graphs(list(graphs[45:]), np.array(labels[45:], np.int32)),
        progress=False,
    )
    check_history(result.history, 6)
    assert int(result.state.step) == 6 * 5
    assert result.history["accuracy"][-1] > 0.8
    # The padding graph does not count: the metrics are those of the graphs alone
    # (side by side, unpadded).
    trained = cdl.inference_mode(result.model)
    logits = trained(cdl.graphs.batch(list(graphs[45:])).inputs())
    expected = float(jnp.mean(jnp.argmax(logits, -1) == jnp.array(labels[45:])))
    assert abs(expected - result.history["val_accuracy"][-1]) < 1e-6


EXPR = cdl.polynomial("SumF", Num="a", Op="a x x")


def expression(rng: np.random.Generator, shape: Any) -> tuple[cdl.Layer[Any], int]:
    """Random digits on a shape (None: a digit; a pair: a sum), and the value mod 3."""
    if shape is None:
        digit = int(rng.integers(3))
        return cdl.Layer("Num", np.eye(3, dtype=np.float32)[digit], ()), digit
    (a, x), (b, y) = expression(rng, shape[0]), expression(rng, shape[1])
    return cdl.Layer("Op", np.ones(1, np.float32), (a, b)), (x + y) % 3


class Evaluator(cdl.Para[cdl.NodeTable, Float[Array, "r 3"]]):
    """A Tree-LSTM fold of a forest, dropout, then a readout of every root."""

    fold: cdl.Para[Any, Any]
    dropout: cdl.Dropout
    readout: cdl.Linear

    def __init__(self, hidden: int, *, key: Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        algebra = cdl.Algebra(
            EXPR,
            Num=cdl.TreeLSTMCell(3, hidden, arity=0, key=k1),
            Op=cdl.TreeLSTMCell(1, hidden, arity=2, key=k2),
        )
        self.fold = cdl.cata(algebra)
        self.dropout = cdl.Dropout(0.1)
        self.readout = cdl.Linear(hidden, 3, key=k3)

    @property
    def stochastic(self) -> bool:
        return self.dropout.stochastic

    def __call__(
        self, table: cdl.NodeTable, *, key: Array | None = None
    ) -> Float[Array, "r 3"]:
        h, _ = self.fold(table)
        h = self.dropout(h, key=key)
        logits: Float[Array, "r 3"] = jax.vmap(self.readout)(h)
        return logits


def fit_small_tree_lstm(terms: Any, values: Any, tables: Any, *, epochs: int) -> Any:
    """A Tree-LSTM of width 4 fitted to `terms` in batches of 10, in order."""
    k1, k2, k3 = jax.random.split(jax.random.key(6), 3)
    algebra = cdl.Algebra(
        EXPR,
        Num=cdl.TreeLSTMCell(3, 4, arity=0, key=k1),
        Op=cdl.TreeLSTMCell(1, 4, arity=2, key=k2),
    )
    model = cdl.cata(algebra) >> cdl.Fst() >> cdl.Each(cdl.Linear(4, 3, key=k3))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
    return fit(
        learner,
        model,
        Trees(EXPR, terms, np.array(values, np.int32), tables=tables),
        epochs=epochs,
        batch_size=10,
        key=jax.random.key(7),
        shuffle=False,
        progress=False,
    )


def test_trees_train_through_fit_with_the_given_table_builder() -> None:
    rng = np.random.default_rng(3)
    terms, values = zip(
        *(expression(rng, (None, None)) for _ in range(30)), strict=True
    )
    built: list[int] = []

    def tables(functor: cdl.Functor, batch: list[Any]) -> cdl.NodeTable:
        built.append(len(batch))
        return cdl.tree_table(functor, batch, forest=True)

    result = fit_small_tree_lstm(terms, values, tables, epochs=3)
    assert built.count(10) == 9  # and one probe of 2 before training
    assert int(result.state.step) == 9
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_trees_train_through_fit_in_envelopes() -> None:
    # The epoch's batches are known (no shuffling): envelopes cover them, and
    # the builder lays each batch out in one, so the step runs the unrolled
    # engine in at most two programs.
    rng = np.random.default_rng(4)
    terms, values = zip(
        *(expression(rng, (None, None)) for _ in range(30)), strict=True
    )
    chunks = [list(terms[i : i + 10]) for i in range(0, 30, 10)]
    envelopes = cdl.Envelopes.covering(
        [cdl.tree_table(EXPR, c, forest=True) for c in chunks], count=2
    )
    laid: list[bool] = []

    def tables(functor: cdl.Functor, batch: list[Any]) -> cdl.NodeTable:
        table = cdl.tree_table(functor, batch, forest=True)
        out = envelopes.layout(table, strict=False)
        laid.append(out.envelope is not None)
        return out

    result = fit_small_tree_lstm(terms, values, tables, epochs=4)
    assert laid.count(True) >= 12  # every step's batch (a probe may not fit)
    assert int(result.state.step) == 12
    assert result.history["loss"][-1] < result.history["loss"][0]


@pytest.mark.slow
def test_tree_lstm_on_a_dataset_of_trees() -> None:
    rng = np.random.default_rng(2)
    # One shape, so that every batch's table has one layout and the step compiles
    # once; node-table buckets let batches of different shapes share code too.
    shape = ((None, None), None)
    terms, values = zip(*(expression(rng, shape) for _ in range(240)), strict=True)
    labels = np.array(values, np.int32)
    built: list[int] = []

    def tables(functor: cdl.Functor, batch: list[Any]) -> cdl.NodeTable:
        built.append(len(batch))
        return cdl.tree_table(functor, batch, forest=True)

    model = Evaluator(16, key=jax.random.key(4))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.02))
    result = fit(
        learner,
        model,
        Trees(EXPR, terms[:200], labels[:200], tables=tables),
        epochs=15,
        batch_size=25,
        key=jax.random.key(5),
        metrics={"accuracy": accuracy},
        validation=Trees(EXPR, terms[200:], labels[200:]),
        progress=False,
    )
    check_history(result.history, 15)
    assert int(result.state.step) == 15 * 8
    assert result.history["loss"][-1] < 0.7 * result.history["loss"][0]
    assert result.history["accuracy"][-1] > 0.6
    assert 25 in built  # the node tables came from the given builder
    trained = cdl.inference_mode(result.model)
    table = cdl.tree_table(EXPR, list(terms[200:]), forest=True)
    predicted = jnp.argmax(trained(table), -1)
    expected = float(jnp.mean(predicted == labels[200:]))
    assert abs(expected - result.history["val_accuracy"][-1]) < 1e-6
