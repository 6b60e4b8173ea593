"""The cdl command line: help, one-line errors, draw, check and the demo."""

import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import pytest

import cdl
from cdl.cli import main, mypy_config, stub_path

MODEL_FILE = """
import jax
import cdl

key = jax.random.key(0)
model = cdl.Linear(4, 8, key=key) >> cdl.Relu() >> cdl.Linear(8, 2, key=key)


def residual():
    f = cdl.Linear(8, 8, key=key)
    return cdl.Copy() >> (f @ cdl.Identity()) >> cdl.Add()


not_a_model = 3
"""


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], ["demo", "draw", "check"]),
        (["--help"], ["demo", "draw", "check", "categorical deep learning"]),
        (["demo", "--help"], ["addition"]),
        (["demo", "addition", "--help"], ["--steps", "--lengths", "--plot", "cata"]),
        (["draw", "--help"], ["MODEL", "OUTPUT", "FILE.py:NAME", ".svg"]),
        (["check", "--help"], ["FILES", "--strict", "mypy"]),
    ],
)
def test_help_reads_well(
    args: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(args, capsys)
    assert code == (2 if not args else 0)
    for word in words:
        assert word in out
    assert err == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["demo", "addition", "--steps", "0"], "'--steps'"),
        (["demo", "addition", "--lengths", "8,x"], "--lengths must be positive"),
        (["demo", "addition", "--lengths", "0"], "--lengths must be positive"),
        (["demo", "addition", "--plot", "a.txt"], "--plot must end in .svg"),
        (["demo", "addition", "--wrong"], "No such option: --wrong"),
        (["draw", "model"], "Missing argument 'OUTPUT'"),
        (["draw", "nocolon", "x.svg"], "MODEL must be FILE.py:NAME or MODULE:NAME"),
        (["draw", "missing.py:m", "x.svg"], "no such file 'missing.py'"),
        (["draw", "no_such_module_here:m", "x.svg"], "cannot import"),
        (["draw", "cdl:Linear", "x.jpeg"], "OUTPUT must end in .svg"),
        (["check", "does_not_exist.py"], "does not exist"),
        (["check"], "Missing argument 'FILES"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(args, capsys)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cdl: error: ")
    assert message in lines[0]


def test_entry_point_exits_with_status_2_in_a_new_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cdl.cli", "draw", "x", "y.svg"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "MODEL must be" in done.stderr


def test_draw_from_a_file_and_from_a_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "models.py"
    source.write_text(MODEL_FILE, encoding="utf-8")
    key = jax.random.key(0)
    expected = cdl.Linear(4, 8, key=key) >> cdl.Relu() >> cdl.Linear(8, 2, key=key)

    code, out, _ = run(["draw", f"{source}:model", str(tmp_path / "m.svg")], capsys)
    assert code == 0 and "3 boxes" in out
    assert (tmp_path / "m.svg").read_text(encoding="utf-8") == cdl.draw(expected).svg()

    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run(["draw", "models:residual", str(tmp_path / "r.png")], capsys)
    assert code == 0 and "1 box," in out
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"

    code, _, err = run(["draw", f"{source}:not_a_model", "x.svg"], capsys)
    assert code == 2 and "is an int, not a cdl.Para" in err
    code, _, err = run(["draw", f"{source}:nothing", "x.svg"], capsys)
    assert code == 2 and "defines no 'nothing'" in err
    code, _, err = run(["draw", "cdl.architectures:gpt", "x.svg"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert (
        "gpt takes arguments (vocab, dim, depth, heads, max_length, *, tied=True, key)"
        in err
    )
    assert "a function of no arguments" in err


def test_check_reports_a_shape_bug_outside_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.py").write_text(
        "import jax\nimport cdl\n\nk = jax.random.key(0)\n"
        "net = cdl.Linear(784, 128, key=k) >> cdl.Relu() >> "
        "cdl.Linear(128, 10, key=k)\n",
        encoding="utf-8",
    )
    (tmp_path / "bad.py").write_text(
        textwrap.dedent(
            """\
            import jax
            import cdl

            k = jax.random.key(0)
            net = cdl.Linear(784, 128, key=k) >> cdl.Relu() >> cdl.Linear(64, 10, key=k)
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check", "good.py", "bad.py"], capsys)
    assert code == 1
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1
    assert errors[0].startswith("bad.py:5: error:")
    assert errors[0].endswith("[shape]")
    assert "128" in errors[0] and "64" in errors[0]


def test_generated_config_names_the_plugin_and_the_stubs() -> None:
    config = mypy_config(strict=True)
    assert "strict = True" in config
    assert "cdl/mypy_plugin/cdl_shape_plugin.py" in config
    stubs = stub_path()
    assert stubs is not None and str(stubs) in config
    assert (stubs / "jax" / "__init__.pyi").is_file()
    assert "strict = False" in mypy_config(strict=False)
    # errors inside cdl itself are not the user's: only their files are reported
    assert "[mypy-cdl.*]\nignore_errors = True" in config


@pytest.mark.slow
def test_demo_addition_prints_the_table_and_writes_both_pictures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot, diagram = tmp_path / "acc.png", tmp_path / "fold.svg"
    args = ["demo", "addition", "--steps", "3", "--lengths", "3", "--eval-size", "4"]
    code, out, err = run(
        [*args, "--plot", str(plot), "--diagram", str(diagram)], capsys
    )
    assert code == 0, err
    assert "Exact-match accuracy" in out and "fold (cata)" in out
    assert "transformer" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    svg = diagram.read_text(encoding="utf-8")
    assert ">cata<" in svg and ">CarryCell(16, 64)<" in svg and ">nil<" in svg
