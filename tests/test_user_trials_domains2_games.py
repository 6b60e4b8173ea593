"""Games as a new user plays them, second round: states, batches, their losses."""

import re
import traceback

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.games import Game, Move, Player, best_response_gains


def _pennies() -> Game:
    x = Player("x", Move(jnp.array([0.3, 0.0])), cdl.SGD(0.1))
    y = Player("y", Move(jnp.array([-0.2, 0.0])), cdl.SGD(0.1))
    a = jnp.array([[1.0, -1.0], [-1.0, 1.0]])

    def payoff(sign: float) -> object:
        def loss(o: tuple[jax.Array, jax.Array], _: object) -> jax.Array:
            p, q = jax.nn.softmax(o[0]), jax.nn.softmax(o[1])
            return -sign * (p @ a @ q)

        return loss

    return Game(x @ y, {"x": payoff(1.0), "y": payoff(-1.0)})


@pytest.mark.parametrize(
    "call",
    [
        lambda g, s: best_response_gains(g, s.params, steps=2),
        lambda g, s: g.step(s.params),
        lambda g, s: g.model_of(s.params, "x"),
    ],
    ids=["best_response_gains", "step", "model_of"],
)
def test_parameters_given_where_the_state_belongs_are_named(call: object) -> None:
    game = _pennies()
    state = game.init()
    # best_response_gains(game, state.params): "'tuple' object has no attribute
    # 'params'" (an AttributeError).
    with pytest.raises(TypeError, match=r"must be a cdl.games.GameState .* tuple"):
        call(game, state)  # type: ignore[operator]


def test_a_batched_game_played_without_inputs_is_named() -> None:
    x = Player("x", Move(jnp.array([1.0, 0.0])), cdl.SGD(0.1))
    y = Player("y", Move(jnp.array([0.0, 1.0])), cdl.SGD(0.1))
    game = Game(
        x @ y,
        {
            "x": lambda o, _: jnp.vdot(o[0], o[1]),
            "y": lambda o, _: -jnp.vdot(o[0], o[1]),
        },
        batched=True,
    )
    # It was JAX's "vmap wrapped function must be passed at least one argument".
    with pytest.raises(
        ValueError, match=re.escape("build the game with batched=False")
    ):
        game.step(game.init())


def test_an_error_inside_a_loss_names_its_player() -> None:
    x = Player("x", Move(jnp.array([1.0, 0.0])), cdl.SGD(0.1))
    y = Player("y", Move(jnp.array([0.0, 1.0])), cdl.SGD(0.1))
    payoff = jnp.ones((3, 3))  # a 3×3 payoff for strategies of two actions
    game = Game(
        x @ y,
        {
            "x": lambda o, _: -jnp.vdot(o[0], o[1]),
            "y": lambda o, _: o[0] @ payoff @ o[1],
        },
    )
    with pytest.raises(TypeError) as info:
        game.step(game.init())
    assert "(raised in the loss of player 'y')" in "".join(
        traceback.format_exception(info.value)
    )


@pytest.mark.slow
def test_matching_pennies_under_consensus_reaches_the_mixed_equilibrium() -> None:
    x = Player("x", Move(jnp.array([0.3, 0.0])), cdl.SGD(0.2))
    y = Player("y", Move(jnp.array([-0.2, 0.0])), cdl.SGD(0.2))
    game = _pennies()
    game = Game(x @ y, dict(zip(game.names, game.losses, strict=True)),
                rule=cdl.games.Consensus(1.0))  # fmt: skip
    state = game.init()
    step = eqx.filter_jit(game.step)
    for _ in range(200):
        state, _ = step(state)
    p, q = (jax.nn.softmax(m) for m in game.outcome(state.params))
    assert jnp.allclose(p, 0.5, atol=1e-3) and jnp.allclose(q, 0.5, atol=1e-3)
    assert jnp.all(best_response_gains(game, state, steps=50) < 1e-3)


def test_one_example_given_to_a_batched_game_says_the_game_is_batched() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    enc = Player("enc", cdl.Linear(4, 8, key=k1) >> cdl.Tanh(), cdl.SGD(0.1))
    head = Player("head", cdl.Linear(8, 3, key=k2), cdl.SGD(0.1))
    loss = cdl.SoftmaxCrossEntropy()
    game = Game(enc >> head, {"enc": loss, "head": loss}, batched=True)
    # It said only "expects input float[4], but was given f32[] (rank 1 is not
    # rank 0)": the vector's own axis had been taken as the batch.
    with pytest.raises(cdl.SpaceError, match=r"rank 0\)\. The game is batched: it"):
        game.step(game.init(), jnp.ones(4), jnp.array(0))
    assert game.outcome(game.init().params, jnp.ones((1, 4))).shape == (1, 3)
