"""A permutation-invariant set model, derived from S_n rather than written by hand.

Each layer is solved for: the linear maps between ``float[n, d]`` node features
that commute with every permutation of the rows turn out to be ``x ↦ xΛ + 11ᵀxΓ``
(two blocks of coefficients), and the invariant ones from ``float[n, d]`` to
``float[d']`` are sums followed by a matrix. The model learns the sum or the
maximum of a set of numbers; its invariance error is printed.

Run: ``python examples/deepsets.py``.
"""

from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

import cdl


def make_sets(
    key: jax.Array, count: int, size: int, target: str
) -> tuple[Float[Array, "count size 1"], Float[Array, "count 1"]]:
    """Sets of `size` numbers uniform in [0, 1], with their sum or maximum."""
    xs = jax.random.uniform(key, (count, size, 1))
    ys = jnp.sum(xs, axis=1) if target == "sum" else jnp.max(xs, axis=1)
    return xs, ys


def build(size: int, hidden: int, pool: Literal["sum", "max"], key: jax.Array) -> Any:
    """``φ`` (two equivariant layers) ``>> pool >> ρ`` (two invariant layers)."""
    group = cdl.Monoid.symmetric(size)
    points = [cdl.permutation_action(size, (d,)) for d in (1, hidden, hidden)]
    totals = [cdl.trivial_action(group, (d,)) for d in (hidden, hidden, 1)]
    k1, k2 = jax.random.split(key)
    phi = cdl.equivariant_mlp(points, key=k1) >> cdl.Relu()
    rho = cdl.equivariant_mlp(totals, key=k2)
    return phi >> cdl.Pool(points[-1], pool) >> rho


def main(
    size: int = 10,
    hidden: int = 32,
    steps: int = 1500,
    target: Literal["sum", "max"] = "max",
    seed: int = 0,
) -> dict[str, float]:
    """Train on random sets; return test error, baseline error and invariance error."""
    data_key, test_key, model_key, check_key = jax.random.split(jax.random.key(seed), 4)
    xs, ys = make_sets(data_key, 2048, size, target)
    test_xs, test_ys = make_sets(test_key, 512, size, target)
    model = build(size, hidden, "sum" if target == "sum" else "max", model_key)
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    def loss(m: Any, x: Array, y: Array) -> Array:
        return jnp.mean((jax.vmap(m)(x) - y) ** 2)

    @eqx.filter_jit
    def step(m: Any, state: optax.OptState, i: Array) -> tuple[Any, optax.OptState]:
        batch = jax.random.choice(jax.random.fold_in(data_key, i), xs.shape[0], (64,))
        grads = eqx.filter_grad(loss)(m, xs[batch], ys[batch])
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(m, updates), state

    for i in range(steps):
        model, state = step(model, state, jnp.asarray(i))
    mse = float(eqx.filter_jit(loss)(model, test_xs, test_ys))
    baseline = float(jnp.mean((test_ys - jnp.mean(ys)) ** 2))
    act = cdl.permutation_action(size, (1,))
    invariance = float(
        cdl.equivariance_error(
            model, act, cdl.trivial_action(act.monoid, (1,)), key=check_key
        )
    )
    count = sum(x.size for x in jax.tree.leaves(eqx.filter(model, eqx.is_array)))
    print(f"DeepSets learning the {target} of {size} numbers, {count} parameters")
    print(f"test mean squared error {mse:.2e} (predicting the mean: {baseline:.2e})")
    print(f"invariance error over the generators of S{size}: {invariance:.1e}")
    return {"mse": mse, "baseline": baseline, "invariance_error": invariance}


if __name__ == "__main__":
    main()
