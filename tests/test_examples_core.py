"""The core's examples, run on small settings."""

from _examples import load


def test_linear_regression_recovers_the_line() -> None:
    intercept, slope = load("linear_regression").main(steps=300)
    assert abs(intercept - 3) < 0.05 and abs(slope - 7) < 0.1


def test_tied_autoencoder_learns() -> None:
    initial, final = load("tied_autoencoder").main(steps=100)
    assert final < 0.5 * initial


def test_shared_cell_learns_a_cube_root_of_the_quarter_turn() -> None:
    angle = load("shared_cell").main(steps=600)
    assert abs((3 * angle) % 360 - 90) < 1.0
