"""Laying out a morphism as a string diagram: boxes, wires and their labels.

Information flows from top to bottom. Every morphism becomes a *block*: a
rectangle of the plane with its input ports on the top edge and its output ports on
the bottom edge, one port per wire. ``f >> g`` stacks blocks, joining the outputs of
one to the inputs of the next by wires labelled with their spaces; ``f @ g`` puts
them side by side. Structure maps are drawn as wiring (copy is a fork, swap a
crossing, projections and discard end a wire in a dot, add a ⊕ node),
reparametrisations as a dashed frame around the morphism they change, list
folds as a frame around their algebra's cell, with its initial value and its
loop, and folds of other functors as a frame around one cell per constructor.

>>> import jax, cdl
>>> f = cdl.Linear(3, 3, key=jax.random.key(0))
>>> block = layout(cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add(), f.dom)
>>> [b.label for b in block.items if isinstance(b, Box)]
['Linear(3→3)']
>>> len(block.ins), len(block.outs)
(1, 1)
"""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Final

from .._para import Compose, Para, Tensor
from .._reparam import Reparam, Repeat
from .._space import Mismatch, ProductSpace, Space
from .._structure import Add, Copy, Discard, Fst, Identity, Snd, Swap
from . import _messages

FONT: Final = 12.0
SMALL: Final = 10.0
CHAR: Final = 0.62
BOX_H: Final = 32.0
GAP: Final = 40.0
WIRE_GAP: Final = 28.0
H_GAP: Final = 18.0
LABEL_GAP: Final = 8.0  # between labels of wires side by side
PAD: Final = 10.0
TITLE: Final = 18.0
MIN_W: Final = 56.0
# A chain of more factors is drawn with its ends and one box standing for the rest.
ELIDE_LONGER_THAN: Final = 64


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of `text` at font `size`, for sizing boxes.

    >>> text_width("Linear(3→3)")
    81.84
    """
    return round(len(text) * size * CHAR, 2)


@dataclasses.dataclass(frozen=True)
class Box:
    """A labelled rectangle: a layer (``kind="box"``), a frame or a nil value."""

    x: float
    y: float
    w: float
    h: float
    label: str
    kind: str = "box"

    def moved(self, dx: float, dy: float) -> "Box":
        """The same box translated by ``(dx, dy)``."""
        return dataclasses.replace(self, x=self.x + dx, y=self.y + dy)

    def right(self) -> float:
        """The rightmost x it covers."""
        return self.x + self.w


@dataclasses.dataclass(frozen=True)
class Curve:
    """A wire: a cubic Bézier from `start` to `end`, leaving and arriving vertically.

    When `bend` is set, the curve bulges sideways by that much instead (the loop of
    a fold).
    """

    start: tuple[float, float]
    end: tuple[float, float]
    dashed: bool = False
    bend: float = 0.0

    def controls(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The two control points of the Bézier."""
        (x0, y0), (x1, y1) = self.start, self.end
        if self.bend:
            return (x0 + self.bend, y0), (x1 + self.bend, y1)
        middle = (y0 + y1) / 2
        return (x0, middle), (x1, middle)

    def moved(self, dx: float, dy: float) -> "Curve":
        """The same wire translated by ``(dx, dy)``."""
        (x0, y0), (x1, y1) = self.start, self.end
        return dataclasses.replace(
            self, start=(x0 + dx, y0 + dy), end=(x1 + dx, y1 + dy)
        )

    def right(self) -> float:
        """The rightmost x it may reach."""
        return max(self.start[0], self.end[0]) + max(self.bend * 0.75, 0.0)


@dataclasses.dataclass(frozen=True)
class Text:
    """A piece of text; `anchor` is ``"start"``, ``"middle"`` or ``"end"``."""

    x: float
    y: float
    text: str
    size: float = SMALL
    anchor: str = "start"

    def moved(self, dx: float, dy: float) -> "Text":
        """The same text translated by ``(dx, dy)``."""
        return dataclasses.replace(self, x=self.x + dx, y=self.y + dy)

    def right(self) -> float:
        """The rightmost x it covers (estimated)."""
        width = text_width(self.text, self.size)
        return self.x + {"start": width, "middle": width / 2, "end": 0.0}[self.anchor]

    def left(self) -> float:
        """The leftmost x it covers (estimated)."""
        width = text_width(self.text, self.size)
        return self.x - {"start": 0.0, "middle": width / 2, "end": width}[self.anchor]


