"""``cdl check``: mypy with cdl's plugin and shape-aware jax stubs, started quickly.

This module imports nothing but the standard library, so that ``cdl check`` can
run mypy without first importing cdl, jax, optax or rich: the ``cdl`` command
loads it by file (see ``_cdl_cli.py``) and hands the process to mypy's own entry
point, which ends with mypy's fast exit. `cdl.cli` uses the same configuration.

>>> print(mypy_config(False).splitlines()[0])
[mypy]
"""

import argparse
import hashlib
import importlib.util
import os
import site
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final, NoReturn

PACKAGE: Final = Path(__file__).resolve().parent
PLUGIN_FILE: Final = PACKAGE / "mypy_plugin" / "cdl_shape_plugin.py"
PLUGIN_MODULE: Final = "cdl.mypy_plugin"
RETURNS_PLUGIN: Final = "returns.contrib.mypy.returns_plugin"
DESCRIPTION: Final = (
    "Check FILES with mypy, cdl's plugin and its jax stubs: shape bugs as errors."
)


# Every error text of `cdl check`, in one place.


def no_path(path: str) -> str:
    """Text of the error for a FILES argument that does not exist."""
    return f"Invalid value for 'FILES': path {path!r} does not exist."


NO_FILES: Final = "Missing argument 'FILES'."


def mypy_config(strict: bool) -> str:
    """A mypy configuration enabling cdl's plugin and its shape-aware jax stubs.

    Installed from a wheel, the stubs are the ``jax-stubs`` partial stub package
    beside jax, which mypy finds by itself; in a clone of the repository (or an
    editable install) they are read from ``typeshed_ext`` through ``mypy_path``.

    **Arguments:** `strict`, whether to turn on mypy's ``--strict`` checks too.

    **Returns:** the text of an ini file, one option a line.

    >>> config = mypy_config(True)
    >>> "strict = True" in config and "cdl_shape_plugin.py" in config
    True
    """
    lines = [
        "[mypy]",
        f"python_version = {sys.version_info.major}.{sys.version_info.minor}",
        f"strict = {strict}",
        "allow_redefinition = True",
        "# In a project's own mypy.ini, `plugins = cdl.mypy_plugin` is the same",
        "# plugin (it imports cdl, and with it jax, when mypy starts).",
        "plugins = " + ", ".join(plugins()),
    ]
    paths = [str(p) for p in (stub_path(), source_root()) if p is not None]
    if paths:
        lines.append(f"mypy_path = {os.pathsep.join(paths)}")
    lines += [
        "",
        "[mypy-cdl.*]",
        "ignore_errors = True",
        "",
        "[mypy-sklearn.*,networkx.*,optax.*,matplotlib.*]",
        "ignore_missing_imports = True",
    ]
    return "\n".join(lines) + "\n"


def plugins() -> list[str]:
    """The mypy plugins `cdl check` enables: returns' when installed, then cdl's.

    cdl's is named by file, so that loading it imports neither cdl nor jax.

    **Returns:** the entries of the ``plugins`` option.

    >>> plugins()[-1].endswith("cdl_shape_plugin.py")
    True
    """
    own = str(PLUGIN_FILE) if PLUGIN_FILE.is_file() else PLUGIN_MODULE
    if importlib.util.find_spec("returns") is None:
        return [own]
    return [RETURNS_PLUGIN, own]


def source_root() -> Path | None:
    """The folder holding the cdl package, when mypy would not find it alone.

    An editable install imports cdl through a finder hook that mypy cannot follow;
    a regular install lies in site-packages, where mypy looks anyway.

    **Returns:** the folder, or None for a regular install.

    >>> source_root() is None or (source_root() / "cdl").is_dir()
    True
    """
    root = PACKAGE.parent
    installed = {Path(p).resolve() for p in site.getsitepackages()}
    return None if root in installed else root


def stub_path() -> Path | None:
    """The stubs' folder for ``mypy_path``, in a clone or an editable install.

    Installed from a wheel the stubs are the ``jax-stubs`` package that mypy finds
    beside jax, and no path is needed.

    **Returns:** the folder holding ``jax/__init__.pyi``, or None.

    >>> stub_path() is None or (stub_path() / "jax" / "__init__.pyi").is_file()
    True
    """
    candidate = PACKAGE.parent / "typeshed_ext"
    return candidate if (candidate / "jax" / "__init__.pyi").is_file() else None


def config_file(text: str) -> Path:
    """A file holding the configuration `text`, named by its content and kept.

    mypy reads the file after this process has handed over to it, so the file is
    not removed; the next run with the same configuration reuses it.

    **Arguments:** `text`, the configuration.

    **Returns:** the path of the file.

    >>> config_file("[mypy]").read_text()
    '[mypy]'
    """
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"cdl-check-{digest}.ini"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        fd, scratch = tempfile.mkstemp(dir=path.parent, suffix=".ini")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(scratch, path)
    return path


def mypy_arguments(files: Sequence[str], strict: bool) -> list[str]:
    """The arguments of mypy that check `files` with cdl's configuration.

    **Arguments:** `files`, the paths to check; `strict`, mypy's ``--strict``.

    **Returns:** the arguments, without the program name.

    >>> mypy_arguments(["a.py"], False)[::2]
    ['--config-file', 'a.py']
    """
    return ["--config-file", str(config_file(mypy_config(strict))), *files]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(message[0].upper() + message[1:] + ".")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cdl check", description=DESCRIPTION)
    parser.add_argument("files", nargs="*", metavar="FILES")
    parser.add_argument("--strict", action=argparse.BooleanOptionalAction)
    parser.add_argument("--show-config", action=argparse.BooleanOptionalAction)
    return parser


def _fail(text: str) -> NoReturn:
    print(f"cdl: error: {text}", file=sys.stderr)
    raise SystemExit(2)


def run(argv: Sequence[str]) -> NoReturn:
    """Run ``cdl check`` with the arguments after ``check``; mypy ends the process.

    **Arguments:** `argv`, e.g. ``["--strict", "model.py"]``.

    **Returns:** never: the process exits with mypy's status (2 for bad arguments).
    """
    args = _parser().parse_args(list(argv))
    config = mypy_config(bool(args.strict))
    if args.show_config:
        sys.stdout.write(config)
        sys.stdout.flush()
        if not args.files:
            raise SystemExit(0)
    if not args.files:
        _fail(NO_FILES)
    for path in args.files:
        if not os.path.exists(path):
            _fail(no_path(path))
    from mypy.__main__ import console_entry

    sys.argv = ["mypy", *mypy_arguments(args.files, bool(args.strict))]
    console_entry()
    raise SystemExit(0)
