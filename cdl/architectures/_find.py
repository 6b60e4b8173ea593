"""Finding the layers of one kind inside a composite, in the order they run."""

from typing import Any, TypeVar

import jax

from .._reparam import Reparam
from ..nn._arguments import flag
from . import _messages

_T = TypeVar("_T")


def layers_of(model: Any, kind: type[_T], *, applied: bool = False) -> list[_T]:
    """Every module of class `kind` inside `model`, in the order they are applied.

    It works on a model and on its parameters alike (``cdl.parameters(model)``
    keeps the modules), so it can pick parameters to tie.

    A reparametrised model (`cdl.tie`, `cdl.freeze`, a tied `gpt`) holds its
    layers as parameters, and by default they are found there, as picking
    parameters to tie or freeze needs: a tied place is a hole, None (the
    read-out of a tied GPT has ``weight=None``), and a module whose every
    parameter is tied away holds none, so it may not be found at all. With
    ``applied=True`` the layers are found as the model applies them, rebuilt from
    its parameters (`cdl.Reparam.base`): each tied weight in place, a frozen one
    as its value. Those are copies: read them, do not pick from them.

    **Arguments:** `model`, any pytree of modules; `kind`, the class to find;
    keyword `applied` (False): find the layers as applied, not as parameters.

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

    A tied GPT's read-out, as a parameter and as applied:

    >>> from cdl.architectures import gpt
    >>> model = gpt(11, 8, 1, 2, 6, key=jax.random.key(0))
    >>> print(layers_of(model, cdl.Linear)[-1].weight)
    None
    >>> (table,) = [e.table for e in layers_of(model, cdl.Embedding)]
    >>> layers_of(model, cdl.Linear, applied=True)[-1].weight is table
    True
    """
    if not isinstance(kind, type):
        raise TypeError(_messages.not_a_class(kind))
    found: list[_T] = []
    _collect(model, kind, found, flag("layers_of", "applied", applied))
    return found


def _collect(model: Any, kind: type[_T], found: list[_T], applied: bool) -> None:
    """Append the modules of `kind` in `model`; a `cdl.Reparam`'s by its params.

    A reparametrised model (`cdl.tie`, `EquivariantLinear`) also holds its base
    as a skeleton without arrays; its modules there are not looked at, so each
    layer is found once, where its parameters are (or, `applied`, in its base
    rebuilt from them).
    """
    stop = lambda node: isinstance(node, kind | Reparam)  # noqa: E731
    for node in jax.tree.leaves(model, is_leaf=stop):
        if isinstance(node, kind):
            found.append(node)
        elif isinstance(node, Reparam):
            _collect(node.base() if applied else node.params, kind, found, applied)
