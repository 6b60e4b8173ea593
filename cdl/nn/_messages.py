"""Every user-facing error text of cdl's layers, in one place."""

import math
from typing import Final


def bad_int(layer: str, name: str, value: object, what: str) -> str:
    """Text of the error for a size argument that is not a valid int."""
    return f"{layer}: {name} must be {what}, but was given {value!r}."


def bad_rank(layer: str, name: str, value: object, rank: int) -> str:
    """Text of the error for a per-axis argument of the wrong length."""
    return (
        f"{layer}: {name} must be an int or a tuple of {rank} ints, "
        f"but was given {value!r}."
    )


def not_a_flag(owner: str, name: str, value: object) -> str:
    """Text of the error for a switch given something other than True or False."""
    return f"{owner}: {name} must be True or False, but was given {value!r}."


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


def position_out_of_range(owner: str, where: str, index: int, num: int) -> str:
    """Text of the error for a sequence holding an index outside an embedding."""
    return (
        f"{owner}: {where} holds index {index}, but the table has "
        f"rows 0..{num - 1} only."
    )


def foreign_state(layer: str, shape: tuple[int, ...] | None = None) -> str:
    """Text of the error for a state that does not hold a batch norm's statistics."""
    found = (
        "holds no running statistics for it"
        if shape is None
        else f"holds running statistics of shape {shape} for it"
    )
    return (
        f"{layer}: the state {found}; pass the state that "
        f"`eqx.nn.make_with_state` built with this model (or one it returned)."
    )


def too_long(layer: str, length: int, most: int) -> str:
    """Text of the error for a sequence longer than a layer's table of positions."""
    return (
        f"{layer}: the sequence has {length} positions, more than the {most} "
        f"its table holds; build it with a larger max_length."
    )


def not_even(layer: str, name: str, value: object) -> str:
    """Text of the error for a size that must be even."""
    return f"{layer}: {name} must be even, but was given {value!r}."


def not_divisible(layer: str, name: str, value: int, by: str, divisor: int) -> str:
    """Text of the error for a size that must be a multiple of another."""
    return (
        f"{layer}: {name} must be a multiple of {by} ({divisor}), "
        f"but was given {value}."
    )


def output_padding_too_large(
    layer: str, output_padding: tuple[int, ...], stride: tuple[int, ...]
) -> str:
    """Text of the error for an output padding not smaller than the stride."""
    return (
        f"{layer}: output_padding must be smaller than stride on every axis (it "
        f"picks one of the stride's output sizes), but was given {output_padding} "
        f"with stride {stride}."
    )


def not_momentum(layer: str, value: object) -> str:
    """Text of the error for a running-average momentum outside [0, 1)."""
    return f"{layer}: momentum must lie in [0, 1), but was given {value!r}."


def bad_choice(layer: str, name: str, value: object, choices: tuple[str, ...]) -> str:
    """Text of the error for an option outside its choices."""
    listed = ", ".join(repr(c) for c in choices)
    return f"{layer}: {name} must be one of {listed}, but was given {value!r}."


def bad_key(layer: str, key: object) -> str:
    """Text of the error raised when a layer is given something not a PRNG key."""
    return (
        f"{layer}: key must be a PRNG key such as jax.random.key(0), not "
        f"{type(key).__name__} {key!r}."
    )


def lift_not_callable(value: object) -> str:
    """Text of the error for lifting something that cannot be called."""
    return (
        f"lift: expected an Equinox module or a function, "
        f"but was given {type(value).__name__} {value!r}."
    )


def lift_one_space(name: str) -> str:
    """Text of the error for declaring only one of `dom` and `cod`."""
    return f"lift({name}): declare both dom= and cod=, or neither to read them."


def lift_unannotated(name: str) -> str:
    """Text of the error for a callable whose spaces cannot be read."""
    return (
        f"lift({name}): its call has no jaxtyping annotations to read the spaces "
        f'from; declare them, e.g. `cdl.lift(f, dom=Float[Array, "n"], '
        f'cod=Float[Array, "n"])`.'
    )


def lift_fails_on_dom(name: str, dom: object, why: str) -> str:
    """Text of the error for a lifted callable that cannot run on its domain."""
    return (
        f"lift({name}): calling it on the declared domain {dom!r} fails ({why}): "
        f"declare the dom= it takes."
    )


def lift_wrong_output(
    name: str, cod: object, dom: object, returned: object, why: str
) -> str:
    """Text of the error for a lifted callable that does not return its codomain."""
    return (
        f"lift({name}): declared to return {cod!r} on {dom!r}, "
        f"but it returns {returned!r} ({why})."
    )


def traced_index_out_of_range(layer: str, num: int) -> str:
    """Text of the run-time error for an embedding index outside the table."""
    return f"{layer}: an index is outside the table's rows 0..{num - 1}."


def not_positive(layer: str, name: str, value: object) -> str:
    """Text of the error for a number that must be positive."""
    return f"{layer}: {name} must be positive, but was given {value!r}."


def bad_target_shape(shape: object) -> str:
    """Text of the error for a `Reshape` target that no array can take."""
    text = (
        f"Reshape{shape}: the target must be positive ints, with at most one -1 "
        f"standing for the rest"
    )
    if isinstance(shape, tuple) and len(shape) == 1 and isinstance(shape[0], tuple):
        sizes = ", ".join(map(repr, shape[0]))
        text += f", given as arguments: Reshape({sizes}), not a tuple"
    return text + "."


