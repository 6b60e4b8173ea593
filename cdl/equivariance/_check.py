"""Equivariance measured: how far a morphism is from a homomorphism of algebras.

A map ``f: X → Y`` between two algebras of the monad ``M × −`` is a homomorphism
when ``f(g ▷ x) = g ▷ f(x)`` for every ``g`` and ``x``: that is equivariance. Since
the action is determined by the generators, it is enough to check those. The
relative error of that equation, over generators (or given elements) and random
inputs, measures how far a map is from being equivariant; it is a test helper and
also a metric on trained networks.

>>> import jax, jax.numpy as jnp, cdl
>>> act = cdl.permutation_action(5, (3,))
>>> float(cdl.equivariance_error(cdl.Relu(), act, act, key=jax.random.key(0)))
0.0
>>> linear = cdl.Linear(3, 3, key=jax.random.key(1))
>>> cdl.is_equivariant(jax.vmap(linear), act, act, key=jax.random.key(0))
True
"""

from collections.abc import Callable, Sequence
from typing import Any, Final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._space import space_of
from ..nn._arguments import positive_int
from . import _messages
from ._action import AbstractAction, _relative, require_actions
from ._monoid import outside


def _relative_errors(
    f: Callable[[Any], Any],
    act_in: AbstractAction,
    act_out: AbstractAction,
    xs: Any,
    g: Any,
) -> Array:
    """``‖f(g▷x) − g▷f(x)‖`` relative, for each point `x` of the batch `xs`."""

    def one(x: Any) -> Array:
        return _relative(f(act_in.act(g, x)), act_out.act(g, f(x)))

    errors: Array = jax.vmap(one)(xs)
    return errors


_errors = eqx.filter_jit(_relative_errors)


@eqx.filter_jit
def _errors_at(
    f: Callable[[Any], Any],
    act_in: AbstractAction,
    act_out: AbstractAction,
    xs: Any,
    g: tuple[int, ...],
) -> Array:
    """The errors with the element static: for actions that branch on it in Python."""
    return _relative_errors(f, act_in, act_out, xs, np.asarray(g))


# What an action that reads its element as a Python value raises on a traced one.
_TRACED: Final = (
    jax.errors.TracerArrayConversionError,
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
)


def _check_batch(act: AbstractAction, inputs: Any) -> None:
    """Raise `ValueError` unless `inputs` are points of `act` with a batch axis."""
    point = jax.eval_shape(act.random_input, jax.random.key(0))
    expected = [tuple(leaf.shape) for leaf in jax.tree.leaves(point)]
    given = [tuple(np.shape(leaf)) for leaf in jax.tree.leaves(inputs)]
    if len(given) != len(expected) or any(
        g[1:] != e or len(g) != len(e) + 1
        for g, e in zip(given, expected, strict=False)
    ):
        message = _messages.bad_inputs(
            act.label,
            [str(("b", *e)).replace("'", "") for e in expected],
            [str(g) for g in given],
        )
        hint = act.input_hint(inputs)
        raise ValueError(f"{message} {hint}" if hint else message)
    if given[0][0] == 0:
        raise ValueError(_messages.empty_inputs(act.label))


def _check_outputs(
    f: Callable[[Any], Any], act_in: AbstractAction, act_out: AbstractAction, xs: Any
) -> None:
    """Raise `ValueError` unless `f`'s outputs have the shapes `act_out` acts on."""
    one = jax.eval_shape(lambda xs: f(jax.tree.map(lambda x: x[0], xs)), xs)
    point = jax.eval_shape(act_out.random_input, jax.random.key(0))
    expected = [leaf.shape for leaf in jax.tree.leaves(point)]
    if [leaf.shape for leaf in jax.tree.leaves(one)] != expected:
        label = getattr(f, "label", getattr(f, "__name__", repr(f)))
        raise ValueError(
            _messages.bad_outputs(
                label,
                act_in.label,
                act_out.label,
                repr(space_of(one)),
                repr(space_of(point)),
            )
        )


