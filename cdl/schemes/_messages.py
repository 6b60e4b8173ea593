"""Every user-facing error text of `cdl.schemes`, in one place."""

import inspect
from collections.abc import Sequence
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


def reverse_of_forward(algebra: str) -> str:
    """Text of the error raised for the reverse derivative of a tree fold's jvp."""
    return (
        f"{algebra}: a tree fold's forward-mode derivative (jax.jvp, jax.jacfwd) "
        f"cannot itself be differentiated in reverse mode (jax.grad, jax.jacrev of "
        f"it): the level engine's loop has no transpose. Take the forward derivative "
        f"of the reverse one instead: jax.hessian(f), jax.jacfwd(jax.jacrev(f)) or "
        f"jax.jvp of jax.grad(f)."
    )


def reverse_of_reverse(algebra: str) -> str:
    """Text of the error raised for a second reverse derivative of a tree fold."""
    return (
        f"{algebra}: a tree fold's reverse-mode derivative is a sweep over the "
        f"levels that cannot itself be differentiated in reverse mode (jax.grad of "
        f"jax.grad, jax.jacrev of jax.jacrev). For second derivatives take the "
        f"forward derivative of the reverse one: jax.hessian(f), "
        f"jax.jacfwd(jax.jacrev(f)) or jax.jvp of jax.grad(f)."
    )


def stop_not_bool(coalgebra: str, given: object) -> str:
    """Text of the error raised for a stop condition that returns no single bool."""
    return (
        f"the stop condition of {coalgebra} returns {given!r}, but it answers "
        f"whether to stop at a seed with one bool (bool[]): write it as a "
        f"comparison, e.g. `lambda n: n <= 0`."
    )


def slot_read(index: int) -> str:
    """Text of the error raised when a natural transformation reads a child."""
    return (
        f"a natural transformation computed with child {index} of its layer: it "
        f"may change the payload and the constructor, and move, drop or repeat the "
        f"children, but not look into them (they are results of other layers, not "
        f"values here). Compute with children in an algebra instead (cata, para)."
    )


def list_of_tables(scheme: str, functor: str, count: int, kind: str = "list") -> str:
    """Text of the error raised when a fold is given a Python list of node tables.

    A tuple (`kind`) is read as nested pairs, a term of `cdl.TreeF`:

    >>> print(list_of_tables("cata(f)", "TreeF", 2, "tuple"))
    cata(f) was given a tuple of 2 values holding a NodeTable, but a tuple is read \
as a term of TreeF (nested pairs): fold each table on its own, or build one table \
of the whole forest with cdl.tree_table(TreeF, terms, forest=True).
    """
    read = "a forest of {f} terms" if kind == "list" else "a term of {f} (nested pairs)"
    return (
        f"{scheme} was given a {kind} of {count} values holding a NodeTable, but a "
        f"{kind} is read as {read.format(f=functor)}: fold each table on its own, "
        f"or build one table of the whole forest with "
        f"cdl.tree_table({functor}, terms, forest=True)."
    )


def not_a_sequence(machine: str, given: object) -> str:
    """Text of the error raised when a machine gets something that is no sequence."""
    return (
        f"{machine} runs over a sequence of inputs stored as an array [n, ...] (or a "
        f"pytree of arrays of one length n, or a Python list, or a `cdl.PaddedList`), "
        f"but was given {given!r}."
    )


def not_a_list(scheme: str, given: object) -> str:
    """Text of the error raised when a list scheme gets something with no length."""
    return (
        f"{scheme} folds a list stored as an array [n, ...] (or a pytree of such, or "
        f"a `cdl.PaddedList`), but was given {given!r}."
    )


def not_a_cons_term(scheme: str, constructor: str) -> str:
    """Text of the error raised for a list term of other constructors than Cons, Nil."""
    return (
        f"{scheme} folds a list term built of Cons and ending in Nil, but met a "
        f"{constructor!r} layer."
    )


def stochastic_tree_cell(algebra: str, names: list[str]) -> str:
    """Text of the error raised by a tree fold of an algebra with a stochastic cell."""
    return (
        f"{algebra}: the cells of {', '.join(names)} draw random numbers (dropout), "
        f"but a tree fold gives its cells no keys: apply dropout before or after the "
        f"fold, or switch it off with `cdl.inference_mode` (list folds do give each "
        f"step a key)."
    )


def batched_lists(scheme: str, batch: tuple[int, ...]) -> str:
    """Text of the error raised when a list fold is given a batch of lists."""
    return (
        f"{scheme} folds one list, but was given a batch of lists (a PaddedList "
        f"whose length has the batch shape {batch}, as `cdl.batch_lists` builds): "
        f"fold each with `jax.vmap(fold)(batch)`."
    )


def empty_python_list(scheme: str) -> str:
    """Text of the error raised for an empty Python list given to a list fold."""
    return (
        f"{scheme}: an empty Python list has no element shape; give an array "
        f"[0, ...] of the elements' shape."
    )


