"""Demonstrations of cdl: small, complete experiments, run by ``cdl demo``."""

from ._addition import (
    AdditionReport as AdditionReport,
    CarryCell as CarryCell,
    FoldAdder as FoldAdder,
    Scores as Scores,
    TopDigit as TopDigit,
    addition_data as addition_data,
    as_int as as_int,
    attention_adder as attention_adder,
    count_parameters as count_parameters,
    digit_slots as digit_slots,
    plot as plot,
    run_addition as run_addition,
    score as score,
    train as train,
)
