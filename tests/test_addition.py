"""The addition demo: data, the fold model, the baseline, training and scoring."""

import io
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jaxtyping import Array, Float, Int
from rich.console import Console

import cdl
from cdl.demos import (
    AdditionReport,
    AttentionAdder,
    CarryCell,
    FoldAdder,
    Scores,
    addition_data,
    as_int,
    count_parameters,
    plot,
    run_addition,
    score,
    train,
)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.integers(1, 40),
    st.one_of(st.none(), st.integers(1, 40)),
)
def test_data_are_correct_sums(seed: int, digits: int, most: int | None) -> None:
    pairs, sums = addition_data(np.random.default_rng(seed), 16, digits, most)
    assert pairs.shape == (16, digits, 2) and sums.shape == (16, digits + 1)
    assert pairs.dtype == sums.dtype == np.int32
    for p, s in zip(pairs, sums, strict=True):
        assert as_int(s) == as_int(p[:, 0]) + as_int(p[:, 1])
        if most is not None and most < digits:
            assert not p[: digits - most].any()


def test_data_use_every_length_up_to_the_maximum() -> None:
    pairs, _ = addition_data(np.random.default_rng(0), 2000, 8, 8)
    used = 8 - np.argmax(pairs.any(axis=2), axis=1)
    assert set(used.tolist()) >= set(range(2, 9))


def test_bad_data_request() -> None:
    with pytest.raises(ValueError, match="not batch=0, digits=3"):
        addition_data(np.random.default_rng(0), 0, 3)


def test_fold_model_is_a_cata_over_the_cell() -> None:
    model = FoldAdder(8, 16, key=jax.random.key(0))
    network = model.network(5)
    assert isinstance(network, cdl.Compose)
    fold = network.factors[0]
    assert fold.label == "cata(CarryCell(8, 16))"
    assert fold.algebra.cons is model.cell  # type: ignore[attr-defined]
    x = jnp.asarray(addition_data(np.random.default_rng(0), 1, 5)[0][0])
    assert jnp.allclose(eqx.filter_jit(model)(x), eqx.filter_jit(network)(x))


def test_fold_consumes_least_significant_digit_first() -> None:
    """The cell sees the last pair first: reversing the fold's order changes it."""
    cell = CarryCell(4, 8, key=jax.random.key(1))
    seen: list[int] = []
    state = (jnp.zeros(4), jnp.zeros((3, 10)))
    pairs = jnp.array([[1, 2], [3, 4], [5, 6]])
    for pair in pairs[::-1]:
        seen.append(int(pair[0]))
        state = cell((pair, state))
    folded = cdl.cata(cdl.ListAlgebra((jnp.zeros(4), jnp.zeros((3, 10))), cell))(pairs)
    assert seen == [5, 3, 1]
    assert all(
        jnp.allclose(a, b, atol=1e-6) for a, b in zip(folded, state, strict=True)
    )


def test_one_set_of_weights_reads_any_length() -> None:
    model = FoldAdder(4, 8, key=jax.random.key(0))
    for n in (1, 3, 50):
        assert jax.eval_shape(model, jnp.zeros((n, 2), jnp.int32)).shape == (n + 1, 10)


def test_baseline_rejects_numbers_longer_than_its_table() -> None:
    model = AttentionAdder(8, 1, 2, 6, key=jax.random.key(0))
    assert jax.eval_shape(model, jnp.zeros((6, 2), jnp.int32)).shape == (7, 10)
    with pytest.raises(ValueError, match="at most 6 digits .* given 7 digits"):
        jax.eval_shape(model, jnp.zeros((7, 2), jnp.int32))
    with pytest.raises(ValueError, match="3 does not divide 8"):
        AttentionAdder(8, 1, 3, 6, key=jax.random.key(0))


def test_score_counts_exact_and_digit_matches() -> None:
    class Echo(cdl.Para[Int[Array, "n 2"], Float[Array, "n+1 10"]]):
        """Predicts the first summand with a leading zero."""

        def __call__(self, x: Int[Array, "n 2"]) -> Float[Array, "n+1 10"]:
            digits = jnp.concatenate([jnp.zeros(1, x.dtype), x[:, 0]])
            return jax.nn.one_hot(digits, 10)

    pairs = np.array([[[1, 0], [2, 0]], [[1, 0], [2, 1]]], dtype=np.int32)
    sums = np.array([[0, 1, 2], [0, 1, 3]], dtype=np.int32)
    exact, digits = score(Echo(), pairs, sums, chunk=1)
    assert exact == 0.5
    assert digits == pytest.approx(5 / 6)


def test_trained_fold_generalises_from_4_to_32_digits() -> None:
    rng = np.random.default_rng(0)
    model = FoldAdder(16, 64, key=jax.random.key(0))
    short = addition_data(np.random.default_rng(1), 200, 4)
    long = addition_data(np.random.default_rng(2), 200, 32)
    assert score(model, *short)[1] < 0.3
    batches = iter(lambda: addition_data(rng, 128, 4, 4), None)
    trained = train(model, batches, 800, learning_rate=3e-3)
    assert score(trained, *short)[0] >= 0.95
    assert score(trained, *long)[0] >= 0.95
    assert count_parameters(trained) == count_parameters(model)
    assert jax.tree.structure(trained) == jax.tree.structure(model)


def test_run_rejects_empty_settings() -> None:
    with pytest.raises(ValueError, match="steps=0"):
        run_addition(steps=0)
    with pytest.raises(ValueError, match=r"lengths=\[3, 0\]"):
        run_addition(lengths=(3, 0))


def test_plot_and_table_show_every_length(tmp_path: Path) -> None:
    fold = Scores("fold", (1.0, 1.0, 0.99), (1.0, 1.0, 1.0), 10, 1.0)
    base = Scores("attention", (0.97, 0.0, 0.0), (0.99, 0.7, 0.5), 20, 2.0)
    report = AdditionReport((8, 64, 128), fold, base, 8)
    text = io.StringIO()
    Console(file=text, width=100).print(report.table())
    rows = [line for line in text.getvalue().splitlines() if "%" in line]
    assert len(rows) == 3
    assert "99.0% (100.0%)" in rows[2] and "0.0% (50.0%)" in rows[2]
    assert "10 params" in text.getvalue() and "20 params" in text.getvalue()
    picture = plot(report, tmp_path / "accuracy.png")
    assert picture.read_bytes()[:4] == b"\x89PNG"
    assert plot(report, tmp_path / "accuracy.svg").read_text().count("<svg") == 1
