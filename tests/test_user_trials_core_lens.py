"""Lenses written by users obey the laws; `first` and `second` keep a tuple's rest."""

import jax.numpy as jnp

from cdl.optics import Lens, at, first, second


def test_first_and_second_keep_the_rest_of_a_longer_tuple() -> None:
    s = (jnp.array(1.0), jnp.array(2.0), jnp.array(3.0))
    for lens, index in ((first(), 0), (second(), 1)):
        written = lens.put(s, jnp.array(9.0))
        assert len(written) == 3
        assert float(written[index]) == 9.0
        assert float(written[2]) == 3.0  # dropped before
        assert lens.put(s, lens.get(s)) == s  # get-put


def test_a_user_lens_composed_with_at_is_lawful() -> None:
    norm = Lens(lambda v: jnp.linalg.norm(v), lambda v, r: v / jnp.linalg.norm(v) * r)
    lens = at(lambda s: s["vec"]) >> norm
    s = {"vec": jnp.array([3.0, 4.0]), "x": jnp.array(1.0)}
    assert jnp.allclose(lens.put(s, lens.get(s))["vec"], s["vec"])  # get-put
    assert jnp.allclose(lens.get(lens.put(s, jnp.array(10.0))), 10.0)  # put-get
    twice = lens.put(lens.put(s, jnp.array(2.0)), jnp.array(7.0))
    assert jnp.allclose(twice["vec"], lens.put(s, jnp.array(7.0))["vec"])  # put-put
