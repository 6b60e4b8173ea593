"""The labels of a diagram's input and output wires keep clear of each other."""

import itertools

import jax
import jax.numpy as jnp

import cdl
from cdl.draw._layout import Text, layout
from cdl.draw._render import canvas

KEY = jax.random.key(0)
PAIR = cdl.space_of((jnp.zeros(2), jnp.zeros(2)))


def _clashes(model: cdl.Para, dom: cdl.Space) -> list[tuple[str, str]]:
    _, _, items = canvas(layout(model, dom))
    texts = [t for t in items if isinstance(t, Text)]
    return [
        (a.text, b.text)
        for a, b in itertools.combinations(texts, 2)
        if a.left() < b.right() and b.left() < a.right() and abs(a.y - b.y) < a.size
    ]


def test_labels_of_close_wires_at_the_ends_do_not_overlap() -> None:
    # The two outputs of Copy were labelled "f32[2]f32[2]", one over the other,
    # and the three outputs of a Swap ran into one line.
    def lin(a: int, b: int) -> cdl.Linear:
        return cdl.Linear(a, b, key=KEY)

    swap = ((lin(1, 2) @ lin(1, 3)) @ lin(1, 4)) >> cdl.Swap()
    assert _clashes(cdl.Copy(), cdl.space_of(jnp.zeros(2))) == []
    assert _clashes(swap, swap.dom) == []
    assert _clashes(cdl.Add(), PAIR) == []  # two inputs, side by side
    assert _clashes(cdl.Identity(), cdl.space_of((jnp.zeros(2),) * 3)) == []
