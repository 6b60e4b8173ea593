"""The iterated prisoner's dilemma: naive learners defect, LOLA learners cooperate.

Each player's strategy is five logits: the probability of cooperating first, and
after each outcome of the last round (CC, CD, DC, DD, seen from its own side). The
players are `Move`s, and each loss is minus the exact discounted return of the
infinitely repeated game, ``p₀ᵀ (I − γ P)⁻¹ r`` (Foerster et al. 2018),
differentiated through the matrix inverse; the learning rate (1) and look-ahead
(0.5) are the paper's. Naive gradient learners (``α = 0``)
drift to mutual defection; LOLA learners, who shape each other's learning step,
find reciprocity (tit-for-tat-like strategies) and cooperate.

Run: ``python examples/games_ipd.py``.
"""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import cdl
from cdl.games import LOLA, Game, Move, Player

DISCOUNT: float = 0.96
# rewards of (CC, CD, DC, DD) for the first player; the second's are the mirror
REWARD: Float[Array, "4"] = jnp.array([-1.0, -3.0, 0.0, -2.0])
MIRROR: Float[Array, "4"] = jnp.array([-1.0, 0.0, -3.0, -2.0])


def outcome_distribution(
    policies: tuple[Array, Array],
) -> tuple[Float[Array, "4"], Float[Array, "4 4"]]:
    """The first round's outcome and the round-to-round transition matrix."""
    p1 = jax.nn.sigmoid(policies[0])
    p2 = jax.nn.sigmoid(policies[1])[jnp.array([0, 1, 3, 2, 4])]  # its own view
    start = jnp.array(
        [p1[0] * p2[0], p1[0] * (1 - p2[0]), (1 - p1[0]) * p2[0],
         (1 - p1[0]) * (1 - p2[0])]
    )  # fmt: skip
    a, b = p1[1:], p2[1:]
    moves = jnp.stack([a * b, a * (1 - b), (1 - a) * b, (1 - a) * (1 - b)], axis=1)
    return start, moves


def visits(policies: tuple[Array, Array]) -> Float[Array, "4"]:
    """The discounted number of rounds that end in each outcome (sums to 1/(1−γ))."""
    start, moves = outcome_distribution(policies)
    return jnp.linalg.solve((jnp.eye(4) - DISCOUNT * moves).T, start)


def loss_one(policies: tuple[Array, Array], _: None) -> Float[Array, ""]:
    """Minus the first player's discounted return."""
    return -jnp.vdot(visits(policies), REWARD)


def loss_two(policies: tuple[Array, Array], _: None) -> Float[Array, ""]:
    """Minus the second player's discounted return."""
    return -jnp.vdot(visits(policies), MIRROR)


def ipd(rates: tuple[float, float], seed: int, learning_rate: float = 1.0) -> Game:
    """Two players with random strategies; `rates` are their LOLA look-aheads."""
    k1, k2 = jax.random.split(jax.random.key(seed))
    one = Player("one", Move(jax.random.normal(k1, (5,))), cdl.SGD(learning_rate))
    two = Player("two", Move(jax.random.normal(k2, (5,))), cdl.SGD(learning_rate))
    return Game(one @ two, {"one": loss_one, "two": loss_two}, rule=LOLA(rates))


def play(game: Game, steps: int) -> tuple[float, float]:
    """The mean reward per round and the share of mutual cooperation at the end."""
    step = eqx.filter_jit(game.step)
    state = game.init()
    for _ in range(steps):
        state, _ = step(state)
    share = (1 - DISCOUNT) * visits(game.outcome(state.params))
    reward = -(1 - DISCOUNT) * jnp.mean(jnp.stack(game.losses_at(state.params)))
    return float(reward), float(share[0])


def main(steps: int = 200, seeds: int = 5, lola: float = 0.5) -> dict[str, Any]:
    """Naive and LOLA pairs over `seeds` starts; print rewards and cooperation."""
    pairs = {"naive vs naive": (0.0, 0.0), "LOLA vs naive": (lola, 0.0),
             "LOLA vs LOLA": (lola, lola)}  # fmt: skip
    results: dict[str, Any] = {}
    print(f"{'pair':<16}{'reward per round':>18}{'CC share':>10}  (over {seeds} seeds)")
    for name, rates in pairs.items():
        runs = [play(ipd(rates, seed), steps) for seed in range(seeds)]
        reward = sum(r for r, _ in runs) / seeds
        cooperation = sum(c for _, c in runs) / seeds
        results[name] = (reward, cooperation)
        print(f"{name:<16}{reward:>18.3f}{cooperation:>10.0%}")
    return results


if __name__ == "__main__":
    main()
