"""List schemes as a new user writes them from docs/haskell.md: Python numbers as
the initial values of `mutu`, as they are of every other list fold."""

import jax
import jax.numpy as jnp
import pytest

import cdl


def _reference(xs: list[float]) -> tuple[float, float]:
    first, second = 0.0, 0.0
    for x in reversed(xs):
        first, second = x + second, first
    return first, second


@pytest.mark.parametrize("xs", [[], [1.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
def test_mutu_with_python_numbers_takes_the_cells_type(xs: list[float]) -> None:
    # (0, 0) fixed the carriers to int[] x int[]: a float fold was a SpaceError
    # "must return (int[] × int[]), but returned (f32[] × f32[])", where
    # cata, zygo and histo take a Python number's type from the cell.
    alternate = cdl.mutu((0, 0), lambda p: p[0] + p[1][1], lambda p: p[1][0])
    first, second = alternate(jnp.array(xs, jnp.float32))
    assert (float(first), float(second)) == _reference(xs)
    assert jnp.result_type(first) == jnp.float32 or not xs
    jitted = jax.jit(alternate)(jnp.array(xs, jnp.float32))
    assert tuple(map(float, jitted)) == _reference(xs)


def test_mutu_of_padded_lists_with_python_numbers() -> None:
    alternate = cdl.mutu((0, 0), lambda p: p[0] + p[1][1], lambda p: p[1][0])
    lists = [[1.0, 2.0], [3.0], [], [1.0, 2.0, 3.0]]
    first, second = jax.vmap(alternate)(cdl.batch_lists(lists, pad=True))
    expected = [_reference(xs) for xs in lists]
    assert first.tolist() == [e[0] for e in expected]
    assert second.tolist() == [e[1] for e in expected]


@pytest.mark.parametrize("nils", [0, (0,), (0, 0, 0)])
def test_mutu_names_nils_that_are_no_pair(nils: object) -> None:
    # A bare number was "'int' object is not iterable" and a tuple of one
    # "zip() argument 2 is shorter than argument 1".
    with pytest.raises(TypeError, match=r"takes `nils` as a pair.*not"):
        cdl.mutu(nils, lambda p: p[1][1], lambda p: p[1][0])  # type: ignore[arg-type]


def test_an_error_inside_a_plain_cell_names_the_spaces_it_was_given() -> None:
    # The note said "raised in <lambda>, called on tuple": an element of f32[3]
    # beside a carrier of f32[2] was not to be seen.
    machine = cdl.Mealy(lambda x: (x[0] + x[1], x[1]), jnp.zeros(2))
    with pytest.raises(TypeError) as e:
        machine(jnp.ones((4, 3)))
    assert "raised in <lambda>, called on (f32[3] × f32[2])" in e.value.__notes__
    fold = cdl.cata(cdl.ListAlgebra(jnp.zeros(2), lambda p: p[0] + p[1]))
    with pytest.raises(TypeError) as e:
        fold(jnp.ones((4, 3)))
    assert "raised in <lambda>, called on (f32[3] × f32[2])" in e.value.__notes__


@pytest.mark.parametrize("field", ["x*k", "x*", "x*-1", "x*2.5"])
def test_a_variadic_field_of_no_whole_count_is_named(field: str) -> None:
    # 'x*k' as the docs spell it raised "invalid literal for int() with base 10:
    # 'k'"; 'x*-1' declared a constructor of -1 children.
    with pytest.raises(ValueError, match=r"'x\*k' holds up to k children.*not "):
        cdl.polynomial("RoseLike", Node=f"a {field}")


@pytest.mark.parametrize("name", ["names", "fmap", "patterns", "tag"])
def test_a_constructor_named_like_a_functor_attribute_is_refused(name: str) -> None:
    # Accepted, but F.names was the tuple of names and F.fmap the method, never
    # the constructor's pattern.
    with pytest.raises(ValueError, match=f"cannot have a constructor called {name!r}"):
        cdl.polynomial("F", Leaf="a", **{name: "x x"})
