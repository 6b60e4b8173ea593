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
from cdl.architectures import layers_of
from cdl.demos import (
    AdditionReport,
    CarryCell,
    FoldAdder,
    Scores,
    addition_data,
    as_int,
    attention_adder,
    count_parameters,
    digit_slots,
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
    model = attention_adder(8, 1, 2, 6, key=jax.random.key(0))
    assert jax.eval_shape(model, jnp.zeros((6, 2), jnp.int32)).shape == (7, 10)
    with pytest.raises(ValueError, match="has 8 positions, more than the 7"):
        jax.eval_shape(model, jnp.zeros((7, 2), jnp.int32))
    with pytest.raises(ValueError, match=r"multiple of heads \(3\)"):
        attention_adder(8, 1, 3, 6, key=jax.random.key(0))


def layer_norm(norm: cdl.LayerNorm, x: jax.Array) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + norm.eps) * norm.weight[None] + norm.bias[None]


def transformer_by_hand(
    model: cdl.Para, pairs: jax.Array, depth: int, heads: int
) -> jax.Array:
    """The baseline written out in plain JAX, on the weights of `model`."""
    linears = layers_of(model, cdl.Linear)
    norms = layers_of(model, cdl.LayerNorm)
    (places,) = layers_of(model, cdl.LearnedPositions)
    embed, read = linears[0], linears[-1]
    n = pairs.shape[0] + 1
    h = digit_slots(pairs) @ embed.weight.T + embed.bias[None]
    h = h + places.table[:n][::-1]
    for b in range(depth):
        wq, wk, wv, wo, up, down = linears[1 + 6 * b : 7 + 6 * b]
        x = layer_norm(norms[2 * b], h)
        q, k, v = ((x @ w.weight.T).reshape(n, heads, -1) for w in (wq, wk, wv))
        scores = jnp.einsum("ihd,jhd->hij", q, k) / np.sqrt(q.shape[-1])
        attended = jnp.einsum("hij,jhd->ihd", jax.nn.softmax(scores), v)
        h = h + attended.reshape(n, -1) @ wo.weight.T
        hidden = jax.nn.relu(
            layer_norm(norms[2 * b + 1], h) @ up.weight.T + up.bias[None]
        )
        h = h + hidden @ down.weight.T + down.bias[None]
    return layer_norm(norms[-1], h) @ read.weight.T + read.bias[None]


def test_baseline_composite_equals_the_transformer_written_by_hand() -> None:
    model = attention_adder(16, 2, 4, 12, key=jax.random.key(3))
    pairs = jnp.asarray(addition_data(np.random.default_rng(0), 4, 9)[0])
    ours = eqx.filter_jit(lambda m, x: jax.vmap(m)(x))(model, pairs)
    theirs = jax.vmap(lambda p: transformer_by_hand(model, p, 2, 4))(pairs)
    assert ours.shape == (4, 10, 10)
    assert jnp.max(jnp.abs(ours - theirs)) < 1e-5
    assert count_parameters(model) == (
        21 * 16 + 13 * 16 + 2 * (4 * 16 + 4 * 16 * 16 + 2 * 64 * 16 + 64 + 16)
        + 2 * 16 + 17 * 10
    )  # fmt: skip


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
