"""Every user-facing error text of `cdl.optics`, in one place."""


def empty_dataset(name: str) -> str:
    """Text of the error raised when a dataset has no examples."""
    return f"fit({name}): the dataset is empty: give at least one example."


def length_mismatch(name: str, inputs: int, labels: int) -> str:
    """Text of the error raised when inputs and labels differ in number."""
    return (
        f"fit({name}): {inputs} inputs but {labels} labels: "
        f"inputs and labels must have the same leading axis."
    )


def bad_batch_size(name: str, batch_size: int, examples: int) -> str:
    """Text of the error raised for a batch size the data cannot fill."""
    return (
        f"fit({name}): batch size {batch_size} does not fit {examples} examples: "
        f"use a batch size between 1 and {examples}."
    )


def not_finite(name: str, which: str, count: int, index: int) -> str:
    """Text of the error raised when inputs or labels hold NaN or infinity."""
    return (
        f"fit({name}): the {which} hold {count} NaN or infinite "
        f"value(s), the first in example {index}: clean the data before training."
    )


def bad_inputs(name: str, expected: object, given: object, why: str) -> str:
    """Text of the error raised when examples are outside the model's domain."""
    return (
        f"fit({name}): each input must lie in {expected!r}, the model's domain, "
        f"but the examples are {given!r} ({why})."
    )


def bad_labels(name: str, labels: object, outputs: object, why: str) -> str:
    """Text of the error raised when the loss cannot compare labels and outputs."""
    return (
        f"fit({name}): the loss cannot take labels {labels} against model outputs "
        f"{outputs}: {why}"
    )


def label_out_of_range(name: str, label: int, index: int, classes: int) -> str:
    """Text of the error raised when a class label names no output of the model."""
    return (
        f"fit({name}): label {label} of example {index} is not a class of the "
        f"model's {classes} outputs: labels must lie in 0..{classes - 1}."
    )


def indivisible_batch(name: str, batch_size: int, devices: int) -> str:
    """Text of the error raised when a batch cannot be split across devices."""
    return (
        f"fit({name}): batch size {batch_size} cannot be split evenly across "
        f"{devices} devices: use a multiple of {devices}."
    )


def checkpoint_mismatch(path: object, why: str) -> str:
    """Text of the error raised when a checkpoint does not fit the learner."""
    return (
        f"checkpoint {path} does not match this learner and model ({why}): "
        f"delete it or point `checkpoint=` at a fresh directory."
    )
