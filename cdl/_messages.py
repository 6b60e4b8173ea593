"""Every user-facing error text of cdl's core, in one place."""

from typing import Final

# The longest label a message quotes whole; a longer one is shortened by `shown`.
LONGEST_LABEL: Final = 240
# Factors of a long chain named at each end.
ENDS: Final = 3


def top_level(label: str, separator: str) -> list[str]:
    """`label` split at the occurrences of `separator` outside brackets.

    >>> top_level("(f >> g) @ h >> k", " >> ")
    ['(f >> g) @ h', 'k']
    """
    parts, depth, start, i = [], 0, 0, 0
    while i < len(label):
        if label[i] in "([{":
            depth += 1
        elif label[i] in ")]}":
            depth -= 1
        elif depth == 0 and label.startswith(separator, i):
            parts.append(label[start:i])
            start = i + len(separator)
            i = start
            continue
        i += 1
    parts.append(label[start:])
    return parts


def shown(label: str) -> str:
    """`label` as a message quotes it: a long chain names its ends and a count.

    A model of thousands of layers would otherwise fill a message with its
    whole label (its `label` itself stays whole: checkpoints compare it).

    >>> shown("Tanh() >> Relu()")
    'Tanh() >> Relu()'
    >>> shown(" >> ".join(["Tanh()"] * 2000))
    'Tanh() >> Tanh() >> Tanh() >> …1,994 more… >> Tanh() >> Tanh() >> Tanh()'
    """
    if len(label) <= LONGEST_LABEL:
        return label
    parts = top_level(label, " >> ")
    if len(parts) > 2 * ENDS + 1:
        middle = f"…{len(parts) - 2 * ENDS:,} more…"
        return " >> ".join([*parts[:ENDS], middle, *parts[-ENDS:]])
    half = LONGEST_LABEL // 2
    return f"{label[:half]}…{label[-half:]}"


def composition_mismatch(left: str, right: str, out: object, inp: object) -> str:
    """Text of a `CompositionError` raised by ``left >> right``."""
    left, right = shown(left), shown(right)
    return (
        f"{left} does not compose with {right}: "
        f"output {out!r} of {left} != input {inp!r} of {right}."
    )


def stateful_hint(stateful: str, stateless: str) -> str:
    """What to add when one side of ``>>`` carries a state and the other not."""
    return (
        f" {stateful} keeps state: it takes and returns (x, state) pairs. Carry "
        f"the state past {stateless} as `({stateless}) @ cdl.Identity()`, and "
        f"build the model with `equinox.nn.make_with_state`."
    )


def not_an_array(kind: str) -> str:
    """Why a Python list (or dict, str, None, a model) is not a point of a space."""
    if kind.endswith(" module"):
        return (
            f"a {kind} is not an array: a model was called on a model; "
            f"optax.multi_transform calls labels that are callable, so give a "
            f"tree of labels shaped like a model as `lambda params: labels`"
        )
    if kind == "NoneType":
        return (
            "None is not an array: a value left out (an optional argument, a "
            "graph built without node features) is given where an array is wanted"
        )
    return f"a {kind} is not an array: convert it with `jnp.asarray`"


def with_article(noun: str) -> str:
    """`noun` after "a" or "an", as its first letter asks.

    >>> with_article("Linear"), with_article("int")
    ('a Linear', 'an int')
    """
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def not_a_tuple(kind: str, parts: int) -> str:
    """Why a value that is no tuple (a graph, a dict) is not a point of a product."""
    return f"a {kind} is not a tuple: the input is one tuple of {parts} values"


def not_a_factor(
    composite: str, index: int, factor: object, family: str, lift: bool
) -> str:
    """Text of the error raised when a composite is given a factor of another kind."""
    hint = (
        " (make a function or an Equinox module one with `cdl.lift(f, "
        'dom=Float[Array, "n"], cod=Float[Array, "n"])`)'
        if lift
        else ""
    )
    kind = with_article(type(factor).__name__)
    return (
        f"{composite}: factor {index} is {kind}, not a {family} arrow: "
        f"a composite joins arrows of one kind{hint}."
    )


def public_class(value: object) -> str:
    """The class of `value`, with the public part of its module (not for builtins).

    >>> import numpy as np
    >>> public_class(3), public_class(np.ones(2)), public_class(lambda: 0)
    ('int', 'numpy.ndarray', 'function')
    """
    cls = type(value)
    parts = cls.__module__.split(".")
    private = [i for i, p in enumerate(parts) if p.startswith("_")]
    public = parts[: private[0]] if private else parts
    if cls.__module__ == "builtins" or not public:
        return cls.__qualname__
    return ".".join([*public, cls.__qualname__])


