from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.equivariance._basis import _null_space_basis

KEY = jax.random.key(0)


def _bell(k: int) -> int:
    return [1, 1, 2, 5, 15, 52, 203][k]


@pytest.mark.parametrize(
    ("act_in", "act_out", "expected"),
    [
        # C_n on R^n: circulant matrices.
        (cdl.signal_action(cdl.Monoid.cyclic(7), 7), None, 7),
        # S_n on R^n: λI + γ11ᵀ.
        (cdl.permutation_action(6), None, 2),
        # S_n on R^{n×n} → R^{n×n}: Bell(4) = 15.
        (cdl.permutation_action(5, order=2), None, 15),
        (cdl.permutation_action(5), cdl.permutation_action(5, order=2), 5),
        (cdl.permutation_action(5, order=2), cdl.permutation_action(5), 5),
        (cdl.permutation_action(4), cdl.trivial_action(cdl.Monoid.symmetric(4)), 1),
        # Fewer points than index positions: only partitions into at most n blocks.
        (cdl.permutation_action(3, order=2), None, 14),
        # Translations of a torus: 2-D circular convolutions.
        (cdl.image_action(cdl.Monoid.translations(3, 4), 3, 4, 1), None, 12),
        # Shifts with zero fill: lower-triangular Toeplitz (causal convolutions).
        (cdl.signal_action(cdl.Monoid.shifts(6), 6), None, 6),
        # All truncations: diagonal maps; one truncation: two diagonal blocks.
        (cdl.signal_action(cdl.Monoid.truncations(6), 6), None, 6),
        (cdl.signal_action(cdl.Monoid.truncations(6, [2]), 6), None, 2 * 2 + 4 * 4),
        # An idempotent projection keeping the even coordinates.
        (cdl.signal_action(cdl.Monoid.projections(5, [[0, 2, 4]]), 5), None, 9 + 4),
    ],
)
def test_parameter_counts_match_theory(
    act_in: cdl.IndexAction, act_out: cdl.IndexAction | None, expected: int
) -> None:
    out = act_in if act_out is None else act_out
    assert cdl.equivariant_basis(act_in, out).size == expected


def test_symmetric_counts_are_bell_numbers() -> None:
    for k in range(3):
        for m in range(3):
            if k + m == 0:
                continue
            a = cdl.permutation_action(5, order=k)
            b = cdl.permutation_action(5, order=m)
            assert cdl.equivariant_basis(a, b).size == _bell(k + m)
    cubes = cdl.permutation_action(6, order=3)
    assert cdl.equivariant_basis(cubes, cubes).size == 203  # Bell(6)
    # With 5 points the one partition of 6 positions into 6 blocks has no orbit.
    small = cdl.permutation_action(5, order=3)
    assert cdl.equivariant_basis(small, small).size == 202


def test_s_n_on_r_n_gives_identity_and_all_ones() -> None:
    n = 4
    basis = cdl.equivariant_basis(cdl.permutation_action(n), cdl.permutation_action(n))
    mats = basis.matrices()
    assert np.array_equal(mats[0] + mats[1], np.ones((n, n)))
    assert np.array_equal(mats[0], np.eye(n))


def test_cyclic_basis_is_circulant() -> None:
    n = 5
    act = cdl.signal_action(cdl.Monoid.cyclic(n), n)
    for m in cdl.equivariant_basis(act, act).matrices():
        first = m[0]
        for i in range(n):
            assert np.array_equal(m[i], np.roll(first, i))


group_actions = st.one_of(
    st.tuples(st.integers(2, 5), st.integers(1, 2)).map(
        lambda nk: cdl.permutation_action(nk[0], order=nk[1])
    ),
    st.integers(2, 6).map(lambda n: cdl.signal_action(cdl.Monoid.dihedral(n), n)),
    st.integers(2, 3).map(
        lambda s: cdl.image_action(cdl.Monoid.image_dihedral(s), s, s, 1)
    ),
    st.integers(2, 6).map(lambda n: cdl.signal_action(cdl.Monoid.reflection(n), n)),
    st.integers(2, 6).map(
        lambda n: cdl.permutation_action(n, monoid=cdl.Monoid.cyclic(n))
    ),
)