def list_elements_differ(scheme: str, index: int, given: object, first: object) -> str:
    """Text of the error raised for a Python list of elements of different shapes."""
    return (
        f"{scheme}: element {index} of the Python list is {given}, element 0 "
        f"{first}; a list's elements share one shape (a batch of lists of different "
        f"lengths is `cdl.batch_lists(lists, pad=True)`)."
    )


def ragged(lengths: object) -> str:
    """Text of the error raised by a batch of lists of different lengths."""
    return (
        f"the lists have different lengths {lengths} and no mask was asked for: "
        f"pass `pad=True` to get a `cdl.PaddedList` whose `length` masks the padding."
    )


def histo_needs_depth(algebra: str) -> str:
    """Text of the error raised by a tree `histo` given no depth."""
    return (
        f"histo({algebra}) needs its depth: how many generations below a node its "
        f"cells see, as histo(algebra, depth) (1 sees the children alone, as cata)."
    )


def mutu_nils(given: object) -> str:
    """Text of the error raised by a list `mutu` whose initial values are no pair."""
    return (
        f"mutu(nils, first, second) on lists takes `nils` as a pair, the two folds' "
        f"results on the empty list (e.g. (0.0, 1.0)), not {given!r}."
    )


def bad_size(what: str, size: object, least: int = 1) -> str:
    """Text of the error raised by a maximum size below one (or not a whole number)."""
    return f"{what} needs a maximum size of at least {least}, not {size!r}."


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


def not_a_table(scheme: str, given: object) -> str:
    """Text of the error raised when a tree scheme gets something not a table."""
    return (
        f"{scheme} folds a `cdl.NodeTable` (built by `cdl.tree_table`), but was "
        f"given {type(given).__name__}."
    )


def list_for_a_table(scheme: str, functor: str) -> str:
    """Text of the error raised by an array given to a tree scheme of a list functor."""
    return (
        f"{scheme} folds terms and node tables of {functor}, not arrays: only "
        f"`cata` of an algebra of {functor} folds an array as a list. Pass a Cons "
        f"term or a Python list, or use the list form of the scheme on arrays "
        f"(`cdl.para(nil, cons)`, `cdl.histo(nil, cons, depth)`, ...), whose cell "
        f"gets `(x, ...)`."
    )


def not_an_algebra(scheme: str, given: object) -> str:
    """Text of the error raised when a tree scheme is given something else."""
    text = f"{scheme} over node tables needs a cdl.Algebra, not {type(given).__name__}."
    if inspect.isfunction(given):
        text += (
            " A function of layers is an algebra once given its functor: "
            f"`{scheme}(cdl.Algebra(functor, fn))` (on lists, "
            f"`cdl.ListAlgebra(nil, cons)`)."
        )
    return text


def no_constructors(name: str) -> str:
    """Text of the error raised by a polynomial functor with no constructor."""
    return (
        f"the functor {name} has no constructors: give each as a keyword, e.g. "
        f'cdl.polynomial("{name}", Leaf="a", Node="x x").'
    )


def not_any_algebra(scheme: str, given: object) -> str:
    """Text of the error raised when a scheme of lists or tables gets no algebra."""
    return (
        f"{scheme} needs a cdl.Algebra (for node tables) or a cdl.ListAlgebra (for "
        f"lists), not {type(given).__name__}."
    )


def algebras_disagree(scheme: str, first: str, second: str) -> str:
    """Text of the error raised by two algebras of different functors combined."""
    return f"{scheme} needs two algebras of one functor, not of {first} and {second}."


def missing_cell(functor: str, missing: object) -> str:
    """Text of the error raised by an algebra without a cell for some constructor."""
    return f"an algebra of {functor} needs one cell per constructor; missing {missing}."


UNKNOWN_STRATEGY: Final = "strategy must be 'auto', 'levels' or 'nodes', not {!r}."


def bad_step(functor: str, given: object) -> str:
    """Text of the error raised by a coalgebra step with the wrong output."""
    return (
        f"a coalgebra step of {functor} returns (tag, payloads, seeds) or (tag, "
        f"payloads, seeds, count), not {type(given).__name__}."
    )


def bad_futu_step(functor: str, given: object) -> str:
    """Text of the error raised by a futu step with the wrong output."""
    return (
        f"a futu step of {functor} returns (top, below, ahead): a layer, the "
        f"children's layers stacked, and which of them to use; not "
        f"{type(given).__name__}."
    )


def bad_payloads(functor: str, given: object) -> str:
    """Text of the error raised by a step whose payloads are not a dict."""
    return (
        f"a coalgebra step of {functor} gives its payloads as a dict from "
        f"constructor names to values, not {type(given).__name__}."
    )


def missing_payloads(functor: str, missing: object) -> str:
    """Text of the error raised by a step without a payload some constructor needs."""
    return (
        f"a coalgebra step of {functor} gives one payload per constructor that "
        f"has one (any value of the right shape for those not chosen); missing "
        f"{missing}."
    )


def negative_natural(functor: str, n: int) -> str:
    """Text of the error raised when a negative int is folded as a natural number."""
    return f"{n} is no natural number of {functor}: a fold of it takes an int >= 0."


