import jax.numpy as jnp
import pytest
from jaxtyping import Array, Bool, Float, Int, Shaped

from cdl._space import (
    DimVar,
    Mismatch,
    ProductSpace,
    SeqVar,
    SpaceVar,
    TensorSpace,
    Unifier,
    rename,
    space_from_annotation,
    space_of,
)

FLOAT = space_from_annotation(Float[Array, ""], {})
assert isinstance(FLOAT, TensorSpace)
F = FLOAT.dtype


def t(*dims: object) -> TensorSpace:
    return TensorSpace(F, tuple(dims))  # type: ignore[arg-type]


def test_annotation_reads_fields_and_variables() -> None:
    space = space_from_annotation(Float[Array, "b in_dim 3"], {"in_dim": 7})
    assert space == t(DimVar("b"), 7, 3)
    assert space_from_annotation(Float[Array, "*s"], {}) == t(SeqVar("s"))
    assert space_from_annotation(Float[Array, "2*h"], {"h": 4}) == t(8)


def test_shaped_is_a_dtype_variable_and_int_is_not_float() -> None:
    shaped = space_from_annotation(Shaped[Array, "n"], {})
    u = Unifier()
    u.unify(shaped, space_of(jnp.zeros(3, dtype=jnp.int32)))
    with pytest.raises(Mismatch, match="dtype"):
        Unifier().unify(space_from_annotation(Int[Array, "n"], {}), t(3))


def test_kinds_print_by_their_names() -> None:
    spaces = [Float[Array, "n"], Int[Array, "n"], Bool[Array, "n"], Shaped[Array, "n"]]
    printed = [repr(space_from_annotation(a, {})) for a in spaces]
    assert printed == ["float[n]", "int[n]", "bool[n]", "any[n]"]


def test_variadic_binds_the_middle() -> None:
    u = Unifier()
    u.unify(t(1, SeqVar("s"), 4), t(1, 2, 3, 4))
    assert u.substitute(t(SeqVar("s"))) == t(2, 3)


def test_variadic_against_variadic() -> None:
    u = Unifier()
    u.unify(t(SeqVar("a")), t(SeqVar("b"), 3))
    u.unify(t(SeqVar("b")), t(5))
    assert u.substitute(t(SeqVar("a"))) == t(5, 3)


def test_rank_and_size_mismatches() -> None:
    with pytest.raises(Mismatch, match="rank"):
        Unifier().unify(t(3), t(3, 3))
    with pytest.raises(Mismatch, match="dimension 3 is not 4"):
        Unifier().unify(t(3), t(4))
    with pytest.raises(Mismatch, match="least rank"):
        Unifier().unify(t(1, SeqVar("s"), 2), t(1))


def test_named_dimension_is_bound_once() -> None:
    with pytest.raises(Mismatch):
        Unifier().unify(t(DimVar("n"), DimVar("n")), t(2, 3))


def test_products_and_space_variables() -> None:
    u = Unifier()
    x = SpaceVar("X")
    u.unify(ProductSpace((x, x)), ProductSpace((t(2), t(DimVar("m")))))
    assert u.substitute(t(DimVar("m"))) == t(2)
    with pytest.raises(Mismatch, match="product of 2"):
        Unifier().unify(ProductSpace((t(1), t(1))), ProductSpace((t(1),)))
    with pytest.raises(Mismatch, match="tuple"):
        Unifier().unify(ProductSpace(()), t(1))


def test_rename_gives_fresh_variables() -> None:
    space = t(DimVar("n"), SeqVar("s"))
    assert rename(space) != rename(space)
    assert repr(rename(space)) == repr(space) == "float[n,*s]"


def test_space_of_values() -> None:
    assert repr(space_of(jnp.zeros((2, 3)))) == "f32[2,3]"
    assert repr(space_of((jnp.zeros(1), 1.0))) == "(f32[1] × float[])"
