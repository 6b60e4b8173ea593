"""The addition demo scores each model only where it fits in memory."""

import io

import jax
import numpy as np
from rich.console import Console

from cdl.demos import (
    AdditionReport,
    FoldAdder,
    Scores,
    addition_data,
    attention_adder,
)
from cdl.demos._addition import _score_within, bytes_per_sum


def test_a_length_that_does_not_fit_is_one_line_and_the_rest_runs() -> None:
    transformer = attention_adder(8, 2, 4, 64, key=jax.random.key(0))
    fold = FoldAdder(4, 8, key=jax.random.key(1))
    # Room for the transformer's sums of 16 digits, not for one of 64.
    budget = bytes_per_sum(transformer, 64) - 1
    assert bytes_per_sum(transformer, 16) < budget
    assert bytes_per_sum(fold, 64) < budget
    rng = np.random.default_rng(0)
    short, long = addition_data(rng, 3, 16), addition_data(rng, 3, 64)
    line = _score_within(transformer, "transformer", 64, long, budget)
    need = bytes_per_sum(transformer, 64)
    assert line == (
        f"transformer: 64 digits skipped: one sum needs about {need / 1024:.0f} KiB, "
        f"more than the {budget / 1024:.0f} KiB this evaluation may use."
    )
    exact, digits = _score_within(transformer, "transformer", 16, short, budget)
    assert 0.0 <= exact <= digits <= 1.0
    assert isinstance(_score_within(fold, "fold", 64, long, budget), tuple)
    report = AdditionReport(
        (16, 64),
        Scores("fold", (1.0, 1.0), (1.0, 1.0), 10, 1.0),
        Scores("transformer", (0.5, float("nan")), (0.9, float("nan")), 20, 1.0),
        8,
    )
    table = io.StringIO()
    Console(file=table, width=100).print(report.table())
    assert "skipped" in table.getvalue().splitlines()[-3]
