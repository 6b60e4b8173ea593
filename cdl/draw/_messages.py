"""Every user-facing error text of `cdl.draw`, in one place."""


def not_a_morphism(given: object) -> str:
    """Text of the error raised when something other than a `cdl.Para` is drawn."""
    name = type(given).__name__
    if hasattr(given, "arena"):  # a game: its players' wiring is the morphism
        lift = f"; draw its arena, `cdl.draw({name.lower()}.arena)`"
    elif callable(given):
        lift = (
            "; make an Equinox module or a JAX function one with `cdl.lift(f, "
            "dom=..., cod=...)`"
        )
    else:
        lift = ""
    return (
        f"cdl.draw draws a cdl.Para morphism (built with >>, @, layers and structure "
        f"maps), but was given {name}{lift}."
    )


def unknown_format(path: object, formats: object) -> str:
    """Text of the error raised for a file suffix no renderer writes."""
    return f"cannot write a diagram to {path}: the suffix must be one of {formats}."


def elided(count: int) -> str:
    """Label of the box that stands for the middle of a long chain."""
    return f"⋯ {count:,} more layers ⋯"


def bad_dom(name: str, expected: object, given: object, why: str) -> str:
    """Text of the error raised when `draw`'s `dom` is not the model's domain."""
    return (
        f"cdl.draw: {name} takes {expected!r}, not the dom= given, {given!r} ({why})."
    )


def bad_dom_kind(given: object, inside: bool) -> str:
    """Text of the error raised when `draw`'s `dom` is neither a space nor an input."""
    where = " inside the tuple given" if inside else ""
    shape = " (a shape is not a space)" if inside and isinstance(given, int) else ""
    return (
        "cdl.draw: dom= takes a cdl space (cdl.space_of(x) of an input x), a "
        "jaxtyping annotation such as Float[Array, '3 32 32'], or an example input, "
        f"but was given {type(given).__name__} {given!r}{where}{shape}."
    )


def box_count(count: int) -> str:
    """``1 box``, ``2 boxes``: how many boxes a diagram has.

    >>> box_count(1), box_count(3)
    ('1 box', '3 boxes')
    """
    return f"{count} box" if count == 1 else f"{count} boxes"
