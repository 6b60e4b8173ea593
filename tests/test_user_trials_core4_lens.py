"""Lenses side by side (`@`) given sources, views and parameters of the wrong
width, as a new user passes them."""

import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.optics import Lens, at, first, reverse_derivative, second, split_parameters


def test_a_parallel_lens_names_a_source_of_another_width() -> None:
    # zip(strict=True) said "zip() argument 2 is longer than argument 1".
    lens = first() @ second()
    with pytest.raises(
        TypeError,
        match=r"\(first\(\) @ second\(\)\) takes its "
        r"source as a tuple of 2 components.*a tuple of 3",
    ):
        lens.get(((1, 2), (3, 4), (5, 6)))
    with pytest.raises(TypeError, match="takes its view as a tuple of 2.*a tuple of 1"):
        lens.put(((1, 2), (3, 4)), (9,))
    assert lens.put(((1, 2), (3, 4)), [9, 8]) == ((9, 2), (3, 8))


def test_a_parallel_lens_does_not_read_an_array_row_by_row() -> None:
    # An array of two rows passed for a pair was read as its rows, without a word.
    whole = at(lambda s: s) @ at(lambda s: s)
    with pytest.raises(TypeError, match=r"tuple of 2 components.*given f32\[2,3\]"):
        whole.get(jnp.ones((2, 3)))


def test_a_parallel_parametric_lens_names_parameters_and_inputs() -> None:
    linear = cdl.Linear(2, 2, key=jax.random.key(0))
    lens = reverse_derivative(linear) @ reverse_derivative(cdl.Tanh())
    params = (split_parameters(linear)[0], split_parameters(cdl.Tanh())[0])
    x = (jnp.ones(2), jnp.ones(2))
    assert [y.shape for y in lens.get(params, x)] == [(2,), (2,)]
    with pytest.raises(
        TypeError,
        match=r"R\(Linear\(2→2\)\) @ R\(Tanh\(\)\)\) takes "
        "its input as a tuple of 2",
    ):
        lens.get(params, x[:1])
    with pytest.raises(TypeError, match="takes its parameters as a tuple of 2"):
        lens.get(params[:1], x)
    with pytest.raises(TypeError, match="takes its change as a tuple of 2"):
        lens.put(params, x, (jnp.ones(2),))


def test_lenses_are_labelled_by_what_they_focus_on() -> None:
    def head(s: tuple[float, ...]) -> float:
        return s[0]

    lens = first() >> at(head) >> Lens(abs, lambda s, a: a)
    assert lens.label == "first() >> at(head) >> Lens(abs)"
    assert (second() @ first()).label == "(second() @ first())"
