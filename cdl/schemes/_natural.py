"""Natural transformations of a polynomial functor, written as functions of layers.

A natural transformation ``F ⇒ F`` (Haskell's ``forall b. Base t b -> Base t b``)
may read a layer's constructor and payload, change both, and move, drop or repeat
the layer's children, but never look into them. Written as a function of a
`cdl.Layer` that matches on the functor's patterns, it is called with opaque
children (`Slot`s), so where each child went is read off what it returns; a
constructor chosen by a traced condition is ``cdl.choose(pred, layer, layer)``.
Haskell's ``Cons x _ | x > 10 -> Nil``, every other layer kept:

>>> import jax.numpy as jnp, cdl
>>> Nil, Cons = cdl.ListF.patterns
>>> def cut(layer):
...     match layer:
...         case Cons(x, rest):
...             return cdl.choose(x > 10, Nil(), Cons(x, rest))
...         case _:
...             return layer
>>> cdl.hoist(cdl.ListF, cut)(Cons(3, Cons(12, Cons(4, Nil()))))
Layer(constructor='Cons', payload=3, children=(Layer(constructor='Nil', \
payload=None, children=()),))

On arrays the transformation is compiled to one step on *states*: a constructor
tag, a payload per constructor and, for each child of the result, which child of
the original layer it is. Applied `i` times it is still one such state, so the
schemes that apply it ``i`` times at depth `i` (`cdl.prepro`, `cdl.postpro`) run
it on every node at once, ``depth`` times, inside `jax.jit`.
"""

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Int

from . import _messages
from ._functor import Constructor, Functor, Layer

State = tuple[Int[Array, "*n"], dict[str, Any], Int[Array, "*n k"]]
"""Per node: the constructor's index, every constructor's payload (only the
chosen one's matters), and for each child of the result the original child's
position (``-1`` for none)."""

_shape_dtype: Callable[..., Any] = jax.ShapeDtypeStruct
_partial: Callable[[Callable[..., Any]], Any] = jax.tree_util.Partial


@dataclasses.dataclass(frozen=True)
class Slot:
    """The `index`-th child of the layer a natural transformation is given.

    It stands for a child the transformation may place but not read.

    >>> import cdl
    >>> cdl.schemes.Slot(1)
    child 1
    """

    index: int

    def __repr__(self) -> str:
        return f"child {self.index}"

    def _read(self, *_: Any) -> Any:
        """Refuse arithmetic on a child: a natural transformation cannot read one.

        >>> import cdl
        >>> cdl.schemes.Slot(0) + cdl.schemes.Slot(1)
        Traceback (most recent call last):
        ...
        TypeError: a natural transformation computed with child 0 of its layer: ...
        """
        raise TypeError(_messages.slot_read(self.index))

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _read
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = _read
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __neg__ = __abs__ = _read
    __lt__ = __le__ = __gt__ = __ge__ = __getitem__ = _read
    __float__ = __int__ = __complex__ = __index__ = _read  # float(child) reads it


@dataclasses.dataclass(frozen=True)
class Choice:
    """``if_true`` where `pred` holds, else ``if_false``; built by `choose`."""

    pred: Any
    if_true: Any
    if_false: Any


def choose(pred: Bool[Array, ""] | bool, if_true: Any, if_false: Any) -> Choice:
    """The layer `if_true` where `pred` holds, else `if_false`: a guard on data.

    What a natural transformation returns when its constructor depends on a
    traced value (Haskell's guards, ``Cons x _ | x > 10 -> Nil``); the two may be
    layers of different constructors, or further choices.

    **Arguments:** `pred`, a boolean scalar; `if_true`, `if_false`, layers whose
    children are the given layer's.

    **Returns:** the choice, resolved per node by the scheme that runs it.

    >>> import jax.numpy as jnp, cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> def prune(layer):  # a leaf below zero is replaced by zero
    ...     match layer:
    ...         case Leaf(x):
    ...             return cdl.choose(x < 0, Leaf(0.0 * x), layer)
    ...         case _:
    ...             return layer
    >>> cdl.hoist(cdl.TreeF, prune)(Node(Leaf(-1.0), Leaf(2.0)))
    Layer(constructor='Node', payload=None, children=(Layer(constructor='Leaf', \
payload=-0.0, children=()), Layer(constructor='Leaf', payload=2.0, children=())))
    """
    return Choice(pred, if_true, if_false)


