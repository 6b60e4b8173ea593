"""Equivariance as a new user tries it: deriving layers and the mistakes made."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
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
    keep_two = cdl.signal_action(cdl.Monoid.truncations(3, [2]), 3, 1)
    invariant = cdl.trivial_action(keep_two.monoid, (3,))
    readout = cdl.EquivariantLinear(keep_two, invariant, key=KEY)
    assert readout.size == 2
    assert cdl.equivariance_error(readout, keep_two, invariant, key=KEY) < 1e-6


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(
    monoid=_transformation_monoids(),
    activation=st.sampled_from([cdl.Sigmoid(), cdl.Tanh(), cdl.Relu(), cdl.Gelu()]),
)
def test_equivariant_mlp_is_equivariant_or_refuses_its_activation(
    monoid: cdl.Monoid, activation: cdl.Para[jax.Array, jax.Array]
) -> None:
    acts = [cdl.signal_action(monoid, monoid.size, c) for c in (1, 3, 1)]
    try:
        mlp = cdl.equivariant_mlp(acts, key=KEY, activation=activation)
    except ValueError as error:
        assert "must send 0 to 0" in str(error)
        writes_zeros = any(-1 in g for g in monoid.generators)
        assert writes_zeros and float(activation(jnp.zeros(()))) != 0.0
        return
    error = cdl.equivariance_error(mlp, acts[0], acts[-1], key=KEY, samples=2)
    assert error < 1e-4  # relative, in f32: small outputs of a zero-writing monoid


def test_equivariant_mlp_names_hidden_actions_an_activation_does_not_commute_with() -> (
    None
):
    turn = np.array([[0.0, -1.0], [1.0, 0.0]])
    plane = cdl.MatrixAction(cdl.Monoid.cyclic(4), [turn])
    with pytest.raises(ValueError, match=r"Relu\(\) applied entry by entry need not"):
        cdl.equivariant_mlp([plane, plane, plane], key=KEY)


def test_equivariant_mlp_refuses_an_activation_that_moves_zero_under_shifts() -> None:
    shifts = [cdl.signal_action(cdl.Monoid.shifts(4), 4, c) for c in (1, 2, 1)]
    with pytest.raises(ValueError, match=r"Sigmoid\(\) does not commute with Shift4"):
        cdl.equivariant_mlp(shifts, key=KEY, activation=cdl.Sigmoid())


@pytest.mark.parametrize("length", [4, -1, 1.5])
def test_a_truncation_longer_than_the_signal_is_named(length: object) -> None:
    with pytest.raises(ValueError, match=r"truncations\(3, ...\): .* in 0..3"):
        cdl.Monoid.truncations(3, [length])  # type: ignore[list-item]


@pytest.mark.parametrize("keep", [(5,), (0, -1), (0.5,)])
def test_a_projection_keeping_a_coordinate_that_does_not_exist_is_named(
    keep: tuple[object, ...],
) -> None:
    with pytest.raises(ValueError, match=r"projections\(3, ...\): .* in 0..2"):
        cdl.Monoid.projections(3, [keep])  # type: ignore[list-item]


class _SignFlip(cdl.AbstractAction):
    """Z2 acting on R^3 by sign, written as a user would: branching on the element."""

    monoid: cdl.Monoid = eqx.field(static=True)

    def __init__(self) -> None:
        self.monoid = cdl.Monoid.reflection(2)

    def act(self, g: object, x: jax.Array) -> jax.Array:
        return -x if int(np.asarray(g)[0]) == 1 else x

    def random_input(self, key: jax.Array) -> jax.Array:
        return jax.random.normal(key, (3,))


def test_an_action_that_branches_on_its_element_in_python_can_be_measured() -> None:
    flip = _SignFlip()
    assert cdl.is_equivariant(jnp.tanh, flip, flip, key=KEY)
    assert not cdl.is_equivariant(jnp.cos, flip, flip, key=KEY)
    layer = cdl.EquivariantLinear(flip, flip, key=KEY)
    assert layer.size == 9  # -I commutes with every matrix
    assert cdl.equivariance_error(layer, flip, flip, key=KEY) < 1e-6


@pytest.mark.parametrize(
    ("matrices", "says"),
    [
        ([np.ones((2, 3))], r"matrix 0 \(shape \(2, 3\)\) is not a square matrix"),
        ([np.ones(2)], r"matrix 0 \(shape \(2,\)\) is not a square matrix"),
        ([np.array([[np.nan, 0.0], [0.0, 1.0]])], r"has entries that are not finite"),
    ],
)
def test_a_representation_by_matrices_that_are_not_square_or_finite_is_named(
    matrices: list[np.ndarray], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        cdl.MatrixAction(cdl.Monoid.cyclic(4), matrices)


def test_sums_and_tensor_products_of_actions_name_their_mistakes() -> None:
    sets, ring = (
        cdl.permutation_action(4, (2,)),
        cdl.signal_action(cdl.Monoid.cyclic(4), 4, 1),
    )
    with pytest.raises(ValueError, match=r"DirectSum needs at least one summand"):
        cdl.DirectSum()
    with pytest.raises(ValueError, match=r"DirectSum: .* they are of S4, C4\."):
        cdl.DirectSum(sets, ring)
    with pytest.raises(ValueError, match=r"tensor: .* they are of S4, C4\."):
        sets.tensor(ring)
    sign = cdl.MatrixAction(sets.monoid, [-np.eye(1), -np.eye(1)])  # a 4-cycle is odd
    with pytest.raises(TypeError, match=r"tensor: .* another IndexAction"):
        sets.tensor(sign)  # type: ignore[arg-type]


def test_a_function_moving_zero_commutes_with_a_monoid_that_writes_no_zeros() -> None:
    merge = cdl.signal_action(cdl.Monoid(3, ((0, 0, 1),)), 3, 1)  # not a group
    sigmoid = cdl.Pointwise(merge, jax.nn.sigmoid)
    assert cdl.equivariance_error(sigmoid, merge, merge, key=KEY) < 1e-6
    shifts = cdl.signal_action(cdl.Monoid.shifts(3), 3, 1)
    with pytest.raises(ValueError, match=r"the monoid writes zeros"):
        cdl.Pointwise(shifts, jax.nn.sigmoid)
