"""Unfolds of any polynomial functor, level by level, inside `jax.jit`.

A `Coalgebra` grows one layer of ``F(S)`` from a seed: a constructor tag, the
payloads, and the seeds of the children. `ana` runs it on a whole *frontier* of
seeds at once (one level of the structure, the step `vmap`ped over it), compacts the
children's seeds into the next frontier, and goes one level deeper, within static
bounds on the depth and on the width of each level; levels of one width share a
`jax.lax.scan`. The result is an `Unfolded`, stored breadth first; `cdl.cata` folds
it back level by level in reverse, and `hylo` does both without handing the
structure out.

Unfolding and folding are dual: folding the unfold is the hylomorphism, and both
agree with the plain recursion ``cata(alg)(ana(coalg)(s)) = alg(fmap(…)(coalg(s)))``.

>>> import jax.numpy as jnp, cdl
>>> from jaxtyping import Array, Float
>>> def split(n):  # the call tree of the Fibonacci recursion
...     tag = jnp.where(n < 2, 0, 1)  # Leaf or Node
...     return tag, {"Leaf": n.astype(float)}, jnp.stack([n - 1, n - 2])
>>> class Leaf(cdl.Para[tuple[Float[Array, ""], tuple[()]], Float[Array, ""]]):
...     def __call__(self, x):
...         return x[0]
>>> class Add(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""],
...                    Float[Array, ""]]], Float[Array, ""]]):
...     def __call__(self, x):
...         return x[1][0] + x[1][1]
>>> fib = cdl.Coalgebra(cdl.TreeF, split)
>>> add = cdl.Algebra(cdl.TreeF, Leaf=Leaf(), Node=Add())
>>> tree = cdl.ana(fib, max_depth=10, max_width=64)(jnp.int32(10))
>>> cdl.cata(add)(tree), cdl.hylo(add, fib, max_depth=10, max_width=64)(jnp.int32(10))
(Array(55., dtype=float32), Array(55., dtype=float32))
"""

import abc
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int

from .._para import Para
from .._space import Space, SpaceVar
from ..nn._arguments import whole
from . import _messages
from ._functor import Constructor, Functor, Layer
from ._natural import Choice
from ._plain import run_step
from ._sites import struct
from ._sizes import size
from ._tree import (
    Algebra,
    NodeTable,
    kept_carrier,
    settle_carrier,
    tree_table,
)

_A = TypeVar("_A")
_S = TypeVar("_S")

_Sprout = tuple[Array, dict[str, Any], Any, Array]
"""One layer, normalised: tag, payloads, children (seeds ``[k, ...]``), count."""

Widths = int | Sequence[int]
"""The width of every level (an int), or of each level (one int per level)."""


