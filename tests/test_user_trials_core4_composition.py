"""Composites built programmatically, as a new user builds them: residual blocks
nested in residual blocks, and products reduced with `@`."""

import functools
import operator
import sys
from collections.abc import Iterator

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl

LINEAR = cdl.Linear(3, 3, key=jax.random.key(0))
X = jnp.array([0.1, -0.2, 0.3])


def _nested(depth: int) -> cdl.Para:  # type: ignore[type-arg]
    block: cdl.Para = LINEAR >> cdl.Tanh()  # type: ignore[type-arg]
    for _ in range(depth):
        block = cdl.Copy() >> (block @ cdl.Identity()) >> cdl.Add()
    return block


def _reference(depth: int, x: jax.Array) -> jax.Array:
    return jnp.tanh(LINEAR(x)) + depth * x


@pytest.fixture
def deep_stack() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def test_residual_blocks_nested_1500_deep_are_built() -> None:
    # Each `>>` pushed its input through the whole nest, looking its methods up
    # on every composite below (an Equinox bound method walks every leaf): the
    # build went past Python's recursion limit at 139 levels.
    model = _nested(1500)
    assert repr(model.cod) == "float[3]"


def test_calling_a_nest_past_the_stack_says_what_to_do() -> None:
    # A RecursionError from the middle of the nest, with a traceback of
    # hundreds of frames.
    with pytest.raises(RecursionError) as e:
        _nested(100)(X)
    message = str(e.value)
    assert message.startswith("calling this Compose went past Python's recursion limit")
    assert "nests composites 201 deep" in message
    assert "cdl.Tensor(f, g, h, ...)" in message and "sys.setrecursionlimit(" in message
    assert len(e.traceback) < 10


def test_building_a_nest_past_the_stack_says_what_to_do() -> None:
    # Layers of any shape (no concrete space to remember what a level gives)
    # are still pushed through level by level.
    block: cdl.Para = cdl.Tanh()  # type: ignore[type-arg]
    with pytest.raises(RecursionError, match="building this Compose went past"):
        for _ in range(220):
            block = cdl.Copy() >> (block @ cdl.Identity()) >> cdl.Add()


def test_a_nest_within_a_raised_limit_is_right(deep_stack: None) -> None:
    model = _nested(100)
    assert jnp.allclose(model(X), _reference(100, X), atol=1e-5)
    jitted = eqx.filter_jit(lambda m, x: m(x))(model, X)
    assert jnp.allclose(jitted, _reference(100, X), atol=1e-5)


class _Recursing(cdl.Para[Float[Array, "3"], Float[Array, "3"]]):
    def __call__(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
        raise RecursionError("maximum recursion depth exceeded in the user's code")


def test_a_recursive_function_inside_a_layer_keeps_its_own_error() -> None:
    model = (cdl.Tanh() >> cdl.residual(_Recursing())) @ cdl.Identity()
    with pytest.raises(RecursionError, match="in the user's code"):
        model((X, X))


def test_a_product_reduced_with_at_is_its_branches() -> None:
    branches = [
        cdl.Linear(2, 2, key=k) for k in jax.random.split(jax.random.key(1), 20)
    ]
    product = functools.reduce(operator.matmul, branches)
    inputs = [jnp.full(2, float(i)) for i in range(20)]
    out = product(functools.reduce(lambda a, b: (a, b), inputs))
    flat = []
    while isinstance(out, tuple):
        out, last = out
        flat.append(last)
    flat.append(out)
    expected = [f(x) for f, x in zip(branches, inputs, strict=True)][::-1]
    assert all(jnp.array_equal(a, b) for a, b in zip(flat, expected, strict=True))


def test_the_domain_of_a_product_reduced_over_hundreds_of_branches_prints() -> None:
    # Printing (f @ g) @ h ... over 300 branches went past the recursion limit.
    product = functools.reduce(operator.matmul, [cdl.Tanh() for _ in range(300)])
    text = repr(product.dom)
    assert text.startswith("(" * 299 + "float[*shape] × float[*shape])")
    assert text.count("×") == 299 and text.endswith(")")
    assert (
        repr(cdl.space_of((jnp.ones(2), ((), jnp.ones(1)))))
        == "(f32[2] × (() × f32[1]))"
    )
