"""Every layer works unchanged under jit, grad, vmap, filter_jit and serialisation."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

K = jax.random.key(0)

CATALOGUE: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "linear": (lambda: cdl.Linear(3, 2, key=K), lambda: jnp.ones(3)),
    "bias": (lambda: cdl.Bias(3, init=0.5), lambda: jnp.ones(3)),
    "embedding": (lambda: cdl.Embedding(5, 2, key=K), lambda: jnp.array(2)),
    "layer_norm": (lambda: cdl.LayerNorm(4), lambda: jnp.arange(4.0)),
    "conv1d": (lambda: cdl.Conv1d(2, 3, 3, key=K), lambda: jnp.ones((2, 7))),
    "conv2d": (lambda: cdl.Conv2d(1, 2, 3, key=K), lambda: jnp.ones((1, 5, 5))),
    "flatten": (lambda: cdl.Flatten(), lambda: jnp.ones((2, 3))),
    "reshape": (lambda: cdl.Reshape(3, -1), lambda: jnp.ones(6)),
    "concat": (lambda: cdl.Concat(), lambda: (jnp.ones(2), jnp.ones(3))),
    "dropout_off": (lambda: cdl.Dropout(0.5, inference=True), lambda: jnp.ones(3)),
    "softmax": (lambda: cdl.Softmax(), lambda: jnp.arange(3.0)),
    "log_softmax": (lambda: cdl.LogSoftmax(), lambda: jnp.arange(3.0)),
    "residual": (
        lambda: cdl.Copy() >> (cdl.Linear(3, 3, key=K) @ cdl.Identity()) >> cdl.Add(),
        lambda: jnp.ones(3),
    ),
    "tensor": (
        lambda: cdl.Linear(2, 2, key=K) @ cdl.Tanh(),
        lambda: (jnp.ones(2), jnp.ones(4)),
    ),
    "tied": (
        lambda: cdl.tie(
            cdl.Linear(3, 2, key=K) >> cdl.Linear(2, 3, key=K),
            lambda m: m.factors[0].weight,
            lambda m: m.factors[1].weight,
            via=jnp.transpose,
        ),
        lambda: jnp.ones(3),
    ),
    "frozen": (lambda: cdl.freeze(cdl.Linear(3, 3, key=K)), lambda: jnp.ones(3)),
}


def total(out: Any) -> jax.Array:
    return sum((jnp.sum(leaf) for leaf in jax.tree.leaves(out)), jnp.float32(0))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_transforms(name: str, tmp_path: Any) -> None:
    make, point = CATALOGUE[name]
    model, x = make(), point()
    expected = model(x)

    jitted = eqx.filter_jit(lambda m, x: m(x))(model, x)
    for a, b in zip(jax.tree.leaves(jitted), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    params, static = eqx.partition(model, eqx.is_array)
    raw = jax.jit(lambda p, x: eqx.combine(p, static)(x))(params, x)
    assert jax.tree.structure(raw) == jax.tree.structure(expected)

    batch = jax.tree.map(lambda a: jnp.stack([a, a]), x)
    batched = jax.vmap(model)(batch)
    for a, b in zip(jax.tree.leaves(batched), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a[1], b, rtol=1e-6)

    if jax.tree.leaves(params):
        grads = eqx.filter_grad(lambda m: total(m(x)))(model)
        assert jax.tree.structure(grads) == jax.tree.structure(params)

    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, model)
    loaded = eqx.tree_deserialise_leaves(path, jax.tree.map(jnp.zeros_like, model))
    for a, b in zip(jax.tree.leaves(loaded), jax.tree.leaves(model), strict=True):
        np.testing.assert_array_equal(a, b)
