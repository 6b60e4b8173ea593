"""A tied autoencoder: the decoder's weight is the transpose of the encoder's.

The tie is a reparametrisation 2-cell: the model has one weight matrix, used twice, so
its gradient is the sum of both uses. Trained on scikit-learn's bundled digits.

Run: ``python examples/tied_autoencoder.py``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float
from sklearn.datasets import load_digits

import cdl

Image = Float[Array, "64"]


def main(steps: int = 300, code: int = 16, seed: int = 0) -> tuple[float, float]:
    """Train the tied autoencoder; return (initial, final) reconstruction error."""
    images = jnp.asarray(load_digits().data / 16.0, dtype=jnp.float32)
    k1, k2 = jax.random.split(jax.random.key(seed))
    encoder = cdl.Linear(64, code, key=k1) >> cdl.Tanh()
    decoder = cdl.Linear(code, 64, key=k2) >> cdl.Sigmoid()
    model: cdl.Para[Image, Image] = cdl.tie(
        encoder >> decoder,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[2].weight,
        via=jnp.transpose,
    )
    n_params = sum(leaf.size for leaf in jax.tree.leaves(model))
    print(f"parameters: {n_params} (untied: {n_params + 64 * code})")
    optimiser = optax.adam(1e-2)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    def loss(m: cdl.Para[Image, Image]) -> Array:
        return jnp.mean((jax.vmap(m)(images) - images) ** 2)

    @eqx.filter_jit
    def step(
        m: cdl.Para[Image, Image], state: optax.OptState
    ) -> tuple[cdl.Para[Image, Image], optax.OptState]:
        grads = eqx.filter_grad(loss)(m)
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(m, updates), state

    initial = float(loss(model))
    for _ in range(steps):
        model, state = step(model, state)
    final = float(loss(model))
    print(f"reconstruction error: {initial:.4f} -> {final:.4f}")
    return initial, final


if __name__ == "__main__":
    main()
