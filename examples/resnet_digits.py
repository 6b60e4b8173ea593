"""A small ResNet with batch normalisation classifies scikit-learn's 8×8 digits.

`cdl.architectures.resnet` with two stages of one basic block (16 and 32 channels,
the second halving the image) is a morphism ``float[1, 8, 8] × State → float[10] ×
State``: batch norm's running statistics travel on the state wire. `cdl.fit` trains
it given the state (``model_state=``): each step maps the model over the batch with
the axis name batch norm averages over and keeps the state it returns. Testing
switches batch norm to its running statistics with `cdl.inference_mode`.

Run: ``python examples/resnet_digits.py``.
"""

import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import cdl
from cdl.architectures import resnet


def batched(model: Any) -> Any:
    """`model` on a batch of images, one state for the batch."""
    return jax.vmap(model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None))


def main(epochs: int = 8, batch_size: int = 64, seed: int = 0) -> float:
    """Train the ResNet; return its test accuracy."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.2, random_state=seed
    )
    model, state = eqx.nn.make_with_state(resnet)(
        (1, 1), (16, 32), 1, 10, key=jax.random.key(seed)
    )
    learner = cdl.Learner(model, cdl.SoftmaxCrossEntropy(), cdl.Adam(3e-3))
    start = time.perf_counter()
    result = cdl.fit(learner, model, jnp.asarray(x_train), jnp.asarray(y_train),
                     epochs=epochs, batch_size=batch_size, key=jax.random.key(seed),
                     model_state=state, progress=False)  # fmt: skip
    seconds = time.perf_counter() - start
    frozen = cdl.inference_mode(result.model)
    logits, _ = eqx.filter_jit(batched(frozen))(
        (jnp.asarray(x_test), result.state.model_state)
    )
    accuracy = float((np.asarray(logits).argmax(axis=1) == y_test).mean())
    print(f"test accuracy {accuracy:.4f} after {epochs} epochs in {seconds:.1f} s")
    return accuracy


if __name__ == "__main__":
    main()
