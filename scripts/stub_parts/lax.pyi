# Shaped signatures of jax.lax control flow (cdl): a loop's result has its carry's
# shape, a conditional's the shape its first branch returns. Carries that are not
# one shaped array (tuples, Python scalars, pytrees) give Any, as jax's own
# annotations do. The callbacks' types are the same in every overload, so that an
# Any in a lambda's parameters does not make mypy give up on the overloads, but for
# the bodies of fori_loop and while_loop, which are given the carry's type so that a
# lambda's result has a shape; cdl's plugin gives these loops' results and checks
# the bodies either way.
from collections.abc import Callable, Sequence
from typing import Any, overload

from typing_extensions import TypeVarTuple, Unpack

from jax._src.basearray import Array

_S = TypeVarTuple("_S")

@overload
def fori_loop(
    lower: Any,
    upper: Any,
    body_fun: Callable[[Any, Array[Unpack[_S]]], Any],
    init_val: Array[Unpack[_S]],
    *,
    unroll: int | bool | None = None,
) -> Array[Unpack[_S]]: ...
@overload
def fori_loop(
    lower: Any, upper: Any, body_fun: Callable[..., Any], init_val: Any, *, unroll: int | bool | None = None
) -> Any: ...
@overload
def while_loop(
    cond_fun: Callable[..., Any],
    body_fun: Callable[[Array[Unpack[_S]]], Any],
    init_val: Array[Unpack[_S]],
) -> Array[Unpack[_S]]: ...
@overload
def while_loop(cond_fun: Callable[..., Any], body_fun: Callable[..., Any], init_val: Any) -> Any: ...
@overload
def cond(
    pred: Any,
    true_fun: Callable[..., Array[Unpack[_S]]],
    false_fun: Callable[..., Any],
    *operands: Any,
    **kwargs: Any,
) -> Array[Unpack[_S]]: ...
@overload
def cond(pred: Any, true_fun: Callable[..., Any], false_fun: Callable[..., Any], *operands: Any, **kwargs: Any) -> Any: ...
@overload
def switch(
    index: Any, branches: Sequence[Callable[..., Array[Unpack[_S]]]], *operands: Any, **kwargs: Any
) -> Array[Unpack[_S]]: ...
@overload
def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any, **kwargs: Any) -> Any: ...
