"""Games: each player's step, the closed forms of the update rules, equilibria."""

import dataclasses
import io
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float

import cdl
from cdl.games import (
    LOLA,
    SGA,
    AbstractGameRule,
    Consensus,
    Extragradient,
    Game,
    GameState,
    GradientPlay,
    Move,
    Optimistic,
    Player,
    best_response_gains,
    simultaneous_gradient,
)

floats = st.floats(-2.0, 2.0, allow_nan=False, width=32)


def x_pays(o: Any, _: None) -> Any:
    """x's loss in a bilinear game: ``x·y``."""
    return jnp.vdot(o[0], o[1])


def y_pays(o: Any, _: None) -> Any:
    """y's loss: ``−x·y``."""
    return -jnp.vdot(o[0], o[1])


def bilinear(
    x0: Any,
    y0: Any,
    eta: float,
    rule: AbstractGameRule | None = None,
    play: Any = "simultaneous",
) -> Game:
    """``min_x max_y x·y`` with both players on SGD(η).

    The rate is an array and the losses are module-level functions, so jitted steps
    of games with other rates and starts share one compilation.
    """
    x = Player("x", Move(x0), cdl.SGD(jnp.asarray(eta)))
    y = Player("y", Move(y0), cdl.SGD(jnp.asarray(eta)))
    return Game(x @ y, {"x": x_pays, "y": y_pays}, rule=rule, play=play)


def run(game: Game, steps: int) -> list[Any]:
    """The outcomes of `steps` rounds, the start included."""
    step = eqx.filter_jit(game.step)
    state = game.init()
    outcomes = [game.outcome(state.params)]
    for _ in range(steps):
        state, _ = step(state)
        outcomes.append(game.outcome(state.params))
    return outcomes


def radius(outcome: Any) -> float:
    x, y = outcome
    return float(jnp.sqrt(jnp.sum(x**2) + jnp.sum(y**2)))


# --- plain play on the bilinear game: the closed form --------------------------------


@settings(max_examples=10, deadline=None)
@given(
    st.lists(floats, min_size=4, max_size=4),
    st.floats(0.01, 0.5),
    st.integers(1, 25),
)
def test_plain_play_spirals_out_by_the_closed_form(
    start: list[float], eta: float, steps: int
) -> None:
    x0, y0 = jnp.array(start[:2]), jnp.array(start[2:])
    if float(jnp.sum(x0**2 + y0**2)) < 1e-2:
        return
    outcomes = run(bilinear(x0, y0, eta), steps)
    # θ_{t+1} = M θ_t with M = [[1, −η], [η, 1]] per coordinate pair
    m = np.array([[1.0, -eta], [eta, 1.0]])
    expected = np.linalg.matrix_power(m, steps) @ np.stack([start[:2], start[2:]])
    np.testing.assert_allclose(np.stack(outcomes[-1]), expected, rtol=1e-4, atol=1e-5)
    for before, after in zip(outcomes, outcomes[1:], strict=False):
        assert radius(after) / radius(before) == pytest.approx(
            np.sqrt(1 + eta**2), rel=1e-5
        )


@settings(max_examples=10, deadline=None)
@given(floats, floats, st.floats(0.01, 0.5), st.integers(1, 40))
def test_alternating_play_keeps_its_invariant(
    x0: float, y0: float, eta: float, steps: int
) -> None:
    # x moves, then y sees the new x: x² + y² − η x y is conserved, so the orbit
    # is a closed ellipse instead of a spiral.
    outcomes = run(bilinear(x0, y0, eta, play="alternating"), steps)

    def invariant(o: Any) -> float:
        return float(o[0] ** 2 + o[1] ** 2 - eta * o[0] * o[1])

    for o in outcomes[1:]:
        assert invariant(o) == pytest.approx(invariant(outcomes[0]), rel=1e-4, abs=1e-5)


# --- every other rule converges on it ------------------------------------------------

