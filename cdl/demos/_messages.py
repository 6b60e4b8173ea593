"""Every user-facing error text of cdl's demos, in one place."""


def bad_data(batch: object, digits: object) -> str:
    """Text of the error raised for an empty batch of sums, or sizes not whole."""
    return (
        f"addition data needs at least one sum of at least one digit (whole "
        f"numbers), not batch={batch!r}, digits={digits!r}."
    )


def bad_max_digits(max_digits: object) -> str:
    """Text of the error raised for summands allowed no digit (or part of one)."""
    return (
        f"addition data: max_digits must be a whole number >= 1 (the most digits a "
        f"summand uses), not {max_digits!r}."
    )


def bad_run(steps: int, eval_size: int, lengths: tuple[int, ...]) -> str:
    """Text of the error raised for a run with nothing to train or measure."""
    return (
        f"the addition demo needs steps >= 1, eval_size >= 1 and positive lengths, "
        f"not steps={steps}, eval_size={eval_size}, lengths={list(lengths)}."
    )


def bad_seed(seed: object) -> str:
    """Text of the error raised for a seed NumPy cannot take."""
    return f"the addition demo needs a seed that is an int >= 0, not {seed!r}."


def _size(count: int) -> str:
    if count >= 2**30:
        return f"{count / 2**30:.1f} GiB"
    if count >= 2**20:
        return f"{count / 2**20:.0f} MiB"
    return f"{count / 2**10:.0f} KiB"


def too_big(name: str, digits: int, need: int, budget: int) -> str:
    """The line printed for a length a model cannot read in the memory at hand."""
    return (
        f"{name}: {digits} digits skipped: one sum needs about {_size(need)}, more "
        f"than the {_size(budget)} this evaluation may use."
    )


def out_of_memory(name: str, digits: int) -> str:
    """The line printed when the device ran out of memory at one length."""
    return f"{name}: {digits} digits skipped: the device ran out of memory."