class Coalgebra(Para[_S, Any], Generic[_S]):
    """A coalgebra ``S → F(S)`` of a polynomial functor, written as one array step.

    ``step(seed)`` returns ``(tag, payloads, seeds)`` or ``(tag, payloads, seeds,
    count)``, arrays that `jax.vmap` can batch:

    - `tag`: an int scalar, the constructor's index in ``functor.names``;
    - `payloads`: a dict with one entry per constructor that has a payload (only
      the chosen constructor's entry is kept, the others may be anything of the
      right shape);
    - `seeds`: the children's seeds stacked along a new first axis of length `k`,
      the largest arity of the functor (a pytree of such arrays); a constructor
      of arity `a` uses the first `a`;
    - `count`: for a variadic constructor, how many children it has, from 0 up
      to its arity (all of them when left out; another count is an error as the
      unfold runs, as a tag outside the constructors is).

    A branch stops at a constructor with no recursive field. As in Haskell, the
    step may instead return a layer built by the functor's patterns whose
    children are seeds, and `cdl.choose` picks between layers by a traced
    condition (a guard).

    **Arguments:** `functor`; `step`, a `cdl.Para` or a function of one seed.

    **Returns:** the coalgebra; unfold with `cdl.ana`, or `cdl.hylo`.

    A balanced binary tree of a given height:

    >>> import jax.numpy as jnp, cdl
    >>> def grow(h):
    ...     tag = jnp.where(h == 0, 0, 1)  # Leaf or Node
    ...     return tag, {"Leaf": jnp.float32(1.0)}, jnp.stack([h - 1, h - 1])
    >>> tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=4, max_width=8)(
    ...     jnp.int32(3))
    >>> tree.valid.sum(axis=1), tree.truncated
    (Array([1, 2, 4, 8], dtype=int32), Array(False, dtype=bool))

    A rose tree: the node `n` has ``min(n, 3)`` children ``n-1``, ``n-2``, …:

    >>> def count_down(n):
    ...     return 0, {"Node": n}, jnp.stack([n - 1, n - 2, n - 3]), jnp.minimum(n, 3)
    >>> rose = cdl.ana(cdl.Coalgebra(cdl.RoseF(3), count_down), max_depth=4,
    ...                max_width=8)(jnp.int32(3))
    >>> rose.payloads["Node"]
    Array([[3, 0, 0, 0, 0, 0, 0, 0],
           [2, 1, 0, 0, 0, 0, 0, 0],
           [1, 0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0, 0]], dtype=int32)
    >>> rose.valid.sum(axis=1)
    Array([1, 3, 3, 1], dtype=int32)

    The balanced tree again, its step written as Haskell's ``grow 0 = Leaf 1;
    grow h = Node (h - 1) (h - 1)``:

    >>> Leaf, Node = cdl.TreeF.patterns
    >>> grow = lambda h: cdl.choose(h == 0, Leaf(1.0), Node(h - 1, h - 1))
    >>> cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=4, max_width=8)(
    ...     jnp.int32(3)).valid.sum(axis=1)
    Array([1, 2, 4, 8], dtype=int32)
    """

    functor: Functor = eqx.field(static=True)
    step: Callable[[_S], Any]

    def __check_init__(self) -> None:
        if not isinstance(self.functor, Functor):
            raise TypeError(_messages.not_a_functor("a Coalgebra", self.functor))

    def signature(self) -> tuple[Space, Space]:
        """``S → F(S)``; `S` is left open (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar(self.functor.name)

    @property
    def label(self) -> str:
        """``Coalgebra(F; step)``."""
        step = self.step.label if isinstance(self.step, Para) else "step"
        return f"Coalgebra({self.functor.name}; {step})"

    def __call__(self, seed: _S) -> Any:
        """The step's output on `seed`, as the step returns it."""
        return run_step(self.label, self.step, seed)


