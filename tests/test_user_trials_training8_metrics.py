"""A metric that cannot score the outputs says on what batch it was tried."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import Adam, BinaryCrossEntropy, Learner, accuracy, fit


def test_a_metric_refusing_multi_label_outputs_names_the_probe_batch() -> None:
    # 12 examples of 5 labels: the error showed float32[2, 5] without saying
    # that fit tries metrics on a batch of two examples first.
    xs = jax.random.normal(jax.random.key(0), (12, 3))
    ys = (jax.random.uniform(jax.random.key(3), (12, 5)) > 0.5).astype(jnp.float32)
    model = cdl.Linear(3, 5, key=jax.random.key(1))
    with pytest.raises(ValueError) as error:
        fit(
            Learner(model, BinaryCrossEntropy(), Adam(1e-2)), model, xs, ys,
            epochs=1, batch_size=4, key=jax.random.key(2), progress=False,
            metrics={"acc": accuracy},
        )  # fmt: skip
    text = str(error.value)
    assert (
        "metric 'acc' cannot score the model's outputs (on a batch of 2 examples)"
        in text
    )
    assert "float32[2, 5]" in text
