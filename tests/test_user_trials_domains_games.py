"""Games as a new user writes them: classic games and the mistakes made on the way."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.games import (
    LOLA,
    SGA,
    Consensus,
    Extragradient,
    Game,
    Move,
    Player,
    all_gradients,
    best_response_gains,
    simultaneous_gradient,
)


def _player(name: str) -> Player[object, object]:
    return Player(name, Move(jnp.zeros(2)), cdl.SGD(0.1))


@pytest.mark.parametrize(
    ("loss", "says"),
    [
        (3.0, r"loss of player 'x' must be a function .* given float 3.0"),
        (cdl.SoftmaxCrossEntropy, r"the class SoftmaxCrossEntropy; give an instance"),
        (lambda o: jnp.sum(o), r"called as `loss\(outcome, targets\)`, but its sig"),
    ],
)
def test_a_loss_of_the_wrong_kind_is_named_when_the_game_is_built(
    loss: object, says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        Game(_player("x"), {"x": loss})  # type: ignore[dict-item]


def test_losses_given_as_a_list_are_named() -> None:
    with pytest.raises(TypeError, match="losses must map each player's name"):
        Game(_player("x"), [lambda o, _: jnp.sum(o)])  # type: ignore[arg-type]


def test_a_state_of_another_game_is_named() -> None:
    x, y = _player("x"), _player("y")
    pair = Game(x @ y, {"x": lambda o, _: o[0] @ o[1], "y": lambda o, _: -o[0] @ o[1]})
    alone = Game(x, {"x": lambda o, _: jnp.sum(o**2)})
    with pytest.raises(ValueError, match=r"one entry per player \['x'\] .* tuple of 2"):
        alone.step(pair.init())
    linear = Player("x", cdl.Linear(2, 2, key=jax.random.key(0)), cdl.SGD(0.1))
    other = Game(linear, {"x": lambda o, _: jnp.sum(o**2)})
    with pytest.raises(ValueError, match=r"player 'x' do not fit its model Linear"):
        other.step(alone.init(), jnp.ones(2))


class _Squared:
    def __call__(self, outcome: jax.Array, targets: object = None) -> jax.Array:
        return jnp.sum((outcome - 1.0) ** 2)


def test_a_loss_that_is_any_callable_of_two_arguments_is_taken() -> None:
    game = Game(_player("x"), {"x": _Squared()})
    state, losses = game.step(game.init())
    assert losses.tolist() == [2.0] and int(state.step) == 1


PARAMS = (jnp.array(1.0), jnp.array(2.0))


def test_simultaneous_gradient_takes_one_loss_function_per_player() -> None:
    each = (lambda p: p[0] * p[1], lambda p: -p[0] * p[1])
    joined = simultaneous_gradient(lambda p: (p[0] * p[1], -p[0] * p[1]), PARAMS)
    assert [float(d) for d in simultaneous_gradient(each, PARAMS)] == [2.0, -1.0]
    assert [float(d) for d in joined] == [2.0, -1.0]
    rows = all_gradients(list(each), PARAMS)
    assert [[float(d) for d in row] for row in rows] == [[2.0, 1.0], [-2.0, -1.0]]


@pytest.mark.parametrize(
    ("losses", "says"),
    [
        (lambda p: (p[0] * p[1],), r"one scalar per player \(2, .*gave 1\."),
        (lambda p: p[0] * p[1], r"one scalar per player .*gave a single value"),
        (lambda p: (p[0] * jnp.ones(2), p[1]), r"shapes \[\(2,\), \(\)\]"),
    ],
)
def test_losses_that_are_not_one_scalar_per_player_are_named(
    losses: object, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        simultaneous_gradient(losses, PARAMS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=says):
        all_gradients(losses, PARAMS)  # type: ignore[arg-type]


def test_a_whole_state_given_for_parameters_says_to_pass_its_params() -> None:
    game = Game(_player("x"), {"x": lambda o, _: jnp.sum(o**2)})
    with pytest.raises(ValueError, match=r"a whole GameState: pass `state.params`"):
        game.outcome(game.init())  # type: ignore[arg-type]


def test_best_response_gains_names_an_optimiser_that_is_not_one() -> None:
    game = Game(_player("x"), {"x": lambda o, _: jnp.sum(o**2)})
    with pytest.raises(TypeError, match=r"best_response_gains: the optimiser must"):
        best_response_gains(game, game.init(), optimiser="adam")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (lambda: SGA("big"), r"SGA: lam must be a number, but was given str 'big'"),
        (lambda: Consensus(None), r"Consensus: gamma must be a number"),
        (lambda: Extragradient(True), r"Extragradient: step must be a number"),
        (lambda: LOLA([0.1, 0.2]), r"LOLA: alpha .* \(or a tuple, one per player\)"),
        (lambda: LOLA((0.1, "x")), r"LOLA: alpha must be a number"),
    ],
)
def test_rule_coefficients_that_are_not_numbers_are_named(
    build: Callable[[], object], says: str
) -> None:
    with pytest.raises(TypeError, match=says):
        build()


def test_rule_coefficients_may_be_arrays_and_traced() -> None:
    losses = (lambda p: p[0] * p[1], lambda p: -p[0] * p[1])

    def first(gamma: jax.Array) -> jax.Array:
        rule = Consensus(gamma)
        direction, _ = rule.direction(
            lambda p: (losses[0](p), losses[1](p)), PARAMS, ((), ())
        )
        return direction[0]

    assert jax.jit(first)(jnp.array(1.0)) == first(jnp.array(1.0))
