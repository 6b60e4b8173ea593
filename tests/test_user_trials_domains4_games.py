"""Games refuse NaN and infinite coefficients and moves, and non-bool switches."""

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
    Optimistic,
    Player,
)

KEY = jax.random.key(0)
_X = Player("x", Move(jnp.array([1.0])), cdl.SGD(0.1))
_Y = Player("y", Move(jnp.array([0.0])), cdl.SGD(0.1))
_LOSSES = {
    "x": lambda o, _: (o[0] * o[1]).sum(),
    "y": lambda o, _: -(o[0] * o[1]).sum(),
}


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda v: Extragradient(v), "step"),
        (lambda v: Consensus(v), "gamma"),
        (lambda v: SGA(v), "lam"),
        (lambda v: LOLA(v), "alpha"),
        (lambda v: LOLA((1.0, v)), "alpha"),
        (lambda v: Optimistic(Consensus(v)), "gamma"),
    ],
)
def test_a_coefficient_that_is_not_finite_is_refused(build, name):  # type: ignore[no-untyped-def]
    # Consensus(nan) was taken, and every step then made both moves NaN.
    for bad in (float("nan"), float("inf"), jnp.array(jnp.nan)):
        with pytest.raises(ValueError, match=f"{name} must be finite"):
            build(bad)
    rule = build(0.5)  # a finite value still plays
    game = Game(_X @ _Y, _LOSSES, rule=rule)
    state, _ = game.step(game.init())
    assert bool(jnp.all(jnp.isfinite(jnp.concatenate(game.outcome(state.params)))))


def test_a_move_that_is_not_finite_or_real_is_refused() -> None:
    with pytest.raises(ValueError, match="initial move must be finite"):
        Move(float("nan"))
    with pytest.raises(ValueError, match="initial move must be finite"):
        Move(jnp.array([0.0, jnp.inf]))
    # A complex jax array lost its imaginary part (only other values were checked).
    with pytest.raises(TypeError, match="array of real numbers"):
        Move(jnp.array([1.0 + 1.0j]))


def test_switches_take_only_bools() -> None:
    # 'yes' and 'no' were both read as True.
    with pytest.raises(TypeError, match="SGA: align must be True or False"):
        SGA(1.0, align="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Game: batched must be True or False"):
        Game(_X @ _Y, _LOSSES, batched="no")  # type: ignore[arg-type]


def test_a_key_that_is_not_a_prng_key_is_named() -> None:
    # key=0 failed inside jax.random.split with "invalid PRNG key data" (a
    # stochastic arena) or was ignored without a word (a deterministic one).
    dropout = Player("d", cdl.Dropout(0.5) >> cdl.Linear(2, 1, key=KEY), cdl.SGD(0.1))
    game = Game(dropout, {"d": cdl.MeanSquaredError()}, batched=True)
    x, y = jnp.ones((4, 2)), jnp.zeros((4, 1))
    with pytest.raises(TypeError, match=r"Game\(d\): key must be a PRNG key"):
        game.step(game.init(), x, y, key=0)  # type: ignore[arg-type]
    plain = Game(_X @ _Y, _LOSSES)
    with pytest.raises(TypeError, match="key must be a PRNG key"):
        plain.step(plain.init(), key="a")  # type: ignore[arg-type]
    assert game.step(game.init(), x, y, key=KEY)[1].shape == (1,)
