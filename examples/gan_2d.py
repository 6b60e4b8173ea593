"""A GAN on a ring of eight Gaussians, as a two-player game.

The generator and the discriminator are players, each with its own parameters and
optimiser. The arena wires them: the generator's sample and a real point go side by
side into two copies of the discriminator (one player, so one set of parameters),

    (generator @ Identity) >> (discriminator @ discriminator),

and its outcome is the pair of logits. The discriminator's loss is binary
cross-entropy on real (label 1) and generated (label 0) points; the generator's is
the non-saturating ``BCE(D(G(z)), 1)``: its loss is given by the discriminator,
and its gradient reaches it through the discriminator. Each player steps along the
gradient of its own loss in its own parameters, in turn: the discriminator first,
then the generator against the discriminator's new parameters.

Run: ``python examples/gan_2d.py`` (writes ``gan_2d.png``).
"""

import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cdl  # noqa: E402
from cdl.games import Game, GameState, Player  # noqa: E402
from cdl.optics import Adam, BinaryCrossEntropy  # noqa: E402

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


def gan(seed: int = 0) -> Game:
    """The GAN as a game of two players, the discriminator moving first."""
    k_g, k_d = jax.random.split(jax.random.key(seed))
    generator = Player("generator", mlp([LATENT, 128, 128, 2], k_g), Adam(1e-3, b1=0.5))
    discriminator = Player(
        "discriminator", mlp([2, 128, 128, 1], k_d), Adam(1e-3, b1=0.5)
    )
    arena = (generator @ cdl.Identity()) >> (discriminator @ discriminator)
    bce = BinaryCrossEntropy()

    def d_loss(logits: tuple[jax.Array, jax.Array], _: None) -> jax.Array:
        fake, real = logits
        return bce.get(jnp.zeros_like(fake), fake) + bce.get(jnp.ones_like(real), real)

    def g_loss(logits: tuple[jax.Array, jax.Array], _: None) -> jax.Array:
        return bce.get(jnp.ones_like(logits[0]), logits[0])

    return Game(
        arena,
        {"generator": g_loss, "discriminator": d_loss},
        play="alternating",
        order=["discriminator", "generator"],
        batched=True,
    )


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
    game = gan(seed)
    k_run = jax.random.key(seed + 3)

    @eqx.filter_jit
    def step(state: GameState, key: jax.Array) -> tuple[GameState, jax.Array]:
        k_real, k_z = jax.random.split(key)
        zs = jax.random.normal(k_z, (batch_size, LATENT))
        return game.step(state, (zs, sample_real(k_real, batch_size)))

    state = game.init()
    for i in range(steps):
        state, losses = step(state, jax.random.fold_in(k_run, i))
        if (i + 1) % max(steps // 5, 1) == 0:
            g_loss, d_loss = (float(v) for v in losses)
            print(
                f"step {i + 1}: discriminator loss {d_loss:.3f}, "
                f"generator loss {g_loss:.3f}"
            )

    generator = game.model_of(state, "generator")
    samples = jax.vmap(generator)(
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