CONVERGENT = {
    "extragradient": (Extragradient(0.3), 200),
    "optimistic": (Optimistic(), 300),
    "consensus": (Consensus(1.0), 100),
    "sga": (SGA(1.0), 100),
    "sga aligned": (SGA(1.0, align=True), 100),
    "lola": (LOLA(1.0), 100),
    "extragradient of consensus": (Extragradient(0.3, Consensus(0.5)), 100),
    "optimistic sga": (Optimistic(SGA(0.5)), 100),
}


@pytest.mark.parametrize("name", CONVERGENT)
def test_rule_reaches_the_equilibrium(name: str) -> None:
    rule, steps = CONVERGENT[name]
    outcomes = run(bilinear(jnp.array([1.0, -0.5]), jnp.array([0.5, 1.0]), 0.3, rule),
                   steps)  # fmt: skip
    assert radius(outcomes[0]) == pytest.approx(2.5**0.5)
    assert radius(outcomes[-1]) < 1e-3


class Couple(cdl.Para[tuple[Float[Array, " n"], Float[Array, " n"]],
                      tuple[Float[Array, " n"], Float[Array, " n"]]]):  # fmt: skip
    """Nature's part of a bilinear game: ``(x, y) ↦ (x, A y)``, with `a` fixed."""

    a: Float[Array, "n n"]

    def __call__(
        self, xy: tuple[Float[Array, " n"], Float[Array, " n"]]
    ) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
        return xy[0], self.a @ xy[1]


def coupled(
    seed: int, eta: float, rule: AbstractGameRule | None = None
) -> tuple[Game, np.ndarray]:
    """``min_x max_y xᵀAy`` for a random 3×3 `A` with singular values in [0.7, 1.3].

    `A` lives in the arena as an array, so every game of this shape shares one
    compilation of its step.
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    r, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    a = q @ np.diag(rng.uniform(0.7, 1.3, size=3)) @ r.T
    x = Player("x", Move(jnp.asarray(rng.normal(size=3))), cdl.SGD(jnp.asarray(eta)))
    y = Player("y", Move(jnp.asarray(rng.normal(size=3))), cdl.SGD(jnp.asarray(eta)))
    a = a.astype(np.float32)
    game = Game(
        (x @ y) >> Couple(jnp.asarray(a)), {"x": x_pays, "y": y_pays}, rule=rule
    )
    return game, a


def moves(state: GameState) -> tuple[Any, Any]:
    """The two players' moves ``(x, y)`` in a state of a game of `Move`s."""
    return state.params[0].value, state.params[1].value


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 0.5))
def test_plain_play_on_random_bilinear_games_gains_energy_exactly(
    seed: int, eta: float
) -> None:
    # (x − ηAy)² + (y + ηAᵀx)² = x² + y² + η²(‖Ay‖² + ‖Aᵀx‖²): the cross terms cancel.
    game, a = coupled(seed, eta)
    step = eqx.filter_jit(game.step)
    state = game.init()
    for _ in range(10):
        x, y = (np.asarray(v) for v in moves(state))
        state, _ = step(state)
        x1, y1 = (np.asarray(v) for v in moves(state))
        gain = eta**2 * (np.sum((a @ y) ** 2) + np.sum((a.T @ x) ** 2))
        assert x1 @ x1 + y1 @ y1 == pytest.approx(x @ x + y @ y + gain, rel=1e-5)


RANDOM_BILINEAR = [
    Extragradient(0.3),
    Optimistic(),
    Consensus(1.0),
    SGA(1.0),
    LOLA(1.0),
]


@pytest.mark.parametrize("rule", RANDOM_BILINEAR, ids=lambda r: type(r).__name__)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_rules_converge_on_random_bilinear_games(
    rule: AbstractGameRule, seed: int
) -> None:
    game, _ = coupled(seed, 0.3, rule)
    step = eqx.filter_jit(game.step)
    state = game.init()
    start = radius(moves(state))
    for _ in range(400):
        state, _ = step(state)
    assert radius(moves(state)) < 1e-3 * start


# --- closed forms of the rules on random quadratic games ------------------------------


