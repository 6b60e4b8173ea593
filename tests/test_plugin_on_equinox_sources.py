"""The plugin adds no error to third-party code: mypy on the installed Equinox.

mypy checks the `equinox` package (its layers, transformations and module system),
once with cdl's jax stubs alone and once with the plugin as well. Every error of
the second run must be one of the first (same file, line and error code): the
plugin may phrase a message otherwise (``Array`` for ``Array[*tuple[Any, ...]]``),
never add one.
"""

import pathlib
import re
import sys

from mypy import api

ROOT = pathlib.Path(__file__).resolve().parent.parent
ERROR = re.compile(r"^(.*?\.py):(\d+): error: .*\[([a-z-]+)\]$")


def _errors(tmp: pathlib.Path, plugin: bool) -> set[tuple[str, int, str]]:
    lines = [
        "[mypy]",
        "ignore_missing_imports = True",
        "check_untyped_defs = True",
        f"mypy_path = {ROOT / 'typeshed_ext'}",
    ]
    if plugin:
        lines.append("plugins = cdl.mypy_plugin")
    config = tmp / ("plugin.ini" if plugin else "plain.ini")
    config.write_text("\n".join(lines) + "\n")
    limit = sys.getrecursionlimit()
    try:
        stdout, stderr, _ = api.run(
            ["--config-file", str(config), "--cache-dir", str(tmp / config.stem),
             "--no-error-summary", "--no-pretty", "-p", "equinox"]
        )  # fmt: skip
    finally:
        sys.setrecursionlimit(limit)
    assert "INTERNAL ERROR" not in stdout + stderr, stdout + stderr
    found = set()
    for line in stdout.splitlines():
        match = ERROR.match(line)
        if match is not None:
            found.add((match.group(1), int(match.group(2)), match.group(3)))
    return found


def test_the_plugin_adds_no_error_to_equinox(tmp_path: pathlib.Path) -> None:
    plain = _errors(tmp_path, plugin=False)
    with_plugin = _errors(tmp_path, plugin=True)
    assert plain, "mypy found nothing to say: the check did not run on equinox"
    assert sorted(with_plugin - plain) == []
