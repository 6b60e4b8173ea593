"""String diagrams: stored pictures, layout geometry, and the file formats."""

import functools
import os
import re
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.draw import layout
from cdl.draw._layout import Box, Curve, Dot

DATA = Path(__file__).parent / "data"
REGENERATE = os.environ.get("CDL_REGENERATE_PICTURES") == "1"


def keys(n: int) -> list[jax.Array]:
    return list(jax.random.split(jax.random.key(0), n))


def ten_layers() -> cdl.Para[Any, Any]:
    k = keys(6)
    chain: list[cdl.Para[Any, Any]] = [cdl.Linear(784, 256, key=k[0]), cdl.Relu()]
    for i in range(3):
        chain += [cdl.Linear(256, 256, key=k[i + 1]), cdl.Gelu()]
    chain += [cdl.Linear(256, 10, key=k[5]), cdl.LogSoftmax()]
    assert len(chain) == 10
    return functools.reduce(cdl.Compose, chain)


def residual() -> cdl.Para[Any, Any]:
    f = cdl.Linear(64, 64, key=keys(1)[0]) >> cdl.Relu()
    return cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add()


def tied() -> cdl.Para[Any, Any]:
    k1, k2 = keys(2)
    ae = cdl.Linear(16, 4, key=k1) >> cdl.Tanh() >> cdl.Linear(4, 16, key=k2)
    return cdl.tie(
        ae,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[-1].weight,
        via=jnp.transpose,
    )


def fold() -> cdl.Para[Any, Any]:
    cell = cdl.GRUCell(3, 8, key=keys(1)[0])
    return cdl.cata(cdl.ListAlgebra(jnp.zeros(8), cell)) >> cdl.Linear(
        8, 2, key=keys(2)[1]
    )


def tree_fold() -> cdl.Para[Any, Any]:
    expr = cdl.polynomial("ExprF", Num="a", Op="a x x")
    k1, k2 = keys(2)
    algebra = cdl.Algebra(
        expr,
        Num=cdl.TreeLSTMCell(10, 16, arity=0, key=k1),
        Op=cdl.TreeLSTMCell(3, 16, arity=2, key=k2),
    )
    return cdl.cata(algebra)


def wiring() -> cdl.Para[Any, Any]:
    k1, k2 = keys(2)
    pair = cdl.Linear(2, 3, key=k1) @ cdl.Linear(4, 3, key=k2)
    return pair >> cdl.Swap() >> (cdl.Identity() @ cdl.Discard()) >> cdl.Fst()


PICTURES = {
    "ten_layers": ten_layers,
    "residual": residual,
    "tied": tied,
    "fold": fold,
    "tree_fold": tree_fold,
    "wiring": wiring,
}


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_svg_matches_the_stored_picture(name: str) -> None:
    svg = cdl.draw(PICTURES[name]()).svg()
    stored = DATA / f"{name}.svg"
    if REGENERATE:
        stored.write_text(svg, encoding="utf-8")
    assert svg == stored.read_text(encoding="utf-8")


def test_drawing_is_deterministic_and_ignores_weights() -> None:
    a = cdl.Linear(5, 3, key=jax.random.key(1)) >> cdl.Tanh()
    b = cdl.Linear(5, 3, key=jax.random.key(2)) >> cdl.Tanh()
    assert cdl.draw(a).svg() == cdl.draw(b).svg() == cdl.draw(a).svg()


def test_ten_layer_network_is_one_readable_column() -> None:
    diagram = cdl.draw(ten_layers())
    boxes = [i for i in diagram.block.items if isinstance(i, Box)]
    assert len(boxes) == 10
    ys = [b.y for b in boxes]
    assert ys == sorted(ys) and len(set(ys)) == 10
    centres = {round(b.x + b.w / 2, 1) for b in boxes}
    assert len(centres) == 1  # one straight column of boxes
    width, height = diagram.size
    assert width < 260 and height < 1000
    svg = diagram.svg()
    for space in ("float[784]", "float[256]", "float[10]"):
        assert f">{space}<" in svg


