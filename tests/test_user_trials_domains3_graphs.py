"""Graph trials: attention weights over masked edges, and graph layers on edge cases."""

import jax
import jax.numpy as jnp
import numpy as np

import cdl


def test_segment_softmax_of_a_fully_masked_segment_is_zero_with_a_finite_gradient() -> (
    None
):
    # Masking edges with -inf logits is the usual way to drop them; a node all of
    # whose incoming edges were masked got 0/0 = NaN weights and NaN gradients.
    logits = jnp.array([0.0, -jnp.inf, -jnp.inf, 1.0, -jnp.inf, 2.0])
    ids = jnp.array([0, 1, 1, 2, 2, 2])
    weights = cdl.graphs.segment_softmax(logits, ids, 4)
    expected = np.array([1.0, 0.0, 0.0, 1 / (1 + np.e), 0.0, np.e / (1 + np.e)])
    np.testing.assert_allclose(np.asarray(weights), expected, rtol=1e-6)
    grad = jax.grad(lambda z: cdl.graphs.segment_softmax(z, ids, 4) @ jnp.arange(6.0))
    assert bool(jnp.all(jnp.isfinite(grad(logits))))
