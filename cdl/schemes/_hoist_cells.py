"""Cells split into their work on their parameters alone and the rest.

A fold calls each cell at every level; the operations of a cell that read only its
parameters (slices of stacked weights, transposes, casts) are done once, before the
fold (`split`), and the cell runs as a `Hoisted` on what they produced.
"""

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.extend.core as jcore
import numpy as np
from jaxtyping import Array

from .._para import Para
from .._space import Space, SpaceVar

Hoist = Callable[[Any], list[Array]]


class Body:
    """The rest of a cell after `split`: a function of the residuals and the input.

    It is kept as a jaxpr (`closed`, whose first `n_residuals` inputs are the
    residuals and the rest the input's leaves), so that the level engine can find
    where the parameters meet the input (`_sites.Sites`).
    """

    def __init__(
        self, closed: jcore.ClosedJaxpr, n_residuals: int, in_def: Any, out_def: Any
    ) -> None:
        self.closed, self.n_residuals = closed, n_residuals
        self.in_def, self.out_def = in_def, out_def
        self._run = jcore.jaxpr_as_fun(closed)

    def __call__(self, r: list[Array], x: Any) -> Any:
        """The body on residuals `r` and one input `x`."""
        return jax.tree.unflatten(self.out_def, self._run(*r, *jax.tree.leaves(x)))


class Hoisted(Para[Any, Any]):
    """A cell whose work on its parameters alone is done once, before the fold.

    **Arguments:** `residuals`, what that work produced; `body`, the rest of the
    cell, a function of the residuals and the cell's input (see `split`).
    """

    residuals: list[Array]
    body: Body = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Layers to carriers (unchecked pytrees)."""
        return SpaceVar("F(A)"), SpaceVar("A")

    def __call__(self, x: Any) -> Any:
        """The cell on one input."""
        return self.body(self.residuals, x)


class Closed(Para[Any, Any]):
    """A cell traced once, with the traced values it closes over as its own leaves.

    A plain function that reads a value being differentiated from its enclosing
    scope (``lambda x: w * x[0]`` inside a loss of ``w``) hides that value from
    the fold's gradient rule, which differentiates its explicit inputs only. As a
    `Closed` the value is a leaf of the cell, so the rule sees it (`closed_over`).

    **Arguments:** `weights`, the cell's own inexact arrays; `consts`, the values
    its trace closed over; `jaxpr`, the trace, on the weights' leaves and then the
    input's; `out_def`, the structure of its result.
    """

    weights: Any
    consts: list[Any]
    jaxpr: jcore.Jaxpr = eqx.field(static=True)
    out_def: Any = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Layers to carriers (unchecked pytrees)."""
        return SpaceVar("F(A)"), SpaceVar("A")

    def __call__(self, x: Any) -> Any:
        """The traced cell on one input."""
        leaves = [*jax.tree.leaves(self.weights), *jax.tree.leaves(x)]
        out = jcore.jaxpr_as_fun(jcore.ClosedJaxpr(self.jaxpr, self.consts))(*leaves)
        return jax.tree.unflatten(self.out_def, out)


def closed_over(cell: Para[Any, Any], example: Any) -> tuple[Para[Any, Any], Any]:
    """`cell`, or a `Closed` of it where its trace closes over traced values.

    `example` gives the shapes of the cell's input. A cell that closes over
    nothing traced (a `cdl.Para`, a function of its input alone) is returned as
    it is. Also returned: the shapes of its output (from the same trace).

    >>> import jax, jax.numpy as jnp
    >>> from cdl.schemes import Function
    >>> from cdl.schemes._hoist_cells import Closed, closed_over
    >>> x = jax.ShapeDtypeStruct((), jnp.float32)
    >>> cell = Function(lambda x: 2.0 * x, "double")
    >>> closed_over(cell, x)[0] is cell
    True
    >>> def scaled(w):
    ...     cell, _ = closed_over(Function(lambda x: w * x, "scale"), x)
    ...     assert isinstance(cell, Closed) and len(cell.consts) == 1
    ...     return cell(jnp.float32(3.0))
    >>> jax.grad(scaled)(jnp.float32(1.0))
    Array(3., dtype=float32)
    """
    fixed, rest = eqx.partition(cell, eqx.is_inexact_array)
    traced, out_shape = jax.make_jaxpr(
        lambda f, x: eqx.combine(f, rest)(x), return_shape=True
    )(fixed, example)
    if not any(isinstance(c, jax.core.Tracer) for c in traced.consts):
        return cell, out_shape
    out_def = jax.tree.structure(out_shape)
    return Closed(fixed, list(traced.consts), traced.jaxpr, out_def), out_shape


