# Shaped signatures of jax.random (cdl): a key array of shape S splits into [n, *S];
# a draw has the shape of its parameters or of `shape` (sizes from cdl's plugin).
from collections.abc import Sequence
from typing import Any, Literal, overload

from typing_extensions import TypeVarTuple, Unpack

from jax._src.basearray import Array, ArrayLike

_S = TypeVarTuple("_S")

@overload
def split(key: Array[Unpack[_S]]) -> Array[Literal[2], Unpack[_S]]: ...
@overload
def split(key: Array[Unpack[_S]], num: int) -> Array[Any, Unpack[_S]]: ...
@overload
def split(key: ArrayLike, num: int | tuple[int, ...] = ...) -> Array: ...
def normal(
    key: ArrayLike, shape: Sequence[int] | int = ..., dtype: Any = ..., *args: Any, **kwargs: Any
) -> Array: ...
def uniform(
    key: ArrayLike,
    shape: Sequence[int] | int = ...,
    dtype: Any = ...,
    minval: ArrayLike = ...,
    maxval: ArrayLike = ...,
    *args: Any,
    **kwargs: Any,
) -> Array: ...
@overload
def bernoulli(
    key: ArrayLike, p: Array[Unpack[_S]], shape: None = None, *args: Any, **kwargs: Any
) -> Array[Unpack[_S]]: ...
@overload
def bernoulli(
    key: ArrayLike, p: float = ..., shape: None = None, *args: Any, **kwargs: Any
) -> Array[()]: ...
@overload
def bernoulli(
    key: ArrayLike, p: ArrayLike = ..., shape: Sequence[int] | None = None, *args: Any, **kwargs: Any
) -> Array: ...
@overload
def categorical(
    key: ArrayLike,
    logits: Array[Unpack[_S], Any],
    axis: Literal[-1] = -1,
    shape: None = None,
    *args: Any,
    **kwargs: Any,
) -> Array[Unpack[_S]]: ...
@overload
def categorical(
    key: ArrayLike,
    logits: ArrayLike,
    axis: int = ...,
    shape: Sequence[int] | None = None,
    *args: Any,
    **kwargs: Any,
) -> Array: ...
