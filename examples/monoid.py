"""A layer equivariant to a non-invertible monoid action: shifts that drop data.

The monoid ``{1, s, s², …, sⁿ}`` acts on signals of length ``n`` by delaying them one
step with zero fill; the last value falls off, so no shift is invertible and this
is no group. Solving ``W s = s W`` gives the lower-triangular Toeplitz matrices,
the causal convolutions: ``n`` coefficients instead of ``n²``. A causal filter (an
exponential moving average started from zero) is then learnt from a handful of
examples, by the derived layer and by an unconstrained one. Truncations, another
monoid of idempotents, give block-diagonal maps.

Run: ``python examples/monoid.py``.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

import cdl


def moving_average(x: Float[Array, " n"], decay: float = 0.7) -> Float[Array, " n"]:
    """``y_t = decay · y_{t−1} + (1 − decay) · x_t`` from ``y_{−1} = 0``: causal."""

    def step(carry: Array, value: Array) -> tuple[Array, Array]:
        carry = decay * carry + (1 - decay) * value
        return carry, carry

    averages: Array = jax.lax.scan(step, jnp.zeros(()), x)[1]
    return averages


def fit(model: Any, xs: Array, ys: Array, steps: int) -> Any:
    """Full-batch Adam on the mean squared error."""
    optimiser = optax.adam(1e-2)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    def loss(m: Any) -> Array:
        return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

    @eqx.filter_jit
    def step(m: Any, state: optax.OptState) -> tuple[Any, optax.OptState]:
        grads = eqx.filter_grad(loss)(m)
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(m, updates), state

    for _ in range(steps):
        model, state = step(model, state)
    return model


def main(
    length: int = 24, examples: int = 4, steps: int = 600, seed: int = 0
) -> dict[str, float]:
    """Derive the shift-equivariant layer, count, fit; return the measured figures."""
    key = jax.random.key(seed)
    k_derived, k_dense, k_train, k_test, k_check = jax.random.split(key, 5)
    shifts = cdl.signal_action(cdl.Monoid.shifts(length), length)
    derived = cdl.EquivariantLinear(shifts, shifts, key=k_derived)
    dense = cdl.Linear(length, length, key=k_dense)
    n_derived = derived.params.weight.size + (
        0 if derived.params.bias is None else derived.params.bias.size
    )
    n_dense = dense.weight.size + length
    print(
        f"shifts with zero fill on R^{length}: {derived.size} basis maps "
        f"(causal convolutions), {n_derived} parameters against {n_dense} "
        f"unconstrained; no invariant bias survives"
    )

    xs = jax.random.normal(k_train, (examples, length))
    test_xs = jax.random.normal(k_test, (256, length))
    ys, test_ys = jax.vmap(moving_average)(xs), jax.vmap(moving_average)(test_xs)
    errors = {}
    for name, model in (("derived", derived), ("dense", dense)):
        trained = fit(model, xs, ys, steps)
        errors[name] = float(jnp.mean((jax.vmap(trained)(test_xs) - test_ys) ** 2))
        if name == "derived":
            derived = trained
    equivariance = float(cdl.equivariance_error(derived, shifts, shifts, key=k_check))
    print(
        f"moving average from {examples} examples: test error "
        f"{errors['derived']:.2e} derived, {errors['dense']:.2e} unconstrained"
    )
    print(f"equivariance error of the trained derived layer: {equivariance:.1e}")

    truncate = cdl.signal_action(cdl.Monoid.truncations(length, [length // 3]), length)
    blocks = cdl.equivariant_basis(truncate, truncate).size
    print(
        f"truncation to {length // 3} entries: {blocks} basis maps "
        f"(two diagonal blocks, {length // 3}² + {length - length // 3}²)"
    )
    return {
        "basis": float(derived.size),
        "parameters": float(n_derived),
        "dense_parameters": float(n_dense),
        "derived_error": errors["derived"],
        "dense_error": errors["dense"],
        "equivariance_error": equivariance,
        "truncation_basis": float(blocks),
    }


if __name__ == "__main__":
    main()
