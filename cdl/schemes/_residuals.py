"""What the level engine's forward pass keeps of each chunk's cells for the backward.

A chunk's cells are differentiated where they run (`jax.vjp`). Of the pullback's
residuals, those with a row axis (one entry per row of the chunk: activations,
the children's gathered states) are stored in buffers of rows, at the chunk's rows;
the others read the cells' parameters alone (weights, transposed or cast) and are
rebuilt in the backward pass, where XLA keeps only that work. The backward pass
then pulls cotangents back through the stored residuals instead of running the
cells again. Which residual has a row axis is found from their shapes at two
chunk sizes; a chunk size whose residuals do not fit that pattern is run again in
the backward pass, as a cell is without `Keep`.
"""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

Local = Callable[[str, Any, Any, Any, Array], Any]
"""A chunk's cells: ``(name, hoisted parameters, payloads, children's carriers,
children's rows) -> carriers``, every argument but the parameters with a row axis."""

struct: Callable[..., jax.ShapeDtypeStruct] = jax.ShapeDtypeStruct
"""`jax.ShapeDtypeStruct`, typed."""

Axes = tuple[int | None, ...]
"""Per residual of a chunk's pullback: its row axis, or None (parameters alone)."""


class Keep:
    """The residuals a forward pass keeps per constructor, and their pullbacks.

    **Arguments:** `local`, the chunk's cells; `fixed`, each constructor's
    hoisted parameters; `shapes`, per constructor a function of a chunk size
    giving the shapes of its payloads, children's carriers and children's rows.
    """

    def __init__(
        self,
        local: Local,
        fixed: dict[str, Any],
        shapes: dict[str, Callable[[int], tuple[Any, Any, Any]]],
        sizes: tuple[int, ...],
    ) -> None:
        self.local, self.fixed, self.shapes = local, fixed, shapes
        self.sizes = sizes
        self.layouts: dict[tuple[str, int], Axes] = {}
        self.rows: dict[str, list[jax.ShapeDtypeStruct]] = {}
        for name in shapes:
            self._plan(name, sizes)

    def _pullback(self, name: str, child: Array) -> Callable[..., Any]:
        """The chunk's cells as a function of what is differentiated."""

        def run(r: Any, pay: Any, kids: Any) -> Any:
            return jax.vjp(
                lambda r, d, x: self.local(name, r, eqx.combine(d, pay[1]), x, child),
                r,
                pay[0],
                kids,
            )

        return run

    def _residuals(self, name: str, size: int) -> list[jax.ShapeDtypeStruct]:
        """The shapes of a chunk's residuals at `size` rows."""
        pay, kids, child = self.shapes[name](size)

        def leaves(r: Any, pay: Any, kids: Any, child: Array) -> Any:
            split = eqx.partition(pay, eqx.is_inexact_array)
            return jax.tree.leaves(self._pullback(name, child)(r, split, kids)[1])

        out: list[jax.ShapeDtypeStruct] = jax.eval_shape(
            leaves, self.fixed[name], pay, kids, child
        )
        return out

    def _plan(self, name: str, sizes: tuple[int, ...]) -> None:
        """Each chunk size's row axes, and the row buffers they share."""
        shapes = {s: self._residuals(name, s) for s in sizes}
        for i, s in enumerate(sizes):
            other = shapes[sizes[i - 1]] if i else self._residuals(name, 2 * s)
            axes = _row_axes(shapes[s], other)
            if axes is None:
                continue
            rows = [
                struct(
                    tuple(d for j, d in enumerate(leaf.shape) if j != ax), leaf.dtype
                )
                for leaf, ax in zip(shapes[s], axes, strict=True)
                if ax is not None
            ]
            if self.rows.setdefault(name, rows) == rows:
                self.layouts[name, s] = axes

    def kept(self, name: str, size: int) -> bool:
        """Whether chunks of `size` rows keep their residuals."""
        return (name, size) in self.layouts

    def whole(self, name: str, rows: int) -> bool:
        """Whether one pullback over all `rows` rows reads `name`'s residuals.

        True when every chunk keeps them in one layout (see
        `_levels.deferred_parameters`).
        """
        if not all(self.kept(name, s) for s in self.sizes):
            return False
        if (name, rows) not in self.layouts:
            at = self._residuals(name, rows)
            axes = _row_axes(at, self._residuals(name, self.sizes[-1]))
            if axes is None:
                return False
            row = [
                struct(tuple(d for j, d in enumerate(a.shape) if j != ax), a.dtype)
                for a, ax in zip(at, axes, strict=True)
                if ax is not None
            ]
            if row != self.rows.get(name):
                return False
            self.layouts[name, rows] = axes
        return True

    def empty(self, rows: int) -> dict[str, list[Array]]:
        """Zeroed row buffers, `rows` rows, per constructor."""
        return {
            name: [jnp.zeros((rows, *r.shape), r.dtype) for r in row]
            for name, row in self.rows.items()
        }

    def step(
        self, name: str, first: Array, child: Array, pay: Any, kids: Any,
        saved: dict[str, list[Array]],
    ) -> tuple[Any, dict[str, list[Array]]]:  # fmt: skip
        """A chunk's carriers, its residuals written into rows ``first…``."""
        size = child.shape[0]
        split = eqx.partition(pay, eqx.is_inexact_array)
        if not self.kept(name, size):
            return self.local(name, self.fixed[name], pay, kids, child), saved
        out, vjp = self._pullback(name, child)(self.fixed[name], split, kids)
        leaves = jax.tree.leaves(vjp)
        stored = iter(
            jnp.moveaxis(leaf, ax, 0)
            for leaf, ax in zip(leaves, self.layouts[name, size], strict=True)
            if ax is not None
        )
        written = [
            jax.lax.dynamic_update_slice_in_dim(b, next(stored), first, 0)
            for b in saved[name]
        ]
        return out, {**saved, name: written}

    def pull(
        self, name: str, first: Array, child: Array, pay: Any,
        saved: dict[str, list[Array]],
    ) -> Callable[[Any], tuple[Any, Any, Any]]:  # fmt: skip
        """The pullback of a chunk at rows ``first…`` from its kept residuals.

        The cells are traced on zero children to rebuild the pullback's shape and
        its residuals of the parameters alone; the rest of that work is dead and
        XLA drops it.
        """
        size = child.shape[0]
        _, kid_shapes, _ = self.shapes[name](size)
        kids = jax.tree.map(lambda k: jnp.zeros(k.shape, k.dtype), kid_shapes)
        split = eqx.partition(pay, eqx.is_inexact_array)
        _, vjp = self._pullback(name, child)(self.fixed[name], split, kids)
        leaves, treedef = jax.tree.flatten(vjp)
        rows = iter(jax.lax.dynamic_slice_in_dim(b, first, size) for b in saved[name])
        merged = [
            leaf if ax is None else jnp.moveaxis(next(rows), 0, ax)
            for leaf, ax in zip(leaves, self.layouts[name, size], strict=True)
        ]
        out: Callable[[Any], tuple[Any, Any, Any]] = jax.tree.unflatten(treedef, merged)
        return out


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