def not_natural(scheme: str, functor: str, given: object) -> str:
    """Text of the error raised when a fold of naturals is given a float or bool.

    An array is named by its dtype (its class, ``ArrayImpl``, is JAX's own):

    >>> import jax.numpy as jnp
    >>> not_natural("cata(f)", "NatF", jnp.float32(3.0)).split(", not ")[1]
    'a 0-d float32 array (3.0); convert it with int() if it is whole.'
    """
    dtype = getattr(given, "dtype", None)
    if dtype is not None:
        shown = f"a 0-d {dtype} array ({given})"
    else:
        shown = f"{type(given).__name__} {given!r}"
    return (
        f"{scheme} folds natural numbers of {functor}: an int >= 0 (a Python or "
        f"NumPy int, or a 0-d int array), a term or a NodeTable, not "
        f"{shown}; convert it with int() if it is whole."
    )


def traced_natural(scheme: str, functor: str) -> str:
    """Text of the error raised when a traced int is folded as a natural number."""
    return (
        f"{scheme} folds a natural number of {functor} given as an int outside "
        f"`jax.jit` (its value is the depth of the structure); it was given a traced "
        f"one: build the table first (`cdl.NodeTable.from_arrays`) and pass that."
    )


def python_branch_in_step(label: str) -> str:
    """Text of the error raised when an unfold's step branches in Python on a seed."""
    return (
        f"the step of {label} branches in Python (`if`, `and`, `bool`) on its seed, "
        f"but it runs on traced seeds (a scan, or a whole level at once): compute "
        f"both branches and choose with `jnp.where` (a tree step's tag: "
        f"`jnp.where(n == 0, 0, 1)`)."
    )


def list_step_not_a_pair(label: str, given: object) -> str:
    """Text of the error raised by a list coalgebra's step not returning a pair."""
    return f"the step of {label} returns (element, next seed), but it returned {given}."


def machine_not_a_pair(label: str, given: object) -> str:
    """Text of the error raised by a machine's cell not returning a pair."""
    return f"the cell of {label} returns (output, next state), but it returned {given}."


def not_a_list_to_batch(index: int, given: object) -> str:
    """Text of the error raised by batch_lists given something not a list."""
    return (
        f"batch_lists takes lists (Python sequences or arrays, one row per "
        f"element), but item {index} is a {type(given).__name__}: for one list, "
        f"pass [xs]."
    )


def seed_changes(label: str, seed: object, nxt: object) -> str:
    """Text of the error raised by a list step whose next seed is unlike its seed."""
    return (
        f"the step of {label} turns the seed {seed} into {nxt}: a seed keeps its "
        f"structure, shape and dtype from step to step (for an int seed, `n // 2` "
        f"rather than `n / 2`; or start from a float seed)."
    )


def python_branch_in_natural(functor: str, constructor: str) -> str:
    """Text of the error raised by a natural transformation's Python branch."""
    return (
        f"a natural transformation of {functor} branches in Python (`if`, `and`, "
        f"`or`, `bool`) on a traced payload of a {constructor} layer, but it runs on "
        f"every node at once: choose between layers with "
        f"`cdl.choose(pred, layer, layer)`."
    )


def python_branch_in_cell(label: str) -> str:
    """Text of the error raised when a fold's cell branches in Python on its input."""
    return (
        f"the cell {label} branches in Python (`if`, `and`, `or`, `bool`) on a "
        f"traced value, but cells run traced (on a whole level of nodes at once, or "
        f"as a scan's step): compute both branches and choose with `jnp.where` "
        f"(`jnp.where(a > b, a, b)`; between layers, `cdl.choose`)."
    )


def cell_returns_term(label: str, constructor: str) -> str:
    """Text of the error raised by a matching algebra's case returning a layer."""
    return (
        f"the cell {label} returns a {constructor} layer, but a fold's cells return "
        f"arrays (its carrier), not terms. To build a term (a simplifier), fold on "
        f"the host with `cdl.cataM` and a `returns` container (`Some(term)`); to "
        f"rewrite each layer without looking into its children, `cdl.hoist`."
    )


def cell_not_numbers(label: str, leaf: object) -> str:
    """Text of the error raised by a cell returning something other than numbers."""
    shown = repr(leaf) if len(repr(leaf)) <= 40 else repr(leaf)[:37] + "..."
    return (
        f"the cell {label} returned a {type(leaf).__name__} ({shown}), but a cell's "
        f"result is numbers or arrays (or a pytree of them): cells run traced, "
        f"under JAX. To fold a term into Python values such as strings, fold it on "
        f"the host with `cdl.cataM` and a `returns` container (`Some(...)`)."
    )


def bad_seeds(functor: str, k: int, seed: object, given: object) -> str:
    """Text of the error raised by child seeds of the wrong shape."""
    return (
        f"a coalgebra step of {functor} stacks its children's seeds along a first "
        f"axis of length {k} (the largest arity), each shaped like the seed "
        f"{seed}; it gave {given}."
    )


