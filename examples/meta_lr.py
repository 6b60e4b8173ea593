"""Learning the learning rate by differentiating through training.

The inner learner is softmax regression on scikit-learn's digits with plain SGD.
Its learning rate is ``exp(h)``; each meta-step unrolls a few inner SGD steps (a
composite of learner steps), reads the loss on held-out data, and moves ``h`` along
the gradient of that loss, found by differentiating through the whole unrolled
composite. Starting from a learning rate far too small, the learned rate climbs to a
useful one; the curve of its value is saved as a PNG.

Run: ``python examples/meta_lr.py`` (writes ``meta_lr.png``).
"""

import pathlib

import jax
import jax.numpy as jnp
import matplotlib
from sklearn.datasets import load_digits

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cdl  # noqa: E402
from cdl.optics import (  # noqa: E402
    SGD,
    Adam,
    Learner,
    MetaLearner,
    SoftmaxCrossEntropy,
    TrainState,
    unroll,
)


def learning_rate(learner: Learner) -> float | jax.Array:
    """Where the hyperparameter sits in the learner: its SGD's learning rate."""
    optimiser = learner.optimiser
    assert isinstance(optimiser, SGD) and not callable(optimiser.learning_rate)
    return optimiser.learning_rate


def main(
    meta_steps: int = 150,
    inner_steps: int = 5,
    batch_size: int = 64,
    initial_lr: float = 1e-3,
    seed: int = 0,
    plot: str | None = "meta_lr.png",
) -> tuple[list[float], float, float]:
    """Meta-train the learning rate.

    Returns the learning rate after each meta-step, the final validation loss of
    the meta-learned run, and that of a run with the initial rate fixed.
    """
    digits = load_digits()
    xs = jnp.asarray(digits.data / 16.0, jnp.float32)
    ys = jnp.asarray(digits.target, jnp.int32)
    x_train, y_train, x_val, y_val = xs[:1400], ys[:1400], xs[1400:], ys[1400:]
    model = cdl.Linear(64, 10, key=jax.random.key(seed))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(jnp.asarray(initial_lr)))
    meta = MetaLearner(
        learner,
        learning_rate,
        Adam(0.05),
        via=jnp.exp,
    )
    hyper, meta_state, state = meta.init(model, jnp.log(jnp.asarray(initial_lr)))
    fixed = learner.init(model)

    def batches(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        index = jax.random.randint(key, (inner_steps, batch_size), 0, x_train.shape[0])
        return x_train[index], y_train[index]

    @jax.jit
    def meta_step(
        hyper: jax.Array,
        meta_state: object,
        state: TrainState,
        fixed: TrainState,
        key: jax.Array,
    ) -> tuple[jax.Array, object, TrainState, TrainState, jax.Array]:
        train = batches(key)
        hyper, meta_state, state, val_loss = meta.step(
            hyper, meta_state, state, train, (x_val, y_val)
        )
        fixed, _ = unroll(learner, fixed, *train)
        return hyper, meta_state, state, fixed, val_loss

    rates: list[float] = []
    key = jax.random.key(seed + 1)
    for i in range(meta_steps):
        hyper, meta_state, state, fixed, val_loss = meta_step(
            hyper, meta_state, state, fixed, jax.random.fold_in(key, i)
        )
        rates.append(float(jnp.exp(hyper)))
        if (i + 1) % max(meta_steps // 5, 1) == 0:
            print(
                f"meta-step {i + 1}: learning rate {rates[-1]:.4f}, "
                f"validation loss {float(val_loss):.4f}"
            )
    learned = float(meta.learner_at(hyper).evaluate(state, x_val, y_val))
    baseline = float(learner.evaluate(fixed, x_val, y_val))
    print(
        f"after {meta_steps * inner_steps} SGD steps: validation loss "
        f"{learned:.4f} with the learned rate, {baseline:.4f} with {initial_lr} fixed"
    )
    if plot is not None:
        figure, axes = plt.subplots(figsize=(6, 4))
        axes.plot(range(1, meta_steps + 1), rates)
        axes.set_yscale("log")
        axes.set_xlabel("meta-step")
        axes.set_ylabel("learning rate")
        axes.set_title("Learning rate learned through the unrolled SGD steps")
        figure.tight_layout()
        figure.savefig(pathlib.Path(plot), dpi=100)
        plt.close(figure)
    return rates, learned, baseline


if __name__ == "__main__":
    main()
