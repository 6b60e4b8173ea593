"""cdl's shape-aware jax stubs as a user gets them: the ``jax-stubs`` partial package.

The quick test lays the package out as a wheel installs it (the files pyproject.toml
ships, beside jax, found by mypy without ``mypy_path``); the slow one builds the
wheel, installs it in a fresh environment and checks a project outside the repository
with only the documented plugin line in its ``mypy.ini``.
"""

import configparser
import fnmatch
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "typeshed_ext" / "package" / "jax-stubs"
PLUGIN_LINE = "plugins = cdl.mypy_plugin"
BUILD_OUTPUTS = ("build", "dist", "*.egg-info", ".*", "__pycache__")

BAD = textwrap.dedent(
    """
    import jax.numpy as jnp
    from jax import lax
    from jaxtyping import Array, Float


    def head(x: Float[Array, "4 3"]) -> Float[Array, "4 5"]:
        return x @ jnp.ones((3, 4))


    def row_norms(x: Float[Array, "4 3"]) -> Float[Array, "3"]:
        norms = jnp.linalg.norm(x, axis=-1)
        return norms


    def smooth(x: Float[Array, "4 3"]) -> Float[Array, "4"]:
        smoothed = lax.fori_loop(0, 5, lambda i, c: 0.5 * c, x)
        return smoothed
    """
)
GOOD = (
    BAD.replace('"4 5"', '"4 4"')
    .replace('-> Float[Array, "3"]', '-> Float[Array, "4"]')
    .replace(
        '-> Float[Array, "4"]:\n    smoothed', '-> Float[Array, "4 3"]:\n    smoothed'
    )
)
RETURNED = "error: Incompatible return value type (got "
ERRORS = [  # the matmul (cdl's plugin), then norm and fori_loop (the stubs)
    f'bad.py:8: {RETURNED}"Array[Literal[4], Literal[4]]"',
    f'bad.py:13: {RETURNED}"Array[Literal[4]]"',
    f'bad.py:18: {RETURNED}"Array[Literal[4], Literal[3]]"',
]


def shipped() -> list[Path]:
    """The stub files the wheel installs, by pyproject.toml's package data rules."""
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    excluded = setup["exclude-package-data"]
    files = []
    for path in sorted(STUBS.rglob("*")):
        if path.is_dir() or path.suffix not in (".pyi", ".typed"):
            continue
        relative = path.relative_to(STUBS)
        package = ".".join(["jax-stubs", *relative.parts[:-1]])
        if any(fnmatch.fnmatch(path.name, p) for p in excluded.get(package, [])):
            continue
        files.append(relative)
    return files


def test_the_stubs_are_those_the_generator_writes(tmp_path: Path) -> None:
    """After an edit of scripts/stub_parts/, the stubs must be generated again."""
    header = (STUBS / "random.pyi").read_text().splitlines()[0]
    installed = importlib.metadata.version("jax")
    if not header.endswith(f"from jax {installed}; do not edit."):
        pytest.skip(f"the stubs are generated from another jax than {installed}")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        generate_stubs = importlib.import_module("generate_stubs")
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for path in generate_stubs.generate(tmp_path):
        relative = path.relative_to(tmp_path / "jax")
        assert (STUBS / relative).read_text() == path.read_text(), relative


def _project(folder: Path, config: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bad.py").write_text(BAD, encoding="utf-8")
    (folder / "good.py").write_text(GOOD, encoding="utf-8")
    (folder / "mypy.ini").write_text(config, encoding="utf-8")
    return folder


def _mypy(python: str, cwd: Path, *files: str, **env: str) -> tuple[int, str]:
    ran = subprocess.run(
        [python, "-m", "mypy", "--no-error-summary", *files],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    return ran.returncode, ran.stdout + ran.stderr


def test_the_stub_package_is_partial_and_ships_no_package_stub_of_jax() -> None:
    assert STUBS.resolve() == (ROOT / "typeshed_ext" / "jax").resolve()
    assert (STUBS / "py.typed").read_text() == "partial\n"
    files = {str(p) for p in shipped()}
    assert "_src/basearray.pyi" in files and "py.typed" in files
    # jax's own package modules are read, so new names of a newer jax are found
    assert "__init__.pyi" not in files and "_src/__init__.pyi" not in files


def test_mypy_finds_the_installed_layout_without_a_path(tmp_path: Path) -> None:
    site = tmp_path / "site"
    for relative in shipped():
        target = site / "jax-stubs" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STUBS / relative, target)
    project = _project(tmp_path / "user", f"[mypy]\n{PLUGIN_LINE}\n")
    env = {
        "PYTHONPATH": str(site),
        "MYPY_CACHE_DIR": str(tmp_path / "cache"),
    }
    code, out = _mypy(sys.executable, project, "bad.py", "good.py", **env)
    assert code == 1, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == len(ERRORS), out
    for line, start in zip(errors, ERRORS, strict=True):
        assert line.startswith(start) and line.endswith("[return-value]"), out


@pytest.mark.slow
def test_a_wheel_in_a_fresh_environment_needs_only_the_plugin_line(
    tmp_path: Path,
) -> None:
    # Built from a copy without build outputs: setuptools reuses ./build, whose
    # modules since deleted from the tree would otherwise ship in the wheel.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*BUILD_OUTPUTS))
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--quiet", "--wheel-dir", str(wheels), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("cdl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped_modules = {n for n in archive.namelist() if n.startswith("cdl/")}
    tree = {str(p.relative_to(ROOT)) for p in (ROOT / "cdl").rglob("*.py")}
    assert {n for n in shipped_modules if n.endswith(".py")} == tree
    assert {"cdl/py.typed", "cdl/__init__.pyi"} <= shipped_modules
    fresh = tmp_path / "fresh"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = str(fresh / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # cdl's dependencies as installed here, nothing downloaded: the environment's
    # own site-packages come first, so the wheel's cdl and jax-stubs are the ones read
    deps = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "_cdl_test_deps.pth").write_text(deps + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps"]
        + ["--no-index", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert (Path(purelib) / "jax-stubs" / "_src" / "basearray.pyi").is_file()
    assert not (Path(purelib) / "jax-stubs" / "__init__.pyi").exists()

    project = _project(tmp_path / "user", f"[mypy]\n{PLUGIN_LINE}\n")
    cache = {"MYPY_CACHE_DIR": str(tmp_path / "cache")}
    code, out = _mypy(python, project, "bad.py", "good.py", **cache)
    assert code == 1, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert [e[: len(s)] for e, s in zip(errors, ERRORS, strict=True)] == ERRORS, out
    assert _mypy(python, project, "good.py", **cache) == (0, "")

    command = str(fresh / "bin" / "cdl")
    shown = subprocess.run(
        [command, "check", "--show-config"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parser = configparser.ConfigParser()
    parser.read_string(shown)
    assert "mypy_path" not in parser["mypy"]  # installed, the stubs need no path
    checked = subprocess.run(
        [command, "check", "bad.py", "good.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **cache},
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert checked.stdout.count(": error:") == len(ERRORS), checked.stdout
    assert all(e in checked.stdout for e in ERRORS)
