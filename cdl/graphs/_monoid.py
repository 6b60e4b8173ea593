"""Aggregation by commutative monoids and semirings, as values.

A graph layer gathers a multiset of messages at each node and folds it into one
value; the fold is well defined whatever the order of the edges exactly when it is
a commutative monoid ``(M, ⊕, e)``. The monoid is a value passed to the layer:
`Sum`, `Max`, `Min`, `Product`, `LogSumExp`, or any `Monoid` built from an
associative, commutative operation and its identity. The axioms, on random values:

>>> import jax, jax.numpy as jnp, cdl
>>> a, b, c = jax.random.normal(jax.random.key(0), (3, 4))
>>> for m in (cdl.graphs.Sum(), cdl.graphs.Max(), cdl.graphs.Min()):
...     left, right = m.combine(m.combine(a, b), c), m.combine(a, m.combine(b, c))
...     assoc = jnp.allclose(left, right)
...     comm = jnp.array_equal(m.combine(a, b), m.combine(b, a))
...     unit = jnp.array_equal(m.combine(a, m.identity(a.dtype)), a)
...     print(type(m).__name__, bool(assoc), bool(comm), bool(unit))
Sum True True True
Max True True True
Min True True True

Folding along segments (one per receiving node) uses ``jax.ops.segment_*``; a node
that receives nothing gets the identity:

>>> cdl.graphs.Min().segment(jnp.array([3.0, 1.0, 2.0]), jnp.array([0, 0, 2]), 3)
Array([ 1., inf,  2.], dtype=float32)

A `Semiring` adds a multiplication that distributes over ⊕; message passing over
the min-plus semiring is one step of Bellman-Ford (see `Propagate`).
"""

import abc
from collections.abc import Callable
from itertools import product
from typing import Final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Int, Shaped

from . import _messages


def _column(flags: Shaped[Array, " e"], like: Array) -> Shaped[Array, " ..."]:
    """`flags` shaped to broadcast against rows of `like` (rank promotion is off)."""
    return jnp.reshape(flags, flags.shape + (1,) * (like.ndim - 1))


class AbstractAggregator(eqx.Module):
    """Folds the messages sent to each node into one value per node.

    **Returns:** through `segment`, one row per segment.
    """

    @abc.abstractmethod
    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """Fold the rows of `data` that share a segment id.

        **Arguments:** `data`, one row per element; `segment_ids`, the segment of
        each row; `num_segments`, the number of segments (rows of the result).

        **Returns:** one row per segment; a segment with no row gets the fold of
        nothing (the identity of a monoid, 0 for the mean).
        """

    @property
    def finite_identity(self) -> bool:
        """Whether a segment with no element folds to a finite value."""
        return True

    @property
    def label(self) -> str:
        """The name used in labels of layers, e.g. ``sum``."""
        return type(self).__name__.lower()


class AbstractMonoid(AbstractAggregator):
    """A commutative monoid ``(M, ⊕, e)`` acting elementwise on arrays.

    Subclasses give `combine` (⊕, associative and commutative) and `identity` (e);
    `segment` folds with a segmented scan unless a subclass has a faster way.
    """

    @abc.abstractmethod
    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """The operation ⊕, elementwise."""

    @abc.abstractmethod
    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """The unit e of ⊕, as a scalar of `dtype`."""

    @property
    def finite_identity(self) -> bool:
        """Whether e is finite (it is not for max and min)."""
        with jax.ensure_compile_time_eval():
            return bool(jnp.isfinite(self.identity(jnp.dtype(jnp.float32))))

    def reduce(self, data: Shaped[Array, " k *d"]) -> Shaped[Array, " *d"]:
        """Fold all rows of `data` into one.

        **Arguments:** `data`, an array whose first axis is folded.

        **Returns:** ``data[0] ⊕ data[1] ⊕ …`` (e when there are no rows).

        >>> import jax.numpy as jnp, cdl
        >>> cdl.graphs.Max().reduce(jnp.array([[1.0, 5.0], [3.0, 2.0]]))
        Array([3., 5.], dtype=float32)
        """
        ids = jnp.zeros(data.shape[0], dtype=jnp.int32)
        return self.segment(data, ids, 1)[0]

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """Fold by a segmented associative scan over the rows sorted by segment.

        **Arguments:** as `AbstractAggregator.segment`.

        **Returns:** one row per segment, e for segments with no row.
        """
        order = jnp.argsort(segment_ids, stable=True)
        ids, values = segment_ids[order], data[order]
        change: Bool[Array, " e1"] = ids[1:] != ids[:-1]
        starts = jnp.concatenate([jnp.ones(1, dtype=bool), change])
        ends = jnp.concatenate([change, jnp.ones(1, dtype=bool)])

        def op(
            left: tuple[Array, Array], right: tuple[Array, Array]
        ) -> tuple[Array, Array]:
            start_l, value_l = left
            start_r, value_r = right
            merged = jnp.where(
                _column(start_r, value_r), value_r, self.combine(value_l, value_r)
            )
            return start_l | start_r, merged

        if data.shape[0] == 0:
            scanned = values
        else:
            _, scanned = jax.lax.associative_scan(op, (starts, values))
        out = jnp.full(
            (num_segments, *data.shape[1:]), self.identity(data.dtype), data.dtype
        )
        where = jnp.where(ends, ids, num_segments)
        return out.at[where].set(scanned, mode="drop")


