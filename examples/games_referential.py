"""A cooperative referential game: a speaker and a listener learn a shared code.

Objects have three attributes with four values each (64 objects). The speaker
sees an object and says a message of three symbols from a vocabulary of eight; a
noisy discrete channel carries it (straight-through Gumbel-softmax: one-hot symbols
forwards, softmax gradients backwards); the listener reads the message and names
every attribute. The arena is

    speaker >> channel >> listener

where the channel is nature, not a player: it has no parameters. Both players pay
the same loss, the listener's cross-entropy, each with its own parameters and
optimiser. Sixteen objects (attributes summing to 0 mod 4) are never seen in
training; at the end the speaker says its most likely symbols about them, and the
listener must recover every attribute of objects it has never heard of: that only
works if the code is compositional.

Run: ``python examples/games_referential.py``.
"""

import itertools
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

import cdl
from cdl.games import Game, GameState, Player
from cdl.optics import Adam, SoftmaxCrossEntropy

ATTRIBUTES: int = 3
VALUES: int = 4
SYMBOLS: int = 3
VOCABULARY: int = 8


class Channel(cdl.Para[Float[Array, "n v"], Float[Array, "n v"]]):
    """A discrete channel: one symbol per row of logits, sent as a one-hot row.

    With a key it samples the symbols (Gumbel-max) and passes the softmax's
    gradient straight through; without one it sends the most likely symbols.
    """

    temperature: float = eqx.field(static=True, default=1.0)

    @property
    def label(self) -> str:
        """``channel``: nature's part of the arena, not a player."""
        return "channel"

    @property
    def stochastic(self) -> bool:
        """The channel samples its symbols."""
        return True

    def __call__(
        self, x: Float[Array, "n v"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "n v"]:
        """Send one symbol per row."""
        if key is not None:
            x = x + jax.random.gumbel(key, x.shape)
        soft = jax.nn.softmax(x / self.temperature, axis=-1)
        hard = jax.nn.one_hot(jnp.argmax(x, axis=-1), x.shape[-1])
        return hard + soft - jax.lax.stop_gradient(soft)


def objects() -> tuple[Array, Array]:
    """Every object: its one-hot attributes side by side, and their values."""
    values = jnp.array(list(itertools.product(range(VALUES), repeat=ATTRIBUTES)))
    seen = jax.nn.one_hot(values, VALUES).reshape(len(values), ATTRIBUTES * VALUES)
    return seen, values


def split() -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Training objects and the held-out quarter: attributes summing to 0 mod 4."""
    xs, ys = objects()
    held = jnp.sum(ys, axis=1) % VALUES == 0
    return (xs[~held], ys[~held]), (xs[held], ys[held])


def referential_game(seed: int = 0, learning_rate: float = 0.01) -> Game:
    """Speaker and listener wired through the channel, one shared loss."""
    k_s, k_l1, k_l2 = jax.random.split(jax.random.key(seed), 3)
    speaker = Player(
        "speaker",
        cdl.Linear(ATTRIBUTES * VALUES, SYMBOLS * VOCABULARY, key=k_s)
        >> cdl.Reshape(SYMBOLS, VOCABULARY),
        Adam(learning_rate),
    )
    listener = Player(
        "listener",
        cdl.Flatten()
        >> cdl.Linear(SYMBOLS * VOCABULARY, 64, key=k_l1)
        >> cdl.Relu()
        >> cdl.Linear(64, ATTRIBUTES * VALUES, key=k_l2)
        >> cdl.Reshape(ATTRIBUTES, VALUES),
        Adam(learning_rate),
    )
    shared = SoftmaxCrossEntropy()
    return Game(
        speaker >> Channel() >> listener,
        {"speaker": shared, "listener": shared},
        batched=True,
    )


@eqx.filter_jit
def _recovered(game: Game, state: GameState, xs: Array, ys: Array) -> Array:
    speaker, listener = (
        game.model_of(state, "speaker"),
        game.model_of(state, "listener"),
    )
    heard = jax.vmap(lambda x: listener(Channel()(speaker(x))))(xs)
    return jnp.argmax(heard, axis=-1) == ys


def accuracy(game: Game, state: GameState, xs: Array, ys: Array) -> tuple[float, float]:
    """Shares of objects whose every attribute the listener recovers, and of attributes.

    The speaker sends its most likely symbols (the channel without a key).
    """
    right = _recovered(game, state, xs, ys)
    return float(jnp.mean(jnp.all(right, axis=-1))), float(jnp.mean(right))


def main(steps: int = 1500, seed: int = 0) -> tuple[float, float, float]:
    """Play the game; return the accuracy on training and held-out objects.

    The last figure is the share of held-out attributes recovered.
    """
    (train_x, train_y), (test_x, test_y) = split()
    game = referential_game(seed)
    step = eqx.filter_jit(game.step)
    state = game.init()
    key = jax.random.key(seed + 1)
    print(
        f"chance: {VALUES**-ATTRIBUTES:.1%} of objects, {1 / VALUES:.0%} of attributes"
    )
    print(f"{'step':>6} {'loss':>8} {'train':>7} {'held out':>9} {'attributes':>11}")
    losses: Any = None
    for i in range(steps + 1):
        if i % max(steps // 5, 1) == 0:
            loss = "-" if losses is None else f"{float(losses[0]):.3f}"  # none yet
            train, _ = accuracy(game, state, train_x, train_y)
            test, attributes = accuracy(game, state, test_x, test_y)
            print(f"{i:>6} {loss:>8} {train:>7.0%} {test:>9.0%} {attributes:>11.0%}")
        if i < steps:
            state, losses = step(
                state, train_x, train_y, key=jax.random.fold_in(key, i)
            )
    train, _ = accuracy(game, state, train_x, train_y)
    test, attributes = accuracy(game, state, test_x, test_y)
    print(
        f"{len(train_y)} objects seen, {len(test_y)} held out: {train:.0%} and "
        f"{test:.0%} recovered whole, {attributes:.0%} of held-out attributes"
    )
    return train, test, attributes


if __name__ == "__main__":
    main()