def quadratic_game(seed: int, dims: tuple[int, int]) -> tuple[Any, Any, Any]:
    """Losses ``L_i = ½ θᵀ H_i θ + b_iᵀ θ`` of two players with random H_i, b_i."""
    rng = np.random.default_rng(seed)
    n = sum(dims)
    hs = []
    for _ in range(2):
        a = rng.normal(size=(n, n))
        hs.append((a + a.T) / 2)
    bs = [rng.normal(size=n) for _ in range(2)]

    def losses(p: tuple[Any, Any]) -> tuple[Any, Any]:
        theta = jnp.concatenate(p)
        return tuple(
            0.5 * theta @ h @ theta + b @ theta for h, b in zip(hs, bs, strict=True)
        )

    theta = rng.normal(size=n).astype(np.float32)
    params = (jnp.array(theta[: dims[0]]), jnp.array(theta[dims[0] :]))
    return losses, params, (hs, bs, theta)


def _blocks(dims: tuple[int, int]) -> list[slice]:
    return [slice(0, dims[0]), slice(dims[0], sum(dims))]


def _concat(d: tuple[Any, ...]) -> np.ndarray:
    return np.concatenate([np.asarray(v) for v in d])


dims_strategy = st.tuples(st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000), dims_strategy, st.floats(0.1, 2.0))
def test_rules_match_their_closed_forms(
    seed: int, dims: tuple[int, int], c: float
) -> None:
    losses, params, (hs, bs, theta) = quadratic_game(seed, dims)
    s = _blocks(dims)
    # ξ = M θ + k, with row block i of M and k taken from player i's loss
    m = np.concatenate([hs[i][s[i]] for i in range(2)])
    k = np.concatenate([bs[i][s[i]] for i in range(2)])
    xi = m @ theta + k
    tol = {"rtol": 2e-4, "atol": 2e-4}

    def direction(rule: AbstractGameRule) -> np.ndarray:
        return _concat(rule.direction(losses, params, rule.init(params))[0])

    np.testing.assert_allclose(direction(GradientPlay()), xi, **tol)
    np.testing.assert_allclose(direction(Consensus(c)), xi + c * m.T @ xi, **tol)
    np.testing.assert_allclose(direction(SGA(c)), xi + c * (m.T - m) @ xi / 2, **tol)
    np.testing.assert_allclose(
        direction(Extragradient(c)), m @ (theta - c * xi) + k, **tol
    )
    # LOLA: ξ_i − α (∂ξ_j/∂θ_i)ᵀ ∇_j L_i for the other player j
    lola = []
    for i, j in ((0, 1), (1, 0)):
        grad_i = hs[i] @ theta + bs[i]
        lola.append(xi[s[i]] - c * hs[j][s[j], s[i]].T @ grad_i[s[j]])
    np.testing.assert_allclose(direction(LOLA(c)), np.concatenate(lola), **tol)
    # per-player rates: α = 0 is a naive learner
    mixed = direction(LOLA((0.0, c)))
    np.testing.assert_allclose(mixed[s[0]], xi[s[0]], **tol)
    np.testing.assert_allclose(mixed[s[1]], lola[1], **tol)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), dims_strategy)
def test_sga_leaves_potential_games_alone(seed: int, dims: tuple[int, int]) -> None:
    # When all players share one loss, J is a Hessian: symmetric, so A = 0.
    losses, params, _ = quadratic_game(seed, dims)

    def shared(p: Any) -> tuple[Any, Any]:
        total = losses(p)[0]
        return total, total

    plain = _concat(simultaneous_gradient(shared, params))
    adjusted = _concat(SGA(3.0).direction(shared, params, SGA(3.0).init(params))[0])
    np.testing.assert_allclose(adjusted, plain, rtol=1e-4, atol=1e-4)


def test_optimistic_extrapolates_in_time() -> None:
    losses, params, _ = quadratic_game(0, (2, 1))
    rule = Optimistic()
    first, state = rule.direction(losses, params, rule.init(params))
    moved = tuple(p - 0.1 * d for p, d in zip(params, first, strict=True))
    second, _ = rule.direction(losses, moved, state)
    now = simultaneous_gradient(losses, moved)
    np.testing.assert_allclose(
        _concat(first), _concat(simultaneous_gradient(losses, params))
    )
    np.testing.assert_allclose(
        _concat(second), 2 * _concat(now) - _concat(first), rtol=1e-5, atol=1e-6
    )


