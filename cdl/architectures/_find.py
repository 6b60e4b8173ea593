"""Finding the layers of one kind inside a composite, in the order they run."""

from typing import Any, TypeVar

import jax

from . import _messages

_T = TypeVar("_T")


def layers_of(model: Any, kind: type[_T]) -> list[_T]:
    """Every module of class `kind` inside `model`, in the order they are applied.

    It works on a model and on its parameters alike (``cdl.parameters(model)``
    keeps the modules), so it can pick parameters to tie.

    **Arguments:** `model`, any pytree of modules; `kind`, the class to find.

    **Returns:** the modules found, outermost first, left to right.

    >>> import jax, cdl
    >>> k1, k2 = jax.random.split(jax.random.key(0))
    >>> mlp = cdl.Linear(2, 3, key=k1) >> cdl.Relu() >> cdl.Linear(3, 1, key=k2)
    >>> [layer.label for layer in layers_of(mlp, cdl.Linear)]
    ['Linear(2→3)', 'Linear(3→1)']
    """
    if not isinstance(kind, type):
        raise TypeError(_messages.not_a_class(kind))
    nodes = jax.tree.leaves(model, is_leaf=lambda node: isinstance(node, kind))
    return [node for node in nodes if isinstance(node, kind)]
