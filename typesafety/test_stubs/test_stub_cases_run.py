"""The stubs' type-level cases, run: each array shape mypy reveals is the run-time one.

Every ``reveal_type(x)  # N: Revealed type is "…Array[…]"`` of
``typesafety/test_stubs/*.yml`` becomes a check that ``x.shape`` has that rank and
those sizes (``Any`` matches any size). Lines inside functions that a case never
calls are not run.
"""

import pathlib
import re
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

CASES = sorted(pathlib.Path(__file__).resolve().parent.glob("*.yml"))
REVEAL = re.compile(
    r"^(?P<pad>\s*)reveal_type\((?P<expr>.*)\)\s*#\s*N: Revealed type is "
    r'"jax\._src\.basearray\.Array\[(?P<dims>[^"]*)\]"\s*$'
)


def _dims(text: str) -> list[int | None]:
    """``Literal[7], Any`` as ``[7, None]``; ``()`` as ``[]``."""
    if text == "()":
        return []
    return [
        int(part[len("Literal[") : -1]) if part.startswith("Literal[") else None
        for part in text.split(", ")
    ]


def _expect(value: Any, dims: list[int | None]) -> None:
    shape = tuple(value.shape)
    assert len(shape) == len(dims), (shape, dims)
    for size, dim in zip(shape, dims, strict=True):
        assert dim is None or size == dim, (shape, dims)


def _program(source: str) -> tuple[str, int]:
    lines, checks = [], 0
    for line in source.splitlines():
        match = REVEAL.match(line)
        if match is None:
            lines.append(line)
            continue
        dims = _dims(match["dims"])
        lines.append(f"{match['pad']}_expect({match['expr']}, {dims!r})")
        checks += not match["pad"]
    return "\n".join(lines) + "\n", checks


ALL = [
    (f"{path.stem}_{entry['case']}", entry["main"])
    for path in CASES
    for entry in yaml.safe_load(path.read_text())
]


@pytest.mark.parametrize(("name", "source"), ALL, ids=[name for name, _ in ALL])
def test_case_runs_with_the_revealed_shapes(name: str, source: str) -> None:
    program, _ = _program(source)
    exec(compile(program, f"<{name}>", "exec"), {"_expect": _expect})


def test_most_cases_check_shapes_at_run_time() -> None:
    checked = [name for name, source in ALL if _program(source)[1]]
    assert len(checked) >= 10
