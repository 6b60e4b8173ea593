"""Multi-label binary cross-entropy: summed over an example's labels (documented)."""

import jax
import jax.numpy as jnp
import optax

from cdl.optics import BinaryCrossEntropy


def test_multi_label_bce_sums_over_the_labels_of_an_example() -> None:
    logits = jax.random.normal(jax.random.key(0), (6, 5))
    labels = (jax.random.uniform(jax.random.key(1), (6, 5)) > 0.5).astype(jnp.float32)
    mean = optax.sigmoid_binary_cross_entropy(logits, labels).mean()
    assert jnp.allclose(BinaryCrossEntropy().get(labels, logits), 5 * mean, rtol=1e-6)
