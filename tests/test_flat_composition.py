"""Flat composites: bracketing, units, depth without recursion, runs as loops."""

import io
import sys
import time
from collections.abc import Iterator
from typing import Any

import equinox as eqx
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

import cdl
from cdl.draw._layout import ELIDE_LONGER_THAN
from cdl.optics import IdentityLens, Lens, first, reverse_derivative

WIDTH = 3
DEPTH = 10_000


def pieces(
    draw: st.DrawFn, count: int, kinds_from: str = "ltrbi"
) -> list[cdl.Para[Any, Any]]:
    kinds = draw(st.lists(st.sampled_from(kinds_from), min_size=count, max_size=count))
    out: list[cdl.Para[Any, Any]] = []
    for i, kind in enumerate(kinds):
        if kind == "l":
            out.append(cdl.Linear(WIDTH, WIDTH, key=jax.random.key(i)))
        elif kind == "t":
            out.append(cdl.Tanh())
        elif kind == "r":
            out.append(cdl.Relu())
        elif kind == "b":
            out.append(cdl.Bias(WIDTH, init=0.1 * i))
        else:
            out.append(cdl.Identity())
    return out


def bracketings(draw: st.DrawFn, items: list[Any]) -> Any:
    """A random binary bracketing of `items` with `>>`."""
    if len(items) == 1:
        return items[0]
    cut = draw(st.integers(1, len(items) - 1))
    return bracketings(draw, items[:cut]) >> bracketings(draw, items[cut:])


@st.composite
def two_bracketings(draw: st.DrawFn) -> tuple[Any, Any, list[Any]]:
    items = pieces(draw, draw(st.integers(1, 9)))
    return bracketings(draw, items), bracketings(draw, items), items