def _unit(owner: str, name: str, value: object) -> float:
    """`value` as one real number, the unit of a monoid or semiring, else TypeError.

    A 0-d array (``jnp.float32(0)``, ``np.array(1)``) is taken as its number: a
    unit is static metadata, so it is kept as a Python number.
    """
    if isinstance(value, np.ndarray | np.generic | jax.Array) and not isinstance(
        value, jax.core.Tracer
    ):
        real = np.issubdtype(value.dtype, np.integer) or np.issubdtype(
            value.dtype, np.floating
        )
        if value.shape == () and (real or value.dtype == np.bool_):
            value = value.item()
    if not isinstance(value, int | float):
        raise TypeError(_messages.not_a_unit(owner, name, value))
    return value


def _broken_law(
    operation: Callable[[Array, Array], Array], unit: object
) -> tuple[str, str] | None:
    """A law of a commutative monoid that `operation` breaks on sample values.

    The fold sorts and scans the rows of a segment in an order of its own, so an
    operation that is not associative and commutative with `unit` as identity gives
    results that depend on the order of the edges. Returns the law's name and the
    values that break it, or None (also when the samples cannot be folded, e.g. an
    operation on integers given a float unit).
    """
    samples: np.ndarray
    if isinstance(unit, bool | np.bool_):  # every triple of truth values
        dtype, samples = jnp.bool_, np.array(list(product((False, True), repeat=3)))
        samples = samples.reshape(-1)
    elif isinstance(unit, int | np.integer):
        dtype, samples = jnp.int32, np.array([3, 12, 7, 18, 5, 42])
    else:
        dtype, samples = jnp.float32, np.array([0.37, -1.25, 2.5, 0.81, -0.4, 1.7])
    a, b, c = (jnp.asarray(samples[i::3], dtype) for i in range(3))
    try:
        with jax.ensure_compile_time_eval():
            e = jnp.broadcast_to(jnp.asarray(unit, dtype), a.shape)
            laws = (
                (operation(a, b), operation(b, a), "op(a, b) = op(b, a)"),
                (
                    operation(operation(a, b), c),
                    operation(a, operation(b, c)),
                    "op(op(a, b), c) = op(a, op(b, c))",
                ),
                (operation(a, e), a, f"op(a, {unit!r}) = a"),
            )
            for left, right, equation in laws:
                close = np.isclose(np.asarray(left), np.asarray(right), rtol=1e-4)
                if not close.all():
                    j = int(np.argmin(close))  # the first sample that breaks it
                    at = ", ".join(
                        f"{n} = {samples[3 * j + i]}" for i, n in enumerate("abc")
                    )
                    return equation, at
    except Exception:  # noqa: BLE001 (samples the operation cannot take: unchecked)
        return None
    return None


