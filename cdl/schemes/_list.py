"""Recursion schemes on lists, each lowered to one `jax.lax.scan`.

A list of `n` elements is stored as an array ``[n, *element_shape]`` (or a pytree of
such arrays sharing the leading axis); a `PaddedList` adds a `length` so that lists of
different lengths can be batched under `jax.vmap`. The list functor is
``ListF(E, X) = 1 + E × X`` and a `ListAlgebra` is a map ``ListF(E, A) → A``: an
initial carrier `nil` and a cell ``cons: E × A → A``.

The list ``[x0, x1, x2]`` is the cons-list ``cons(x0, cons(x1, cons(x2, nil)))``, so
`cata` meets the *last* element first, and `foldl` the first one. The universal
property of `cata` holds: it is the one map that commutes with the constructors.

>>> import jax.numpy as jnp, cdl
>>> alg = cdl.ListAlgebra(jnp.float32(0.0), cdl.Add())
>>> xs = jnp.array([1.0, 2.0, 3.0])
>>> total = cdl.cata(alg)
>>> bool(total(xs) == alg((xs[0], total(xs[1:]))))
True
>>> bool(cdl.cata(alg)(xs[:0]) == alg.nil)
True
"""

import abc
from collections.abc import Callable
from typing import Any, Generic, TypeAlias, TypeVar, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, PRNGKeyArray

from .._para import Para, apply
from .._space import (
    DimVar,
    Mismatch,
    ProductSpace,
    Space,
    SpaceVar,
    TensorSpace,
    Unifier,
    describe,
    rename,
    space_of,
)
from . import _messages
from ._eager import compiled
from ._functor import Layer
from ._plain import as_cell, run_step
from ._sizes import size

_shape_dtype: Callable[..., Any] = jax.ShapeDtypeStruct
_E = TypeVar("_E")
_A = TypeVar("_A")

Scalar: TypeAlias = bool | int | float
"""A Python number as a carrier's initial value: it takes the cell's array type
(``0.0`` starts a float fold), so it fixes no carrier type of its own."""
_B = TypeVar("_B")
_S = TypeVar("_S")
_L = TypeVar("_L")


class PaddedList(eqx.Module):
    """A list stored in a fixed-size array: the first `length` rows are the list.

    Batches of lists of different lengths are `PaddedList`s with a batch axis in
    front (see `batch_lists`); the schemes skip the padding rows.

    **Arguments:** `values`, an array ``[capacity, *element_shape]`` (or a pytree of
    such); `length`, an int scalar at most ``capacity``; `truncated`, set by the
    unfolds (`cdl.ana`, `cdl.apo`, `cdl.futu`, `cdl.postpro`) when the list was cut
    off at its capacity before its coalgebra stopped (``None`` for a list that was
    not unfolded). Folding a truncated list raises, also under `jax.jit`.

    >>> import jax.numpy as jnp, cdl
    >>> xs = cdl.PaddedList(jnp.array([1.0, 2.0, 0.0]), jnp.int32(2))
    >>> cdl.cata(cdl.ListAlgebra(jnp.float32(0.0), cdl.Add()))(xs)
    Array(3., dtype=float32)
    >>> cdl.PaddedList(jnp.array([1.0, 2.0, 0.0]), jnp.int32(4))
    Traceback (most recent call last):
    ...
    ValueError: a PaddedList's length is between 0 and its capacity 3, not 4.
    """

    values: Any
    length: Int[Array, "*b"]
    truncated: Bool[Array, "*b"] | None = None

    def __check_init__(self) -> None:
        dtype = jnp.result_type(self.length)
        if not jnp.issubdtype(dtype, jnp.integer):
            raise TypeError(_messages.padded_length_dtype(dtype))
        try:
            given = np.asarray(self.length)
        except jax.errors.TracerArrayConversionError:
            return  # built under a trace: checked where its values are known
        # A batch of lists (see `batch_lists`) has its batch axes in front.
        leaves = jax.tree.leaves(self.values)
        if not leaves or leaves[0].ndim <= given.ndim:
            return
        capacity = int(leaves[0].shape[given.ndim])
        bad = given[(given < 0) | (given > capacity)]
        if bad.size:
            raise ValueError(
                _messages.bad_padded_length(int(bad.reshape(-1)[0]), capacity)
            )

    @property
    def capacity(self) -> int:
        """The number of rows, padding included."""
        return _length("PaddedList", self.values)

    def to_list(self) -> list[Any]:
        """The elements as a Python list (outside `jax.jit` only).

        Raises `ValueError` for a list that was cut off (see `truncated`).
        """
        if self.truncated is not None and bool(np.any(self.truncated)):
            raise ValueError(_messages.truncated_to_list(self.capacity))
        n = int(self.length)
        return [jax.tree.map(lambda v, i=i: v[i], self.values) for i in range(n)]


class Suffix(eqx.Module):
    """The rest of a list after some position: a view, not a copy.

    `para` hands one to its cell: the original tail beside the folded result.

    **Arguments:** `values`, the whole list's array; `start`, where the suffix
    begins; `stop`, one past its last element.

    >>> import jax.numpy as jnp, cdl
    >>> s = cdl.Suffix(jnp.arange(5.0), jnp.int32(3), jnp.int32(5))
    >>> s.length, s[0]
    (Array(2, dtype=int32), Array(3., dtype=float32))
    """

    values: Any
    start: Int[Array, ""]
    stop: Int[Array, ""]

    @property
    def length(self) -> Int[Array, ""]:
        """How many elements the suffix holds."""
        return self.stop - self.start

    def __getitem__(self, i: Int[Array, ""] | int) -> Any:
        """The `i`-th element of the suffix (clamped to the list, as in JAX).

        In a list with no rows at all (an empty list, traced as a whole by a
        `jnp.where` that guards the read) it reads as zeros.
        """

        def read(v: Array) -> Array:
            if v.shape[0] == 0:
                return jnp.zeros(v.shape[1:], v.dtype)
            return v[self.start + i]

        return jax.tree.map(read, self.values)


def _length(scheme: str, xs: Any) -> int:
    leaves = jax.tree.leaves(xs)
    if not leaves or not all(getattr(v, "ndim", 0) >= 1 for v in leaves):
        raise TypeError(_messages.not_a_list(scheme, space_of(xs)))
    sizes = {v.shape[0] for v in leaves}
    if len(sizes) != 1:
        raise TypeError(_messages.not_a_list(scheme, space_of(xs)))
    (n,) = sizes
    return int(n)


def _select(keep: Bool[Array, ""], new: _A, old: _A) -> _A:
    out: _A = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new, old)
    return out


def stacked(scheme: str, items: list[Any]) -> Any:
    """A Python list of elements as one array ``[n, ...]`` (a pytree of such).

    Elements of other shapes or structures are a `ValueError` naming the first
    that differs (a batch of lists of different lengths is `cdl.batch_lists`).

    >>> import jax.numpy as jnp
    >>> stacked("cata", [jnp.zeros(2), jnp.ones(2)]).shape
    (2, 2)
    >>> stacked("cata", [jnp.zeros((3, 4)), jnp.zeros((2, 4))])
    Traceback (most recent call last):
    ...
    ValueError: cata: element 1 of the Python list is f32[2,4], element 0 f32[3,4]; ...
    """
    if not items:
        raise ValueError(_messages.empty_python_list(scheme))
    leaves = [jax.tree.map(jnp.asarray, item) for item in items]
    first = space_of(leaves[0])
    for index, item in enumerate(leaves):
        if space_of(item) != first:
            raise ValueError(
                _messages.list_elements_differ(scheme, index, space_of(item), first)
            )
    return jax.tree.map(lambda *column: jnp.stack(column), *leaves)


