"""Rendering a laid-out diagram: SVG written by hand, PNG and PDF by matplotlib.

The SVG text is deterministic (coordinates rounded to one decimal, items in layout
order), so diagrams can be compared byte for byte.
"""

import html
from pathlib import Path
from typing import Final

from .._space import Space
from ._layout import (
    FONT,
    LABEL_GAP,
    Block,
    Box,
    Curve,
    Dot,
    Item,
    Text,
    wire_labels,
)

MARGIN: Final = 16.0
STUB: Final = 28.0
INK: Final = "#1f2328"
WIRE_INK: Final = "#57606a"
FILLS: Final = {"box": "#ddf4ff", "nil": "#fff8c5", "frame": "none"}
STROKES: Final = {"box": "#0969da", "nil": "#9a6700", "frame": "#8c959f"}
FONTS: Final = "DejaVu Sans, Helvetica, Arial, sans-serif"


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def canvas(block: Block) -> tuple[float, float, tuple[Item, ...]]:
    """Place `block` on a page with input and output stubs; ``(width, height, items)``.

    >>> import jax, cdl
    >>> from ._layout import layout
    >>> f = cdl.Linear(2, 3, key=jax.random.key(0))
    >>> width, height, items = canvas(layout(f, f.dom))
    >>> height
    120.0
    """
    top = MARGIN + STUB
    items: list[Item] = list(block.moved(MARGIN, top))
    bottom = top + block.height
    for x, _ in block.ins:
        items.append(Curve((x + MARGIN, MARGIN), (x + MARGIN, top)))
    for x, _ in block.outs:
        items.append(Curve((x + MARGIN, bottom), (x + MARGIN, bottom + STUB)))
    items += _stub_labels(block.ins, MARGIN + STUB / 2 + 3.5)
    items += _stub_labels(block.outs, bottom + STUB / 2 + 3.5)
    overhang = max([0.0] + [MARGIN - i.left() for i in items if isinstance(i, Text)])
    if overhang:
        items = [item.moved(overhang, 0.0) for item in items]
    width = max([block.width + MARGIN + overhang] + [i.right() for i in items]) + MARGIN
    return round(width, 1), bottom + STUB + MARGIN, tuple(items)


def _stub_labels(ports: tuple[tuple[float, Space], ...], y: float) -> list[Text]:
    """The labels of a row of input or output wires, kept clear of each other.

    Each is written right of its wire; where two would run into each other (the
    wires of `Copy` or `Swap` sit closer than their labels are wide), the first is
    written left of its wire and the others alternate up and down, as between
    the factors of a composite.
    """
    texts = [Text(x + MARGIN + 5, y, repr(space)) for x, space in ports]
    crowded = any(
        a.right() + LABEL_GAP > b.left() for a, b in zip(texts, texts[1:], strict=False)
    )
    if not crowded:
        return texts
    return wire_labels([(x + MARGIN, repr(space)) for x, space in ports], y)


def _svg_item(item: Item) -> str:
    if isinstance(item, Box):
        dash = ' stroke-dasharray="5 3"' if item.kind == "frame" else ""
        return (
            f'<rect x="{_n(item.x)}" y="{_n(item.y)}" width="{_n(item.w)}" '
            f'height="{_n(item.h)}" rx="4" fill="{FILLS[item.kind]}" '
            f'stroke="{STROKES[item.kind]}" stroke-width="1.2"{dash}/>'
        )
    if isinstance(item, Curve):
        (x0, y0), (x1, y1) = item.start, item.end
        (c0x, c0y), (c1x, c1y) = item.controls()
        if x0 == x1 and not item.bend:
            path = f"M{_n(x0)} {_n(y0)}V{_n(y1)}"
        else:
            path = (
                f"M{_n(x0)} {_n(y0)}C{_n(c0x)} {_n(c0y)} {_n(c1x)} {_n(c1y)} "
                f"{_n(x1)} {_n(y1)}"
            )
        dash = ' stroke-dasharray="4 3"' if item.dashed else ""
        return (
            f'<path d="{path}" fill="none" stroke="{WIRE_INK}" '
            f'stroke-width="1.4"{dash}/>'
        )
    if isinstance(item, Dot):
        if item.kind == "add":
            x, y = item.x, item.y
            return (
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="7" fill="white" '
                f'stroke="{INK}" stroke-width="1.2"/>'
                f'<path d="M{_n(x - 4)} {_n(y)}H{_n(x + 4)}M{_n(x)} {_n(y - 4)}'
                f'V{_n(y + 4)}" stroke="{INK}" stroke-width="1.2"/>'
            )
        return f'<circle cx="{_n(item.x)}" cy="{_n(item.y)}" r="3.5" fill="{INK}"/>'
    big = item.size >= FONT
    return (
        f'<text x="{_n(item.x)}" y="{_n(item.y + (4.2 if big else 0))}" '
        f'font-size="{_n(item.size)}" text-anchor="{item.anchor}" '
        f'fill="{INK if big else WIRE_INK}">{html.escape(item.text)}</text>'
    )