# --- each player steps along its own loss, in its own parameters ----------------------


def network_game(play: Any = "simultaneous", scale: float = 1.0) -> Game:
    kg, kd = jax.random.split(jax.random.key(0))
    g = Player("g", cdl.Linear(3, 2, key=kg) >> cdl.Tanh(), cdl.SGD(0.1))
    d = Player("d", cdl.Linear(2, 1, key=kd), cdl.SGD(0.05))
    return Game(
        (g @ cdl.Identity()) >> (d @ d),
        {
            "g": lambda o, _: scale * jnp.mean(jax.nn.softplus(-o[0])),
            "d": lambda o, _: jnp.mean(jax.nn.softplus(o[0]) + jax.nn.softplus(-o[1])),
        },
        play=play,
        batched=True,
    )


def hand_losses(g: Any, d: Any, z: Any, x: Any, scale: float = 1.0) -> tuple[Any, Any]:
    """The same losses written out by hand, as functions of the two models."""
    fake = jax.vmap(lambda v: d(g(v)))(z)
    real = jax.vmap(d)(x)
    l_g = scale * jnp.mean(jax.nn.softplus(-fake))
    l_d = jnp.mean(jax.nn.softplus(fake) + jax.nn.softplus(-real))
    return l_g, l_d


def batch() -> tuple[Any, Any]:
    k1, k2 = jax.random.split(jax.random.key(1))
    return jax.random.normal(k1, (8, 3)), jax.random.normal(k2, (8, 2))


@pytest.mark.parametrize("play", ["simultaneous", "alternating"])
def test_each_player_steps_along_its_own_gradient(play: str) -> None:
    game = network_game(play)
    state = game.init()
    z, x = batch()
    g0, d0 = game.model_of(state, "g"), game.model_of(state, "d")
    new, losses = eqx.filter_jit(game.step)(state, (z, x))
    expected = np.asarray(hand_losses(g0, d0, z, x))
    np.testing.assert_allclose(np.asarray(losses), expected, rtol=1e-6)

    grad_g = eqx.filter_grad(lambda g: hand_losses(g, d0, z, x)[0])(g0)
    g1 = jax.tree.map(lambda p, dp: p - 0.1 * dp, g0, grad_g)
    # in alternating play d moves second, against g's new parameters
    g_seen = g1 if play == "alternating" else g0
    grad_d = eqx.filter_grad(lambda d: hand_losses(g_seen, d, z, x)[1])(d0)
    d1 = jax.tree.map(lambda p, dp: p - 0.05 * dp, d0, grad_d)
    for name, expected in (("g", g1), ("d", d1)):
        got = jax.tree.leaves(game.model_of(new, name))
        for a, b in zip(got, jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_a_players_step_ignores_the_others_losses() -> None:
    # Scaling g's loss changes g's step only: d's gradient of g's loss is not used.
    z, x = batch()
    states = [
        network_game(scale=s).step(network_game(scale=s).init(), (z, x))[0]
        for s in (1.0, 7.0)
    ]
    d_params = [jax.tree.leaves(s.params[1]) for s in states]
    g_params = [jax.tree.leaves(s.params[0]) for s in states]
    for a, b in zip(*d_params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, b) for a, b in zip(*g_params, strict=True))


def ignoring_game(rule: AbstractGameRule, y_rate: float = 0.1) -> Game:
    """y's loss depends on x alone."""
    x = Player("x", Move(jnp.array([1.0, 2.0])), cdl.SGD(0.1))
    y = Player("y", Move(jnp.array([3.0])), cdl.SGD(y_rate))
    return Game(x @ y, {"x": lambda o, _: jnp.sum(o[0] ** 2) * o[1][0],
                        "y": lambda o, _: jnp.sum(o[0] ** 3)}, rule=rule)  # fmt: skip


@pytest.mark.parametrize("rule", [GradientPlay(), Extragradient(0.2), Optimistic()])
def test_a_player_whose_loss_ignores_itself_stays_put(rule: AbstractGameRule) -> None:
    # Gradient play and its extrapolations use ∇_y L_y alone: exactly zero here.
    game = ignoring_game(rule)
    state = game.init()
    for _ in range(3):
        new, _ = game.step(state)
        np.testing.assert_array_equal(new.params[1].value, state.params[1].value)
        assert not np.array_equal(new.params[0].value, state.params[0].value)
        state = new


