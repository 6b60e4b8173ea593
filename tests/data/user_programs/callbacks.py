"""Library functions as values, as optax's tests use them: a jitted loss under
jax.vmap, and jnp.linalg.norm given where a function of pytrees is expected."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def loss(scores, targets):  # type: ignore[no-untyped-def]
    return jnp.sum(scores * targets)


def metrics(fn: Callable[[Any], Any], tree: Any) -> Any:
    return jax.tree.map(fn, tree)


scores = jax.random.uniform(jax.random.key(0), (8, 5))
fast = jax.jit(loss)
per_row = jax.vmap(fast)(scores, scores)
norms = metrics(jnp.linalg.norm, {"w": scores})
column_norms = jnp.linalg.norm(scores, axis=0)
