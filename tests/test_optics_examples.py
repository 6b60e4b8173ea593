"""The learning examples, run on small settings."""

from pathlib import Path

import pytest
from _examples import load


def test_iris_models_learn() -> None:
    results = load("iris").main(epochs=40, seeds=1, models=("dense", "hidden"))
    assert results["dense"][0] > 0.6
    assert results["hidden"][0] > 0.6


def test_digits_cnn_learns(capsys: pytest.CaptureFixture[str]) -> None:
    accuracy, _ = load("digits_cnn").main(epochs=2, batch_size=64, progress=True)
    assert accuracy > 0.8
    capsys.readouterr()


@pytest.mark.slow  # 12 s: the GAN trains for real; the lens laws run by default
def test_gan_trains_and_plots(tmp_path: Path) -> None:
    plot = tmp_path / "gan.png"
    covered, good = load("gan_2d").main(steps=200, batch_size=64, plot=str(plot))
    assert plot.stat().st_size > 1000
    assert covered >= 1 and 0.0 <= good <= 1.0


def test_meta_learning_raises_a_too_small_learning_rate(tmp_path: Path) -> None:
    plot = tmp_path / "lr.png"
    rates, learned, baseline = load("meta_lr").main(meta_steps=30, plot=str(plot))
    assert plot.stat().st_size > 1000
    assert rates[-1] > 2 * rates[0]
    assert learned < baseline