@pytest.mark.parametrize(
    "rule", [GradientPlay(), Extragradient(0.2), Optimistic(), Consensus(1.0),
             SGA(1.0), SGA(1.0, align=True), LOLA(1.0)],
)  # fmt: skip
def test_a_players_step_writes_its_own_parameters_only(rule: AbstractGameRule) -> None:
    # Whatever the rule reads, only y's optimiser writes y: with rate 0 y stays put,
    # and x's step is the same whether or not y moves.
    frozen, moving = ignoring_game(rule, 0.0), ignoring_game(rule, 0.1)
    (after_frozen, _), (after_moving, _) = (g.step(g.init()) for g in (frozen, moving))
    np.testing.assert_array_equal(after_frozen.params[1].value, jnp.array([3.0]))
    np.testing.assert_array_equal(
        after_frozen.params[0].value, after_moving.params[0].value
    )


def test_a_shared_player_sums_its_occurrences() -> None:
    game = network_game()
    state = game.init()
    z, x = batch()
    g0, d0 = game.model_of(state, "g"), game.model_of(state, "d")
    direction = simultaneous_gradient(lambda p: game.losses_at(p, (z, x)), state.params)
    expected = eqx.filter_grad(lambda d: hand_losses(g0, d, z, x)[1])(d0)
    for a, b in zip(
        jax.tree.leaves(direction[1]), jax.tree.leaves(expected), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


# --- equilibria: no player gains alone ------------------------------------------------


def cournot(rule: AbstractGameRule | None = None) -> Game:
    """Two firms choose quantities; price a − q₁ − q₂, unit cost c. Nash: (a−c)/3."""
    a, c = 10.0, 1.0

    def loss(i: int) -> Any:
        return lambda q, _: -(q[i] * (a - q[0] - q[1]) - c * q[i])

    f1 = Player("f1", Move(0.5), cdl.SGD(0.1))
    f2 = Player("f2", Move(6.0), cdl.Momentum(0.05, 0.5))
    return Game(f1 @ f2, {"f1": loss(0), "f2": loss(1)}, rule=rule)


def test_found_equilibrium_is_a_best_response() -> None:
    game = cournot()
    state = game.init()
    assert float(jnp.min(best_response_gains(game, state, steps=200))) > 1.0
    step = eqx.filter_jit(game.step)
    for _ in range(300):
        state, _ = step(state)
    q = jnp.stack(game.outcome(state.params))
    np.testing.assert_allclose(q, [3.0, 3.0], atol=1e-3)
    gains = best_response_gains(game, state, steps=200)
    assert float(jnp.max(gains)) < 1e-5


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 10_000), dims_strategy)
def test_monotone_games_converge_to_their_unique_equilibrium(
    seed: int, dims: tuple[int, int]
) -> None:
    # L_i = ½ θ_iᵀ S_ii θ_i + θ_iᵀ M_ij θ_j + k_iᵀ θ_i with M = S + K, S ≻ 0 and K
    # antisymmetric: ξ = Mθ + k is strongly monotone, so the Nash equilibrium
    # θ* = −M⁻¹k is unique and gradient play with a small step converges to it.
    rng = np.random.default_rng(seed)
    n = sum(dims)
    b = rng.normal(size=(n, n)) * 0.3
    sym = np.eye(n) + b @ b.T
    k_anti = rng.normal(size=(n, n))
    k_anti = k_anti - k_anti.T
    s = _blocks(dims)
    for i in range(2):
        k_anti[s[i], s[i]] = 0.0
    m = sym + k_anti
    k = rng.normal(size=n)
    mu, lip = np.linalg.eigvalsh(sym)[0], np.linalg.norm(m, 2)
    eta = float(mu / lip**2)

    def loss(i: int) -> Any:
        j = 1 - i

        def value(o: Any, _: None) -> Any:
            own, other = o[i], o[j]
            return (
                0.5 * own @ sym[s[i], s[i]] @ own
                + own @ m[s[i], s[j]] @ other
                + k[s[i]] @ own
            )

        return value

    players = [
        Player(name, Move(jnp.zeros(d)), cdl.SGD(jnp.asarray(eta)))
        for name, d in zip(("one", "two"), dims, strict=True)
    ]
    game = Game(players[0] @ players[1], {"one": loss(0), "two": loss(1)})
    state = game.init()
    step = eqx.filter_jit(game.step)
    steps = int(np.ceil(np.log(1e-5) / np.log(1 - 0.5 * (mu / lip) ** 2)))
    for _ in range(steps):
        state, _ = step(state)
    found = np.concatenate([np.asarray(v) for v in game.outcome(state.params)])
    np.testing.assert_allclose(found, -np.linalg.solve(m, k), atol=1e-3)
    gains = best_response_gains(game, state, steps=300, optimiser=cdl.SGD(0.2))
    assert float(jnp.max(gains)) < 1e-5


