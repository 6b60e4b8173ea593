"""Games: an arena of players, one loss per player, and a rule to update them.

The arena wires players (and any fixed morphisms) with ``>>`` and ``@``; its output
is the *outcome* each player's loss reads. A step computes every player's direction
with the game's rule, from the gradient of its own loss in its own parameters, and
lets that player's optimiser take its step; in alternating play the players move in
turn, each seeing the parameters the others have just chosen.

Plain simultaneous play on ``min_x max_y xy`` spirals outwards: the radius grows by
``√(1 + η²)`` a step.

>>> import jax.numpy as jnp, cdl
>>> from cdl.games import Game, Move, Player
>>> x = Player("x", Move(1.0), cdl.SGD(0.1))
>>> y = Player("y", Move(0.0), cdl.SGD(0.1))
>>> game = Game(x @ y, {"x": lambda xy, _: xy[0] * xy[1],
...                    "y": lambda xy, _: -xy[0] * xy[1]})
>>> state, losses = game.step(game.init())
>>> x1, y1 = game.outcome(state.params)
>>> float(x1), float(y1)
(1.0, 0.1...)
>>> round(float(x1**2 + y1**2), 6)     # 1 + η²
1.01
"""

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .. import _messages as core_messages
from .._errors import SpaceError
from .._para import Para, apply
from .._space import Mismatch, ProductSpace, Space, Unifier, space_of
from ..draw import Diagram, draw
from ..nn import BatchNorm
from ..nn._arguments import flag, prng_key
from ..optics import AbstractLoss, AbstractOptimiser, AbstractParaLens
from . import _messages
from ._player import Player
from ._rules import AbstractGameRule, GradientPlay, Params

PLAYS: Final = ("simultaneous", "alternating")
Loss = Callable[[Any, Any], Float[Array, ""]] | AbstractParaLens[Any, Any]


def _is_player(node: object) -> bool:
    return isinstance(node, Player)


def players_of(arena: Para[Any, Any]) -> tuple[Player[Any, Any], ...]:
    """The players of an arena, each once, in the order they first occur.

    **Arguments:** `arena`, a morphism built with ``>>`` and ``@``.

    **Returns:** the players found, first occurrences.

    >>> import cdl
    >>> from cdl.games import Move, Player, players_of
    >>> x = Player("x", Move(0.0), cdl.SGD(0.1))
    >>> [p.name for p in players_of(x @ x @ Player("y", Move(0.0), cdl.SGD(0.1)))]
    ['x', 'y']
    """
    found: dict[str, Player[Any, Any]] = {}
    for node in jax.tree.leaves(arena, is_leaf=_is_player):
        if not isinstance(node, Player):
            continue
        first = found.setdefault(node.name, node)
        where = _difference(first, node)
        if where is not None:
            raise ValueError(
                _messages.clashing_player(
                    node.name, first.model.label, node.model.label, where
                )
            )
    return tuple(found.values())


def _difference(a: object, b: object) -> str | None:
    """Where two occurrences of a player differ (structure or a concrete value)."""
    left: Any = jax.tree.structure(a)
    if left != jax.tree.structure(b):
        return "in structure"
    paths = jax.tree_util.tree_flatten_with_path(a)[0]
    for (path, x), y in zip(paths, jax.tree.leaves(b), strict=True):
        if x is y or isinstance(x, jax.core.Tracer) or isinstance(y, jax.core.Tracer):
            continue
        if not np.array_equal(np.asarray(x), np.asarray(y)):
            return f"at {jax.tree_util.keystr(path)}"
    return None


def _unit_input(space: Space) -> Any:
    """The one value of a space made of units only, or None if it has data."""
    if not isinstance(space, ProductSpace):
        return None
    parts = [_unit_input(factor) for factor in space.factors]
    if any(part is None for part in parts):
        return None
    return tuple(parts)


