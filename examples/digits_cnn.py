"""A small convolutional network on scikit-learn's 8x8 digits, trained by `fit`.

The model is one Para morphism, ``float[64] → float[10]``: two convolutions (the
second with stride 2), a dense layer and a linear read-out. It is trained with Adam
on the softmax cross-entropy, with the test accuracy tracked after every epoch.

Run: ``python examples/digits_cnn.py``.
"""

import time
from typing import Any

import jax
import jax.numpy as jnp
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import cdl
from cdl.optics import Adam, Learner, SoftmaxCrossEntropy, accuracy, fit


def make_model(key: jax.Array) -> cdl.Para[Any, Any]:
    """The CNN: ``float[64] → float[1, 8, 8] → … → float[10]`` (logits)."""
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return (
        cdl.Reshape(1, 8, 8)
        >> cdl.Conv2d(1, 16, 3, padding=1, key=k1)
        >> cdl.Relu()
        >> cdl.Conv2d(16, 32, 3, stride=2, padding=1, key=k2)
        >> cdl.Relu()
        >> cdl.Flatten()
        >> cdl.Linear(32 * 4 * 4, 64, key=k3)
        >> cdl.Relu()
        >> cdl.Linear(64, 10, key=k4)
    )


def main(
    epochs: int = 25, batch_size: int = 32, seed: int = 0, progress: bool = True
) -> tuple[float, float]:
    """Train the CNN; return the final test accuracy and the seconds taken."""
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.2, random_state=seed
    )
    model_key, data_key = jax.random.split(jax.random.key(seed))
    model = make_model(model_key)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(2e-3))
    start = time.perf_counter()
    result = fit(
        learner,
        model,
        jnp.asarray(x_train, jnp.float32),
        jnp.asarray(y_train, jnp.int32),
        epochs=epochs,
        batch_size=batch_size,
        key=data_key,
        metrics={"accuracy": accuracy},
        validation=(
            jnp.asarray(x_test, jnp.float32),
            jnp.asarray(y_test, jnp.int32),
        ),
        progress=progress,
    )
    seconds = time.perf_counter() - start
    test_accuracy = result.history["val_accuracy"][-1]
    print(
        f"test accuracy {test_accuracy:.4f} after {epochs} epochs "
        f"in {seconds:.1f} s (compilation included)"
    )
    return test_accuracy, seconds


if __name__ == "__main__":
    main()