class Unfolded(eqx.Module):
    """A structure grown under `jax.jit`, stored breadth first by depth.

    Level `d` holds up to ``widths[d]`` nodes, in order (the arrays are padded to
    the largest, `max_width`); node `i` of level `d` has the *flat index*
    ``d * max_width + i`` (the root is 0). The arrays:

    - `tags` ``[D, W]``: constructor indices; `valid` ``[D, W]``: which slots hold
      a node;
    - `payloads`: for each constructor with a payload, ``[D, W, ...]`` (zero where
      a slot holds another constructor);
    - `children` ``[D, W, k]``: positions in the next level, ``-1`` for none;
    - `too_deep`, `too_wide`: whether a node at the last level had children, or a
      level more nodes than its width. The unfold is then **cut off**: the
      missing children are ``-1``. `truncated` is their disjunction; folding a
      truncated structure raises, and so do `to_terms` and `to_table`.

    Under `jax.vmap` every field gains a batch axis in front.

    **Arguments:** built by `cdl.ana`, `cdl.apo` and `cdl.futu`.

    >>> import jax.numpy as jnp, cdl
    >>> def grow(h):
    ...     return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])
    >>> tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=2, max_width=2)(
    ...     jnp.int32(2))
    >>> tree.truncated, tree.too_deep, tree.too_wide
    (Array(True, dtype=bool), Array(True, dtype=bool), Array(False, dtype=bool))
    """

    functor: Functor = eqx.field(static=True)
    widths: tuple[int, ...] = eqx.field(static=True)
    tags: Int[Array, "*b D W"]
    valid: Bool[Array, "*b D W"]
    payloads: dict[str, Array]
    children: Int[Array, "*b D W k"]
    too_deep: Bool[Array, "*b"]
    too_wide: Bool[Array, "*b"]

    @property
    def truncated(self) -> Bool[Array, "*b"]:
        """Whether the unfold was cut off by `max_depth` or `max_width`."""
        return self.too_deep | self.too_wide

    @property
    def max_depth(self) -> int:
        """The number of levels, `D`."""
        return int(self.tags.shape[-2])

    @property
    def max_width(self) -> int:
        """The number of slots of a level, `W`."""
        return int(self.tags.shape[-1])

    def at(self, node: Int[Array, ""]) -> _Sprout:
        """The layer at flat index `node`, in the form a `Coalgebra` step returns.

        The children are flat indices too, so ``Coalgebra(functor, tree.at)``
        unfolds the tree again from ``0``; `cdl.apo` copies subtrees with it.

        **Arguments:** `node`, a flat index (``depth * max_width + position``).

        **Returns:** ``(tag, payloads, children, count)``.

        >>> import jax.numpy as jnp, cdl
        >>> def grow(h):
        ...     return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])
        >>> tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=3,
        ...                max_width=4)(jnp.int32(2))
        >>> tag, _, kids, count = tree.at(jnp.int32(0))
        >>> tag, kids, count
        (Array(1, dtype=int32), Array([4, 5], dtype=int32), Array(2, dtype=int32))
        """
        width = self.max_width
        depth, pos = node // width, node % width
        kids = self.children[depth, pos]
        flat = jnp.where(kids >= 0, (depth + 1) * width + kids, -1)
        payloads = jax.tree.map(lambda p: p[depth, pos], self.payloads)
        return self.tags[depth, pos], payloads, flat, (kids >= 0).sum(dtype=jnp.int32)

    def to_terms(self) -> Layer[Any]:
        """The structure as nested `cdl.Layer` terms (outside `jax.jit` only).

        **Returns:** the root's layer; payloads are NumPy arrays, ``None`` for a
        constructor without one. Raises `ValueError` if the unfold was cut off.

        >>> import jax.numpy as jnp, cdl
        >>> def grow(h):
        ...     return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])
        >>> tree = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=2,
        ...                max_width=2)(jnp.int32(1))
        >>> tree.to_terms()
        Layer(constructor='Node', payload=None, children=(Layer(constructor='Leaf', \
payload=np.int32(0), children=()), Layer(constructor='Leaf', \
payload=np.int32(0), children=())))
        """
        if self.tags.ndim != 2:
            raise ValueError(_messages.batched_unfold(self.tags.shape[:-2]))
        if bool(self.truncated):
            raise ValueError(
                _messages.cut_off(bool(self.too_deep), self.max_depth, self.max_width)
            )
        tags, kids = np.asarray(self.tags), np.asarray(self.children)
        payloads = jax.tree.map(np.asarray, self.payloads)
        names = self.functor.names

        def term(depth: int, pos: int) -> Layer[Any]:
            name = names[tags[depth, pos]]
            c = self.functor.constructor(name)
            count = int((kids[depth, pos] >= 0).sum())
            children = tuple(
                term(depth + 1, int(kids[depth, pos, j])) for j in range(count)
            )
            payload = None
            if c.payload:
                payload = jax.tree.map(lambda p: p[depth, pos], payloads[name])
            return Layer(name, payload, children)

        return term(0, 0)

    def to_table(self) -> NodeTable:
        """The structure as a `cdl.NodeTable` (outside `jax.jit` only).

        **Returns:** ``cdl.tree_table(functor, self.to_terms())``.

        >>> import jax.numpy as jnp, cdl
        >>> def grow(h):
        ...     return jnp.where(h == 0, 0, 1), {"Leaf": h}, jnp.stack([h - 1, h - 1])
        >>> cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=4, max_width=8)(
        ...     jnp.int32(3)).to_table().size
        15
        """
        return tree_table(self.functor, self.to_terms())


def _arities(functor: Functor) -> tuple[Array, Array, int]:
    arity = jnp.array([c.arity for c in functor.constructors], jnp.int32)
    variadic = jnp.array([c.variadic for c in functor.constructors])
    return arity, variadic, max((c.arity for c in functor.constructors), default=0)


def _sprout(functor: Functor, out: Any, seed: Any = None) -> _Sprout:
    """Normalise a step's output ``(tag, payloads, seeds[, count])``.

    Given the `seed` stepped, the children's seeds may also come one per child
    (a tuple or list of seeds, as Haskell's ``Node (n - 1) (n - 1)``), and the
    step may return a layer whose children are seeds, or a `cdl.choose` of
    layers (see `_from_layers`).
    """
    if isinstance(out, Layer | Choice):
        out = _from_layers(functor, out, seed)
    if not isinstance(out, tuple) or len(out) not in (3, 4):
        raise TypeError(_messages.bad_step(functor.name, out))
    tag, payloads, seeds = out[:3]
    seeds = _stacked_seeds(seeds, seed)
    tag = jnp.asarray(tag, jnp.int32)
    if not isinstance(payloads, dict):
        raise TypeError(_messages.bad_payloads(functor.name, payloads))
    wanted = [c.name for c in functor.constructors if c.payload]
    missing = [name for name in wanted if name not in payloads]
    if missing:
        raise TypeError(_messages.missing_payloads(functor.name, missing))
    payloads = {name: jax.tree.map(jnp.asarray, payloads[name]) for name in wanted}
    arity, variadic, _ = _arities(functor)
    safe = jnp.clip(tag, 0, len(functor.constructors) - 1)
    if len(out) == 4:
        # A count past 0..arity is refused as the level runs (`_grow`).
        given = jnp.asarray(out[3], jnp.int32)
        count = jnp.where(variadic[safe], given, arity[safe])
    else:
        count = arity[safe]
    return tag, payloads, seeds, count


