"""Plain JAX functions as the cells of algebras and coalgebras.

Wherever a scheme takes a cell, a function of arrays will do: it is wrapped as a
`Function`, a `cdl.Para` without parameters. A function annotated with jaxtyping
arrays has the spaces its annotations say, checked as a learned cell's are (its
carrier against the initial value, its input on every call); an unannotated one
(a lambda) has open spaces, found by tracing where a scheme needs them
(``jax.eval_shape``). Learned cells stay `cdl.Para`s and are taken as they are:

>>> import jax, jax.numpy as jnp, cdl
>>> total = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))
>>> total(jnp.arange(4.0))
Array(6., dtype=float32)
>>> jax.grad(total)(jnp.arange(4.0))
Array([1., 1., 1., 1.], dtype=float32)
"""

import inspect
import typing
from collections.abc import Callable
from typing import Any, Final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._para import Para, mentions_jaxtyping
from .._space import ProductSpace, Space, SpaceVar, rename, space_from_annotation
from . import _messages
from ._functor import Functor, Layer

_NUMBERS: Final = (jax.Array, np.ndarray, np.generic, int, float, complex)
"""What a cell's result may hold: arrays and numbers."""

_partial: Callable[[Callable[..., Any]], Any] = jax.tree_util.Partial


class Function(Para[Any, Any]):
    """A plain function as a cell: a `cdl.Para` with no parameters of its own.

    Its domain and codomain are those of the function's jaxtyping annotations
    (one annotated argument and the return), else open (any space: the scheme
    that runs it finds the carrier by tracing). Its outputs are JAX arrays (a
    Python number becomes a weakly typed scalar, as in `jnp.asarray`).

    **Arguments:** `fn`, the function (held as a `jax.tree_util.Partial`, or an
    `equinox.Module` as it is, so that its arrays stay parameters); `name`, the
    label.

    **Returns:** the cell.

    >>> import jax.numpy as jnp, cdl
    >>> cell = cdl.schemes.Function(lambda p: p[0] * p[1], "times")
    >>> cell((jnp.float32(3.0), jnp.float32(2.0))), cell.label
    (Array(6., dtype=float32), 'times')
    >>> from jaxtyping import Array, Float
    >>> def double(x: Float[Array, "n"]) -> Float[Array, "n"]:
    ...     return 2 * x
    >>> cdl.schemes.Function(double, "double").signature()
    (float[n], float[n])
    """

    fn: Any
    name: str = eqx.field(static=True)

    def __init__(self, fn: Callable[[Any], Any], name: str) -> None:
        self.fn = fn if isinstance(fn, eqx.Module) else _partial(fn)
        self.name = name

    @property
    def label(self) -> str:
        """The function's name."""
        return self.name

    def signature(self) -> tuple[Space, Space]:
        """The annotated spaces, else any space to any space."""
        return annotated_spaces(self.fn) or (SpaceVar("X"), SpaceVar("Y"))

    def __call__(self, x: Any) -> Any:
        """The function on `x`, its leaves made arrays."""
        return as_arrays(self.label, run_cell(self.label, self.fn, x))


def annotated_spaces(fn: Any) -> tuple[Space, Space] | None:
    """The spaces of a function of one argument whose annotations name arrays.

    None for anything else: a lambda, a module, hints that cannot be resolved, or
    annotations with no jaxtyping array in them.
    """
    func = getattr(fn, "func", fn) if isinstance(fn, jax.tree_util.Partial) else fn
    if not inspect.isfunction(func):
        return None
    try:
        hints = typing.get_type_hints(func)
        params = list(inspect.signature(func).parameters.values())
    except Exception:  # a forward reference or a builtin: stay open
        return None
    if len(params) != 1 or params[0].name not in hints or "return" not in hints:
        return None
    dom, cod = hints[params[0].name], hints["return"]
    if not (mentions_jaxtyping(dom) or mentions_jaxtyping(cod)):
        return None
    both = rename(
        ProductSpace((space_from_annotation(dom, {}), space_from_annotation(cod, {})))
    )
    assert isinstance(both, ProductSpace)
    return both.factors[0], both.factors[1]


def as_cell(cell: object, what: str) -> Para[Any, Any]:
    """`cell` as a `cdl.Para`: a Para is kept, a plain function wrapped.

    **Arguments:** `cell`; `what`, the cell's role, for the error message.

    **Returns:** the cell; raises `TypeError` for something that cannot be called.

    >>> import cdl
    >>> from cdl.schemes._plain import as_cell
    >>> as_cell(abs, "cons").label
    'abs'
    >>> as_cell(3, "cons")
    Traceback (most recent call last):
    ...
    TypeError: cons must be a cdl.Para or a function of arrays, not int.
    """
    if isinstance(cell, Para):
        return cell
    if not callable(cell):
        raise TypeError(_messages.not_a_cell(what, cell))
    return Function(cell, str(getattr(cell, "__name__", type(cell).__name__)))