@settings(max_examples=20, deadline=None)
@given(group_actions)
def test_orbit_basis_spans_the_null_space(act: cdl.IndexAction) -> None:
    gens = act.monoid.generators_array()
    p, _ = act.canonical_shape()
    mats = [act.slot_matrix(g) for g in gens]
    dense = _null_space_basis(mats, mats, p, p)
    orbits = cdl.equivariant_basis(act, act)
    assert orbits.orbits is not None
    assert orbits.size == dense.size
    for b in orbits.matrices():
        for r in mats:
            assert np.allclose(b @ r, r @ b)


monoid_actions = st.one_of(
    st.integers(2, 6).map(lambda n: cdl.signal_action(cdl.Monoid.shifts(n), n)),
    st.integers(2, 6).map(lambda n: cdl.signal_action(cdl.Monoid.truncations(n), n)),
    st.tuples(st.integers(3, 6), st.integers(1, 2)).map(
        lambda nk: cdl.signal_action(cdl.Monoid.truncations(nk[0], [nk[1]]), nk[0])
    ),
)


@settings(max_examples=15, deadline=None)
@given(monoid_actions)
def test_monoid_bases_satisfy_the_constraint(act: cdl.IndexAction) -> None:
    basis = cdl.equivariant_basis(act, act)
    assert basis.dense is not None
    mats = [act.slot_matrix(g) for g in act.monoid.generators_array()]
    flat = basis.matrices().reshape(basis.size, -1)
    assert np.linalg.matrix_rank(flat) == basis.size
    for b in basis.matrices():
        for r in mats:
            assert np.allclose(b @ r, r @ b, atol=1e-9)


LAYER_PAIRS = [
    (cdl.permutation_action(4, (2,)), cdl.permutation_action(4, (3,))),
    (
        cdl.permutation_action(4, (2,), order=2),
        cdl.permutation_action(4, (2,), order=2),
    ),
    (cdl.permutation_action(4, (2,)), cdl.permutation_action(4, (1,), order=2)),
    (cdl.permutation_action(4, (1,), order=2), cdl.permutation_action(4, (2,))),
    (
        cdl.permutation_action(4, (2,)),
        cdl.trivial_action(cdl.Monoid.symmetric(4), (3,)),
    ),
    (
        cdl.trivial_action(cdl.Monoid.symmetric(4), (3,)),
        cdl.permutation_action(4, (1,), order=2),
    ),
    (
        cdl.signal_action(cdl.Monoid.cyclic(6), 6, 2),
        cdl.signal_action(cdl.Monoid.cyclic(6), 6, 3),
    ),
    (
        cdl.image_action(cdl.Monoid.translations(3, 4), 3, 4, 2),
        cdl.image_action(cdl.Monoid.translations(3, 4), 3, 4, 1),
    ),
    (
        cdl.image_action(cdl.Monoid.image_dihedral(3), 3, 3, 1),
        cdl.image_action(cdl.Monoid.image_dihedral(3), 3, 3, 2),
    ),
    (
        cdl.signal_action(cdl.Monoid.shifts(5), 5, 2),
        cdl.signal_action(cdl.Monoid.shifts(5), 5, 2),
    ),
    (
        cdl.DirectSum(
            cdl.permutation_action(3, (2,)), cdl.permutation_action(3, order=2)
        ),
        cdl.permutation_action(3, (2,)),
    ),
]


@pytest.mark.parametrize("pair", LAYER_PAIRS, ids=lambda p: p[0].label)
def test_derived_layers_are_equivariant_and_agree_with_their_base(
    pair: tuple[cdl.AbstractAction, cdl.AbstractAction],
) -> None:
    act_in, act_out = pair
    key = jax.random.key(len(act_in.label))
    layer = cdl.EquivariantLinear(act_in, act_out, key=key)
    error = cdl.equivariance_error(layer, act_in, act_out, key=key, samples=4)
    assert float(error) < 1e-5
    xs = jax.vmap(act_in.random_input)(jax.random.split(key, 3))
    fast, dense = _batched(layer, xs), _batched(layer.base(), xs)
    assert jnp.allclose(fast, dense, atol=1e-5, rtol=1e-5)


@eqx.filter_jit
def _batched(f: cdl.Para[Any, Any], xs: Any) -> Any:
    return jax.vmap(f)(xs)


