"""Trial round 8: games whose players hold batch norm."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.architectures import with_state
from cdl.games import Game, Player


def _stateful():
    k1, k2 = jax.random.split(jax.random.key(0))
    bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(4)
    body = (
        with_state(cdl.Linear(2, 4, key=k1))
        >> bn
        >> with_state(cdl.Linear(4, 1, key=k2))
    )
    return body, state


def _loss(outcome, _):
    return jnp.mean(outcome[0] ** 2)


@pytest.mark.parametrize("batched", [False, True])
def test_a_game_names_a_player_with_batch_norm_in_training(batched):
    # The first round failed: batched, with "each of its inputs needs the same
    # leading (batch) axis, but their shapes are (8, 2), (4,), (4,)" (the
    # state's arrays); unbatched, with a NameError about the axis 'batch'.
    body, _ = _stateful()
    player = Player("d", body, cdl.SGD(0.1))
    with pytest.raises(ValueError, match="BatchNorm\\(4\\) in player 'd' keeps"):
        Game(player, {"d": _loss}, batched=batched)


def test_a_player_with_batch_norm_in_inference_mode_plays():
    body, state = _stateful()
    player = Player("d", cdl.inference_mode(body), cdl.SGD(0.1))
    game = Game(player, {"d": _loss})
    _, losses = game.step(game.init(), (jnp.ones(2), state))
    assert losses.shape == (1,) and bool(jnp.isfinite(losses).all())
