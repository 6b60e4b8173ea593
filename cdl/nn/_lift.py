"""`lift`: any Equinox module or JAX function as a Para morphism.

What users already have joins a composite without a `Para` subclass: the module's
array leaves become the morphism's parameters, and its spaces are declared (as
jaxtyping annotations or cdl spaces) or read from the annotations of its
``__call__``. A lifted morphism is checked like every other one, when composed and
when called:

>>> import equinox as eqx, jax, jax.numpy as jnp, cdl
>>> from jaxtyping import Array, Float
>>> mlp = eqx.nn.MLP(4, 2, 8, 1, key=jax.random.key(0))
>>> f = cdl.lift(mlp, dom=Float[Array, "4"], cod=Float[Array, "2"])
>>> f, f.dom, f.cod
(MLP, float[4], float[2])
>>> model = f >> cdl.lift(jax.nn.gelu, dom=Float[Array, "*s"], cod=Float[Array, "*s"])
>>> model.label
'MLP >> gelu'
>>> bool(jnp.allclose(model(jnp.ones(4)), jax.nn.gelu(mlp(jnp.ones(4)))))
True
"""

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, get_args, get_origin, get_type_hints

import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray

from .. import _messages as _para_messages
from .._para import Para, SpaceError, mentions_jaxtyping
from .._space import (
    Mismatch,
    ProductSpace,
    Space,
    SpaceVar,
    TensorSpace,
    Unifier,
    example_of,
    is_concrete,
    rename,
    space_from_annotation,
    space_of,
)
from . import _messages
from ._conv import image_hint

_partial: Callable[[Callable[..., Any]], Any] = jax.tree_util.Partial
_SPACES = (TensorSpace, ProductSpace, SpaceVar)