@dataclasses.dataclass(frozen=True)
class Dot:
    """A node on a wire: a filled dot (copy, discard) or an open ⊕ (add)."""

    x: float
    y: float
    kind: str = "dot"

    def moved(self, dx: float, dy: float) -> "Dot":
        """The same node translated by ``(dx, dy)``."""
        return dataclasses.replace(self, x=self.x + dx, y=self.y + dy)

    def right(self) -> float:
        """The rightmost x it covers."""
        return self.x + 8


Item = Box | Curve | Text | Dot


@dataclasses.dataclass(frozen=True)
class Block:
    """A laid-out morphism: its size, its ports and its drawing, origin at top left.

    **Arguments:** `width` and `height`; `ins` and `outs`, one ``(x, space)`` per
    wire on the top and bottom edges; `items`, the boxes, wires, nodes and texts.

    >>> from .._space import space_of
    >>> import jax.numpy as jnp, cdl
    >>> block = layout(cdl.Copy(), space_of(jnp.zeros(2)))
    >>> [x for x, _ in block.ins], [x for x, _ in block.outs]
    ([28.0], [14.0, 42.0])
    """

    width: float
    height: float
    ins: tuple[tuple[float, Space], ...]
    outs: tuple[tuple[float, Space], ...]
    items: tuple[Item, ...]

    def moved(self, dx: float, dy: float) -> tuple[Item, ...]:
        """The items translated by ``(dx, dy)``."""
        return tuple(item.moved(dx, dy) for item in self.items)


def wires(space: Space) -> tuple[Space, ...]:
    """The wires of a space: one per factor of (nested) products, none for ().

    >>> from .._space import space_of
    >>> import jax.numpy as jnp
    >>> wires(space_of((jnp.zeros(2), (jnp.zeros(3), ()))))
    (f32[2], f32[3])
    """
    if isinstance(space, ProductSpace):
        return tuple(w for factor in space.factors for w in wires(factor))
    return (space,)


def _ports(width: float, spaces: tuple[Space, ...]) -> tuple[tuple[float, Space], ...]:
    n = len(spaces)
    return tuple((width * (i + 1) / (n + 1), s) for i, s in enumerate(spaces))


def _output(morphism: Para[Any, Any], dom: Space) -> Space:
    try:
        return morphism.output_space(dom)
    except Mismatch:
        return morphism.cod


def _box(morphism: Para[Any, Any], dom: Space) -> Block:
    """A plain labelled box with one port per wire."""
    return _labelled(morphism.label, dom, _output(morphism, dom))


def _labelled(label: str, dom: Space, cod: Space) -> Block:
    """A box labelled `label` from the wires of `dom` to those of `cod`."""
    ins, outs = wires(dom), wires(cod)
    width = max(text_width(label) + 2 * PAD, WIRE_GAP * max(len(ins), len(outs)), MIN_W)
    box = Box(0.0, 0.0, width, BOX_H, label)
    text = Text(width / 2, BOX_H / 2, label, FONT, "middle")
    return Block(width, BOX_H, _ports(width, ins), _ports(width, outs), (box, text))


def _through(spaces: tuple[Space, ...], height: float) -> Block:
    """Straight wires: the identity on `spaces`."""
    width = WIRE_GAP * max(len(spaces), 1)
    ports = _ports(width, spaces)
    items = tuple(Curve((x, 0.0), (x, height)) for x, _ in ports) if height else ()
    return Block(width, height, ports, ports, items)


def _identity(morphism: Para[Any, Any], dom: Space) -> Block:
    return _through(wires(dom), 0.0)


def _copy(morphism: Para[Any, Any], dom: Space) -> Block:
    ins = wires(dom)
    if not ins:
        return _box(morphism, dom)
    if len(ins) > 1:
        return _copies(ins)
    width, height = 2 * WIRE_GAP, 28.0
    mid = width / 2
    left, right = width / 4, 3 * width / 4
    items: tuple[Item, ...] = (
        Curve((mid, 0.0), (mid, 10.0)),
        Curve((mid, 10.0), (left, height)),
        Curve((mid, 10.0), (right, height)),
        Dot(mid, 10.0),
    )
    return Block(
        width, height, ((mid, ins[0]),), ((left, ins[0]), (right, ins[0])), items
    )


