"""Trial round 8: drawing models on a given input."""

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl


def _model():
    return cdl.Linear(3, 2, key=jax.random.key(0)) >> cdl.Tanh()


@pytest.mark.parametrize(
    "dom", [jnp.ones(3), Float[Array, "3"], cdl.space_of(jnp.ones(3))]
)
def test_draw_takes_an_example_input_or_an_annotation_as_its_dom(dom):
    # An example array failed with "unhashable type: 'jaxlib._jax.ArrayImpl'",
    # and a jaxtyping annotation was refused as "a tensor is not a tuple".
    assert cdl.draw(_model(), dom=dom).boxes() == ["Linear(3→2)", "Tanh()"]


def test_draw_names_a_dom_that_is_no_space_nor_input():
    with pytest.raises(TypeError, match=r"int 3 inside the tuple given \(a shape"):
        cdl.draw(_model(), dom=(3,))
    with pytest.raises(cdl.SpaceError, match="takes float\\[3\\], not the dom= given"):
        cdl.draw(_model(), dom=jnp.ones(4))


def test_drawing_a_game_points_to_its_arena():
    # cdl.draw(game) said only "but was given Game".
    from cdl.games import Game, Move, Player

    x = Player("x", Move(jnp.array([1.0])), cdl.SGD(0.1))
    game = Game(x, {"x": lambda outcome, _: outcome.sum()})
    with pytest.raises(TypeError, match=r"draw its arena, `cdl.draw\(game.arena\)`"):
        cdl.draw(game)  # type: ignore[arg-type]
    assert cdl.draw(game.arena).boxes() == ["x"]
