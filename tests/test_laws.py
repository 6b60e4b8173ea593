"""Category laws of Para on random morphisms with random parameters."""

import jax
import jax.numpy as jnp
from hypothesis import given, settings, strategies as st

import cdl

sizes = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**31 - 1)
ACTIVATIONS = [cdl.Tanh(), cdl.Relu(), cdl.Sigmoid(), cdl.Gelu(), cdl.Identity()]


@st.composite
def layers(draw: st.DrawFn, n_in: int, n_out: int) -> cdl.Para:  # type: ignore[type-arg]
    key = jax.random.key(draw(seeds))
    layer: cdl.Para = cdl.Linear(n_in, n_out, key=key)  # type: ignore[type-arg]
    if draw(st.booleans()):
        layer = layer >> draw(st.sampled_from(ACTIVATIONS))
    return layer


def close(a: jax.Array, b: jax.Array) -> bool:
    return bool(jnp.allclose(a, b, atol=1e-5, rtol=1e-5))


def point(n: int, seed: int) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), (n,))


@settings(max_examples=25, deadline=None)
@given(st.data(), sizes, sizes, sizes, sizes, seeds)
def test_associativity(
    data: st.DataObject, a: int, b: int, c: int, d: int, s: int
) -> None:
    f, g, h = (data.draw(layers(*io)) for io in ((a, b), (b, c), (c, d)))
    left, right = (f >> g) >> h, f >> (g >> h)
    x = point(a, s)
    assert close(left(x), right(x))
    assert left.dom == right.dom or repr(left.dom) == repr(right.dom)
    assert repr(left.cod) == repr(right.cod) == f"float[{d}]"


@settings(max_examples=25, deadline=None)
@given(st.data(), sizes, sizes, seeds)
def test_identity_laws(data: st.DataObject, a: int, b: int, s: int) -> None:
    f = data.draw(layers(a, b))
    x = point(a, s)
    assert close((cdl.Identity() >> f)(x), f(x))
    assert close((f >> cdl.Identity())(x), f(x))
    assert repr((cdl.Identity() >> f).dom) == f"float[{a}]"


@settings(max_examples=25, deadline=None)
@given(st.data(), sizes, sizes, sizes, sizes, sizes, sizes, seeds)
def test_interchange_law(
    data: st.DataObject, a: int, b: int, c: int, d: int, e: int, g_: int, s: int
) -> None:
    f, h = data.draw(layers(a, b)), data.draw(layers(b, c))
    g, k = data.draw(layers(d, e)), data.draw(layers(e, g_))
    left = (f @ g) >> (h @ k)
    right = (f >> h) @ (g >> k)
    x = (point(a, s), point(d, s + 1))
    (l1, l2), (r1, r2) = left(x), right(x)
    assert close(l1, r1) and close(l2, r2)
    assert repr(left.cod) == repr(right.cod) == f"(float[{c}] × float[{g_}])"


@settings(max_examples=25, deadline=None)
@given(st.data(), sizes, sizes, sizes)
def test_parameters_pair_up(data: st.DataObject, a: int, b: int, c: int) -> None:
    f, g = data.draw(layers(a, b)), data.draw(layers(b, c))
    composite = f >> g
    factors = [h.factors if isinstance(h, cdl.Compose) else (h,) for h in (f, g)]
    assert composite.factors == factors[0] + factors[1]
    leaves = jax.tree.leaves(composite)
    expected = jax.tree.leaves(f) + jax.tree.leaves(g)
    assert len(leaves) == len(expected)
    assert all(x is y for x, y in zip(leaves, expected, strict=True))
    parallel = f @ g
    assert jax.tree.leaves(parallel) == leaves
    grads = jax.grad(lambda m: m(jnp.ones(a)).sum())(composite)
    assert jax.tree.structure(grads) == jax.tree.structure(composite)


@settings(max_examples=20, deadline=None)
@given(st.data(), sizes, sizes, seeds)
def test_copy_is_counital_and_swap_is_involutive(
    data: st.DataObject, a: int, b: int, s: int
) -> None:
    f = data.draw(layers(a, b))
    x = point(a, s)
    assert close((cdl.Copy() >> cdl.Fst() >> f)(x), f(x))
    assert close((cdl.Copy() >> cdl.Snd() >> f)(x), f(x))
    y = (x, point(b, s))
    twice = cdl.Swap() >> cdl.Swap()
    assert all(close(u, v) for u, v in zip(twice(y), y, strict=True))
    naturality_left = (f @ f) >> cdl.Swap()
    naturality_right = cdl.Swap() >> (f @ f)
    pair = (x, point(a, s + 1))
    assert all(
        close(u, v)
        for u, v in zip(naturality_left(pair), naturality_right(pair), strict=True)
    )