def _copies(ins: tuple[Space, ...]) -> Block:
    """The copy of several wires: each forks at a dot, into both copies of the tuple.

    The outputs are the wires in order, then the wires again, so the forks of
    later wires cross the first copy on their way to the second.

    >>> from .._space import space_of
    >>> import jax.numpy as jnp
    >>> block = _copies((space_of(jnp.zeros(2)), space_of(jnp.zeros(3))))
    >>> [round(x, 1) for x, _ in block.ins], [repr(s) for _, s in block.outs]
    ([37.3, 74.7], ['f32[2]', 'f32[3]', 'f32[2]', 'f32[3]'])
    """
    width, fork, height = 2 * WIRE_GAP * len(ins), 10.0, 40.0
    tops = _ports(width, ins)
    outs = _ports(width, ins + ins)
    items: list[Item] = []
    for i, (x, _) in enumerate(tops):
        items += [
            Curve((x, 0.0), (x, fork)),
            Curve((x, fork), (outs[i][0], height)),
            Curve((x, fork), (outs[len(ins) + i][0], height)),
            Dot(x, fork),
        ]
    return Block(width, height, tops, outs, tuple(items))


def _ending(kept: tuple[bool, ...], dom: Space) -> Block:
    """Wires that pass through where `kept`, and end in a dot elsewhere."""
    spaces = wires(dom)
    height = 24.0
    block = _through(spaces, 0.0)
    items: list[Item] = []
    outs = []
    for (x, space), keep in zip(block.ins, kept, strict=True):
        if keep:
            items.append(Curve((x, 0.0), (x, height)))
            outs.append((x, space))
        else:
            items += [Curve((x, 0.0), (x, height / 2)), Dot(x, height / 2)]
    return Block(block.width, height, block.ins, tuple(outs), tuple(items))


def _pair_split(dom: Space) -> tuple[int, int] | None:
    if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
        return len(wires(dom.factors[0])), len(wires(dom.factors[1]))
    return None


def _discard(morphism: Para[Any, Any], dom: Space) -> Block:
    return _ending(tuple(False for _ in wires(dom)), dom)


def _projection(first: bool) -> Callable[[Para[Any, Any], Space], Block]:
    def draw(morphism: Para[Any, Any], dom: Space) -> Block:
        split = _pair_split(dom)
        if split is None:
            return _box(morphism, dom)
        left, right = split
        return _ending((first,) * left + (not first,) * right, dom)

    return draw


def _swap(morphism: Para[Any, Any], dom: Space) -> Block:
    split = _pair_split(dom)
    if split is None:
        return _box(morphism, dom)
    left, _ = split
    spaces = wires(dom)
    swapped = spaces[left:] + spaces[:left]
    height = 36.0
    block = _through(spaces, 0.0)
    outs = _ports(block.width, swapped)
    n = len(spaces)
    items = tuple(
        Curve((block.ins[i][0], 0.0), (outs[(i - left) % n][0], height))
        for i in range(n)
    )
    return Block(block.width, height, block.ins, outs, items)


def _add(morphism: Para[Any, Any], dom: Space) -> Block:
    ins = wires(dom)
    if len(ins) != 2:
        return _box(morphism, dom)
    width, height = 2 * WIRE_GAP, 36.0
    mid, node = width / 2, 20.0
    out = _output(morphism, dom)
    items: tuple[Item, ...] = (
        Curve((width / 4, 0.0), (mid, node)),
        Curve((3 * width / 4, 0.0), (mid, node)),
        Curve((mid, node), (mid, height)),
        Dot(mid, node, "add"),
    )
    return Block(
        width,
        height,
        ((width / 4, ins[0]), (3 * width / 4, ins[1])),
        ((mid, out),),
        items,
    )


