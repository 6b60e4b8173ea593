"""best_response_gains takes a NumPy int number of steps."""

import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.games import Game, Move, Player, best_response_gains


def test_best_response_gains_takes_numpy_int_steps() -> None:
    # steps=np.int64(100) was refused: "steps must be a positive int".
    x = Player("x", Move(1.0), cdl.SGD(0.1))
    y = Player("y", Move(0.0), cdl.SGD(0.1))
    losses = {
        "x": lambda o, _: (o[0] - o[1]) ** 2,
        "y": lambda o, _: (o[1] - 2 * o[0]) ** 2,
    }
    game = Game(x @ y, losses)
    state = game.init()
    gains = best_response_gains(game, state, steps=np.int64(100))
    np.testing.assert_array_equal(gains, best_response_gains(game, state, steps=100))
    np.testing.assert_allclose(gains, [1.0, 4.0], atol=1e-3)  # x to 0, y to 2
    for bad in (True, 2.0, jnp.array([3]), 0):
        with pytest.raises(ValueError, match="steps"):
            best_response_gains(game, state, steps=bad)
