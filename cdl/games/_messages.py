"""Every user-facing error text of `cdl.games`, in one place."""

from typing import Final


def no_players(arena: str) -> str:
    """Text of the error raised when an arena holds no player."""
    return (
        f"Game({arena}): the arena holds no player: wrap the models that learn in "
        f"`cdl.games.Player(name, model, optimiser)` before wiring them."
    )


def missing_losses(names: list[str]) -> str:
    """Text of the error raised when players of the arena have no loss."""
    return (
        f"Game: no loss was given for player(s) {', '.join(map(repr, names))}: "
        f"give `losses` one entry per player of the arena."
    )


def unknown_losses(names: list[str], players: list[str]) -> str:
    """Text of the error raised when losses name players the arena lacks."""
    return (
        f"Game: losses were given for {', '.join(map(repr, names))}, which the arena "
        f"does not hold; its players are {', '.join(map(repr, players))}."
    )


def clashing_player(name: str, first: str, second: str, where: str) -> str:
    """Text of the error raised when one name is used for two different players."""
    return (
        f"Game: the name {name!r} is used by two different players, {first} and "
        f"{second} (they differ {where}): each occurrence of a player must be the "
        f"same model and optimiser (it shares its parameters); give different "
        f"players different names."
    )


def bad_play(play: object) -> str:
    """Text of the error raised for an unknown way of playing."""
    return (
        f"Game: play must be 'simultaneous' or 'alternating', but was given {play!r}."
    )


def bad_order(order: list[str], players: list[str]) -> str:
    """Text of the error raised when the order of turns is not the players."""
    return (
        f"Game: the order of turns {order} must name each player once; "
        f"its players are {players}."
    )


def order_without_turns(order: list[str]) -> str:
    """Text of the error raised for an order of turns given to simultaneous play."""
    return (
        f"Game: an order of turns {order} was given, but play is 'simultaneous', "
        f"where every player moves at once and no order is read; pass "
        f"play='alternating' for turns, or leave order out."
    )


def needs_inputs(arena: str, dom: object) -> str:
    """Text of the error raised when an arena that reads data was given none."""
    return (
        f"Game({arena}): the arena reads inputs from {dom!r}: pass them to "
        f"`step`/`losses_at` (only an arena of `Move`s plays without inputs)."
    )


def unknown_player(name: object, players: list[str]) -> str:
    """Text of the error raised when a player is looked up by a name not in a game."""
    return f"Game: no player is named {name!r}; its players are {players}."


def bad_alpha(alpha: object, players: int) -> str:
    """Text of the error raised when LOLA's look-ahead rates do not fit the game."""
    return (
        f"LOLA: alpha must be one number or one per player ({players}), "
        f"but was given {alpha!r}."
    )


def bad_name(name: object) -> str:
    """Text of the error raised when a player's name is not a non-empty string."""
    return f"Player: the name must be a non-empty string, but was given {name!r}."


def not_a_morphism(what: str, value: object) -> str:
    """Text of the error raised when something other than a Para morphism is given."""
    return f"{what} must be a cdl.Para morphism, but was given {type(value).__name__}."


def bad_move(value: object) -> str:
    """Text of the error raised when a Move is given something not numbers."""
    return (
        f"Move: the initial move must be a number or an array of real numbers "
        f"(e.g. jnp.zeros(3)), but was given {type(value).__name__} {value!r}."
    )


def move_not_finite(value: object) -> str:
    """Text of the error raised when a Move starts at NaN or infinity."""
    return (
        f"Move: the initial move must be finite (every step from NaN or infinity "
        f"is NaN), but was given {value!r}."
    )


def coefficient_not_finite(rule: str, name: str, value: object) -> str:
    """Text of the error raised when a rule's coefficient is NaN or infinite."""
    return (
        f"{rule}: {name} must be finite (it scales every step, which would be "
        f"NaN), but was given {value!r}."
    )


def not_a_rule(what: str, value: object) -> str:
    """Text of the error raised when an update rule is not a rule."""
    return (
        f"{what} must be an update rule (e.g. `cdl.games.Consensus(1.0)`), but was "
        f"given {type(value).__name__} {value!r}."
    )


def not_a_scalar(name: str, shape: tuple[int, ...]) -> str:
    """Text of the error raised when a player's loss is not one number."""
    return (
        f"Game: the loss of player {name!r} must be a scalar, but has shape {shape} "
        f"(reduce it, e.g. average over the batch)."
    )


def needs_targets(name: str, loss: str) -> str:
    """Text of the error raised when a loss lens is given no targets."""
    return (
        f"Game: the loss of player {name!r}, {loss}, compares the outcome with "
        f"targets: pass them to `step`/`losses_at` (`targets=...`)."
    )


def not_an_optimiser(owner: str, value: object) -> str:
    """Text of the error raised when an optimiser is not an optimiser lens."""
    return (
        f"{owner}: the optimiser must be a cdl optimiser lens (e.g. "
        f"`cdl.SGD(0.1)`, or `cdl.optics.from_optax(...)`), but was given "
        f"{type(value).__name__}."
    )


def bad_steps(steps: object) -> str:
    """Text of the error raised for a number of best-response steps below one."""
    return (
        f"best_response_gains: steps must be a positive int, but was given {steps!r}."
    )


BATCH_HINT: Final = (
    " It looks like a batch: a game that is not batched plays one example; build "
    "it with `Game(..., batched=True)` to map the arena over the leading axis."
)


