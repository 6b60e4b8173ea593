"""Mealy and Moore machines as a user runs them: ragged batches, finite alphabets."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

bits = st.lists(
    st.lists(st.integers(0, 1), min_size=1, max_size=6), min_size=1, max_size=4
)


RUN = eqx.filter_jit(lambda machine, batch: jax.vmap(machine)(batch))
MACHINES = {
    "parity": cdl.Mealy(lambda x: (x[0] ^ x[1],) * 2, 0),
    "counter": cdl.Moore(lambda s: 2 * s, lambda p: p[0] + p[1], 1),
}


def reference(machine: str, xs: list[int]) -> list[int]:
    """The machine's outputs by a Python loop."""
    out, state = [], 0 if machine == "parity" else 1
    for x in xs:
        state = state ^ x if machine == "parity" else state + x
        out.append(state if machine == "parity" else 2 * state)
    return out


@settings(max_examples=10, deadline=None)
@given(lists=bits)
def test_a_machine_over_a_ragged_batch_gives_each_lists_outputs(lists: list) -> None:
    # A PaddedList was handed to the cell whole, which blamed its own annotations.
    batch = cdl.batch_lists([np.array(xs, np.int32) for xs in lists], pad=True)
    for name, machine in MACHINES.items():
        out = RUN(machine, batch)
        assert isinstance(out, cdl.PaddedList)
        assert out.length.tolist() == [len(xs) for xs in lists]
        for row, xs in zip(np.asarray(out.values), lists, strict=True):
            assert row[: len(xs)].tolist() == reference(name, xs)
            assert not row[len(xs) :].any()


def test_a_finite_machine_refuses_an_input_outside_its_alphabet() -> None:
    cell = cdl.FiniteMealyCell(2, 2, 2, key=jax.random.key(0))
    machine = cdl.Mealy(cell, cell.start())
    # Index 5 of a 2-letter alphabet was clamped to 1: outputs with no error.
    with pytest.raises(ValueError, match=r"reads inputs 0 to 1 .* Input 1 is 5"):
        machine(jnp.array([0, 5, 1], jnp.int32))
    run = eqx.filter_jit(lambda m, xs: m(xs))
    with pytest.raises(eqx.EquinoxRuntimeError, match="reads inputs 0 to 1"):
        run(machine, jnp.array([0, -1, 1], jnp.int32))
    assert run(machine, jnp.array([0, 1, 1], jnp.int32)).shape == (3, 2)


def test_a_finite_machine_from_a_start_off_the_simplex_emits_distributions() -> None:
    # fit moves the start state with the rest of the machine's arrays; off the
    # simplex, outputs summed to 2 (a negative "probability" made the loss NaN).
    cell = cdl.FiniteMealyCell(2, 2, 3, key=jax.random.key(0))
    drifted = cdl.Mealy(cell, jnp.array([3.0, -1.0]))
    out = drifted(jnp.array([0, 1, 1, 0], jnp.int32))
    assert np.allclose(out.sum(-1), 1.0) and (out >= 0).all() and (out <= 1).all()
    start = cdl.Mealy(cell, cell.start())(jnp.array([0, 1], jnp.int32))
    assert np.allclose(start.sum(-1), 1.0)


@pytest.mark.slow
def test_fit_trains_a_finite_machine_with_its_start_state() -> None:
    from cdl.optics import Adam, Learner, SoftmaxCrossEntropy, accuracy, fit

    cell = cdl.FiniteMealyCell(2, 2, 2, key=jax.random.key(0))
    logits = cdl.lift(
        lambda p: jnp.log(p + 1e-9),
        dom=cdl.space_of(jnp.zeros((10, 2))),
        cod=cdl.space_of(jnp.zeros((10, 2))),
    )
    model = cdl.Mealy(cell, cell.start()) >> logits
    xs = np.random.default_rng(0).integers(0, 2, size=(200, 10)).astype(np.int32)
    ys = (np.cumsum(xs, 1) % 2).astype(np.int32)
    result = fit(
        Learner(model, SoftmaxCrossEntropy(), Adam(0.1)), model, jnp.asarray(xs),
        jnp.asarray(ys), epochs=30, batch_size=50, key=jax.random.key(1),
        progress=False, metrics={"accuracy": accuracy},
    )  # fmt: skip
    assert result.history["accuracy"][-1] > 0.99