def cons_payloads(scheme: str, term: Layer[Any]) -> list[Any]:
    """The elements of a ``Cons`` term, head first (iteratively, at any length).

    A term that does not end in ``Nil``, or holds another constructor, is a
    `TypeError` naming the fold.

    >>> import cdl
    >>> Nil, Cons = cdl.ListF.patterns
    >>> cons_payloads("cata", Cons(1.0, Cons(2.0, Nil())))
    [1.0, 2.0]
    """
    out = []
    while term.constructor == "Cons" and len(term.children) == 1:
        out.append(term.payload)
        (term,) = term.children
    if term.constructor != "Nil" or term.children:
        raise TypeError(_messages.not_a_cons_term(scheme, term.constructor))
    return out


def _unpack(scheme: str, xs: Any) -> tuple[Any, Int[Array, ""] | None, int]:
    if isinstance(xs, Layer):
        elements = cons_payloads(scheme, xs)
        xs = elements if elements else jnp.zeros((0,))
    if isinstance(xs, list):
        xs = stacked(scheme, xs)
    if isinstance(xs, PaddedList):
        if jnp.ndim(xs.length):
            raise TypeError(_messages.batched_lists(scheme, jnp.shape(xs.length)))
        n = _length(scheme, xs.values)
        # Checked where it is built unless traced there: then here, at run time.
        length = eqx.error_if(
            xs.length,
            (xs.length < 0) | (xs.length > n),
            _messages.traced_padded_length(scheme, n),
        )
        return xs.values, length, n
    return xs, None, _length(scheme, xs)


def _list_space(element: Space) -> Space:
    if isinstance(element, TensorSpace):
        return TensorSpace(element.dtype, (DimVar("n"), *element.shape))
    return SpaceVar("List")


def _cell_parts(cell: Para[Any, Any]) -> tuple[Space, Space, Space]:
    """Element, input carrier and output of a cell ``E × X → A``."""
    dom, cod = cell.signature()
    if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
        return dom.factors[0], dom.factors[1], cod
    return SpaceVar("E"), SpaceVar("X"), cod


class ListAlgebra(Para[tuple[_E, _A] | None, _A], Generic[_E, _A]):
    """An algebra of the list functor ``1 + E × A → A``.

    As a morphism it maps ``None`` (the empty list's layer) to `nil` and a pair
    ``(element, carry)`` to ``cons((element, carry))``.

    **Arguments:**

    - `nil`: the carrier's initial value (an array or pytree; it may be a learned
      parameter).
    - `cons`: a `cdl.Para` on pairs ``(element, carry) -> carry``, or a plain
      function of such pairs (its carrier is found by tracing when folding).

    **Returns:** the algebra; fold a list with it using `cdl.cata` (last element
    first) or `cdl.foldl` (first element first). Raises `TypeError` when `nil` is not
    in the space that `cons` returns.

    >>> import jax, jax.numpy as jnp, cdl
    >>> gru = cdl.GRUCell(3, 4, key=jax.random.key(0))
    >>> alg = cdl.ListAlgebra(jnp.zeros(4), gru)
    >>> alg(None).shape, alg((jnp.ones(3), jnp.zeros(4))).shape
    ((4,), (4,))
    >>> cdl.ListAlgebra(jnp.zeros(5), gru)
    Traceback (most recent call last):
    ...
    TypeError: ListAlgebra(GRUCell(3, 4)): the initial value nil lives in f32[5], \
but the cell returns the carrier float[4] (dimension 4 is not 5).
    """

    nil: _A
    cons: Para[tuple[_E, _A], _A]

    def __init__(
        self,
        nil: _A | Scalar,
        cons: Para[tuple[_E, _A], _A] | Callable[[tuple[_E, _A]], _A],
    ) -> None:
        self.nil = cast(_A, nil)
        self.cons = as_cell(cons, "ListAlgebra's cons")

    def __check_init__(self) -> None:
        _, carry, out = _cell_parts(self.cons)
        unifier = Unifier()
        try:
            unifier.unify(carry, out)
        except Mismatch:
            raise TypeError(
                _messages.cell_not_algebra(self.label, self.cons.label, carry, out)
            ) from None
        _check_nil(self.label, self.nil, unifier.substitute(out))

    @property
    def label(self) -> str:
        """``ListAlgebra(<cell>)``."""
        return f"ListAlgebra({self.cons.label})"

    def signature(self) -> tuple[Space, Space]:
        """``ListF(E, A) → A``."""
        return SpaceVar("ListF"), _carrier(self.cons, self.nil)

    def __call__(self, x: tuple[_E, _A] | None) -> _A:
        """`nil` on ``None``, ``cons(x)`` on a pair."""
        return self.nil if x is None else self.cons(x)


def _carrier(cell: Para[Any, Any], nil: Any) -> Space:
    """The carrier: the cell's codomain, or the space of `nil` where that is open."""
    _, _, out = _cell_parts(cell)
    if not isinstance(out, SpaceVar):
        return out
    # A Python number takes the dtype of the step it meets (see `_settle`).
    return SpaceVar("A") if isinstance(nil, int | float) else space_of(nil)


def _check_nil(label: str, nil: Any, carrier: Space) -> None:
    given = space_of(nil)
    try:
        Unifier().unify(carrier, given)
    except Mismatch as error:
        raise TypeError(
            _messages.carrier_mismatch(label, given, carrier, str(error))
        ) from None


class _ListScheme(Para[Any, _A], Generic[_A]):
    """Shared signature of the list folds: ``E[n, ...] → A``."""

    @abc.abstractmethod
    def _cell_and_nil(self) -> tuple[Para[Any, Any], Any]:
        """The cell folded over the list and the carrier's initial value."""

    def _cell(self) -> Para[Any, Any]:
        return self._cell_and_nil()[0]

    def signature(self) -> tuple[Space, Space]:
        """A list of the cell's elements to the carrier."""
        cell, nil = self._cell_and_nil()
        element, _, _ = _cell_parts(cell)
        both = rename(ProductSpace((_list_space(element), _carrier(cell, nil))))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def label(self) -> str:
        """The scheme's name and its cell's label."""
        return f"{type(self).__name__.lower()}({self._cell().label})"


