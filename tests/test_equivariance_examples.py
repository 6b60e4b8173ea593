"""The equivariance examples on small settings, and the nonlinear blocks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _examples import load

import cdl

KEY = jax.random.key(0)


def test_deepsets_learns_an_invariant_function() -> None:
    result = load("deepsets").main(size=5, hidden=8, steps=150, target="sum")
    assert result["invariance_error"] < 1e-5
    assert result["mse"] < 0.2 * result["baseline"]


def test_cyclic_cnn_is_a_circular_convolution() -> None:
    result = load("cyclic_cnn").main(length=12, channels=3, steps=60)
    assert result["difference"] < 1e-5 and result["dense_difference"] < 1e-5
    assert result["equivariance_error"] < 1e-5 and result["invariance_error"] < 1e-5
    assert result["parameters"] == 12 * 3
    assert result["dense_parameters"] == 12 * 3 * 12


def test_monoid_layer_counts_and_generalises() -> None:
    result = load("monoid").main(length=9, examples=3, steps=200)
    assert result["basis"] == 9 and result["parameters"] == 9
    assert result["dense_parameters"] == 9 * 9 + 9
    assert result["truncation_basis"] == 3 * 3 + 6 * 6
    assert result["equivariance_error"] < 1e-5
    assert result["derived_error"] < 0.1 * result["dense_error"]


def test_pool_is_invariant_for_every_reduction() -> None:
    act = cdl.permutation_action(5, (2,), order=2)
    invariant = cdl.trivial_action(act.monoid, (2,))
    for reduce in ("sum", "mean", "max"):
        pool = cdl.Pool(act, reduce)
        assert str(pool.cod) == "float[2]"
        assert cdl.is_equivariant(pool, act, invariant, key=KEY)
    x = jax.random.normal(KEY, (5, 5, 2))
    assert jnp.allclose(cdl.Pool(act, "mean")(x), x.mean(axis=(0, 1)))
    with pytest.raises(ValueError, match="'sum', 'mean' or 'max', .* 'median'"):
        cdl.Pool(act, "median")  # type: ignore[arg-type]
    rotation = cdl.MatrixAction(cdl.Monoid.cyclic(4), [np.array([[0, -1], [1, 0]])])
    with pytest.raises(TypeError, match="was given C4 on float\\[2\\] by matrices"):
        cdl.Pool(rotation, "sum")  # type: ignore[arg-type]


def test_pointwise_needs_zero_fixed_under_zero_fill() -> None:
    shifts = cdl.signal_action(cdl.Monoid.shifts(5), 5)
    relu = cdl.Pointwise(shifts, jax.nn.relu)
    assert cdl.is_equivariant(relu, shifts, shifts, key=KEY)
    # A function moving zero breaks equivariance to zero-fill shifts, and is refused.
    assert not cdl.is_equivariant(jax.nn.sigmoid, shifts, shifts, key=KEY)
    with pytest.raises(ValueError, match="must send 0 to 0"):
        cdl.Pointwise(shifts, jax.nn.sigmoid)
    group = cdl.permutation_action(4)
    assert cdl.is_equivariant(
        cdl.Pointwise(group, jax.nn.sigmoid), group, group, key=KEY
    )


def test_equivariant_mlp_on_edge_features() -> None:
    n = 4
    acts = [
        cdl.permutation_action(n, (1,), order=2),
        cdl.permutation_action(n, (3,)),
        cdl.trivial_action(cdl.Monoid.symmetric(n), (2,)),
    ]
    model = cdl.equivariant_mlp(acts, key=KEY, activation=cdl.Tanh())
    with pytest.raises(ValueError, match="at least two actions .* given 1"):
        cdl.equivariant_mlp(acts[:1], key=KEY)
    assert cdl.is_equivariant(model, acts[0], acts[-1], key=KEY)
    a = jax.random.normal(KEY, (n, n, 1))
    perm = np.random.default_rng(0).permutation(n)
    assert jnp.allclose(model(a), model(a[perm][:, perm]), atol=1e-5)
