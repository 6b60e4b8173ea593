"""Players: learners that own their parameters and optimiser, wired like morphisms.

A player is a morphism of Para with a name and an optimiser. Through the reverse
derivative ``R`` it is a parametric lens whose parameters are its own, and only its
own: wiring players with ``>>`` and ``@`` gives an *arena* in which one player's
move is another's input, and each player's parameters stay apart from the rest.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.games import Move, Player
>>> speaker = Player("speaker", cdl.Linear(4, 3, key=jax.random.key(0)), cdl.SGD(0.1))
>>> listener = Player("listener", cdl.Linear(3, 4, key=jax.random.key(1)),
...                   cdl.SGD(0.1))
>>> arena = speaker >> listener
>>> arena.dom, arena.cod
(float[4], float[4])
>>> cdl.draw(arena).boxes()
['speaker', 'listener']
"""

from typing import Any, ClassVar, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._para import Para, apply
from .._space import Space
from ..optics import AbstractOptimiser, ReverseDerivative, split_parameters
from . import _messages

_A = TypeVar("_A")
_B = TypeVar("_B")


class Player(Para[_A, _B]):
    """A learner in a game: a named morphism with its own parameters and optimiser.

    It acts as its `model` does, so players compose with ``>>`` and ``@`` into an
    arena like any morphisms; `cdl.draw` draws a player as one box labelled with
    its name. A player may occur several times in an arena (a critic judging real
    and generated samples): all its occurrences share one set of parameters.

    **Arguments:** `name`, unique within a game; `model`, a `cdl.Para` morphism whose
    floating-point arrays are the player's parameters; `optimiser`, the cdl
    optimiser lens that turns the player's gradients into new parameters.

    **Returns:** the player, a morphism ``A → B`` like `model`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.games import Player
    >>> critic = Player("critic", cdl.Linear(2, 1, key=jax.random.key(0)), cdl.SGD(0.1))
    >>> critic.label, critic(jnp.zeros(2)).shape
    ('critic', (1,))
    >>> Player("", cdl.Relu(), cdl.SGD(0.1))
    Traceback (most recent call last):
    ...
    ValueError: Player: the name must be a non-empty string, but was given ''.
    """

    name: str = eqx.field(static=True)
    model: Para[_A, _B]
    optimiser: AbstractOptimiser
    takes_key: ClassVar[bool] = True

    def __init__(
        self, name: str, model: Para[_A, _B], optimiser: AbstractOptimiser
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(_messages.bad_name(name))
        if not isinstance(model, Para):
            raise TypeError(
                _messages.not_a_morphism(f"Player({name!r}): the model", model)
            )
        if not isinstance(optimiser, AbstractOptimiser):
            raise TypeError(_messages.not_an_optimiser(f"Player({name!r})", optimiser))
        self.name = name
        self.model = model
        self.optimiser = optimiser

    @property
    def label(self) -> str:
        """The player's name."""
        return self.name

    @property
    def stochastic(self) -> bool:
        """Whether the model draws random numbers."""
        return self.model.stochastic

    @property
    def params(self) -> Any:
        """The player's parameters: the floating-point arrays of its model."""
        return split_parameters(self.model)[0]

    @property
    def lens(self) -> ReverseDerivative[_A, _B]:
        """The player as a parametric lens: ``R(model)``, parameters `params`.

        >>> import jax, jax.numpy as jnp, cdl
        >>> from cdl.games import Player
        >>> p = Player("p", cdl.Bias(2), cdl.SGD(0.1))
        >>> p.lens.put(p.params, jnp.zeros(2), jnp.ones(2))[0].bias.tolist()
        [1.0, 1.0]
        """
        return ReverseDerivative(self.model)

    def signature(self) -> tuple[Space, Space]:
        """The model's domain and codomain."""
        return self.model.signature()

    def output_space(self, dom: Space) -> Space:
        """The model's output space on inputs from `dom`."""
        return self.model.output_space(dom)

    def with_params(self, params: Any) -> "Player[_A, _B]":
        """The same player with parameters `params` (a tree like `params`).

        **Arguments:** `params`.

        **Returns:** the player whose model holds `params`.

        >>> import jax.numpy as jnp, cdl
        >>> from cdl.games import Player
        >>> p = Player("p", cdl.Bias(1), cdl.SGD(0.1))
        >>> p.with_params(p.params).model.bias.tolist()
        [0.0]
        """
        model: Para[_A, _B] = eqx.combine(params, split_parameters(self.model)[1])
        player: Player[_A, _B] = eqx.tree_at(lambda p: p.model, self, model)
        return player

    def __call__(self, x: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """Play: run the model on `x`."""
        return apply(self.model, x, key)


def _numeric(value: object) -> bool:
    """Whether `value` reads as an array of real numbers (a move)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        return False
    return np.issubdtype(array.dtype, np.integer) or np.issubdtype(
        array.dtype, np.floating
    )


class Move(Para[tuple[()], Float[Array, "*shape"]]):
    """A move chosen outright: a morphism from the unit ``()`` returning its parameter.

    The strategy of a player without inputs (a point of a bilinear game, the
    policy logits of a matrix game) is such a morphism: its output is its
    parameter.

    **Arguments:** `value`, the initial move (an array or a number).

    **Returns:** the morphism ``() → float[*shape]``.

    >>> import jax.numpy as jnp
    >>> from cdl.games import Move
    >>> m = Move(jnp.array([1.0, 2.0]))
    >>> m.dom, m.cod, m(())
    ((), float[2], Array([1., 2.], dtype=float32))
    """

    value: Float[Array, "*shape"]
    shape: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, value: ArrayLike) -> None:
        if isinstance(value, jax.core.Tracer):
            if not jnp.issubdtype(value.dtype, jnp.integer) and not jnp.issubdtype(
                value.dtype, jnp.floating
            ):
                raise TypeError(_messages.bad_move(value))
        elif not _numeric(value):
            raise TypeError(_messages.bad_move(value))
        elif not np.all(np.isfinite(np.asarray(value))):
            raise ValueError(_messages.move_not_finite(value))
        self.value = jnp.asarray(value, dtype=jnp.result_type(float))
        self.shape = tuple(self.value.shape)

    @property
    def label(self) -> str:
        """``Move(shape)``."""
        return f"Move{self.shape}"

    def __call__(self, x: tuple[()]) -> Float[Array, "*shape"]:
        """The move itself; the unit input carries nothing."""
        return self.value