def tag_out_of_range(functor: str, names: tuple[str, ...]) -> str:
    """Text of the run-time error raised by a constructor tag out of range."""
    return (
        f"a coalgebra step of {functor} returned a constructor tag outside "
        f"0..{len(names) - 1} (its constructors are {names})."
    )


def count_out_of_range(functor: str, arities: dict[str, int]) -> str:
    """Text of the run-time error raised by a count of children out of range."""
    most = ", ".join(f"{name}: 0..{arity}" for name, arity in arities.items())
    return (
        f"a coalgebra step of {functor} returned a count of children outside what "
        f"its constructor holds ({most}): count only the seeds that are "
        "children, none past the constructor's arity."
    )


def cut_off(deep: bool, depth: int, width: int) -> str:
    """Text of the error raised when converting a cut-off unfold."""
    why = f"deeper than {depth} levels" if deep else f"wider than {width} nodes"
    return (
        f"the unfold was cut off (the structure is {why}): raise max_depth or "
        f"max_width."
    )


def cut_off_fold(functor: str, depth: int, width: int) -> str:
    """Text of the run-time error raised when folding a cut-off unfold."""
    return (
        f"the {functor} structure was cut off by max_depth={depth} or "
        f"max_width={width}, so its fold would miss branches: raise the bounds."
    )


def batched_unfold(batch: object) -> str:
    """Text of the error raised when converting a batch of unfolds at once."""
    return (
        f"this holds a batch {batch} of structures; convert one at a time "
        f"(`jax.tree.map(lambda x: x[i], tree)`)."
    )


def cell_off_carrier(functor: str, cell: str, given: object, carrier: object) -> str:
    """Text of the error raised for a tree cell returning something but the carrier."""
    return (
        f"an algebra of {functor}: the cell of {cell} returns {given}, but the "
        f"carrier is {carrier}; every cell must return the carrier."
    )


def carrier_differs_at(path: str, given: object, carrier: object) -> str:
    """Text naming where a cell's result first differs from the carrier."""
    return f" At {path} it returns {given} where the carrier has {carrier}."


def payload_cycle(functor: str, constructor: str, index: int) -> str:
    """Text of the error raised for a payload that contains itself."""
    return (
        f"{functor}.{constructor}'s payload {index} contains itself (a list or dict "
        f"holding itself, directly or deeper): a payload is a number, an array, or a "
        f"finite pytree of them."
    )


def payload_structure(
    functor: str, constructor: str, index: int, given: str, first: str
) -> str:
    """Text of the error raised for payloads of different pytree structures."""
    return (
        f"{functor}.{constructor}'s payload {index} is a {given}, where payload 0 "
        f"is a {first}."
    )


def payload_shape(
    functor: str, constructor: str, index: int, given: tuple[int, ...],
    first: tuple[int, ...],
) -> str:  # fmt: skip
    """Text of the error raised for payloads whose arrays differ in shape."""
    return (
        f"{functor}.{constructor}'s payload {index} has a leaf of shape {given}, "
        f"where payload 0's is {first}."
    )


def payload_not_numeric(functor: str, constructor: str, index: int, kind: str) -> str:
    """Text of the error raised for a payload that is no number or array."""
    return (
        f"{functor}.{constructor}'s payload {index} holds a {kind}; payloads are "
        f"numbers, arrays, or pytrees of them."
    )


def payload_rows_not_numeric(functor: str, constructor: str, dtype: object) -> str:
    """Text of the error raised for payload rows given as an array of no numbers."""
    return (
        f"{functor}.{constructor}'s payload rows are an array of {dtype} values; "
        f"payloads are numbers, arrays, or pytrees of them."
    )


def no_carrier(functor: str, tried: bool = False) -> str:
    """Text of the error raised when an algebra's carrier cannot be inferred.

    `tried`: a variadic constructor's cell was tried on its payload's shapes.
    """
    why = (
        ", and its cell keeps no carrier of its payload's shapes (or of what it "
        "returns on them)"
        if tried
        else ""
    )
    return (
        f"an algebra of {functor} has no nullary constructor to read its carrier "
        f"from{why}: pass `carrier=` an example value."
    )


def list_needs_size(scheme: str) -> str:
    """Text of the error raised by a list scheme called without its bounds."""
    return (
        f"{scheme} of a `cdl.ListCoalgebra` takes the arguments of the list version "
        f"(a maximum size); a `cdl.Coalgebra` takes max_depth= and max_width=."
    )


def tree_needs_sizes(scheme: str) -> str:
    """Text of the error raised by a general unfold without its bounds."""
    return (
        f"{scheme} of a `cdl.Coalgebra` needs max_depth= and max_width=, the "
        f"static bounds of the levels it grows."
    )


def mixed_hylo(algebra: object, coalgebra: object) -> str:
    """Text of the error raised by a hylo of a list algebra and a general coalgebra."""
    return (
        f"hylo pairs a `cdl.Algebra` with a `cdl.Coalgebra` (or a `ListAlgebra` "
        f"with a `ListCoalgebra`), not {type(algebra).__name__} with "
        f"{type(coalgebra).__name__}."
    )


