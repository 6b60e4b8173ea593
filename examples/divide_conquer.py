"""A learned divide and conquer: the maximum of a sequence as a hylomorphism.

The coalgebra splits a segment ``(start, length)`` of the sequence in halves until
one element is left; the algebra is a pair of learned Tree-RNN cells, one for a
leaf (an element) and one for a node (two halves). `cdl.hylo` unfolds the call tree
level by level inside `jax.jit` and folds it back, never handing the tree out; the
cells' weights are shared by every node. Trained on sequences of at most 8 elements
(trees of depth 3), it is tested on sequences up to 128 long (depth 7): the depth,
not the length, is what a divide and conquer must generalise over. The script
trains both a gated cell (Tree-LSTM) and a plain one (Tree-RNN) and prints their
errors by length: both fit the training lengths, and only the gated one keeps its
error low at depths it never saw.

Run: ``python examples/divide_conquer.py``.
"""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

import cdl

TRAIN_LENGTH = 8


def halves(
    xs: Float[Array, " n"],
) -> cdl.Coalgebra[Int[Array, "2"]]:
    """Split a segment ``(start, length)`` of `xs` in two, down to single elements."""

    def step(
        segment: Int[Array, "2"],
    ) -> tuple[Int[Array, ""], dict[str, Array], Int[Array, "2 2"]]:
        start, length = segment[0], segment[1]
        tag = jnp.where(length <= 1, 0, 1)  # Leaf, Node
        half = length // 2
        children = jnp.stack(
            [jnp.stack([start, half]), jnp.stack([start + half, length - half])]
        )
        return tag, {"Leaf": xs[start][None]}, children

    return cdl.Coalgebra(cdl.TreeF, step)


def widths(length: int) -> tuple[int, ...]:
    """How many segments each level of the call tree holds at most."""
    depth = max(math.ceil(math.log2(length)), 0) + 1
    return tuple(min(2**d, length) for d in range(depth))


class Model(eqx.Module):
    """The algebra (leaf and node cells) and a readout of the root's state.

    With ``gated=True`` the cells are Tree-LSTM cells (the carrier is a pair
    ``(h, c)``), else Tree-RNN cells (``h = tanh(...)``).
    """

    algebra: cdl.Algebra[Any]
    readout: cdl.Linear
    gated: bool = eqx.field(static=True)

    def __init__(self, hidden: int, *, gated: bool, key: PRNGKeyArray) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        cell = cdl.TreeLSTMCell if gated else cdl.TreeRNNCell
        self.algebra = cdl.Algebra(
            cdl.TreeF,
            Leaf=cell(1, hidden, arity=0, key=k1),
            Node=cell(0, hidden, arity=2, key=k2),
        )
        self.readout = cdl.Linear(hidden, 1, key=k3)
        self.gated = gated

    def __call__(self, xs: Float[Array, " n"], length: Int[Array, ""]) -> Array:
        """The predicted maximum of the first `length` elements of `xs`."""
        n = xs.shape[0]
        fold = cdl.hylo(
            self.algebra, halves(xs), max_depth=len(widths(n)), max_width=widths(n)
        )
        state = fold(jnp.stack([jnp.int32(0), length]))
        return self.readout(state[0] if self.gated else state)[0]


def batch(
    key: PRNGKeyArray, size: int, capacity: int, lengths: tuple[int, int]
) -> tuple[Float[Array, "b n"], Int[Array, " b"], Float[Array, " b"]]:
    """Random sequences, their lengths, and their maxima.

    Each sequence is uniform on ``[0, s]`` for its own random scale `s`, so that
    the maximum of a long sequence is not simply close to 1.
    """
    k1, k2, k3 = jax.random.split(key, 3)
    scale = jax.random.uniform(k3, (size, 1))
    xs = scale * jax.random.uniform(k1, (size, capacity))
    n = jax.random.randint(k2, (size,), lengths[0], lengths[1] + 1)
    live = jnp.arange(capacity)[None, :] < n[:, None]
    return xs, n, jnp.where(live, xs, -jnp.inf).max(axis=1)


def mean_abs_error(model: Model, key: PRNGKeyArray, length: int, size: int) -> float:
    """The model's error on sequences of exactly `length` elements."""
    xs, n, target = batch(key, size, length, (length, length))
    return float(jnp.abs(predict(model, xs, n) - target).mean())


def constant_error(key: PRNGKeyArray, length: int, size: int) -> float:
    """The error of the best constant guess (the test maxima's own median)."""
    _, _, target = batch(key, size, length, (length, length))
    return float(jnp.abs(target - jnp.median(target)).mean())


@eqx.filter_jit
def predict(model: Model, xs: Float[Array, "b n"], n: Int[Array, " b"]) -> Array:
    """The model on a batch of sequences."""
    return jax.vmap(model)(xs, n)


def main(
    steps: int = 1500,
    hidden: int = 32,
    batch_size: int = 128,
    test_lengths: tuple[int, ...] = (4, 8, 16, 32, 64, 128),
    gated: bool = True,
    seed: int = 0,
) -> dict[int, float]:
    """Train on lengths 1 to 8; return the mean absolute error by test length."""
    key, init = jax.random.split(jax.random.key(seed))
    model = Model(hidden, gated=gated, key=init)
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def train_step(
        model: Model, state: optax.OptState, key: PRNGKeyArray
    ) -> tuple[Model, optax.OptState, Array]:
        xs, n, target = batch(key, batch_size, TRAIN_LENGTH, (1, TRAIN_LENGTH))

        def loss(m: Model) -> Array:
            return jnp.mean((jax.vmap(m)(xs, n) - target) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(model, updates), state, value

    for _ in range(steps):
        key, sub = jax.random.split(key)
        model, state, _ = train_step(model, state, sub)
    errors = {}
    for length in test_lengths:
        key, sub = jax.random.split(key)
        errors[length] = mean_abs_error(model, sub, length, 512)
    return errors


if __name__ == "__main__":
    lstm, rnn = main(gated=True), main(gated=False)
    print("mean |error| of the predicted maximum; trained on lengths 1 to 8")
    print("length  depth  Tree-LSTM  Tree-RNN  best constant")
    for length in lstm:
        depth = len(widths(length)) - 1
        guess = constant_error(jax.random.key(length), length, 512)
        print(
            f"{length:6d}  {depth:5d}  {lstm[length]:9.4f}  {rnn[length]:8.4f}"
            f"  {guess:13.4f}"
        )
