"""Common composition mistakes are named: a list for an array, a plain function
after ``>>``, and batch norm joined to layers without state."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import first

K = jax.random.key(0)


def test_a_python_list_given_for_an_array_says_so() -> None:
    model = cdl.Linear(3, 2, key=K) >> cdl.Relu()
    with pytest.raises(cdl.SpaceError) as e:
        model([1.0, 2.0, 3.0])
    assert str(e.value) == (
        "Linear(3→2) >> Relu() expects input float[3], but was given list (a list "
        "is not an array: convert it with `jnp.asarray`)."
    )
    pair = cdl.Linear(3, 2, key=K) @ cdl.Tanh()
    with pytest.raises(cdl.SpaceError, match="a dict is not an array"):
        pair((jnp.ones(3), {"x": jnp.ones(2)}))
    assert model(jnp.asarray([1.0, 2.0, 3.0])).shape == (2,)


@pytest.mark.parametrize("other", [jax.nn.relu, lambda x: x, eqx.nn.Identity()])
def test_a_plain_function_or_module_after_then_points_to_lift(other: object) -> None:
    with pytest.raises(TypeError, match=r">> composes cdl morphisms.*cdl\.lift\("):
        cdl.Linear(2, 2, key=K) >> other  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"@ composes cdl morphisms.*cdl\.lift\("):
        cdl.Tanh() @ other  # type: ignore[operator]


def test_arrows_of_two_kinds_are_named_not_an_unsupported_operand() -> None:
    with pytest.raises(TypeError, match="joins arrows of one kind.*Linear and Lens"):
        cdl.Linear(2, 2, key=K) >> first()  # type: ignore[operator]


def test_batch_norm_joined_to_a_layer_without_state_shows_the_fix() -> None:
    with pytest.raises(cdl.CompositionError) as e:
        cdl.Linear(4, 16, key=K) >> cdl.BatchNorm(16)
    assert str(e.value).endswith(
        "BatchNorm(16) keeps state: it takes and returns (x, state) pairs. Carry "
        "the state past Linear(4→16) as `(Linear(4→16)) @ cdl.Identity()`, and "
        "build the model with `equinox.nn.make_with_state`."
    )
    with pytest.raises(cdl.CompositionError, match=r"past Relu\(\) as"):
        cdl.BatchNorm(16) >> cdl.Relu()
    model, _ = eqx.nn.make_with_state(
        lambda: (cdl.Linear(4, 16, key=K) @ cdl.Identity()) >> cdl.BatchNorm(16)
    )()
    with pytest.raises(cdl.CompositionError) as plain:
        cdl.Linear(4, 16, key=K) >> cdl.Linear(5, 2, key=K)
    assert "keeps state" not in str(plain.value)
    assert model.cod is not None


def test_a_layer_breaking_its_own_annotations_ends_its_message_once() -> None:
    from jaxtyping import Array, Float

    class Drop(cdl.Para[Float[Array, " n"], Float[Array, " n"]]):
        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            return x[:-1]

    with pytest.raises(cdl.SpaceError) as e:
        Drop()(jnp.ones(3))
    assert str(e.value).startswith("Drop() violates its own jaxtyping annotations")
    assert not str(e.value).endswith("..")


def test_a_model_given_labels_shaped_like_a_model_names_the_optax_trap() -> None:
    import optax

    from cdl.optics import from_optax, split_parameters

    model = cdl.Linear(4, 8, key=K) >> cdl.Relu() >> cdl.Linear(8, 2, key=K)
    params, _ = split_parameters(model)
    labels = eqx.tree_at(
        lambda t: t.factors[2].weight, jax.tree.map(lambda _: "slow", params), "fast"
    )
    tx = optax.multi_transform(
        {"slow": optax.sgd(0.1), "fast": optax.adam(0.1)}, labels
    )
    with pytest.raises(cdl.SpaceError, match="a Compose module is not an array") as e:
        from_optax(tx).init(params)
    assert "`lambda params: labels`" in str(e.value)
    good = optax.multi_transform(
        {"slow": optax.sgd(0.1), "fast": optax.adam(0.1)}, lambda _: labels
    )
    assert from_optax(good).init(params) is not None


def test_composites_built_by_hand_refuse_a_factor_of_another_kind() -> None:
    with pytest.raises(TypeError, match="Compose: factor 1 is a PjitFunction, not a"):
        cdl.Compose(cdl.Tanh(), jnp.tanh)
    with pytest.raises(TypeError, match="Tensor: factor 1 is an int, not a Para"):
        cdl.Tensor(cdl.Tanh(), 3)  # accepted before, failing only when called
    with pytest.raises(TypeError, match="Tensor: factor 0 is a Lens"):
        cdl.Tensor(first(), cdl.Tanh())


def test_a_residual_whose_branches_end_apart_names_both_ends() -> None:
    with pytest.raises(cdl.CompositionError) as e:
        cdl.nn.residual(cdl.Linear(4, 3, key=K))
    assert str(e.value).startswith(
        "residual(Linear(4→3)): on float[4] the branch Linear(4→3) ends in float[3] "
        "and the shortcut id in float[4], which cannot be added"
    )
    block = cdl.nn.residual(cdl.Linear(4, 3, key=K), cdl.Linear(4, 3, key=K))
    assert block(jnp.ones(4)).shape == (3,)
