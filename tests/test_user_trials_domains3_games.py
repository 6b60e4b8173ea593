"""Games: an order of turns given to simultaneous play is refused, not ignored."""

import jax.numpy as jnp
import pytest

import cdl
from cdl.games import Game, Move, Player

X = Player("x", Move(jnp.array([1.0])), cdl.SGD(0.1))
Y = Player("y", Move(jnp.array([2.0])), cdl.SGD(0.1))
LOSSES = {"x": lambda o, _: o[0][0] * o[1][0], "y": lambda o, _: -o[0][0] * o[1][0]}


def test_an_order_given_to_simultaneous_play_is_refused() -> None:
    # It was stored and never read: every player moved at once whatever the order.
    with pytest.raises(ValueError, match=r"order of turns \['y', 'x'\] was given, but"):
        Game(X @ Y, LOSSES, order=["y", "x"])
    game = Game(X @ Y, LOSSES, play="alternating", order=["y", "x"])
    state, _ = game.step(game.init())
    # y moved first (to 2 + 0.1·1), then x against the new y (1 − 0.1·2.1)
    assert jnp.allclose(state.params[1].value, 2.1)
    assert jnp.allclose(state.params[0].value, 0.79)