class Monoid(AbstractMonoid):
    """A commutative monoid from an elementwise operation and its identity.

    **Arguments:**

    - `operation`: an associative, commutative, elementwise binary function.
    - `unit`: its identity element.
    - `name`: a short name for labels.

    **Returns:** the monoid; its `segment` uses a segmented scan.

    >>> import jax.numpy as jnp, cdl
    >>> gcd = cdl.graphs.Monoid(jnp.gcd, 0, "gcd")
    >>> gcd.segment(jnp.array([12, 18, 7]), jnp.array([0, 0, 1]), 3)
    Array([6, 7, 0], dtype=int32)
    """

    operation: Callable[[Array, Array], Array] = eqx.field(static=True)
    unit: float = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(
        self,
        operation: Callable[[Array, Array], Array],
        unit: float,
        name: str = "monoid",
    ) -> None:
        self.operation = operation
        self.unit = _unit("Monoid", name, unit)
        self.name = name

    def __check_init__(self) -> None:
        if not callable(self.operation):
            raise TypeError(_messages.not_an_operation("Monoid", self.operation))
        broken = _broken_law(self.operation, self.unit)
        if broken is not None:
            raise ValueError(_messages.not_a_monoid_law(self.name, *broken))

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``operation(a, b)``."""
        return self.operation(a, b)

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """`unit`, as `dtype`."""
        return jnp.asarray(self.unit, dtype=dtype)

    @property
    def label(self) -> str:
        """`name`."""
        return self.name


class Sum(AbstractMonoid):
    """Addition, with identity 0: the aggregation of GCN and GIN.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.Sum().segment(jnp.array([1.0, 2.0, 4.0]), jnp.array([0, 0, 1]), 2)
    Array([3., 4.], dtype=float32)
    """

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``a + b``."""
        return a + b

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """0."""
        return jnp.zeros((), dtype)

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """``jax.ops.segment_sum``."""
        return jax.ops.segment_sum(data, segment_ids, num_segments)


class Product(AbstractMonoid):
    """Multiplication, with identity 1.

    Floating-point rows fold by the segmented scan, which JAX differentiates
    (its ``segment_prod`` has no gradient for repeated segment ids); integer
    rows by ``jax.ops.segment_prod``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.graphs.Product().segment(jnp.array([2.0, 3.0]), jnp.array([1, 1]), 2)
    Array([1., 6.], dtype=float32)
    >>> fold = lambda x: cdl.graphs.Product().segment(x, jnp.array([1, 1]), 2)[1]
    >>> jax.grad(fold)(jnp.array([2.0, 3.0]))
    Array([3., 2.], dtype=float32)
    """

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``a * b``."""
        return a * b

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """1."""
        return jnp.ones((), dtype)

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """The scan for floating-point rows, else ``jax.ops.segment_prod``."""
        if jnp.issubdtype(data.dtype, jnp.inexact):
            return super().segment(data, segment_ids, num_segments)
        return jax.ops.segment_prod(data, segment_ids, num_segments)


class Max(AbstractMonoid):
    """Maximum, with identity −∞ (the lowest value of integer dtypes).

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.Max().segment(jnp.array([2.0, 3.0]), jnp.array([1, 1]), 2)
    Array([-inf,   3.], dtype=float32)
    """

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``max(a, b)``."""
        return jnp.maximum(a, b)

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """−∞ (the least value of an integer dtype; False for bools)."""
        if jnp.issubdtype(dtype, jnp.integer):
            return jnp.asarray(np.iinfo(dtype).min, dtype)
        if jnp.issubdtype(dtype, jnp.bool_):  # -inf cast to bool is True
            return jnp.asarray(False)
        return jnp.asarray(-jnp.inf, dtype)

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """``jax.ops.segment_max``."""
        return jax.ops.segment_max(data, segment_ids, num_segments)


