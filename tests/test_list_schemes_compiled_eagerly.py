"""List schemes called outside `jit` compile once per structure and shape.

An eager `jax.lax.scan` is traced and compiled on every call; cdl's list schemes
run through one cached program instead, so calling a fold again (or its gradient,
or a `vmap` of it) on inputs of the same shapes compiles nothing, and gives what
the same scheme gives under the user's own `jit`.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _compiles import compiles

import cdl

CELL = cdl.GRUCell(3, 4, key=jax.random.key(0))
ALGEBRA = cdl.ListAlgebra(jnp.zeros(4), CELL)


def _scalar_sum(x: Any) -> Any:
    return x[0] + x[1]


def _fib(x: Any) -> Any:
    return x[1][0] + x[1][1]


def _weighted(x: Any) -> Any:
    return x[1][0] * x[1][1] + x[0]


def _total() -> cdl.ListAlgebra:
    return cdl.ListAlgebra(jnp.float32(0.0), _scalar_sum)


SCHEMES: dict[str, tuple[Callable[[], Any], Callable[[int], Any]]] = {
    "cata": (lambda: cdl.cata(ALGEBRA), lambda n: jnp.ones((n, 3))),
    "foldl": (lambda: cdl.foldl(ALGEBRA), lambda n: jnp.ones((n, 3))),
    "upwards": (lambda: cdl.upwards(ALGEBRA), lambda n: jnp.ones((n, 3))),
    "histo": (
        lambda: cdl.histo(jnp.float32(1.0), _fib, depth=2),
        lambda n: jnp.zeros(n),
    ),
    "zygo": (
        lambda: cdl.zygo(_total(), jnp.float32(0.0), _weighted),
        lambda n: jnp.arange(float(n)),
    ),
    "padded": (
        lambda: cdl.cata(_total()),
        lambda n: cdl.PaddedList(jnp.arange(float(n)), jnp.int32(n - 1)),
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_a_second_eager_call_compiles_nothing(name: str) -> None:
    build, data = SCHEMES[name]
    xs, other = data(6), data(6)
    first = build()(xs)
    before = compiles()
    again = build()(other)  # a new scheme object, new arrays, same shapes
    assert compiles() == before
    np.testing.assert_allclose(
        jax.tree.leaves(again)[0], jax.tree.leaves(first)[0], rtol=1e-6
    )
    jitted = jax.jit(lambda s, x: s(x))(build(), xs)
    np.testing.assert_allclose(
        jax.tree.leaves(jitted)[0], jax.tree.leaves(first)[0], rtol=1e-6
    )


def test_a_second_eager_gradient_compiles_nothing_and_matches_jit() -> None:
    def loss(algebra: cdl.ListAlgebra, xs: jax.Array) -> jax.Array:
        return cdl.cata(algebra)(xs).sum()

    xs = jnp.linspace(-1.0, 1.0, 15).reshape(5, 3)
    moved = xs + 1.0
    first = jax.grad(loss)(ALGEBRA, xs)
    before = compiles()
    second = jax.grad(loss)(ALGEBRA, moved)
    assert compiles() == before
    under_jit = jax.jit(jax.grad(loss))(ALGEBRA, xs)
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(under_jit), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(second.cons.w_in, first.cons.w_in)


def test_an_eager_vmap_over_a_batch_agrees_with_each_list() -> None:
    fold = cdl.foldl(ALGEBRA)
    batch = jnp.arange(2 * 4 * 3, dtype=jnp.float32).reshape(2, 4, 3) / 10
    together = jax.vmap(fold)(batch)
    for i in range(2):
        np.testing.assert_allclose(together[i], fold(batch[i]), rtol=1e-5)


def test_a_new_length_compiles_anew_and_still_folds_right() -> None:
    total = cdl.cata(_total())
    assert float(total(jnp.arange(3.0))) == 3.0
    assert float(total(jnp.arange(5.0))) == 10.0


def test_bad_input_is_still_named_eagerly() -> None:
    with pytest.raises(TypeError, match="cata"):
        cdl.cata(ALGEBRA)(jnp.float32(1.0))
