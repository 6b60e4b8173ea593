"""Every text the mypy plugin shows its users, in one place."""

from typing import Final

from mypy.errorcodes import ErrorCode

SHAPE: Final = ErrorCode("shape", "Array shapes do not agree", "cdl")

ANNOTATED_ARGUMENTS: Final = (
    "Annotated[...] must have exactly one type argument and at least one annotation"
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


def op(name: str, why: str) -> str:
    """A jax operation whose operand shapes do not agree."""
    return f"{name}: {why}"
