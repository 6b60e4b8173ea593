"""A small ResNet with batch normalisation classifies scikit-learn's 8×8 digits.

`cdl.architectures.resnet` with two stages of one basic block (16 and 32 channels,
the second halving the image) is a morphism ``float[1, 8, 8] × State → float[10] ×
State``: batch norm's running statistics travel on the state wire. Training maps it
over each batch with the axis name batch norm averages over, and updates the
parameters with optax and the state with what the model returns; testing switches
batch norm to its running statistics with `equinox.nn.inference_mode`.

Run: ``python examples/resnet_digits.py``.
"""

import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from cdl.architectures import resnet

OPTIMISER = optax.adam(3e-3)


def batched(model: Any) -> Any:
    """`model` on a batch of images, one state for the batch."""
    return jax.vmap(model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None))


@eqx.filter_jit
def train_step(
    model: Any, state: eqx.nn.State, opt_state: Any, xs: jax.Array, ys: jax.Array
) -> tuple[Any, eqx.nn.State, Any, jax.Array]:
    """One Adam step on the mean cross-entropy of a batch."""

    def loss(m: Any) -> tuple[jax.Array, eqx.nn.State]:
        logits, new_state = batched(m)((xs, state))
        return optax.softmax_cross_entropy_with_integer_labels(logits, ys).mean(), (
            new_state
        )

    (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(model)
    updates, opt_state = OPTIMISER.update(grads, opt_state, model)
    return eqx.apply_updates(model, updates), state, opt_state, value


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
    opt_state = OPTIMISER.init(eqx.filter(model, eqx.is_inexact_array))
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            batch = order[i : i + batch_size]
            model, state, opt_state, _ = train_step(
                model, state, opt_state, jnp.asarray(x_train[batch]),
                jnp.asarray(y_train[batch]),
            )  # fmt: skip
    seconds = time.perf_counter() - start
    frozen = eqx.nn.inference_mode(model)
    logits, _ = eqx.filter_jit(batched(frozen))((jnp.asarray(x_test), state))
    accuracy = float((np.asarray(logits).argmax(axis=1) == y_test).mean())
    print(f"test accuracy {accuracy:.4f} after {epochs} epochs in {seconds:.1f} s")
    return accuracy


if __name__ == "__main__":
    main()