class Min(AbstractMonoid):
    """Minimum, with identity +∞: the aggregation of Bellman-Ford.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.Min().segment(jnp.array([2.0, 3.0]), jnp.array([1, 1]), 2)
    Array([inf,  2.], dtype=float32)
    """

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``min(a, b)``."""
        return jnp.minimum(a, b)

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """+∞."""
        if jnp.issubdtype(dtype, jnp.integer):
            return jnp.asarray(np.iinfo(dtype).max, dtype)
        return jnp.asarray(jnp.inf, dtype)

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """``jax.ops.segment_min``."""
        return jax.ops.segment_min(data, segment_ids, num_segments)


class LogSumExp(AbstractMonoid):
    """``log(eᵃ + eᵇ)``, with identity −∞: a smooth maximum.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.LogSumExp().segment(jnp.zeros(2), jnp.array([0, 0]), 1)
    Array([0.6931472], dtype=float32)
    """

    def combine(
        self, a: Shaped[Array, " *d"], b: Shaped[Array, " *d"]
    ) -> Shaped[Array, " *d"]:
        """``logaddexp(a, b)``."""
        return jnp.logaddexp(a, b)

    def identity(self, dtype: jnp.dtype) -> Shaped[Array, ""]:
        """−∞."""
        return jnp.asarray(-jnp.inf, dtype)

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """Shift by the segment maximum, sum the exponentials, take the log."""
        top = jax.ops.segment_max(data, segment_ids, num_segments)
        top = jax.lax.stop_gradient(jnp.where(jnp.isfinite(top), top, 0.0))
        total = jax.ops.segment_sum(
            jnp.exp(data - top[segment_ids]), segment_ids, num_segments
        )
        return jnp.log(total) + top


class Mean(AbstractAggregator):
    """The average: the sum monoid on pairs ``(x, 1)``, read out as ``x / count``.

    It is not itself a monoid (the mean of means is not the mean), but it is the
    image of one. A node that receives nothing gets 0.

    >>> import jax.numpy as jnp, cdl
    >>> cdl.graphs.Mean().segment(jnp.array([1.0, 2.0, 4.0]), jnp.array([0, 0, 1]), 3)
    Array([1.5, 4. , 0. ], dtype=float32)
    """

    def segment(
        self,
        data: Shaped[Array, " e *d"],
        segment_ids: Int[Array, " e"],
        num_segments: int,
    ) -> Shaped[Array, " s *d"]:
        """``segment_sum(data) / max(count, 1)``."""
        total = jax.ops.segment_sum(data, segment_ids, num_segments)
        ones = jnp.ones(segment_ids.shape, data.dtype)
        count = jax.ops.segment_sum(ones, segment_ids, num_segments)
        return total / _column(jnp.maximum(count, 1), total)


class Semiring(eqx.Module):
    """A semiring ``(S, ⊕, ⊗, 0, 1)``: a commutative monoid ⊕ and a product ⊗ over it.

    **Arguments:**

    - `plus`: the commutative monoid ⊕ (its identity is the semiring's zero).
    - `times`: the elementwise product ⊗, associative and distributing over ⊕.
    - `one`: the identity of ⊗.
    - `name`: a short name for labels.

    **Returns:** the semiring.

    >>> import jax.numpy as jnp, cdl
    >>> s = cdl.graphs.MIN_PLUS
    >>> s.times(jnp.float32(2.0), s.one), s.zero(jnp.float32)
    (Array(2., dtype=float32), Array(inf, dtype=float32))
    """

    plus: AbstractMonoid
    times: Callable[[Array, Array], Array] = eqx.field(static=True)
    one: float = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def __init__(
        self,
        plus: AbstractMonoid,
        times: Callable[[Array, Array], Array],
        one: float,
        name: str = "semiring",
    ) -> None:
        self.plus = plus
        self.times = times
        self.one = _unit("Semiring", name, one)
        self.name = name

    def __check_init__(self) -> None:
        if not isinstance(self.plus, AbstractMonoid):
            raise TypeError(_messages.not_a_monoid(self.plus))
        if not callable(self.times):
            raise TypeError(_messages.not_an_operation("Semiring: times", self.times))

    def zero(self, dtype: ArrayLike | jnp.dtype | type) -> Shaped[Array, ""]:
        """The identity of ⊕, absorbing for ⊗.

        **Arguments:** `dtype`, the dtype of the result.

        **Returns:** the zero as a scalar.
        """
        return self.plus.identity(jnp.dtype(dtype))  # type: ignore[arg-type]


REAL: Final = Semiring(Sum(), jnp.multiply, 1.0, "real")
MIN_PLUS: Final = Semiring(Min(), jnp.add, 0.0, "min-plus")
MAX_PLUS: Final = Semiring(Max(), jnp.add, 0.0, "max-plus")
MAX_TIMES: Final = Semiring(Max(), jnp.multiply, 1.0, "max-times")
LOG: Final = Semiring(LogSumExp(), jnp.add, 0.0, "log")