class Case(Para[Any, Any]):
    """One constructor's cell cut out of a function that matches on constructors.

    The cell gets ``(payload, children)`` as every tree cell does and calls the
    function on the `cdl.Layer` of its constructor, so that a ``match`` over the
    functor's patterns (``case Leaf(x)``, ``case Node(l, r)``) takes the
    constructor's branch while tracing: the function is traced once per
    constructor, and each branch runs on its own nodes.

    **Arguments:** `fn`, the function of layers; `constructor`, the constructor's
    name; `payload`, whether it carries one (without, the layer's is ``None``).

    **Returns:** the cell.

    >>> import jax.numpy as jnp, cdl
    >>> def size(layer):
    ...     match layer:
    ...         case cdl.TreeF.Leaf(_):
    ...             return 1.0
    ...         case cdl.TreeF.Node(l, r):
    ...             return l + r
    >>> cdl.schemes.Case(size, "Node", False)((jnp.zeros(0), (2.0, 3.0)))
    Array(5., dtype=float32, weak_type=True)
    """

    fn: Any
    constructor: str = eqx.field(static=True)
    payload: bool = eqx.field(static=True)

    def __init__(self, fn: Callable[[Any], Any], constructor: str, payload: bool):
        self.fn = fn if isinstance(fn, eqx.Module) else _partial(fn)
        self.constructor = constructor
        self.payload = payload

    @property
    def label(self) -> str:
        """``<function>.<constructor>``."""
        name = getattr(self.fn, "func", self.fn)
        return f"{getattr(name, '__name__', type(name).__name__)}.{self.constructor}"

    def signature(self) -> tuple[Space, Space]:
        """Any space to any space (found by tracing where it matters)."""
        return SpaceVar("X"), SpaceVar("Y")

    def __call__(self, x: Any) -> Any:
        """The function on this constructor's layer; no branch matched is an error."""
        payload, children = x
        layer = Layer(self.constructor, payload if self.payload else None, children)
        out = run_cell(self.label, self.fn, layer)
        if out is None:
            raise TypeError(_messages.no_case(self.label, self.constructor))
        if isinstance(out, Layer):
            raise TypeError(_messages.cell_returns_term(self.label, out.constructor))
        return as_arrays(self.label, out)


def run_cell(label: str, fn: Callable[[Any], Any], x: Any) -> Any:
    """``fn(x)``, where a Python branch on a traced value is named.

    A cell runs traced (on a whole level of nodes, or under a scan): an ``if``
    on its input fails inside JAX, so the error says what to write instead.

    >>> import jax, jax.numpy as jnp
    >>> jax.jit(lambda x: run_cell("larger", lambda p: p[0] if p[0] > p[1] else p[1],
    ...     x))((jnp.float32(1.0), jnp.float32(2.0)))
    Traceback (most recent call last):
    ...
    TypeError: the cell larger branches in Python (`if`, `and`, `or`, `bool`) on ...
    """
    try:
        return fn(x)
    except jax.errors.TracerBoolConversionError as error:
        raise TypeError(_messages.python_branch_in_cell(label)) from error


def as_arrays(label: str, out: Any) -> Any:
    """The leaves of a cell's result `out` as JAX arrays; a non-number is named.

    >>> as_arrays("pretty.Lit", ("x", 1.0))
    Traceback (most recent call last):
    ...
    TypeError: the cell pretty.Lit returned a str ('x'), but a cell's result is ...
    """
    for leaf in jax.tree.leaves(out):
        if not isinstance(leaf, _NUMBERS):
            raise TypeError(_messages.cell_not_numbers(label, leaf))
    return jax.tree.map(jnp.asarray, out)


def by_constructor(functor: Functor, fn: Callable[[Any], Any]) -> dict[str, Case]:
    """One `Case` cell per constructor of `functor`, all cut out of `fn`."""
    if isinstance(fn, Para) or not callable(fn):
        raise TypeError(_messages.not_a_match(functor.name, fn))
    return {c.name: Case(fn, c.name, c.payload) for c in functor.constructors}


def run_step(label: str, step: Callable[[Any], Any], seed: Any) -> Any:
    """``step(seed)``, where a Python branch on the traced seed is named.

    An unfold's step runs under `jax.lax.scan` or `jax.vmap`, on traced seeds:
    an ``if`` on one fails inside JAX, so the error says what to write instead.
    """
    try:
        return step(seed)
    except jax.errors.TracerBoolConversionError as error:
        raise TypeError(_messages.python_branch_in_step(label)) from error