def test_best_response_gains_match_the_closed_form() -> None:
    # From (q₁, q₂) = (0.5, 6): firm 1's best response (a−c−q₂)/2 = 1.5 earns
    # 1.5² − 0.5·(9 − 6 − 0.5) = 1.0 more; firm 2's (9 − 0.5)/2 earns (4.25−6)² more.
    game = cournot()
    gains = best_response_gains(game, game.init(), steps=500, optimiser=cdl.SGD(0.2))
    np.testing.assert_allclose(gains, [1.0, 1.75**2], rtol=1e-4)


# --- modules: jit, serialisation, errors, diagrams ------------------------------------


def test_steps_jit_and_states_serialise() -> None:
    game = network_game()
    z, x = batch()
    state = game.init()
    eager, eager_losses = game.step(state, (z, x))
    jitted, jit_losses = eqx.filter_jit(game.step)(state, (z, x))
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, jitted)
    buffer.seek(0)
    loaded = eqx.tree_deserialise_leaves(buffer, game.init())
    assert isinstance(loaded, GameState)
    for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        game.rule = LOLA(1.0)  # type: ignore[misc]


def test_bad_games_name_the_problem() -> None:
    x = Player("x", Move(0.0), cdl.SGD(0.1))
    y = Player("y", Move(0.0), cdl.SGD(0.1))
    with pytest.raises(ValueError, match="no loss was given for player.*'y'"):
        Game(x @ y, {"x": lambda o, _: o[0]})
    with pytest.raises(ValueError, match="'z', which the arena does not hold"):
        Game(x, {"x": lambda o, _: o, "z": lambda o, _: o})
    with pytest.raises(ValueError, match="no player"):
        Game(Move(0.0), {})
    with pytest.raises(
        ValueError, match="play must be 'simultaneous' or 'alternating'"
    ):
        Game(x, {"x": lambda o, _: o}, play="turns")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="order of turns"):
        Game(x @ y, {"x": lambda o, _: o[0], "y": lambda o, _: o[1]}, order=["x"])
    other = Player("x", cdl.Bias(2), cdl.SGD(0.1))
    with pytest.raises(ValueError, match="'x' is used by two different players"):
        Game(x @ other, {"x": lambda o, _: o[0]})
    faster = Player("x", Move(0.0), cdl.SGD(0.5))
    with pytest.raises(ValueError, match=r"differ at \.optimiser\.learning_rate"):
        Game(x @ faster, {"x": lambda o, _: o[0]})
    assert Game(x @ x, {"x": lambda o, _: o[0]}).names == ("x",)
    with pytest.raises(TypeError, match="optimiser must be a cdl optimiser lens"):
        Player("p", cdl.Bias(1), 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="the model must be a cdl.Para morphism"):
        Player("p", lambda v: v, cdl.SGD(0.1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one per player"):
        bilinear(0.0, 0.0, 0.1, LOLA((0.1, 0.2, 0.3))).init()
    reads = Player("r", cdl.Bias(2), cdl.SGD(0.1))
    with pytest.raises(ValueError, match="the arena reads inputs from float"):
        Game(reads, {"r": lambda o, _: jnp.sum(o)}).step(Game(reads, {
            "r": lambda o, _: jnp.sum(o)}).init())  # fmt: skip
    with pytest.raises(ValueError, match="steps must be a positive int"):
        best_response_gains(cournot(), cournot().init(), steps=0)
    with pytest.raises(TypeError, match="Game: the rule must be an update rule"):
        Game(x, {"x": lambda o, _: o}, rule="consensus")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Extragradient: inner must be an update rule"):
        Extragradient(0.1, "consensus")  # type: ignore[arg-type]
    vector = Game(x @ y, {"x": lambda o, _: jnp.stack(o), "y": lambda o, _: o[1]})
    with pytest.raises(
        ValueError, match=r"loss of player 'x' must be a scalar, .* \(2,\)"
    ):
        vector.step(vector.init())
    noisy = Player("n", cdl.Bias(2) >> cdl.Dropout(0.5), cdl.SGD(0.1))
    dropped = Game(noisy, {"n": lambda o, _: jnp.sum(o)}, batched=True)
    with pytest.raises(ValueError, match=r"Game\(n\): the arena is stochastic .* key="):
        dropped.step(dropped.init(), jnp.ones((4, 2)))
    one = Game(reads, {"r": lambda o, _: jnp.sum(o)})
    with pytest.raises(
        cdl.SpaceError,
        match=r"a batch: .* build it with `Game\(\.\.\., batched=True\)`",
    ):
        one.step(one.init(), jnp.ones((8, 2)))


@pytest.mark.parametrize(
    ("loss", "width", "target", "by_hand"),
    [
        (
            cdl.SoftmaxCrossEntropy(),
            4,
            jnp.array(2),
            lambda o, t: jax.nn.logsumexp(o) - o[t],
        ),
        (
            cdl.MeanSquaredError(),
            2,
            jnp.array([1.0, -1.0]),
            lambda o, t: jnp.sum((o - t) ** 2),
        ),
        (
            cdl.BinaryCrossEntropy(),
            2,
            jnp.array([1.0, 0.0]),
            lambda o, t: jnp.sum(jax.nn.softplus(o) - t * o),
        ),
    ],
)
def test_a_loss_lens_in_an_unbatched_game_reads_one_example(
    loss: Any, width: int, target: Any, by_hand: Any
) -> None:
    model = cdl.Linear(3, width, key=jax.random.key(0))
    player = Player("p", model, cdl.SGD(0.1))
    x = jnp.array([1.0, -2.0, 0.5])
    one, batched = Game(player, {"p": loss}), Game(player, {"p": loss}, batched=True)
    state = one.init()
    (value,) = one.losses_at(state.params, x, target)
    assert float(value) == pytest.approx(float(by_hand(model(x), target)), rel=1e-5)
    (of_batch,) = batched.losses_at(state.params, x[None], target[None])
    assert float(value) == pytest.approx(float(of_batch), rel=1e-6)
    with pytest.raises(
        ValueError, match=rf"loss of player 'p', {loss.label}, compares the outcome "
        r"with targets: pass them"
    ):  # fmt: skip
        one.step(state, x)


def test_an_unbatched_game_steps_as_the_batched_one_on_a_batch_of_one() -> None:
    player = Player("p", cdl.Linear(3, 4, key=jax.random.key(0)), cdl.SGD(0.1))
    x, label = jnp.array([1.0, -2.0, 0.5]), jnp.array(2)
    one = Game(player, {"p": cdl.SoftmaxCrossEntropy()})
    batched = Game(player, {"p": cdl.SoftmaxCrossEntropy()}, batched=True)
    state = one.init()
    stepped, losses = one.step(state, x, label)
    stepped_batch, losses_batch = batched.step(state, x[None], label[None])
    np.testing.assert_allclose(losses, losses_batch, rtol=1e-6)
    for a, b in zip(
        jax.tree.leaves(stepped.params), jax.tree.leaves(stepped_batch.params),
        strict=True,
    ):  # fmt: skip
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_game_draws_as_its_players() -> None:
    game = network_game()
    assert cdl.draw(game.arena).boxes() == ["g", "d", "d"]
    assert game.draw().svg() == cdl.draw(game.arena).svg()