def _fold(
    scheme: str,
    xs: Any,
    init: _B,
    step: Callable[..., _B],
    reverse: bool,
    every: bool = False,
    key: PRNGKeyArray | None = None,
) -> _B:
    """The fold of `xs` by `step` from `init`.

    With `every`, each position's result stacked (the fold of each suffix, or
    prefix), not only the last. With `key`, each position gets a key of its own,
    a fourth argument of `step`.
    """
    values, length, n = _unpack(scheme, xs)
    if key is not None:
        keys = jax.random.split(key, n)
        keyed, step = step, lambda x, a, i: keyed(x[0], a, i, x[1])
        values = (values, keys)
    init = _settle(scheme, values, init, step)
    # The position is counted in the carry rather than scanned over, so that no
    # array of length n is baked into the program.
    delta = -1 if reverse else 1

    def body(
        carry: tuple[_B, Int[Array, ""]], x: Any
    ) -> tuple[tuple[_B, Int[Array, ""]], _B | None]:
        acc, i = carry
        new = step(x, acc, i)
        if length is not None:
            new = _select(i < length, new, acc)
        return (new, i + delta), new if every else None

    start = jnp.int32(n - 1 if reverse else 0)
    (last, _), stacked = jax.lax.scan(body, (init, start), values, reverse=reverse)
    out: _B = stacked if every else last
    return refuse_truncated(scheme, xs, out)


def refuse_truncated(scheme: str, xs: Any, out: _B) -> _B:
    """`out`, or an error (also under `jax.jit`) when `xs` is a cut-off list."""
    if not isinstance(xs, PaddedList) or xs.truncated is None:
        return out
    return refuse(scheme, xs.truncated, xs.capacity, out)


def refuse(scheme: str, truncated: Array, max_size: int, out: _B) -> _B:
    """`out`, or an error (also under `jax.jit`) where `truncated` holds."""
    text = _messages.truncated_list(scheme, max_size)
    checked: _B = eqx.error_if(out, jnp.any(truncated), text)
    return checked


def _fold_algebra(
    label: str,
    algebra: "ListAlgebra[Any, _B]",
    xs: Any,
    reverse: bool,
    every: bool = False,
    key: PRNGKeyArray | None = None,
) -> _B:
    """`_fold` of a `ListAlgebra`'s cell; a stochastic cell gets a key per step."""
    cons = algebra.cons
    if key is None or not cons.stochastic:
        return _fold(
            label, xs, algebra.nil, lambda x, a, i: apply(cons, (x, a), None),
            reverse, every,
        )  # fmt: skip
    return _fold(
        label, xs, algebra.nil, lambda x, a, i, k: apply(cons, (x, a), k),
        reverse, every, key,
    )  # fmt: skip


def _settle(scheme: str, values: Any, init: _B, step: Callable[..., _B]) -> _B:
    """The carrier's initial value in the space the step returns, or `TypeError`.

    The step is traced once (``jax.eval_shape``) on an element and `init`: a plain
    function's carrier is found this way, and an initial value of a narrower
    dtype (``0`` for a float fold) is promoted to the step's. A Python number
    also takes a narrower dtype of its kind: with 64-bit types on, ``0.0`` is a
    ``float64`` that a fold of ``float32`` elements narrows to ``float32``.
    """
    weak = [
        isinstance(leaf, bool | int | float | complex) for leaf in jax.tree.leaves(init)
    ]
    init = jax.tree.map(jnp.asarray, init)
    leaves, structure = jax.tree.flatten(init)
    dtypes = [leaf.dtype for leaf in leaves]
    element = jax.tree.map(lambda v: _shape_dtype(v.shape[1:], v.dtype), values)
    position = _shape_dtype((), jnp.int32)
    # Each round widens at least one leaf (a history passes a widened result on
    # to the next leaf), so one round per leaf and one to confirm suffice; a
    # Python number may also narrow once. It is traced as weakly typed, as JAX
    # types it, so that it does not widen what it meets.
    for _ in range(2 * len(leaves) + 1):
        start = jax.tree.unflatten(
            structure,
            [
                _shape_dtype(leaf.shape, dtype, weak_type=python)
                for leaf, dtype, python in zip(leaves, dtypes, weak, strict=True)
            ],
        )
        out = jax.eval_shape(step, element, start, position)
        shapes: Any = jax.tree.structure(out)
        if shapes != structure or any(
            a.shape != b.shape
            for a, b in zip(jax.tree.leaves(out), leaves, strict=True)
        ):
            break
        returned = [a.dtype for a in jax.tree.leaves(out)]
        if returned == dtypes:
            settled: _B = jax.tree.unflatten(
                structure,
                [
                    leaf if leaf.dtype == dtype else leaf.astype(dtype)
                    for leaf, dtype in zip(leaves, dtypes, strict=True)
                ],
            )
            return settled
        widened = [
            (python and _kind(a) == _kind(b)) or jnp.promote_types(b, a) == a
            for a, b, python in zip(returned, dtypes, weak, strict=True)
        ]
        if not all(widened):
            break
        dtypes = returned
    init = jax.tree.unflatten(
        structure,
        [leaf.astype(dtype) for leaf, dtype in zip(leaves, dtypes, strict=True)],
    )
    raise TypeError(_messages.carrier_changes(scheme, describe(init), describe(out)))


def _kind(dtype: Any) -> str:
    """``"b"``, ``"i"``, ``"f"`` or ``"c"``; ml_dtypes' (``bfloat16``) as NumPy's.

    >>> _kind(jnp.bfloat16), _kind(jnp.float64), _kind(jnp.uint8)
    ('f', 'f', 'i')
    """
    kinds = (jnp.bool_, "b"), (jnp.integer, "i"), (jnp.floating, "f")
    return next((k for t, k in kinds if jnp.issubdtype(dtype, t)), "c")


class _AlgebraFold(_ListScheme[_A], Generic[_E, _A]):
    """A fold of one `ListAlgebra`: its cell, and its randomness."""

    algebra: ListAlgebra[_E, _A]

    def _cell_and_nil(self) -> tuple[Para[Any, Any], Any]:
        return self.algebra.cons, self.algebra.nil

    @property
    def stochastic(self) -> bool:
        """Whether the cell draws random numbers (each step gets its own key)."""
        return self.algebra.cons.stochastic


class Cata(_AlgebraFold[_E, _A], Generic[_E, _A]):
    """The catamorphism of a `ListAlgebra`: the fold ``List(E) → A``.

    Built by `cdl.cata`; see there.
    """

    @compiled
    def __call__(
        self, xs: Array | PaddedList | list[Any], *, key: Array | None = None
    ) -> _A:
        """Fold `xs`, last element first, with one `jax.lax.scan`."""
        return _fold_algebra(self.label, self.algebra, xs, True, key=key)


class FoldL(_AlgebraFold[_E, _A], Generic[_E, _A]):
    """The accumulating (left) fold of a `ListAlgebra`; built by `cdl.foldl`."""

    @compiled
    def __call__(
        self, xs: Array | PaddedList | list[Any], *, key: Array | None = None
    ) -> _A:
        """Fold `xs`, first element first, with one `jax.lax.scan`."""
        return _fold_algebra(self.label, self.algebra, xs, False, key=key)