def equivariance_error(
    f: Callable[[Any], Any],
    act_in: AbstractAction,
    act_out: AbstractAction,
    *,
    key: PRNGKeyArray,
    samples: int = 8,
    elements: Sequence[np.ndarray] | None = None,
    inputs: Any = None,
) -> Float[Array, ""]:
    """The largest relative error of ``f(g ▷ x) = g ▷ f(x)``.

    The error at one ``g`` and ``x`` is ``‖f(g▷x) − g▷f(x)‖ / max(‖f(g▷x)‖, ‖g▷f(x)‖)``
    (zero when both sides vanish); this returns the largest over elements and inputs.

    **Arguments:**

    - `f`: any callable on single points (a `cdl.Para`, a function, a vmapped layer).
    - `act_in`, `act_out`: actions of one monoid on the domain and codomain.
    - `key`: PRNG key for the random inputs.
    - `samples`: how many random inputs to draw.
    - `elements`: the monoid elements to check (default: its generators; since
      the generators generate, checking them suffices).
    - `inputs`: a batch of inputs (leading axis) to use instead of random ones,
      e.g. real data when measuring a trained network.

    **Returns:** a float32 scalar, 0 for an exactly equivariant `f`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> act = cdl.signal_action(cdl.Monoid.cyclic(6), 6)
    >>> blur = lambda x: (x + jnp.roll(x, 1) + jnp.roll(x, -1)) / 3
    >>> float(cdl.equivariance_error(blur, act, act, key=jax.random.key(0))) < 1e-6
    True
    >>> float(cdl.equivariance_error(jnp.cumsum, act, act, key=jax.random.key(0))) > 0.1
    True
    """
    require_actions("equivariance_error", act_in, act_out)
    if act_in.monoid != act_out.monoid:
        raise ValueError(
            _messages.different_monoids(act_in.monoid.name, act_out.monoid.name)
        )
    monoid = act_in.monoid
    if elements is not None:
        if all(np.ndim(g) == 0 for g in elements) and len(elements) == monoid.size:
            one = np.asarray(elements).tolist()
            raise ValueError(_messages.one_element_given(monoid.name, one))
        if len(elements) == 0:
            raise ValueError(_messages.no_elements(monoid.name))
    gs = list(monoid.generators_array()) if elements is None else list(elements)
    for index, g in enumerate(gs):
        array = np.asarray(g)
        if (
            array.shape != (monoid.size,)
            or not np.issubdtype(array.dtype, np.integer)
            or not np.all((array >= -1) & (array < monoid.size))
        ):
            raise ValueError(
                _messages.bad_element(index, monoid.name, monoid.size, array.tolist())
            )
        if outside(monoid, array):
            raise ValueError(
                _messages.not_an_element(index, monoid.name, array.tolist())
            )
    if not gs:  # a monoid without generators: its unit
        gs = [monoid.identity()]
    if inputs is None:
        positive_int("equivariance_error", "samples", samples)
        inputs = jax.vmap(act_in.random_input)(jax.random.split(key, samples))
    else:
        _check_batch(act_in, inputs)
    _check_outputs(f, act_in, act_out, inputs)
    worst = jnp.zeros((), jnp.float32)
    for g in gs:
        try:
            errors = _errors(f, act_in, act_out, inputs, jnp.asarray(g))
        except _TRACED:  # the action branches on the element: compile per element
            element = tuple(int(i) for i in np.asarray(g))
            errors = _errors_at(f, act_in, act_out, inputs, element)
        worst = jnp.maximum(worst, jnp.max(errors).astype(jnp.float32))
    return worst


def is_equivariant(
    f: Callable[[Any], Any],
    act_in: AbstractAction,
    act_out: AbstractAction,
    *,
    key: PRNGKeyArray,
    tol: float = 1e-5,
    samples: int = 8,
    elements: Sequence[np.ndarray] | None = None,
    inputs: Any = None,
) -> bool:
    """Whether `f` is equivariant up to relative error `tol` (see `equivariance_error`).

    **Arguments:** as for `equivariance_error` (`samples`, `elements`, `inputs`),
    and `tol`.

    **Returns:** a bool.

    >>> import jax, jax.numpy as jnp, cdl
    >>> act = cdl.permutation_action(4)
    >>> cdl.is_equivariant(jnp.sort, act, act, key=jax.random.key(0))
    False
    >>> invariant = cdl.trivial_action(act.monoid)
    >>> cdl.is_equivariant(jnp.sum, act, invariant, key=jax.random.key(0))
    True
    """
    error = equivariance_error(
        f, act_in, act_out, key=key, samples=samples, elements=elements, inputs=inputs
    )
    return bool(error < tol)


def assert_equivariant(
    f: Callable[[Any], Any],
    act_in: AbstractAction,
    act_out: AbstractAction,
    *,
    key: PRNGKeyArray,
    tol: float = 1e-5,
    samples: int = 8,
    elements: Sequence[np.ndarray] | None = None,
    inputs: Any = None,
    name: str | None = None,
) -> None:
    """Raise `AssertionError` with the measured error unless `f` is equivariant.

    **Arguments:** as for `is_equivariant`; `name`, used in the message.

    **Returns:** None.

    >>> import jax, jax.numpy as jnp, cdl
    >>> act = cdl.permutation_action(4)
    >>> k = jax.random.key(0)
    >>> cdl.assert_equivariant(jnp.cumsum, act, act, key=k, name="cumsum")
    Traceback (most recent call last):
    ...
    AssertionError: cumsum is not equivariant: relative error ... exceeds the \
tolerance 1e-05.
    """
    error = float(
        equivariance_error(
            f,
            act_in,
            act_out,
            key=key,
            samples=samples,
            elements=elements,
            inputs=inputs,
        )
    )
    if not error < tol:
        label = (
            name
            if name is not None
            else getattr(f, "label", getattr(f, "__name__", repr(f)))
        )
        raise AssertionError(_messages.not_equivariant(label, error, tol))
