"""Finding the layers of one kind inside a composite, in the order they run."""

from typing import Any, TypeVar

import jax

from .._reparam import Reparam
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
    >>> source = lambda m: m.factors[0].bias[:1]
    >>> tied = cdl.tie(mlp, source, lambda m: m.factors[2].bias)
    >>> len(layers_of(tied, cdl.Linear))
    2
    """
    if not isinstance(kind, type):
        raise TypeError(_messages.not_a_class(kind))
    found: list[_T] = []
    _collect(model, kind, found)
    return found


def _collect(model: Any, kind: type[_T], found: list[_T]) -> None:
    """Append the modules of `kind` in `model`; a `cdl.Reparam`'s by its params.

    A reparametrised model (`cdl.tie`, `EquivariantLinear`) also holds its base
    as a skeleton without arrays; its modules there are not looked at, so each
    layer is found once, where its parameters are.
    """
    stop = lambda node: isinstance(node, kind | Reparam)  # noqa: E731
    for node in jax.tree.leaves(model, is_leaf=stop):
        if isinstance(node, kind):
            found.append(node)
        elif isinstance(node, Reparam):
            _collect(node.params, kind, found)
