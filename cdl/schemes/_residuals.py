"""What the level engine's forward pass keeps of each chunk's cells for the backward.

A chunk's cells are differentiated where they run (`jax.vjp`), under
`jax.checkpoint`, which redoes plain arithmetic in the backward pass rather than
keep its results (`_saved`). Of the pullback's residuals, those with a row axis
(one entry per row of the chunk: activations, the children's gathered states)
are stored in buffers of rows at the chunk's payload slots (a constructor's nodes
in its first slots); the others read the cells' parameters alone (weights,
transposed or cast) and are rebuilt in the backward pass, where XLA keeps only
that work. The backward pass then pulls cotangents back through the stored
residuals instead of running the cells again, and the parameters get theirs after
it, from the cells' sites (`_sites`). Which residual has a row axis is found from
their shapes at two chunk sizes; the cells of a constructor whose residuals do not
fit that pattern run again in the backward pass.
"""

from collections.abc import Callable
from typing import Any, Final, NamedTuple

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
from jaxtyping import Array

from ._sites import Sites, struct

Perturbed = Callable[[str, Any, Any, Any, Array, list[Array]], tuple[Any, list[Array]]]
"""A chunk's cells with their sites perturbed: ``(name, hoisted parameters,
payloads, children's carriers, children's rows, perturbations) -> (carriers,
sites' inputs)``, every argument but the parameters with a row axis."""

Axes = tuple[int | None, ...]
"""Per residual of a chunk's pullback: its row axis, or None (parameters alone)."""


class Plan(NamedTuple):
    """Per constructor kept, its residuals' row axes per chunk size and row shapes."""

    layouts: dict[tuple[str, int], Axes]
    rows: dict[str, list[jax.ShapeDtypeStruct]]


