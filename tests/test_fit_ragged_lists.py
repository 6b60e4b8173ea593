"""Ragged lists given to fit as a PaddedList are checked as arrays are."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, DataError, Learner, SoftmaxCrossEntropy, fit


def test_padded_lists_of_the_wrong_width_are_a_data_error() -> None:
    # The GRU cell raised a SpaceError from inside the first step.
    k1, k2 = jax.random.split(jax.random.key(0))
    fold = cdl.cata(cdl.ListAlgebra(jnp.zeros(4), cdl.GRUCell(3, 4, key=k1)))
    model = fold >> cdl.Linear(4, 2, key=k2)
    lists = [np.ones((n, 2), np.float32) for n in (1, 3, 2)]
    with pytest.raises(DataError, match=r"lie in float\[n,3\].*f32\[3,2\]"):
        fit(
            Learner(model, SoftmaxCrossEntropy(), SGD(0.1)), model,
            cdl.batch_lists(lists, pad=True), np.zeros(3, np.int32),
            epochs=1, batch_size=3, key=jax.random.key(0), progress=False,
        )  # fmt: skip
