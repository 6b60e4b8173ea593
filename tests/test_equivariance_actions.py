import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.equivariance._monoid import partitions

KEY = jax.random.key(0)

monoids = st.one_of(
    st.integers(1, 6).map(cdl.Monoid.cyclic),
    st.integers(1, 6).map(cdl.Monoid.symmetric),
    st.integers(2, 6).map(cdl.Monoid.dihedral),
    st.integers(1, 6).map(cdl.Monoid.reflection),
    st.integers(1, 6).map(cdl.Monoid.shifts),
    st.integers(2, 6).map(cdl.Monoid.truncations),
    st.integers(1, 4).map(cdl.Monoid.image_dihedral),
    st.tuples(st.integers(1, 3), st.integers(1, 3)).map(
        lambda hw: cdl.Monoid.translations(*hw)
    ),
)


@st.composite
def actions(draw: st.DrawFn) -> cdl.IndexAction:
    monoid = draw(monoids)
    order = draw(st.integers(0, 2))
    features = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = (monoid.size,) * order + features
    return cdl.IndexAction(monoid, shape, tuple((a,) for a in range(order)))


@settings(max_examples=15, deadline=None)
@given(actions(), st.integers(0, 2**16))
def test_index_actions_satisfy_the_algebra_laws(
    act: cdl.IndexAction, seed: int
) -> None:
    cdl.check_action(act, key=jax.random.key(seed), samples=2)


@settings(max_examples=20, deadline=None)
@given(monoids, st.integers(0, 2**16))
def test_monoid_product_is_associative_and_unital(
    monoid: cdl.Monoid, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    g, h, k = (monoid.sample(rng) for _ in range(3))
    assoc_l = monoid.multiply(monoid.multiply(g, h), k)
    assoc_r = monoid.multiply(g, monoid.multiply(h, k))
    assert np.array_equal(assoc_l, assoc_r)
    assert np.array_equal(monoid.multiply(monoid.identity(), g), g)
    assert np.array_equal(monoid.multiply(g, monoid.identity()), g)


def test_known_orders() -> None:
    assert cdl.Monoid.symmetric(5).order == 120
    assert cdl.Monoid.dihedral(7).order == 14
    assert cdl.Monoid.image_dihedral(4).order == 8
    assert cdl.Monoid.translations(3, 5).order == 15
    assert cdl.Monoid.shifts(6).order == 7  # the shifts by 0..6, the last is zero
    assert cdl.Monoid.truncations(5).order == 5
    assert not cdl.Monoid.shifts(3).is_group
    assert cdl.Monoid.dihedral(4).is_group
    assert len(partitions([0, 1, 2, 3, 4])) == 52


def test_inverse_only_in_groups() -> None:
    s = cdl.Monoid.symmetric(4)
    g = s.sample(np.random.default_rng(0))
    assert np.array_equal(s.multiply(g, s.inverse(g)), s.identity())
    with pytest.raises(ValueError, match="not a group"):
        cdl.Monoid.shifts(3).inverse(np.array([-1, 0, 1]))


def test_bad_generators_and_slots_are_rejected() -> None:
    with pytest.raises(ValueError, match="generator 0 of M must be 3 indices"):
        cdl.Monoid(3, ((0, 1, 5),))
    for size in (0, -2, 2.5):
        with pytest.raises(ValueError, match=f"whole number of points, .* {size}"):
            cdl.Monoid.symmetric(size)  # type: ignore[arg-type]
    assert cdl.Monoid(np.int64(3), ((1, 2, 0),)).order == 3  # type: ignore[arg-type]
    for bad in ((0.5, 1, 2), (True, 1, 2), "120", 7):
        with pytest.raises(ValueError, match="generator 0 of M must be 3 indices"):
            cdl.Monoid(3, (bad,))  # type: ignore[arg-type]
    given = cdl.Monoid(3, [np.array([1, 2, 0])])  # type: ignore[arg-type]
    assert given == cdl.Monoid(3, ((1, 2, 0),)) and hash(given)
    with pytest.raises(ValueError, match="the monoid acts on 4"):
        cdl.IndexAction(cdl.Monoid.cyclic(4), (3, 2), ((0,),))
    with pytest.raises(ValueError, match="must be consecutive"):
        cdl.IndexAction(cdl.Monoid.cyclic(4), (4, 2, 4), ((0, 2),))


def test_a_broken_action_is_caught() -> None:
    class Broken(cdl.AbstractAction):
        monoid: cdl.Monoid

        def act(self, g: np.ndarray, x: jax.Array) -> jax.Array:
            return x[g] + 1.0  # the unit does not act as the identity

        def random_input(self, key: jax.Array) -> jax.Array:
            return jax.random.normal(key, (3,))

    with pytest.raises(ValueError, match="the unit law fails"):
        cdl.check_action(Broken(cdl.Monoid.cyclic(3)), key=KEY)


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 7), st.integers(1, 4), st.integers(0, 2**16))
def test_permutation_action_permutes_rows(n: int, d: int, seed: int) -> None:
    act = cdl.permutation_action(n, (d,))
    perm = np.random.default_rng(seed).permutation(n)
    x = jax.random.normal(jax.random.key(seed), (n, d))
    assert jnp.array_equal(act.act(perm, x), x[perm])
    edges = cdl.permutation_action(n, order=2)
    a = jax.random.normal(jax.random.key(seed + 1), (n, n))
    assert jnp.array_equal(edges.act(perm, a), a[perm][:, perm])