BATCHED_HINT: Final = (
    " The game is batched: it maps the arena over the leading axis of the inputs, "
    "so one example is the inputs without that axis; give a batch (one example "
    "as `x[None]`), or build the game with batched=False."
)


def batch_sizes(arena: str, shapes: list[tuple[int, ...]]) -> str:
    """Text of the error for a batched game's inputs without one leading axis."""
    listed = ", ".join(str(shape) for shape in shapes)
    return (
        f"Game({arena}) is batched: each of its inputs needs the same leading "
        f"(batch) axis, but their shapes are {listed}."
    )


def needs_key(arena: str) -> str:
    """Text of the error for a stochastic arena played without a key."""
    return (
        f"Game({arena}): the arena is stochastic (dropout, sampling) and needs a "
        f"PRNG key: pass one to the game, `game.step(state, inputs, targets, "
        f"key=jax.random.key(0))` (likewise `outcome`, `losses_at`, "
        f"`best_response_gains`)."
    )


def losses_not_a_mapping(losses: object) -> str:
    """Text of the error raised when the losses are not a mapping of names."""
    return (
        f"Game: losses must map each player's name to its loss, e.g. "
        f"{{'x': lambda outcome, targets: ...}}, but was given "
        f"{type(losses).__name__}."
    )


def not_a_loss(name: str, loss: object) -> str:
    """Text of the error raised for a loss that is neither a function nor a lens."""
    if isinstance(loss, type):
        given = f"the class {loss.__name__}; give an instance, {loss.__name__}()"
    else:
        given = f"{type(loss).__name__} {loss!r}"
    return (
        f"Game: the loss of player {name!r} must be a function "
        f"`loss(outcome, targets)` returning a scalar, or a cdl loss lens such as "
        f"`cdl.SoftmaxCrossEntropy()`, but was given {given}."
    )


def loss_arity(name: str, signature: str) -> str:
    """Text of the error raised for a loss function that cannot take two arguments."""
    return (
        f"Game: the loss of player {name!r} is called as `loss(outcome, targets)`, "
        f"but its signature is {signature}; add the second argument (e.g. "
        f"`lambda outcome, _: ...`)."
    )


def foreign_params(names: list[str], count: int | None, given_state: bool) -> str:
    """Text of the error raised for parameters of another game, or a whole state."""
    if given_state:
        return (
            f"Game: the parameters must be one entry per player {names}, but were "
            f"given a whole GameState: pass `state.params`."
        )
    given = "not a tuple" if count is None else f"a tuple of {count}"
    return (
        f"Game: the parameters must be one entry per player {names} (as in "
        f"`game.init().params`), but were given {given}: was the state made by "
        f"another game?"
    )


def foreign_player_params(name: str, model: str) -> str:
    """Text of the error raised when a player's parameters do not fit its model."""
    return (
        f"Game: the parameters given for player {name!r} do not fit its model "
        f"{model} (the trees differ): was the state made by another game?"
    )


def losses_not_functions(owner: str) -> str:
    """Text of the error raised when the losses are not a function of the params."""
    return (
        f"{owner}: losses must be a function from the parameters (one tree per "
        f"player) to one scalar loss per player, or a sequence of functions, one "
        f"per player."
    )


def losses_count(owner: str, players: int, count: int | None) -> str:
    """Text of the error raised when the losses do not give one value per player."""
    given = "a single value" if count is None else f"{count}"
    return (
        f"{owner}: the losses must give one scalar per player ({players}, one per "
        f"entry of the parameters), but gave {given}."
    )


def losses_not_scalars(owner: str, shapes: list[tuple[int, ...]]) -> str:
    """Text of the error raised when a player's loss is not a scalar."""
    return (
        f"{owner}: each player's loss must be a scalar, but the losses have shapes "
        f"{shapes} (reduce them, e.g. with .mean())."
    )


def bad_coefficient(rule: str, name: str, value: object) -> str:
    """Text of the error raised when a rule's coefficient is not a number."""
    per_player = " (or a tuple, one per player)" if name == "alpha" else ""
    return (
        f"{rule}: {name} must be a number{per_player}, but was given "
        f"{type(value).__name__} {value!r}."
    )


def not_a_state(owner: str, value: object) -> str:
    """Text of the error raised when a function that takes a state got another value."""
    hint = (
        " (the parameters alone: pass the whole state, e.g. `game.init()`)"
        if isinstance(value, tuple | list)
        else ""
    )
    return (
        f"{owner}: the state must be a cdl.games.GameState (from `game.init()` or "
        f"`game.step`), but was given a {type(value).__name__}{hint}."
    )


def batched_without_inputs(arena: str) -> str:
    """Text of the error raised when a batched game is played without a batch."""
    return (
        f"Game({arena}) is batched: it maps the arena over the leading axis of its "
        f"inputs, but was given no arrays to map over; pass a batch of inputs, or "
        f"build the game with batched=False."
    )


def in_loss(name: str) -> str:
    """Note added to an error raised inside a player's loss function."""
    return f"(raised in the loss of player {name!r})"


def batch_statistics(layer: str, owner: str) -> str:
    """Text of the error for an arena holding a batch norm in training mode."""
    return (
        f"Game: {layer} in {owner} keeps running statistics in a state, which a "
        "round of play neither takes nor returns; use a layer without state "
        "(cdl.LayerNorm, cdl.RMSNorm), or put it in inference mode "
        "(cdl.inference_mode) and give its state as an input (one copy per "
        "example in a batched game)."
    )
