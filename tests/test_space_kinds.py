"""Spaces read from a class annotation stand for that class's instances only."""

from typing import Any, NamedTuple, Protocol

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float, PyTree

import cdl
from cdl._space import Mismatch, Unifier, space_from_annotation, space_of


class Box(eqx.Module):
    value: Float[Array, " n"]


class BigBox(Box):
    pass


class Pair(NamedTuple):
    a: Float[Array, " n"]
    b: Float[Array, " n"]


class Sized(Protocol):
    def __len__(self) -> int: ...


class Open(cdl.Para[tuple[Box, Float[Array, " n"]], Float[Array, " n"]]):
    def __call__(self, x: tuple[Box, Float[Array, " n"]]) -> Float[Array, " n"]:
        box, v = x
        return box.value + v


def test_a_swapped_pair_names_the_factor_that_is_not_of_its_class() -> None:
    box, v = Box(jnp.ones(3)), jnp.zeros(3)
    assert jnp.allclose(Open()((box, v)), 1.0)
    with pytest.raises(cdl.SpaceError, match=r"a f32\[3\] is not a Box"):
        Open()((v, box))


def test_an_instance_of_a_subclass_is_taken() -> None:
    assert jnp.allclose(Open()((BigBox(jnp.ones(2)), jnp.ones(2))), 2.0)


def test_a_graph_given_after_its_features_is_refused_by_the_space_check() -> None:
    graph = cdl.Graph(jnp.array([0, 1]), jnp.array([1, 2]), num_nodes=3)
    layer = cdl.GraphConv(2, 3, key=jax.random.key(0))
    features = jnp.ones((3, 2))
    with pytest.raises(cdl.SpaceError, match=r"is not a Graph\)"):
        layer((features, graph))


def test_spaces_of_unrelated_classes_do_not_unify() -> None:
    with pytest.raises(Mismatch, match="is not a Box"):
        Unifier().unify(space_from_annotation(Box, {}), space_from_annotation(dict, {}))
    Unifier().unify(space_from_annotation(Box, {}), space_from_annotation(BigBox, {}))
    Unifier().unify(space_from_annotation(BigBox, {}), space_from_annotation(Box, {}))


def test_a_value_that_is_no_array_may_stand_where_a_tensor_is_declared() -> None:
    # A list fold declares float[n,3] and also takes a PaddedList of such rows.
    Unifier().unify(space_from_annotation(Float[Array, "n 3"], {}), space_of(Box(1)))


@pytest.mark.parametrize(
    "annotation", [PyTree, PyTree[Float[Array, " n"]], Sized, Pair, Any, jax.Array]
)
def test_annotations_whose_values_are_not_their_instances_limit_nothing(
    annotation: Any,
) -> None:
    space = space_from_annotation(annotation, {})
    for value in (jnp.ones(2), (jnp.ones(2), jnp.ones(2)), {"a": 1}):
        Unifier().unify(space, space_of(value))


def test_an_input_its_annotations_refuse_is_shown_whole_on_one_line() -> None:
    class Loose(cdl.Para[Any, Any]):
        def __call__(self, x: tuple[Box, Float[Array, " n"]]) -> Float[Array, " n"]:
            return x[1]

    graph = cdl.Graph(jnp.array([0, 1]), jnp.array([1, 2]), num_nodes=3)
    with pytest.raises(cdl.SpaceError) as error:
        Loose()((jnp.zeros(3), graph))
    text = str(error.value)
    assert text.startswith("Loose() was given an input its jaxtyping annotations")
    assert "Actual value: (f32[3], Graph(senders=i32[2], receivers=i32[2]" in text
    assert "\n" not in text