class Keep:
    """The residuals a forward pass keeps per constructor, and their pullbacks.

    **Arguments:** `perturbed`, the chunk's cells with their sites perturbed;
    `hoisted`, each constructor's hoisted parameters, differentiated and not (as
    `eqx.partition` splits them); `sites`, each constructor's `Sites`; `shapes`,
    per constructor a function of a chunk size giving the shapes of its payloads,
    children's carriers and children's rows; `sizes`, the chunk sizes.

    A constructor is kept when the residuals of every chunk size share one
    layout of rows; its chunks' pullbacks then give the cotangents of its sites'
    perturbations, and its parameters' cotangent is taken after the sweep
    (`parameters`). Chunks of other constructors run their cells again.
    Planning traces every chunk size's pullback; a `plan` from an earlier `Keep`
    of the same fold (the forward pass's, handed to the backward's) skips that.
    """

    def __init__(
        self,
        perturbed: Perturbed,
        hoisted: dict[str, tuple[Any, Any]],
        sites: dict[str, Sites],
        shapes: dict[str, Callable[[int], tuple[Any, Any, Any]]],
        sizes: tuple[int, ...],
        plan: "Plan | None" = None,
    ) -> None:
        self.perturbed, self.hoisted, self.sites = perturbed, hoisted, sites
        self.shapes, self.sizes = shapes, sizes
        self.layouts: dict[tuple[str, int], Axes] = {}
        self.rows: dict[str, list[jax.ShapeDtypeStruct]] = {}
        if plan is not None:
            self.layouts, self.rows = dict(plan.layouts), dict(plan.rows)
            return
        for name in shapes:
            self._plan(name, sizes)

    @property
    def plan(self) -> "Plan":
        """The row layouts found, for another `Keep` of the same fold."""
        return Plan(dict(self.layouts), dict(self.rows))

    def _zeros(self, name: str, size: int) -> list[Array]:
        """Zero perturbations of a chunk's sites."""
        return [
            jnp.zeros((size, *e.shape), e.dtype) for e in self.sites[name].perturbations
        ]

    def _pullback(self, name: str, child: Array) -> Callable[..., Any]:
        """The chunk's cells as a function of what is differentiated."""
        fixed, loose = self.hoisted[name]
        r = eqx.combine(fixed, loose)

        def run(pay: Any, kids: Any) -> Any:
            return jax.vjp(
                jax.checkpoint(
                    lambda d, x, e: self.perturbed(
                        name, r, eqx.combine(d, pay[1]), x, child, e
                    ),
                    policy=_saved,
                    prevent_cse=False,
                ),
                pay[0],
                kids,
                self._zeros(name, child.shape[0]),
                has_aux=True,
            )

        return run

    def _residuals(self, name: str, size: int) -> list[jax.ShapeDtypeStruct]:
        """The shapes of a chunk's residuals at `size` rows."""
        pay, kids, child = self.shapes[name](size)

        def leaves(pay: Any, kids: Any, child: Array) -> Any:
            split = eqx.partition(pay, eqx.is_inexact_array)
            return jax.tree.leaves(self._pullback(name, child)(split, kids)[1])

        out: list[jax.ShapeDtypeStruct] = jax.eval_shape(leaves, pay, kids, child)
        return out

    def _plan(self, name: str, sizes: tuple[int, ...]) -> None:
        """Each chunk size's row axes and the row buffers they share: all or none."""
        shapes = {s: self._residuals(name, s) for s in sizes}
        layouts = {}
        for i, s in enumerate(sizes):
            other = shapes[sizes[i - 1]] if i else self._residuals(name, 2 * s)
            axes = _row_axes(shapes[s], other)
            if axes is None:
                return
            rows = [
                struct(
                    tuple(d for j, d in enumerate(leaf.shape) if j != ax), leaf.dtype
                )
                for leaf, ax in zip(shapes[s], axes, strict=True)
                if ax is not None
            ]
            if self.rows.setdefault(name, rows) != rows:
                del self.rows[name]
                return
            layouts[name, s] = axes
        self.layouts.update(layouts)

    def kept(self, name: str) -> bool:
        """Whether `name`'s chunks keep their residuals."""
        return name in self.rows

    def _shared(self) -> dict[tuple[tuple[int, ...], Any], int]:
        """How many row buffers of each shape and dtype the constructors share.

        Residuals are stored by row, which no two constructors' nodes share, so
        one constructor's j-th residual of a shape and another's use one buffer.
        """
        counts: dict[tuple[tuple[int, ...], Any], int] = {}
        for row in self.rows.values():
            mine: dict[tuple[tuple[int, ...], Any], int] = {}
            for r in row:
                key = (r.shape, r.dtype)
                mine[key] = mine.get(key, 0) + 1
            for key, n in mine.items():
                counts[key] = max(counts.get(key, 0), n)
        return counts

    def _places(self, name: str) -> list[tuple[tuple[tuple[int, ...], Any], int]]:
        """Where each of `name`'s residuals is stored: its shared buffer."""
        seen: dict[tuple[tuple[int, ...], Any], int] = {}
        out = []
        for r in self.rows[name]:
            key = (r.shape, r.dtype)
            out.append((key, seen.get(key, 0)))
            seen[key] = seen.get(key, 0) + 1
        return out

    def _stored(self, name: str) -> list[int]:
        """Which of `name`'s sites' inputs are kept (the others are recomputed)."""
        sites = self.sites[name]
        return [i for i, again in enumerate(sites.recomputed) if not again]

    def empty(self, rows: int) -> tuple[dict[Any, Array], dict[str, list[Array]]]:
        """Zeroed row buffers: residuals (shared), sites' inputs (per constructor).

        The residual buffers of one shape and dtype are one array, ``[n, rows,
        ...]``: n arrays zeroed alike would be one zeroed array copied n times
        (XLA merges the equal zeros, then copies them apart for the loops).
        """
        shared = {
            key: jnp.zeros((n, rows, *key[0]), key[1])
            for key, n in self._shared().items()
        }
        inputs = {
            name: [
                jnp.zeros((rows, *self.sites[name].inputs[i].shape),
                          self.sites[name].inputs[i].dtype)
                for i in self._stored(name)
            ]
            for name in self.rows
        }  # fmt: skip
        return shared, inputs

    def cotangents(self, rows: int) -> dict[str, list[Array]]:
        """Zeroed row buffers per kept constructor for its sites' cotangents."""
        return {
            name: [
                jnp.zeros((rows, *e.shape), e.dtype)
                for e in self.sites[name].perturbations
            ]
            for name in self.rows
        }

    def step(
        self, name: str, row: Array, slot: Array, child: Array, pay: Any, kids: Any,
        saved: Any,
    ) -> tuple[Any, Any]:  # fmt: skip
        """A chunk's carriers, its residuals written from row `row` on.

        Residuals are kept by row, in buffers shared across constructors (the
        backward sweep reads them where it reads the chunk's cotangents); the
        sites' inputs by payload slot, so that one constructor's nodes fill the
        first slots of its buffers, whatever the levels hold besides.
        """
        size = child.shape[0]
        fixed, loose = self.hoisted[name]
        if not self.kept(name):
            r = eqx.combine(fixed, loose)
            zeros = self._zeros(name, size)
            return self.perturbed(name, r, pay, kids, child, zeros)[0], saved
        split = eqx.partition(pay, eqx.is_inexact_array)
        out, vjp, inputs = self._pullback(name, child)(split, kids)
        leaves = jax.tree.leaves(vjp)
        stored = (
            jnp.moveaxis(leaf, ax, 0)
            for leaf, ax in zip(leaves, self.layouts[name, size], strict=True)
            if ax is not None
        )
        shared, ins = saved
        shared = dict(shared)
        for (key, j), value in zip(self._places(name), stored, strict=True):
            b = shared[key]
            at: list[Array | int] = [j, row, *[0] * (b.ndim - 2)]
            shared[key] = jax.lax.dynamic_update_slice(b, value[None], at)
        mine = [
            jax.lax.dynamic_update_slice_in_dim(b, inputs[i].astype(b.dtype), slot, 0)
            for b, i in zip(ins[name], self._stored(name), strict=True)
        ]
        return out, (shared, {**ins, name: mine})

    def pull(
        self, name: str, row: Array, child: Array, pay: Any, saved: Any
    ) -> Callable[[Any], tuple[Any, Any, Any]]:
        """The pullback of a chunk at rows ``row…`` from its kept residuals.

        It maps the carriers' cotangents to those of the sites' perturbations,
        the payloads and the children's carriers. The cells are traced on zero
        children to rebuild the pullback's shape and its residuals of the
        parameters alone; the rest of that work is dead and XLA drops it.
        """
        size = child.shape[0]
        _, kid_shapes, _ = self.shapes[name](size)
        kids = jax.tree.map(lambda k: jnp.zeros(k.shape, k.dtype), kid_shapes)
        split = eqx.partition(pay, eqx.is_inexact_array)
        _, vjp, _ = self._pullback(name, child)(split, kids)
        leaves, treedef = jax.tree.flatten(vjp)
        shared, _ = saved
        rows = iter(
            jax.lax.dynamic_slice(
                shared[key],
                (j, row, *[0] * (shared[key].ndim - 2)),
                (1, size, *shared[key].shape[2:]),
            )[0]
            for key, j in self._places(name)
        )
        merged = [
            leaf if ax is None else jnp.moveaxis(next(rows), 0, ax)
            for leaf, ax in zip(leaves, self.layouts[name, size], strict=True)
        ]
        vjp = jax.tree.unflatten(treedef, merged)

        def pull(g: Any) -> tuple[Any, Any, Any]:
            dp, dk, deps = vjp(g)
            return deps, dp, dk

        return pull

    def parameters(
        self, name: str, first: Array, size: int, cotangents: list[Array], saved: Any,
        cells: Callable[[], tuple[Any, Any, Array]], valid: Array,
    ) -> Any:  # fmt: skip
        """The cotangent of `name`'s differentiated parameters from `size` slots.

        `cotangents` are the sites' perturbations' cotangents at slots
        ``first…`` (zero where a slot holds no node to count, as `valid` says).
        The sites' inputs are read from the forward pass's buffers, or computed
        again from the slots' cell arguments, `cells()`: payloads, children's
        carriers and rows (the cells' other work is dead and XLA drops it).
        """
        fixed, loose = self.hoisted[name]
        r = eqx.combine(fixed, loose)
        sites = self.sites[name]
        _, ins = saved
        stored = iter(jax.lax.dynamic_slice_in_dim(b, first, size) for b in ins[name])
        again: list[Array] = []
        if any(sites.recomputed):
            pay, kids, child = cells()
            eps = self._zeros(name, size)
            _, again = self.perturbed(name, r, pay, kids, child, eps)
        inputs = [
            _rows_where(valid, again[i]) if redo else next(stored)
            for i, redo in enumerate(sites.recomputed)
        ]
        return sites.parameters(r, inputs, cotangents, lambda _: (fixed, loose))


