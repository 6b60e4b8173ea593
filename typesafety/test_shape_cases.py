"""Type-level tests of cdl's shape checking: mypy's exact output on many programs.

The cases live in ``typesafety/*/*.yml`` in the format of pytest-mypy-plugins
(``case``, ``main``, inline ``# E: …`` / ``# N: …`` comments on the line they are
about). Instead of one mypy process per case, all cases are written out as modules
and checked by a single mypy run with the repository's ``mypy.ini``: the same exact
messages are asserted, in a fraction of the time.
"""

import pathlib
import re

import pytest
import yaml  # type: ignore[import-untyped]

from cdl.mypy_plugin._run import Message, check

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "typesafety").glob("*/*.yml"))
# One space after the colon: the rest is the message, indented notes included.
MARK = re.compile(r"#\s*([EN]): ?")


def _load() -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    for path in CASES:
        for entry in yaml.safe_load(path.read_text()):
            cases.append((f"{path.stem}_{entry['case']}", entry["main"]))
    return cases


ALL = _load()


def expected(source: str) -> list[tuple[int, str, str]]:
    """The (line, severity, message) that the inline comments of `source` ask for."""
    out: list[tuple[int, str, str]] = []
    for number, line in enumerate(source.splitlines(), start=1):
        parts = MARK.split(line)
        for kind, text in zip(parts[1::2], parts[2::2], strict=True):
            severity = "error" if kind == "E" else "note"
            out.append((number, severity, text.rstrip()))
    return out


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Message]]:
    """Run mypy once over every case; its messages by case."""
    folder = tmp_path_factory.mktemp("shape_cases")
    files = []
    for name, source in ALL:
        path = folder / f"case_{name}.py"
        path.write_text(source)
        files.append(path)
    return {stem[len("case_") :]: found for stem, found in check(files).items()}


@pytest.mark.parametrize(("name", "source"), ALL, ids=[name for name, _ in ALL])
def test_case(name: str, source: str, reports: dict[str, list[Message]]) -> None:
    assert sorted(reports[name]) == sorted(expected(source))


def test_there_are_enough_cases() -> None:
    passes = [s for _, s in ALL if not expected(s) or "# E:" not in s]
    failures = [s for _, s in ALL if "# E:" in s]
    assert len(ALL) >= 40
    assert len(passes) >= 15
    assert len(failures) >= 20
