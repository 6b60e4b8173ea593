"""Games: an order of turns given to simultaneous play is refused, not ignored."""

import jax.numpy as jnp
import numpy as np
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


@pytest.mark.parametrize("value", [None, "abc", [1, [2, 3]], 3 + 2j, np.array([True])])
def test_a_move_that_is_not_real_numbers_is_named(value: object) -> None:
    # None and strings failed in jnp.asarray ("None is not a valid value for
    # jnp.array"); a complex number lost its imaginary part.
    with pytest.raises(TypeError, match="Move: the initial move must be a number or"):
        Move(value)  # type: ignore[arg-type]
    assert Move([1, 2]).value.dtype == jnp.float32