class Natural(eqx.Module):
    """A natural transformation ``F ⇒ F``: a function of layers, compiled to states.

    **Arguments:** `functor`; `fn`, a function of a `cdl.Layer` of `functor`
    returning a layer of it (or a `choose` of layers) whose children are the given
    layer's.

    >>> import jax.numpy as jnp, cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> swap = cdl.schemes.Natural(cdl.TreeF, lambda l: Node(l.child_1, l.child_0)
    ...                            if l.constructor == "Node" else l)
    >>> swap.step((jnp.int32(1), {"Leaf": jnp.float32(0)}, jnp.array([0, 1])))[2]
    Array([1, 0], dtype=int32)
    """

    functor: Functor = eqx.field(static=True)
    fn: Any

    def __init__(self, functor: Functor, fn: Callable[[Layer[Any]], Any]) -> None:
        self.functor = functor
        self.fn = fn if isinstance(fn, eqx.Module) else _partial(fn)

    @property
    def label(self) -> str:
        """The function's name."""
        fn = getattr(self.fn, "func", self.fn)
        return str(getattr(fn, "__name__", type(fn).__name__))

    @property
    def width(self) -> int:
        """The length of a state's child positions (the largest arity, at least 1)."""
        return max([c.arity for c in self.functor.constructors] + [1])

    def _layer(self, c: Constructor, payloads: dict[str, Any]) -> Layer[Any]:
        slots = tuple(Slot(j) for j in range(c.arity))
        return Layer(c.name, payloads[c.name] if c.payload else None, slots)

    def _resolve(self, out: Any, source: str, payloads: dict[str, Any]) -> State:
        """`out` (a layer or a choice) as a state, relative to the given layer."""
        if isinstance(out, Choice):
            a = self._resolve(out.if_true, source, payloads)
            b = self._resolve(out.if_false, source, payloads)
            pred = jnp.asarray(out.pred, bool)
            resolved: State = jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)
            return resolved
        name = self.functor.name
        if not isinstance(out, Layer):
            raise TypeError(_messages.natural_output(name, source, out))
        self._own(out, source)
        self.functor.check(out)
        d = self.functor.constructor(out.constructor)
        for child in out.children:
            if not isinstance(child, Slot):
                raise TypeError(_messages.natural_child(name, source, child))
        sel = [child.index for child in out.children]
        if sel and self.functor.constructor(source).variadic:
            # The children are a list of data-dependent length: a run of them is
            # the same run on every node, an order or a pick of one is not.
            run = list(range(sel[0], sel[0] + len(sel)))
            if not d.variadic or sel != run:
                raise TypeError(_messages.natural_list(name, source))
        sel += [-1] * (self.width - len(sel))
        payloads = dict(payloads)
        if d.payload:
            payloads[d.name] = _same_space(name, d.name, payloads[d.name], out.payload)
        return jnp.int32(self.functor.tag(d.name)), payloads, jnp.array(sel, jnp.int32)

    def _apply(self, layer: Layer[Any]) -> Any:
        """The function on a layer of traced payloads; a Python branch is named."""
        try:
            return self.fn(layer)
        except jax.errors.TracerBoolConversionError as error:
            raise TypeError(
                _messages.python_branch_in_natural(self.functor.name, layer.constructor)
            ) from error

    def step(self, state: State) -> State:
        """The transformation applied once more to one node's state."""
        tag, payloads, sel = state
        out: State | None = None
        for t, c in enumerate(self.functor.constructors):
            mine = self._resolve(
                self._apply(self._layer(c, payloads)), c.name, payloads
            )
            out = (
                mine
                if out is None
                else jax.tree.map(
                    lambda a, b, t=t: jnp.where(tag == t, a, b), mine, out
                )
            )
        assert out is not None
        new_tag, new_payloads, local = out
        composed = jnp.where(local >= 0, sel[jnp.maximum(local, 0)], -1)
        return new_tag, new_payloads, composed

    def targets(self, payloads: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Per constructor, those its layers may become after any number of steps.

        `payloads` gives the payloads' shapes (arrays or `jax.ShapeDtypeStruct`).
        """
        direct: dict[str, set[str]] = {}
        for c in self.functor.constructors:
            found: set[str] = set()

            def walk(out: Any, found: set[str] = found) -> None:
                if isinstance(out, Choice):
                    walk(out.if_true)
                    walk(out.if_false)
                elif isinstance(out, Layer):
                    found.add(out.constructor)

            def trace(p: dict[str, Any], c: Constructor = c) -> None:
                walk(self._apply(self._layer(c, p)))

            jax.eval_shape(trace, payloads)
            direct[c.name] = found
        out = {}
        for name in self.functor.names:
            seen, todo = {name}, [name]
            while todo:
                for nxt in direct.get(todo.pop(), set()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            out[name] = tuple(n for n in self.functor.names if n in seen)
        return out

    def _own(self, out: Layer[Any], source: str) -> None:
        """`TypeError` for a layer of a constructor the functor does not have."""
        if out.constructor not in self.functor.names:
            raise TypeError(
                _messages.natural_foreign(
                    self.functor.name, self.functor.names, source, out.constructor
                )
            )

    def on_term(self, layer: Layer[Any]) -> Layer[Any]:
        """The transformation of one concrete layer (children kept as they are)."""
        c = self.functor.constructor(layer.constructor)
        slots = tuple(Slot(j) for j in range(len(layer.children)))
        given = Layer(c.name, layer.payload, slots)
        out = self.fn(given)
        while isinstance(out, Choice):
            out = out.if_true if bool(out.pred) else out.if_false
        if not isinstance(out, Layer):
            raise TypeError(_messages.natural_output(self.functor.name, c.name, out))
        self._own(out, c.name)
        self.functor.check(out)
        kids = []
        for child in out.children:
            if not isinstance(child, Slot):
                raise TypeError(
                    _messages.natural_child(self.functor.name, c.name, child)
                )
            kids.append(layer.children[child.index])
        return Layer(out.constructor, out.payload, tuple(kids))


def _same_space(functor: str, name: str, old: Any, new: Any) -> Any:
    """`new` cast to the dtypes of `old`; `TypeError` if its shapes differ."""
    new = jax.tree.map(jnp.asarray, new)
    structure: Any = jax.tree.structure(old)
    same = structure == jax.tree.structure(new) and all(
        jnp.shape(a) == jnp.shape(b)
        for a, b in zip(jax.tree.leaves(old), jax.tree.leaves(new), strict=True)
    )
    if not same:
        wanted = jax.tree.map(lambda a: _shape_dtype(a.shape, a.dtype), old)
        given = jax.tree.map(lambda a: _shape_dtype(a.shape, a.dtype), new)
        raise TypeError(_messages.natural_payload(functor, name, wanted, given))
    return jax.tree.map(lambda a, b: b.astype(a.dtype), old, new)


def powers(nat: Natural, state: State, depth: Array, times: int, live: Any) -> State:
    """Each node's state with `nat` applied ``depth`` times (at most `times`).

    Steps of `nat` on every node at once (`vmap`), ``times`` of them in one
    `jax.lax.scan`. With `live`, a bound on the depths known only at run time,
    the steps run in blocks of about ``sqrt(times)``: a block starting past
    `live` is skipped, and a gradient keeps each block's input only (its steps
    are recomputed), so its memory is ``2 sqrt(times)`` states, not ``times``.
    """
    if times < 1:
        return state
    stepped = jax.vmap(nat.step)

    def body(s: State, j: Array) -> tuple[State, None]:
        moved = stepped(s)
        keep = depth >= j
        out: State = jax.tree.map(
            lambda m, o: jnp.where(
                keep.reshape(keep.shape + (1,) * (m.ndim - 1)), m, o
            ),
            moved,
            s,
        )
        return out, None

    if live is None:
        out, _ = jax.lax.scan(body, state, jnp.arange(1, times + 1))
        return out
    size = math.isqrt(times - 1) + 1
    blocks = -(-times // size)

    @jax.checkpoint
    def run(s: State, start: Array) -> State:
        out, _ = jax.lax.scan(body, s, start + jnp.arange(size))
        return out

    def block(s: State, start: Array) -> tuple[State, None]:
        return jax.lax.cond(start < live, run, lambda s, _: s, s, start), None

    out, _ = jax.lax.scan(block, state, 1 + size * jnp.arange(blocks))
    return out