def to_svg(block: Block) -> str:
    """The SVG document of a laid-out morphism.

    **Arguments:** `block`, from `layout`.

    **Returns:** the SVG text.

    >>> import jax, cdl
    >>> from ._layout import layout
    >>> f = cdl.Linear(2, 3, key=jax.random.key(0))
    >>> to_svg(layout(f, f.dom)).splitlines()[0]
    '<svg xmlns="http://www.w3.org/2000/svg" width="137.5" height="120" ...>'
    """
    width, height, items = canvas(block)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'font-family="{FONTS}">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    # frames first, then wires, then boxes and nodes on top of wires, then text
    order = {"frame": 0, Curve: 1, "box": 2, "nil": 2, Dot: 3, Text: 4}
    ranked = sorted(
        enumerate(items),
        key=lambda pair: (
            order[pair[1].kind if isinstance(pair[1], Box) else type(pair[1])],
            pair[0],
        ),
    )
    lines += [_svg_item(item) for _, item in ranked]
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def save_image(block: Block, path: Path, dpi: float = 150.0) -> None:
    """Draw `block` with matplotlib into `path` (PNG, PDF, … by its suffix).

    >>> import jax, cdl, tempfile, os
    >>> from ._layout import layout
    >>> f = cdl.Linear(2, 3, key=jax.random.key(0))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_image(layout(f, f.dom), Path(d) / "f.png")
    ...     os.path.getsize(Path(d) / "f.png") > 0
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyBboxPatch, PathPatch
    from matplotlib.path import Path as MplPath

    width, height, items = canvas(block)
    figure = Figure(figsize=(width / 100, height / 100), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.set_axis_off()
    points_per_px = 72 / 100
    for item in items:
        if isinstance(item, Box):
            axes.add_patch(
                FancyBboxPatch(
                    (item.x, item.y),
                    item.w,
                    item.h,
                    boxstyle="round,pad=0,rounding_size=4",
                    facecolor=FILLS[item.kind],
                    edgecolor=STROKES[item.kind],
                    linewidth=1.2 * points_per_px,
                    linestyle="--" if item.kind == "frame" else "-",
                    zorder=0 if item.kind == "frame" else 2,
                )
            )
        elif isinstance(item, Curve):
            c0, c1 = item.controls()
            codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4]
            axes.add_patch(
                PathPatch(
                    MplPath([item.start, c0, c1, item.end], codes),
                    fill=False,
                    edgecolor=WIRE_INK,
                    linewidth=1.4 * points_per_px,
                    linestyle="--" if item.dashed else "-",
                    zorder=1,
                )
            )
        elif isinstance(item, Dot):
            add = item.kind == "add"
            axes.add_patch(
                Circle(
                    (item.x, item.y),
                    7 if add else 3.5,
                    facecolor="white" if add else INK,
                    edgecolor=INK,
                    linewidth=1.2 * points_per_px,
                    zorder=3,
                )
            )
            if add:
                axes.text(item.x, item.y, "+", ha="center", va="center", zorder=4,
                          fontsize=FONT * points_per_px)  # fmt: skip
        else:
            axes.text(
                item.x,
                item.y if item.size >= FONT else item.y - 3.5,
                item.text,
                ha={"start": "left", "middle": "center", "end": "right"}[item.anchor],
                va="center",
                fontsize=item.size * points_per_px,
                color=INK if item.size >= FONT else WIRE_INK,
                zorder=4,
            )
    figure.savefig(path, dpi=dpi)