class UpwardsList(_AlgebraFold[_E, _A], Generic[_E, _A]):
    """The fold of every suffix of a list (``scanr``); built by `cdl.upwards`."""

    def signature(self) -> tuple[Space, Space]:
        """A list of the cell's elements to a list of carriers."""
        dom, carrier = super().signature()
        return dom, _list_space(carrier)

    @property
    def label(self) -> str:
        """``upwards(<cell>)``."""
        return f"upwards({self.algebra.cons.label})"

    @compiled
    def __call__(
        self, xs: Array | PaddedList | list[Any], *, key: Array | None = None
    ) -> _A:
        """``out[i]``: the fold of ``xs[i:]``, from one reverse `jax.lax.scan`.

        Past a `PaddedList`'s length it is `nil` (the fold of no elements).
        """
        return _fold_algebra(self.label, self.algebra, xs, True, every=True, key=key)


def upwards_list(algebra: ListAlgebra[_E, _A]) -> UpwardsList[_E, _A]:
    """The list case of `cdl.upwards` (see there).

    >>> import jax.numpy as jnp, cdl
    >>> total = cdl.ListAlgebra(0.0, lambda p: p[0] + p[1])
    >>> cdl.upwards(total)(jnp.array([1.0, 2.0, 3.0]))
    Array([6., 5., 3.], dtype=float32)
    """
    return UpwardsList(algebra)


def cata_list(algebra: ListAlgebra[_E, _A]) -> Cata[_E, _A]:
    """The list case of `cdl.cata` (see there)."""
    return Cata(algebra)


def foldl(algebra: ListAlgebra[_E, _A]) -> FoldL[_E, _A]:
    """The accumulating fold: ``cons(x[n-1], … cons(x1, cons(x0, nil)))``.

    This is `cata` of the *snoc*-list: it meets the first element first, as an RNN
    reading a sequence left to right does. ``foldl(alg)(xs)`` equals
    ``cata(alg)(xs[::-1])``.

    **Arguments:** `algebra`, a `ListAlgebra`.

    **Returns:** a `cdl.Para` from lists ``[n, *element_shape]`` to the carrier.

    Reading digits most significant first:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Horner(cdl.Para[tuple[Float[Array, ""], Float[Array, ""]],
    ...                       Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         digit, acc = x
    ...         return 10 * acc + digit
    >>> alg = cdl.ListAlgebra(jnp.float32(0.0), Horner())
    >>> cdl.foldl(alg)(jnp.array([1.0, 2.0, 3.0]))
    Array(123., dtype=float32)
    >>> cdl.cata(alg)(jnp.array([1.0, 2.0, 3.0]))
    Array(321., dtype=float32)
    """
    return FoldL(algebra)


class ParaList(_ListScheme[_A], Generic[_A]):
    """The paramorphism of a list; built by `cdl.para`."""

    nil: _A
    cons: Para[Any, _A]

    def _cell_and_nil(self) -> tuple[Para[Any, Any], Any]:
        return self.cons, self.nil

    @property
    def label(self) -> str:
        """``para(<cell>)``."""
        return f"para({self.cons.label})"

    @compiled
    def __call__(self, xs: Array | PaddedList | list[Any]) -> _A:
        """Fold `xs` from the end; the cell also sees the unfolded tail."""
        values, length, n = _unpack(self.label, xs)
        stop = jnp.int32(n) if length is None else length
        return _fold(
            self.label,
            xs,
            self.nil,
            lambda x, a, i: self.cons((x, (Suffix(values, i + 1, stop), a))),
            True,
        )


def para(nil: _A, cons: Callable[[tuple[_E, tuple[Suffix, _A]]], _A]) -> ParaList[_A]:
    """The paramorphism: a fold whose cell also sees the original tail.

    The cell is called on ``(element, (tail, result_on_tail))``, where `tail` is a
    `Suffix` (a view of the list after `element`, not a copy). One `jax.lax.scan`.

    **Arguments:** `nil`, the result on the empty list; `cons`, the cell.

    **Returns:** a `cdl.Para` from lists to the carrier.

    Counting the elements greater than everything after them:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float, Int
    >>> class Leaders(cdl.Para[tuple[Float[Array, ""], tuple[cdl.Suffix,
    ...                        Int[Array, ""]]], Int[Array, ""]]):
    ...     def __call__(self, x):
    ...         e, (tail, count) = x
    ...         later = jnp.where(jnp.arange(4) >= tail.start, tail.values, -jnp.inf)
    ...         return count + (e > later.max()).astype(jnp.int32)
    >>> cdl.para(jnp.int32(0), Leaders())(jnp.array([4.0, 1.0, 3.0, 2.0]))
    Array(3, dtype=int32)
    """
    return ParaList(nil, as_cell(cons, "para's cons"))


class Histo(_ListScheme[_A], Generic[_A]):
    """The histomorphism of a list; built by `cdl.histo`."""

    nil: _A
    cons: Para[Any, _A]
    depth: int = eqx.field(static=True)

    def _cell_and_nil(self) -> tuple[Para[Any, Any], Any]:
        return self.cons, self.nil

    @property
    def label(self) -> str:
        """``histo(<cell>, depth)``."""
        return f"histo({self.cons.label}, {self.depth})"

    @compiled
    def __call__(self, xs: Array | PaddedList | list[Any]) -> _A:
        """Fold `xs` from the end, keeping the last `depth` results."""
        history = (self.nil,) * self.depth

        def step(x: Any, hist: tuple[_A, ...], i: Int[Array, ""]) -> tuple[_A, ...]:
            return (self.cons((x, hist)), *hist[:-1])

        return _fold(self.label, xs, history, step, True)[0]


def histo(
    nil: _A, cons: Callable[[tuple[_E, tuple[_A, ...]]], _A], depth: int
) -> Histo[_A]:
    """The histomorphism, with a look-back of `depth` earlier results.

    The cell is called on ``(element, (r1, r2, …, r_depth))`` where ``r1`` is the
    result on the tail, ``r2`` on the tail's tail, and so on; past the end of the list
    they are `nil`. The history is a tuple of carries in one `jax.lax.scan`.

    **Arguments:** `nil`; `cons`, the cell; `depth`, at least 1.

    **Returns:** a `cdl.Para` from lists to the carrier.

    A list of length `n` folds to the Fibonacci number ``F(n + 1)``:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Fib(cdl.Para[tuple[Float[Array, ""], tuple[Float[Array, ""],
    ...                    Float[Array, ""]]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         _, (a, b) = x
    ...         return a + jnp.maximum(b, 1.0)
    >>> cdl.histo(jnp.float32(0.0), Fib(), depth=2)(jnp.zeros(10))
    Array(89., dtype=float32)
    """
    depth = size("histo's look-back", depth)
    return Histo(nil, as_cell(cons, "histo's cons"), depth)


class Zygo(_ListScheme[_A], Generic[_E, _A, _B]):
    """The zygomorphism of a list; built by `cdl.zygo`."""

    helper: ListAlgebra[_E, _B]
    nil: _A
    cons: Para[Any, _A]

    def _cell_and_nil(self) -> tuple[Para[Any, Any], Any]:
        return self.cons, self.nil

    @property
    def label(self) -> str:
        """``zygo(<helper>, <cell>)``."""
        return f"zygo({self.helper.cons.label}, {self.cons.label})"

    @compiled
    def __call__(self, xs: Array | PaddedList | list[Any]) -> _A:
        """Fold `xs` from the end, running the helper alongside."""

        def step(x: Any, carry: tuple[_B, _A], i: Int[Array, ""]) -> tuple[_B, _A]:
            return self.helper.cons((x, carry[0])), self.cons((x, carry))

        init = (self.helper.nil, self.nil)
        return _fold(self.label, xs, init, step, True)[1]


