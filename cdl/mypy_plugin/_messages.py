"""Every text the mypy plugin shows its users, in one place."""

from typing import Final

from mypy.errorcodes import ErrorCode

SHAPE: Final = ErrorCode("shape", "Array shapes do not agree", "cdl")

ANNOTATED_ARGUMENTS: Final = (
    "Annotated[...] must have exactly one type argument and at least one annotation"
)
CALL_BATCH_HINT: Final = (
    "; it looks like a batch: map the call over it with jax.vmap(...)"
)
BATCH_HINT: Final = (
    "; it looks like a batch: map the morphism over it with jax.vmap(...)"
)


def composition(left: str, out: str, right: str, inp: str) -> str:
    """``f >> g`` where the output of `f` is not the input of `g`."""
    return f"output {out} of {left} != input {inp} of {right}"


def call(label: str, expected: str, given: str) -> str:
    """A morphism applied to an array outside its domain."""
    return f"{label} expects input {expected}, but is given {given}"


def cell_state(label: str, expected: str, given: str) -> str:
    """A recurrent cell given a hidden state of another shape than its own."""
    return f"{label} expects hidden state {expected}, but is given {given}"


def applied(label: str, given: str, why: str) -> str:
    """A composite applied to an input on which one of its stages fails."""
    return f"{label} applied to {given}: {why}"


def fold(label: str, element: str, expected: str, given: str) -> str:
    """A fold of lists applied to a list of other elements (or to no list)."""
    return f"{label} folds lists of {element} (arrays {expected}), but is given {given}"


def nil_outside_carrier(algebra: str, carrier: str, nil: str) -> str:
    """``ListAlgebra(nil, cons)`` where `nil` is not in the carrier of `cons`."""
    return f"{algebra} expects nil in the carrier {carrier}, but is given {nil}"


def cell_not_algebra(algebra: str, out: str, carrier: str) -> str:
    """A list cell ``E × X → A`` whose output `A` is not its carrier `X`."""
    return (
        f"{algebra}: output {out} of the cell != its carrier input {carrier}, so it "
        "cannot be fed back"
    )


def cells_disagree(
    functor: str, first: tuple[str, str], second: tuple[str, str]
) -> str:
    """``Algebra(F, **cells)`` whose cells return different carriers."""
    return (
        f"Algebra({functor}): carrier {second[1]} of {second[0]} != carrier "
        f"{first[1]} of {first[0]}; the cells of an algebra share one carrier"
    )


def op(name: str, why: str) -> str:
    """A jax operation whose operand shapes do not agree."""
    return f"{name}: {why}"


def loop_takes(loop: str, takes: str, carry: str) -> str:
    """A loop whose body takes a carry of another shape than the initial value."""
    return f"{loop}: the body takes a carry {takes}, but the initial value is {carry}"


def loop_gives(loop: str, gives: str, carry: str) -> str:
    """A loop whose body returns a carry of another shape than the one it is given."""
    return (
        f"{loop}: the body returns {gives}, but the carry is {carry} "
        "(the initial value's shape)"
    )


def dimension_conflict(
    callee: str, name: str, first: str, where: int, second: str, position: int
) -> str:
    """A call whose arguments give one named dimension two sizes."""
    return (
        f"{callee}: dimension {name} is {first} in argument {where} but {second} in "
        f"argument {position}"
    )


def instance_conflict(
    callee: str, name: str, first: str, owner: str, second: str, position: int
) -> str:
    """A method given an argument of another size than its instance's fields have.

    >>> instance_conflict("m", "i", "8", "MLP", "7", 1)
    'm: dimension i is 8 in the fields of this MLP but 7 in argument 1'
    """
    return (
        f"{callee}: dimension {name} is {first} in the fields of this {owner} but "
        f"{second} in argument {position}"
    )


def instance_run_conflict(
    callee: str, name: str, first: str, owner: str, second: str, position: int
) -> str:
    """A method given an argument of another run (``*b``) than its instance has."""
    return (
        f"{callee}: dimensions *{name} are {first} in the fields of this {owner} "
        f"but {second} in argument {position}"
    )


def run_conflict(
    callee: str, name: str, first: str, where: int, second: str, position: int
) -> str:
    """A call whose arguments give one variadic run (``*b``) two shapes."""
    return (
        f"{callee}: dimensions *{name} are {first} in argument {where} but {second} "
        f"in argument {position}"
    )


