"""One cell shared across three unrolled steps: weight sharing as a 2-cell.

``cdl.repeat(cell, 3)`` is ``cell >> cell >> cell`` with a single set of weights: the
gradient of each weight is the sum over the three steps, and the optimiser updates it
once. Here the unrolled cell learns to rotate the plane by 90 degrees in three equal
steps: a cube root of the quarter turn (30, 150 or 270 degrees a step).

Run: ``python examples/shared_cell.py``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

import cdl

Vec = Float[Array, "2"]


def main(steps: int = 600, seed: int = 0) -> float:
    """Train the shared cell; return the learned rotation angle of one step (deg)."""
    key = jax.random.key(seed)
    cell = cdl.Linear(2, 2, use_bias=False, key=key)
    model: cdl.Para[Vec, Vec] = cdl.repeat(cell, 3)
    xs = jax.random.normal(jax.random.key(seed + 1), (128, 2))
    quarter = jnp.array([[0.0, -1.0], [1.0, 0.0]])
    ys = xs @ quarter.T
    optimiser = optax.adam(3e-2)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    def loss(m: cdl.Para[Vec, Vec]) -> Array:
        return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

    @eqx.filter_jit
    def step(
        m: cdl.Para[Vec, Vec], state: optax.OptState
    ) -> tuple[cdl.Para[Vec, Vec], optax.OptState, Array]:
        value, grads = eqx.filter_value_and_grad(loss)(m)
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(m, updates), state, value

    for _ in range(steps):
        model, state, value = step(model, state)
    weight = jax.tree.leaves(model)[0]
    angle = float(jnp.degrees(jnp.arctan2(weight[1, 0], weight[0, 0])))
    print(f"weights: {len(jax.tree.leaves(model))} array, shared by 3 steps")
    print(f"learned step: rotation by {angle:.1f} degrees")
    print(f"three steps: rotation by {(3 * angle) % 360:.1f} degrees (goal: 90)")
    print(f"final loss: {float(value):.6f}")
    return angle


if __name__ == "__main__":
    main()