def test_structured_operations_are_chosen() -> None:
    s = cdl.permutation_action(5, (2,))
    c = cdl.signal_action(cdl.Monoid.cyclic(6), 6, 2)
    d = cdl.image_action(cdl.Monoid.image_dihedral(3), 3, 3, 1)
    assert type(cdl.EquivariantLinear(s, s, key=KEY).fast).__name__ == "PartitionMaps"
    assert type(cdl.EquivariantLinear(c, c, key=KEY).fast).__name__ == "CircularConv"
    z = cdl.signal_action(cdl.Monoid.shifts(5), 5, 2)
    assert type(cdl.EquivariantLinear(z, z, key=KEY).fast).__name__ == "CausalConv"
    assert cdl.EquivariantLinear(d, d, key=KEY).fast is None
    assert cdl.EquivariantLinear(s, s, key=KEY, structured=False).fast is None


def test_cyclic_layer_is_a_circular_convolution() -> None:
    n, c_in, c_out = 8, 2, 3
    act_in = cdl.signal_action(cdl.Monoid.cyclic(n), n, c_in)
    act_out = cdl.signal_action(cdl.Monoid.cyclic(n), n, c_out)
    layer = cdl.EquivariantLinear(act_in, act_out, key=KEY, use_bias=False)
    x = jax.random.normal(KEY, (c_in, n))
    kernel = layer.params.weight  # [n, c_out, c_in], orbit k is the offset k
    expected = sum(
        jnp.einsum("oi,in->on", kernel[k], jnp.roll(x, -k, axis=1)) for k in range(n)
    )
    assert jnp.allclose(layer(x), expected, atol=1e-5)


def test_permutation_layer_is_a_deepsets_layer() -> None:
    n, d = 6, 3
    act = cdl.permutation_action(n, (d,))
    layer = cdl.EquivariantLinear(act, act, key=KEY)
    x = jax.random.normal(KEY, (n, d))
    w = layer.params.weight  # [2, d, d]: diagonal orbit, off-diagonal orbit
    b = layer.params.bias
    assert b is not None and b.shape == (1, d)
    own, others = w[0], w[1]
    expected = x @ (own - others).T + jnp.sum(x, 0, keepdims=True) @ others.T + b
    assert jnp.allclose(layer(x), expected, atol=1e-5)


def test_parameters_are_the_coefficients_and_gradients_flow() -> None:
    act = cdl.permutation_action(4, (2,), order=2)
    layer = cdl.EquivariantLinear(act, act, key=KEY)
    assert isinstance(layer, cdl.Reparam)
    leaves = jax.tree.leaves(eqx.filter(layer, eqx.is_array))
    assert sum(leaf.size for leaf in leaves) == 15 * 2 * 2 + 2 * 2
    x = act.random_input(KEY)
    grads = jax.grad(lambda m: jnp.sum(m(x) ** 2))(layer)
    assert grads.params.weight.shape == (15, 2, 2)
    assert float(jnp.abs(grads.params.weight).sum()) > 0


def test_invariant_biases() -> None:
    assert cdl.invariant_basis(cdl.permutation_action(4)).size == 1
    assert cdl.invariant_basis(cdl.permutation_action(4, order=2)).size == 2
    # No nonzero vector is fixed by a shift with zero fill.
    act = cdl.signal_action(cdl.Monoid.shifts(4), 4)
    assert cdl.EquivariantLinear(act, act, key=KEY).params.bias is None


def test_layers_compose_with_the_core() -> None:
    act = cdl.permutation_action(5, (3,))
    hidden = cdl.permutation_action(5, (4,))
    pooled = cdl.trivial_action(act.monoid, (4,))
    k1, k2 = jax.random.split(KEY)
    model = (
        cdl.EquivariantLinear(act, hidden, key=k1)
        >> cdl.Relu()
        >> cdl.EquivariantLinear(hidden, pooled, key=k2)
    )
    # the spaces the actions act on, any floating-point dtype
    assert (repr(model.dom), repr(model.cod)) == ("float[5,3]", "float[4]")
    assert cdl.is_equivariant(model, act, pooled, key=KEY)
    with pytest.raises(cdl.CompositionError):
        cdl.EquivariantLinear(act, act, key=k1) >> cdl.EquivariantLinear(
            hidden, hidden, key=k2
        )


def test_different_monoids_are_refused() -> None:
    with pytest.raises(ValueError, match="must be of one monoid"):
        cdl.EquivariantLinear(
            cdl.permutation_action(3),
            cdl.signal_action(cdl.Monoid.cyclic(3), 3),
            key=KEY,
        )


