"""Equivariance as a new user tries it: deriving layers and the mistakes made."""

import jax
import pytest
from hypothesis import given, settings, strategies as st

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


@st.composite
def _transformation_monoids(draw: st.DrawFn) -> cdl.Monoid:
    """A monoid of maps of a few points, given by one or two random generators."""
    size = draw(st.integers(2, 5))
    point = st.integers(-1, size - 1)
    generators = draw(
        st.lists(
            st.lists(point, min_size=size, max_size=size).map(tuple),
            min_size=1,
            max_size=2,
        )
    )
    return cdl.Monoid(size, tuple(generators))


@settings(max_examples=25, deadline=None)
@given(monoid=_transformation_monoids(), reduce=st.sampled_from(["sum", "mean", "max"]))
def test_pool_is_refused_exactly_where_it_would_not_be_invariant(
    monoid: cdl.Monoid, reduce: str
) -> None:
    act = cdl.signal_action(monoid, monoid.size, 2)
    if not monoid.is_group:
        with pytest.raises(ValueError, match=rf"Pool\({reduce}\) is not invariant"):
            cdl.Pool(act, reduce)  # type: ignore[arg-type]
        return
    pool = cdl.Pool(act, reduce)  # type: ignore[arg-type]
    invariant = cdl.trivial_action(monoid, (2,))
    assert cdl.equivariance_error(pool, act, invariant, key=KEY) < 1e-6


def test_the_invariants_of_a_monoid_that_drops_entries_are_solved_for() -> None:
    keep_two = cdl.signal_action(cdl.Monoid.truncations(4, [2]), 4, 1)
    invariant = cdl.trivial_action(keep_two.monoid, (3,))
    readout = cdl.EquivariantLinear(keep_two, invariant, key=KEY)
    assert readout.size == 2
    assert cdl.equivariance_error(readout, keep_two, invariant, key=KEY) < 1e-6