def test_permutation_elements_may_be_traced() -> None:
    act = cdl.permutation_action(4, (2,))
    x = jnp.arange(8.0).reshape(4, 2)
    perm = jnp.array([3, 1, 0, 2])
    assert jnp.array_equal(jax.jit(act.act)(perm, x), x[perm])


@settings(max_examples=6, deadline=None)
@given(st.integers(2, 6), st.integers(1, 3), st.integers(0, 2**16))
def test_equivariant_maps_have_small_error(n: int, d: int, seed: int) -> None:
    key = jax.random.key(seed)
    act = cdl.permutation_action(n, (d,))
    w1, w2 = jax.random.normal(key, (2, d, d))

    def deepsets(x: jax.Array) -> jax.Array:
        return x @ w1 + jnp.sum(x, axis=0, keepdims=True) @ w2

    assert float(cdl.equivariance_error(deepsets, act, act, key=key)) < 1e-5
    invariant = cdl.trivial_action(act.monoid, (d,))
    assert cdl.is_equivariant(lambda x: jnp.max(x, axis=0), act, invariant, key=key)


@settings(max_examples=6, deadline=None)
@given(st.integers(3, 6), st.integers(0, 2**16))
def test_non_equivariant_maps_have_large_error(n: int, seed: int) -> None:
    key = jax.random.key(seed)
    act = cdl.permutation_action(n, (2,))
    w = jax.random.normal(key, (n * 2, n * 2))

    def dense(x: jax.Array) -> jax.Array:
        return (w @ x.ravel()).reshape(n, 2)

    assert float(cdl.equivariance_error(dense, act, act, key=key)) > 0.05
    assert not cdl.is_equivariant(dense, act, act, key=key)


def test_graph_message_passing_is_equivariant_on_a_direct_sum() -> None:
    n, d = 5, 3
    graph = cdl.DirectSum(
        cdl.permutation_action(n, (d,)), cdl.permutation_action(n, order=2)
    )
    nodes = cdl.permutation_action(n, (d,))
    assert cdl.is_equivariant(lambda xa: xa[1] @ xa[0], graph, nodes, key=KEY)
    assert not cdl.is_equivariant(
        lambda xa: xa[1].T[::-1] @ xa[0], graph, nodes, key=KEY
    )