def _from_layers(functor: Functor, out: Any, seed: Any) -> _Sprout:
    """A step's layer of seeds (or a `cdl.choose` of layers) as its four parts.

    Haskell's coalgebras return a layer: ``coalg n = if n == 0 then Leaf 0 else
    Node (n - 1) (n - 1)`` is ``cdl.choose(n == 0, Leaf(0.0), Node(n - 1, n - 1))``.
    A child missing from a layer (fewer than the largest arity) is given the seed
    itself, never read; a payload of a constructor that no branch builds is a
    zero, never read either.

    >>> import jax.numpy as jnp, cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> n = jnp.int32(2)
    >>> tag, payloads, seeds, count = _from_layers(
    ...     cdl.TreeF, cdl.choose(n == 0, Leaf(0.0), Node(n - 1, n - 1)), n)
    >>> int(tag), seeds.tolist(), int(count)
    (1, [1, 1], 2)
    """
    tag, payloads, seeds, count = _layers(functor, out, seed)
    for c in functor.constructors:
        if c.payload and c.name not in payloads:
            payloads[c.name] = jnp.float32(0)
    return tag, payloads, seeds, count


def _layers(functor: Functor, out: Any, seed: Any) -> _Sprout:
    """`_from_layers` without the payloads of constructors no branch builds."""
    if isinstance(out, Choice):
        pred = jnp.asarray(out.pred, bool)
        a = _layers(functor, out.if_true, seed)
        b = _layers(functor, out.if_false, seed)

        def pick(x: Any, y: Any) -> Any:
            return jax.tree.map(lambda u, v: jnp.where(pred, u, v), x, y)

        payloads = {**b[1], **a[1]}
        for name in a[1].keys() & b[1].keys():
            payloads[name] = pick(a[1][name], b[1][name])
        return pick(a[0], b[0]), payloads, pick(a[2], b[2]), pick(a[3], b[3])
    if not isinstance(out, Layer):
        raise TypeError(_messages.bad_step(functor.name, out))
    functor.check(out)
    c = functor.constructor(out.constructor)
    k = max(c.arity for c in functor.constructors)
    kids = list(out.children)
    if seed is None and len(kids) < k:
        raise TypeError(_messages.bad_step(functor.name, out))
    like = seed if seed is not None else kids[0]
    rows = kids + [like] * (k - len(kids))
    seeds = jax.tree.map(
        lambda s, *xs: (
            jnp.stack([jnp.asarray(x, jnp.result_type(s)) for x in xs])
            if xs
            else jnp.zeros((0, *jnp.shape(s)), jnp.result_type(s))
        ),
        like,
        *rows,
    )
    payloads = {c.name: out.payload} if c.payload else {}
    return jnp.int32(functor.tag(c.name)), payloads, seeds, jnp.int32(len(kids))


def _stacked_seeds(seeds: Any, seed: Any) -> Any:
    """Seeds given one per child, stacked along a first axis; else as given."""
    if seed is None or not isinstance(seeds, tuple | list) or not seeds:
        return seeds
    structure = str(jax.tree.structure(seed))
    if str(jax.tree.structure(seeds)) == structure:  # stacked already
        return seeds
    if all(str(jax.tree.structure(s)) == structure for s in seeds):
        return jax.tree.map(lambda *xs: jnp.stack(jnp.broadcast_arrays(*xs)), *seeds)
    return seeds


