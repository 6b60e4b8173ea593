"""Linear regression as one Para morphism: recover y = 3 + 7x from noisy samples.

Run: ``python examples/linear_regression.py``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

import cdl


def make_data(
    n: int, key: jax.Array
) -> tuple[Float[Array, "n 1"], Float[Array, "n 1"]]:
    """Samples of ``y = 3 + 7x + noise`` with x uniform in [-1, 1]."""
    kx, kn = jax.random.split(key)
    x = jax.random.uniform(kx, (n, 1), minval=-1.0, maxval=1.0)
    y = 3.0 + 7.0 * x + 0.1 * jax.random.normal(kn, (n, 1))
    return x, y


def main(steps: int = 500, seed: int = 0) -> tuple[float, float]:
    """Fit ``cdl.Linear(1, 1)`` by gradient descent; return (intercept, slope)."""
    data_key, model_key = jax.random.split(jax.random.key(seed))
    xs, ys = make_data(256, data_key)
    model = cdl.Linear(1, 1, key=model_key)
    optimiser = optax.sgd(0.1)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: cdl.Linear, state: optax.OptState
    ) -> tuple[cdl.Linear, optax.OptState, Array]:
        def loss(m: cdl.Linear) -> Array:
            return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(model, updates), state, value

    for _ in range(steps):
        model, state, loss = step(model, state)
    assert model.bias is not None
    intercept, slope = float(model.bias[0]), float(model.weight[0, 0])
    print(f"learned y = {intercept:.3f} + {slope:.3f} x   (true: y = 3 + 7x)")
    print(f"final mean squared error: {float(loss):.5f}")
    return intercept, slope


if __name__ == "__main__":
    main()
