"""Equivariance as a new user tries it: deriving layers and the mistakes made."""

import jax
import pytest

import cdl

KEY = jax.random.key(0)


def test_a_layer_between_things_that_are_not_actions_is_named() -> None:
    sets = cdl.permutation_action(5, (2,))
    with pytest.raises(TypeError, match=r"EquivariantLinear needs actions .* tuple"):
        cdl.EquivariantLinear((5, 2), sets, key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"equivariance_error needs actions"):
        cdl.equivariance_error(lambda x: x, sets, "S5", key=KEY)  # type: ignore[arg-type]


def test_permutation_action_names_features_given_as_one_number() -> None:
    with pytest.raises(TypeError, match=r"a tuple such as \(3,\), not 3"):
        cdl.permutation_action(5, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("channels", [0, -2])
def test_an_action_on_no_channels_is_refused(channels: int) -> None:
    with pytest.raises(ValueError, match=r"tuple of positive sizes"):
        cdl.signal_action(cdl.Monoid.cyclic(4), 4, channels)


def test_an_index_action_of_something_not_a_monoid_is_named() -> None:
    with pytest.raises(TypeError, match=r"IndexAction needs a cdl.Monoid"):
        cdl.IndexAction(4, (4,), ((0,),))  # type: ignore[arg-type]
