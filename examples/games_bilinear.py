"""The bilinear game ``min_x max_y x·y``: plain gradient play spirals, others converge.

Two players each own one vector; x pays ``x·y`` and y pays ``−x·y``, and the only
equilibrium is the origin. Plain simultaneous gradient play rotates around it and
moves outwards: each step multiplies the distance by exactly ``√(1 + η²)``.
Alternating play stays on a closed orbit. Extragradient, optimistic gradient,
consensus optimisation, symplectic gradient adjustment and LOLA all converge.

Run: ``python examples/games_bilinear.py`` (prints the distances, writes
``docs/images/games-bilinear.png``).
"""

import pathlib
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cdl  # noqa: E402
from cdl.games import (  # noqa: E402
    LOLA,
    SGA,
    AbstractGameRule,
    Consensus,
    Extragradient,
    Game,
    GradientPlay,
    Move,
    Optimistic,
    Player,
)

ETA: float = 0.1
PLOT: str = str(pathlib.Path(__file__).parent.parent / "docs/images/games-bilinear.png")


def bilinear_game(
    rule: AbstractGameRule, play: Any = "simultaneous", eta: float = ETA
) -> Game:
    """``min_x max_y x·y`` from ``x = (1, 0)``, ``y = (0, 1)``, both on SGD(η)."""
    x = Player("x", Move(jnp.array([1.0, 0.0])), cdl.SGD(eta))
    y = Player("y", Move(jnp.array([0.0, 1.0])), cdl.SGD(eta))
    return Game(
        x @ y,
        {
            "x": lambda o, _: jnp.vdot(o[0], o[1]),
            "y": lambda o, _: -jnp.vdot(o[0], o[1]),
        },
        rule=rule,
        play=play,
    )


def distances(game: Game, steps: int) -> list[float]:
    """The distance to the equilibrium after each of `steps` rounds (start first)."""
    step = eqx.filter_jit(game.step)
    state = game.init()
    out = []
    for _ in range(steps + 1):
        x, y = game.outcome(state.params)
        out.append(float(jnp.sqrt(jnp.sum(x**2) + jnp.sum(y**2))))
        state, _ = step(state)
    return out


def games(eta: float = ETA) -> dict[str, Game]:
    """The dynamics compared, by name."""
    return {
        "plain, simultaneous": bilinear_game(GradientPlay(), eta=eta),
        "plain, alternating": bilinear_game(GradientPlay(), "alternating", eta),
        "extragradient": bilinear_game(Extragradient(eta), eta=eta),
        "optimistic": bilinear_game(Optimistic(), eta=eta),
        "consensus (γ=1)": bilinear_game(Consensus(1.0), eta=eta),
        "SGA (λ=1)": bilinear_game(SGA(1.0), eta=eta),
        "LOLA (α=1)": bilinear_game(LOLA(1.0), eta=eta),
    }


def main(steps: int = 300, plot: str | None = PLOT) -> dict[str, list[float]]:
    """Run every dynamics for `steps` rounds; print and plot the distances."""
    curves = {name: distances(game, steps) for name, game in games().items()}
    marks = sorted({0, steps // 10, steps // 3, steps})
    print(f"distance to the equilibrium, η = {ETA}")
    print(f"{'dynamics':<22}" + "".join(f"{f'step {t}':>12}" for t in marks))
    for name, curve in curves.items():
        print(f"{name:<22}" + "".join(f"{curve[t]:>12.3g}" for t in marks))
    plain = curves["plain, simultaneous"]
    print(
        f"plain play: the distance grew × {plain[-1] / plain[0]:.6g} in {steps} "
        f"steps; √(1+η²)^{steps} = {(1 + ETA**2) ** (steps / 2):.6g}"
    )
    if plot is not None:
        figure, axes = plt.subplots(figsize=(7, 4.5))
        for name, curve in curves.items():
            axes.semilogy(curve, label=name)
        axes.set_xlabel("step")
        axes.set_ylabel("distance to the equilibrium")
        axes.set_title(f"min_x max_y x·y, η = {ETA}")
        axes.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(pathlib.Path(plot), dpi=100)
        plt.close(figure)
    return curves


if __name__ == "__main__":
    main()
