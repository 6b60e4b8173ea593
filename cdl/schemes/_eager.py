"""List schemes called outside `jax.jit` run as one cached compiled program.

A `jax.lax.scan` called eagerly is traced and compiled anew on every call: its
body is a new function each time, so JAX's caches never hit, and a fold of a
short list pays a compile (about 0.2 s on a CPU) per call, its gradient two.
`compiled` routes a scheme's ``__call__`` through one `equinox.filter_jit`, keyed
by the scheme's structure and its arguments' shapes, as the tree folds' are:
called again with inputs of the same shapes, it reuses the program. Under the
user's own `jax.jit`, `jax.grad` or `jax.vmap` the inner `jit` is part of the
outer trace, as any nested `jit` is. A check the program fails
(`equinox.error_if`) can only say that it failed; called on concrete values, the
scheme then runs once more uncompiled, where its checks see the values and name
the one at fault.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import equinox as eqx
import jax

_Method = TypeVar("_Method", bound=Callable[..., Any])


def compiled(method: _Method) -> _Method:
    """`method` (a scheme's ``__call__``) run through one cached `filter_jit`.

    >>> import jax.numpy as jnp, cdl
    >>> total = cdl.cata(cdl.ListAlgebra(jnp.float32(0.0), lambda x: x[0] + x[1]))
    >>> total(jnp.arange(4.0)), total(jnp.ones(4))  # one compile for both
    (Array(6., dtype=float32), Array(4., dtype=float32))
    """

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return _run(method, self, args, kwargs)
        except eqx.EquinoxRuntimeError:
            if any(map(_is_tracer, jax.tree.leaves((self, args, kwargs)))):
                raise
            return method(self, *args, **kwargs)

    return cast(_Method, call)


@eqx.filter_jit
def _run(method: Callable[..., Any], self: Any, args: Any, kwargs: Any) -> Any:
    return method(self, *args, **kwargs)


def _is_tracer(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)