def reshape_per(shape: str, entries: int, kept: list[str], target: str) -> str:
    """A reshape that keeps sizes in place (``x.shape[0]``) but not the rest's count.

    Sizes kept with a variadic run (``*x.shape[:-1]``) are written as the indices
    they count: ``for each [*b,t]``.
    """
    each = (
        "[" + ",".join(kept) + "]"
        if any(k.startswith("*") for k in kept)
        else "*".join(kept)
    )
    return f"cannot reshape {shape} ({entries} entries for each {each}) to {target}"


def reshape_reorders(shape: str, target: str, moved: str, past: str) -> str:
    """A reshape to the same named sizes in another order: a transpose it is not.

    A reshape keeps the entries in memory order; only a transpose (or
    ``jnp.moveaxis``/``swapaxes``, or einsum) moves an axis.
    """
    return (
        f"{shape} to {target} moves axis {moved} past {past}, but a reshape keeps "
        "the entries in their order: transpose first (jnp.moveaxis, swapaxes)"
    )


def split_unequal(size: int, parts: int, axis: int) -> str:
    """``jnp.split`` into equal parts of an axis that they do not divide."""
    return f"axis {axis} of {size} entries does not split into {parts} equal parts"


def indices_rank(indices: str, array: str) -> str:
    """``jnp.take_along_axis`` given indices of another rank than the array's."""
    return f"indices {indices} must have as many axes as the array {array}"


def slice_rank(sizes: str, array: str) -> str:
    """``lax.dynamic_slice`` given as many sizes as the array has not axes."""
    return f"slice sizes {sizes} for the array {array} of another rank"


def slice_too_long(size: int, axis: int, array: str) -> str:
    """A dynamic slice longer than the axis it is taken from."""
    return f"a slice of {size} entries is longer than axis {axis} of {array}"


def update_rank(update: str, array: str) -> str:
    """``lax.dynamic_update_slice`` of an update of another rank than the array."""
    return f"update {update} must have as many axes as the array {array}"


def call_rank(
    callee: str, position: int, expected: str, given: str, *, batch: bool = False
) -> str:
    """A call whose argument has another rank than the parameter declares.

    `batch`: the argument is a batch of what the parameter declares.

    >>> call_rank("f", 1, "f32[d]", "f32[b,d]", batch=True)[:52]
    'f: argument 1 must be f32[d], but is given f32[b,d];'
    """
    hint = CALL_BATCH_HINT if batch else ""
    return (
        f"{callee}: argument {position} must be {expected}, but is given {given}{hint}"
    )


def arithmetic_conflict(callee: str, expr: str, value: int, given: int) -> str:
    """A call whose arguments make a dimension's arithmetic another size."""
    return f"{callee}: dimension {expr} is {value}, but is given {given}"


def arithmetic_impossible(callee: str, expr: str, given: int) -> str:
    """A call whose argument is a size that a dimension's arithmetic cannot be."""
    return f"{callee}: dimension {expr} cannot be {given}"


def redeclared(name: str, declared: str, given: str) -> str:
    """An annotated variable assigned an array of another shape than it declares."""
    return f"{name} is declared {declared}, but is assigned {given}"


def not_square(matrix: str) -> str:
    """``jnp.linalg.solve(a, b)`` of a matrix `a` that is not square."""
    return f"{matrix} is not a square matrix"


def solve_for(matrix: str, rhs: str, why: str) -> str:
    """``jnp.linalg.solve(a, b)`` where `b` has another number of rows than `a`."""
    return f"{matrix} does not solve for {rhs}: {why}"


def update_slot(value: str, slot: str, *, more_axes: bool) -> str:
    """``x.at[i].set(v)`` of a `v` that does not broadcast to the slot ``x[i]``."""
    extra = " (it has more axes)" if more_axes else ""
    return f"value {value} does not fit the slot {slot} it updates{extra}"


def incompatible_assignment(expression: str, variable: str) -> str:
    """Mypy's own text for an assignment it refuses (types already quoted)."""
    return (
        f"Incompatible types in assignment (expression has type {expression}, "
        f"variable has type {variable})"
    )