def _grow(
    functor: Functor,
    expand: Callable[[Any], _Sprout],
    root: Any,
    widths: tuple[int, ...],
) -> Unfolded:
    """Unfold from the item `root`, level by level.

    `expand` maps one frontier item to its layer, whose children are items again;
    it is `vmap`ped over the frontier. Runs of levels of one width share a
    `jax.lax.scan`; the others are traced one by one.
    """
    arity, _, k = _arities(functor)
    n_cons = len(functor.constructors)
    wide = max(widths)

    def level(carry: Any, depth: Array, width: int, after: int) -> tuple[Any, Any]:
        items, n, too_wide = carry
        stop = depth == len(widths) - 1
        valid = jnp.arange(width) < n
        tag, payloads, kids, count = jax.vmap(expand)(items)
        _check_children(functor, items, kids, k)
        tag = eqx.error_if(
            tag,
            valid & ((tag < 0) | (tag >= n_cons)),
            _messages.tag_out_of_range(functor.name, functor.names),
        )
        safe = jnp.clip(tag, 0, n_cons - 1)
        count = eqx.error_if(
            count,
            valid & ((count < 0) | (count > arity[safe])),
            _messages.count_out_of_range(
                functor.name,
                {c.name: c.arity for c in functor.constructors if c.variadic},
            ),
        )
        count = jnp.where(valid, jnp.clip(count, 0, arity[safe]), 0)
        exists = (jnp.arange(k)[None, :] < count[:, None]).reshape(-1)
        total = exists.sum(dtype=jnp.int32)
        position = jnp.cumsum(exists, dtype=jnp.int32) - 1
        keep = exists & (position < after) & ~stop
        index = jnp.where(keep, position, -1).reshape(width, k)
        dest = jnp.where(keep, position, after)
        flat = jax.tree.map(lambda x: x.reshape(width * k, *x.shape[2:]), kids)
        nxt = jax.tree.map(
            lambda new, old: (
                jnp.broadcast_to(old[0], (after, *old.shape[1:]))
                .at[dest]
                .set(new.astype(old.dtype), mode="drop")
            ),
            flat,
            items,
        )
        mine = {c.name: valid & (safe == t) for t, c in enumerate(functor.constructors)}
        payloads = {
            name: jax.tree.map(
                lambda p, m=mine[name]: jnp.where(_expand_to(m, p), p, 0), tree
            )
            for name, tree in payloads.items()
        }
        too_wide = too_wide | ((total > after) & ~stop)
        out = (jnp.where(valid, safe, 0), valid, payloads, index, stop & (total > 0))
        grown = jnp.where(stop, 0, jnp.minimum(total, after))
        return (nxt, grown, too_wide), out

    carry = (
        jax.tree.map(
            lambda x: jnp.broadcast_to(jnp.asarray(x), (widths[0], *jnp.shape(x))),
            root,
        ),
        jnp.int32(1),
        jnp.bool_(False),
    )
    pieces = []
    for lo, hi in _bands(widths):
        width, after = widths[lo], (*widths, widths[-1])[lo + 1]
        if hi - lo == 1:
            carry, out = level(carry, jnp.int32(lo), width, after)
            out = jax.tree.map(lambda x: x[None], out)
        else:

            def body(c: Any, d: Array, w: int = width, a: int = after) -> Any:
                return level(c, d, w, a)

            carry, out = jax.lax.scan(body, carry, jnp.arange(lo, hi))
        tags, valid, payloads, index, deep = out
        pieces.append(
            (
                _pad(tags, wide, 0),
                _pad(valid, wide, False),
                jax.tree.map(lambda p: _pad(p, wide, 0), payloads),
                _pad(index, wide, -1),
                deep,
            )
        )
    tags, valid, payloads, children, deep = jax.tree.map(
        lambda *xs: jnp.concatenate(xs), *pieces
    )
    return Unfolded(
        functor, widths, tags, valid, payloads, children, deep.any(), carry[2]
    )


def _bands(widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """Runs of levels whose own width and next level's width agree."""
    pairs = list(zip(widths, (*widths[1:], widths[-1]), strict=True))
    bands, lo = [], 0
    for d in range(1, len(pairs) + 1):
        if d == len(pairs) or pairs[d] != pairs[lo]:
            bands.append((lo, d))
            lo = d
    return bands


def _pad(x: Array, wide: int, fill: Any) -> Array:
    """Pad axis 1 of `x` to `wide` with `fill`."""
    extra = wide - x.shape[1]
    if not extra:
        return x
    padding = jnp.full((x.shape[0], extra, *x.shape[2:]), fill, x.dtype)
    return jnp.concatenate([x, padding], axis=1)


def _expand_to(mask: Array, x: Array) -> Array:
    return mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim))


def _check_children(functor: Functor, items: Any, kids: Any, k: int) -> None:
    """Raise `TypeError` unless `kids` holds `k` items shaped like an item."""

    def fits(item: Array, kid: Array) -> bool:
        return kid.shape[:2] == (item.shape[0], k) and kid.shape[2:] == item.shape[1:]

    try:
        ok = all(jax.tree.leaves(jax.tree.map(fits, items, kids)))
    except ValueError:
        ok = False
    if not ok:
        given = jax.tree.map(lambda c: c.shape[1:], kids)
        seed = jax.tree.map(lambda i: i.shape[1:], items)
        raise TypeError(_messages.bad_seeds(functor.name, k, seed, given))


