"""The examples run with unusual settings, as an outside user tries them (round 7)."""

import pytest
from _examples import load


def test_referential_game_prints_no_nan_before_its_first_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The table's first row printed a loss of "nan", read as a diverged run,
    # where no step had been taken yet.
    load("games_referential").main(steps=0)
    first = capsys.readouterr().out.splitlines()[2].split()
    assert first[:2] == ["0", "-"], first