def _lift_advice(value: object) -> tuple[str, str]:
    """The name of `value`, not a morphism, and what to do about it."""
    name = getattr(value, "__name__", type(value).__name__)
    return name, (
        f"{name} ({with_article(public_class(value))}) is not one: make it one with "
        f'`cdl.lift({name}, dom=Float[Array, "n"], cod=Float[Array, "n"])` '
        f"(an Equinox module or a JAX function)."
    )


def not_an_arrow(operator: str, left: str, right: object) -> str:
    """Text of the error raised when `operator` is given something not an arrow.

    The value's class is named with its package, where it has one, so that an
    ``equinox.nn.Linear`` is not taken for a ``cdl.Linear``.

    >>> import equinox as eqx, jax
    >>> print(not_an_arrow(">>", "Tanh()", eqx.nn.Linear(2, 2, key=jax.random.key(0))))
    Tanh() >> Linear: >> composes cdl morphisms, and Linear (an equinox.nn.Linear) ...
    """
    name, advice = _lift_advice(right)
    return f"{left} {operator} {name}: {operator} composes cdl morphisms, and {advice}"


def not_an_arrow_on_the_left(operator: str, left: object, right: str) -> str:
    """Text of the error raised when `operator` has something not an arrow on its left.

    >>> import jax.numpy as jnp
    >>> print(not_an_arrow_on_the_left(">>", jnp.tanh, "Linear(3→3)"))
    tanh >> Linear(3→3): >> composes cdl morphisms, and tanh (a jaxlib...) is not ...
    """
    name, advice = _lift_advice(left)
    return f"{name} {operator} {right}: {operator} composes cdl morphisms, and {advice}"


def not_a_morphism(receiver: str, value: object) -> str:
    """Text of the error raised when `receiver` is given something not a morphism.

    >>> import jax.numpy as jnp
    >>> print(not_a_morphism("repeat", jnp.tanh))
    repeat takes a cdl morphism, and tanh (a jaxlib...) is not one: make it one with ...
    """
    return f"{receiver} takes a cdl morphism, and {_lift_advice(value)[1]}"


def call_mismatch(name: str, expected: object, given: object, why: str) -> str:
    """Text of a `SpaceError` raised when a morphism is called on the wrong space."""
    return f"{shown(name)} expects input {expected!r}, but was given {given!r} ({why})."


def output_mismatch(name: str, expected: object, given: object, why: str) -> str:
    """Text of a `SpaceError` raised when a morphism returns the wrong space."""
    return f"{shown(name)} must return {expected!r}, but returned {given!r} ({why})."


BATCH_HINT: Final = (
    " It looks like a batch: cdl morphisms act on one example; "
    "map them over the batch with `jax.vmap(model)(xs)`."
)


def needs_key(name: str) -> str:
    """Text of the error raised when a stochastic morphism gets no key."""
    return (
        f"{shown(name)} is stochastic and needs a PRNG key: call it as "
        f"`model(x, key=jax.random.key(0))`, or switch it off with "
        f"`cdl.inference_mode(model)`."
    )


def reparam_mismatch(name: str, path: str, expected: str, given: str) -> str:
    """Text of the error raised when a reparametrisation returns the wrong tree."""
    name = shown(name)
    return (
        f"the reparametrisation of {name} must return parameters shaped like "
        f"cdl.parameters({name}), but returned {given} at {path or 'the root'} "
        f"where those hold {expected}."
    )


def tied_to_itself(name: str, index: int) -> str:
    """Text of the error raised when a target of `tie` picks its source."""
    return (
        f"tie({shown(name)}): target {index} picks the source itself; a tie "
        f"copies the source into other parameters."
    )


def nested_too_deep(kind: str, depth: int, doing: str, limit: int) -> str:
    """Text of the error raised for composites nested past Python's stack."""
    return (
        f"{doing} this {kind} went past Python's recursion limit ({limit}): it "
        f"nests composites {depth} deep (an `@` or `>>` inside another, {depth} "
        f"times), and each level takes several Python frames. Build it flatter: "
        f"cdl.Tensor(f, g, h, ...) for many branches side by side instead of "
        f"f @ g @ h @ ..., a chain of residual blocks (>>) instead of blocks "
        f"inside blocks; or raise the limit, sys.setrecursionlimit({limit * 10})."
    )


def tied_to_frozen(name: str, index: int) -> str:
    """Text of the error raised when a target of `tie` holds a frozen parameter."""
    return (
        f"tie({shown(name)}): target {index} holds a parameter frozen by "
        f"cdl.freeze, which a tie would overwrite with the source: tie first, then "
        f"freeze (cdl.freeze(cdl.tie(...), ...)), or freeze the source, whose "
        f"copies are then frozen with it."
    )


