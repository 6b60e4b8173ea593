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


def test_lola_reads_a_vector_of_rates_as_one_per_player() -> None:
    # LOLA(np.array([0.1, 0.0])) was taken as one rate and broadcast against
    # each player's parameters, entry by entry: the first player's first
    # coordinate used 0.1 and its second 0.0. Arrays of rates in other rules
    # (Extragradient(np.array([0.1, 0.2]))) did the same and are now refused.
    from cdl.games import LOLA, Extragradient

    p = (jnp.array([1.0, 2.0]), jnp.array([0.5, -1.0]))

    def losses(p):
        return (jnp.vdot(p[0], p[1]) + jnp.sum(p[0] ** 2), -jnp.vdot(p[0], p[1]))

    want, _ = LOLA((0.1, 0.0)).direction(losses, p, ((), ()))
    for rates in (np.array([0.1, 0.0]), jnp.array([0.1, 0.0])):
        got, _ = LOLA(rates).direction(losses, p, ((), ()))
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-6)
    # By hand: x's direction is grad_x L_x - 0.1 * d/dx <grad_y L_y, v> with
    # v = grad_y L_x = x held fixed: (y + 2x) - 0.1 * d/dx <-x, v> = y + 2.1 x;
    # y is naive: -x.
    np.testing.assert_allclose(want[0], p[1] + 2.1 * p[0], rtol=1e-6)
    np.testing.assert_allclose(want[1], -p[0], rtol=1e-6)
    with pytest.raises(ValueError, match="one per player"):
        LOLA(np.array([0.1, 0.0, 0.3])).init(p)
    with pytest.raises(TypeError, match="step must be a number"):
        Extragradient(np.array([0.1, 0.2]))
