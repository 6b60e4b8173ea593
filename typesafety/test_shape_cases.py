"""Type-level tests of cdl's shape checking: mypy's exact output on many programs.

The cases live in ``typesafety/shapes/*.yml`` in the format of pytest-mypy-plugins
(``case``, ``main``, inline ``# E: …`` / ``# N: …`` comments on the line they are
about). Instead of one mypy process per case, all cases are written out as modules
and checked by a single mypy run with the repository's ``mypy.ini``: the same exact
messages are asserted, in a fraction of the time.
"""

import hashlib
import pathlib
import re
import tempfile
from typing import Any

import pytest
import yaml
from mypy import api

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "typesafety" / "shapes").glob("*.yml"))
MARK = re.compile(r"#\s*([EN]):\s*")
LINE = re.compile(r"^(?:.*/)?(case_\w+)\.py:(\d+): (error|note): (.*)$")


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


def _cache_dir() -> pathlib.Path:
    """A mypy cache keyed by the plugin's and stubs' sources.

    mypy invalidates its cache when a plugin's entry module changes, not when its
    other modules do, so the key covers all of them.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "cdl" / "mypy_plugin").glob("*.py")) + sorted(
        (ROOT / "typeshed_ext").rglob("*.pyi")
    ):
        digest.update(path.read_bytes())
    return pathlib.Path(tempfile.gettempdir()) / f"cdl-shapes-{digest.hexdigest()[:16]}"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Run mypy once over every case; group its messages by case."""
    folder = tmp_path_factory.mktemp("shape_cases")
    files = []
    for name, source in ALL:
        path = folder / f"case_{name}.py"
        path.write_text(source)
        files.append(str(path))
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "mypy.ini"),
            "--cache-dir",
            str(_cache_dir()),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "--show-traceback",
            *files,
        ]
    )
    assert "INTERNAL ERROR" not in stdout + stderr, stdout + stderr
    grouped: dict[str, list[Any]] = {name: [] for name, _ in ALL}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match and match.group(1)[len("case_") :] in grouped:
            name, number, severity, message = match.groups()
            grouped[name[len("case_") :]].append((int(number), severity, message))
    return grouped


@pytest.mark.parametrize(("name", "source"), ALL, ids=[name for name, _ in ALL])
def test_case(name: str, source: str, reports: dict[str, list[Any]]) -> None:
    assert sorted(reports[name]) == sorted(expected(source))


def test_there_are_enough_cases() -> None:
    passes = [s for _, s in ALL if not expected(s) or "# E:" not in s]
    failures = [s for _, s in ALL if "# E:" in s]
    assert len(ALL) >= 40
    assert len(passes) >= 15
    assert len(failures) >= 20