def test_residual_block_forks_adds_and_labels_both_branches() -> None:
    block = layout(residual(), residual().dom)
    dots = [i for i in block.items if isinstance(i, Dot)]
    assert sorted(d.kind for d in dots) == ["add", "dot"]
    boxes = [i for i in block.items if isinstance(i, Box)]
    assert [b.label for b in boxes] == ["Linear(64→64)", "Relu()"]
    copy, add = sorted(dots, key=lambda d: d.y)
    assert copy.x == add.x  # the skip path comes back to the same column
    assert all(copy.y < b.y < add.y for b in boxes)
    assert cdl.draw(residual()).svg().count(">float[64]<") >= 5


def test_reparametrisation_is_a_frame_around_its_base() -> None:
    block = layout(tied(), tied().dom)
    frames = [i for i in block.items if isinstance(i, Box) and i.kind == "frame"]
    assert [f.label for f in frames] == ["tie"]
    (outer,) = frames
    inner = [i for i in block.items if isinstance(i, Box) and i.kind == "box"]
    assert len(inner) == 3
    for box in inner:
        assert outer.x < box.x and box.right() < outer.right()
        assert outer.y < box.y and box.y + box.h < outer.y + outer.h
    titles = [cdl.draw(m).block.items[0] for m in (
        cdl.repeat(cdl.Linear(2, 2, key=keys(1)[0]), 3),
        cdl.freeze(cdl.Linear(2, 2, key=keys(1)[0])),
    )]  # fmt: skip
    assert [t.label for t in titles if isinstance(t, Box)] == ["repeat ×3", "freeze"]
    bias = cdl.Bias(3)

    def spread(s: jax.Array) -> Any:
        return eqx.tree_at(lambda b: b.bias, bias, jnp.full(3, s))

    for r, title in ((spread, "reparam: spread"), (lambda s: spread(s), "reparam")):
        box = cdl.draw(cdl.reparam(bias, r, jnp.array(1.0))).block.items[0]
        assert isinstance(box, Box) and box.label == title


def test_a_layer_built_as_a_reparametrisation_is_one_box_under_its_name() -> None:
    act = cdl.permutation_action(4, (2,))
    layer = cdl.EquivariantLinear(act, act, key=keys(1)[0])
    diagram = cdl.draw(layer >> cdl.Relu())
    assert diagram.boxes() == [layer.label, "Relu()"]
    assert layer.label.startswith("EquivariantLinear(")
    frames = [
        i for i in diagram.block.items if isinstance(i, Box) and i.kind == "frame"
    ]
    assert frames == []


def test_fold_frames_its_cell_with_nil_and_a_loop() -> None:
    diagram = cdl.draw(fold())
    boxes = [i for i in diagram.block.items if isinstance(i, Box)]
    kinds = {b.kind: b.label for b in boxes if b.kind != "box"}
    assert kinds == {"frame": "cata", "nil": "nil"}
    assert diagram.boxes() == ["GRUCell(3, 8)", "Linear(8→2)"]
    loops = [i for i in diagram.block.items if isinstance(i, Curve) and i.dashed]
    assert len(loops) == 1
    svg = diagram.svg()
    assert ">float[n,3]<" in svg and ">float[3]<" in svg and ">float[8]<" in svg


def test_tree_fold_frames_one_cell_per_constructor() -> None:
    diagram = cdl.draw(tree_fold())
    assert [label.split(":")[0] for label in diagram.boxes()] == ["Num", "Op"]
    items = diagram.block.items
    (frame,) = [i for i in items if isinstance(i, Box) and i.kind == "frame"]
    assert frame.label == "cata"
    case, merge = sorted((i for i in items if isinstance(i, Dot)), key=lambda d: d.y)
    cells = [i for i in items if isinstance(i, Box) and i.kind == "box"]
    assert all(case.y < c.y and c.y + c.h < merge.y for c in cells)
    loops = [i for i in items if isinstance(i, Curve) and i.dashed]
    assert len(loops) == 1 and loops[0].right() > max(c.right() for c in cells)
    assert loops[0].right() < frame.right()