def _compose(morphism: Para[Any, Any], dom: Space) -> Block:
    """The factors stacked; a long chain shows its ends and one box for the rest."""
    assert isinstance(morphism, Compose)
    factors = morphism.factors
    spaces = [dom]
    for factor in factors:
        spaces.append(_output(factor, spaces[-1]))
    n = len(factors)
    if n > ELIDE_LONGER_THAN:
        shown = ELIDE_LONGER_THAN // 2 - 1
        elided = _labelled(
            _messages.elided(n - 2 * shown), spaces[shown], spaces[n - shown]
        )
        blocks = (
            [layout(factors[i], spaces[i]) for i in range(shown)]
            + [elided]
            + [layout(factors[i], spaces[i]) for i in range(n - shown, n)]
        )
    else:
        pairs = zip(factors, spaces, strict=False)
        blocks = [layout(factor, space) for factor, space in pairs]
    block = blocks[0]
    for below in blocks[1:]:
        block = stack(block, below)
    return block


def wire_labels(wires: Sequence[tuple[float, str]], y: float) -> list[Text]:
    """The labels of wires side by side, at height `y`, kept clear of each other.

    The leftmost wire is labelled on its left and the others on their right;
    past two wires, these alternate up and down, so that neighbours do not meet.

    **Arguments:** `wires`, each wire's x and label; `y`, the labels' baseline.

    **Returns:** one `Text` per wire.

    >>> [(t.x, t.y, t.anchor) for t in wire_labels([(0.0, "a"), (9.0, "b")], 20.0)]
    [(-5.0, 20.0, 'end'), (14.0, 20.0, 'start')]
    """
    texts = []
    for i, (x, text) in enumerate(wires):
        if i == 0 and len(wires) > 1:
            texts.append(Text(x - 5, y, text, anchor="end"))
        else:
            stagger = ((i - 1) % 2) * 11.0 - 5.5 if len(wires) > 2 else 0.0
            texts.append(Text(x + 5, y + stagger, text))
    return texts


def stack(top: Block, bottom: Block) -> Block:
    """`top` above `bottom`, joined by labelled wires (``>>``)."""
    shift = 0.0
    if top.outs and bottom.ins:
        shift = sum(x for x, _ in top.outs) / len(top.outs) - sum(
            x for x, _ in bottom.ins
        ) / len(bottom.ins)
    top_x, bottom_x = max(-shift, 0.0), max(shift, 0.0)
    bottom_y = top.height + GAP
    items = list(top.moved(top_x, 0.0)) + list(bottom.moved(bottom_x, bottom_y))
    curves, labels = [], []
    for (x0, space), (x1, _) in zip(top.outs, bottom.ins, strict=False):
        start, end = (x0 + top_x, top.height), (x1 + bottom_x, bottom_y)
        curves.append(Curve(start, end))
        labels.append(((start[0] + end[0]) / 2, repr(space)))
    texts = wire_labels(labels, top.height + GAP / 2 + 3.5)
    for curve, text in zip(curves, texts, strict=True):
        items += [curve, text]
    width = max(top.width + top_x, bottom.width + bottom_x)
    return Block(
        width,
        bottom_y + bottom.height,
        tuple((x + top_x, s) for x, s in top.ins),
        tuple((x + bottom_x, s) for x, s in bottom.outs),
        tuple(items),
    )


def _tensor(morphism: Para[Any, Any], dom: Space) -> Block:
    assert isinstance(morphism, Tensor)
    n = len(morphism.factors)
    if not (isinstance(dom, ProductSpace) and len(dom.factors) == n):
        dom = morphism.signature()[0]
    assert isinstance(dom, ProductSpace)
    blocks = [
        layout(factor, part)
        for factor, part in zip(morphism.factors, dom.factors, strict=True)
    ]
    block = blocks[0]
    for right in blocks[1:]:
        block = beside(block, right)
    return block


def beside(left: Block, right: Block) -> Block:
    """`left` and `right` side by side, the shorter one centred (``@``)."""
    height = max(left.height, right.height)
    items: list[Item] = []
    ins: list[tuple[float, Space]] = []
    outs: list[tuple[float, Space]] = []
    # labels hanging past a block's edges keep clear of the neighbouring block
    gap = max(H_GAP, _overhang(left)[1] + _overhang(right)[0] + LABEL_GAP)
    x = 0.0
    for block in (left, right):
        dy = (height - block.height) / 2
        items += block.moved(x, dy)
        for px, space in block.ins:
            ins.append((px + x, space))
            if dy:
                items.append(Curve((px + x, 0.0), (px + x, dy)))
        for px, space in block.outs:
            outs.append((px + x, space))
            if dy:
                items.append(Curve((px + x, dy + block.height), (px + x, height)))
        x += block.width + gap
    return Block(x - gap, height, tuple(ins), tuple(outs), tuple(items))


