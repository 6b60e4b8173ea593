"""fit's arguments as a new user gets them wrong: a metric named like the history's
own entries, and yes-or-no arguments given as words or numbers."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import SGD, Learner, MetaLearner, SoftmaxCrossEntropy, accuracy, fit

XS = jax.random.normal(jax.random.key(0), (12, 3))
YS = (XS[:, 0] > 0).astype(jnp.int32)
MODEL = cdl.Linear(3, 2, key=jax.random.key(1))
LEARNER = Learner(MODEL, SoftmaxCrossEntropy(), SGD(0.1))


def _fit(**options: object) -> object:
    return fit(
        LEARNER,
        MODEL,
        XS,
        YS,
        epochs=1,
        batch_size=4,
        key=jax.random.key(2),
        **{"progress": False, **options},  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("name", ["loss", "skipped", "val_acc", "val_loss", "", 3])
def test_a_metric_named_like_the_historys_own_entries_is_refused(name: object) -> None:
    # metrics={"loss": accuracy} ran and its values and the loss's shared one
    # list; {"val_acc": accuracy} without validation data recorded the training
    # accuracy as val_acc.
    with pytest.raises(ValueError, match=f"a metric may not be named {name!r}"):
        _fit(metrics={name: accuracy}, validation=(XS, YS))


def test_a_metric_of_its_own_name_is_recorded_with_its_validation_twin() -> None:
    result = _fit(metrics={"acc": accuracy}, validation=(XS, YS))
    assert sorted(result.history) == ["acc", "loss", "val_acc", "val_loss"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("what", "value"), [("shuffle", "no"), ("shuffle", 0), ("progress", "off")]
)
def test_flags_that_are_not_bools_are_refused(what: str, value: object) -> None:
    # shuffle="no" is truthy: the run shuffled, against what was asked.
    with pytest.raises(ValueError, match=f"`{what}` must be True or False, not"):
        _fit(**{what: value})


def test_a_model_state_beside_a_model_without_state_is_named() -> None:
    # It was a SpaceError about the model's input, "(f32[3] × State)".
    _, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    with pytest.raises(
        ValueError, match="the model keeps no state.*leave model_state out"
    ):
        _fit(model_state=state)


def test_meta_learning_on_one_batch_instead_of_a_stack_is_named() -> None:
    # unroll scanned the batch's examples as steps, and the error was about the
    # model's input: "Linear(3→2) expects input float[3], but was given f32[]".
    meta = MetaLearner(LEARNER, lambda m: m.optimiser.learning_rate, SGD(0.1))
    start = meta.init(MODEL, jnp.array(0.1))
    with pytest.raises(
        ValueError,
        match=r"batches stacked as \(steps, batch, ...\).*"
        r"arrays of rank 3, but were given f32\[12,3\]",
    ):
        meta.step(*start, (XS, YS), (XS, YS))
    stacked = (XS.reshape(3, 4, 3), YS.reshape(3, 4))
    assert meta.step(*start, stacked, (XS, YS))[3].shape == ()


def test_a_tied_start_beside_an_untied_learner_names_the_kinds() -> None:
    # Both sides read "Linear(3→2) >> Tanh() >> Linear(2→3)": the message said
    # they differ and showed the same text twice.
    k1, k2 = jax.random.split(jax.random.key(3))
    model = cdl.Linear(3, 2, key=k1) >> cdl.Tanh() >> cdl.Linear(2, 3, key=k2)
    tied = cdl.tie(
        model,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[2].weight,
        via=jnp.transpose,
    )
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
    with pytest.raises(
        ValueError,
        match=r"\(Compose\) there, the start model .*"
        r"\(a Reparam: tied, frozen or reparametrised\)",
    ):
        fit(learner, tied, XS, YS, epochs=1, batch_size=4, key=jax.random.key(2))
