"""The game examples run on small settings, and learn."""

from pathlib import Path

import numpy as np
import pytest
from _examples import load


def test_bilinear_plain_play_spirals_and_the_other_rules_converge(
    tmp_path: Path,
) -> None:
    example = load("games_bilinear")
    plot = tmp_path / "bilinear.png"
    steps = 60
    curves = example.main(steps=steps, plot=str(plot))
    assert plot.stat().st_size > 1000
    plain = np.array(curves.pop("plain, simultaneous"))
    np.testing.assert_allclose(
        plain / plain[0], (1 + example.ETA**2) ** (np.arange(steps + 1) / 2), rtol=1e-5
    )
    alternating = np.array(curves.pop("plain, alternating"))
    assert np.all(np.abs(alternating / alternating[0] - 1) < 0.06)
    for name, curve in curves.items():
        assert curve[-1] < 0.8 * curve[0], name


def test_gan_game_learns_the_ring() -> None:
    # Untrained, the generator puts no sample near a mode (measured: 0/8, 0.0%).
    covered, good = load("gan_2d").main(steps=600, batch_size=64, plot=None)
    assert covered >= 6
    assert good > 0.1


@pytest.mark.slow  # 9 s of training; the game machinery is tested in test_games
def test_referential_game_learns_a_code_that_generalises() -> None:
    # Chance: 1/64 of objects, 1/4 of the 48 held-out attributes.
    train, held_out, attributes = load("games_referential").main(steps=400)
    assert train >= 0.9
    assert attributes >= 0.5
    assert held_out >= 1 / 16  # at least one object never seen, recovered whole


@pytest.mark.slow
def test_referential_game_at_full_length() -> None:
    train, held_out, attributes = load("games_referential").main(steps=1500)
    assert train == 1.0
    assert held_out >= 0.2
    assert attributes >= 0.6


@pytest.mark.slow
def test_lola_learners_cooperate_where_naive_learners_defect() -> None:
    results = load("games_ipd").main(steps=200, seeds=5)
    naive, _ = results["naive vs naive"]
    lola, cooperation = results["LOLA vs LOLA"]
    assert naive < -1.9  # mutual defection pays −2 a round
    assert lola > -1.5 and cooperation > 0.4