def _carrier(algebra: Algebra[Any], tree: Unfolded) -> Any:
    if algebra.carrier is not None:
        return eqx.filter_eval_shape(lambda c: c, algebra.carrier)
    for c in algebra.functor.constructors:
        if c.arity == 0:
            payload = jnp.zeros(0)
            if c.payload:
                payload = jax.tree.map(lambda p: p[0, 0], tree.payloads[c.name])
            cell = algebra.cells[c.name]
            return eqx.filter_eval_shape(lambda x, cell=cell: cell(x), (payload, ()))
    # Only variadic leaves (a rose tree's): as `carrier_template` does for tables.
    variadic = [c for c in algebra.functor.constructors if c.variadic]
    failure: Exception | None = None
    for c in variadic:
        found, failure = _variadic_carrier(algebra, c, tree)
        if found is not None:
            return found
    error = ValueError(_messages.no_carrier(algebra.functor.name, bool(variadic)))
    raise error from failure


def _variadic_carrier(
    algebra: Algebra[Any], c: Constructor, tree: Unfolded
) -> tuple[Any, Exception | None]:
    """The carrier `c`'s cell keeps: from its declared result, then its payload's.

    A guess is accepted when the cell, given children of its shapes, returns
    them; else what it returned is tried next, a few times.
    """
    payload: Any = jnp.zeros(0)
    if c.payload:
        payload = jax.tree.map(lambda p: p[0, 0], tree.payloads[c.name])
    cell = algebra.cells[c.name]

    def run(guess: Any) -> Any:
        kids = jax.tree.map(lambda t: jnp.zeros((c.arity, *t.shape), t.dtype), guess)
        return cell((payload, (kids, jnp.zeros(c.arity, bool))))

    return kept_carrier(cell, payload, run, refuse_declared=False)


def _settled(algebra: Algebra[Any], tree: Unfolded, template: Any) -> Any:
    """The carrier every cell returns (see `settle_carrier`), traced on one node."""
    for _ in range(2):
        outs = {}
        for c in algebra.functor.constructors:
            pay = (
                jax.tree.map(lambda p: p[0, 0], tree.payloads[c.name])
                if c.payload
                else jnp.zeros(0)
            )
            kids: Any = tuple(template for _ in range(c.arity))
            if c.variadic:
                stacked = jax.tree.map(
                    lambda t, a=c.arity: struct((a, *t.shape), t.dtype),
                    template,
                )
                kids = (stacked, struct((c.arity,), jnp.bool_))
            outs[c.name] = eqx.filter_eval_shape(
                lambda x, cell=algebra.cells[c.name]: cell(x), (pay, kids)
            )
        settled = settle_carrier(algebra.functor.name, template, outs)
        if settled is template:
            return template
        template = settled
    return template


