"""Lenses as a new user writes them: the three laws on random sources for user
lenses and composites, and `first()`/`second()` given something not a tuple."""

import jax.numpy as jnp
import pytest
from hypothesis import given, settings, strategies as st

from cdl.optics import Lens, at, first, second

_NUMBER = st.floats(-5, 5, allow_nan=False).map(jnp.float32)


def _equal(u: object, v: object) -> bool:
    if isinstance(u, tuple | list):
        return (
            isinstance(v, tuple | list)
            and len(u) == len(v)
            and all(_equal(a, b) for a, b in zip(u, v, strict=True))
        )
    if isinstance(u, dict):
        return (
            isinstance(v, dict)
            and u.keys() == v.keys()
            and all(_equal(u[k], v[k]) for k in u)
        )
    return bool(jnp.all(jnp.asarray(u) == jnp.asarray(v)))


_LENSES = {
    "user": Lens(lambda s: s[1], lambda s, a: (s[0], a, *s[2:])),
    "first >> at": first() >> at(lambda d: d["w"]),
    "second": second(),
    "first >> first": first() >> first(),
}
_SOURCES = {
    "user": lambda w, b, c: ({"w": w, "b": b}, c, b),
    "first >> at": lambda w, b, c: ({"w": w, "b": b}, c),
    "second": lambda w, b, c: (w, b, c),
    "first >> first": lambda w, b, c: ((w, b), c),
}


@pytest.mark.parametrize("name", sorted(_LENSES))
@settings(max_examples=25, deadline=None)
@given(_NUMBER, _NUMBER, _NUMBER, _NUMBER, _NUMBER)
def test_lens_laws(
    name: str, w: object, b: object, c: object, x: object, y: object
) -> None:
    lens, source = _LENSES[name], _SOURCES[name](w, b, c)
    assert _equal(lens.put(source, lens.get(source)), source)  # get-put
    assert _equal(lens.get(lens.put(source, x)), x)  # put-get
    assert _equal(lens.put(lens.put(source, x), y), lens.put(source, y))  # put-put


def test_first_and_second_given_no_tuple_say_so() -> None:
    # "'float' object is not subscriptable"
    with pytest.raises(TypeError) as e:
        first().get(3.0)
    assert str(e.value) == (
        "first() focuses on component 0 of a tuple, but was given a float: its "
        "source is a pair (or a longer tuple)."
    )
    with pytest.raises(TypeError, match="second\\(\\) .* given a tuple of 1"):
        second().put((1.0,), 2.0)
