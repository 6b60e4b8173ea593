"""Every user-facing error text of `cdl.equivariance`, in one place."""

from typing import Final


def bad_size(name: str, size: object) -> str:
    """Text of the error for a monoid on no points, or on a number that is no size."""
    return (
        f"{name} must act on a positive whole number of points, but was given {size!r}."
    )


def not_a_transformation(name: str, index: int, size: int, value: object) -> str:
    """Text of the error for a generator that is not a map of ``{0, …, size−1}``."""
    return (
        f"generator {index} of {name} must be {size} indices in [-1, {size}), "
        f"but is {value}."
    )


def too_many_elements(name: str, limit: int) -> str:
    """Text of the error raised when a monoid is too large to enumerate."""
    return (
        f"{name} has more than {limit} elements: pass `elements=` explicitly or "
        f"check it on its generators."
    )


def slot_mismatch(shape: tuple[int, ...], axes: tuple[int, ...], size: int) -> str:
    """Text of the error for an action slot whose axes do not hold the monoid's set."""
    sizes = "×".join(str(shape[a]) for a in axes)
    return (
        f"axes {axes} of shape {shape} hold {sizes} points, but the monoid acts on "
        f"{size}: a slot must cover exactly the set the monoid transforms."
    )


def bad_slots(axes: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """Text of the error for slots that are not consecutive, disjoint axes."""
    return (
        f"slot axes {axes} of shape {shape} must be consecutive, in range and "
        f"disjoint from the other slots."
    )


def bad_order(order: object) -> str:
    """Text of the error for a tensor order that is not a whole number >= 0."""
    return (
        f"permutation_action: order (how many axes are permuted) must be an int "
        f">= 0, but was given {order!r}."
    )


def actions_not_a_sequence(value: object) -> str:
    """Text of the error for `equivariant_mlp` given something not a list."""
    return (
        f"equivariant_mlp needs a sequence of actions, [input, hidden…, output], "
        f"but was given {type(value).__name__}; wrap the actions in a list."
    )


def different_monoids(left: str, right: str) -> str:
    """Text of the error raised when two actions of different monoids are paired."""
    return (
        f"the actions must be of one monoid, but the input is acted on by {left} "
        f"and the output by {right}."
    )


def not_an_action(name: str, law: str, error: float) -> str:
    """Text of the error raised by `check_action` when a law fails."""
    return f"{name} is not an action: the {law} law fails (relative error {error:.2e})."


def not_a_group(name: str) -> str:
    """Text of the error raised when an inverse is asked of a non-invertible element."""
    return f"{name} is not a group: its elements have no inverses."


def no_input_space(name: str) -> str:
    """Text of the error raised when random inputs cannot be drawn for an action."""
    return f"{name} does not say which space it acts on, so pass `inputs=` explicitly."


def not_equivariant(name: str, error: float, tol: float) -> str:
    """Text of the error raised by `assert_equivariant`."""
    return (
        f"{name} is not equivariant: relative error {error:.2e} exceeds the "
        f"tolerance {tol:.0e}."
    )


def not_linear(name: str) -> str:
    """Text of the error raised when a basis is solved for a non-linear action."""
    return (
        f"{name} is not linear, so no basis of equivariant linear maps can be solved "
        f"for it."
    )


def acts_nonlinearly(name: str, element: object, error: float) -> str:
    """Text of the error for an action whose `act` is not linear."""
    return (
        f"{name} does not act linearly: the element {element} sends x + 2y elsewhere "
        f"than (g ▷ x) + 2(g ▷ y) (relative error {error:.2e} on random points), so "
        f"no basis of equivariant linear maps describes it; make act linear, or set "
        f"is_linear to False."
    )


def not_pointwise(name: str, action: str) -> str:
    """Text of the error for a pointwise function on an action that mixes entries."""
    return (
        f"{name} applied entry by entry need not commute with {action}: only "
        f"actions that reindex entries (IndexAction) are preserved by every "
        f"pointwise function."
    )


def function_with_weights(owner: str, label: str) -> str:
    """Text of the error for a pointwise function that holds arrays (weights)."""
    return (
        f"{owner} applies a function without weights entry by entry, but {label} "
        f"holds arrays: they would be fixed, never trained, and a layer such as "
        f"Linear does not act on single entries; use an activation (cdl.Relu(), "
        f"jnp.tanh), and EquivariantLinear for the weights."
    )


def not_a_function(owner: str, value: object) -> str:
    """Text of the error for a pointwise function that is not one."""
    what = f"the class {value.__name__}" if isinstance(value, type) else repr(value)
    return (
        f"{owner} needs a function applied entry by entry (e.g. jax.nn.relu, or an "
        f"instance such as cdl.Relu()), but was given {what}."
    )


def activation_on_tuples(name: str, action: str) -> str:
    """Text of the error for an `equivariant_mlp` hidden action on tuples."""
    return (
        f"equivariant_mlp applies {name} to one array, but the hidden action "
        f"{action} acts on tuples: chain cdl.EquivariantLinear layers by hand with "
        f"cdl.Pointwise(act, fn) between them, which maps fn over the tuple."
    )


def zero_not_fixed(name: str, action: str) -> str:
    """Text of the error for a pointwise function moving 0 under a zero-fill action."""
    return (
        f"{name} does not commute with {action}: the monoid writes zeros, so the "
        f"function must send 0 to 0 (use relu or tanh, or subtract its value at 0)."
    )


def not_in_table(label: str, name: str, value: object) -> str:
    """Text of the error for a matrix action given an element its monoid lacks."""
    return (
        f"{label}: {value} is not an element of {name} (no product of its "
        f"generators gives it), so it has no matrix; give an element of {name}, "
        f"e.g. one of {name}.elements()."
    )


def transposed_grid(name: str, height: int, width: int) -> str:
    """Text of the error for translations of the transposed grid of an image."""
    return (
        f"image_action: {name} translates a {width}×{height} grid, but the image is "
        f"{height}×{width} (height×width); use Monoid.translations({height}, {width})."
    )


def matrix_count(name: str, given: int) -> str:
    """Text of the error for a representation with the wrong number of matrices."""
    return f"a representation of {name} needs one matrix per generator, not {given}."


def not_a_representation(name: str) -> str:
    """Text of the error for matrices that do not respect the monoid's relations."""
    return (
        f"the matrices do not define a representation of {name}: two words for the "
        f"same element give different matrices."
    )


def bad_reduce(reduce: object) -> str:
    """Text of the error for a `Pool` reduction it does not know."""
    return f"Pool: reduce must be 'sum', 'mean' or 'max', but was given {reduce!r}."


def pool_needs_index_action(action: str) -> str:
    """Text of the error for pooling over an action that does not move entries."""
    return (
        f"Pool reduces over the axes an IndexAction moves, but was given {action}, "
        f"which has none."
    )


def too_few_actions(count: int) -> str:
    """Text of the error for an `equivariant_mlp` with no layer between actions."""
    return (
        f"equivariant_mlp needs at least two actions (the input's and the "
        f"output's), one layer between each pair, but was given {count}."
    )


def bad_inputs(name: str, expected: list[str], given: list[str]) -> str:
    """Text of the error for `inputs=` that are not a batch of an action's points."""
    return (
        f"inputs must be a batch of points of {name}, arrays of shapes "
        f"{', '.join(expected)} (a leading batch axis b), but have shapes "
        f"{', '.join(given) or 'none'}."
    )


def bad_outputs(f: str, name_in: str, name_out: str, given: str, expected: str) -> str:
    """Text of the error for a map whose outputs the output action cannot act on."""
    return (
        f"equivariance_error: {f} returns {given} on a point of {name_in}, but the "
        f"output action {name_out} acts on {expected}: give the action of the "
        f"map's codomain."
    )


def bad_element(index: int, name: str, size: int, value: object) -> str:
    """Text of the error for an element to check that is not a map of the points."""
    return (
        f"equivariance_error: element {index} must be {size} indices in [-1, {size}) "
        f"(a map of the points {name} acts on), but is {value}."
    )


def no_elements(name: str) -> str:
    """Text of the error for an empty sequence of elements to check."""
    return (
        f"equivariance_error: elements is empty, so nothing would be checked and any "
        f"map would pass; give elements of {name} (e.g. [g]), or leave elements out "
        f"to check its generators."
    )


def one_element_given(name: str, value: object) -> str:
    """Text of the error for one element given where a sequence of them belongs."""
    return (
        f"equivariance_error: elements must be a sequence of elements of {name}, but "
        f"was given one element, {value}; wrap it in a list: elements=[g]."
    )


def empty_inputs(name: str) -> str:
    """Text of the error for `inputs=` holding no point."""
    return (
        f"inputs must be a batch of points of {name}, but the batch is empty (its "
        f"leading axis is 0), so nothing would be checked; give at least one point."
    )


def not_an_element(index: int, name: str, value: object) -> str:
    """Text of the error for an element to check that the monoid does not hold."""
    return (
        f"equivariance_error: element {index}, {value}, is not an element of {name} "
        f"(no product of its generators gives it), so equivariance under {name} "
        f"says nothing about it; give elements of the monoid the actions are of."
    )


def not_an_action_value(owner: str, value: object) -> str:
    """Text of the error for something given as an action that is not one."""
    return (
        f"{owner} needs actions (e.g. cdl.permutation_action(5, (3,)) or "
        f"cdl.signal_action(cdl.Monoid.cyclic(8), 8, 1)), but was given "
        f"{type(value).__name__} {value!r}."
    )


def not_a_monoid(owner: str, value: object) -> str:
    """Text of the error for an action built on something that is not a monoid."""
    return (
        f"{owner} needs a cdl.Monoid (e.g. cdl.Monoid.cyclic(8)), but was given "
        f"{type(value).__name__} {value!r}."
    )


def bad_monoid_name(name: object) -> str:
    """Text of the error for a monoid named by something that is not a string."""
    return (
        f"Monoid: name must be a string (it labels the monoid in messages), but was "
        f"given {type(name).__name__} {name!r}."
    )


def not_a_generator(name: str, rng: object) -> str:
    """Text of the error for `Monoid.sample` given something other than a generator."""
    return (
        f"{name}.sample needs a NumPy generator (np.random.default_rng(seed)), but "
        f"was given {type(rng).__name__} {rng!r}."
    )


def bad_word_length(name: str, length: object) -> str:
    """Text of the error for a word length that is not a whole number >= 0."""
    return (
        f"{name}.sample: length must be a whole number >= 0 (the number of "
        f"generators multiplied), but was given {length!r}."
    )


def bad_shape(shape: object) -> str:
    """Text of the error for an action's shape that is not positive sizes."""
    return (
        f"an action's shape must be a tuple of positive sizes (channels, points, "
        f"features), but was given {shape!r}."
    )


def features_not_a_shape(features: object) -> str:
    """Text of the error for `permutation_action` given one number as features."""
    return (
        f"permutation_action: features is the shape at each point, a tuple such "
        f"as ({features!r},), not {features!r}."
    )


def pool_not_invariant(reduce: str, action: str) -> str:
    """Text of the error for pooling over a monoid that is not a group."""
    return (
        f"Pool({reduce}) is not invariant under {action}: the monoid is not a group "
        f"(its elements drop or repeat entries), so a {reduce} over its points "
        f"changes when it acts. Its invariant linear maps are "
        f"cdl.EquivariantLinear(act, cdl.trivial_action(act.monoid, features))."
    )


def bad_length(n: int, length: object) -> str:
    """Text of the error for a truncation length outside ``0..n``."""
    return (
        f"Monoid.truncations({n}, ...): each length is a prefix to keep, a whole "
        f"number in 0..{n}, but was given {length!r}."
    )


def bad_keep(n: int, keep: object) -> str:
    """Text of the error for a projection keeping coordinates that do not exist."""
    return (
        f"Monoid.projections({n}, ...): each projection lists coordinates to keep, "
        f"in 0..{n - 1}, but was given {keep!r}."
    )


EMPTY_SUM: Final = "DirectSum needs at least one summand: DirectSum(act, other, ...)."


def summands_of_one_monoid(owner: str, names: list[str]) -> str:
    """Text of the error for a sum or tensor product of actions of several monoids."""
    return (
        f"{owner}: the actions must be of one monoid, but they are of "
        f"{', '.join(names)}."
    )


def tensor_needs_index_action(left: str, right: str) -> str:
    """Text of the error for a tensor product with an action that is not by indices."""
    return (
        f"tensor: {left} can be tensored with another IndexAction (of the same "
        f"monoid), but was given {right}."
    )


def tensor_needs_matrix_action(left: str, right: str) -> str:
    """Text of the error for a tensor product of matrices with another action."""
    return (
        f"tensor: {left} can be tensored with another MatrixAction (of the same "
        f"monoid), but was given {right}."
    )


def bad_matrix(name: str, index: int, matrix: object, reason: str) -> str:
    """Text of the error for a representation matrix that is not square or finite."""
    shape = getattr(matrix, "shape", ())
    return (
        f"a representation of {name} needs square, finite matrices of one size, "
        f"one per generator, but matrix {index} (shape {shape}) {reason}."
    )
