"""How `cdl.prepro`, `cdl.postpro`, `cdl.hoist` and `cdl.chrono` run, for any functor.

`prepro` and `postpro` apply a natural transformation of the functor at every
layer below the first: before folding (`prepro`: Haskell's ``prepro k f = f . fmap
(prepro k f . hoist k) . project``, so a node at depth `i` meets it `i` times) or
after unfolding (`postpro`: ``postpro k g = embed . fmap (hoist k . postpro k g) .
g``). A natural transformation is written as a function of layers that matches on
the functor's patterns; it may change a constructor (``Cons x _ | x > 10 -> Nil``
cuts the list there, `cdl.choose` deciding on traced values) and move, drop or
repeat children (see `cdl.schemes.Natural`). For lists a `cdl.Para` ``E → E``
also does: the transformations that keep every element's shape are the maps on
elements.

The definitions apply the transformation ``Σ depth`` times: cdl runs it on every
node at once, one vectorised step per level of depth in one `jax.lax.scan`, then
the fold or unfold's own engine. Since a transformation cannot look into children,
a node at depth `i` of the result is a node at depth `i` of the input with its
layer transformed `i` times.

`chrono` is the histomorphism of a futumorphism: unfold a seed several elements at a
time, then fold with a look-back.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._para import Para
from .._space import Space, SpaceVar
from . import _messages
from ._fold import evaluate, forward_traced
from ._functor import Functor, Layer
from ._list import (
    Ana,
    Cata,
    Futu,
    Histo,
    ListAlgebra,
    ListCoalgebra,
    PaddedList,
    _unpack,
)
from ._natural import Natural, State, powers
from ._terms import is_list_functor, list_algebra, list_values
from ._tree import Algebra, NodeTable, tree_table
from ._tree_unfolds import Coalgebra, TreeAna, Unfolded, fold

_shape_dtype: Callable[..., Any] = jax.ShapeDtypeStruct
_A = TypeVar("_A")
_S = TypeVar("_S")


def _iterated(eta: Para[Any, Any], values: Any, n: int) -> Any:
    """Row `i` of `values` with `eta` applied `i` times."""
    if n < 2:
        return values
    index = jnp.arange(n)

    def body(rows: Any, k: Array) -> tuple[Any, None]:
        moved = jax.vmap(eta)(rows)
        keep = index >= k
        rows = jax.tree.map(
            lambda m, r: jnp.where(keep.reshape(-1, *[1] * (r.ndim - 1)), m, r),
            moved,
            rows,
        )
        return rows, None

    out, _ = jax.lax.scan(body, values, jnp.arange(1, n))
    return out


def as_natural(scheme: str, eta: Any, functor: Functor) -> Para[Any, Any] | Natural:
    """`eta` as a map on list elements (a `cdl.Para`) or a natural transformation."""
    if isinstance(eta, Natural):
        nat = eta
    elif isinstance(eta, Para):
        if not is_list_functor(functor):
            raise TypeError(_messages.element_map(scheme, functor.name))
        return eta
    elif callable(eta):
        nat = Natural(functor, eta)
    else:
        raise TypeError(_messages.not_a_cell(f"{scheme}'s transformation", eta))
    return nat


def _cut_list(
    nat: Natural, values: Any, length: Array | None, n: int, truncated: Any
) -> PaddedList:
    """The list with its element `i` transformed `i` times, up to its first ``Nil``.

    A cut-off list is no longer cut off if it now ends before the cut.
    """
    cons, nil = nat.functor.tag("Cons"), nat.functor.tag("Nil")
    if n == 0:
        return PaddedList(values, jnp.int32(0) if length is None else length, truncated)
    state: State = (
        jnp.full(n, cons, jnp.int32),
        {"Cons": values},
        jnp.broadcast_to(jnp.arange(nat.width), (n, nat.width)),
    )
    tags, payloads, _ = powers(nat, state, jnp.arange(n), n - 1, n)
    ends = tags == nil
    first = jnp.where(ends.any(), jnp.argmax(ends), n).astype(jnp.int32)
    stop = first if length is None else jnp.minimum(length, first)
    if truncated is not None:
        truncated = truncated & (first >= (n if length is None else length))
    return PaddedList(payloads["Cons"], stop, truncated)


class Prepro(Para[Any, _A], Generic[_A]):
    """The prepromorphism of an algebra; built by `cdl.prepro`."""

    eta: Any
    algebra: Any
    max_depth: int | None = eqx.field(static=True, default=None)

    def signature(self) -> tuple[Space, Space]:
        """Lists of the algebra's elements to its carrier, or tables to carriers."""
        if isinstance(self.algebra, ListAlgebra):
            return Cata(self.algebra).signature()
        return SpaceVar("NodeTable"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``prepro(<eta>, <algebra>)``."""
        eta = self.eta.label
        return f"prepro({eta}, {self.algebra.label})"

    def __call__(self, data: Any) -> _A:
        """Transform the layer at depth `i` `i` times, then fold."""
        algebra = self.algebra
        if isinstance(algebra, ListAlgebra) or is_list_functor(algebra.functor):
            if isinstance(algebra, Algebra):
                algebra = list_algebra(algebra)
            values, length, n = _unpack(self.label, list_values(self.label, data))
            if isinstance(self.eta, Natural):
                cut = data.truncated if isinstance(data, PaddedList) else None
                cut_out: _A = Cata(algebra)(_cut_list(self.eta, values, length, n, cut))
                return cut_out
            moved = _iterated(self.eta, values, n)
            if isinstance(data, PaddedList):
                moved = PaddedList(moved, data.length, data.truncated)
            folded: _A = Cata(algebra)(moved)
            return folded
        nat: Natural = self.eta
        if isinstance(data, Unfolded):
            depths = np.arange(data.max_depth)
            out: _A = fold(algebra, transformed(nat, data, depths))
            return out
        if not isinstance(data, NodeTable):
            data = tree_table(algebra.functor, data, forest=isinstance(data, list))
        result: _A = _table_prepro(self.label, nat, algebra, data, self.max_depth)
        return result


def _row_depths(scheme: str, table: NodeTable) -> Array:
    """Each row's depth below its root (one top-down pass per level)."""
    rows = table.rows
    n = rows.tags.shape[0]
    kids = rows.children
    roots = table.roots.reshape(-1)
    lo = jnp.full(n, n, jnp.int32).at[roots].set(0)
    hi = jnp.full(n, -1, jnp.int32).at[roots].set(0)

    def down(_: Any, bounds: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bounds
        reached = lo < n
        low = jnp.broadcast_to(jnp.where(reached, lo + 1, n)[:, None], kids.shape)
        high = jnp.broadcast_to(jnp.where(reached, hi + 1, -1)[:, None], kids.shape)
        return lo.at[kids].min(low), hi.at[kids].max(high)

    lo, hi = jax.lax.fori_loop(0, table.levels, down, (lo, hi))
    shared = (rows.tags >= 0) & (lo < n) & (lo != hi)
    depths: Array = eqx.error_if(lo, shared.any(), _messages.shared_depths(scheme))
    return depths


class _Become(Para[Any, Any]):
    """A prepro cell: the algebra's cell of the constructor a node has become.

    It gets the node's transformed state as its payload and its original
    children's carriers, picks the children the state names and runs the cell of
    the state's constructor (each constructor the node may become is computed,
    one picked).
    """

    functor: Functor = eqx.field(static=True)
    source: str = eqx.field(static=True)
    targets: tuple[str, ...] = eqx.field(static=True)
    cells: dict[str, Para[Any, Any]]

    def signature(self) -> tuple[Space, Space]:
        """Layers to carriers (unchecked pytrees)."""
        return SpaceVar("F(A)"), SpaceVar("A")

    def __call__(self, x: tuple[State, Any]) -> Any:
        """The cell of the node's constructor, on the children it names."""
        (tag, payloads, sel), children = x
        source = self.functor.constructor(self.source)
        if source.variadic:
            stacked, present = children
        elif source.arity:
            stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *children)
            present = jnp.ones(source.arity, bool)
        out = None
        for name in self.targets:
            c = self.functor.constructor(name)
            pay = payloads[name] if c.payload else jnp.zeros(0)
            kids: Any = ()
            if c.arity:
                picks = jnp.clip(sel[: c.arity], 0, source.arity - 1)
                if c.variadic:
                    mask = (sel[: c.arity] >= 0) & present[picks]
                    kids = (jax.tree.map(lambda s, p=picks: s[p], stacked), mask)
                else:
                    kids = tuple(
                        jax.tree.map(lambda s, p=p: s[p], stacked) for p in picks
                    )
            value = self.cells[name]((pay, kids))
            t = self.functor.tag(name)
            out = (
                value
                if out is None
                else jax.tree.map(
                    lambda v, o, t=t: jnp.where(tag == t, v, o), value, out
                )
            )
        return out


def _table_prepro(
    scheme: str,
    nat: Natural,
    algebra: Algebra[_A],
    table: NodeTable,
    max_depth: int | None,
) -> _A:
    """Check the table, then fold it (compiled once per structure and bound)."""
    if table.functor != algebra.functor:
        raise TypeError(
            _messages.wrong_functor(scheme, algebra.functor.name, table.functor.name)
        )
    times = table.capacity - 1
    if max_depth is not None:
        times = min(times, max_depth)
        levels = jnp.asarray(table.levels)
        table = eqx.tree_at(
            lambda t: t.levels,
            table,
            eqx.error_if(
                levels, levels > max_depth + 1, _messages.deeper(scheme, max_depth)
            ),
        )
    elif not isinstance(table.levels, jax.core.Tracer):
        # Depths rounded up to a power of two (at least 16) share a program.
        depth = max(int(table.levels) - 1, 1)
        times = min(times, max(16, 1 << (depth - 1).bit_length()))
    # Compiled under an eager `jax.grad` or `jax.vmap` too, so that its loops
    # never run one operation at a time.
    out: _A = _compiled(scheme, nat, algebra, table, times, forward_traced())
    return out


def _prepro_table(
    scheme: str,
    nat: Natural,
    algebra: Algebra[_A],
    table: NodeTable,
    times: int,
    forward: bool = False,
) -> _A:
    """Transform every row's layer `depth` times (at most `times`), then fold.

    `forward` (whether a forward derivative is taken) only keys the compiled
    program: the fold inside reads it from the trace (`_fold.forward_mode`).
    """
    del forward
    functor = algebra.functor
    table = jax.tree.map(jnp.asarray, table)
    rows = table.rows
    n = rows.tags.shape[0]
    depths = _row_depths(scheme, table)
    payloads = {
        c.name: jax.tree.map(
            lambda p: jnp.asarray(p)[rows.slots], table.payloads[c.name]
        )
        for c in functor.constructors
        if c.payload
    }
    state: State = (
        jnp.maximum(rows.tags, 0),
        payloads,
        jnp.broadcast_to(jnp.arange(nat.width), (n, nat.width)),
    )
    state = powers(nat, state, depths, times, table.levels)
    shapes = jax.tree.map(lambda p: _shape_dtype(p.shape[1:], p.dtype), payloads)
    targets = nat.targets(shapes)
    stored = {}
    for t, c in enumerate(functor.constructors):
        slot = jnp.where(rows.tags == t, rows.slots, n)
        stored[c.name] = jax.tree.map(
            lambda s, slot=slot: jnp.zeros_like(s).at[slot].set(s, mode="drop"), state
        )
    cells = {
        c.name: _Become(
            functor,
            c.name,
            targets[c.name],
            {name: algebra.cells[name] for name in targets[c.name]},
        )
        for c in functor.constructors
    }
    moved = eqx.tree_at(lambda tb: tb.payloads, table, stored)
    # Every constructor's slots now hold states, whose shapes are known.
    moved = dataclasses.replace(moved, unknown=frozenset())
    out: _A = evaluate(Algebra(functor, None, carrier=algebra.carrier, **cells), moved)
    return out


_compiled = eqx.filter_jit(_prepro_table)


def transformed(nat: Natural, tree: Unfolded, times: np.ndarray) -> Unfolded:
    """`tree` with each layer at level `d` transformed ``times[d]`` times.

    The children are linked again as the transformed layers name them; a node
    no longer reached from the root is no longer `valid`, and the structure is
    cut off only where a node still reached misses a child.
    """
    functor = tree.functor
    depth, width, k = tree.max_depth, tree.max_width, nat.width
    kids = tree.children
    if kids.shape[-1] < k:
        pad = jnp.full((depth, width, k - kids.shape[-1]), -1, kids.dtype)
        kids = jnp.concatenate([kids, pad], axis=-1)
    flat = depth * width
    state: State = (
        tree.tags.reshape(flat),
        jax.tree.map(lambda p: p.reshape(flat, *p.shape[2:]), tree.payloads),
        jnp.broadcast_to(jnp.arange(k), (flat, k)),
    )
    levels = jnp.broadcast_to(jnp.asarray(times)[:, None], (depth, width))
    state = powers(nat, state, levels.reshape(flat), int(np.max(times)), None)
    tags, payloads, sel = jax.tree.map(
        lambda x: x.reshape(depth, width, *x.shape[1:]), state
    )
    linked = jnp.where(
        sel >= 0, jnp.take_along_axis(kids, jnp.maximum(sel, 0), axis=-1), -1
    )
    cons = functor.constructors
    arity = jnp.array([c.arity for c in cons], jnp.int32)[tags]
    fixed = ~jnp.array([c.variadic for c in cons])[tags]
    within = jnp.arange(k)[None, None, :] < arity[..., None]
    needed = within & fixed[..., None]

    def down(reach: Array, level: tuple[Array, Array, Array]) -> tuple[Array, Any]:
        children, inside, need = level
        missing = (reach[:, None] & need & (children < 0)).any()
        follow = reach[:, None] & inside & (children >= 0)
        target = jnp.where(follow, children, width)
        below = jnp.zeros(width, bool).at[target].set(True, mode="drop")
        return below, (reach, missing)

    root = jnp.zeros(width, bool).at[0].set(True)
    _, (reach, missing) = jax.lax.scan(down, root, (linked, within, needed))
    valid = reach & tree.valid
    mine = {c.name: valid & (tags == t) for t, c in enumerate(functor.constructors)}
    payloads = {
        name: jax.tree.map(
            lambda p, m=mine[name]: jnp.where(
                m.reshape(m.shape + (1,) * (p.ndim - 2)), p, 0
            ),
            tree_,
        )
        for name, tree_ in payloads.items()
    }
    linked = jnp.where(valid[..., None] & within, linked, -1)
    too_deep, too_wide = missing[-1], missing[:-1].any()
    if any(c.variadic for c in cons):
        # A variadic node's missing child may be absent or cut off: keep the cut.
        too_deep, too_wide = too_deep | tree.too_deep, too_wide | tree.too_wide
    return Unfolded(
        functor,
        tree.widths,
        jnp.where(valid, tags, 0),
        valid,
        payloads,
        linked[..., : tree.children.shape[-1]],
        too_deep,
        too_wide,
    )


class Postpro(Para[_S, Any], Generic[_S]):
    """The postpromorphism of a coalgebra; built by `cdl.postpro`."""

    eta: Any
    coalgebra: Any
    max_size: int = eqx.field(static=True)
    widths: tuple[int, ...] = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to padded lists or `cdl.Unfolded`s."""
        out = "PaddedList" if isinstance(self.coalgebra, ListCoalgebra) else "Unfolded"
        return self.coalgebra.signature()[0], SpaceVar(out)

    @property
    def label(self) -> str:
        """``postpro(<eta>, <coalgebra>, <bounds>)``."""
        eta = self.eta.label
        bound = self.max_size or self.widths
        return f"postpro({eta}, {self.coalgebra.label}, {bound})"

    def __call__(self, seed: _S) -> Any:
        """Unfold, then transform the layer at depth `i` `i` times."""
        if isinstance(self.coalgebra, Coalgebra):
            tree = TreeAna(self.coalgebra, self.widths)(seed)
            return transformed(self.eta, tree, np.arange(len(self.widths)))
        out = Ana(self.coalgebra, self.max_size)(seed)
        if isinstance(self.eta, Natural):
            return _cut_list(
                self.eta, out.values, out.length, self.max_size, out.truncated
            )
        values = _iterated(self.eta, out.values, self.max_size)
        return PaddedList(values, out.length, out.truncated)


def hoisted(nat: Natural, data: Any) -> Any:
    """`data`, a term or an `Unfolded`, with `nat` applied at every layer."""
    if isinstance(data, Unfolded):
        return transformed(nat, data, np.ones(data.max_depth, np.int64))
    return _hoist_term(nat, data)


def _hoist_term(nat: Natural, term: Any) -> Layer[Any]:
    stack: list[tuple[Any, bool]] = [(term, False)]
    done: list[Layer[Any]] = []
    while stack:
        layer, expanded = stack.pop()
        if not isinstance(layer, Layer):
            raise TypeError(_messages.not_a_term(nat.functor.name, layer))
        n = len(layer.children)
        if not expanded:
            stack.append((layer, True))
            stack.extend((child, False) for child in reversed(layer.children))
            continue
        kids = done[len(done) - n :] if n else []
        del done[len(done) - n :]
        done.append(nat.on_term(Layer(layer.constructor, layer.payload, tuple(kids))))
    return done[-1]


class Chrono(Para[_S, _A], Generic[_S, _A]):
    """The chronomorphism ``histo ∘ futu``; built by `cdl.chrono`."""

    unfold: Futu[_S]
    fold: Histo[_A]

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the fold's carrier (unchecked pytrees)."""
        return self.unfold.signature()[0], SpaceVar("A")

    @property
    def label(self) -> str:
        """``chrono(<unfold>, <fold>)``."""
        return f"chrono({self.unfold.label}, {self.fold.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold `seed`, then fold the list with the look-back."""
        return self.fold(self.unfold(seed))