def _overhang(block: Block) -> tuple[float, float]:
    """How far the labels of `block` reach past its left and right edges."""
    texts = [item for item in block.items if isinstance(item, Text)]
    left = max([0.0] + [-t.left() for t in texts])
    right = max([0.0] + [t.right() - block.width for t in texts])
    return left, right


def frame(title: str, inner: Block, kind: str = "frame") -> Block:
    """`inner` inside a titled dashed frame, its wires continued to the edges."""
    dx, dy = PAD, TITLE + PAD
    width = max(inner.width + 2 * PAD, text_width(title, SMALL) + 2 * PAD)
    dx = (width - inner.width) / 2
    height = inner.height + dy + PAD
    items: list[Item] = [
        Box(0.0, 0.0, width, height, title, kind),
        Text(6.0, 13.0, title),
    ]
    items += inner.moved(dx, dy)
    items += [Curve((x + dx, 0.0), (x + dx, dy)) for x, _ in inner.ins]
    items += [
        Curve((x + dx, dy + inner.height), (x + dx, height)) for x, _ in inner.outs
    ]
    return Block(
        width,
        height,
        tuple((x + dx, s) for x, s in inner.ins),
        tuple((x + dx, s) for x, s in inner.outs),
        tuple(items),
    )


def _reparam_title(morphism: Reparam[Any, Any, Any]) -> str:
    kind = type(morphism.r).__name__.lstrip("_").lower()
    if kind in ("tie", "freeze"):
        return kind
    name = getattr(morphism.r, "__name__", "")
    return f"reparam: {name}" if name.isidentifier() else "reparam"


def _reparam(morphism: Para[Any, Any], dom: Space) -> Block:
    assert isinstance(morphism, Reparam)
    if morphism.label != morphism.skeleton.label:
        # A layer built as a reparametrisation, under its own name
        # (`cdl.EquivariantLinear`): one box, as the layer it is to its user.
        return _box(morphism, dom)
    return frame(_reparam_title(morphism), layout(morphism.skeleton, dom))


def _repeat(morphism: Para[Any, Any], dom: Space) -> Block:
    assert isinstance(morphism, Repeat)
    return frame(f"repeat ×{morphism.times}", layout(morphism.cell, dom))


def _fold(morphism: Para[Any, Any], dom: Space) -> Block:
    """A list fold: its cell in a frame, fed by the elements, nil and the loop."""
    cell: Para[Any, Any] = getattr(morphism, "algebra").cons  # noqa: B009
    cell_dom, _ = cell.signature()
    split = _pair_split(cell_dom)
    if split is None or split[0] != 1 or not isinstance(cell_dom, ProductSpace):
        return frame(morphism.label.split("(")[0], _box(cell, cell_dom))
    element, carrier = cell_dom.factors
    inner = _box(cell, cell_dom)
    nil_label = "nil"
    nil_w = max(text_width(nil_label) + 2 * PAD, WIRE_GAP * len(wires(carrier)))
    carrier_ports = inner.ins[1:]
    # nil sits above the carrier inputs, centred on them
    centre = sum(x for x, _ in carrier_ports) / len(carrier_ports)
    nil_x = centre - nil_w / 2
    nil_h = 22.0
    cell_y = nil_h + GAP
    items: list[Item] = [
        Box(nil_x, 0.0, nil_w, nil_h, nil_label, "nil"),
        Text(centre, nil_h / 2, nil_label, FONT, "middle"),
    ]
    items += inner.moved(0.0, cell_y)
    for i, (x, _) in enumerate(carrier_ports):
        start = (nil_x + nil_w * (i + 1) / (len(carrier_ports) + 1), nil_h)
        items.append(Curve(start, (x, cell_y)))
    element_x = inner.ins[0][0]
    items.append(Curve((element_x, 0.0), (element_x, cell_y)))
    items.append(Text(element_x + 5, cell_y - 8, repr(element)))
    loop_x = inner.width
    bottom = cell_y + inner.height
    items.append(Curve((loop_x, bottom - 6), (loop_x, cell_y + 6), True, 34.0))
    block = Block(
        max(inner.width + 28, nil_x + nil_w, text_width(repr(element)) + element_x),
        bottom,
        ((element_x, dom),),
        tuple(
            (x, space)
            for (x, _), space in zip(
                inner.outs, wires(_output(morphism, dom)), strict=False
            )
        ),
        tuple(items),
    )
    return frame(morphism.label.split("(")[0], block)