def apo_needs_source(given: object) -> str:
    """Text of the error raised by a general apo without a source structure."""
    return (
        f"apo of a `cdl.Coalgebra` copies finished subtrees from a source "
        f"`cdl.Unfolded`, given after `tail`; not {type(given).__name__}."
    )


def widths_per_level(scheme: str, depth: int, given: int) -> str:
    """Text of the error raised by a list of level widths of the wrong length."""
    return (
        f"{scheme} takes max_width as one int, or one width per level: {depth} "
        f"for max_depth={depth}, not {given}."
    )


def per_node_rows(size: int, given: object) -> str:
    """Text of the error raised by per-node values of the wrong length."""
    return f"the table has {size} nodes, but {given} per-node value(s) were given."


def not_integers(what: str, dtype: object) -> str:
    """Text of the error raised by node indices that are not integers."""
    return f"a node table's {what} are integer indices, not {dtype} values."


def bad_tag(node: int, tag: int, functor: str, names: object) -> str:
    """Text of the error raised by a constructor tag the functor does not have."""
    last = len(names) - 1 if isinstance(names, tuple) else "?"
    return f"node {node} has tag {tag}, but {functor} has constructors 0 to {last}."


def root_out_of_range(root: int, size: int) -> str:
    """Text of the error raised by a root outside the node table."""
    return (
        f"root {root} is outside the table of {size} nodes "
        f"(valid indices are 0 to {size - 1})."
    )


def bad_buckets(given: object) -> str:
    """Text of the error raised by capacities that are not buckets."""
    return (
        f"buckets are 'auto', 'doubling', 'quarters', None (exact sizes) or "
        f"increasing "
        f"positive "
        f"capacities, not {given!r}."
    )


def not_a_functor(what: str, given: object) -> str:
    """Text of the error raised when a functor is expected."""
    return f"{what} needs a Functor, not {given!r}."


def missing_payload(functor: str, name: str) -> str:
    """Text of the error raised when a constructor's payloads are missing."""
    return (
        f"the nodes of {functor}.{name} carry a payload, but none was given for them."
    )


def unknown_payload(functor: str, key: object, carrying: object) -> str:
    """Text of the error raised by payloads for no constructor that carries one."""
    return (
        f"payloads were given for {key!r}, but the constructors of {functor} that "
        f"carry a payload are {carrying}."
    )


def empty_table() -> str:
    """Text of the error raised by a node table without nodes."""
    return "a node table needs at least one node; no tags were given."


def ragged_children(lengths: object) -> str:
    """Text of the error raised by rows of children of different lengths."""
    return (
        "a node table's children are one row of indices per node, all of one "
        f"length (-1 where a node has fewer), but the rows have lengths {lengths}."
    )


def child_gap(node: int, row: object) -> str:
    """Text of the error raised by a -1 before a child in a node's row."""
    return (
        f"node {node} has children {row}: a node's children come first in its "
        f"row and -1s fill the rest, not a gap before a child."
    )


def payload_rows(functor: str, name: str, count: int, shape: tuple[int, ...]) -> str:
    """Text of the error raised by a wrong number of payload rows."""
    if not shape:
        return (
            f"{functor}.{name} has {count} node(s), but its payloads are one number "
            f"(shape ()): give an array with one row per node."
        )
    return f"{functor}.{name} has {count} node(s) but {shape[0]} payload row(s)."


def payload_none(functor: str, name: str) -> str:
    """Text of the error raised by a term's node whose payload is None."""
    return (
        f"{functor}.{name} carries a payload, but a node of it holds None (a child "
        f"given as None?): give every {name} node its payload."
    )


def payload_not_carried(functor: str, name: str, payload: object) -> str:
    """Text of the error raised by a term's payload on a constructor without one."""
    shown = repr(payload) if len(repr(payload)) <= 40 else repr(payload)[:37] + "..."
    return (
        f"{functor}.{name} carries no payload, but a node of it was given one "
        f"({shown}): leave it None, or declare the constructor with a payload "
        f'(`a` in `cdl.polynomial`, e.g. {name}="a x x").'
    )


EMPTY_BRACKETS: Final = "no tree in the bracketed text: it is empty."


def unopened(at: int) -> str:
    """Text of the error raised by a ')' that closes nothing."""
    return f"a ')' at character {at} closes nothing."


def empty_phrase(at: int) -> str:
    """Text of the error raised by a phrase with no children."""
    return f"the phrase at character {at} is empty."


def unclosed(at: int) -> str:
    """Text of the error raised by a '(' never closed."""
    return f"the '(' at character {at} is never closed."


def several_trees(count: int) -> str:
    """Text of the error raised by several trees read as one."""
    return f"the text holds {count} trees: pass forest=True to read them all."


def too_many_children_binary(label: str, at: int, count: int) -> str:
    """Text of the error raised by a phrase too wide for a TreeF node."""
    return (
        f"the phrase {label!r} at character {at} has {count} children, but a TreeF "
        f"node takes 2: binarise the tree first, or read it as a rose tree."
    )