def reshape_size(layer: str, given: object, size: int, target: tuple[int, ...]) -> str:
    """Text of the error for an input whose entries do not fill a `Reshape` target."""
    if -1 in target:
        rest = math.prod(d for d in target if d != -1)
        holds = f"a multiple of {rest}"
    else:
        holds = f"{math.prod(target)}"
    return (
        f"{layer} cannot take {given!r}: it has {size} entries, and the target "
        f"holds {holds}."
    )


def axis_outside(layer: str, axis: int, given: object) -> str:
    """Text of the error for an input that has no axis `axis` to work along."""
    return (
        f"{layer} works along axis {axis}, but was given {given!r}, "
        "which has no such axis."
    )


def concat_mismatch(layer: str, left: object, right: object, why: str) -> str:
    """Text of the error for a pair of arrays that `Concat` cannot join."""
    return f"{layer} cannot join {left!r} and {right!r}: {why}."


def unbound_batch_axis(layer: str, axis_name: str) -> str:
    """Text of the error for batch statistics taken outside a named batch axis."""
    return (
        f"{layer} in training mode averages over the batch axis {axis_name!r}, "
        f"which no enclosing jax.vmap names: map the model over a batch with "
        f"`jax.vmap(model, axis_name={axis_name!r}, in_axes=((0, None),), "
        f"out_axes=(0, None))`, or call it in inference mode "
        f"(`cdl.inference_mode(model)`)."
    )


def padding_fills_window(layer: str, padding: int, kernel: int) -> str:
    """Text of the error for pooling padded so wide that a window holds padding only."""
    value = "-inf" if layer.startswith("Max") else "0"
    return (
        f"{layer}: padding {padding} is not less than the kernel size {kernel}, so "
        f"a window at the edge would cover padding only and give {value}, not a "
        f"value of the input; give a padding of at most {kernel - 1}."
    )


def transposed_output_empty(
    layer: str, size: int, stride: int, padding: int, kernel: int, extra: int
) -> str:
    """Text of the error for a transposed convolution whose output would be empty."""
    out = (size - 1) * stride - 2 * padding + kernel + extra
    return (
        f"{layer}: padding {padding} leaves no output for an input of size {size} "
        f"(its size would be ({size} - 1)·{stride} - 2·{padding} + {kernel} + "
        f"{extra} = {out}); give a padding of at most "
        f"{((size - 1) * stride + kernel + extra - 1) // 2}."
    )


def kernel_over_input(layer: str, kernel: int, size: int, padding: int) -> str:
    """Text of the error for a window larger than the padded input it slides over."""
    padded = size + 2 * padding
    return (
        f"{layer}: kernel {kernel} is larger than the padded input {padded} "
        f"(size {size}, padding {padding}), so its output would be empty."
    )


def empty_mean(layer: str, what: str, shape: tuple[int, ...]) -> str:
    """Text of the error for a mean over no elements (it would be nan)."""
    return (
        f"{layer} averages over the {what}, but was given shape {shape}, which has "
        f"none: the mean of nothing is undefined (nan)."
    )


def residual_mismatch(
    branch: str, shortcut: str, dom: object, end: object, other_end: object
) -> str:
    """Text of the error for a residual whose two branches end in different spaces."""
    return (
        f"residual({branch}): on {dom!r} the branch {branch} ends in {end!r} and the "
        f"shortcut {shortcut} in {other_end!r}, which cannot be added: give a "
        f"shortcut that ends where the branch does, residual(f, shortcut) (e.g. a "
        f"Linear projection)."
    )


def not_a_morphism(owner: str, value: object) -> str:
    """Text of the error for a layer given something other than a cdl morphism."""
    name = getattr(value, "__name__", None) or type(value).__name__
    return (
        f"{owner} needs a cdl morphism (a cdl.Para, e.g. cdl.Relu() or "
        f"cdl.Linear(...)), not {name}: make a function or an Equinox module one "
        "with its spaces, cdl.lift(fn, dom=..., cod=...)."
    )


def not_a_name(owner: str, value: object) -> str:
    """Text of the error for a block named by something other than a string."""
    return f"{owner}: name must be a str, but was given {value!r}."


def residual_of_tuple(branch: str, dom: object, end: object, other_end: object) -> str:
    """Text of the error for a residual whose branches end in tuples."""
    return (
        f"residual({branch}): on {dom!r} the branch ends in {end!r} and the shortcut "
        f"in {other_end!r}, but the residual's Add adds two arrays, not tuples: put a "
        "residual around each component, residual(f) @ residual(g), or end the "
        "branch in one array."
    )


INTEGER_IMAGE: Final = (
    " The image holds integers: cdl's convolutions take floats, as Equinox's do; "
    "convert it, e.g. `x.astype(jnp.float32) / 255` for pixels of 0..255."
)


MOVE_CHANNELS_FIRST: Final = "`jnp.moveaxis(x, -1, 0)`"
"""How `CHANNELS_LAST` moves the channels of one example."""

CHANNELS_LAST: Final = (
    " It looks channels-last: cdl's convolutions take channels first, "
    "(channels, height, width) as Equinox's do; move the axis with "
    f"{MOVE_CHANNELS_FIRST}."
)
