"""``cdl check`` as the command runs it: light start, a config that parses, statuses."""

import configparser
import hashlib
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY = ROOT / "_cdl_cli.py"
HEAVY = ("jax", "jaxlib", "equinox", "optax", "rich", "typer", "matplotlib", "cdl")

BAD = textwrap.dedent(
    """
    import jax.numpy as jnp
    from jaxtyping import Array, Float


    def head(x: Float[Array, "4 3"]) -> Float[Array, "4 5"]:
        return x @ jnp.ones((3, 4))
    """
)
GOOD = BAD.replace('"4 5"', '"4 4"')


def _cache() -> Path:
    """A mypy cache for these tests, keyed by the plugin's and the stubs' sources."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "cdl" / "mypy_plugin").glob("*.py")) + sorted(
        (ROOT / "typeshed_ext" / "jax").rglob("*.pyi")
    ):
        digest.update(path.read_bytes())
    return Path(tempfile.gettempdir()) / f"cdl-check-test-{digest.hexdigest()[:16]}"


def _cdl(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The ``cdl`` command, run as its console script runs it."""
    return subprocess.run(
        [sys.executable, str(ENTRY), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPY_CACHE_DIR": str(_cache()), **env},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(BAD, encoding="utf-8")
    (tmp_path / "good.py").write_text(GOOD, encoding="utf-8")
    return tmp_path


def test_show_config_parses_unwrapped_and_mypy_finds_the_error_with_it(
    project: Path,
) -> None:
    shown = _cdl(["check", "--show-config"], project, COLUMNS="30")
    assert shown.returncode == 0, shown.stderr
    parser = configparser.ConfigParser()
    parser.read_string(shown.stdout)
    plugins = [p.strip() for p in parser["mypy"]["plugins"].split(",")]
    assert Path(plugins[-1]).is_file() and plugins[-1].endswith("cdl_shape_plugin.py")
    assert parser["mypy"]["allow_redefinition"] == "True"
    config = project / "pasted.ini"
    config.write_text(shown.stdout, encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "bad.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPY_CACHE_DIR": str(_cache())},
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert 'bad.py:7: error: Incompatible return value type (got "Array[' in ran.stdout
    assert "[return-value]" in ran.stdout


def test_check_reports_the_users_error_and_passes_correct_code(project: Path) -> None:
    bad = _cdl(["check", "bad.py"], project)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("bad.py:7: error:")
    good = _cdl(["check", "good.py"], project)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("Success: no issues found in 1 source file")


def test_check_imports_neither_jax_nor_cdl_before_mypy(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("x: int = 1\n", encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", str(ENTRY), "check", "plain.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in ran.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "mypy.main" in imported  # cdl/_check.py and the plugin load by file
    heavy = {m for m in imported if m.split(".")[0] in HEAVY}
    assert not heavy


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check"], "Missing argument 'FILES'."),
        (["check", "nothere.py"], "path 'nothere.py' does not exist."),
        (["check", "--bogus", "x.py"], "Unrecognized arguments: --bogus."),
    ],
)
def test_bad_arguments_are_one_line_and_status_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    ran = _cdl(args, tmp_path)
    assert ran.returncode == 2
    assert ran.stdout == ""
    assert ran.stderr.startswith("cdl: error: ") and ran.stderr.count("\n") == 1
    assert ran.stderr.rstrip().endswith(message)
