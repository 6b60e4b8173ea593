"""Layer constructors reject bad arguments with one-line errors; NumPy inputs work."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

K = jax.random.key(0)

BAD: dict[str, tuple[Callable[[], Any], str]] = {
    "negative size": (
        lambda: cdl.Linear(-1, 3, key=K),
        "in_dim must be a positive int",
    ),
    "zero size": (lambda: cdl.Linear(3, 0, key=K), "out_dim must be a positive int"),
    "float size": (lambda: cdl.Linear(3.5, 2, key=K), "in_dim .* was given 3.5"),  # type: ignore[arg-type]
    "bool size": (lambda: cdl.Embedding(True, 2, key=K), "num must be a positive int"),
    "absurd size": (
        lambda: cdl.Linear(10**6, 10**6, key=K),
        "1,000,001,000,000 entries",
    ),
    "zero stride": (lambda: cdl.Conv1d(2, 3, 3, stride=0, key=K), "stride must be"),
    "zero kernel": (lambda: cdl.Conv2d(1, 2, 0, key=K), "kernel_size must be"),
    "kernel of wrong rank": (
        lambda: cdl.Conv2d(1, 2, (3, 3, 3), key=K),  # type: ignore[arg-type]
        "tuple of 2 ints",
    ),
    "negative padding": (lambda: cdl.Conv1d(1, 1, 3, padding=-1, key=K), "padding"),
    "dropout above one": (lambda: cdl.Dropout(1.5), r"probability in \[0, 1\)"),
    "dropout of one": (lambda: cdl.Dropout(1.0), r"probability in \[0, 1\)"),
    "negative dropout": (lambda: cdl.Dropout(-0.5), r"probability in \[0, 1\)"),
    "layer norm width": (lambda: cdl.LayerNorm(0), "dim must be a positive int"),
    "layer norm eps": (lambda: cdl.LayerNorm(3, eps=0.0), "eps must be positive"),
    "bias shape": (lambda: cdl.Bias((2, -1)), "shape must be a positive int"),
    "reshape to zero": (lambda: cdl.Reshape(0, 2), "positive ints"),
    "two unknowns": (lambda: cdl.Reshape(-1, -1), "at most one -1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_fail_at_construction_on_one_line(case: str) -> None:
    build, text = BAD[case]
    with pytest.raises(ValueError, match=text) as raised:
        build()
    assert "\n" not in str(raised.value)


def test_embedding_rejects_indices_outside_its_table() -> None:
    table = cdl.Embedding(10, 4, key=K)
    for index in (12, -1, jnp.array(10), np.int64(-3)):
        with pytest.raises(IndexError, match=r"outside the table's rows 0\.\.9"):
            table(index)
    assert table(9).shape == (4,)
    assert jax.vmap(table)(jnp.arange(10)).shape == (10, 4)
    with pytest.raises(Exception, match=r"outside the table's rows 0\.\.9"):
        jax.jit(lambda i: table(i))(jnp.array(12)).block_until_ready()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_arrays_are_accepted_like_jax_arrays(dtype: type) -> None:
    layer = cdl.Linear(3, 2, key=K) >> cdl.Tanh()
    x = np.linspace(-1, 1, 3).astype(dtype)
    out = layer(x)
    assert isinstance(out, jax.Array) and out.dtype == jnp.float32
    np.testing.assert_allclose(out, layer(jnp.asarray(x, jnp.float32)), rtol=1e-6)
    pair = (cdl.Relu() @ cdl.Tanh())((x, x))
    np.testing.assert_allclose(pair[0], np.maximum(x, 0), rtol=1e-6)


def test_reshape_takes_sizes_given_as_numpy_and_jax_ints() -> None:
    # Sizes read from a config array are NumPy ints: Reshape refused them as
    # not positive ints, while every other layer takes them.
    reshape = cdl.Reshape(np.int64(4), np.int32(-1))
    assert reshape.target == (4, -1) and all(type(d) is int for d in reshape.target)
    assert reshape(jnp.ones(8)).shape == (4, 2)
    assert cdl.Reshape(jnp.int32(2), 4) == cdl.Reshape(2, 4)
    for bad in [(True, 2), (2.0, 4), (np.bool_(True),)]:
        with pytest.raises(ValueError, match="positive ints"):
            cdl.Reshape(*bad)
