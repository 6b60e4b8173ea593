"""`fit` refuses a model with nothing to train, naming why, instead of a flat loss."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import Adam, Learner, SoftmaxCrossEntropy


def _fit(model: cdl.Para) -> object:
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    return cdl.fit(
        learner, model, jnp.ones((8, 4)), jnp.zeros(8, jnp.int32),
        epochs=1, batch_size=4, key=jax.random.key(0), progress=False,
    )  # fmt: skip


def test_a_model_frozen_whole_is_refused_with_the_count_of_frozen_arrays() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    model = cdl.freeze(cdl.Linear(4, 4, key=k1)) >> cdl.freeze(cdl.Linear(4, 3, key=k2))
    with pytest.raises(ValueError, match=r"all 4 of its parameter arrays are frozen"):
        _fit(model)


def test_a_model_without_parameters_is_refused() -> None:
    with pytest.raises(ValueError, match=r"nothing to train: it has no parameters"):
        _fit(cdl.Relu())


def test_a_model_partly_frozen_trains_its_free_part() -> None:
    k1, k2 = jax.random.split(jax.random.key(1))
    frozen, free = cdl.freeze(cdl.Linear(4, 4, key=k1)), cdl.Linear(4, 3, key=k2)
    trained = _fit(frozen >> free).model  # type: ignore[attr-defined]
    first, last = trained.factors
    same = [jnp.array_equal(a, b) for a, b in zip(
        jax.tree.leaves(first), jax.tree.leaves(frozen), strict=True
    )]  # fmt: skip
    assert all(same)
    assert not jnp.array_equal(last.weight, free.weight)