@settings(max_examples=60, deadline=None)
@given(two_bracketings())
def test_every_bracketing_gives_an_equal_composite(
    case: tuple[Any, Any, list[Any]],
) -> None:
    left, right, items = case
    assert bool(eqx.tree_equal(left, right))
    assert str(left.signature()) == str(right.signature())
    assert jax.tree.structure(left) == jax.tree.structure(right)
    kept = [f for f in items if not isinstance(f, cdl.Identity)]
    if len(kept) > 1:
        assert isinstance(left, cdl.Compose) and list(left.factors) == kept
    x = jnp.linspace(-1.0, 1.0, WIDTH)
    np.testing.assert_allclose(left(x), right(x), rtol=1e-6)
    # parameters can be exchanged between the two bracketings
    params, _ = eqx.partition(left, eqx.is_array)
    _, skeleton = eqx.partition(right, eqx.is_array)
    np.testing.assert_allclose(eqx.combine(params, skeleton)(x), left(x), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_identities_are_units_on_the_nose(data: st.DataObject) -> None:
    (f,) = pieces(data.draw, 1, "ltrb")
    ident = cdl.Identity()
    assert ident >> f is f and f >> ident is f
    assert isinstance(ident >> ident, cdl.Identity)
    lens = first()
    assert IdentityLens() >> lens is lens and lens >> IdentityLens() is lens


def test_lenses_and_parametric_lenses_compose_flat() -> None:
    double = Lens(lambda s: 2 * s, lambda s, a: a / 2)
    chain = (double >> double) >> (double >> double)
    assert len(chain.factors) == 4
    assert float(chain.get(jnp.array(1.0))) == 16.0
    assert float(chain.put(jnp.array(1.0), jnp.array(32.0))) == 2.0
    k = jax.random.split(jax.random.key(0), 3)
    fs = [cdl.Linear(WIDTH, WIDTH, key=key) for key in k]
    lens = (reverse_derivative(fs[0]) >> reverse_derivative(fs[1])) >> (
        reverse_derivative(fs[2])
    )
    assert len(lens.factors) == 3
    p = tuple(cdl.parameters(f) for f in fs)
    x = jnp.ones(WIDTH)
    model = fs[0] >> fs[1] >> fs[2]
    np.testing.assert_allclose(lens.get(p, x), model(x), rtol=1e-6)
    dp, dx = lens.put(p, x, jnp.ones(WIDTH))
    grads = jax.grad(lambda m, y: m(y).sum(), argnums=(0, 1))(model, x)
    np.testing.assert_allclose(dx, grads[1], rtol=1e-5)
    for mine, theirs in zip(dp, grads[0].factors, strict=True):
        np.testing.assert_allclose(mine.weight, theirs.weight, rtol=1e-5)


def test_arrows_of_different_kinds_do_not_compose() -> None:
    with pytest.raises(TypeError, match="joins arrows of one kind"):
        cdl.Tanh() >> first()  # type: ignore[operator]


def test_composition_errors_name_the_chain_so_far() -> None:
    k = jax.random.key(0)
    chain = [cdl.Linear(4, 4, key=k) for _ in range(30)]
    with pytest.raises(
        cdl.CompositionError, match=r"Linear\(4→4\) >> .* Linear\(5→1\)"
    ):
        cdl.Compose(*chain, cdl.Linear(5, 1, key=k))
    assert cdl.CompositionError.__module__ == "cdl"
    assert cdl.SpaceError.__module__ == "cdl"


def test_a_chain_built_from_its_end_unifies_once_per_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = []
    extend = cdl._category._extend
    monkeypatch.setattr(
        cdl._category, "_extend", lambda *a: steps.append(1) or extend(*a)
    )
    layers = [cdl.Linear(WIDTH, WIDTH, key=jax.random.key(i)) for i in range(200)]
    model: Any = layers[-1]
    for layer in reversed(layers[:-1]):
        model = layer >> (cdl.Relu() >> model)
    assert len(model.factors) == 399
    assert len(steps) <= 2 * len(model.factors)
    assert str(model.signature()) == "(float[3], float[3])"
    with pytest.raises(cdl.CompositionError, match=r"Linear\(3→5\) >> Relu\(\)"):
        cdl.Linear(3, 5, key=jax.random.key(0)) >> (cdl.Relu() >> model)
    # A tail open in its input is pushed through factor by factor: the flatten
    # of a known input has a known size.
    k = jax.random.key(0)
    tail = cdl.Flatten() >> cdl.Linear(12, 3, key=k)
    with pytest.raises(cdl.CompositionError, match="output float\\[10\\]"):
        (cdl.Linear(4, 10, key=k) >> cdl.Reshape(5, 2)) >> tail


@pytest.fixture(scope="module")
def deep() -> Iterator[cdl.Para[Any, Any]]:
    """A chain of 10,000 layers, built one `>>` at a time."""
    k1, k2 = jax.random.split(jax.random.key(1))
    model: Any = cdl.Linear(WIDTH, WIDTH, key=k1)
    for i in range(DEPTH - 2):
        model = model >> (cdl.Tanh() if i % 2 else cdl.Relu())
    model = model >> cdl.Linear(WIDTH, WIDTH, key=k2)
    yield model


def low_recursion_limit() -> Any:
    """A recursion limit far below the depth of the composite."""

    class Limit:
        def __enter__(self) -> None:
            self.old = sys.getrecursionlimit()
            sys.setrecursionlimit(400)

        def __exit__(self, *_: object) -> None:
            sys.setrecursionlimit(self.old)

    return Limit()


def reference(model: cdl.Compose[Any, Any, Any], x: jax.Array) -> jax.Array:
    for layer in model.factors:
        x = layer(x)
    return x


def test_a_ten_thousand_layer_composite_runs_and_differentiates(deep: Any) -> None:
    assert len(deep.factors) == DEPTH
    x = jnp.array([0.3, -0.2, 0.5])
    with low_recursion_limit():
        y = deep(x)
        grads = jax.grad(lambda m: m(x).sum())(deep)
        jitted = eqx.filter_jit(lambda m, v: m(v))(deep, x)
    np.testing.assert_allclose(y, reference(deep, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jitted, y, rtol=1e-5, atol=1e-6)
    assert grads.factors[0].weight.shape == (WIDTH, WIDTH)
    assert bool(jnp.any(grads.factors[-1].weight != 0))


def test_a_ten_thousand_layer_composite_serialises_and_draws(deep: Any) -> None:
    with low_recursion_limit():
        buffer = io.BytesIO()
        eqx.tree_serialise_leaves(buffer, deep)
        buffer.seek(0)
        back = eqx.tree_deserialise_leaves(buffer, deep)
        svg = cdl.draw(deep).svg()
        label = deep.label
    assert bool(eqx.tree_equal(back, deep))
    shown = 2 * (ELIDE_LONGER_THAN // 2 - 1)
    assert f"{DEPTH - shown:,} more layers" in svg
    assert svg.count("<rect") < ELIDE_LONGER_THAN + 5
    assert label.count(">>") == DEPTH - 1


def test_long_runs_of_repeated_layers_match_the_straight_line() -> None:
    keys = jax.random.split(jax.random.key(2), 50)
    chain = cdl.Compose(
        cdl.Linear(2, WIDTH, key=keys[0]),
        *[f for k in keys[1:] for f in (cdl.Linear(WIDTH, WIDTH, key=k), cdl.Tanh())],
    )
    x = jnp.array([0.5, -1.0])
    np.testing.assert_allclose(chain(x), reference(chain, x), rtol=1e-5, atol=1e-6)
    grad = jax.grad(lambda m: m(x).sum())(chain)
    by_hand = jax.grad(lambda m: reference(m, x).sum())(chain)
    for a, b in zip(jax.tree.leaves(grad), jax.tree.leaves(by_hand), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_repeat_compiles_in_constant_time() -> None:
    cell = cdl.Linear(WIDTH, WIDTH, key=jax.random.key(3)) >> cdl.Tanh()
    x = jnp.ones(WIDTH)

    def compile_seconds(times: int) -> float:
        model = cdl.repeat(cell, times)
        params, static = eqx.partition(model, eqx.is_array)
        lowered = jax.jit(lambda p, v: eqx.combine(p, static)(v)).lower(params, x)
        start = time.perf_counter()
        lowered.compile()
        return time.perf_counter() - start

    short = min(compile_seconds(10) for _ in range(2))
    long = min(compile_seconds(10_000) for _ in range(2))
    assert long < 5 * short + 0.5
    out = cdl.repeat(cell, 10_000)(x)
    assert out.shape == (WIDTH,) and bool(jnp.all(jnp.isfinite(out)))


def test_repeat_of_a_stochastic_cell_draws_a_key_per_step() -> None:
    cell = cdl.Dropout(0.5)
    model = cdl.repeat(cell, 3)
    y = model(jnp.ones(1000), key=jax.random.key(0))
    kept = float((y != 0).mean())
    assert 0.08 < kept < 0.17  # (1/2)^3 survive
    with pytest.raises(ValueError, match="needs a PRNG key"):
        model(jnp.ones(4))
