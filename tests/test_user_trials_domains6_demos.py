"""The addition demo's data, asked for as an outside user asks."""

import numpy as np
import pytest

from cdl.demos import addition_data, as_int


def test_addition_data_names_summands_allowed_no_whole_digit() -> None:
    # max_digits=0 failed inside NumPy ("low >= high"), and 2.5 was taken as
    # some number of digits between 1 and 2.5.
    rng = np.random.default_rng(0)
    for bad in (0, -1, 2.5, "3"):
        with pytest.raises(ValueError, match=r"max_digits must be a whole number >= 1"):
            addition_data(rng, 2, 3, max_digits=bad)  # type: ignore[arg-type]
    for batch, digits in ((2.0, 3), (2, 3.0), (True, 3)):
        with pytest.raises(ValueError, match="at least one sum of at least one digit"):
            addition_data(rng, batch, digits)  # type: ignore[arg-type]
    # NumPy ints are whole numbers: the sums are right and the summands short
    pairs, sums = addition_data(rng, np.int64(300), np.int64(6), np.int64(2))
    assert pairs.shape == (300, 6, 2) and sums.shape == (300, 7)
    assert all(
        as_int(p[:, 0]) + as_int(p[:, 1]) == as_int(s)
        for p, s in zip(pairs, sums, strict=True)
    )
    assert pairs[:, :4].max() == 0 and pairs[:, 4:].max() == 9
