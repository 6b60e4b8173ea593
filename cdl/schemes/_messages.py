"""Every user-facing error text of `cdl.schemes`, in one place."""

from typing import Final


def carrier_mismatch(algebra: str, nil: object, carrier: object, why: str) -> str:
    """Text of the error raised when an algebra's initial value is not a carrier."""
    return (
        f"{algebra}: the initial value nil lives in {nil!r}, but the cell returns "
        f"the carrier {carrier!r} ({why})."
    )


def cell_not_algebra(algebra: str, cell: str, dom: object, cod: object) -> str:
    """Text of the error raised when a cell's codomain is not in its domain."""
    return (
        f"{algebra}: the cell {cell} maps {dom!r} to {cod!r}, so its output cannot "
        f"be fed back as the carrier of the next step."
    )


def not_a_list(scheme: str, given: object) -> str:
    """Text of the error raised when a list scheme gets something with no length."""
    return (
        f"{scheme} folds a list stored as an array [n, ...] (or a pytree of such, or "
        f"a `cdl.PaddedList`), but was given {given!r}."
    )


def ragged(lengths: object) -> str:
    """Text of the error raised by a batch of lists of different lengths."""
    return (
        f"the lists have different lengths {lengths} and no mask was asked for: "
        f"pass `pad=True` to get a `cdl.PaddedList` whose `length` masks the padding."
    )


def bad_size(what: str, size: int) -> str:
    """Text of the error raised by a maximum size below one."""
    return f"{what} needs a maximum size of at least 1, not {size}."


def unknown_constructor(functor: str, name: str, known: object) -> str:
    """Text of the error raised by a constructor name the functor does not have."""
    return f"{functor} has no constructor {name!r}; its constructors are {known}."


def wrong_arity(functor: str, name: str, expected: int, given: int) -> str:
    """Text of the error raised by a node with the wrong number of children."""
    return (
        f"{functor}.{name} takes {expected} recursive field(s), "
        f"but the node has {given}."
    )


def child_out_of_range(node: int, child: int, size: int) -> str:
    """Text of the error raised by a child index outside the node table."""
    return (
        f"node {node} has child {child}, outside the table of {size} nodes "
        f"(valid indices are 0 to {size - 1})."
    )


def not_topological(node: int, child: int) -> str:
    """Text of the error raised by a child stored at or after its parent."""
    return (
        f"node {node} has child {child} stored at or after it: a node table lists "
        f"children before parents, so this is a cycle or a table out of order "
        f"(build it with `cdl.tree_table`)."
    )


def cycle(node: int) -> str:
    """Text of the error raised when a nested structure contains itself."""
    return f"the structure contains itself (cycle through node {node})."


def too_deep(depth: int, bound: int) -> str:
    """Text of the error raised by a structure deeper than the declared bound."""
    return f"the structure has depth {depth}, more than the declared bound {bound}."


def shared_child(child: int, parents: object) -> str:
    """Text of the error raised by a node with two parents in a tree."""
    return (
        f"node {child} is a child of several nodes {parents}: a tree (or forest) "
        f"gives every node at most one parent."
    )


def wrong_functor(scheme: str, algebra: str, table: str) -> str:
    """Text of the error raised by an algebra of one functor run on another's data."""
    return f"{scheme}: the algebra is one of {algebra}, but the data is a {table}."


def missing_cell(functor: str, missing: object) -> str:
    """Text of the error raised by an algebra without a cell for some constructor."""
    return f"an algebra of {functor} needs one cell per constructor; missing {missing}."


UNKNOWN_STRATEGY: Final = "strategy must be 'auto', 'levels' or 'nodes', not {!r}."