def zygo(
    helper: ListAlgebra[_E, _B],
    nil: _A,
    cons: Callable[[tuple[_E, tuple[_B, _A]]], _A],
) -> Zygo[_E, _A, _B]:
    """The zygomorphism: a fold whose cell also sees a helper fold of the tail.

    The cell is called on ``(element, (helper_result, result))``, both on the tail.
    Helper and main fold run in the same `jax.lax.scan`.

    **Arguments:** `helper`, a `ListAlgebra`; `nil` and `cons`, the main algebra.

    **Returns:** a `cdl.Para` from lists to the main carrier.

    The alternating sum ``x0 - x1 + x2 - …``, with the parity of the tail as helper:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Flip(cdl.Para[tuple[Float[Array, ""], Float[Array, ""]],
    ...                     Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return 1.0 - x[1]
    >>> class Alt(cdl.Para[tuple[Float[Array, ""], tuple[Float[Array, ""],
    ...                    Float[Array, ""]]], Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         e, (odd, acc) = x
    ...         return jnp.where(odd > 0.5, -1.0, 1.0) * e + acc
    >>> parity = cdl.ListAlgebra(jnp.float32(0.0), Flip())
    >>> cdl.zygo(parity, jnp.float32(0.0), Alt())(jnp.array([5.0, 3.0, 1.0]))
    Array(3., dtype=float32)
    """
    return Zygo(helper, nil, as_cell(cons, "zygo's cons"))


class Mutu(Para[Any, tuple[_A, _B]], Generic[_A, _B]):
    """Mutual recursion of two list folds; built by `cdl.mutu`."""

    nils: tuple[_A, _B]
    first: Para[Any, _A]
    second: Para[Any, _B]

    def signature(self) -> tuple[Space, Space]:
        """A list of the cells' elements to the pair of carriers."""
        element, _, _ = _cell_parts(self.first)
        carriers = ProductSpace(
            (
                _carrier(self.first, self.nils[0]),
                _carrier(self.second, self.nils[1]),
            )
        )
        both = rename(ProductSpace((_list_space(element), carriers)))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def label(self) -> str:
        """``mutu(<first>, <second>)``."""
        return f"mutu({self.first.label}, {self.second.label})"

    @compiled
    def __call__(self, xs: Array | PaddedList | list[Any]) -> tuple[_A, _B]:
        """Fold `xs` from the end with both cells, each seeing both results."""

        def step(x: Any, carry: tuple[_A, _B], i: Int[Array, ""]) -> tuple[_A, _B]:
            return self.first((x, carry)), self.second((x, carry))

        return _fold(self.label, xs, self.nils, step, True)


def mutu(
    nils: tuple[_A, _B],
    first: Callable[[tuple[_E, tuple[_A, _B]]], _A],
    second: Callable[[tuple[_E, tuple[_A, _B]]], _B],
) -> Mutu[_A, _B]:
    """Mutumorphism: two folds defined in terms of each other, in one scan.

    Both cells are called on ``(element, (first_result, second_result))`` on the tail.

    **Arguments:** `nils`, the two results on the empty list; `first`, `second`.

    **Returns:** a `cdl.Para` from lists to the pair of results.

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> Pair = tuple[Float[Array, ""], tuple[Float[Array, ""], Float[Array, ""]]]
    >>> class IsEven(cdl.Para[Pair, Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[1][1]
    >>> class IsOdd(cdl.Para[Pair, Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[1][0]
    >>> parity = cdl.mutu((jnp.float32(1.0), jnp.float32(0.0)), IsEven(), IsOdd())
    >>> parity(jnp.zeros(3))
    (Array(0., dtype=float32), Array(1., dtype=float32))
    """
    if not isinstance(nils, tuple | list) or len(nils) != 2:
        raise TypeError(_messages.mutu_nils(nils))
    cells = as_cell(first, "mutu's first"), as_cell(second, "mutu's second")
    first_nil, second_nil = nils
    return Mutu((first_nil, second_nil), *cells)


class ListCoalgebra(Para[_S, tuple[Bool[Array, ""], tuple[_E, _S]]], Generic[_E, _S]):
    """A coalgebra of the list functor ``S → 1 + E × S``, with a stop condition.

    **Arguments:** `step`, a `cdl.Para` or a function ``S → (E, S)`` giving the
    next element and seed; `stop`, a function (or `cdl.Para`) ``S → bool[]``; when
    it holds, the list ends there.

    **Returns:** the coalgebra; unfold with `cdl.ana` (or `cdl.hylo`). As a morphism
    it maps a seed to ``(stop, (element, next_seed))``.

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(cdl.Copy() >> (cdl.Identity() @ cdl.Bias((), -1.0)),
    ...                          lambda s: s <= 0)
    >>> down(jnp.float32(3.0))
    (Array(False, dtype=bool), (Array(3., dtype=float32), Array(2., dtype=float32)))
    """

    step: Para[_S, tuple[_E, _S]]
    stop: Callable[[_S], Bool[Array, ""] | bool]

    def __init__(
        self,
        step: Callable[[_S], tuple[_E, _S]],
        stop: Callable[[_S], Bool[Array, ""] | bool],
    ) -> None:
        self.step = as_cell(step, "ListCoalgebra's step")
        self.stop = stop

    def signature(self) -> tuple[Space, Space]:
        """``S → (bool × (E × S))`` from the step's spaces."""
        dom, cod = self.step.signature()
        return dom, ProductSpace((TensorSpace(frozenset({"bool"}), ()), cod))

    @property
    def label(self) -> str:
        """``ListCoalgebra(<step>)``."""
        return f"ListCoalgebra({self.step.label})"

    def __call__(self, seed: _S) -> tuple[Bool[Array, ""], tuple[_E, _S]]:
        """One layer of the unfold: whether to stop, else element and next seed."""
        stop = run_step(self.label, self.stop, seed)
        if not isinstance(stop, bool) and not (
            jnp.shape(stop) == () and jnp.result_type(stop) == jnp.bool_
        ):
            raise TypeError(_messages.stop_not_bool(self.label, space_of(stop)))
        out = run_step(self.label, self.step, seed)
        _check_next_seed(self.label, seed, out)
        return jnp.asarray(stop), out


def _weakly_typed(x: Any) -> bool:
    """Whether `x` is a Python number or weakly typed (a scan's carry widens those)."""
    if isinstance(x, bool | int | float | complex):
        return True
    return bool(getattr(getattr(x, "aval", None), "weak_type", False))


