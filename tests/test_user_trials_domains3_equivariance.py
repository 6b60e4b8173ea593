"""Equivariance checks refuse to check nothing, and say how to give one element."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

ACT = cdl.permutation_action(4, (2,))
KEY = jax.random.key(0)


def _cumsum(x: jax.Array) -> jax.Array:
    return jnp.cumsum(x, axis=0)  # not equivariant under S4


def test_empty_elements_are_refused_instead_of_passing_any_map() -> None:
    # elements=[] measured nothing and returned 0.0: is_equivariant said True.
    with pytest.raises(ValueError, match="elements is empty, so nothing would be"):
        cdl.equivariance_error(_cumsum, ACT, ACT, key=KEY, elements=[])
    with pytest.raises(ValueError, match="elements is empty"):
        cdl.is_equivariant(_cumsum, ACT, ACT, key=KEY, elements=[])


def test_an_empty_batch_of_inputs_is_named() -> None:
    # It raised IndexError from inside the output check.
    with pytest.raises(ValueError, match=r"the batch is empty \(its leading axis is 0"):
        cdl.equivariance_error(_cumsum, ACT, ACT, key=KEY, inputs=jnp.ones((0, 4, 2)))


@pytest.mark.parametrize(
    "one", [np.array([1, 0, 2, 3]), (1, 0, 2, 3), jnp.array([1, 0, 2, 3])]
)
def test_one_element_given_for_elements_says_to_wrap_it(one: object) -> None:
    # It said "element 0 must be 4 indices ... but is 1".
    with pytest.raises(ValueError, match=r"one element, \[1, 0, 2, 3\]; wrap it"):
        cdl.equivariance_error(_cumsum, ACT, ACT, key=KEY, elements=one)  # type: ignore[arg-type]
    swap = [np.array([1, 0, 2, 3])]
    assert (
        float(cdl.equivariance_error(_cumsum, ACT, ACT, key=KEY, elements=swap)) > 0.1
    )


class _Abs(cdl.AbstractAction):
    """An idempotent action x ↦ |x| of the two-element monoid {e, a}: not linear."""

    monoid: cdl.Monoid

    def __init__(self) -> None:
        self.monoid = cdl.Monoid(2, ((0, 0),), name="Idem")

    def act(self, g: object, x: jax.Array) -> jax.Array:
        return jnp.where(jnp.asarray(g)[1] == 0, jnp.abs(x), x)

    def random_input(self, key: jax.Array) -> jax.Array:
        return jax.random.normal(key, (3,))


class _Flip(_Abs):
    """x ↦ −x: linear, so every linear map of R^3 commutes with it."""

    def act(self, g: object, x: jax.Array) -> jax.Array:
        return jnp.where(jnp.asarray(g)[1] == 0, -x, x)


def test_an_action_written_nonlinearly_is_refused_by_the_solver() -> None:
    # Its matrices were read off the images of basis vectors (|e_i| = e_i), so
    # EquivariantLinear built all 9 maps of R^3 and none of them commutes with |x|.
    action = _Abs()
    cdl.check_action(action, key=KEY)  # it is an action, only not a linear one
    with pytest.raises(ValueError, match=r"Idem\) does not act linearly: the element"):
        cdl.EquivariantLinear(action, action, key=KEY)
    flip = _Flip()
    layer = cdl.EquivariantLinear(flip, flip, key=KEY)
    assert layer.size == 9
    assert float(cdl.equivariance_error(layer, flip, flip, key=KEY)) < 1e-6


def test_a_slot_axis_past_the_shape_is_refused_not_wrapped_onto_another() -> None:
    # Axis 2 of a 2-axis shape was read as 2 % 2 = 0: the action moved the rows.
    with pytest.raises(ValueError, match=r"slot axes \(2,\) of shape \(4, 2\) must"):
        cdl.IndexAction(cdl.Monoid.cyclic(4), (4, 2), ((2,),))
    last = cdl.IndexAction(cdl.Monoid.cyclic(4), (2, 4), ((-1,),))
    assert last.slots == ((1,),)  # a negative axis still counts from the end


@pytest.mark.parametrize("order", [-1, 1.5, True])
def test_permutation_action_names_an_order_that_is_not_a_natural_number(
    order: object,
) -> None:
    # -1 gave a trivial action without a word, 1.5 a TypeError from tuple * float.
    with pytest.raises(ValueError, match="order .* must be an int >= 0, but was"):
        cdl.permutation_action(4, (2,), order=order)  # type: ignore[arg-type]
    assert cdl.permutation_action(4, (2,), order=0).slots == ()


def test_builders_name_an_argument_of_the_wrong_kind() -> None:
    act = cdl.permutation_action(4, (2,))
    with pytest.raises(TypeError, match="check_action needs actions .* given int 3"):
        cdl.check_action(3, key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sequence of actions, .* given IndexAction"):
        cdl.equivariant_mlp(act, key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EquivariantLinear: key must be a PRNG key"):
        cdl.EquivariantLinear(act, act, key=0)  # type: ignore[arg-type]
