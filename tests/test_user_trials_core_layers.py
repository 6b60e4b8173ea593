"""Layer constructors name a key that is not a PRNG key, and a Reshape of a tuple."""

import jax
import jax.numpy as jnp
import pytest

import cdl


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda key: cdl.Linear(3, 2, key=key), "Linear"),
        (lambda key: cdl.Conv1d(1, 2, 3, key=key), "Conv1d"),
        (lambda key: cdl.Conv2d(1, 2, 3, key=key), "Conv2d"),
        (lambda key: cdl.ConvTranspose2d(1, 2, 3, key=key), "ConvTranspose2d"),
        (lambda key: cdl.Embedding(5, 2, key=key), "Embedding"),
        (lambda key: cdl.SelfAttention(4, 2, key=key), "SelfAttention"),
        (lambda key: cdl.LearnedPositions(8, 4, key=key), "LearnedPositions"),
    ],
)
def test_a_layer_given_an_int_for_its_key_names_itself(
    build: object, name: str
) -> None:
    with pytest.raises(TypeError) as e:
        build(0)  # type: ignore[operator]
    assert str(e.value).startswith(f"{name}: key must be a PRNG key such as")
    assert str(e.value).endswith("not int 0.")
    build(jax.random.key(0))  # type: ignore[operator]
    build(jax.random.PRNGKey(0))  # type: ignore[operator]  # a raw key works too


def test_reshape_given_a_tuple_shows_the_arguments() -> None:
    with pytest.raises(ValueError, match=r"as arguments: Reshape\(2, 3\), not a tuple"):
        cdl.Reshape((2, 3))  # type: ignore[arg-type]
    assert cdl.Reshape(2, 3)(jnp.ones(6)).shape == (2, 3)


def test_an_image_with_its_channels_last_is_pointed_to_channels_first() -> None:
    from cdl.optics import Adam, DataError, Learner, SoftmaxCrossEntropy, fit

    key = jax.random.key(0)
    model = cdl.Conv2d(3, 4, 3, key=key) >> cdl.Relu() >> cdl.GlobalAvgPool()
    hint = "It looks channels-last: cdl's convolutions take channels first"
    with pytest.raises(cdl.SpaceError, match=hint):
        model(jnp.ones((8, 8, 3)))
    with pytest.raises(cdl.SpaceError, match=hint):
        cdl.Conv1d(3, 4, 3, key=key)(jnp.ones((8, 3)))
    with pytest.raises(DataError, match=hint):
        fit(
            Learner(model, SoftmaxCrossEntropy(), Adam(0.1)), model,
            jnp.ones((4, 8, 8, 3)), jnp.zeros(4, jnp.int32), epochs=1, batch_size=2,
            key=key, progress=False,
        )  # fmt: skip
    with pytest.raises(cdl.SpaceError) as e:  # not a channels-last image: no hint
        model(jnp.ones((5, 8, 8)))
    assert "channels-last" not in str(e.value)