def _check_next_seed(label: str, seed: Any, out: Any) -> None:
    """Raise `TypeError` unless `out` is ``(element, seed')`` with `seed'` like `seed`.

    The seed is a scan's carry: one that changes its structure, shape or dtype
    (``n / 2`` of an int seed) cannot be carried, and JAX's own error would name
    the scan's carry, not the step.

    >>> import jax.numpy as jnp
    >>> _check_next_seed("collatz", jnp.int32(6), (jnp.int32(6), jnp.int32(3)))
    >>> _check_next_seed("halve", 6, (6, jnp.float32(3)))  # a Python number widens
    >>> _check_next_seed("collatz", jnp.int32(6), (jnp.int32(6), jnp.float32(3)))
    Traceback (most recent call last):
    ...
    TypeError: the step of collatz turns the seed i32[] into f32[]: a seed keeps ...
    """
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(_messages.list_step_not_a_pair(label, space_of(out)))
    same = str(jax.tree.structure(seed)) == str(jax.tree.structure(out[1])) and all(
        jnp.shape(a) == jnp.shape(b)
        and (_weakly_typed(a) or jnp.result_type(a) == jnp.result_type(b))
        for a, b in zip(jax.tree.leaves(seed), jax.tree.leaves(out[1]), strict=True)
    )
    if not same:
        raise TypeError(_messages.seed_changes(label, space_of(seed), space_of(out[1])))


def _emit(
    coalgebra: ListCoalgebra[_E, _S], seed: _S, max_size: int
) -> tuple[Any, Int[Array, ""], _S, Bool[Array, ""]]:
    """Run the coalgebra `max_size` times.

    **Returns:** the elements, their count, the last seed and whether the list
    was cut off (the coalgebra had not stopped).
    """

    def body(
        carry: tuple[_S, Bool[Array, ""]], _: None
    ) -> tuple[tuple[_S, Bool[Array, ""]], tuple[_E, Bool[Array, ""]]]:
        s, done = carry
        stop, (e, nxt) = coalgebra(s)
        done = done | stop
        e = _select(done, jax.tree.map(jnp.zeros_like, e), e)
        return (_select(done, s, nxt), done), (e, ~done)

    (last, done), (elements, alive) = jax.lax.scan(
        body, (seed, jnp.bool_(False)), None, length=max_size
    )
    truncated = ~(done | jnp.asarray(coalgebra.stop(last)))
    return elements, alive.sum(dtype=jnp.int32), last, truncated


class Ana(Para[_S, PaddedList], Generic[_E, _S]):
    """The anamorphism of a `ListCoalgebra`; built by `cdl.ana`."""

    coalgebra: ListCoalgebra[_E, _S]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to padded lists (unchecked pytrees)."""
        return self.coalgebra.signature()[0], SpaceVar("PaddedList")

    @property
    def label(self) -> str:
        """``ana(<step>, max_size)``."""
        return f"ana({self.coalgebra.step.label}, {self.max_size})"

    @compiled
    def __call__(self, seed: _S) -> PaddedList:
        """Unfold `seed` into at most `max_size` elements."""
        elements, length, _, truncated = _emit(self.coalgebra, seed, self.max_size)
        return PaddedList(elements, length, truncated)


def ana(coalgebra: ListCoalgebra[_E, _S], max_size: int) -> Ana[_E, _S]:
    """The anamorphism: unfold a seed into a list, in one `jax.lax.scan`.

    The first element produced is the head (row 0). Unfolding stops when the
    coalgebra's `stop` holds or after `max_size` elements, whichever comes first;
    in the second case the list's `truncated` is set, and folding it (or reading
    it with `to_list`) raises.

    **Arguments:** `coalgebra`, a `ListCoalgebra`; `max_size`, at least 1.

    **Returns:** a `cdl.Para` from seeds to `PaddedList`s of capacity `max_size`.

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(cdl.Copy() >> (cdl.Identity() @ cdl.Bias((), -1.0)),
    ...                          lambda s: s <= 0)
    >>> out = cdl.ana(down, max_size=5)(jnp.float32(3.0))
    >>> out.values, out.length, out.truncated
    (Array([3., 2., 1., 0., 0.], dtype=float32), Array(3, dtype=int32), \
Array(False, dtype=bool))
    >>> cdl.ana(down, max_size=2)(jnp.float32(3.0)).truncated
    Array(True, dtype=bool)
    """
    max_size = size("ana", max_size)
    return Ana(coalgebra, max_size)


class Hylo(Para[_S, _A], Generic[_E, _S, _A]):
    """The hylomorphism ``cata(algebra) ∘ ana(coalgebra)``; built by `cdl.hylo`."""

    algebra: ListAlgebra[_E, _A]
    coalgebra: ListCoalgebra[_E, _S]
    max_size: int = eqx.field(static=True)
    accumulate: bool = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to the algebra's carrier."""
        return self.coalgebra.signature()[0], _carrier(
            self.algebra.cons, self.algebra.nil
        )

    @property
    def label(self) -> str:
        """``hylo(<cell>, <step>)``."""
        return f"hylo({self.algebra.cons.label}, {self.coalgebra.step.label})"

    @compiled
    def __call__(self, seed: _S) -> _A:
        """Unfold and fold without handing the list to anyone."""
        cons = self.algebra.cons
        if self.accumulate:

            def body(
                carry: tuple[_S, _A, Bool[Array, ""]], _: None
            ) -> tuple[tuple[_S, _A, Bool[Array, ""]], None]:
                s, acc, done = carry
                stop, (e, nxt) = self.coalgebra(s)
                done = done | stop
                new = (nxt, cons((e, acc)), done)
                return _select(done, carry, new), None

            element = jax.eval_shape(self.coalgebra.step, seed)[0]
            rows = jax.tree.map(lambda e: _shape_dtype((1, *e.shape), e.dtype), element)
            nil = _settle(
                self.label, rows, self.algebra.nil, lambda x, a, i: cons((x, a))
            )
            init = (seed, nil, jnp.bool_(False))
            (last, out, done), _ = jax.lax.scan(body, init, None, length=self.max_size)
            truncated = ~(done | jnp.asarray(self.coalgebra.stop(last)))
            return refuse(self.label, truncated, self.max_size, out)
        elements, length, _, truncated = _emit(self.coalgebra, seed, self.max_size)
        return Cata(self.algebra)(PaddedList(elements, length, truncated))


def hylo(
    algebra: ListAlgebra[_E, _A],
    coalgebra: ListCoalgebra[_E, _S],
    max_size: int,
    *,
    accumulate: bool = False,
) -> Hylo[_E, _S, _A]:
    """The hylomorphism: unfold a seed, then fold the list, never exposing it.

    A right fold (``accumulate=False``, the default) consumes the *last* element
    produced first, so the elements are its stack: one unfold scan, then one fold
    scan over them. An accumulating consumer (``accumulate=True``, i.e. ``foldl``
    of the unfolded list) fuses into a single scan with constant memory. When the
    coalgebra has not stopped after `max_size` elements the result would be wrong,
    so it raises instead (also under `jax.jit`).

    **Arguments:** `algebra`, a `ListAlgebra`; `coalgebra`, a `ListCoalgebra`;
    `max_size`, the most elements unfolded; `accumulate`, see above.

    **Returns:** a `cdl.Para` from seeds to the carrier.

    The factorial as the product of the countdown ``n, n-1, …, 1``:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Float
    >>> class Mul(cdl.Para[tuple[Float[Array, ""], Float[Array, ""]],
    ...                    Float[Array, ""]]):
    ...     def __call__(self, x):
    ...         return x[0] * x[1]
    >>> down = cdl.ListCoalgebra(cdl.Copy() >> (cdl.Identity() @ cdl.Bias((), -1.0)),
    ...                          lambda s: s <= 0)
    >>> times = cdl.ListAlgebra(jnp.float32(1.0), Mul())
    >>> cdl.hylo(times, down, max_size=10)(jnp.float32(5.0))
    Array(120., dtype=float32)
    >>> cdl.hylo(times, down, max_size=10, accumulate=True)(jnp.float32(5.0))
    Array(120., dtype=float32)
    """
    max_size = size("hylo", max_size)
    return Hylo(algebra, coalgebra, max_size, accumulate)