def _rows_where(valid: Array, x: Array) -> Array:
    """`x` where `valid` (per row), else zero: rows past the nodes may hold anything."""
    return jnp.where(valid.reshape(-1, *[1] * (x.ndim - 1)), x, 0)


def _row_axes(
    at: list[jax.ShapeDtypeStruct], other: list[jax.ShapeDtypeStruct]
) -> Axes | None:
    """Each residual's row axis: where its shape differs between two chunk sizes.

    None where the two differ otherwise (another count, a dtype, two axes).
    """
    if len(at) != len(other):
        return None
    axes: list[int | None] = []
    for a, b in zip(at, other, strict=True):
        if a.dtype != b.dtype or len(a.shape) != len(b.shape):
            return None
        pairs = enumerate(zip(a.shape, b.shape, strict=True))
        diff = [j for j, (x, y) in pairs if x != y]
        if len(diff) > 1:
            return None
        axes.append(diff[0] if diff else None)
    return tuple(axes)


_ARITHMETIC: Final = frozenset(
    p.name
    for p in (
        jax.lax.add_p, jax.lax.sub_p, jax.lax.mul_p, jax.lax.div_p, jax.lax.neg_p,
        jax.lax.integer_pow_p, jax.lax.square_p, jax.lax.convert_element_type_p,
        jax.lax.max_p, jax.lax.min_p, jax.lax.abs_p, jax.lax.sign_p,
        jax.lax.select_n_p,
    )
)  # fmt: skip
"""Elementwise operations the backward pass redoes rather than reads back."""


def _saved(prim: jax.extend.core.Primitive, *_: Any, **__: Any) -> bool:
    """Whether a cell's operation keeps its output for the backward pass.

    Products, transcendental functions and data movement keep theirs; plain
    arithmetic is redone from what they kept. A sigmoid's derivative
    ``s * (1 - s)`` is then read as ``s`` alone, which the product with the
    gate needs anyway: a Tree-LSTM node keeps 8 rows of residuals instead of
    14, and every row kept costs a zeroed buffer, a write and a read.
    """
    return prim.name not in _ARITHMETIC