DRAWERS: Final[dict[type, Callable[[Para[Any, Any], Space], Block]]] = {
    Compose: _compose,
    Tensor: _tensor,
    Reparam: _reparam,
    Repeat: _repeat,
    Identity: _identity,
    Copy: _copy,
    Discard: _discard,
    Swap: _swap,
    Fst: _projection(True),
    Snd: _projection(False),
    Add: _add,
}


def _tree_fold(morphism: Para[Any, Any], dom: Space) -> Block:
    """A fold of a polynomial functor: one cell per constructor, cased and merged."""
    cells: dict[str, Para[Any, Any]] = getattr(morphism, "algebra").cells  # noqa: B009
    row: Block | None = None
    for name, cell in cells.items():
        label = f"{name}: {cell.label}"
        width = max(text_width(label) + 2 * PAD, MIN_W)
        box = Block(
            width,
            BOX_H,
            ((width / 2, dom),),
            ((width / 2, dom),),
            (Box(0.0, 0.0, width, BOX_H, label),
             Text(width / 2, BOX_H / 2, label, FONT, "middle")),
        )  # fmt: skip
        row = box if row is None else beside(row, box)
    assert row is not None
    centre, case_y, top = row.width / 2, 10.0, 10.0 + 0.75 * GAP
    merge_y = top + row.height + 0.75 * GAP
    bend = (row.width / 2 + 24) / 0.75
    out = _output(morphism, dom)
    items: list[Item] = [Curve((centre, 0.0), (centre, case_y)), Dot(centre, case_y)]
    items += row.moved(0.0, top)
    for x, _ in row.ins:
        items.append(Curve((centre, case_y), (x, top)))
    for x, _ in row.outs:
        items.append(Curve((x, top + row.height), (centre, merge_y)))
    height = merge_y + 10.0
    items += [
        Dot(centre, merge_y),
        Curve((centre, merge_y), (centre, height)),
        Curve((centre, merge_y), (centre, case_y), True, bend),
    ]
    block = Block(
        row.width + 30, height, ((centre, dom),), ((centre, out),), tuple(items)
    )
    return frame(morphism.label.split("(")[0], block)


def _is_tree_fold(morphism: Para[Any, Any]) -> bool:
    cells = getattr(getattr(morphism, "algebra", None), "cells", None)
    return (
        isinstance(cells, dict)
        and bool(cells)
        and all(isinstance(c, Para) for c in cells.values())
    )


def _is_list_fold(morphism: Para[Any, Any]) -> bool:
    cons = getattr(getattr(morphism, "algebra", None), "cons", None)
    return isinstance(cons, Para)


def layout(morphism: Para[Any, Any], dom: Space) -> Block:
    """Lay out `morphism`, fed with inputs from `dom`, as a block.

    **Arguments:** `morphism`, any `cdl.Para`; `dom`, the space of its inputs
    (e.g. ``morphism.dom``).

    **Returns:** a `Block` in its own coordinates, origin at the top left.

    >>> import jax, cdl
    >>> block = layout(cdl.Linear(2, 3, key=jax.random.key(0)), cdl.Linear(2, 3,
    ...     key=jax.random.key(0)).dom)
    >>> block.height, [repr(s) for _, s in block.outs]
    (32.0, ['float[3]'])
    """
    for klass in type(morphism).__mro__:
        drawer = DRAWERS.get(klass)
        if drawer is not None:
            return drawer(morphism, dom)
    if _is_list_fold(morphism):
        return _fold(morphism, dom)
    if _is_tree_fold(morphism):
        return _tree_fold(morphism, dom)
    return _box(morphism, dom)