class Apo(Para[_S, PaddedList], Generic[_E, _S]):
    """The apomorphism of a list; built by `cdl.apo`."""

    coalgebra: ListCoalgebra[_E, _S]
    finish: Callable[[_S], Bool[Array, ""] | bool]
    tail: Callable[[_S], PaddedList]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to padded lists (unchecked pytrees)."""
        return self.coalgebra.signature()[0], SpaceVar("PaddedList")

    @property
    def label(self) -> str:
        """``apo(<step>, max_size)``."""
        return f"apo({self.coalgebra.step.label}, {self.max_size})"

    @compiled
    def __call__(self, seed: _S) -> PaddedList:
        """Unfold until `stop`, or until `finish` hands over ``tail(seed)``."""
        step, stop, finish = self.coalgebra.step, self.coalgebra.stop, self.finish

        def ended(item: tuple[_S, Bool[Array, ""]]) -> Bool[Array, ""]:
            return item[1] | jnp.asarray(stop(item[0]))

        def emit(item: tuple[_S, Bool[Array, ""]]) -> Any:
            s = item[0]
            e, nxt = step(s)
            done = jnp.asarray(finish(s))
            return e, (_select(done, s, nxt), done)

        marked = ListCoalgebra(emit, ended)
        elements, count, (last, finished), cut = _emit(
            marked, (seed, jnp.bool_(False)), self.max_size
        )
        rest = self.tail(last)
        rest_length = jnp.where(finished, rest.length, 0)

        def splice(out: Array, extra: Array) -> Array:
            room = jnp.concatenate([out, jnp.zeros_like(out)])
            # Rows of `extra` past `rest_length` must not overwrite anything: they
            # land beyond the spliced tail and are cut off or masked by `length`.
            spliced = jax.lax.dynamic_update_slice_in_dim(room, extra, count, axis=0)
            return jnp.where(finished, spliced, room)[: self.max_size]

        values = jax.tree.map(splice, elements, rest.values)
        truncated = cut | (count + rest_length > self.max_size)
        length = jnp.minimum(count + rest_length, self.max_size)
        return PaddedList(values, length, truncated)


def apo(
    coalgebra: ListCoalgebra[_E, _S],
    finish: Callable[[_S], Bool[Array, ""] | bool],
    tail: Callable[[_S], PaddedList],
    max_size: int,
) -> Apo[_E, _S]:
    """The apomorphism: an unfold whose step may end the list with a whole tail.

    Haskell's ``apo :: (s -> ListF e (Either [e] s)) -> s -> [e]``: from each seed
    the list either ends (`stop`), or the step emits an element paired with what
    follows it: the finished tail ``tail(seed)`` when ``finish(seed)`` holds (the
    ``Left``), else the next seed (the ``Right``). One scan, then one splice of
    the tail. The list's `truncated` is set when it does not fit in `max_size`.

    **Arguments:** `coalgebra`, a `ListCoalgebra` (its `step` gives the element and
    the next seed); `finish` and `tail`, functions of the seed (`tail` returns a
    `PaddedList` of capacity at most `max_size`); `max_size`.

    **Returns:** a `cdl.Para` from seeds to `PaddedList`s.

    Inserting 2.5 into a sorted list: at the first element not below 2.5, emit 2.5
    and hand over the rest of the list unchanged (the seed is a position):

    >>> import jax.numpy as jnp, cdl
    >>> xs = jnp.array([1.0, 2.0, 3.0, 4.0])
    >>> def step(i):
    ...     return jnp.where((i == 4) | (2.5 <= xs[i]), 2.5, xs[i]), i + 1
    >>> finish = lambda i: (i == 4) | (2.5 <= xs[i])
    >>> tail = lambda i: cdl.PaddedList(jnp.roll(xs, -i), 4 - i)
    >>> insert = cdl.apo(cdl.ListCoalgebra(step, lambda i: i > 4), finish, tail,
    ...                  max_size=5)
    >>> [float(x) for x in insert(jnp.int32(0)).to_list()]
    [1.0, 2.0, 2.5, 3.0, 4.0]
    """
    max_size = size("apo", max_size)
    return Apo(coalgebra, finish, tail, max_size)


class Futu(Para[_S, PaddedList], Generic[_S]):
    """The futumorphism of a list; built by `cdl.futu`."""

    step: Para[_S, Any]
    stop: Callable[[_S], Bool[Array, ""] | bool]
    max_size: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to padded lists (unchecked pytrees)."""
        return self.step.signature()[0], SpaceVar("PaddedList")

    @property
    def label(self) -> str:
        """``futu(<step>, max_size)``."""
        return f"futu({self.step.label}, {self.max_size})"

    @compiled
    def __call__(self, seed: _S) -> PaddedList:
        """Unfold, each step emitting a block of up to `width` elements."""
        template = jax.eval_shape(self.step, seed)[1]
        width = _length(self.label, template)
        room = jax.tree.map(
            lambda b: jnp.zeros((self.max_size + width, *b.shape[1:]), b.dtype),
            template,
        )

        def body(
            carry: tuple[_S, Any, Int[Array, ""], Bool[Array, ""], Bool[Array, ""]],
            _: None,
        ) -> tuple[
            tuple[_S, Any, Int[Array, ""], Bool[Array, ""], Bool[Array, ""]], None
        ]:
            s, out, pos, done, bad = carry
            count, block, nxt = self.step(s)
            done = done | jnp.asarray(self.stop(s)) | (pos >= self.max_size)
            bad = bad | (~done & ((count < 0) | (count > width)))
            written = jax.tree.map(
                lambda o, b: jax.lax.dynamic_update_slice_in_dim(o, b, pos, axis=0),
                out,
                block,
            )
            grown = pos + jnp.clip(count, 0, width)
            new = (nxt, written, grown, done, bad)
            return _select(done, (s, out, pos, done, bad), new), None

        init = (seed, room, jnp.int32(0), jnp.bool_(False), jnp.bool_(False))
        (last, out, pos, _, bad), _ = jax.lax.scan(
            body, init, None, length=self.max_size
        )
        values = jax.tree.map(lambda o: o[: self.max_size], out)
        values = eqx.error_if(values, bad, _messages.futu_count(self.label, width))
        truncated = ~jnp.asarray(self.stop(last)) | (pos > self.max_size)
        return PaddedList(values, jnp.minimum(pos, self.max_size), truncated)


