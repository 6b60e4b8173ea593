"""Diagrams: the wire labels of morphisms side by side do not overlap."""

import itertools

import jax
import pytest

import cdl
from cdl.draw._layout import SMALL, Box, Text, layout

KEY = jax.random.key(0)


def _overlaps(block_items: tuple[object, ...]) -> list[tuple[str, str]]:
    """Pairs of labels drawn over each other, or over a box."""
    texts = [t for t in block_items if isinstance(t, Text) and t.size == SMALL]
    boxes = [b for b in block_items if isinstance(b, Box)]
    found = []
    for a, b in itertools.combinations(texts, 2):
        if a.left() < b.right() and b.left() < a.right() and abs(a.y - b.y) < SMALL:
            found.append((a.text, b.text))
    for t, box in itertools.product(texts, boxes):
        if t.left() < box.right() and box.x < t.right() and box.y < t.y < box.y + box.h:
            found.append((t.text, box.label))
    return found


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_labels_of_a_right_factor_keep_clear_of_the_left_factor(depth: int) -> None:
    # The crossing wires of Copy >> Swap >> Add are labelled on both sides; set
    # beside a chain of layers their left labels were drawn over its boxes and
    # over its own wire labels.
    chain = cdl.Linear(1, 2, key=KEY)
    for i in range(depth - 1):
        chain = chain >> (cdl.Relu() if i % 2 == 0 else cdl.Linear(2, 2, key=KEY))
    model = chain @ (cdl.Copy() >> cdl.Swap() >> cdl.Add())
    assert _overlaps(layout(model, model.dom).items) == []
