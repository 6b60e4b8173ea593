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


def trajectory(game: Game, steps: int) -> list[tuple[Any, Any]]:
    """The moves ``(x, y)`` after each of `steps` rounds, the start first."""
    step = eqx.filter_jit(game.step)
    state = game.init()
    out = [game.outcome(state.params)]
    for _ in range(steps):
        state, _ = step(state)
        out.append(game.outcome(state.params))
    return out


def distance(move: tuple[Any, Any]) -> float:
    """The distance of ``(x, y)`` to the equilibrium ``(0, 0)``."""
    x, y = move
    return float(jnp.sqrt(jnp.sum(x**2) + jnp.sum(y**2)))


def games(eta: float = ETA) -> dict[str, Game]:
    """The dynamics compared, by name."""
    return {
        "plain, simultaneous": bilinear_game(GradientPlay(), eta=eta),
        "plain, alternating": bilinear_game(GradientPlay(), "alternating", eta),
        "extragradient": bilinear_game(Extragradient(eta), eta=eta),
        "optimistic": bilinear_game(Optimistic(), eta=eta),
        "consensus (γ=1)": bilinear_game(Consensus(1.0), eta=eta),
        "SGA (λ=0.5)": bilinear_game(SGA(0.5), eta=eta),
        "LOLA (α=0.25)": bilinear_game(LOLA(0.25), eta=eta),
    }


def main(steps: int = 300, plot: str | None = PLOT) -> dict[str, list[float]]:
    """Run every dynamics for `steps` rounds; print and plot the distances."""
    paths = {name: trajectory(game, steps) for name, game in games().items()}
    curves = {name: [distance(m) for m in path] for name, path in paths.items()}
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
        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
        styles = ["-", "-", "--", ":", "-", "-.", "--"]
        for (name, path), style in zip(paths.items(), styles, strict=True):
            xs = [float(x[0]) for x, _ in path]
            ys = [float(y[0]) for _, y in path]
            left.plot(xs, ys, style, linewidth=1, label=name)
            right.semilogy(curves[name], style, label=name)
        left.plot([0], [0], "k*", markersize=10)
        left.set_xlabel("x₁")
        left.set_ylabel("y₁")
        left.set_aspect("equal")
        left.set_title("first coordinates (x₁, y₁), from (1, 0)")
        right.set_xlabel("step")
        right.set_ylabel("distance to the equilibrium")
        right.set_title(f"min_x max_y x·y, SGD(η = {ETA}) for both")
        right.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(pathlib.Path(plot), dpi=100)
        plt.close(figure)
    return curves


if __name__ == "__main__":
    main()