def _positional(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """The required positional parameters of `fn` (``self`` excluded)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in parameters if p.kind in kinds and p.default is p.empty]


def _takes_key(fn: Callable[..., Any]) -> bool:
    try:
        return "key" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _requires_key(fn: Callable[..., Any]) -> bool:
    try:
        found = inspect.signature(fn).parameters.get("key")
    except (TypeError, ValueError):
        return False
    return found is not None and found.default is found.empty


def _name(fn: object) -> str:
    if isinstance(fn, eqx.Module):
        return type(fn).__name__
    return str(getattr(fn, "__name__", type(fn).__name__))


def _sizes(fn: object, given: dict[str, int] | None) -> dict[str, object]:
    """Int and int-tuple fields of a module, then the sizes given by the user."""
    sizes: dict[str, object] = {}
    if dataclasses.is_dataclass(fn):
        for field in dataclasses.fields(fn):
            value = getattr(fn, field.name, None)
            if type(value) is int or (
                type(value) is tuple and all(type(v) is int for v in value)
            ):
                sizes[field.name] = value
    sizes.update(given or {})
    return sizes


def _readable(annotation: object) -> bool:
    """Whether `annotation` reads as a space.

    jaxtyping arrays do, and tuples of them beside other classes (a graph), each
    read as a space of its own.
    """
    if isinstance(annotation, type):
        return True
    args = get_args(annotation)
    return get_origin(annotation) is tuple and bool(args) and all(map(_readable, args))


def _annotations(fn: Callable[..., Any], name: str) -> tuple[object, object]:
    """The domain and codomain annotations of `fn`'s call, or `TypeError`."""
    call = type(fn).__call__ if isinstance(fn, eqx.Module) else fn
    try:
        hints = get_type_hints(call, include_extras=True)
    except Exception:
        hints = getattr(call, "__annotations__", {})
    inputs = [p for p in _positional(call) if p.name != "self"]
    names = [p.name for p in inputs] + ["return"]
    declared = [hints.get(n) for n in names]
    if not inputs or not (
        all(map(_readable, declared)) and any(map(mentions_jaxtyping, declared))
    ):
        raise TypeError(_messages.lift_unannotated(name))
    if len(inputs) == 1:
        return hints[inputs[0].name], hints["return"]
    return tuple[tuple(hints[p.name] for p in inputs)], hints["return"]  # type: ignore[misc]


def _as_space(declared: object, sizes: dict[str, object]) -> Space:
    if isinstance(declared, _SPACES):
        return declared
    if isinstance(declared, tuple):
        return ProductSpace(tuple(_as_space(part, sizes) for part in declared))
    return space_from_annotation(declared, sizes)


class Lifted(Para[Any, Any]):
    """An Equinox module or a JAX function as a Para morphism; see `lift`.

    **Arguments:** `fn`, the module or function; `declared`, its domain and
    codomain as cdl spaces; `name`, the label; `unpack`, whether a tuple input is
    passed as separate arguments.

    **Returns:** the morphism.

    >>> import jax, cdl
    >>> cdl.lift(jax.nn.relu, dom=cdl.space_of(jax.numpy.ones(3)),
    ...          cod=cdl.space_of(jax.numpy.ones(3))).signature()
    (f32[3], f32[3])
    """

    fn: Any
    declared: tuple[Space, Space] = eqx.field(static=True)
    name: str = eqx.field(static=True)
    unpack: bool = eqx.field(static=True)

    @property
    def label(self) -> str:
        """The name given, or the module's or function's own."""
        return self.name

    def __repr__(self) -> str:
        return self.label

    def input_hint(self, given: Space) -> str:
        """An Equinox convolution's word on a channels-last input, as `Conv2d`'s."""
        if isinstance(self.fn, eqx.nn.Conv | eqx.nn.ConvTranspose):
            return image_hint(self.fn.in_channels, given)
        return ""

    def signature(self) -> tuple[Space, Space]:
        """The declared spaces, with fresh variables."""
        both = rename(ProductSpace(self.declared))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def stochastic(self) -> bool:
        """Whether it draws random numbers, and so needs ``key=`` in training.

        A module is when it holds a layer in training mode that does
        (`equinox.nn.Dropout`, `cdl.Dropout`); a function when it requires a
        ``key`` argument.

        >>> import equinox as eqx, cdl
        >>> from jaxtyping import Array, Float
        >>> drop = cdl.lift(eqx.nn.Dropout(0.5), dom=Float[Array, "n"],
        ...                 cod=Float[Array, "n"])
        >>> drop.stochastic, cdl.inference_mode(drop).stochastic
        (True, False)
        """
        if not isinstance(self.fn, eqx.Module):
            return _requires_key(self.call)
        stochastic = (eqx.nn.Dropout, Para)
        nodes = jax.tree.leaves(self.fn, is_leaf=lambda n: isinstance(n, stochastic))
        return any(
            node.stochastic
            if isinstance(node, Para)
            else isinstance(node, eqx.nn.Dropout)
            and node.inference is not True
            and not (isinstance(node.p, int | float) and node.p == 0)
            for node in nodes
        )

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Call the module or function on `x` (its components, when unpacked)."""
        if key is None and self.stochastic:
            raise ValueError(_para_messages.needs_key(self.label))
        kwargs = {"key": key} if key is not None and _takes_key(self.call) else {}
        if self.unpack:
            return self.call(*x, **kwargs)
        return self.call(x, **kwargs)

    @property
    def call(self) -> Callable[..., Any]:
        """The wrapped callable (a `jax.tree_util.Partial` holds a function)."""
        fn: Callable[..., Any] = self.fn
        return fn


def lift(
    fn: Callable[..., Any],
    *,
    dom: object = None,
    cod: object = None,
    label: str | None = None,
    sizes: dict[str, int] | None = None,
) -> Lifted:
    """Make a Para morphism of an Equinox module or a JAX function.

    A module's array leaves become the morphism's parameters (trained, tied,
    saved like any layer's); a plain function has none. The spaces are `dom` and
    `cod` when given, else read from the annotations of the call (jaxtyping
    arrays; several required positional arguments make the domain their product,
    and the morphism passes a tuple's components as those arguments). Dimension
    names take the values of the module's int fields, then of `sizes`. When the
    domain has no variable, the call is traced once (``jax.eval_shape``) and its
    output checked against `cod` at once.

    **Arguments:**

    - `fn`: an `equinox.Module` with a ``__call__``, or any function of arrays.
    - `dom`, `cod`: the spaces, as jaxtyping annotations (``Float[Array, "n 64"]``,
      tuples of them, for products) or cdl spaces; both or neither.
    - `label`: the name shown in messages and diagrams.
    - `sizes`: values for dimension names in the annotations.

    **Returns:** the morphism, a `Lifted`; a `TypeError` naming `fn` when its
    spaces can be neither read nor checked, a `cdl.SpaceError` when its output
    does not lie in `cod`.

    >>> import equinox as eqx, jax, jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> lin = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    >>> try:
    ...     cdl.lift(lin, dom=Float[Array, "3"], cod=Float[Array, "4"])
    ... except cdl.SpaceError as error:
    ...     print(error)
    lift(Linear): declared to return float[4] on float[3], but it \
returns f32[2] (dimension 4 is not 2).
    >>> cdl.lift(lambda x: 2 * x)
    Traceback (most recent call last):
    ...
    TypeError: lift(<lambda>): its call has no jaxtyping annotations to read the \
spaces from; declare them, e.g. `cdl.lift(f, dom=Float[Array, "n"], \
cod=Float[Array, "n"])`.
    """
    if not callable(fn):
        raise TypeError(_messages.lift_not_callable(fn))
    name = label if label is not None else _name(fn)
    if (dom is None) != (cod is None):
        raise TypeError(_messages.lift_one_space(name))
    if dom is None:
        dom, cod = _annotations(fn, name)
    found = _sizes(fn, sizes)
    dom_space, cod_space = _as_space(dom, found), _as_space(cod, found)
    call = type(fn).__call__ if isinstance(fn, eqx.Module) else fn
    arity = len([p for p in _positional(call) if p.name != "self"])
    unpack = (
        isinstance(dom_space, ProductSpace)
        and arity == len(dom_space.factors)
        and arity > 1
    )
    stored = fn if isinstance(fn, eqx.Module) else _partial(fn)
    lifted = Lifted(stored, (dom_space, cod_space), name, unpack)
    if is_concrete(dom_space):
        _check_output(lifted, dom_space, cod_space, name)
    return lifted


def _check_output(lifted: Lifted, dom: Space, cod: Space, name: str) -> None:
    """Trace `lifted` on `dom` and raise `SpaceError` unless it returns `cod`."""
    kwargs = {"key": jax.random.key(0)} if _requires_key(lifted.call) else {}

    def run(x: Any) -> Any:
        return lifted.call(*x, **kwargs) if lifted.unpack else lifted.call(x, **kwargs)

    try:
        returned = space_of(jax.eval_shape(run, example_of(dom)))
    except (TypeError, ValueError, IndexError) as error:
        why = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        raise SpaceError(_messages.lift_fails_on_dom(name, dom, why)) from None
    try:
        Unifier().unify(cod, returned)
    except Mismatch as error:
        raise SpaceError(
            _messages.lift_wrong_output(name, cod, dom, returned, str(error))
        ) from None
