"""Games tried as an outside user tries them (seventh round)."""

import jax.numpy as jnp
import pytest

import cdl
from cdl.games import Game, Player


def _game() -> Game:
    import jax

    k1, k2 = jax.random.split(jax.random.key(0))
    gen = Player("gen", cdl.Linear(2, 2, key=k1), cdl.SGD(0.1))
    disc = Player("disc", cdl.Linear(2, 1, key=k2), cdl.SGD(0.1))
    arena = (gen @ cdl.Identity()) >> (disc @ disc)
    losses = {
        "disc": lambda o, _: jnp.mean(o[0]) - jnp.mean(o[1]),
        "gen": lambda o, _: -jnp.mean(o[0]),
    }
    return Game(arena, losses, batched=True)


def test_a_batched_game_names_inputs_of_different_batch_sizes() -> None:
    # A noise batch of 16 beside a real batch of 5 failed inside jax.vmap with
    # "vmap got inconsistent sizes for array axes to be mapped".
    game = _game()
    state = game.init()
    with pytest.raises(
        ValueError, match=r"same leading \(batch\) axis.*\(16, 2\), \(5, 2\)"
    ):
        game.step(state, (jnp.ones((16, 2)), jnp.ones((5, 2))))
    with pytest.raises(ValueError, match=r"shapes are \(4, 2\), \(\)"):
        game.step(state, (jnp.ones((4, 2)), jnp.array(1.0)))
    _, losses = game.step(state, (jnp.ones((4, 2)), jnp.ones((4, 2))))
    assert losses.shape == (2,)


def test_a_batched_game_hints_at_batching_only_for_one_example() -> None:
    # Any wrong input, a width of 3 for 2 say, was told "The game is batched: ...
    # give a batch (one example as x[None])", which is no help for a width.
    game = _game()
    state = game.init()
    with pytest.raises(cdl.SpaceError, match=r"dimension 2 is not 3\)\.$"):
        game.step(state, (jnp.ones((4, 3)), jnp.ones((4, 2))))
    with pytest.raises(cdl.SpaceError, match=r"rank 0\)\. The game is batched: it"):
        game.step(state, (jnp.ones(2), jnp.ones(2)))