def too_many_children_rose(
    label: str, at: int, count: int, functor: str, arity: int
) -> str:
    """Text of the error raised by a phrase too wide for a rose tree's node."""
    return (
        f"the phrase {label!r} at character {at} has {count} children, more than "
        f"{functor}'s {arity}."
    )


def not_a_rose_functor(functor: object) -> str:
    """Text of the error raised by a functor read_brackets cannot read into."""
    return (
        f"read_brackets reads TreeF or a functor with one variadic constructor with "
        f"a payload (like RoseF(k)), not {functor!r}."
    )


def phrase_payload(functor: str) -> str:
    """Text of the error raised when phrases need a payload and none is given."""
    return (
        f"the phrases of {functor} carry a payload: pass `phrase`, a function of the "
        f"label."
    )


def bad_padded_length(length: int, capacity: int) -> str:
    """Text of the error raised by a PaddedList length outside its capacity."""
    return (
        f"a PaddedList's length is between 0 and its capacity {capacity}, not {length}."
    )


def traced_padded_length(scheme: str, capacity: int) -> str:
    """Text of the error raised under a trace by a PaddedList length out of range."""
    return (
        f"{scheme} was given a PaddedList whose length is outside 0..{capacity}, "
        f"its capacity."
    )


def padded_length_dtype(dtype: object) -> str:
    """Text of the error raised by a PaddedList length that is not an integer."""
    return f"a PaddedList's length is an integer count, not of dtype {dtype}."


def futu_count(scheme: str, width: int) -> str:
    """Text of the error raised by a futu step emitting more than its block."""
    return (
        f"{scheme}: a step's count of elements is between 0 and its block's "
        f"{width} rows."
    )


def no_lists() -> str:
    """Text of the error raised by `batch_lists` on no lists."""
    return (
        "batch_lists needs at least one list: an empty batch has no element shape "
        "or dtype to give its array."
    )


def ragged_elements(index: int, shape: object, at: int, first: object) -> str:
    """Text of the error raised by lists whose elements differ in shape."""
    return (
        f"list {index} has elements of shape {shape}, but list {at}'s are of shape "
        f"{first}: a batch of lists has one element shape."
    )


def ragged_element_trees(index: int, first: object, other: object) -> str:
    """Text of the error raised by a list whose elements differ in structure."""
    return (
        f"list {index} holds elements of different structures: {first} and {other}; "
        f"a list's elements share one structure."
    )


def ragged_list_trees(index: int, given: str, first: object) -> str:
    """Text of the error raised by lists of pytrees of different structures."""
    return (
        f"list {index} is {given}, but the batch's lists are pytrees of structure "
        f"{first}: a batch of lists has one element structure."
    )


def list_tree_lengths(index: int, shapes: object) -> str:
    """Text of the error raised by a pytree list whose leaves differ in length."""
    return (
        f"list {index} is a pytree whose leaves have shapes {shapes}: each leaf "
        f"holds one row per element, so they need one leading length."
    )


def not_a_term(functor: str, given: object) -> str:
    """Text of the error raised by a term that is not a layer of the functor."""
    return f"a term of {functor} is a cdl.Layer, not {type(given).__name__}."


def not_a_container(
    functor: str, algebra: object, constructor: str, given: object
) -> str:
    """Text of the error raised by a monadic algebra returning a bare value."""
    name = getattr(algebra, "__name__", type(algebra).__name__)
    return (
        f"cataM({functor}, {name}): the algebra returned {type(given).__name__} "
        f"{given!r:.60} on a {constructor} layer, where a container of the "
        "`returns` package (with bind and map) is expected: wrap the value, "
        "`Some(v)` or `Success(v)`, or use cdl.cata for a plain fold."
    )


def input_outside(cell: str, inputs: int) -> str:
    """Text of the error raised for a finite machine's input outside its alphabet."""
    return (
        f"{cell} reads inputs 0 to {inputs - 1} (its alphabet), but was given one "
        "outside them."
    )


def not_a_cell(what: str, given: object) -> str:
    """Text of the error raised by a cell that is neither a Para nor a function."""
    return (
        f"{what} must be a cdl.Para or a function of arrays, not "
        f"{type(given).__name__}."
    )


def carrier_changes(scheme: str, given: object, returned: object) -> str:
    """Text of the error raised when a fold's step does not return its carrier."""
    return (
        f"{scheme}: the carrier starts in {given} but the step returns "
        f"{returned}; a fold's step must return its carrier's space."
    )


def truncated_list(scheme: str, max_size: int) -> str:
    """Text of the run-time error raised when folding or returning a cut-off list."""
    return (
        f"{scheme}: the unfolded list was cut off at max_size={max_size} before its "
        f"coalgebra stopped, so the result would be wrong: raise max_size."
    )


def truncated_to_list(capacity: int) -> str:
    """Text of the error raised when reading out a cut-off list."""
    return (
        f"this list was cut off at its capacity {capacity} before its unfold "
        f"stopped; read `.values` to see the part that was unfolded."
    )


