"""Training steps of cdl's architectures against their plain-Equinox twins.

For each architecture (a GPT-style decoder, a ViT, a U-Net, a ResNet with batch
norm) the cdl composite and its twin, written by hand with `equinox.nn` layers and
holding the same weights (`cdl.architectures._twins`), are trained with the same
step: ``eqx.filter_value_and_grad`` of the batch loss, ``optax.adam``,
``eqx.apply_updates``, under ``eqx.filter_jit``, so each timing includes the
dispatch of the model's pytree. The two sides' runs interleave (each round in the
other order) so that load on the machine hits both alike; the ratio is the median
of the per-round ratios of CPU time (wall time is printed too). Before timing, one
step of each is checked to give the same loss.

Run: ``python benchmarks/architectures.py``.
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from cdl.architectures import gpt, resnet, unet, vit
from cdl.architectures._twins import gpt_twin, resnet_twin, unet_twin, vit_twin

BATCH = 32
STEPS = 10
REPEATS = 15
GOAL = 1.05
TX = optax.adam(1e-3)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def stateless_runner(
    model: Any, loss: Callable[[Any], jax.Array]
) -> Callable[[], float]:
    """A function running `STEPS` Adam steps of `model` on `loss`; returns the loss."""

    @eqx.filter_jit
    def step(m: Any, opt_state: Any) -> tuple[Any, Any, jax.Array]:
        value, grads = eqx.filter_value_and_grad(loss)(m)
        updates, opt_state = TX.update(
            grads, opt_state, eqx.filter(m, eqx.is_inexact_array)
        )
        return eqx.apply_updates(m, updates), opt_state, value

    opt_state = TX.init(eqx.filter(model, eqx.is_inexact_array))

    def run() -> float:
        nonlocal model, opt_state
        for _ in range(STEPS):
            model, opt_state, value = step(model, opt_state)
        return float(jax.block_until_ready(value))

    return run


def stateful_runner(
    model: Any, state: Any, loss: Callable[[Any, Any], tuple[jax.Array, Any]]
) -> Callable[[], float]:
    """As `stateless_runner`, for a loss that also returns the model's new state."""

    @eqx.filter_jit
    def step(m: Any, s: Any, opt_state: Any) -> tuple[Any, Any, Any, jax.Array]:
        (value, s), grads = eqx.filter_value_and_grad(loss, has_aux=True)(m, s)
        updates, opt_state = TX.update(
            grads, opt_state, eqx.filter(m, eqx.is_inexact_array)
        )
        return eqx.apply_updates(m, updates), s, opt_state, value

    opt_state = TX.init(eqx.filter(model, eqx.is_inexact_array))

    def run() -> float:
        nonlocal model, state, opt_state
        for _ in range(STEPS):
            model, state, opt_state, value = step(model, state, opt_state)
        return float(jax.block_until_ready(value))

    return run


def pairs() -> dict[str, tuple[Callable[[], float], Callable[[], float]]]:
    """For each architecture, the cdl runner and the twin's runner."""
    keys = jax.random.split(jax.random.key(0), 8)
    tokens = jax.random.randint(keys[0], (BATCH, 33), 0, 11)
    images = jax.random.normal(keys[1], (BATCH, 1, 16, 16))
    labels = jax.random.randint(keys[2], (BATCH,), 0, 10)

    def lm_loss(m: Any) -> jax.Array:
        return cross_entropy(jax.vmap(m)(tokens[:, :-1]), tokens[:, 1:])

    def class_loss(m: Any) -> jax.Array:
        return cross_entropy(jax.vmap(m)(images), labels)

    def denoise_loss(m: Any) -> jax.Array:
        return jnp.mean((jax.vmap(m)(images) - images) ** 2)

    def cdl_bn_loss(m: Any, s: Any) -> tuple[jax.Array, Any]:
        batched = jax.vmap(
            m, axis_name="batch", in_axes=((0, None),), out_axes=(0, None)
        )
        logits, s = batched((images, s))
        return cross_entropy(logits, labels), s

    def twin_bn_loss(m: Any, s: Any) -> tuple[jax.Array, Any]:
        batched = jax.vmap(m, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
        logits, s = batched(images, s)
        return cross_entropy(logits, labels), s

    decoder = gpt(11, 64, 2, 4, 32, key=keys[3])
    classifier = vit(16, 4, 1, 10, 64, 2, 4, key=keys[4])
    denoiser = unet(1, 1, 8, 2, key=keys[5])
    res, state = eqx.nn.make_with_state(resnet)((1, 1), (16, 32), 1, 10, key=keys[6])
    twin_res, twin_state = resnet_twin(res)
    return {
        "gpt": (stateless_runner(decoder, lm_loss),
                stateless_runner(gpt_twin(decoder), lm_loss)),
        "vit": (stateless_runner(classifier, class_loss),
                stateless_runner(vit_twin(classifier), class_loss)),
        "unet": (stateless_runner(denoiser, denoise_loss),
                 stateless_runner(unet_twin(denoiser), denoise_loss)),
        "resnet": (stateful_runner(res, state, cdl_bn_loss),
                   stateful_runner(twin_res, twin_state, twin_bn_loss)),
    }  # fmt: skip


def timed(run: Callable[[], float]) -> tuple[float, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    loss = run()
    return time.perf_counter() - wall, time.process_time() - cpu, loss


def main() -> dict[str, float]:
    """Time every pair; print the figures and one target line per architecture."""
    ratios: dict[str, float] = {}
    for name, (ours, theirs) in pairs().items():
        first, second = ours(), theirs()  # compile both, and compare the losses
        if abs(first - second) > 1e-4 * max(1.0, abs(second)):
            raise SystemExit(
                f"{name}: losses differ after one round: {first} vs {second}"
            )
        cpu_ratios, walls = [], []
        for i in range(REPEATS):
            # Alternate which side runs first, so that neither inherits a warmer
            # cache or a quieter machine more often.
            if i % 2:
                b, a = timed(theirs), timed(ours)
            else:
                a, b = timed(ours), timed(theirs)
            cpu_ratios.append(a[1] / b[1])
            walls.append((a[0], b[0]))
        wall_cdl = statistics.median(w[0] for w in walls) / STEPS * 1e3
        wall_eqx = statistics.median(w[1] for w in walls) / STEPS * 1e3
        ratios[name] = statistics.median(cpu_ratios)
        print(
            f"{name:7s} step: cdl {wall_cdl:7.2f} ms, Equinox twin {wall_eqx:7.2f} ms "
            f"(wall medians); CPU-time ratio {ratios[name]:.3f}"
        )
    for name, ratio in ratios.items():
        verdict = "met" if ratio <= GOAL else "missed"
        print(
            f"target: {name}_train_step_ratio "
            f"measured={ratio:.3f} goal={GOAL} {verdict}"
        )
    return ratios


if __name__ == "__main__":
    main()
