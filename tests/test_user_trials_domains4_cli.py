"""The command line checks where it will write, and the demo's seed, before any work."""

from pathlib import Path

import pytest

from cdl.cli import main
from cdl.demos import run_addition


def _one_line_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cdl: error: ")
    return lines[0]


def test_an_output_in_a_missing_folder_is_refused_before_drawing_or_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # draw ended in a FileNotFoundError traceback (status 1); the demo trained
    # both models for the whole run and then failed writing its plot.
    missing = str(tmp_path / "nowhere" / "x.svg")
    line = _one_line_error(["draw", "cdl:Relu", missing], capsys)
    assert "OUTPUT: no folder" in line and "'x.svg'" in line
    for option in ("--plot", "--diagram"):
        line = _one_line_error(["demo", "addition", option, missing], capsys)
        assert f"{option}: no folder" in line
    folder = tmp_path / "pictures.svg"
    folder.mkdir()
    line = _one_line_error(["draw", "cdl:Relu", str(folder)], capsys)
    assert "is a folder; name a file to write" in line


def test_a_negative_seed_is_refused_before_training(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # NumPy's "expected non-negative integer" came after both models were built.
    assert "'--seed'" in _one_line_error(["demo", "addition", "--seed", "-1"], capsys)
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match="needs a seed that is an int >= 0"):
            run_addition(steps=1, lengths=(2,), eval_size=1, seed=bad)  # type: ignore[arg-type]