def no_such_attribute(functor: str, name: str) -> str:
    """Text of the error raised by a functor attribute that is no constructor."""
    return f"{functor} has no constructor or attribute {name!r}."


def too_many_children(functor: str, constructor: str, most: int, given: int) -> str:
    """Text of the error raised by a variadic pattern given too many children."""
    return (
        f"{functor}'s {constructor} takes at most {most} children, but {given} were "
        f"given: use a functor with room for them (cdl.RoseF({given}), or "
        f"x*{given} in cdl.polynomial)."
    )


def pattern_fields(functor: str, constructor: str, wanted: int, given: int) -> str:
    """Text of the error raised by a pattern built with the wrong number of fields."""
    return f"{functor}'s {constructor} takes {wanted} fields, but {given} were given."


def no_case(function: str, constructor: str) -> str:
    """Text of the error raised when a matching algebra returns nothing."""
    return (
        f"{function} returned None on a {constructor} layer: give it a `case` for "
        f"every constructor (or a `case _:`)."
    )


def not_a_match(functor: str, given: object) -> str:
    """Text of the error raised when an algebra's one argument is not a function."""
    return (
        f"Algebra({functor}, f) takes one plain function matching on {functor}'s "
        f"constructors; a cdl.Para goes with its constructor's name "
        f"(`Name=cell`), and {type(given).__name__} is neither."
        + (
            f" A dict of cells by constructor goes unpacked: "
            f"`Algebra({functor}, **cells)`."
            if isinstance(given, dict)
            else ""
        )
    )


def cell_of_a_tensor(functor: str, name: str, cell: str, domain: object) -> str:
    """Text of the error raised by a tree cell that takes one tensor."""
    return (
        f"the cell of {functor}.{name} is called on (payload, children), a pair, "
        f"but {cell} takes {domain}; to apply it to the payload alone, give "
        f"`cdl.Fst() >> cell`."
    )


def match_and_cells(functor: str) -> str:
    """Text of the error raised when an algebra is given both forms."""
    return (
        f"Algebra({functor}, ...): give either one function matching on the "
        f"constructors or one cell per constructor, not both."
    )


def natural_output(functor: str, source: str, given: object) -> str:
    """Text of the error raised when a natural transformation returns no layer."""
    return (
        f"a natural transformation of {functor} returns a layer (a pattern such as "
        f"{functor}'s constructors build) or cdl.choose(pred, layer, layer), but on "
        f"a {source} layer it returned {type(given).__name__}."
    )


def natural_foreign(functor: str, names: Sequence[str], source: str, given: str) -> str:
    """Text of the error raised when a natural transformation leaves its functor.

    >>> print(natural_foreign("ListF", ("Nil", "Cons"), "Cons", "Succ"))
    a natural transformation of ListF returns layers of ListF (Nil, Cons), but on a ...
    """
    return (
        f"a natural transformation of {functor} returns layers of {functor} "
        f"({', '.join(names)}), but on a {source} layer it returned a {given} "
        "layer: prepro, postpro and hoist transform a functor into itself. To map "
        "terms into another functor (Haskell's hoist between two), fold them with "
        "cdl.cataM, whose cells may return terms."
    )


def natural_child(functor: str, source: str, given: object) -> str:
    """Text of the error raised when a natural transformation makes a child."""
    return (
        f"a natural transformation of {functor} may move, drop or repeat a layer's "
        f"children but not make new ones: on a {source} layer it returned "
        f"{type(given).__name__} as a child."
    )


def natural_payload(functor: str, name: str, wanted: object, given: object) -> str:
    """Text of the error raised when a transformation changes a payload's space."""
    return (
        f"a natural transformation of {functor} must give {name} a payload in "
        f"{wanted!r}, the space of {name}'s payloads, not {given!r}."
    )


def natural_list(functor: str, source: str) -> str:
    """Text of the error raised when a transformation reorders a node's list."""
    return (
        f"a natural transformation of {functor} on a {source} layer: its children "
        f"are a list whose length is data, so keep a run of them (children, "
        f"children[1:], children[:2]) in a node that takes several children; "
        f"reordering them or picking single ones is not the same on every node."
    )


def element_map(scheme: str, functor: str) -> str:
    """Text of the error raised when a map on elements meets a tree functor."""
    return (
        f"{scheme}: a cdl.Para transforms a list's elements; a natural "
        f"transformation of {functor} is a function of its layers (match on "
        f"{functor}'s patterns and return a layer)."
    )


def shared_depths(scheme: str) -> str:
    """Text of the run-time error raised for a node shared at two depths."""
    return (
        f"{scheme}: a node is shared at two different depths, and the "
        f"transformation would reach it a different number of times on each path; "
        f"store the shared subtree once per use."
    )


def wrong_law(scheme: str, wanted: str, given: object, other: str | None) -> str:
    """Text of the error raised by a generalised scheme given no law of its kind."""
    name = repr(given) if other else type(given).__name__
    text = f"{scheme} needs {wanted}, not {name}"
    return text + (f": {name} is a law of {other}." if other else ".")


