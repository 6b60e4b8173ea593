"""A translation-equivariant layer derived from C_n, equal to a circular convolution.

Solving ``W ρ(g) = ρ(g) W`` for the cyclic shifts of a signal of length ``n`` gives
the circulant matrices: ``n`` coefficients per pair of channels instead of ``n²``.
The derived layer is compared with a circular convolution written by hand, then a
small shift-invariant classifier is built from derived layers and trained to tell
two motifs apart wherever they sit on a ring.

Run: ``python examples/cyclic_cnn.py``.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

import cdl


def circular_convolution(
    kernel: Float[Array, "out inp n"], x: Float[Array, "inp n"]
) -> Float[Array, "out n"]:
    """``y[o, i] = Σ_{c,k} kernel[o, c, k] · x[c, (i + k) mod n]``, by hand."""
    n = x.shape[-1]
    padded = jnp.concatenate([x, x[:, : n - 1]], axis=1)
    return jax.lax.conv_general_dilated(
        padded[None], kernel, (1,), "VALID", precision="highest"
    )[0]


MOTIF: int = 4
"""Steps of each motif: a ring needs at least this many positions."""


def check_length(length: int) -> None:
    """Refuse rings too short to hold a motif, naming the length."""
    if length < MOTIF:
        raise ValueError(
            f"cyclic_cnn: the motifs are {MOTIF} steps long, so the rings need "
            f"length >= {MOTIF}, not {length}."
        )


def make_rings(
    key: jax.Array, count: int, length: int
) -> tuple[Float[Array, "count 1 length"], Array]:
    """Noisy rings holding one of two motifs (rising or falling) at a random place."""
    check_length(length)
    k_label, k_shift, k_noise = jax.random.split(key, 3)
    labels = jax.random.bernoulli(k_label, 0.5, (count,)).astype(jnp.int32)
    motif = jnp.zeros(length).at[:4].set(jnp.array([1.0, 2.0, 3.0, 4.0]))
    signals = jnp.where(labels[:, None] == 1, motif, motif.at[:4].set(motif[:4][::-1]))
    shifts = jax.random.randint(k_shift, (count,), 0, length)
    signals = jax.vmap(jnp.roll)(signals, shifts)
    signals = signals + 0.3 * jax.random.normal(k_noise, signals.shape)
    return signals[:, None, :], labels


def main(
    length: int = 32, channels: int = 8, steps: int = 400, seed: int = 0
) -> dict[str, float]:
    """Derive, compare with the convolution, train; return the measured figures."""
    check_length(length)  # before the derivation, not after it
    key = jax.random.key(seed)
    k_layer, k_x, k_model, k_data, k_test, k_check = jax.random.split(key, 6)
    group = cdl.Monoid.cyclic(length)
    ring = cdl.signal_action(group, length, 1)
    hidden = cdl.signal_action(group, length, channels)

    layer = cdl.EquivariantLinear(ring, hidden, key=k_layer, use_bias=False)
    # Orbit k of the pairs (i, j) is the offset j - i = k, so the coefficients are
    # the kernel: [n, out, in] -> [out, in, n].
    kernel = jnp.transpose(layer.params.weight, (1, 2, 0))
    x = jax.random.normal(k_x, (1, length))
    difference = float(jnp.max(jnp.abs(layer(x) - circular_convolution(kernel, x))))
    # The same map as a dense circulant matrix built from the basis (layer.base()).
    from_dense = float(jnp.max(jnp.abs(layer(x) - layer.base()(x))))
    error = float(cdl.equivariance_error(layer, ring, hidden, key=k_check))
    derived = layer.params.weight.size
    dense = (length * channels) * length
    print(f"C{length}: derived layer has {derived} parameters, a dense one {dense}")
    print(
        f"largest difference from the hand-written circular convolution: "
        f"{difference:.1e}; from the dense circulant weight: {from_dense:.1e}"
    )
    print(f"equivariance error: {error:.1e}")

    k1, k2 = jax.random.split(k_model)
    features = cdl.trivial_action(group, (channels,))
    model = (
        cdl.equivariant_mlp([ring, hidden, hidden], key=k1)
        >> cdl.Relu()
        >> cdl.Pool(hidden, "max")
        >> cdl.equivariant_mlp([features, cdl.trivial_action(group, (2,))], key=k2)
    )
    xs, ys = make_rings(k_data, 1024, length)
    test_xs, test_ys = make_rings(k_test, 512, length)
    optimiser = optax.adam(3e-3)
    state = optimiser.init(eqx.filter(model, eqx.is_array))

    def loss(m: Any, x: Array, y: Array) -> Array:
        logits = jax.vmap(m)(x)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

    @eqx.filter_jit
    def step(m: Any, state: optax.OptState, i: Array) -> tuple[Any, optax.OptState]:
        batch = jax.random.choice(jax.random.fold_in(k_data, i), xs.shape[0], (64,))
        grads = eqx.filter_grad(loss)(m, xs[batch], ys[batch])
        updates, state = optimiser.update(grads, state)
        return eqx.apply_updates(m, updates), state

    for i in range(steps):
        model, state = step(model, state, jnp.asarray(i))

    @eqx.filter_jit
    def predict(m: Any, x: Array) -> Array:
        return jnp.argmax(jax.vmap(m)(x), axis=-1)

    predictions = predict(model, test_xs)
    accuracy = float(jnp.mean(predictions == test_ys))
    invariance = float(
        cdl.equivariance_error(
            model, ring, cdl.trivial_action(group, (2,)), key=k_check
        )
    )
    print(
        f"shift-invariant classifier: test accuracy {accuracy:.3f}, "
        f"invariance error {invariance:.1e}"
    )
    return {
        "difference": difference,
        "dense_difference": from_dense,
        "equivariance_error": error,
        "parameters": float(derived),
        "dense_parameters": float(dense),
        "accuracy": accuracy,
        "invariance_error": invariance,
    }


if __name__ == "__main__":
    main()
