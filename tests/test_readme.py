"""The README's tour runs, and every value its comments claim is what it prints.

A ``print(...)`` line of a tour block ends with a comment giving the printed text,
optionally followed by ``: <explanation>``; the comment may also sit alone on the
next line. A block that raises is followed by a plain block showing the error. A
block followed by a shell session (``$ cdl check model.py``) is a file given to that
command, not a step of the tour.
"""

import ast
import importlib.metadata
import pathlib
import re
import sys
import tomllib
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def tour_blocks() -> list[tuple[str, str]]:
    text = README.read_text()
    tour = text[text.index("## A tour") : text.index("## Layout")]
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(tour)]


def claims(source: str) -> dict[int, str]:
    """Line number of each `print` -> the comment that says what it prints."""
    lines = source.splitlines()
    found: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.lstrip().startswith("print("):
            continue
        code, _, comment = line.partition("  #")
        if not comment and number < len(lines):
            following = lines[number].strip()
            comment = following[1:] if following.startswith("#") else ""
        if not comment.strip():
            raise AssertionError(f"README: `{line.strip()}` claims no printed value")
        found[number] = comment.strip()
    return found


def matches(printed: str, claim: str) -> bool:
    return claim == printed or claim.startswith(printed + ":")


@pytest.mark.filterwarnings("ignore")
def test_the_tour_runs_and_prints_what_it_claims() -> None:
    namespace: dict[str, Any] = {}
    blocks = tour_blocks()
    checked = 0
    for index, (language, source) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[index + 1][1] if index + 1 < len(blocks) else ""
        if following.startswith("$ "):
            continue
        printed: dict[int, list[str]] = {}
        name = f"README.md tour block {index}"

        def record(
            *args: Any,
            sep: str = " ",
            printed: dict[int, list[str]] = printed,
            name: str = name,
            **_: Any,
        ) -> None:
            frame = sys._getframe(1)
            if frame.f_code.co_filename == name:
                printed.setdefault(frame.f_lineno, []).append(
                    sep.join(str(a) for a in args)
                )

        namespace["print"] = record
        code = compile(source, name, "exec")
        error: BaseException | None = None
        try:
            exec(code, namespace)
        except Exception as raised:  # noqa: BLE001
            error = raised
        if error is not None:
            shown = following.strip()
            module = type(error).__module__
            expected = f"{module}.{type(error).__name__}: {error}"
            assert shown == expected, f"{name} raised {expected!r}"
            checked += 1
            continue
        for line, claim in claims(source).items():
            outputs = printed.get(line, [])
            assert outputs, f"{name}, line {line}: nothing was printed"
            assert matches(outputs[-1], claim), (
                f"{name}, line {line}: printed {outputs[-1]!r}, README says {claim!r}"
            )
            checked += 1
    assert checked >= 10


def test_what_the_tour_imports_is_installed_with_cdl_or_named_for_pip() -> None:
    """After `pip install cdl` every block runs, or the README names what to add."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {
        re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower()
        for r in project["dependencies"]
    }
    owners = importlib.metadata.packages_distributions()
    text = README.read_text()
    for language, source in tour_blocks():
        if language != "python":
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names:
                    continue
                for dist in owners.get(top, [top]):
                    name = dist.lower()
                    assert name in (*needed, "cdl") or f"pip install {dist}" in text, (
                        f"README's tour imports {module}, which comes from {dist}: "
                        f"neither a dependency of cdl nor named in a `pip install`"
                    )
