"""`fit` given a model with state but not its state says how to pass it."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import Adam, DataError, Learner, SoftmaxCrossEntropy, fit

K1, K2 = jax.random.split(jax.random.key(0))


def test_a_model_with_state_trained_without_it_points_to_model_state() -> None:
    model, _ = eqx.nn.make_with_state(
        lambda: (
            (cdl.Linear(4, 8, key=K1) @ cdl.Identity())
            >> cdl.BatchNorm(8)
            >> (cdl.Linear(8, 2, key=K2) @ cdl.Identity())
        )
    )()
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    xs, ys = jnp.ones((8, 4)), jnp.zeros(8, jnp.int32)
    with pytest.raises(DataError) as e:
        fit(learner, model, xs, ys, epochs=1, batch_size=4, key=K1, progress=False)
    assert "(a tensor is not a tuple). The model keeps state (its StateIndex at " in (
        str(e.value)
    )
    assert str(e.value).endswith("pass `fit(..., model_state=state)`.")
    # A model without state given the wrong inputs gets no such hint.
    plain = cdl.Linear(4, 2, key=K1)
    with pytest.raises(DataError) as e:
        fit(
            Learner(plain, SoftmaxCrossEntropy(), Adam(0.1)), plain, jnp.ones((8, 3)),
            ys, epochs=1, batch_size=4, key=K1, progress=False,
        )  # fmt: skip
    assert "keeps state" not in str(e.value)


@pytest.mark.parametrize(
    ("metric", "why"),
    [
        (lambda outputs, labels: 1.0, "it raised <lambda>() takes 2 positional"),
        (lambda model, xs, ys: jnp.ones(3), "it returned float32[3]"),
    ],
    ids=["arity", "not-a-scalar"],
)
def test_a_metric_function_that_cannot_be_used_is_named(
    metric: object, why: str
) -> None:
    model = cdl.Linear(4, 2, key=K1)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    with pytest.raises(TypeError) as e:
        fit(
            learner, model, jnp.ones((8, 4)), jnp.zeros(8, jnp.int32), epochs=1,
            batch_size=4, key=K1, progress=False, metrics={"acc": metric},
        )  # fmt: skip
    assert str(e.value).startswith(f"fit(Linear(4→2)): metric 'acc' failed ({why}")
    assert "called as f(model, xs, ys)" in str(e.value)


def test_a_learner_of_a_model_with_dropout_needs_a_key_to_step_not_to_evaluate() -> (
    None
):
    model = cdl.Linear(4, 8, key=K1) >> cdl.Dropout(0.5) >> cdl.Linear(8, 2, key=K2)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    state = learner.init(model)
    xs, ys = jnp.ones((4, 4)), jnp.zeros(4, jnp.int32)
    with pytest.raises(ValueError, match=r"\.step: the model is stochastic and needs"):
        learner.step(state, xs, ys)
    # Held-out loss with dropout off, as fit's validation loss (it needed a key).
    plain = learner.with_model(cdl.inference_mode(model))
    assert learner.evaluate(state, xs, ys) == plain.evaluate(state, xs, ys)
