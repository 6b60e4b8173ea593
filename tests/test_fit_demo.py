"""The addition demo scores each model only where it fits in memory."""

import io

import jax
import numpy as np
from rich.console import Console

from cdl.demos import AttentionAdder, run_addition
from cdl.demos._addition import bytes_per_sum


def test_a_length_that_does_not_fit_is_one_line_and_the_fold_still_runs() -> None:
    transformer = AttentionAdder(8, 2, 4, 64, key=jax.random.key(0))
    # Room for the transformer's sums of 16 digits, not for one of 64.
    budget = bytes_per_sum(transformer, 64) - 1
    assert bytes_per_sum(transformer, 16) < budget
    out = io.StringIO()
    report = run_addition(
        steps=2,
        lengths=(16, 64),
        eval_size=4,
        state=4,
        width=8,
        baseline_dim=8,
        train_digits=2,
        memory=budget,
        console=Console(file=out, width=200),
    )
    need = bytes_per_sum(report.baseline.model, 64)
    assert report.baseline.skipped == (
        f"transformer: 64 digits skipped: one sum needs about {need / 1024:.0f} KiB, "
        f"more than the {budget / 1024:.0f} KiB this evaluation may use.",
    )
    assert report.baseline.skipped[0] in out.getvalue()
    assert np.isnan(report.baseline.exact[1]) and not np.isnan(report.baseline.exact[0])
    assert report.fold.skipped == () and not np.isnan(report.fold.exact).any()
    table = io.StringIO()
    Console(file=table, width=100).print(report.table())
    assert "skipped" in table.getvalue().splitlines()[-3]
