import pytest
from _examples import load


@pytest.mark.slow
def test_the_gpt_learns_to_sort_held_out_sequences() -> None:
    exact = load("gpt_sorting").main(epochs=8, train_size=3000, progress=False)
    assert exact > 0.8


@pytest.mark.slow
def test_the_resnet_classifies_digits() -> None:
    assert load("resnet_digits").main(epochs=4) > 0.9


@pytest.mark.slow
def test_the_unet_removes_most_of_the_noise() -> None:
    before, after = load("unet_denoise").main(epochs=4, progress=False)
    assert after < 0.5 * before
