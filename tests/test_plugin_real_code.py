"""cdl's plugin adds no error to real code: mypy with and without it, on the same files.

The files are user-style programs (``tests/data/user_programs``: modules under
``jax.vmap``, gradients through ``eqx.filter_grad``, ``lax.scan`` steps closing over
their function's weights, loops over ``self.layers``, names re-bound after
``reshape``) and the installed sources of third-party libraries. Each is
checked twice with the repository's configuration, once with cdl's plugin and jax
stubs and once without; every error of the first run must also be in the second.
"""

import configparser
import importlib.util
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from cdl.mypy_plugin._run import cache_dir

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "data" / "user_programs"
_ERROR = re.compile(r"^(.*?\.py):(\d+): error: ")


def _config(folder: pathlib.Path, plugin: bool) -> pathlib.Path:
    """The repository's mypy configuration, with or without cdl's plugin and stubs."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / "mypy.ini")
    section = parser["mypy"]
    plugins = [p.strip() for p in section.get("plugins", "").split(",") if p.strip()]
    if plugin:
        section["plugins"] = ", ".join(
            str(ROOT / p) if p.endswith(".py") else p for p in plugins
        )
        section["mypy_path"] = str(ROOT / section.get("mypy_path", "typeshed_ext"))
    else:
        section["plugins"] = ", ".join(p for p in plugins if "cdl" not in p)
        section.pop("mypy_path", None)
    path = folder / ("with.ini" if plugin else "without.ini")
    with path.open("w") as out:
        parser.write(out)
    return path


def _errors(
    targets: list[str], folder: pathlib.Path, cwd: pathlib.Path, plugin: bool
) -> set[tuple[str, int]]:
    """(file, line) of each error mypy reports on `targets`."""
    # Caches of their own (the type-level cases use cache_dir() with another config,
    # and may run at the same time in another worker).
    suffix = "-real-code" if plugin else "-real-code-plain"
    cache = cache_dir().with_name(cache_dir().name + suffix)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(_config(folder, plugin)),
            "--cache-dir",
            str(cache),
            "--no-error-summary",
            "--show-traceback",
            *targets,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "INTERNAL ERROR" not in run.stdout + run.stderr, run.stdout + run.stderr
    assert run.returncode in (0, 1), run.stderr
    found = set()
    for line in run.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            found.add((pathlib.Path(match.group(1)).as_posix(), int(match.group(2))))
    return found


def _added(targets: list[str], folder: pathlib.Path, cwd: pathlib.Path) -> list[str]:
    """The errors that only the run with cdl's plugin reports."""
    with_plugin = _errors(targets, folder, cwd, plugin=True)
    without = _errors(targets, folder, cwd, plugin=False)
    return sorted(f"{f}:{n}" for f, n in with_plugin - without)


def test_user_programs_get_no_error_from_the_plugin(tmp_path: pathlib.Path) -> None:
    names = [p.name for p in sorted(PROGRAMS.glob("*.py"))]
    for name in names:
        shutil.copy(PROGRAMS / name, tmp_path / name)
    assert {"loop_layers.py", "reshape_reassign.py", "redefinitions.py"} <= set(names)
    assert _added(names, tmp_path, tmp_path) == []


def _library(name: str, tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of the installed sources of `name`, checked as if they were a project."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        pytest.skip(f"{name} is not installed")
    source = pathlib.Path(spec.origin).parent
    shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("*.pyc"))
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["jaxtyping", "equinox", "optax", "diffrax"])
def test_library_sources_get_no_error_from_the_plugin(
    name: str, tmp_path: pathlib.Path
) -> None:
    project = _library(name, tmp_path)
    assert _added([name], tmp_path, project) == []