def test_s6_basis_shape() -> None:
    act = cdl.permutation_action(6, order=2)
    basis = cdl.equivariant_basis(act, act)
    assert basis.matrices().reshape(basis.size, -1).T.shape == (1296, 15)


def test_wrong_inputs_raise_space_errors() -> None:
    act = cdl.permutation_action(4, (2,))
    layer = cdl.EquivariantLinear(act, act, key=KEY)
    with pytest.raises(
        cdl.SpaceError, match=r"EquivariantLinear\(S4: float\[4,2\].*given f32\[5,2\]"
    ):
        layer(jnp.zeros((5, 2)))


@pytest.mark.parametrize("structured", [True, False])
def test_layers_take_any_float_dtype_as_linear_does(structured: bool) -> None:
    cyclic = cdl.signal_action(cdl.Monoid.cyclic(4), 4, 1)
    shifts = cdl.signal_action(cdl.Monoid.shifts(4), 4, 1)
    sets = cdl.permutation_action(4, (1,))
    for act in (cyclic, shifts, sets):
        layer = cdl.EquivariantLinear(act, act, key=KEY, structured=structured)
        x = act.random_input(KEY).astype(jnp.bfloat16)
        out = layer(x)
        assert out.dtype == jnp.float32
        assert jnp.allclose(out, layer(x.astype(jnp.float32)), atol=1e-6)
        narrow = jax.tree.map(
            lambda a: a.astype(jnp.bfloat16) if eqx.is_inexact_array(a) else a, layer
        )
        assert narrow(x).dtype == jnp.bfloat16


def test_sums_and_products_of_actions_are_actions() -> None:
    v = cdl.permutation_action(3, (2,))
    cdl.check_action(cdl.DirectSum(v, v.tensor(v)), key=KEY, samples=2)
    cdl.check_action(v.tensor(cdl.permutation_action(3)), key=KEY, samples=2)


def test_coefficient_count_is_basis_size_times_feature_blocks() -> None:
    a = cdl.permutation_action(4, (3,), order=2)
    b = cdl.permutation_action(4, (5,))
    layer = cdl.EquivariantLinear(a, b, key=KEY)
    assert layer.params.weight.shape == (5, 5, 3)
    assert layer.params.bias is not None and layer.params.bias.shape == (1, 5)


TURN = np.array([[0.0, -1.0], [1.0, 0.0]])
FLIP = np.array([[1.0, 0.0], [0.0, -1.0]])


def test_matrix_representations() -> None:
    rotations = cdl.MatrixAction(cdl.Monoid.cyclic(4), [TURN])
    cdl.check_action(rotations, key=KEY, samples=2)
    # Maps of the plane commuting with the quarter turn: aI + bJ (complex numbers).
    assert cdl.equivariant_basis(rotations, rotations).size == 2
    # Adding the mirror leaves only the scalars.
    dihedral = cdl.MatrixAction(cdl.Monoid.dihedral(4), [TURN, FLIP])
    assert cdl.equivariant_basis(dihedral, dihedral).size == 1
    # The sign of S_4 (both generators are odd): every point and every pair of
    # points has a transposition fixing it, so no linear map from V or V ⊗ V to
    # the sign representation is equivariant.
    sign = cdl.MatrixAction(cdl.Monoid.symmetric(4), [[[-1.0]], [[-1.0]]])
    assert cdl.equivariant_basis(cdl.permutation_action(4), sign).size == 0
    pairs = cdl.permutation_action(4, order=2)
    assert cdl.equivariant_basis(pairs, sign).size == 0
    # The trivial representation by 1×1 matrices receives the sum: one map.
    one = cdl.MatrixAction(cdl.Monoid.symmetric(4), [[[1.0]], [[1.0]]])
    assert cdl.equivariant_basis(cdl.permutation_action(4), one).size == 1
    layer = cdl.EquivariantLinear(rotations, rotations, key=KEY)
    assert cdl.is_equivariant(layer, rotations, rotations, key=KEY)


def test_matrices_must_respect_the_relations() -> None:
    with pytest.raises(ValueError, match="do not define a representation of C3"):
        cdl.MatrixAction(cdl.Monoid.cyclic(3), [TURN])
    with pytest.raises(ValueError, match="one matrix per generator, not 1"):
        cdl.MatrixAction(cdl.Monoid.dihedral(4), [TURN])
