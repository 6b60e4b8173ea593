"""Where a cell's parameters meet its input, for weight gradients taken once.

A cell body (`_hoist_cells.Body`) reads its hoisted parameters in a few
operations that also read the input: the products of weights and inputs, the
additions of biases. These are its *sites*. The parameters' cotangent over many
rows is, per site, the site's own pullback with respect to its parameter inputs,
applied to the cotangent arriving at the site's output on each row and summed
over the rows. So the level engine runs each chunk with a zero *perturbation*
added to every site's output (`Sites.run`): the pullback with respect to the
perturbations gives those per-row cotangents in the same backward pass that
gives the children's. Each site's input rows are kept by the forward pass, or
computed again where that is cheaper (`Sites.recomputed`). After the sweep,
`Sites.parameters` contracts all rows at once: one product per weight, with no
second pullback through the cell's activations.

>>> import jax, jax.numpy as jnp
>>> from cdl.schemes._hoist_cells import split
>>> import cdl
>>> cell = cdl.TreeRNNCell(0, 3, arity=2, key=jax.random.key(0))
>>> example = (jnp.zeros(0), (jnp.zeros(3), jnp.zeros(3)))
>>> hoist, body = split(cell, example)
>>> sites = Sites(body)
>>> [s.shape for s in sites.perturbations]  # the product shares the bias's
[(3,)]
"""

from collections.abc import Callable, Sequence
from typing import Any, Final

import jax
import jax.extend.core as jcore
import jax.numpy as jnp
from jaxtyping import Array

from ._hoist_cells import Body

_Env = dict[Any, Any]

struct: Callable[..., jax.ShapeDtypeStruct] = jax.ShapeDtypeStruct
"""`jax.ShapeDtypeStruct`, typed."""


