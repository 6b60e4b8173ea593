"""A sequence classifier whose RNN is the catamorphism of a GRU algebra.

Each 8×8 image of scikit-learn's digits is read as a list of 8 rows of 8 pixels.
The encoder is ``cata(ListAlgebra(h0, GRUCell(8, hidden)))``: one `jax.lax.scan`
over the rows, the cell's weights shared across every step and the initial state
`h0` learned too. A linear readout maps the final state to the 10 classes.

Run: ``python examples/rnn_fold.py``.
"""

from typing import Any, TypeAlias

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int
from sklearn.datasets import load_digits

import cdl

Model: TypeAlias = cdl.Para[Float[Array, "n 8"], Float[Array, "10"]]


def load(n_train: int) -> tuple[Array, Array, Array, Array]:
    """Digits as sequences ``[n, 8 rows, 8 pixels]`` scaled to [0, 1]; a split."""
    digits = load_digits()
    xs = (digits.images / 16.0).astype(np.float32)
    ys = digits.target.astype(np.int32)
    order = np.random.default_rng(0).permutation(len(xs))
    xs, ys = xs[order], ys[order]
    return (
        jnp.asarray(xs[:n_train]),
        jnp.asarray(ys[:n_train]),
        jnp.asarray(xs[n_train:]),
        jnp.asarray(ys[n_train:]),
    )


def build(hidden: int, key: Array) -> Model:
    """``cata`` of a GRU algebra, then a linear readout."""
    k1, k2 = jax.random.split(key)
    algebra = cdl.ListAlgebra(jnp.zeros(hidden), cdl.GRUCell(8, hidden, key=k1))
    return cdl.cata(algebra) >> cdl.Linear(hidden, 10, key=k2)


def accuracy(
    model: Model,
    xs: Float[Array, "b n 8"],
    ys: Int[Array, " b"],
) -> float:
    """Fraction of sequences classified correctly."""
    logits = jax.vmap(model)(xs)
    return float((logits.argmax(-1) == ys).mean())


def main(epochs: int = 30, hidden: int = 64, n_train: int = 1400) -> float:
    """Train on `n_train` digits and return the test accuracy."""
    x_train, y_train, x_test, y_test = load(n_train)
    model = build(hidden, jax.random.key(0))
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: Model, state: Any, xs: Array, ys: Array
    ) -> tuple[Model, Any, Array]:
        def loss(m: Model) -> Array:
            logits = jax.vmap(m)(xs)
            value: Array = optax.softmax_cross_entropy_with_integer_labels(logits, ys)
            return value.mean()

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimiser.update(grads, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), state, value

    batch = 100
    for epoch in range(epochs):
        perm = np.random.default_rng(epoch).permutation(len(x_train))
        for i in range(0, len(perm) - batch + 1, batch):
            idx = perm[i : i + batch]
            model, state, value = step(model, state, x_train[idx], y_train[idx])
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"epoch {epoch + 1}: loss {float(value):.3f}")
    test = accuracy(model, x_test, y_test)
    print(f"test accuracy: {test:.3f}")
    return test


if __name__ == "__main__":
    main()
