"""How `cdl.cataM` folds host-side data, its monad a `returns` container.

Haskell's ``cataM :: (Traversable f, Monad m) => (f a -> m a) -> Fix f -> m a``
sequences the children's effects, left to right, before the layer's own. Here the
monad is any container of the `returns` package with ``bind`` and ``map``
(`Result`, `Maybe`, `IO`, …): evaluating an expression whose division by zero is
a `Failure`:

>>> import cdl
>>> from returns.result import Failure, Success
>>> ExprF = cdl.polynomial("ExprF", Num="a", Div="x x")
>>> Num, Div = ExprF.patterns
>>> def safe(layer):
...     match layer:
...         case Num(n):
...             return Success(n)
...         case Div(a, b):
...             return Failure("division by zero") if b == 0 else Success(a / b)
>>> cdl.cataM(ExprF, safe)(Div(Num(6.0), Num(3.0)))
<Success: 2.0>
>>> cdl.cataM(ExprF, safe)(Div(Num(1.0), Div(Num(2.0), Num(0.0))))
<Failure: division by zero>
"""

from collections.abc import Callable
from typing import Any

from . import _messages
from ._functor import Functor, Layer
from ._terms import cons_term, is_list_functor


def _sequenced(containers: list[Any]) -> Any:
    """The containers' values as one container of a tuple, effects left to right."""
    first, *rest = containers
    out = first.map(lambda v: (v,))
    for c in rest:
        out = out.bind(lambda vs, c=c: c.map(lambda v, vs=vs: (*vs, v)))
    return out


def _as_term(functor: Functor, data: Any) -> Any:
    """A Python list as a ``Cons`` term of a list functor; anything else as it is."""
    if not (isinstance(data, list) and is_list_functor(functor)):
        return data
    return cons_term(data)


def _contained(functor: Functor, algebra: Any, layer: Layer[Any]) -> Any:
    """`algebra` on `layer`, refused where it returns no container to bind."""
    out = algebra(layer)
    if not (hasattr(out, "bind") and hasattr(out, "map")):
        raise TypeError(
            _messages.not_a_container(functor.name, algebra, layer.constructor, out)
        )
    return out


def fold_monadic(
    functor: Functor, algebra: Callable[[Layer[Any]], Any], data: Any
) -> Any:
    """The monadic fold of `data` by `algebra`, walked iteratively on the host."""
    stack: list[tuple[Any, bool]] = [(_as_term(functor, data), False)]
    done: list[Any] = []
    while stack:
        term, expanded = stack.pop()
        if not isinstance(term, Layer):
            raise TypeError(_messages.not_a_term(functor.name, term))
        n = len(term.children)
        if not expanded:
            functor.check(term)
            stack.append((term, True))
            stack.extend((child, False) for child in reversed(term.children))
            continue
        kids, done[len(done) - n :] = done[len(done) - n :] if n else [], []
        if not kids:
            done.append(
                _contained(functor, algebra, Layer(term.constructor, term.payload, ()))
            )
            continue
        layer = term
        done.append(
            _sequenced(kids).bind(
                lambda values, layer=layer: _contained(
                    functor, algebra, Layer(layer.constructor, layer.payload, values)
                )
            )
        )
    return done[-1]