def fold(algebra: Algebra[_A], tree: Unfolded) -> _A:
    """Fold an `Unfolded` with `algebra`, level by level from the deepest.

    Each level runs every constructor's cell on the whole level (`vmap`) and keeps
    each node's own result; levels of one width share a reverse `jax.lax.scan`
    that carries only one level's results, so plain autodiff through it is linear
    in the size. Used by `cdl.cata`.

    **Arguments:** `algebra`, an `Algebra` of the tree's functor; `tree`.

    **Returns:** the carrier at the root. Raises `TypeError` for an algebra of
    another functor, and (at run time, also under `jax.jit`) if `tree` was cut off.

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Zero(cdl.Para[tuple[Float[Array, "0"], tuple[()]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return jnp.float32(0.0)
    >>> class Succ(cdl.Para[tuple[Float[Array, "0"], tuple[Float[Array, ""]]],
    ...                     Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[1][0] + 1
    >>> down = cdl.Coalgebra(cdl.NatF, lambda n: (jnp.where(n == 0, 0, 1), {},
    ...                                           (n - 1)[None]))
    >>> nat = cdl.ana(down, max_depth=8, max_width=1)(jnp.int32(5))
    >>> cdl.cata(cdl.Algebra(cdl.NatF, Zero=Zero(), Succ=Succ()))(nat)
    Array(5., dtype=float32)
    """
    functor = algebra.functor
    _same_functor(f"cata({algebra.label})", functor, tree.functor, "tree")
    template = _settled(algebra, tree, _carrier(algebra, tree))

    def level(below: Any, xs: Any) -> Any:
        tags, valid, payloads, kids = xs
        width = tags.shape[0]
        gathered = jax.tree.map(lambda r: r[jnp.maximum(kids, 0)], below)
        out = jax.tree.map(lambda s: jnp.zeros((width, *s.shape), s.dtype), template)
        for t, c in enumerate(functor.constructors):
            pay = payloads[c.name] if c.payload else jnp.zeros((width, 0))
            children: Any
            if c.variadic:
                children = (
                    jax.tree.map(lambda g, a=c.arity: g[:, :a], gathered),
                    kids[:, : c.arity] >= 0,
                )
            else:
                children = tuple(
                    jax.tree.map(lambda g, j=j: g[:, j], gathered)
                    for j in range(c.arity)
                )
            value = jax.vmap(algebra.cells[c.name])((pay, children))
            pick = valid & (tags == t)
            out = jax.tree.map(
                lambda v, o, p=pick: jnp.where(_expand_to(p, o), v.astype(o.dtype), o),
                value,
                out,
            )
        return out

    top = jax.tree.map(
        lambda s: jnp.zeros((tree.widths[-1], *s.shape), s.dtype), template
    )
    stored = (tree.tags, tree.valid, tree.payloads, tree.children)
    for lo, hi in reversed(_bands(tree.widths)):
        width = tree.widths[lo]
        xs = jax.tree.map(lambda x, a=lo, b=hi, w=width: x[a:b, :w], stored)
        if hi - lo == 1:
            top = level(top, jax.tree.map(lambda x: x[0], xs))
        else:
            top, _ = jax.lax.scan(
                lambda b, x: (level(b, x), None), top, xs, reverse=True
            )
    root = jax.tree.map(lambda r: r[0], top)
    result: _A = eqx.error_if(
        root,
        tree.truncated,
        _messages.cut_off_fold(functor.name, tree.max_depth, tree.max_width),
    )
    return result


def _same_functor(scheme: str, expected: Functor, given: Functor, what: str) -> None:
    """Raise `TypeError` unless `given` (the functor of `what`) is `expected`."""
    if given != expected:
        raise TypeError(
            _messages.wrong_functor(scheme, expected.name, f"{what} of {given.name}")
        )


