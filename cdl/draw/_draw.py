"""`draw`: a morphism as a string diagram, written to SVG or PNG."""

import dataclasses
from pathlib import Path
from typing import Any, Final, get_origin

import equinox as eqx
import jaxtyping

from .._para import Para, SpaceError
from .._space import (
    Mismatch,
    ProductSpace,
    Space,
    SpaceVar,
    TensorSpace,
    Unifier,
    space_from_annotation,
    space_of,
)
from . import _messages
from ._layout import Block, Box, layout
from ._render import canvas, save_image, to_svg

FORMATS: Final = (".svg", ".png", ".pdf")


@dataclasses.dataclass(frozen=True)
class Diagram:
    """The string diagram of a morphism, laid out and ready to render.

    **Arguments:** `block`, the laid-out morphism (see `cdl.draw`).

    >>> import jax, cdl
    >>> d = cdl.draw(cdl.Linear(2, 3, key=jax.random.key(0)) >> cdl.Relu())
    >>> d
    Diagram(2 boxes, 137.5×192)
    >>> d.svg().count("<rect")
    3
    """

    block: Block

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the picture, in pixels."""
        width, height, _ = canvas(self.block)
        return width, height

    def boxes(self) -> list[str]:
        """The labels of the boxes drawn, top to bottom.

        >>> import cdl
        >>> cdl.draw(cdl.Relu() >> cdl.Tanh()).boxes()
        ['Relu()', 'Tanh()']
        """
        boxes = [item for item in self.block.items if isinstance(item, Box)]
        return [b.label for b in sorted(boxes, key=lambda b: (b.y, b.x))
                if b.kind == "box"]  # fmt: skip

    def svg(self) -> str:
        """The diagram as an SVG document (deterministic text)."""
        return to_svg(self.block)

    def save(self, path: str | Path) -> Path:
        """Write the diagram to `path`: SVG, PNG or PDF, by its suffix.

        **Returns:** the path written.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in FORMATS:
            raise ValueError(_messages.unknown_format(target, ", ".join(FORMATS)))
        if suffix == ".svg":
            target.write_text(self.svg(), encoding="utf-8")
        else:
            save_image(self.block, target)
        return target

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        width, height = self.size
        return (
            f"Diagram({_messages.box_count(len(self.boxes()))}, {width:g}×{height:g})"
        )


def _as_dom(dom: object, inside: bool = False) -> Space:
    """`draw`'s `dom` as a space: a space, a jaxtyping annotation, or an example.

    An example input (arrays, a `State`, tuples of them) gives its own space; a
    shape or anything else is a `TypeError` naming the part that is neither.
    """
    if isinstance(dom, TensorSpace | ProductSpace | SpaceVar):
        return dom
    if get_origin(dom) is tuple or (
        isinstance(dom, type) and issubclass(dom, jaxtyping.AbstractArray)
    ):
        return space_from_annotation(dom, {})
    if isinstance(dom, tuple):
        return ProductSpace(tuple(_as_dom(part, True) for part in dom))
    if isinstance(dom, eqx.nn.State) or (
        hasattr(dom, "shape") and hasattr(dom, "dtype")
    ):
        return space_of(dom)
    raise TypeError(_messages.bad_dom_kind(dom, inside))


def draw(
    model: Para[Any, Any],
    path: str | Path | None = None,
    *,
    dom: Space | Any | None = None,
) -> Diagram:
    """Draw `model` as a string diagram, and write it to `path` if given.

    Boxes are labelled with each layer's label, wires with their spaces; ``>>``
    stacks top to bottom, ``@`` sets side by side, structure maps are wiring,
    reparametrisations are dashed frames and list folds frame their algebra.

    **Arguments:** `model`, any `cdl.Para`; `path`, a ``.svg``, ``.png`` or
    ``.pdf`` file to write; `dom`, the space of the inputs when it is more precise
    than ``model.dom`` (it fixes the sizes shown on the wires): a cdl space, a
    jaxtyping annotation, or an example input (arrays, or tuples of them).

    **Returns:** the `Diagram` (in a notebook it shows itself).

    A residual block:

    >>> import jax, cdl
    >>> f = cdl.Linear(8, 8, key=jax.random.key(0)) >> cdl.Relu()
    >>> block = cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add()
    >>> cdl.draw(block).boxes()
    ['Linear(8→8)', 'Relu()']
    >>> cdl.draw(block, "block.txt")
    Traceback (most recent call last):
    ...
    ValueError: cannot write a diagram to block.txt: the suffix must be one of \
.svg, .png, .pdf.

    A `dom` the model cannot take is refused:

    >>> cdl.draw(block, dom=cdl.space_of(jax.numpy.ones(3)))
    Traceback (most recent call last):
    ...
    cdl.SpaceError: cdl.draw: Copy() >> ((Linear(8→8) >> Relu()) @ id) >> Add() \
takes float[8], not the dom= given, f32[3] (dimension 8 is not 3).
    """
    if not isinstance(model, Para):
        raise TypeError(_messages.not_a_morphism(model))
    space = model.dom if dom is None else _as_dom(dom)
    if dom is not None:
        try:
            Unifier().unify(model.dom, space)
        except Mismatch as error:
            text = _messages.bad_dom(model.label, model.dom, space, str(error))
            raise SpaceError(text) from None
    diagram = Diagram(layout(model, space))
    if path is not None:
        diagram.save(path)
    return diagram