def futu(
    step: Callable[[_S], tuple[Int[Array, ""], _L, _S]],
    stop: Callable[[_S], Bool[Array, ""] | bool],
    max_size: int,
) -> Futu[_S]:
    """The futumorphism: an unfold whose steps may emit several elements at once.

    ``step(seed)`` returns ``(count, block, next_seed)``: `block` is an array
    ``[width, *element_shape]`` whose first `count` rows are emitted (the
    ``Free(ListF)`` layers the coalgebra builds ahead). Unfolding ends when ``stop``
    holds or `max_size` elements are out. One `jax.lax.scan`.

    **Arguments:** `step`, a `cdl.Para`; `stop`, a function of the seed; `max_size`.

    **Returns:** a `cdl.Para` from seeds to `PaddedList`s.

    Run-length decoding of ``(value, count)`` pairs:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Int
    >>> pairs = jnp.array([[7, 2], [5, 1], [9, 3]])
    >>> class Expand(cdl.Para[Int[Array, ""], tuple[Int[Array, ""], Int[Array, "3"],
    ...                                               Int[Array, ""]]]):
    ...     def __call__(self, i):
    ...         value, count = pairs[i]
    ...         return count, jnp.full(3, value), i + 1
    >>> out = cdl.futu(Expand(), lambda i: i >= 3, max_size=8)(jnp.int32(0))
    >>> out.values[: out.length]
    Array([7, 7, 5, 9, 9, 9], dtype=int32)
    """
    max_size = size("futu", max_size)
    return Futu(as_cell(step, "futu's step"), stop, max_size)


def _structured(element: object) -> bool:
    """Whether a list's element is a pytree of arrays (a dict of features, say).

    Lists and tuples of numbers are vectors, as NumPy reads them.
    """
    return type(element) not in (list, tuple) and not jax.tree_util.treedef_is_leaf(
        jax.tree.structure(element)
    )


def _structure_of(tree: Any) -> Any:
    """`tree`'s pytree structure (compared with ``!=``, printed in messages)."""
    return jax.tree.structure(tree)


def _leafwise(lists: list[Any]) -> tuple[Any, list[list[Any]]] | None:
    """The lists' structure and, per leaf, the lists of that leaf; None if plain."""
    trees: list[Any] = []
    for i, xs in enumerate(lists):
        if isinstance(xs, list | tuple) and any(_structured(e) for e in xs):
            for e in xs[1:]:
                if _structure_of(e) != _structure_of(xs[0]):
                    raise ValueError(
                        _messages.ragged_element_trees(
                            i, _structure_of(xs[0]), _structure_of(e)
                        )
                    )
            trees.append(jax.tree.map(lambda *ls: np.stack(ls), *xs) if xs else None)
        elif _structured(xs) and not isinstance(xs, list | tuple):
            trees.append(xs)
        elif isinstance(xs, list | tuple) and len(xs) == 0:
            trees.append(None)
        else:
            trees.append(False)
    if not any(t is not None and t is not False for t in trees):
        return None
    first = next(t for t in trees if t is not None and t is not False)
    structure = _structure_of(first)
    columns: list[list[Any]] = [[] for _ in range(len(jax.tree.leaves(first)))]
    for i, tree in enumerate(trees):
        if tree is False or (tree is not None and _structure_of(tree) != structure):
            given = (
                "a list of plain elements"
                if tree is False
                else f"of structure {_structure_of(tree)}"
            )
            raise ValueError(_messages.ragged_list_trees(i, given, structure))
        if tree is None:  # an empty list: no rows of any leaf
            for column in columns:
                column.append([])
            continue
        leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]
        if (
            any(leaf.ndim == 0 for leaf in leaves)
            or len({len(leaf) for leaf in leaves}) > 1
        ):
            shapes = [leaf.shape for leaf in leaves]
            raise ValueError(_messages.list_tree_lengths(i, shapes))
        for column, leaf in zip(columns, leaves, strict=True):
            column.append(leaf)
    return structure, columns


def batch_lists(lists: list[Any], *, pad: bool = False) -> Any:
    """Stack lists (Python sequences of elements) into one batched array.

    **Arguments:** `lists`, the lists; `pad`, whether lists of different lengths
    may be padded (with zeros) and masked. Elements may be pytrees (a dict of
    features each), of one structure; a list may also be given as a pytree of
    arrays holding its elements on their leading axis.

    **Returns:** an array ``[batch, n, *element_shape]`` when all lengths agree and
    `pad` is off (for pytree elements, that pytree of such arrays); a `PaddedList`
    with a batch axis when `pad` is on. Raises `ValueError` for a ragged batch
    without `pad`.

    >>> import jax, jax.numpy as jnp, cdl
    >>> batch = cdl.batch_lists([[1.0, 2.0], [3.0]], pad=True)
    >>> total = cdl.cata(cdl.ListAlgebra(jnp.float32(0.0), cdl.Add()))
    >>> jax.vmap(total)(batch)
    Array([3., 3.], dtype=float32)
    >>> cdl.batch_lists([[1.0, 2.0], [3.0]])
    Traceback (most recent call last):
    ...
    ValueError: the lists have different lengths [2, 1] and no mask was asked for: \
pass `pad=True` to get a `cdl.PaddedList` whose `length` masks the padding.
    >>> words = [[{"id": 3, "weight": 0.5}], [{"id": 1, "weight": 1.0}] * 2]
    >>> cdl.batch_lists(words, pad=True).values["id"]
    Array([[3, 0],
           [1, 1]], dtype=int32)
    """
    if len(lists) == 0:
        raise ValueError(_messages.no_lists())
    leafwise = _leafwise(list(lists))
    if leafwise is not None:
        structure, columns = leafwise
        batched = [batch_lists(column, pad=pad) for column in columns]
        if not pad:
            return jax.tree.unflatten(structure, batched)
        return PaddedList(
            jax.tree.unflatten(structure, [b.values for b in batched]),
            batched[0].length,
        )
    for i, xs in enumerate(lists):
        sequence = isinstance(xs, list | tuple)
        if not (sequence or isinstance(xs, np.ndarray | jax.Array) and xs.ndim):
            raise TypeError(_messages.not_a_list_to_batch(i, xs))
    lengths = [len(xs) for xs in lists]
    if not pad and len(set(lengths)) > 1:
        raise ValueError(_messages.ragged(lengths))
    capacity = max(lengths)
    arrays = [np.asarray(xs) for xs in lists]
    filled = [(i, a) for i, a in enumerate(arrays) if a.shape[:1] != (0,)]
    shape = filled[0][1].shape[1:] if filled else ()
    for i, a in filled:
        if a.shape[1:] != shape:
            first = filled[0][0]
            raise ValueError(_messages.ragged_elements(i, a.shape[1:], first, shape))
    if not pad:
        return jnp.asarray(np.stack(arrays))
    # The common type of all the lists: [1, 2] and [0.5] are floats together.
    dtype = np.result_type(*[a for _, a in filled]) if filled else np.dtype(np.float32)
    # As jnp.asarray makes of it: float32, or float64 where JAX's x64 is on.
    dtype = np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    rows = []
    for arr in arrays:
        arr = arr.reshape(len(arr), *shape).astype(dtype)
        padding = np.zeros((capacity - arr.shape[0], *shape), dtype)
        rows.append(np.concatenate([arr, padding]))
    return PaddedList(
        jnp.asarray(np.stack(rows)), jnp.asarray(np.array(lengths, np.int32))
    )