class _TreeUnfold(Para[_S, Unfolded], Generic[_S]):
    """An unfold of a `Coalgebra` into an `Unfolded`, with one width per level."""

    coalgebra: Coalgebra[_S]
    widths: tuple[int, ...] = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to `Unfolded` structures (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("Unfolded")

    @property
    def label(self) -> str:
        """``<scheme>(<coalgebra>, <widths>)``."""
        scheme = type(self).__name__.removeprefix("Tree").lower()
        return f"{scheme}({self.coalgebra.label}, {_describe(self.widths)})"

    def __call__(self, seed: _S) -> Unfolded:
        """Unfold `seed` (see `run`), compiled once per scheme and seed's shape."""
        out: Unfolded = _compiled(self, seed)
        return out

    @abc.abstractmethod
    def run(self, seed: _S) -> Unfolded:
        """Unfold `seed`, level by level."""


def _run(scheme: Any, seed: Any) -> Any:
    return scheme.run(seed)


_compiled = eqx.filter_jit(_run)
"""A tree unfold's levels run in scans whose checks (a tag out of range) fail at
run time: compiled by Equinox, such a failure is reported as its message, where a
scan run eagerly raises an internal error of the callback. A call outside
`jax.jit` then also compiles once per scheme, not on every call."""


class TreeAna(_TreeUnfold[_S], Generic[_S]):
    """The anamorphism of a `Coalgebra`; built by `cdl.ana`."""

    def run(self, seed: _S) -> Unfolded:
        """Unfold `seed`, level by level."""
        functor = self.coalgebra.functor
        return _grow(
            functor, lambda s: _sprout(functor, self.coalgebra(s), s), seed, self.widths
        )


class TreeHylo(Para[_S, _A], Generic[_S, _A]):
    """The hylomorphism of an `Algebra` and a `Coalgebra`; built by `cdl.hylo`."""

    algebra: Algebra[_A]
    coalgebra: Coalgebra[_S]
    widths: tuple[int, ...] = eqx.field(static=True)

    def __check_init__(self) -> None:
        _same_functor("hylo", self.algebra.functor, self.coalgebra.functor, "coalgebra")

    def signature(self) -> tuple[Space, Space]:
        """Seeds to carriers (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``hylo(<algebra>, <coalgebra>)``."""
        return f"hylo({self.algebra.label}, {self.coalgebra.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold `seed` and fold the result (see `run`)."""
        out: _A = _compiled(self, seed)
        return out

    def run(self, seed: _S) -> _A:
        """Unfold `seed` and fold the result; raises if the unfold was cut off."""
        return fold(self.algebra, TreeAna(self.coalgebra, self.widths).run(seed))


class TreeApo(_TreeUnfold[_S], Generic[_S]):
    """The apomorphism of a `Coalgebra`; built by `cdl.apo`."""

    finish: Callable[[_S], Bool[Array, ""] | bool]
    tail: Callable[[_S], Int[Array, ""]]
    source: Unfolded

    def __check_init__(self) -> None:
        _same_functor("apo", self.coalgebra.functor, self.source.functor, "source")

    def run(self, seed: _S) -> Unfolded:
        """Unfold `seed`; a finished seed becomes a copy of a `source` subtree."""
        functor = self.coalgebra.functor
        _, _, k = _arities(functor)

        def expand(item: tuple[_S, Array]) -> _Sprout:
            s, node = item
            tag, payloads, seeds, count = _sprout(functor, self.coalgebra(s), s)
            node = jnp.where(
                node >= 0,
                node,
                jnp.where(jnp.asarray(self.finish(s)), self.tail(s), -1),
            )
            copying = node >= 0
            c_tag, c_payloads, c_kids, c_count = self.source.at(jnp.maximum(node, 0))
            same = jax.tree.map(lambda x: jnp.broadcast_to(x, (k, *jnp.shape(x))), s)
            kid_seeds = jax.tree.map(
                lambda a, b: jnp.where(copying, a, b.astype(a.dtype)), same, seeds
            )
            return (
                jnp.where(copying, c_tag, tag),
                jax.tree.map(
                    lambda a, b: jnp.where(copying, a, b), c_payloads, payloads
                ),
                (kid_seeds, jnp.where(copying, c_kids, -1)),
                jnp.where(copying, c_count, count),
            )

        return _grow(functor, expand, (seed, jnp.int32(-1)), self.widths)


class TreeFutu(_TreeUnfold[_S], Generic[_S]):
    """The futumorphism of a `Coalgebra`; built by `cdl.futu`."""

    def run(self, seed: _S) -> Unfolded:
        """Unfold `seed`; a child given as a layer is placed without a step."""
        functor = self.coalgebra.functor
        _, _, k = _arities(functor)

        def step(s: _S) -> tuple[_Sprout, _Sprout, Array]:
            out = self.coalgebra(s)
            if not isinstance(out, tuple) or len(out) != 3:
                raise TypeError(_messages.bad_futu_step(functor.name, out))
            top, below, ahead = out
            return (
                _sprout(functor, top, s),
                jax.vmap(lambda x: _sprout(functor, x))(below),
                jnp.broadcast_to(jnp.asarray(ahead, bool), (k,)),
            )

        template = jax.eval_shape(step, seed)[0]
        blank = jax.tree.map(lambda t: jnp.zeros(t.shape, t.dtype), template)

        def expand(item: tuple[Array, _S, _Sprout]) -> _Sprout:
            pending, s, layer = item
            top, below, ahead = step(s)
            tag, payloads, seeds, count = jax.tree.map(
                lambda a, b: jnp.where(pending, a, b), layer, top
            )
            kid_layers = jax.tree.map(
                lambda b, t: jnp.where(_expand_to(ahead, b), b, t[None]),
                below,
                blank,
            )
            kids = (ahead & ~pending, seeds, kid_layers)
            return tag, payloads, kids, count

        return _grow(functor, expand, (jnp.bool_(False), seed, blank), self.widths)


def level_widths(
    scheme: str, max_depth: int | None, max_width: Widths | None, extra: object = None
) -> tuple[int, ...]:
    if max_depth is None or max_width is None or extra is not None:
        raise TypeError(_messages.tree_needs_sizes(scheme))
    max_depth = size(f"{scheme}'s depth", max_depth)
    given: object = max_width
    widths: tuple[object, ...] = (given,)  # a float, say: named below
    if whole(given) is not None:
        widths = (given,) * max_depth
    elif isinstance(given, Sequence | np.ndarray | jax.Array):
        widths = (given,) if isinstance(given, str) else tuple(given)
    checked = tuple(size(f"{scheme}'s width", w) for w in widths)
    if len(checked) != max_depth:
        raise ValueError(_messages.widths_per_level(scheme, max_depth, len(widths)))
    return checked


def _describe(widths: tuple[int, ...]) -> str:
    if len(set(widths)) == 1:
        return f"max_depth={len(widths)}, max_width={widths[0]}"
    return f"max_width={widths}"
