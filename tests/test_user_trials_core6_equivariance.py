"""The tensor product of matrix actions, `MatrixAction.tensor`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

TURN = cdl.MatrixAction(cdl.Monoid.cyclic(4), [[[0.0, -1.0], [1.0, 0.0]]])


def test_tensor_of_matrix_actions_acts_on_both_sides_and_counts_its_maps():
    vv = TURN.tensor(TURN)
    assert vv.dim == 4 and vv.monoid == TURN.monoid
    x = np.random.default_rng(0).normal(size=(2, 2)).astype(np.float32)
    for g in vv.monoid.elements():
        r = TURN.matrix(g)
        np.testing.assert_allclose(
            vv.act(g, jnp.asarray(x.ravel())), (r @ x @ r.T).ravel(), atol=1e-6
        )
    cdl.check_action(vv, key=jax.random.key(0))
    # The plane of quarter turns is the real form of the characters i and -i:
    # V ⊗ V holds the trivial character twice and -1 twice, so End(V ⊗ V) has
    # dimension 2² + 2², there are two invariants, and no map to V commutes.
    assert cdl.invariant_basis(vv).size == 2
    assert cdl.equivariant_basis(vv, vv).size == 8
    assert cdl.equivariant_basis(vv, TURN).size == 0
    layer = cdl.EquivariantLinear(vv, vv, key=jax.random.key(1))
    assert cdl.equivariance_error(layer, vv, vv, key=jax.random.key(2)) < 1e-6


def test_tensor_refuses_other_actions_and_other_monoids():
    with pytest.raises(TypeError, match=r"C4 on float\[2\] by matrices.*MatrixAction"):
        TURN.tensor(cdl.permutation_action(4))
    with pytest.raises(ValueError, match="one monoid.*C4, C2"):
        TURN.tensor(cdl.MatrixAction(cdl.Monoid.cyclic(2), [[[-1.0]]]))
    with pytest.raises(ValueError, match=r"\[0, 0, 0, 0\] is not an element"):
        TURN.matrix(np.array([0, 0, 0, 0]))
