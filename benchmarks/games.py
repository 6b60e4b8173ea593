"""A round of a two-player game against the same round written by hand.

The game is the GAN of ``examples/gan_2d.py`` (two 3-layer MLPs, Adam, alternating
play: the discriminator moves, then the generator against its new parameters). The
hand-written round is plain JAX and Equinox: two ``eqx.filter_grad`` calls and two
optax Adam updates, on the same morphisms. Both are jitted; the calls are timed
alternately and the ratio is the median of the ratios of neighbouring calls.

A second comparison times SGA and LOLA rounds against plain gradient play on the
same game: what the second-order rules cost.

Run: ``python benchmarks/games.py``.
"""

import pathlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "examples"))

import gan_2d  # noqa: E402

from cdl.games import LOLA, SGA, Game  # noqa: E402

BATCH = 256
ROUNDS = 30
REPEATS = 7


def hand_written(game: Game) -> tuple[Callable[..., Any], Any]:
    """The same alternating round with eqx.filter_grad and optax, and its state."""
    state = game.init()
    g = game.model_of(state, "generator")
    d = game.model_of(state, "discriminator")
    adam = optax.adam(1e-3, b1=0.5)

    def bce(logits: Any, label: float) -> Any:
        return jnp.mean(
            optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label))
        )

    def d_loss(d: Any, g: Any, z: Any, x: Any) -> Any:
        fake = jax.vmap(lambda v: d(g(v)))(z)
        return bce(fake, 0.0) + bce(jax.vmap(d)(x), 1.0)

    def g_loss(g: Any, d: Any, z: Any) -> Any:
        return bce(jax.vmap(lambda v: d(g(v)))(z), 1.0)

    @eqx.filter_jit
    def step(models: Any, opts: Any, z: Any, x: Any) -> Any:
        g, d = models
        g_opt, d_opt = opts
        grads = eqx.filter_grad(d_loss)(d, g, z, x)
        updates, d_opt = adam.update(grads, d_opt, eqx.filter(d, eqx.is_inexact_array))
        d = eqx.apply_updates(d, updates)
        grads = eqx.filter_grad(g_loss)(g, d, z)
        updates, g_opt = adam.update(grads, g_opt, eqx.filter(g, eqx.is_inexact_array))
        g = eqx.apply_updates(g, updates)
        return (g, d), (g_opt, d_opt)

    opts = (
        adam.init(eqx.filter(g, eqx.is_inexact_array)),
        adam.init(eqx.filter(d, eqx.is_inexact_array)),
    )
    return step, ((g, d), opts)


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(run())
    return time.perf_counter() - start


def ratio(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[float, ...]:
    """Median seconds of `first` and `second` over ROUNDS rounds, and their ratio."""
    times: list[tuple[float, float]] = []
    for _ in range(REPEATS):
        a = timed(lambda: [first() for _ in range(ROUNDS)])
        b = timed(lambda: [second() for _ in range(ROUNDS)])
        times.append((a, b))
    return (
        statistics.median(a for a, _ in times) / ROUNDS,
        statistics.median(b for _, b in times) / ROUNDS,
        statistics.median(a / b for a, b in times),
    )


def main() -> dict[str, float]:
    """Print the timings and the targets."""
    game = gan_2d.gan()
    k1, k2 = jax.random.split(jax.random.key(0))
    z = jax.random.normal(k1, (BATCH, gan_2d.LATENT))
    x = gan_2d.sample_real(k2, BATCH)

    game_step = eqx.filter_jit(game.step)
    state = game.init()
    hand_step, (models, opts) = hand_written(game)
    jax.block_until_ready(game_step(state, (z, x)))
    jax.block_until_ready(hand_step(models, opts, z, x))

    cdl_s, hand_s, gan_ratio = ratio(
        lambda: game_step(state, (z, x)), lambda: hand_step(models, opts, z, x)
    )
    print(f"GAN round (batch {BATCH}), medians of {REPEATS} × {ROUNDS} rounds:")
    print(f"  cdl.games  {cdl_s * 1e3:8.3f} ms")
    print(f"  by hand    {hand_s * 1e3:8.3f} ms")
    print(f"  ratio      {gan_ratio:8.3f}")

    results = {"gan": gan_ratio}
    losses = dict(zip(game.names, game.losses, strict=True))
    plain = eqx.filter_jit(Game(game.arena, losses, batched=True).step)
    jax.block_until_ready(plain(state, (z, x)))
    for name, rule in (("SGA", SGA(0.5)), ("LOLA", LOLA(0.5))):
        adjusted = Game(game.arena, losses, rule=rule, batched=True)
        step = eqx.filter_jit(adjusted.step)
        start = adjusted.init()
        jax.block_until_ready(step(start, (z, x)))
        rule_s, plain_s, rule_ratio = ratio(
            lambda step=step, start=start: step(start, (z, x)),
            lambda: plain(state, (z, x)),
        )
        results[name] = rule_ratio
        print(
            f"{name} round / simultaneous gradient play: {rule_ratio:.2f} "
            f"({rule_s * 1e3:.3f} / {plain_s * 1e3:.3f} ms)"
        )

    verdict = "met" if gan_ratio <= 1.1 else "missed"
    print(f"target: gan_round_vs_hand measured={gan_ratio:.3f} goal=1.1 {verdict}")
    return results


if __name__ == "__main__":
    main()
