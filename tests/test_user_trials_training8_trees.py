"""An epoch's last, smaller batch of trees runs the full batches' compiled step."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import cdl
from cdl.optics import SGD, Learner, SoftmaxCrossEntropy, Trees, accuracy, fit

TERMS: list[Any] = [(1.0, 2.0), 3.0, ((1.0, -2.0), 0.5), (-1.0, 1.0), (0.5, -0.5)]
LABELS = np.array([1, 0, 1, 0, 1], np.int32)
SEEN: list[tuple[int, ...]] = []


def watched(h: Any) -> Any:
    SEEN.append(tuple(h.shape))  # at trace time: once per compiled shape
    return h


def model() -> cdl.Para:
    k1, k2 = jax.random.split(jax.random.key(0))

    def leaf(p: Any) -> Any:
        return jnp.tanh(p[0] * jnp.ones(3))

    node = cdl.TreeRNNCell(0, 3, arity=2, key=k1)
    fold = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=node))
    watch = cdl.lift(watched, dom=fold.cod, cod=fold.cod)
    return fold >> watch >> cdl.Each(cdl.Linear(3, 2, key=k2))


def train(**kwargs: Any) -> Any:
    m = model()
    return fit(
        Learner(m, SoftmaxCrossEntropy(), SGD(0.1)), m, Trees(cdl.TreeF, TERMS, LABELS),
        epochs=2, batch_size=2, key=jax.random.key(0), progress=False, **kwargs,
    )  # fmt: skip


def test_the_last_batch_of_trees_has_the_full_batches_shape() -> None:
    # Five trees in batches of two: the last batch of one tree (and of the
    # validation's three) gave a fold of another shape, compiled again.
    SEEN.clear()
    train(metrics={"accuracy": accuracy}, validation=(TERMS[:3], LABELS[:3]))
    assert set(SEEN) == {(2, 3)}


def test_the_filled_up_batch_trains_as_the_batch_alone() -> None:
    result = train(shuffle=False)
    m = model()
    learner = Learner(m, SoftmaxCrossEntropy(), SGD(0.1), per_example=False)
    state = learner.init(m)
    data = Trees(cdl.TreeF, TERMS, LABELS)
    losses = []
    for _ in range(2):
        for part in ([0, 1], [2, 3], [4]):
            table, labels = data.batch(np.array(part))  # no filling without a size
            state, loss = learner.step(state, table, labels)
            losses.append(float(loss))
    got = jax.tree.leaves(result.state.params)
    want = jax.tree.leaves(state.params)
    for a, b in zip(got, want, strict=True):
        assert np.allclose(a, b, atol=1e-6)
    epoch = [(2 * losses[0] + 2 * losses[1] + losses[2]) / 5]
    epoch.append((2 * losses[3] + 2 * losses[4] + losses[5]) / 5)
    assert np.allclose(result.history["loss"], epoch, atol=1e-6)
