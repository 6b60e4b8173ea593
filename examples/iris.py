"""The numeric-optics Iris experiments, as cdl learners.

Three models, each trained as the numeric-optics experiments train them: plain
gradient descent (learning rate 0.01) on the squared error against one-hot labels,
one example at a time, 400 shuffled epochs on the raw features:

- ``linear``: a linear map ``float[4] → float[3]`` without bias;
- ``dense``: an affine map followed by a sigmoid;
- ``hidden``: two dense sigmoid layers with 20 hidden units.

The train accuracy is averaged over seeds. Run: ``python examples/iris.py``.
"""

import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_iris

import cdl
from cdl.optics import SGD, Learner, MeanSquaredError, accuracy, fit

HIDDEN: int = 20


def make_model(name: str, key: jax.Array) -> cdl.Para[Any, Any]:
    """One of the three numeric-optics models: ``linear``, ``dense`` or ``hidden``."""
    k1, k2 = jax.random.split(key)
    if name == "linear":
        return cdl.Linear(4, 3, use_bias=False, key=k1)
    if name == "dense":
        return cdl.Linear(4, 3, key=k1) >> cdl.Sigmoid()
    if name == "hidden":
        return (
            cdl.Linear(4, HIDDEN, key=k1)
            >> cdl.Sigmoid()
            >> cdl.Linear(HIDDEN, 3, key=k2)
            >> cdl.Sigmoid()
        )
    raise ValueError(f"unknown model {name!r}: use linear, dense or hidden.")


def train(
    name: str, seed: int, epochs: int, batch_size: int = 1
) -> tuple[float, float, float]:
    """Train one model from one seed: its train accuracy, wall and CPU seconds.

    All epochs run in one compiled call; the time covers the whole `fit` call
    (which waits for the results), compilation included when the model's shapes
    are new to the process.
    """
    iris = load_iris()
    xs = jnp.asarray(iris.data, jnp.float32)
    labels = jnp.asarray(iris.target, jnp.int32)
    targets = jax.nn.one_hot(labels, 3)
    model_key, data_key = jax.random.split(jax.random.key(seed))
    model = make_model(name, model_key)
    # numeric-optics steps by 0.01 times the error; our squared error's
    # derivative is twice the error, hence half the rate.
    learner = Learner(model, MeanSquaredError(), SGD(0.005))
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fit(
        learner,
        model,
        xs,
        targets,
        epochs=epochs,
        batch_size=batch_size,
        key=data_key,
        progress=False,
        epochs_per_call=epochs,
        unroll=2,
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return float(accuracy(result.model, xs, labels)), seconds, cpu


def main(
    epochs: int = 400,
    seeds: int = 5,
    models: tuple[str, ...] = ("linear", "dense", "hidden"),
) -> dict[str, tuple[float, float]]:
    """Train each model from each seed: name → (mean accuracy, median seconds)."""
    results: dict[str, tuple[float, float]] = {}
    for name in models:
        runs = [train(name, seed, epochs) for seed in range(seeds)]
        accuracy_mean = float(np.mean([run[0] for run in runs]))
        seconds = float(np.median([run[1] for run in runs]))
        results[name] = (accuracy_mean, seconds)
        print(
            f"{name:>6}: mean train accuracy {accuracy_mean:.3f} over {seeds} seeds, "
            f"{seconds:.3f} s per run ({epochs} epochs, batch size 1)"
        )
    return results


if __name__ == "__main__":
    main()
