"""A matrix action acts only by elements of its monoid, at the input's precision."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

_C, _S = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
_TURN = np.array([[_C, -_S], [_S, _C]])  # a third of a turn: irrational entries
ROT = cdl.MatrixAction(cdl.Monoid.cyclic(3), [_TURN])


def test_an_element_outside_the_monoid_is_refused_not_read_as_the_identity() -> None:
    # [0, 0, 0] is no rotation of C3: it was looked up, not found, and acted as
    # the identity matrix; a wrong-length element failed inside a broadcast.
    x = jnp.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 0, 0\] is not an element of C3"):
        ROT.act(np.array([0, 0, 0]), x)
    with pytest.raises(ValueError, match=r"\[0, 1\] is not an element of C3"):
        ROT.act(np.array([0, 1]), x)
    traced = jax.jit(ROT.act)(jnp.array([0, 0, 0]), x)
    assert bool(jnp.all(jnp.isnan(traced)))  # under jit: NaN, not x unchanged
    g = np.array([1, 2, 0])
    assert np.allclose(jax.jit(ROT.act)(jnp.asarray(g), x), _TURN @ np.asarray(x))


def test_the_matrix_keeps_float64_under_x64() -> None:
    # The matrices were rounded to float32 whatever the input: a float64 point
    # was turned with an error of 3e-8.
    with jax.enable_x64(True):
        x = jnp.array([1.0, 2.0], jnp.float64)
        y = ROT.act(np.array([1, 2, 0]), x)
        assert y.dtype == jnp.float64
        assert np.abs(np.asarray(y) - _TURN @ np.asarray(x)).max() < 1e-15


def test_layer_switches_take_only_bools() -> None:
    # use_bias="no" built a layer with a bias, structured="no" the fast path.
    act = cdl.permutation_action(3, (2,))
    key = jax.random.key(0)
    with pytest.raises(TypeError, match="use_bias must be True or False"):
        cdl.EquivariantLinear(act, act, key=key, use_bias="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="structured must be True or False"):
        cdl.EquivariantLinear(act, act, key=key, structured="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="use_bias must be True or False"):
        cdl.equivariant_mlp([act, act], key=key, use_bias=0)  # type: ignore[arg-type]
    assert cdl.EquivariantLinear(act, act, key=key, use_bias=False).params.bias is None


def test_a_zero_writing_action_keeps_the_dtype_of_what_it_acts_on() -> None:
    # Shifting ints with zero fill gave float32 (the fill 0.0 promoted them),
    # while a permutation of the same ints stayed int.
    shifts = cdl.signal_action(cdl.Monoid.shifts(4), 4, 1)
    g = np.array([-1, 0, 1, 2])
    y = shifts.act(g, jnp.arange(4).reshape(1, 4))
    assert y.dtype == jnp.int32 and y.tolist() == [[0, 0, 1, 2]]
    assert shifts.act(g, jnp.ones((1, 4), bool)).dtype == jnp.bool_
    assert shifts.act(g, jnp.ones((1, 4), jnp.bfloat16)).dtype == jnp.bfloat16


def test_the_test_helpers_take_the_elements_and_inputs_the_measure_takes() -> None:
    # is_equivariant had no inputs= and assert_equivariant neither elements=
    # nor inputs=, so neither could check a map on real data (TypeError).
    act = cdl.permutation_action(4, (2,))
    key = jax.random.key(0)
    data = jax.random.normal(key, (3, 4, 2))
    swap = [np.array([1, 0, 2, 3])]

    def cumsum(x: jax.Array) -> jax.Array:
        return jnp.cumsum(x, axis=0)

    assert cdl.is_equivariant(jnp.tanh, act, act, key=key, inputs=data)
    assert not cdl.is_equivariant(cumsum, act, act, key=key, inputs=data)
    cdl.assert_equivariant(jnp.tanh, act, act, key=key, elements=swap, inputs=data)
    with pytest.raises(AssertionError, match="is not equivariant"):
        cdl.assert_equivariant(cumsum, act, act, key=key, elements=swap, inputs=data)


def test_translations_of_the_transposed_grid_are_refused() -> None:
    # translations(3, 5) on a 5×3 image was taken (both have 15 pixels): a valid
    # action, but not the translations of that image, so the layers derived from
    # it were not translation-equivariant.
    with pytest.raises(
        ValueError, match=r"translates a 3×5 grid, but the image is 5×3"
    ):
        cdl.image_action(cdl.Monoid.translations(3, 5), 5, 3, 2)
    act = cdl.image_action(cdl.Monoid.translations(5, 3), 5, 3, 2)
    layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (2, 5, 3))
    shifted = layer(jnp.roll(x, (1, 2), axis=(1, 2)))
    assert jnp.allclose(shifted, jnp.roll(layer(x), (1, 2), axis=(1, 2)), atol=1e-5)


def test_pointwise_refuses_a_function_that_holds_weights() -> None:
    # A lifted eqx.nn.PReLU acts entry by entry, but Pointwise kept it as static
    # metadata: its slope was no parameter of the model and was never trained.
    import equinox as eqx
    from jaxtyping import Array, Float

    act = cdl.permutation_action(3, (2,))
    prelu = cdl.lift(eqx.nn.PReLU(0.25), dom=Float[Array, "*s"], cod=Float[Array, "*s"])
    with pytest.raises(TypeError, match=r"holds arrays: they would be fixed, never"):
        cdl.Pointwise(act, prelu)
    assert cdl.Pointwise(act, cdl.Relu())(-jnp.ones((3, 2))).tolist() == [[0.0] * 2] * 3