def test_given_elements_and_inputs() -> None:
    act = cdl.signal_action(cdl.Monoid.cyclic(8), 8)
    shift2 = np.roll(np.arange(8), -2)

    def odd_even(x: jax.Array) -> jax.Array:
        return x * (jnp.arange(8) % 2)

    # Equivariant to shifts by two, not to shifts by one.
    assert (
        float(cdl.equivariance_error(odd_even, act, act, key=KEY, elements=[shift2]))
        == 0.0
    )
    assert not cdl.is_equivariant(odd_even, act, act, key=KEY)
    data = jnp.ones((3, 8))
    assert (
        float(cdl.equivariance_error(jnp.flip, act, act, key=KEY, inputs=data)) == 0.0
    )
    with pytest.raises(ValueError, match=r"shapes \(b, 8\) .* have shapes \(8,\)"):
        cdl.equivariance_error(jnp.flip, act, act, key=KEY, inputs=data[0])
    with pytest.raises(ValueError, match="samples must be a positive int"):
        cdl.equivariance_error(jnp.flip, act, act, key=KEY, samples=0)
    for bad in ([0, 1, 2], [0, 1, 2, 3, 4, 5, 6, 9], [0.0] * 8):
        with pytest.raises(
            ValueError, match=r"element 0 must be 8 indices in \[-1, 8\) .* C8"
        ):
            cdl.equivariance_error(jnp.flip, act, act, key=KEY, elements=[bad])


def test_cdl_morphisms_are_checked_directly() -> None:
    act = cdl.signal_action(cdl.Monoid.cyclic(6), 6, channels=2)
    assert cdl.is_equivariant(cdl.Gelu(), act, act, key=KEY)
    conv = cdl.Conv1d(2, 2, 3, padding=1, key=KEY)
    # Zero padding breaks equivariance to cyclic shifts at the border.
    assert not cdl.is_equivariant(conv, act, act, key=KEY)


def test_monoid_actions_and_causal_maps() -> None:
    n = 6
    act = cdl.signal_action(cdl.Monoid.shifts(n), n)
    coeffs = jax.random.normal(KEY, (n,))
    toeplitz = sum(c * jnp.eye(n, k=-i) for i, c in enumerate(coeffs))
    assert cdl.is_equivariant(lambda x: toeplitz @ x, act, act, key=KEY)
    assert not cdl.is_equivariant(lambda x: toeplitz.T @ x, act, act, key=KEY)


def test_actions_of_different_monoids_are_refused() -> None:
    a = cdl.permutation_action(3)
    b = cdl.signal_action(cdl.Monoid.cyclic(3), 3)
    with pytest.raises(ValueError, match="must be of one monoid"):
        cdl.equivariance_error(jnp.sin, a, b, key=KEY)


def test_a_map_whose_outputs_the_output_action_cannot_act_on_is_named() -> None:
    act_in = cdl.signal_action(cdl.Monoid.cyclic(8), 8, channels=2)
    act_out = cdl.signal_action(cdl.Monoid.cyclic(8), 8, channels=3)
    with pytest.raises(
        ValueError,
        match=r"equivariance_error: total returns f32\[8\] on a point of C8 on "
        r"float\[2,8\] .*, but the output action C8 on float\[3,8\] .* acts on "
        r"f32\[3,8\]",
    ):

        def total(x: jax.Array) -> jax.Array:
            return x.sum(0)

        cdl.equivariance_error(total, act_in, act_out, key=KEY)


def test_assert_equivariant_reports_the_error() -> None:
    act = cdl.permutation_action(4)
    with pytest.raises(
        AssertionError, match="cumsum is not equivariant: relative error"
    ):
        cdl.assert_equivariant(jnp.cumsum, act, act, key=KEY, name="cumsum")


def test_tensor_product_of_actions() -> None:
    v = cdl.permutation_action(4, (2,))
    w = cdl.permutation_action(4)
    vw = v.tensor(w)
    assert vw.shape == (4, 2, 4)
    perm = np.array([2, 3, 1, 0])
    x = jax.random.normal(KEY, (4, 2, 4))
    assert jnp.array_equal(vw.act(perm, x), x[perm][:, :, perm])
    with pytest.raises(ValueError, match="must be of one monoid"):
        v.tensor(cdl.signal_action(cdl.Monoid.cyclic(4), 4))