def test_unknown_morphisms_are_labelled_boxes() -> None:
    class Scale(cdl.Para[Any, Any]):
        def __call__(self, x: Any) -> Any:
            return 2 * x

    assert cdl.draw(Scale() >> cdl.Relu()).boxes() == ["Scale()", "Relu()"]


def test_png_and_svg_files(tmp_path: Path) -> None:
    model = residual()
    svg = cdl.draw(model, tmp_path / "block.svg")
    assert (tmp_path / "block.svg").read_text(encoding="utf-8") == svg.svg()
    cdl.draw(model, tmp_path / "block.png")
    png = (tmp_path / "block.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    w, h = svg.size
    assert abs(width / height - w / h) < 0.02


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"suffix must be one of \.svg, \.png, \.pdf"):
        cdl.draw(cdl.Relu(), "model.jpeg")
    with pytest.raises(TypeError, match="but was given function"):
        cdl.draw(lambda x: x)  # type: ignore[arg-type]


LAYERS = st.lists(
    st.sampled_from(["linear", "relu", "tanh", "residual", "pair"]),
    min_size=1,
    max_size=12,
)


def build(kinds: list[str], width: int = 4) -> cdl.Para[Any, Any]:
    parts: list[cdl.Para[Any, Any]] = []
    for i, kind in enumerate(kinds):
        key = jax.random.key(i)
        if kind == "linear":
            parts.append(cdl.Linear(width, width, key=key))
        elif kind == "relu":
            parts.append(cdl.Relu())
        elif kind == "tanh":
            parts.append(cdl.Tanh())
        elif kind == "residual":
            f = cdl.Linear(width, width, key=key)
            parts.append(cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add())
        else:
            f, g = cdl.Linear(width, width, key=key), cdl.Sigmoid()
            parts.append(cdl.Copy() >> (f @ g) >> cdl.Add())
    return functools.reduce(cdl.Compose, parts)


def overlaps(a: Box, b: Box) -> bool:
    return a.x < b.right() and b.x < a.right() and a.y < b.y + b.h and b.y < a.y + a.h


@settings(max_examples=30, deadline=None)
@given(LAYERS)
def test_boxes_never_overlap_and_wires_join_ports(kinds: list[str]) -> None:
    model = build(kinds)
    block = layout(model, model.dom)
    boxes = [i for i in block.items if isinstance(i, Box)]
    expected = sum({"linear": 1, "relu": 1, "tanh": 1, "residual": 1, "pair": 2}[k]
                   for k in kinds)  # fmt: skip
    assert len(boxes) == expected
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlaps(a, b)
    assert all(0 <= b.x and b.right() <= block.width + 1e-6 for b in boxes)
    assert len(block.ins) == len(block.outs) == 1
    # every wire end touches another wire, a box edge, a node or the block's edge
    ends = [p for c in block.items if isinstance(c, Curve) for p in (c.start, c.end)]
    for x, y in ends:
        on_edge = y in (0.0, block.height)
        on_box = any(b.x <= x <= b.right() and y in (b.y, b.y + b.h) for b in boxes)
        on_node = any(isinstance(d, Dot) and (d.x, d.y) == (x, y) for d in block.items)
        shared = sum((round(px, 3), round(py, 3)) == (round(x, 3), round(y, 3))
                     for px, py in ends) > 1  # fmt: skip
        assert on_edge or on_box or on_node or shared, (x, y)


def test_svg_text_is_escaped() -> None:
    class Weird(cdl.Para[Any, Any]):
        @property
        def label(self) -> str:
            return "a<b & c>d"

        def __call__(self, x: Any) -> Any:
            return x

    svg = cdl.draw(Weird()).svg()
    assert "a&lt;b &amp; c&gt;d" in svg
    assert re.search(r"<text[^>]*>a<b", svg) is None
