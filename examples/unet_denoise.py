"""A U-Net removes noise from scikit-learn's 8×8 digits.

`cdl.architectures.unet` (width 8, two halvings: 8×8 → 4×4 → 2×2 and back, each
level joined to its mirror by a skip connection) is trained by `fit` on the mean
squared error between its output for a noisy digit and the clean digit. The test
error is compared with the error of the noisy input itself.

Run: ``python examples/unet_denoise.py``.
"""

import time

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import cdl
from cdl.architectures import unet
from cdl.optics import Adam, Learner, MeanSquaredError, fit

NOISE = 0.3


def main(epochs: int = 8, seed: int = 0, progress: bool = True) -> tuple[float, float]:
    """Train the U-Net; return the test error of the noisy input and of the output."""
    digits = load_digits()
    clean = (digits.images / 16.0).astype(np.float32)[:, None]
    train, test = train_test_split(clean, test_size=0.2, random_state=seed)
    rng = np.random.default_rng(seed)
    noisy_train = train + NOISE * rng.standard_normal(train.shape).astype(np.float32)
    noisy_test = test + NOISE * rng.standard_normal(test.shape).astype(np.float32)
    model_key, data_key = jax.random.split(jax.random.key(seed))
    model = unet(1, 1, 8, 2, key=model_key)
    learner = Learner(model, MeanSquaredError(), Adam(2e-3))
    start = time.perf_counter()
    result = fit(
        learner, model, jnp.asarray(noisy_train), jnp.asarray(train),
        epochs=epochs, batch_size=32, key=data_key, progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    denoised = np.asarray(jax.jit(jax.vmap(result.model))(jnp.asarray(noisy_test)))
    before = float(((noisy_test - test) ** 2).mean())
    after = float(((denoised - test) ** 2).mean())
    size = sum(leaf.size for leaf in jax.tree.leaves(cdl.parameters(model)))
    print(f"{size} parameters; trained in {seconds:.1f} s")
    print(
        f"test mean squared error per pixel: noisy {before:.4f}, denoised {after:.4f}"
    )
    return before, after


if __name__ == "__main__":
    main()