class GameState(eqx.Module):
    """Everything a game's play changes: each player's parameters and optimiser state.

    **Arguments:** `params` and `opt_states`, one entry per player in the game's
    order (`Game.names`); `rule_state`, the update rule's state (one entry per
    player); `step`, an int32 scalar.

    **Returns:** the state, a pytree (``equinox.tree_serialise_leaves`` saves it).

    >>> import cdl
    >>> from cdl.games import Game, Move, Player
    >>> x = Player("x", Move(2.0), cdl.SGD(0.1))
    >>> Game(x, {"x": lambda v, _: v ** 2}).init().params[0].value
    Array(2., dtype=float32)
    """

    params: tuple[Any, ...]
    opt_states: tuple[Any, ...]
    rule_state: tuple[Any, ...]
    step: Int[Array, ""]


def _one_example(dom: Space, inputs: Any) -> bool:
    """Whether `inputs`, leading axis and all, is a point of the arena's `dom`."""
    try:
        Unifier().unify(dom, space_of(inputs))
    except Mismatch:
        return False
    return True


def _training_batch_norms(tree: Any) -> list[BatchNorm]:
    """The batch norms in training mode inside `tree`."""
    found = jax.tree.leaves(tree, is_leaf=lambda x: isinstance(x, BatchNorm))
    return [n for n in found if isinstance(n, BatchNorm) and not n.inference]


def _refuse_batch_statistics(
    arena: Para[Any, Any], players: Sequence[Player[Any, Any]]
) -> None:
    """Refuse an arena with a batch norm in training mode, naming where it is.

    Its running statistics are a state that a round of play neither takes nor
    returns (and a batched game maps every input over the batch, the state too),
    so such an arena fails at its first round with a message about axes.
    """
    norms = _training_batch_norms(arena)
    if not norms:
        return
    owner = "nature"
    for player in players:
        if _training_batch_norms(player.model):
            owner = f"player {player.name!r}"
            break
    raise ValueError(_messages.batch_statistics(norms[0].label, owner))


