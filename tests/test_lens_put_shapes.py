"""`at(...)`'s put keeps the view's space: a value of another shape or dtype is
refused by name (it was written into the structure without a word), while the
lens laws hold on random sources and put works under jit, grad, vmap and scan."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl
from cdl.optics import at, first

_SIZES = st.integers(0, 4)
_FLOATS = st.floats(-5, 5, allow_nan=False, width=32)


@st.composite
def _sources(draw: st.DrawFn) -> tuple[dict[str, object], jax.Array]:
    n = draw(_SIZES)
    w = np.asarray(draw(st.lists(_FLOATS, min_size=n, max_size=n)), np.float32)
    v = np.asarray(draw(st.lists(_FLOATS, min_size=n, max_size=n)), np.float32)
    source = {"w": jnp.asarray(w), "b": jnp.float32(draw(_FLOATS)), "n": 3}
    return source, jnp.asarray(v)


def _same(u: object, v: object) -> bool:
    leaves_u, tree_u = jax.tree_util.tree_flatten(u)
    leaves_v, tree_v = jax.tree_util.tree_flatten(v)
    return tree_u == tree_v and all(
        np.shape(a) == np.shape(b) and bool(jnp.all(jnp.asarray(a) == b))
        for a, b in zip(leaves_u, leaves_v, strict=True)
    )


@settings(max_examples=30, deadline=None)
@given(_sources(), _sources())
def test_at_is_lawful_on_random_sources(
    drawn: tuple[dict[str, object], jax.Array],
    other: tuple[dict[str, object], jax.Array],
) -> None:
    (s, v), (_, u) = drawn, other
    lens = at(lambda s: s["w"])
    if u.shape != v.shape:
        u = v + 1.0
    assert _same(lens.put(s, lens.get(s)), s)  # get-put
    assert _same(lens.get(lens.put(s, v)), v)  # put-get
    assert _same(lens.put(lens.put(s, v), u), lens.put(s, u))  # put-put
    pair = first() >> lens
    assert _same(pair.get(pair.put((s, 1.0), v)), v)


def test_put_of_another_shape_names_the_lens_the_path_and_both_spaces() -> None:
    # at(...).put(s, jnp.ones(5)) where a 3-vector was wrote the 5-vector in.
    s = ({"w": jnp.zeros(3), "b": jnp.zeros(())}, 1.0)
    lens = first() >> at(lambda d: d["w"])
    with pytest.raises(TypeError) as e:
        lens.put(s, jnp.ones(5))
    assert str(e.value) == (
        "at(<lambda>) (at ['w']) writes back a view of f32[3], but was given "
        "f32[5]: put must keep the view's shape and dtype, or reading it back "
        "would not give what was read before."
    )
    model = cdl.Linear(2, 3, key=jax.random.key(0)) >> cdl.Tanh()
    with pytest.raises(
        TypeError,
        match=r"\(at \.factors\[0\]\.weight\) .* "
        r"f32\[3,2\], but was given f32\[2,2\]",
    ):
        at(lambda m: m.factors[0].weight).put(model, jnp.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"\(at \['b'\]\) .* f32\[\], but was given"):
        at(lambda d: (d["w"], d["b"])).put(s[0], (jnp.ones(3), jnp.ones(2)))


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (jnp.ones(3, jnp.bfloat16), "bf16\\[3\\]: .*cast it first"),
        (jnp.ones(3, jnp.int32), "i32\\[3\\]: .*cast it first"),
        (2.0, "float 2.0: .*jnp.full_like"),
        (jnp.float32(2.0), "f32\\[\\]: .*jnp.full_like"),
        ([1.0, 2.0, 3.0], "\\(float 1.0, float 2.0, float 3.0\\)"),
        (None, "NoneType None"),
    ],
)
def test_put_of_another_dtype_or_kind_is_refused(value: object, hint: str) -> None:
    with pytest.raises(
        TypeError, match="writes back a view of f32\\[3\\], but was given " + hint
    ):
        at(lambda d: d["w"]).put({"w": jnp.zeros(3)}, value)


def test_put_takes_what_keeps_the_space() -> None:
    s = {"w": jnp.zeros(3), "b": jnp.zeros(()), "i": jnp.arange(2), "h": 0.5}
    w, b, i, h = (at(lambda d, k=k: d[k]) for k in "wbih")
    assert w.put(s, np.ones(3))["w"].shape == (3,)  # float64 NumPy, x64 off
    assert float(b.put(s, 2.0)["b"]) == 2.0  # a number into a 0-d array
    assert float(b.put(s, np.float32(2))["b"]) == 2.0
    assert int(i.put(s, jnp.ones(2, jnp.int32))["i"][0]) == 1
    with pytest.raises(TypeError, match="i32\\[\\], but was given float 2.5"):
        at(lambda d: d["i"][0]).put({"i": [jnp.int32(1)]}, 2.5)
    assert h.put(s, jnp.ones(4))["h"].shape == (4,)  # no array was there
    empty = {"w": jnp.zeros(0)}
    assert w.put(empty, jnp.zeros(0))["w"].shape == (0,)
    layer = cdl.Linear(2, 3, key=jax.random.key(0))
    other = cdl.Linear(2, 3, key=jax.random.key(1))
    model = layer >> cdl.Tanh()
    put = at(lambda m: m.factors[0]).put(model, other).factors[0]
    assert bool(jnp.all(put.weight == other.weight))
    with pytest.raises(
        TypeError, match="view of Linear\\(2→3\\), but was given Linear\\(2→4\\)"
    ):
        at(lambda m: m.factors[0]).put(model, cdl.Linear(2, 4, key=jax.random.key(0)))


def test_put_checks_and_works_under_transformations() -> None:
    s = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    lens = at(lambda d: d["w"])

    def total(s: dict[str, jax.Array], v: jax.Array) -> jax.Array:
        return lens.put(s, v)["w"].sum() * 2.0

    assert float(jax.jit(total)(s, jnp.ones(3))) == 6.0
    assert jax.grad(total, argnums=1)(s, jnp.ones(3)).tolist() == [2.0] * 3
    assert jax.jacfwd(total, argnums=1)(s, jnp.ones(3)).tolist() == [2.0] * 3
    assert float(jax.checkpoint(total)(s, jnp.ones(3))) == 6.0
    assert jax.vmap(lambda v: lens.put(s, v)["w"])(jnp.ones((4, 3))).shape == (4, 3)
    stacked = jax.tree.map(lambda x: jnp.stack([x, x]), s)
    assert jax.vmap(lambda t: lens.put(t, jnp.ones(3))["w"])(stacked).shape == (2, 3)
    last, _ = jax.lax.scan(lambda c, v: (lens.put(c, v), None), s, jnp.ones((2, 3)))
    assert last["w"].tolist() == [1.0] * 3
    layer = cdl.Linear(2, 3, key=jax.random.key(0))
    doubled = eqx.filter_jit(lambda m: at(lambda m: m.weight).put(m, m.weight * 2))
    assert doubled(layer).weight.shape == (3, 2)
    with pytest.raises(TypeError, match="f32\\[3\\], but was given f32\\[4\\]"):
        jax.jit(total)(s, jnp.ones(4))
    with pytest.raises(TypeError, match="f32\\[3\\], but was given f32\\[2,5\\]"):
        jax.vmap(lambda v: lens.put(s, v), in_axes=1)(jnp.ones((2, 3, 5)))


def test_put_of_prng_keys_keeps_their_shape() -> None:
    s = {"key": jax.random.key(0)}
    lens = at(lambda d: d["key"])
    assert lens.put(s, jax.random.key(1))["key"].shape == ()
    with pytest.raises(
        TypeError, match="key<fry>\\[\\], but was given key<fry>\\[2\\]"
    ):
        lens.put(s, jax.random.split(jax.random.key(1)))
    with pytest.raises(TypeError, match="key<fry>\\[\\], but was given int 3"):
        lens.put(s, 3)
