# Shaped signatures of jax.nn (cdl): one_hot adds the classes' axis last (its size
# is left to cdl's plugin); the activations keep their input's shape in cdl's plugin.
from typing import Any, overload

from typing_extensions import TypeVarTuple, Unpack

from jax._src.basearray import Array

_S = TypeVarTuple("_S")

@overload
def one_hot(
    x: Array[Unpack[_S]], num_classes: int, *, dtype: Any = ...
) -> Array[Unpack[_S], Any]: ...
@overload
def one_hot(x: Any, num_classes: int, *, dtype: Any = ..., axis: Any = ...) -> Array: ...