def swapped_laws(w: object, m: object) -> str:
    """Text of the error raised by ghylo given its two laws in the wrong order."""
    return (
        f"ghylo(w, m, algebra, coalgebra) takes the fold's law first: "
        f"ghylo({m!r}, {w!r}, ...), not ghylo({w!r}, {m!r}, ...)."
    )


def not_a_scheme_input(scheme: str, given: object) -> str:
    """Text of the error raised when a generalised scheme gets a wrong argument."""
    return f"{scheme} needs {given}."


def deeper(scheme: str, bound: int) -> str:
    """Text of the run-time error raised by a table deeper than a declared bound."""
    return (
        f"{scheme}: the table is deeper than max_depth={bound}, so the "
        f"transformation would reach its deepest nodes too few times: raise max_depth."
    )


def law_methods(law: str) -> str:
    """Text of the error raised by a distributive law that defines too little."""
    return (
        f"the distributive law {law} defines neither `fold` nor `lift` and "
        f"`extract`: a law of your own comonad defines `lift` and `extract`."
    )


def constructor_fields(functor: str, constructor: str, spec: str) -> str:
    """Text of the error raised for a constructor spec with unknown fields."""
    return (
        f"constructor {constructor} of {functor}: fields are 'a' (once), 'x' or "
        f"'x*k', not {spec!r}."
    )


def payload_place(constructor: str, at: int, last: int, payload: bool) -> str:
    """Text of the error raised for a payload placed outside a constructor's fields."""
    if not payload:
        return f"constructor {constructor} has no payload to place at {at}."
    return f"constructor {constructor}: its payload's place {at} is outside 0..{last}."


def variadic_count(functor: str, constructor: str, field: str) -> str:
    """Text of the error raised for an 'x*k' whose k is no whole number."""
    return (
        f"constructor {constructor} of {functor}: 'x*k' holds up to k children, k "
        f"a whole number (e.g. 'x*4'), not {field!r}."
    )


def functor_name(given: object) -> str:
    """Text of the error raised for a functor named by no Python identifier."""
    return (
        f"a polynomial functor is named by a Python identifier (a str such as "
        f'"ExprF"), not {given!r}.'
    )


def constructor_name(functor: str, constructor: str) -> str:
    """Text of the error raised for a constructor named by no Python identifier."""
    return (
        f"{functor} cannot have a constructor called {constructor!r}: a constructor "
        f"is named by a Python identifier, the name of its pattern class."
    )


def constructor_spec(functor: str, constructor: str, given: object) -> str:
    """Text of the error raised for a constructor whose fields are not a string."""
    return (
        f"constructor {constructor} of {functor}: its fields are a string of 'a' "
        f"(the payload, once), 'x' (a recursive field) or 'x*k' (up to k children), "
        f'e.g. "a x x" or "" for none, not {type(given).__name__} {given!r}.'
    )


def constructor_shadows(functor: str, constructor: str) -> str:
    """Text of the error raised for a constructor named like a functor's attribute."""
    return (
        f"{functor} cannot have a constructor called {constructor!r}: "
        f"{functor}.{constructor} is an attribute of every functor, so its "
        f"pattern could not be reached by name. Call it otherwise (e.g. "
        f"{constructor.capitalize()})."
    )


def variadic_not_alone(functor: str, constructor: str, spec: str) -> str:
    """Text of the error raised when 'x*k' sits beside other recursive fields."""
    return (
        f"constructor {constructor} of {functor}: 'x*k' must be its only "
        f"recursive field, not {spec!r}."
    )


def empty_variadic_needs_carrier() -> str:
    """Text of the error raised for an empty variadic node without a carrier."""
    return "an empty variadic node needs the algebra's `carrier`."


_COVER: Final = (
    "build the envelope with Envelope.covering over every table it must hold"
)


def bad_envelope(functor: str, widths: object) -> str:
    """Text of the error raised for an envelope of malformed widths."""
    return (
        f"an Envelope of {functor} takes one tuple of widths per level, one "
        f"non-negative width per constructor and some nodes on every level; "
        f"got {widths!r}."
    )


def envelope_of_nothing() -> str:
    """Text of the error raised for an envelope covering no table."""
    return "Envelope.covering needs at least one node table."


def envelope_functors(index: int, got: str, want: str) -> str:
    """Text of the error raised when a table is of another functor."""
    return f"table {index} is a table of {got}, but the envelope is of {want}."


def envelope_count(count: int) -> str:
    """Text of the error raised for a number of envelopes under one."""
    return f"Envelopes.covering takes a count of at least 1, not {count}."


def envelope_too_shallow(functor: str, left: int, levels: int) -> str:
    """Text of the error raised for a table whose nodes outlast the envelope."""
    return (
        f"the table does not fit the envelope ({functor}): {left} node(s) find no "
        f"room in its {levels} levels; {_COVER}."
    )


def envelope_too_narrow(functor: str, constructor: str, count: int, room: int) -> str:
    """Text of the error raised for more nodes without children than room."""
    return (
        f"the table does not fit the envelope ({functor}): {count} {constructor} "
        f"node(s) without children, room for {room}; {_COVER}."
    )