class Sites:
    """A cell body's sites: its operations that read both parameters and input.

    **Arguments:** `body`, a cell body from `split`.

    `perturbations` and `inputs` give, per row, the shapes of the perturbed
    site outputs and of the site inputs that the parameters' cotangent reads;
    `recomputed` says, per input, whether it is the cell's input moved or
    combined elementwise (no product, no transcendental function), so that it
    is cheaper to compute again from the input than to keep.
    A weight product whose only use is a bias addition shares the addition's
    perturbation (their cotangents are equal), and a site input its
    parameters' cotangent does not read (the other term of a bias addition) is
    not kept.
    """

    def __init__(self, body: Body) -> None:
        self.body = body
        jaxpr = body.closed.jaxpr
        params = set(jaxpr.invars[: body.n_residuals])
        rows = set(jaxpr.invars[body.n_residuals :])
        # Per site: the equation's index, its row inputs that its parameters'
        # cotangent reads, its float outputs.
        self.sites: list[tuple[int, list[Any], list[Any]]] = []
        for i, eqn in enumerate(jaxpr.eqns):
            ins = [v for v in eqn.invars if isinstance(v, jcore.Var)]
            if any(v in rows for v in ins):
                if any(v in params for v in ins):
                    floats = [v for v in eqn.outvars if _inexact(v)]
                    self.sites.append((i, _read_rows(eqn, rows, params), floats))
                rows.update(eqn.outvars)
            elif any(v in params for v in ins):
                params.update(eqn.outvars)
        # Outputs read from the parameters alone (a learned constant) are
        # perturbed too: their cotangent, summed over rows, is the parameters'.
        self.outputs = list(
            dict.fromkeys(
                v
                for v in jaxpr.outvars
                if isinstance(v, jcore.Var) and v in params and _inexact(v)
            )
        )
        self.shared = _shared(jaxpr, self.sites, params)
        site_vars = [v for _, _, floats in self.sites for v in floats]
        self.perturbed = [v for v in site_vars if v not in self.shared] + [
            v for v in self.outputs if v not in site_vars
        ]
        self.perturbations = [
            struct(v.aval.shape, v.aval.dtype) for v in self.perturbed
        ]
        self.inputs = [
            struct(v.aval.shape, v.aval.dtype)
            for _, row_ins, _ in self.sites
            for v in row_ins
        ]
        moved = _moved(jaxpr, body.n_residuals)
        self.recomputed = [v in moved for _, row_ins, _ in self.sites for v in row_ins]

    def run(self, r: list[Array], x: Any, eps: list[Array]) -> tuple[Any, list[Array]]:
        """The body on one row, `eps` added to its perturbed site outputs.

        Returns the output and the sites' row inputs (to keep for `parameters`).
        """
        jaxpr = self.body.closed.jaxpr
        env: _Env = {}
        _write(env, jaxpr.constvars, self.body.closed.consts)
        _write(env, jaxpr.invars, [*r, *jax.tree.leaves(x)])
        perturb = dict(zip(self.perturbed, eps, strict=True))
        at = {i: row_ins for i, row_ins, _ in self.sites}
        inputs: list[Array] = []
        for i, eqn in enumerate(jaxpr.eqns):
            if i in at:
                inputs += [env[v] for v in at[i]]
            outs = _bind(eqn, [_read(env, v) for v in eqn.invars])
            outs = [o + perturb[v] if v in perturb else o
                    for v, o in zip(eqn.outvars, outs, strict=True)]  # fmt: skip
            _write(env, eqn.outvars, outs)
        out = [_read(env, v) for v in jaxpr.outvars]
        out = [x + perturb[v] if v in self.outputs and v in perturb else x
               for v, x in zip(jaxpr.outvars, out, strict=True)]  # fmt: skip
        return jax.tree.unflatten(self.body.out_def, out), inputs

    def parameters(
        self, r: list[Array], inputs: list[Array], cotangents: list[Array],
        differentiable: Callable[[Any], tuple[Any, Any]],
    ) -> Any:  # fmt: skip
        """The cotangent of `r`'s differentiable part, summed over rows.

        `inputs` are the sites' kept row inputs and `cotangents` those of the
        perturbations, each with a leading axis of rows (rows past the nodes
        carry zero cotangents). `differentiable` splits `r` into its
        differentiated part and the rest (`eqx.partition`).
        """
        jaxpr = self.body.closed.jaxpr
        diff, rest = differentiable(r)
        if not cotangents:  # the parameters do not reach the output
            return jax.tree.map(jnp.zeros_like, diff)
        ct = dict(zip(self.perturbed, cotangents, strict=True))
        rows = cotangents[0].shape[0]

        def outputs(d: Any) -> list[Array]:
            env = self._parameters_only(_combine(d, rest))
            out: list[Array] = []
            feed = iter(inputs)
            for i, row_ins, floats in self.sites:
                eqn = jaxpr.eqns[i]
                # A list, not a dict keyed by the row inputs: vmap sorts a dict's
                # keys, and jaxpr variables have no order (a site with several row
                # inputs, such as a jax.checkpoint of a cell's product, failed).
                kept = [next(feed) for _ in row_ins]

                def site(
                    kept: Any, eqn: Any = eqn, floats: Any = floats,
                    row_ins: Any = row_ins,
                ) -> Any:  # fmt: skip
                    # Row inputs the cotangent does not read are zeros (dead).
                    local = {**env, **dict(zip(row_ins, kept, strict=True))}
                    args = [
                        _read(local, v) if not _is_row(v, local) else _zero_row(v)
                        for v in eqn.invars
                    ]
                    outs = _bind(eqn, args)
                    return [o for v, o in zip(eqn.outvars, outs, strict=True)
                            if v in floats]  # fmt: skip

                if kept:
                    out += jax.vmap(site)(kept)
                else:
                    out += [jnp.broadcast_to(o, (rows, *o.shape)) for o in site([])]
            out += [env[v] for v in self.outputs]
            return out

        site_cts = [
            ct[self.shared.get(v, v)] for _, _, floats in self.sites for v in floats
        ]
        output_cts = [ct[v].sum(0) for v in self.outputs]
        _, pull = jax.vjp(outputs, diff)
        (grad,) = pull([*site_cts, *output_cts])
        return grad

    def _parameters_only(self, r: list[Array]) -> _Env:
        """The values of the body's variables that read the parameters alone."""
        jaxpr = self.body.closed.jaxpr
        env: _Env = {}
        _write(env, jaxpr.constvars, self.body.closed.consts)
        _write(env, jaxpr.invars[: self.body.n_residuals], r)
        for eqn in jaxpr.eqns:
            ins = [v for v in eqn.invars if isinstance(v, jcore.Var)]
            if all(v in env for v in ins):
                outs = _bind(eqn, [_read(env, v) for v in eqn.invars])
                _write(env, eqn.outvars, outs)
        return env


_CHEAP: Final = frozenset(
    p.name
    for p in (
        jax.lax.concatenate_p, jax.lax.reshape_p, jax.lax.broadcast_in_dim_p,
        jax.lax.squeeze_p, jax.lax.transpose_p,
        jax.lax.slice_p, jax.lax.dynamic_slice_p, jax.lax.gather_p, jax.lax.pad_p,
        jax.lax.rev_p, jax.lax.copy_p, jax.lax.convert_element_type_p,
        jax.lax.add_p, jax.lax.sub_p, jax.lax.mul_p, jax.lax.neg_p,
        jax.lax.select_n_p, jax.lax.max_p, jax.lax.min_p,
    )
)  # fmt: skip
"""Operations that move or combine their inputs elementwise, and cost less to
redo than a row of their output costs to keep."""


def _moved(jaxpr: Any, n_residuals: int) -> set[Any]:
    """The variables computed from the input's rows by `_CHEAP` operations alone.

    Constants and the parameters' own values may join in (a mask, a bias).
    """
    moved = set(jaxpr.invars[n_residuals:])
    fixed = set(jaxpr.invars[:n_residuals]) | set(jaxpr.constvars)
    for eqn in jaxpr.eqns:
        ins = [v for v in eqn.invars if isinstance(v, jcore.Var)]
        cheap = eqn.primitive.name in _CHEAP
        if all(v in fixed for v in ins):
            fixed.update(eqn.outvars)
        elif cheap and all(v in moved or v in fixed for v in ins):
            moved.update(eqn.outvars)
    return moved


