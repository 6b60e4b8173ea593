"""A GAN on a ring of eight Gaussians, built from the adversarial-cost lens.

Two learners play against each other. The discriminator is an ordinary learner:
binary cross-entropy on real (label 1) and generated (label 0) points. The
generator's loss is *given by the discriminator*: it is the lens
``AdversarialCost(D) = R(D) >> BCE(target=1)``, whose parameters are the
discriminator's. So the generator's learner takes the discriminator's current
parameters where an ordinary learner takes labels, and its gradient reaches the
generator through the discriminator's reverse derivative.

Run: ``python examples/gan_2d.py`` (writes ``gan_2d.png``).
"""

import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cdl  # noqa: E402
from cdl.optics import (  # noqa: E402
    Adam,
    AdversarialCost,
    BinaryCrossEntropy,
    Learner,
    TrainState,
)

MODES: int = 8
RADIUS: float = 2.0
SPREAD: float = 0.05
LATENT: int = 8


def centres() -> jax.Array:
    """The centres of the eight Gaussians, on a circle."""
    angles = jnp.arange(MODES) * (2 * jnp.pi / MODES)
    return RADIUS * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1)


def sample_real(key: jax.Array, n: int) -> jax.Array:
    """`n` points of the mixture."""
    k1, k2 = jax.random.split(key)
    which = jax.random.randint(k1, (n,), 0, MODES)
    return centres()[which] + SPREAD * jax.random.normal(k2, (n, 2))


def mlp(sizes: list[int], key: jax.Array) -> cdl.Para[Any, Any]:
    """Linear layers of the given sizes with ReLUs between them."""
    keys = jax.random.split(key, len(sizes) - 1)
    layers: cdl.Para[Any, Any] = cdl.Linear(sizes[0], sizes[1], key=keys[0])
    for i in range(1, len(sizes) - 1):
        layers = layers >> cdl.Relu() >> cdl.Linear(sizes[i], sizes[i + 1], key=keys[i])
    return layers


def main(
    steps: int = 4000,
    batch_size: int = 256,
    seed: int = 0,
    plot: str | None = "gan_2d.png",
) -> tuple[int, float]:
    """Train the GAN; return the modes covered and the share of good samples.

    A mode is covered when some generated point lies within 4σ of its centre;
    a sample is good when it lies within 4σ of any centre.
    """
    k_g, k_d, k_run = jax.random.split(jax.random.key(seed), 3)
    generator = mlp([LATENT, 128, 128, 2], k_g)
    discriminator = mlp([2, 128, 128, 1], k_d)
    d_learner = Learner(discriminator, BinaryCrossEntropy(), Adam(1e-3, b1=0.5))
    g_learner = Learner(
        generator, AdversarialCost(discriminator, target=1.0), Adam(1e-3, b1=0.5)
    )
    labels = jnp.concatenate([jnp.ones((batch_size, 1)), jnp.zeros((batch_size, 1))])

    @jax.jit
    def step(
        g_state: TrainState, d_state: TrainState, key: jax.Array
    ) -> tuple[TrainState, TrainState, jax.Array, jax.Array]:
        k_real, k_z1, k_z2 = jax.random.split(key, 3)
        fake = jax.vmap(g_learner.model_at(g_state))(
            jax.random.normal(k_z1, (batch_size, LATENT))
        )
        points = jnp.concatenate([sample_real(k_real, batch_size), fake])
        d_state, d_loss = d_learner.step(d_state, points, labels)
        # The generator's "labels" are the discriminator's parameters.
        zs = jax.random.normal(k_z2, (batch_size, LATENT))
        g_state, g_loss = g_learner.step(g_state, zs, d_state.params)
        return g_state, d_state, d_loss, g_loss

    g_state, d_state = g_learner.init(generator), d_learner.init(discriminator)
    for i in range(steps):
        g_state, d_state, d_loss, g_loss = step(
            g_state, d_state, jax.random.fold_in(k_run, i)
        )
        if (i + 1) % max(steps // 5, 1) == 0:
            print(
                f"step {i + 1}: discriminator loss {float(d_loss):.3f}, "
                f"generator loss {float(g_loss):.3f}"
            )

    samples = jax.vmap(g_learner.model_at(g_state))(
        jax.random.normal(jax.random.key(seed + 1), (2000, LATENT))
    )
    distances = jnp.linalg.norm(samples[:, None, :] - centres()[None], axis=-1)
    near = distances < 4 * SPREAD
    covered = int(jnp.sum(jnp.any(near, axis=0)))
    good = float(jnp.mean(jnp.any(near, axis=1)))
    print(f"modes covered: {covered}/{MODES}; samples near a mode: {good:.1%}")
    if plot is not None:
        real = sample_real(jax.random.key(seed + 2), 2000)
        figure, axes = plt.subplots(figsize=(5, 5))
        axes.scatter(real[:, 0], real[:, 1], s=2, alpha=0.4, label="real")
        axes.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label="generated")
        axes.set_aspect("equal")
        axes.legend(loc="upper right")
        axes.set_title(f"GAN after {steps} steps: {covered}/{MODES} modes")
        figure.savefig(pathlib.Path(plot), dpi=100)
        plt.close(figure)
    return covered, good


if __name__ == "__main__":
    main()
