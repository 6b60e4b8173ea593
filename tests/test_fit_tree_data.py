"""Trees (and masked labels) given to fit are checked as arrays are, before training."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, DataError, Learner, Masked, SoftmaxCrossEntropy, Trees, fit

TERMS: list[Any] = [(1.0, 2.0), 3.0, ((1.0, -2.0), 0.5), (-1.0, 1.0)]


def model() -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=lambda p: jnp.tanh(p[0] * jnp.ones(3)),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k1),
    )
    return cdl.cata(algebra) >> cdl.Each(cdl.Linear(3, 2, key=k2))


def train(data: Any, ys: Any = None, **kwargs: Any) -> Any:
    m = model()
    return fit(
        Learner(m, SoftmaxCrossEntropy(), SGD(0.1)), m, data, ys, epochs=1,
        batch_size=2, key=jax.random.key(0), progress=False, **kwargs,
    )  # fmt: skip


def test_class_labels_outside_the_outputs_are_named() -> None:
    # They gave a NaN loss, blamed on the learning rate.
    with pytest.raises(DataError, match="label 2 of example 1 is not a class"):
        train(Trees(cdl.TreeF, TERMS, np.array([0, 2, 1, 0])))


def test_payloads_holding_nan_are_named() -> None:
    terms = [*TERMS[:2], ((1.0, np.nan), 0.5), TERMS[3]]
    with pytest.raises(DataError, match="1 NaN or infinite value.*example 2"):
        train(Trees(cdl.TreeF, terms, np.zeros(4, np.int32)))


def test_validation_may_be_a_pair_of_terms_and_labels() -> None:
    # It was read as arrays ("the inputs hold a single number at [0][0][0]").
    labels = np.array([1, 1, 0, 0], np.int32)
    result = train(Trees(cdl.TreeF, TERMS, labels), validation=(TERMS[:2], labels[:2]))
    assert len(result.history["val_loss"]) == 1


def test_terms_given_as_inputs_point_to_trees() -> None:
    leaf = cdl.TreeF.patterns[0]
    with pytest.raises(DataError, match=r"Trees\(functor, terms, labels\)"):
        train([leaf(1.0), leaf(2.0)], ys=np.zeros(2, np.int32))


def test_the_loss_of_per_node_labels_is_their_mean() -> None:
    # An epoch's loss weighed each batch by its terms, not by its labelled nodes,
    # so with nothing learned it differed from the same data's validation loss
    # (0.6200 against 0.6241 here).
    def nodes(t: Any) -> list[Any]:
        return nodes(t[0]) + nodes(t[1]) + [t] if isinstance(t, tuple) else [t]

    terms = [*TERMS, ((0.3, 0.2), (0.1, -0.4))]
    labels = [[i % 2 for i, _ in enumerate(nodes(t))] for t in terms]
    k1, k2 = jax.random.split(jax.random.key(0))
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=lambda p: jnp.tanh(p[0] * jnp.ones(3)),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k1),
    )
    m = cdl.upwards(algebra) >> cdl.Each(cdl.Linear(3, 2, key=k2))
    data = Trees(cdl.TreeF, terms, labels, per_node=True)
    result = fit(
        Learner(m, SoftmaxCrossEntropy(), SGD(0.0)), m, data, epochs=1,
        batch_size=2, key=jax.random.key(1), progress=False, validation=data,
    )  # fmt: skip
    assert result.history["loss"] == pytest.approx(result.history["val_loss"], 1e-6)


def test_the_loss_of_masked_array_labels_is_their_mean() -> None:
    # Array batches weighed by their examples too: with half a batch masked the
    # training loss was 0.918 where the same data's validation loss was 0.906.
    xs = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    labels = jnp.asarray(np.arange(10) % 2)
    ys = Masked(labels, jnp.asarray([1.0] * 6 + [0.0] * 4))
    m = cdl.Linear(3, 2, key=jax.random.key(0))
    for shuffle, per_call in ((False, 1), (True, 2)):
        result = fit(
            Learner(m, SoftmaxCrossEntropy(), SGD(0.0)), m, xs, ys, epochs=2,
            batch_size=4, key=jax.random.key(1), progress=False, shuffle=shuffle,
            epochs_per_call=per_call, validation=(xs, ys),
        )  # fmt: skip
        assert result.history["loss"] == pytest.approx(result.history["val_loss"])