def split(cell: Para[Any, Any], example: Any) -> tuple[Hoist, Body]:
    """Split ``cell(x)`` into ``body(hoist(cell), x)``, `hoist` reading its arrays.

    `hoist` holds the operations that read the parameters alone (slices of
    stacked weights, transposes, casts). A fold calling the cell at every step of
    a scan would redo them at every step: XLA does not move slices out of its
    loops. Operations that enlarge their operands (broadcasts) stay in `body`,
    where XLA fuses them. `example` gives the shapes of `x`.
    """
    fixed, exact, rest = _parts(cell)
    fixed_leaves, fixed_def = jax.tree.flatten(fixed)
    exact_leaves, exact_def = jax.tree.flatten(exact)
    own = [*fixed_leaves, *exact_leaves]
    x_def = jax.tree.structure(example)
    n, n_fixed = len(own), len(fixed_leaves)

    def flat(*leaves: Array) -> Any:
        f = jax.tree.unflatten(fixed_def, leaves[:n_fixed])
        e = jax.tree.unflatten(exact_def, leaves[n_fixed:n])
        return eqx.combine(f, e, rest)(jax.tree.unflatten(x_def, leaves[n:]))

    avals = [*jax.eval_shape(lambda: own), *jax.tree.leaves(example)]
    closed, out_shape = jax.make_jaxpr(flat, return_shape=True)(*avals)
    out_def = jax.tree.structure(out_shape)
    jaxpr = closed.jaxpr
    known = set(jaxpr.invars[:n])
    free = set(jaxpr.constvars)
    hoisted, kept = [], []
    for eqn in jaxpr.eqns:
        ins = [v for v in eqn.invars if isinstance(v, jcore.Var)]
        if (
            any(v in known for v in ins)
            and all(v in known or v in free for v in ins)
            and not eqn.effects
            and _size(eqn.outvars) <= _size(ins)
        ):
            hoisted.append(eqn)
            known.update(eqn.outvars)
        else:
            kept.append(eqn)
    if not hoisted:
        return _own, Body(closed, n, x_def, out_def)
    used = [v for e in kept for v in e.invars] + list(jaxpr.outvars)
    residuals = list(
        dict.fromkeys(v for v in used if isinstance(v, jcore.Var) and v in known)
    )
    first = jcore.Jaxpr(jaxpr.constvars, jaxpr.invars[:n], residuals, hoisted)
    second = jcore.Jaxpr(
        jaxpr.constvars,
        [*residuals, *jaxpr.invars[n:]],
        jaxpr.outvars,
        kept,
        jaxpr.effects,
    )
    hoist_fn = jcore.jaxpr_as_fun(jcore.ClosedJaxpr(first, closed.consts))
    rest_closed = jcore.ClosedJaxpr(second, closed.consts)
    body = Body(rest_closed, len(residuals), x_def, out_def)

    def hoist(f: Any) -> list[Array]:
        return list(hoist_fn(*_own(f)))

    return hoist, body


def _parts(cell: Any) -> tuple[Any, Any, Any]:
    """A cell's inexact arrays, its other arrays (integers, booleans), the rest."""
    fixed, rest = eqx.partition(cell, eqx.is_inexact_array)
    exact, rest = eqx.partition(rest, eqx.is_array)
    return fixed, exact, rest


def _own(cell: Any) -> list[Array]:
    """A cell's arrays, inexact ones first: the inputs of its trace in `split`.

    Integer arrays are inputs too, not constants of the trace: traced inside a
    compiled fold, a constant would be a tracer that a gradient taken outside
    the fold cannot follow.
    """
    fixed, exact, _ = _parts(cell)
    return [*jax.tree.leaves(fixed), *jax.tree.leaves(exact)]


def _size(atoms: Sequence[Any]) -> int:
    return sum(int(np.prod(a.aval.shape)) for a in atoms)
