"""Best responses: how much a player gains by changing its parameters alone."""

import operator
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ..optics import AbstractOptimiser
from . import _messages
from ._game import Game, GameState, require_state


def best_response_gains(
    game: Game,
    state: GameState,
    inputs: Any = None,
    targets: Any = None,
    *,
    steps: int = 200,
    optimiser: AbstractOptimiser | None = None,
    key: PRNGKeyArray | None = None,
) -> Float[Array, " players"]:
    """Each player's gain from optimising alone while the others stay put.

    For each player in turn, the others' parameters are held fixed and the player
    runs `steps` steps of `optimiser` (its own by default) on its own loss; its gain
    is its loss at `state` minus the least loss it reached. At a (local) Nash
    equilibrium every gain is close to 0: no player can do better alone.

    **Arguments:** `game`; `state`; `inputs`, `targets`, `key` as for
    `Game.losses_at`; `steps`, the length of each search; `optimiser`, used
    instead of the players' own.

    **Returns:** one gain per player, in the order of `game.names` (never negative).

    >>> import cdl
    >>> from cdl.games import Game, Move, Player, best_response_gains
    >>> x = Player("x", Move(1.0), cdl.SGD(0.1))
    >>> y = Player("y", Move(0.0), cdl.SGD(0.1))
    >>> game = Game(x @ y, {"x": lambda o, _: (o[0] - o[1]) ** 2,
    ...                    "y": lambda o, _: (o[1] - 2 * o[0]) ** 2})
    >>> best_response_gains(game, game.init(), steps=100)   # x gains 1, y gains 4
    Array([1...,  4...], dtype=float32)
    """
    require_state("best_response_gains", state)
    try:  # an int, NumPy's too (not a bool)
        count = -1 if isinstance(steps, bool) else operator.index(steps)
    except TypeError:
        count = -1
    if count < 1:
        raise ValueError(_messages.bad_steps(steps))
    if optimiser is not None and not isinstance(optimiser, AbstractOptimiser):
        raise TypeError(_messages.not_an_optimiser("best_response_gains", optimiser))
    gains = []
    for i in range(len(game.names)):
        opt = game.optimisers[i] if optimiser is None else optimiser

        def own(p: Any, i: int = i) -> Float[Array, ""]:
            params = state.params[:i] + (p,) + state.params[i + 1 :]
            return game.losses_at(params, inputs, targets, key=key)[i]

        def search(
            carry: tuple[Any, Any, Float[Array, ""]], _: None, own: Any = own,
            opt: AbstractOptimiser = opt,
        ) -> tuple[tuple[Any, Any, Float[Array, ""]], None]:  # fmt: skip
            opt_state, p, best = carry
            loss, grad = jax.value_and_grad(own)(p)
            opt_state, p = opt.put((opt_state, p), grad)
            return (opt_state, p, jnp.minimum(best, loss)), None

        start = state.params[i]
        now = own(start)
        (_, last, best), _ = jax.lax.scan(
            search, (opt.init(start), start, now), None, length=count
        )
        gains.append(jnp.maximum(now - jnp.minimum(best, own(last)), 0.0))
    return jnp.stack(gains)
