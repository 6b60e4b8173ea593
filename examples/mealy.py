"""A learned Mealy machine: running parity, generalising to inputs 10x longer.

The machine is a coalgebra ``S → (O × S)^I`` with a finite, soft state: a
`cdl.FiniteMealyCell` moves a distribution over `n_states` states by a stochastic
matrix per input symbol and emits a distribution over outputs. `cdl.Mealy` runs it
over an input sequence in one `jax.lax.scan`. Trained to output the parity of the
bits read so far on sequences of length 10, it is tested on sequences of length 100:
a machine whose transitions have become sharp is an automaton, and runs on inputs of
any length.

Run: ``python examples/mealy.py``.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int

import cdl


def parity_data(n: int, length: int, key: Array) -> tuple[Array, Array]:
    """Random bit strings ``[n, length]`` and their running parities."""
    bits = jax.random.bernoulli(key, 0.5, (n, length)).astype(jnp.int32)
    return bits, jnp.cumsum(bits, axis=1) % 2


def accuracy(machine: cdl.Mealy[Any, Any, Any], bits: Array, parity: Array) -> float:
    """Fraction of sequences whose every output is right."""
    probs = jax.vmap(machine)(bits)
    return float((probs.argmax(-1) == parity).all(axis=1).mean())


def main(
    steps: int = 400, n_states: int = 4, train_length: int = 10, test_length: int = 100
) -> float:
    """Train on `train_length` bits; return accuracy on `test_length` bits."""
    cell = cdl.FiniteMealyCell(n_states, 2, 2, key=jax.random.key(0))
    machine = cdl.Mealy(cell, cell.start())
    optimiser = optax.adam(0.1)
    params = eqx.filter(machine, eqx.is_inexact_array)
    state = optimiser.init(params)

    @eqx.filter_jit
    def step(
        machine: cdl.Mealy[Any, Any, Any],
        state: Any,
        bits: Int[Array, "b n"],
        parity: Int[Array, "b n"],
    ) -> tuple[cdl.Mealy[Any, Any, Any], Any, Float[Array, ""]]:
        def loss(m: cdl.Mealy[Any, Any, Any]) -> Float[Array, ""]:
            probs = jax.vmap(m)(bits)
            picked = jnp.take_along_axis(probs, parity[..., None], axis=-1)
            return -jnp.log(picked + 1e-9).mean()

        value, grads = eqx.filter_value_and_grad(loss)(machine)
        grads = eqx.tree_at(lambda m: m.init, grads, jnp.zeros_like(machine.init))
        updates, state = optimiser.update(
            grads, state, eqx.filter(machine, eqx.is_inexact_array)
        )
        return eqx.apply_updates(machine, updates), state, value

    for i in range(steps):
        bits, parity = parity_data(64, train_length, jax.random.key(i + 1))
        machine, state, value = step(machine, state, bits, parity)
        if i % 100 == 99 or i == steps - 1:
            print(f"step {i + 1}: loss {float(value):.4f}")
    test_bits, test_parity = parity_data(500, test_length, jax.random.key(10_000))
    acc = accuracy(machine, test_bits, test_parity)
    print(f"exact-match accuracy on {test_length}-bit inputs: {acc:.3f}")
    return acc


if __name__ == "__main__":
    main()