def reparam_leaf(name: str, path: str, expected: str, given: str) -> str:
    """Text of the error raised when a reparametrisation changes an array's type."""
    return (
        f"the reparametrisation of {name} must return {expected} at {path}, but "
        f"returned {given} (a tied or shared parameter must have the type of each "
        f"one it fills)."
    )


def bad_picker(operation: str, name: str, error: BaseException, nested: bool) -> str:
    """Text of the error raised when `tie`'s or `freeze`'s picker finds nothing."""
    hint = (
        "; a tied or frozen morphism holds its parameters at .params "
        "(lambda m: m.params…)"
        if nested
        else ""
    )
    return (
        f"{operation}({name}): a function picking parameters failed on "
        f"cdl.parameters of it ({type(error).__name__}: {error}): it reads a tree "
        f"shaped like the morphism{hint}."
    )


def annotation_mismatch(name: str, report: str) -> str:
    """Text of a `SpaceError` raised when jaxtyping rejects a call of `name`."""
    lines = [line.strip() for line in report.splitlines()]
    found: list[str] = []
    for line in lines:
        if line.startswith(("Actual value", "Expected type")):
            found.append(line)
        elif line.startswith("-" * 4) or not found:
            continue
        elif found[-1].startswith("Actual value"):
            # A value printed over several lines (a module's fields): one line.
            tight = found[-1].endswith(("(", "[", "{")) or line.startswith(
                (")", "]", "}")
            )
            found[-1] += line if tight else " " + line
    found = [f if len(f) <= 300 else f[:297] + "..." for f in found]
    summary = "; ".join(found) or (lines[0] if lines else report)
    if "checking the parameters" in report:
        what = "was given an input its jaxtyping annotations refuse"
    else:
        what = "violates its own jaxtyping annotations"
    return f"{shown(name)} {what}: {summary.rstrip('.')}."


def not_of_kind(space: str, kind: str) -> str:
    """Text of a mismatch between a space and a variable of the class `kind`."""
    return f"a {space} is not a {kind}"


EMPTY_COMPOSITE: Final = "a composite needs at least one factor."


def foreign_arrows(operator: str, *arrows: object) -> str:
    """Text of the error raised when `operator` joins arrows of different kinds."""
    names = " and ".join(type(a).__name__ for a in arrows)
    return (
        f"{operator} joins arrows of one kind (Para morphisms, lenses or parametric "
        f"lenses), not {names}."
    )


def not_endomorphism(name: str, dom: object, cod: object) -> str:
    """Text of the error raised when `repeat` is given a cell that changes space."""
    return (
        f"repeat needs a cell that maps a space to itself, but {name} maps "
        f"{dom!r} to {cod!r}."
    )


def bad_times(times: object) -> str:
    """Text of the error raised when `repeat` is given a bad count."""
    return f"repeat needs a positive int number of steps, not {times!r}."


def unhashable(name: str) -> str:
    """Text of the error raised by hashing a morphism that holds arrays."""
    return (
        f"{shown(name)} holds arrays, so it is not hashable: `jax.jit(model)` "
        f"(or `jax.checkpoint`, `jax.remat`, `jax.pmap` of it) cannot take it as "
        f"the function to transform; transform a function of the model instead, "
        f"`eqx.filter_jit(lambda m, x: m(x))(model, x)`, "
        f"`jax.jit(lambda x: model(x))`, or `eqx.filter_checkpoint(model)`."
    )


def cyclic_run(seq: str, dims: str) -> str:
    """Why a variadic run of dimensions cannot hold itself and more."""
    return f"{seq} cannot be [{dims}], which holds it and more"


def call_key(name: str, key: object) -> str:
    """Text of the error raised when a morphism is called with a bad ``key=``."""
    return (
        f"{shown(name)}: key must be a PRNG key such as jax.random.key(0), not "
        f"{type(key).__name__} {key!r}."
    )


def first_difference(saved: str, given: str) -> str:
    """Where two chains' labels first differ, factor by factor ("" if nowhere).

    >>> first_difference("Linear(2→2) >> Tanh()", "Linear(2→2) >> Relu()")
    'factor 1 is Tanh() there and Relu() here'
    """
    there, here = top_level(saved, " >> "), top_level(given, " >> ")
    for index, (a, b) in enumerate(zip(there, here, strict=False)):
        if a != b:
            return f"factor {index} is {shown(a)} there and {shown(b)} here"
    if len(there) != len(here):
        return f"{len(there)} factors there and {len(here)} here"
    return ""


RAISED_IN: Final = "raised in "


def raised_in(name: str, given: str) -> str:
    """The note added to an error raised inside a morphism's own call."""
    return f"{RAISED_IN}{shown(name)}, called on {given}"
