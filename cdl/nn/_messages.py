"""Every user-facing error text of cdl's layers, in one place."""


def bad_int(layer: str, name: str, value: object, what: str) -> str:
    """Text of the error for a size argument that is not a valid int."""
    return f"{layer}: {name} must be {what}, but was given {value!r}."


def bad_rank(layer: str, name: str, value: object, rank: int) -> str:
    """Text of the error for a per-axis argument of the wrong length."""
    return (
        f"{layer}: {name} must be an int or a tuple of {rank} ints, "
        f"but was given {value!r}."
    )


def not_probability(layer: str, name: str, value: object) -> str:
    """Text of the error for a probability outside [0, 1)."""
    return f"{layer}: {name} must be a probability in [0, 1), but was given {value!r}."


def too_large(layer: str, entries: int, limit: int) -> str:
    """Text of the error for a layer with more parameters than memory allows."""
    return (
        f"{layer}: its parameters would hold {entries:,} entries, more than the "
        f"{limit:,} one layer may allocate; check the sizes."
    )


def index_out_of_range(layer: str, index: int, num: int) -> str:
    """Text of the error for an embedding index outside the table."""
    return f"{layer}: index {index} is outside the table's rows 0..{num - 1}."
