"""Running mypy with the plugin from Python: for the type-level tests and benchmarks."""

import hashlib
import pathlib
import re
import sys
import tempfile
from collections.abc import Sequence
from typing import Final

from mypy import api

from ._plugin import sources_digest

ROOT: Final = pathlib.Path(__file__).resolve().parent.parent.parent
_LINE: Final = re.compile(r"^(.*?\.py):(\d+): (error|note): (.*)$")

Message = tuple[int, str, str]


def cache_dir() -> pathlib.Path:
    """A mypy cache keyed by the plugin's and the stubs' sources.

    A cache of its own for each version of them, so that runs of two versions (in
    two checkouts, say) do not overwrite each other's cache.
    """
    plugin = sources_digest(pathlib.Path(__file__).resolve().parent)
    digest = hashlib.sha256(plugin.encode())
    for path in sorted((ROOT / "typeshed_ext").rglob("*.pyi")):
        digest.update(path.read_bytes())
    name = f"cdl-shapes-{digest.hexdigest()[:16]}"
    return pathlib.Path(tempfile.gettempdir()) / name


def check(files: Sequence[pathlib.Path]) -> dict[str, list[Message]]:
    """The messages of mypy on `files`, with the repository's configuration, by stem.

    Each message is ``(line, "error" | "note", text)``. Raises `RuntimeError` when
    mypy crashes.
    """
    limit = sys.getrecursionlimit()
    try:
        stdout, stderr, _ = api.run(
            [
                "--config-file",
                str(ROOT / "mypy.ini"),
                "--cache-dir",
                str(cache_dir()),
                "--no-error-summary",
                "--hide-error-context",
                "--no-pretty",
                "--show-traceback",
                *(str(f) for f in files),
            ]
        )
    finally:
        sys.setrecursionlimit(limit)  # mypy raises it for itself
    if "INTERNAL ERROR" in stdout + stderr or "Traceback" in stderr:
        raise RuntimeError(stdout + stderr)
    found: dict[str, list[Message]] = {pathlib.Path(f).stem: [] for f in files}
    for line in stdout.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        stem = pathlib.Path(match.group(1)).stem
        if stem in found:
            found[stem].append((int(match.group(2)), match.group(3), match.group(4)))
    return found