class Game(eqx.Module):
    """A game: players wired in an arena, a loss per player, and an update rule.

    **Arguments:**

    - `arena`: a morphism made of `Player`s (and any fixed morphisms) with ``>>``
      and ``@``; a player occurring twice shares its parameters.
    - `losses`: for each player's name, its loss of the outcome: a function
      ``loss(outcome, targets) -> scalar`` or a cdl loss lens (read as
      ``lens.get(targets, outcome)``; in a game that is not batched the outcome
      is one example, and a loss lens reads it and its targets as a batch of one).
    - `rule`: the update rule (`GradientPlay` by default; see `cdl.games`).
    - `play`: ``"simultaneous"`` (every player moves from the same point) or
      ``"alternating"`` (players move in turn, in `order`).
    - `order`: the order of turns in alternating play (the arena's by default);
      simultaneous play has no turns, and refuses one.
    - `batched`: whether `step` maps the arena over a batch (leading axis) of
      inputs; losses then read a batch of outcomes.

    **Returns:** the game; `init` gives a `GameState`, `step` plays one round.

    >>> import cdl
    >>> from cdl.games import Game, Move, Player
    >>> x = Player("x", Move(0.0), cdl.SGD(0.1))
    >>> Game(x, {"y": lambda v, _: v})
    Traceback (most recent call last):
    ...
    ValueError: Game: no loss was given for player(s) 'x': give `losses` one entry \
per player of the arena.

    A player guessing one of four classes, with a loss lens on its one guess:

    >>> import jax.numpy as jnp
    >>> from cdl.optics import SoftmaxCrossEntropy
    >>> guess = Player("guess", Move(jnp.zeros(4)), cdl.SGD(0.1))
    >>> game = Game(guess, {"guess": SoftmaxCrossEntropy()})
    >>> game.losses_at(game.init().params, targets=2)  # log 4
    (Array(1.3862944, dtype=float32),)
    """

    arena: Para[Any, Any]
    losses: tuple[Loss, ...]
    optimisers: tuple[AbstractOptimiser, ...]
    rule: AbstractGameRule
    names: tuple[str, ...] = eqx.field(static=True)
    play: Literal["simultaneous", "alternating"] = eqx.field(static=True)
    order: tuple[int, ...] = eqx.field(static=True)
    batched: bool = eqx.field(static=True)

    def __init__(
        self,
        arena: Para[Any, Any],
        losses: Mapping[str, Loss],
        *,
        rule: AbstractGameRule | None = None,
        play: Literal["simultaneous", "alternating"] = "simultaneous",
        order: Sequence[str] | None = None,
        batched: bool = False,
    ) -> None:
        if not isinstance(arena, Para):
            raise TypeError(_messages.not_a_morphism("Game: the arena", arena))
        players = players_of(arena)
        names = [p.name for p in players]
        if not players:
            raise ValueError(_messages.no_players(arena.label))
        _refuse_batch_statistics(arena, players)
        if not isinstance(losses, Mapping):
            raise TypeError(_messages.losses_not_a_mapping(losses))
        missing = [n for n in names if n not in losses]
        if missing:
            raise ValueError(_messages.missing_losses(missing))
        unknown = [n for n in losses if n not in names]
        if unknown:
            raise ValueError(_messages.unknown_losses(unknown, names))
        for name in names:
            _check_loss(name, losses[name])
        if rule is not None and not isinstance(rule, AbstractGameRule):
            raise TypeError(_messages.not_a_rule("Game: the rule", rule))
        flag("Game", "batched", batched)
        if play not in PLAYS:
            raise ValueError(_messages.bad_play(play))
        turns = names if order is None else list(order)
        if sorted(turns) != sorted(names):
            raise ValueError(_messages.bad_order(turns, names))
        if order is not None and play == "simultaneous":
            raise ValueError(_messages.order_without_turns(turns))
        self.arena = arena
        self.losses = tuple(losses[n] for n in names)
        self.optimisers = tuple(p.optimiser for p in players)
        self.rule = GradientPlay() if rule is None else rule
        self.names = tuple(names)
        self.play = play
        self.order = tuple(names.index(n) for n in turns)
        self.batched = bool(batched)

    def index(self, name: str) -> int:
        """The position of player `name` in `names` (and in a state's tuples).

        >>> import cdl
        >>> from cdl.games import Game, Move, Player
        >>> p = Player("p", Move(0.0), cdl.SGD(0.1))
        >>> Game(p, {"p": lambda v, _: v}).index("q")
        Traceback (most recent call last):
        ...
        KeyError: "Game: no player is named 'q'; its players are ['p']."
        """
        if name not in self.names:
            raise KeyError(_messages.unknown_player(name, list(self.names)))
        return self.names.index(name)

    def init(self) -> GameState:
        """The starting state: the parameters the players hold, fresh optimisers.

        **Returns:** the `GameState` at step 0.
        """
        params = tuple(p.params for p in players_of(self.arena))
        opt_states = tuple(
            opt.init(p) for opt, p in zip(self.optimisers, params, strict=True)
        )
        return GameState(
            params, opt_states, self.rule.init(params), jnp.zeros([], jnp.int32)
        )

    def arena_at(self, params: tuple[Any, ...]) -> Para[Any, Any]:
        """The arena with each player holding its parameters from `params`.

        **Arguments:** `params`, one tree per player (e.g. ``state.params``).

        **Returns:** the arena, every occurrence of a player updated.
        """
        players = players_of(self.arena)
        if not isinstance(params, tuple | list) or len(params) != len(players):
            count = len(params) if isinstance(params, tuple | list) else None
            raise ValueError(
                _messages.foreign_params(
                    list(self.names), count, isinstance(params, GameState)
                )
            )
        for player, given in zip(players, params, strict=True):
            expected: Any = jax.tree.structure(player.params)
            if jax.tree.structure(given) != expected:
                raise ValueError(
                    _messages.foreign_player_params(player.name, player.model.label)
                )
        by_name = dict(zip(self.names, params, strict=True))

        def fill(node: Any) -> Any:
            return node.with_params(by_name[node.name]) if _is_player(node) else node

        arena: Para[Any, Any] = jax.tree.map(fill, self.arena, is_leaf=_is_player)
        return arena

    def model_of(self, state: GameState, name: str) -> Para[Any, Any]:
        """Player `name`'s model with its parameters in `state`.

        **Arguments:** `state`; `name`.

        **Returns:** the trained model.

        >>> import cdl
        >>> from cdl.games import Game, Move, Player
        >>> p = Player("p", Move(3.0), cdl.SGD(0.1))
        >>> game = Game(p, {"p": lambda v, _: v})
        >>> game.model_of(game.init(), "p")(())
        Array(3., dtype=float32)
        """
        player = players_of(self.arena)[self.index(name)]
        require_state("Game.model_of", state)
        return player.with_params(state.params[self.index(name)]).model

    def draw(self, path: str | Path | None = None) -> Diagram:
        """The arena as a string diagram: one box per player occurrence.

        **Arguments:** `path`, a ``.svg``, ``.png`` or ``.pdf`` file to write.

        **Returns:** the `cdl.Diagram` of the arena.

        >>> import cdl
        >>> from cdl.games import Game, Move, Player
        >>> x = Player("x", Move(0.0), cdl.SGD(0.1))
        >>> y = Player("y", Move(0.0), cdl.SGD(0.1))
        >>> Game(x @ y, {"x": lambda o, _: o[0], "y": lambda o, _: o[1]}).draw().boxes()
        ['x', 'y']
        """
        return draw(self.arena, path)

    def _inputs(self, inputs: Any) -> Any:
        if inputs is not None:
            return inputs
        unit = _unit_input(self.arena.dom)
        if unit is None:
            raise ValueError(_messages.needs_inputs(self.arena.label, self.arena.dom))
        return unit

    def outcome(
        self, params: tuple[Any, ...], inputs: Any = None, *,
        key: PRNGKeyArray | None = None,
    ) -> Any:  # fmt: skip
        """The arena's output at `params`: what the players' losses read.

        **Arguments:** `params`, one tree per player; `inputs`, the arena's input
        (a batch when the game is batched; none for an arena of `Move`s); `key`,
        for stochastic players.

        **Returns:** the outcome.
        """
        arena = self.arena_at(params)
        inputs = self._inputs(inputs)
        if key is not None:  # named here, not inside jax.random.split
            prng_key(f"Game({self.arena.label})", key)
        if key is None and arena.stochastic:
            raise ValueError(_messages.needs_key(self.arena.label))
        if not self.batched:
            try:
                return apply(arena, inputs, key)
            except SpaceError as error:  # point at the game's switch, not at vmap
                text = str(error)
                if not text.endswith(core_messages.BATCH_HINT):
                    raise
                cut = text[: -len(core_messages.BATCH_HINT)]
                raise SpaceError(cut + _messages.BATCH_HINT) from None
        leaves = jax.tree.leaves(inputs)
        if not leaves:
            raise ValueError(_messages.batched_without_inputs(self.arena.label))
        shapes = [np.shape(leaf) for leaf in leaves]
        if len({shape[:1] for shape in shapes}) > 1 or shapes[0] == ():
            # vmap would say it in its own words, naming no game
            raise ValueError(_messages.batch_sizes(self.arena.label, shapes))
        try:
            if key is None or not arena.stochastic:
                return jax.vmap(lambda x: apply(arena, x, None))(inputs)
            keys = jax.random.split(key, shapes[0][0])
            return jax.vmap(lambda x, k: apply(arena, x, k))(inputs, keys)
        except SpaceError as error:
            text = str(error)
            if _one_example(arena.dom, inputs):  # its leading axis taken as a batch
                text += _messages.BATCHED_HINT
            raise SpaceError(text) from None

    def losses_at(
        self, params: tuple[Any, ...], inputs: Any = None, targets: Any = None, *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Float[Array, ""], ...]:  # fmt: skip
        """Every player's loss at `params`, in the order of `names`.

        **Arguments:** `params`; `inputs` and `targets` (what the losses compare
        the outcome with); `key`.

        **Returns:** one scalar per player.

        >>> import cdl
        >>> from cdl.games import Game, Move, Player
        >>> x = Player("x", Move(2.0), cdl.SGD(0.1))
        >>> y = Player("y", Move(3.0), cdl.SGD(0.1))
        >>> game = Game(x @ y, {"x": lambda o, _: o[0] * o[1],
        ...                     "y": lambda o, _: -o[0] * o[1]})
        >>> game.losses_at(game.init().params)
        (Array(6., dtype=float32), Array(-6., dtype=float32))
        """
        outcome = self.outcome(params, inputs, key=key)
        values = tuple(
            _read(name, loss, outcome, targets, self.batched)
            for name, loss in zip(self.names, self.losses, strict=True)
        )
        for name, value in zip(self.names, values, strict=True):
            if jnp.shape(value) != ():
                raise ValueError(_messages.not_a_scalar(name, jnp.shape(value)))
        return values

    def step(
        self, state: GameState, inputs: Any = None, targets: Any = None, *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[GameState, Float[Array, " players"]]:  # fmt: skip
        """One round of play: every player updates its own parameters once.

        Each player's direction comes from the rule, built from the gradient of its
        own loss in its own parameters; its optimiser takes the step. In alternating
        play the players move in `order`, each on the same inputs and key.

        **Arguments:** `state`; `inputs`, `targets`, `key` as for `losses_at`.

        **Returns:** the new state and every player's loss before the round.
        """
        require_state("Game.step", state)

        def losses(params: Params) -> tuple[Float[Array, ""], ...]:
            return self.losses_at(params, inputs, targets, key=key)

        before = jnp.stack(losses(state.params))
        params, opt_states = list(state.params), list(state.opt_states)
        rule_state = list(state.rule_state)
        turns = (
            [self.order] if self.play == "simultaneous" else [(i,) for i in self.order]
        )
        for movers in turns:
            directions, new_rule_state = self.rule.direction(
                losses, tuple(params), tuple(rule_state)
            )
            for i in movers:
                opt_states[i], params[i] = self.optimisers[i].put(
                    (opt_states[i], params[i]), directions[i]
                )
                rule_state[i] = new_rule_state[i]
        new_state = GameState(
            tuple(params), tuple(opt_states), tuple(rule_state), state.step + 1
        )
        return new_state, before


def _check_loss(name: str, loss: object) -> None:
    """Refuse a loss that is neither a loss lens nor a function of two arguments."""
    if isinstance(loss, AbstractParaLens):
        return
    if isinstance(loss, type) or not callable(loss):
        raise TypeError(_messages.not_a_loss(name, loss))
    try:
        signature = inspect.signature(loss)
    except (TypeError, ValueError):  # a callable whose signature is not known
        return
    try:
        signature.bind(None, None)
    except TypeError:
        raise TypeError(_messages.loss_arity(name, str(signature))) from None


def _read(
    name: str, loss: Loss, outcome: Any, targets: Any, batched: bool
) -> Float[Array, ""]:
    if isinstance(loss, AbstractLoss):
        if targets is None:
            raise ValueError(_messages.needs_targets(name, loss.label))
        if not batched:  # one outcome is one example: a batch of one
            outcome, targets = jax.tree.map(
                lambda x: jnp.asarray(x)[None], (outcome, targets)
            )
    if isinstance(loss, AbstractParaLens):
        value: Float[Array, ""] = loss.get(targets, outcome)
        return value
    try:
        return loss(outcome, targets)
    except Exception as error:  # the user's own code: say whose loss it was
        error.add_note(_messages.in_loss(name))
        raise


def require_state(owner: str, state: object) -> None:
    """Refuse a value that is not a `GameState` where one is read."""
    if not isinstance(state, GameState):
        raise TypeError(_messages.not_a_state(owner, state))