def _is_row(v: Any, env: _Env) -> bool:
    """Whether `v` is a row input not given (one the cotangent does not read)."""
    return isinstance(v, jcore.Var) and v not in env


def _zero_row(v: Any) -> Array:
    return jnp.zeros(v.aval.shape, v.aval.dtype)


def _read_rows(eqn: Any, rows: set[Any], params: set[Any]) -> list[Any]:
    """The row inputs of a site that its parameters' cotangent reads.

    Found by tracing that cotangent and following which inputs reach it.
    """
    row_ins = list(dict.fromkeys(v for v in eqn.invars if v in rows))
    param_ins = list(dict.fromkeys(
        v for v in eqn.invars
        if isinstance(v, jcore.Var) and v in params and _inexact(v)
    ))  # fmt: skip
    floats = [v for v in eqn.outvars if _inexact(v)]
    if not param_ins or not floats:
        return []

    def pullback(p: list[Array], x: list[Array], ct: list[Array]) -> Any:
        def site(p: list[Array]) -> list[Array]:
            env = {**dict(zip(param_ins, p, strict=True)),
                   **dict(zip(row_ins, x, strict=True))}  # fmt: skip
            args = [
                _read(env, v)
                if not isinstance(v, jcore.Var) or v in env
                else _zero_row(v)
                for v in eqn.invars
            ]
            outs = _bind(eqn, args)
            return [o for v, o in zip(eqn.outvars, outs, strict=True) if v in floats]

        return jax.vjp(site, p)[1](ct)

    def avals(vs: list[Any]) -> list[jax.ShapeDtypeStruct]:
        return [struct(v.aval.shape, v.aval.dtype) for v in vs]

    traced = jax.make_jaxpr(pullback)(avals(param_ins), avals(row_ins), avals(floats))
    live = _live(traced.jaxpr)
    x_vars = traced.jaxpr.invars[len(param_ins) : len(param_ins) + len(row_ins)]
    return [v for v, t in zip(row_ins, x_vars, strict=True) if t in live]


def _live(jaxpr: Any) -> set[Any]:
    """The variables that the outputs of `jaxpr` depend on."""
    live = {v for v in jaxpr.outvars if isinstance(v, jcore.Var)}
    for eqn in reversed(jaxpr.eqns):
        if eqn.effects or any(v in live for v in eqn.outvars):
            live.update(v for v in eqn.invars if isinstance(v, jcore.Var))
    return live


def _shared(
    jaxpr: Any, sites: list[tuple[int, list[Any], list[Any]]], params: set[Any]
) -> dict[Any, Any]:
    """Site outputs whose only use is a bias addition: the addition's output.

    The cotangent of ``y`` in ``y + b`` is that of the sum, so the product
    before a bias shares the bias's perturbation.
    """
    uses: dict[Any, list[int]] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if isinstance(v, jcore.Var):
                uses.setdefault(v, []).append(i)
    outs = {v for v in jaxpr.outvars if isinstance(v, jcore.Var)}
    site_at = {i for i, _, _ in sites}
    shared: dict[Any, Any] = {}
    for _, _, floats in sites:
        for v in floats:
            at = uses.get(v, [])
            if v in outs or len(at) != 1 or at[0] not in site_at:
                continue
            eqn = jaxpr.eqns[at[0]]
            other = [u for u in eqn.invars if u is not v]
            if (
                eqn.primitive.name in ("add", "add_any")
                and len(other) == 1
                and isinstance(other[0], jcore.Var)
                and other[0] in params
                and eqn.outvars[0].aval.shape == v.aval.shape
                and eqn.outvars[0].aval.dtype == v.aval.dtype
            ):
                shared[v] = eqn.outvars[0]
    # A chain of additions shares the last one's perturbation.
    for v in shared:
        while shared[v] in shared:
            shared[v] = shared[shared[v]]
    return shared


def _combine(diff: Any, rest: Any) -> list[Array]:
    """A list split by `eqx.partition` put back together."""
    return [d if d is not None else s for d, s in zip(diff, rest, strict=True)]


def _inexact(v: Any) -> bool:
    return bool(jnp.issubdtype(v.aval.dtype, jnp.inexact))


def _read(env: _Env, v: Any) -> Any:
    return v.val if isinstance(v, jcore.Literal) else env[v]


def _write(env: _Env, names: Sequence[Any], values: Sequence[Any]) -> None:
    for v, x in zip(names, values, strict=True):
        if not isinstance(v, jcore.DropVar):
            env[v] = x


def _bind(eqn: Any, args: list[Any]) -> list[Any]:
    """Evaluate one equation; its results as a list."""
    out = eqn.primitive.bind(*args, **eqn.primitive.get_bind_params(eqn.params))
    return list(out) if eqn.primitive.multiple_results else [out]
