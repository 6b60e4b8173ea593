"""Actions of finite monoids on spaces: algebras of the action monad ``M × −``.

An action ``▷: M × X → X`` is an algebra of the monad ``M × −``: the unit law says
the unit of ``M`` does nothing, the multiplication law that acting by a product is
acting twice. Both are checked on random points by `check_action`:

>>> import jax, jax.numpy as jnp
>>> act = permutation_action(4, (3,))
>>> check_action(act, key=jax.random.key(0))
>>> g, h = act.monoid.generators_array()
>>> x = jax.random.normal(jax.random.key(1), (4, 3))
>>> bool(jnp.allclose(act.act(act.monoid.multiply(g, h), x), act.act(g, act.act(h, x))))
True

The concrete actions reindex axes of an array (`IndexAction`): permutations of the
rows of node features, cyclic shifts of a signal, rotations and flips of an image,
shifts with zero fill and truncations. Tensor products (``V ⊗ V``) and direct sums
(``V ⊕ V``) of them are actions too.
"""

import abc
import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from .. import _random
from . import _messages
from ._monoid import Monoid


class AbstractAction(eqx.Module):
    """An action of a finite monoid on a space, ``g ▷ x``.

    Subclasses give `monoid`, `act` and `random_input`. Elements of the monoid are
    index arrays (see `Monoid`), possibly traced under `jax.jit`. Linear actions also
    describe themselves to the basis solver through `canonical_shape`,
    `to_canonical`, `from_canonical` and `slot_matrix`; the defaults flatten the
    whole space and find the matrix of an element by acting on a basis.

    **Returns:** a callable ``act(g, x) = g ▷ x``.

    >>> import numpy as np, jax.numpy as jnp
    >>> act = permutation_action(3)
    >>> act(np.array([2, 0, 1]), jnp.array([10.0, 20.0, 30.0]))
    Array([30., 10., 20.], dtype=float32)
    """

    monoid: eqx.AbstractVar[Monoid]

    @abc.abstractmethod
    def act(self, g: Any, x: Any) -> Any:
        """``g ▷ x``: act by the element `g` (an index array) on the point `x`."""

    @abc.abstractmethod
    def random_input(self, key: PRNGKeyArray) -> Any:
        """A random point of the space acted on (standard normal entries)."""

    def __call__(self, g: Any, x: Any) -> Any:
        return self.act(g, x)

    def input_hint(self, inputs: Any) -> str:
        """A sentence on how to give `inputs` that are not points of the action.

        `equivariance_error` adds it to its message about such inputs; subclasses
        that know a common mistake say so (the default says nothing).
        """
        return ""

    @property
    def label(self) -> str:
        """Short name for messages, e.g. ``S4 on float[4,3]``."""
        return f"{type(self).__name__}({self.monoid.name})"

    # -- linear structure, for the basis solver --------------------------------

    @property
    def is_linear(self) -> bool:
        """Whether every element acts linearly (true of every action in cdl)."""
        return True

    def canonical_shape(self) -> tuple[int, int]:
        """``(P, F)``: points moved by the monoid, and untouched features per point.

        The solver looks for maps ``R^{P_in × F_in} → R^{P_out × F_out}``; since
        the features are untouched they factor out of the constraint.
        """
        size = sum(leaf.size for leaf in jax.tree.leaves(self._zeros()))
        return size, 1

    def to_canonical(self, x: Any) -> Array:
        """`x` as a ``P × F`` matrix."""
        flat, _ = jax.flatten_util.ravel_pytree(x)
        return flat[:, None]

    def from_canonical(self, y: Array) -> Any:
        """The inverse of `to_canonical`."""
        _, unravel = jax.flatten_util.ravel_pytree(self._zeros())
        return unravel(y[:, 0])

    def slot_index(self, g: np.ndarray) -> np.ndarray | None:
        """`g` as an index map of the ``P`` points (``-1`` for zero), if it is one."""
        return None

    def slot_matrix(self, g: np.ndarray) -> np.ndarray:
        """The ``P × P`` matrix by which `g` acts on the moved points."""
        index = self.slot_index(g)
        size, features = self.canonical_shape()
        if index is not None:
            matrix = np.zeros((size, size))
            rows = np.nonzero(index >= 0)[0]
            matrix[rows, index[rows]] = 1.0
            return matrix
        if features != 1:
            raise NotImplementedError(type(self).__name__)
        eye = jnp.eye(size)
        images = jax.vmap(
            lambda e: self.to_canonical(self.act(g, self.from_canonical(e[:, None])))
        )(eye)
        return np.asarray(images[:, :, 0]).T

    def _zeros(self) -> Any:
        return jax.tree.map(jnp.zeros_like, self.random_input(jax.random.key(0)))


def _reindex(
    xp: Any, x: Any, g: Any, slots: tuple[tuple[int, ...], ...], fill: Any, group: bool
) -> Any:
    """Reindex each slot (consecutive axes, merged) of `x` by `g`, with `fill` at -1."""
    shape = x.shape
    for axes in slots:
        first, last = axes[0], axes[-1] + 1
        merged = shape[:first] + (math.prod(shape[first:last]),) + shape[last:]
        y = x.reshape(merged)
        y = xp.take(y, xp.maximum(g, 0), axis=first)
        if not group:
            mask = (g >= 0).reshape(
                (1,) * first + (-1,) + (1,) * (len(merged) - first - 1)
            )
            y = xp.where(mask, y, xp.asarray(fill).astype(y.dtype))  # keep the dtype
        x = y.reshape(shape)
    return x


class IndexAction(AbstractAction):
    """A monoid acting on an array by reindexing some of its axes.

    Each *slot* is a run of consecutive axes whose points (in row-major order) are
    the set the monoid transforms; every slot is reindexed by the same element, so
    two slots give the tensor square ``V ⊗ V``. Other axes are features, left alone.
    An index ``-1`` writes zero, which is how monoids act non-invertibly.

    **Arguments:** `monoid`; `shape`, the shape of the arrays acted on; `slots`,
    a tuple of tuples of axes.

    **Returns:** the action on ``float[*shape]``.

    Cyclic shifts of a two-channel signal of length 5 (channels first):

    >>> import jax.numpy as jnp
    >>> act = IndexAction(Monoid.cyclic(5), (2, 5), ((1,),))
    >>> act.act(act.monoid.generators_array()[0], jnp.arange(10.0).reshape(2, 5))
    Array([[1., 2., 3., 4., 0.],
           [6., 7., 8., 9., 5.]], dtype=float32)
    """

    monoid: Monoid = eqx.field(static=True)
    shape: tuple[int, ...] = eqx.field(static=True)
    slots: tuple[tuple[int, ...], ...] = eqx.field(static=True)

    def __init__(
        self,
        monoid: Monoid,
        shape: Sequence[int],
        slots: Sequence[Sequence[int]],
    ) -> None:
        if not isinstance(monoid, Monoid):
            raise TypeError(_messages.not_a_monoid("IndexAction", monoid))
        if not isinstance(shape, Sequence) or not all(
            isinstance(s, int | np.integer) and not isinstance(s, bool) and s > 0
            for s in shape
        ):
            raise ValueError(_messages.bad_shape(shape))
        self.monoid = monoid
        self.shape = tuple(int(s) for s in shape)
        rank = len(self.shape)
        for axes in slots:  # negative axes count from the end, as in NumPy
            if any(not -rank <= int(a) < rank for a in axes):
                raise ValueError(_messages.bad_slots(tuple(axes), self.shape))
        self.slots = tuple(tuple(int(a) % max(rank, 1) for a in s) for s in slots)

    def __check_init__(self) -> None:
        used: set[int] = set()
        for axes in self.slots:
            consecutive = list(axes) == list(range(axes[0], axes[0] + len(axes)))
            if (
                not axes
                or not consecutive
                or used & set(axes)
                or axes[-1] >= len(self.shape)
            ):
                raise ValueError(_messages.bad_slots(axes, self.shape))
            used |= set(axes)
            if math.prod(self.shape[a] for a in axes) != self.monoid.size:
                raise ValueError(
                    _messages.slot_mismatch(self.shape, axes, self.monoid.size)
                )

    @property
    def label(self) -> str:
        """``M on float[shape]`` with the slots, e.g. ``S4 on float[4,4,2] (0)(1)``."""
        dims = ",".join(str(s) for s in self.shape)
        slots = "".join("(" + ",".join(str(a) for a in s) + ")" for s in self.slots)
        return f"{self.monoid.name} on float[{dims}] {slots or 'trivially'}"

    def act(self, g: Any, x: Any) -> Any:
        """Reindex every slot of `x` by `g`; ``-1`` entries become zero."""
        if isinstance(g, np.ndarray):
            g = jnp.asarray(g)
        return _reindex(jnp, x, g, self.slots, 0.0, self.monoid.is_group)

    def random_input(self, key: PRNGKeyArray) -> Array:
        """Standard normal entries of shape `shape`."""
        return _random.normal(key, self.shape)

    # -- linear structure ------------------------------------------------------

    def _free_axes(self) -> tuple[int, ...]:
        used = {a for s in self.slots for a in s}
        return tuple(a for a in range(len(self.shape)) if a not in used)

    def canonical_shape(self) -> tuple[int, int]:
        """``(m^slots, features)``."""
        points = self.monoid.size ** len(self.slots)
        return points, math.prod(self.shape[a] for a in self._free_axes())

    def to_canonical(self, x: Any) -> Array:
        """Slot axes first (in order), then the feature axes, as a ``P × F`` matrix."""
        order = tuple(a for s in self.slots for a in s) + self._free_axes()
        points, features = self.canonical_shape()
        return jnp.transpose(x, order).reshape(points, features)

    def from_canonical(self, y: Array) -> Any:
        """The inverse of `to_canonical`."""
        order = tuple(a for s in self.slots for a in s) + self._free_axes()
        moved = tuple(self.shape[a] for a in order)
        return jnp.transpose(y.reshape(moved), tuple(np.argsort(order).tolist()))

    def slot_index(self, g: np.ndarray) -> np.ndarray:
        """`g` acting on the tuples of slot points (row-major), ``-1`` for zero."""
        k = len(self.slots)
        grid = np.arange(self.monoid.size**k).reshape((self.monoid.size,) * k)
        slots = tuple((a,) for a in range(k))
        return np.asarray(_reindex(np, grid, np.asarray(g), slots, -1, False)).ravel()

    def tensor(self, other: "IndexAction") -> "IndexAction":
        """The tensor product ``V ⊗ W`` on ``float[*shape, *other.shape]``.

        **Arguments:** `other`, an action of the same monoid.

        **Returns:** the diagonal action on the outer product.

        >>> v = permutation_action(3)
        >>> v.tensor(v).shape, v.tensor(v).canonical_shape()
        ((3, 3), (9, 1))
        """
        given: object = other  # annotated, but a user may pass any action
        if not isinstance(given, IndexAction):
            label = getattr(given, "label", type(given).__name__)
            raise TypeError(_messages.tensor_needs_index_action(self.label, label))
        if other.monoid != self.monoid:
            raise ValueError(
                _messages.summands_of_one_monoid(
                    "tensor", [self.monoid.name, other.monoid.name]
                )
            )
        offset = len(self.shape)
        slots = self.slots + tuple(tuple(a + offset for a in s) for s in other.slots)
        return IndexAction(self.monoid, self.shape + other.shape, slots)


class DirectSum(AbstractAction):
    """The direct sum ``V ⊕ W ⊕ …``: one element acting on each part of a tuple.

    **Arguments:** the summands, actions of one monoid.

    **Returns:** the action on tuples.

    Node features and an adjacency matrix, permuted together:

    >>> import numpy as np, jax.numpy as jnp
    >>> graph = DirectSum(permutation_action(3, (2,)), permutation_action(3, order=2))
    >>> x, a = graph.act(np.array([1, 2, 0]), (jnp.zeros((3, 2)), jnp.eye(3)))
    >>> a
    Array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]], dtype=float32)
    """

    summands: tuple[AbstractAction, ...] = eqx.field(static=True)
    monoid: Monoid = eqx.field(static=True)

    def __init__(self, *summands: AbstractAction) -> None:
        if not summands:
            raise ValueError(_messages.EMPTY_SUM)
        require_actions("DirectSum", *summands)
        self.summands = tuple(summands)
        self.monoid = summands[0].monoid

    def __check_init__(self) -> None:
        names = [s.monoid.name for s in self.summands]
        if any(s.monoid != self.monoid for s in self.summands):
            raise ValueError(_messages.summands_of_one_monoid("DirectSum", names))

    @property
    def label(self) -> str:
        """The summands joined by ``⊕``."""
        return " ⊕ ".join(s.label for s in self.summands)

    def act(self, g: Any, x: Any) -> Any:
        """Act on each component."""
        return tuple(s.act(g, part) for s, part in zip(self.summands, x, strict=True))

    def random_input(self, key: PRNGKeyArray) -> Any:
        """A tuple of random points."""
        keys = jax.random.split(key, len(self.summands))
        return tuple(
            s.random_input(k) for s, k in zip(self.summands, keys, strict=True)
        )

    def slot_index(self, g: np.ndarray) -> np.ndarray | None:
        """Each summand's full index map, shifted past the previous summands."""
        parts, offset = [], 0
        for s in self.summands:
            if not isinstance(s, IndexAction):
                return None
            size = math.prod(s.shape)
            grid = np.arange(size).reshape(s.shape)
            index = np.asarray(
                _reindex(np, grid, np.asarray(g), s.slots, -1, False)
            ).ravel()
            parts.append(np.where(index >= 0, index + offset, -1))
            offset += size
        return np.concatenate(parts)


class MatrixAction(AbstractAction):
    """A linear representation: each generator of `monoid` acts by a given matrix.

    The matrix of any element is found by closing the generators under the product
    (so the monoid must be small enough to enumerate); acting looks the element
    up in that table, which also works on traced elements under `jax.jit`. The
    basis of maps between such actions is solved by the dense null-space method,
    as EMLP does for matrix groups.

    **Arguments:** `monoid`; `matrices`, one ``d × d`` matrix per generator, in
    the order of ``monoid.generators``.

    **Returns:** the action on ``float[d]``; the homomorphism property
    ``ρ(g·h) = ρ(g) ρ(h)`` is checked on the generators when it is built.

    Quarter turns of the plane, as a representation of ``C_4``:

    >>> import numpy as np, jax.numpy as jnp
    >>> turn = [[0.0, -1.0], [1.0, 0.0]]
    >>> act = MatrixAction(Monoid.cyclic(4), [turn])
    >>> act.act(act.monoid.generators_array()[0], jnp.array([1.0, 0.0]))
    Array([0., 1.], dtype=float32)
    """

    monoid: Monoid = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    elements: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    images: tuple[tuple[float, ...], ...] = eqx.field(static=True)

    def __init__(self, monoid: Monoid, matrices: Sequence[Any]) -> None:
        gens = [np.asarray(m, dtype=np.float64) for m in matrices]
        if len(gens) != len(monoid.generators) or not gens:
            raise ValueError(_messages.matrix_count(monoid.name, len(gens)))
        dim = gens[0].shape[0] if gens[0].ndim else 0
        for index, m in enumerate(gens):
            reason = (
                "is not a square matrix"
                if m.ndim != 2 or m.shape[0] != m.shape[1] or m.size == 0
                else f"differs in size from matrix 0, {dim}×{dim}"
                if m.shape != (dim, dim)
                else "has entries that are not finite"
                if not np.all(np.isfinite(m))
                else None
            )
            if reason is not None:
                raise ValueError(_messages.bad_matrix(monoid.name, index, m, reason))
        table = {tuple(range(monoid.size)): np.eye(dim)}
        frontier = [monoid.identity()]
        while frontier:
            following = []
            for x in frontier:
                for g, rho in zip(monoid.generators_array(), gens, strict=True):
                    y = monoid.multiply(x, g)
                    key = tuple(int(i) for i in y)
                    image = table[tuple(int(i) for i in x)] @ rho
                    if key not in table:
                        table[key] = image
                        following.append(y)
                    elif not np.allclose(table[key], image):
                        raise ValueError(_messages.not_a_representation(monoid.name))
            frontier = following
        self.monoid = monoid
        self.dim = dim
        self.elements = tuple(table)
        self.images = tuple(tuple(m.ravel().tolist()) for m in table.values())

    @property
    def label(self) -> str:
        """``M on float[d] by matrices``."""
        return f"{self.monoid.name} on float[{self.dim}] by matrices"

    def act(self, g: Any, x: Any) -> Any:
        """Multiply `x` by the matrix of `g`, looked up in the table of elements.

        The matrix is taken at `x`'s precision (float64 under x64, at least
        float32). A concrete `g` the monoid does not hold is refused; a traced
        one acts by a matrix of NaN, so that it cannot pass for the identity.

        >>> import numpy as np, jax.numpy as jnp
        >>> act = MatrixAction(Monoid.cyclic(2), [[[-1.0]]])
        >>> act.act(np.array([1, 0]), jnp.array([3.0]))
        Array([-3.], dtype=float32)
        >>> act.act(np.array([0, 0]), jnp.array([3.0]))
        Traceback (most recent call last):
        ...
        ValueError: C2 on float[1] by matrices: [0, 0] is not an element of C2 ...
        """
        if not isinstance(g, jax.core.Tracer):
            element = np.asarray(g)
            if (
                element.shape != (self.monoid.size,)
                or not np.issubdtype(element.dtype, np.integer)
                or tuple(int(i) for i in element) not in self.elements
            ):
                value = element.tolist()
                raise ValueError(
                    _messages.not_in_table(self.label, self.monoid.name, value)
                )
        x = jnp.asarray(x)
        dtype = jax.dtypes.canonicalize_dtype(jnp.promote_types(x.dtype, jnp.float32))
        table = jnp.asarray(np.array(self.elements))
        found = jnp.all(table == jnp.asarray(g)[None, :], axis=1)
        index = jnp.where(jnp.any(found), jnp.argmax(found), len(self.elements))
        images = np.array(self.images + ((np.nan,) * self.dim**2,), dtype=dtype)
        return jnp.asarray(images)[index].reshape(self.dim, self.dim) @ x

    def random_input(self, key: PRNGKeyArray) -> Array:
        """Standard normal entries of shape ``(d,)``."""
        return _random.normal(key, (self.dim,))

    def matrix(self, g: Any) -> np.ndarray:
        """The ``d × d`` matrix by which the element `g` acts (float64).

        >>> import numpy as np
        >>> flip = MatrixAction(Monoid.cyclic(2), [[[0.0, 1.0], [1.0, 0.0]]])
        >>> flip.matrix(np.array([1, 0])).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        key = tuple(int(i) for i in np.asarray(g).ravel())
        if key not in self.elements:
            raise ValueError(
                _messages.not_in_table(self.label, self.monoid.name, list(key))
            )
        return np.array(self.images[self.elements.index(key)]).reshape(
            self.dim, self.dim
        )

    def tensor(self, other: "MatrixAction") -> "MatrixAction":
        """The tensor product ``V ⊗ W`` on ``float[d·e]``: ``ρ(g) ⊗ σ(g)``.

        A point is the row-major flattening of a ``d × e`` matrix ``X``, on which
        `g` acts as ``ρ(g) X σ(g)ᵀ`` (the Kronecker product of the matrices).

        **Arguments:** `other`, a `MatrixAction` of the same monoid.

        **Returns:** the diagonal action on the tensor product.

        Two quarter-turn planes: ``V ⊗ V`` holds two invariant directions (the
        trace and the antisymmetric part), so two invariant linear maps:

        >>> import cdl
        >>> turn = MatrixAction(Monoid.cyclic(4), [[[0.0, -1.0], [1.0, 0.0]]])
        >>> vv = turn.tensor(turn)
        >>> vv.dim, cdl.invariant_basis(vv).size
        (4, 2)
        """
        given: object = other  # annotated, but a user may pass any action
        if not isinstance(given, MatrixAction):
            label = getattr(given, "label", type(given).__name__)
            raise TypeError(_messages.tensor_needs_matrix_action(self.label, label))
        if other.monoid != self.monoid:
            raise ValueError(
                _messages.summands_of_one_monoid(
                    "tensor", [self.monoid.name, other.monoid.name]
                )
            )
        gens = self.monoid.generators_array()
        return MatrixAction(
            self.monoid, [np.kron(self.matrix(g), other.matrix(g)) for g in gens]
        )


def permutation_action(
    n: int,
    features: Sequence[int] = (),
    *,
    order: int = 1,
    monoid: Monoid | None = None,
) -> IndexAction:
    """``S_n`` permuting the first `order` axes of ``float[n, …, n, *features]``.

    With ``order=1`` it permutes the rows of node features, ``(g ▷ x)[i] = x[g[i]]``;
    with ``order=2`` the rows and columns of an adjacency matrix or edge features.

    **Arguments:** `n`; `features`, the shape of what sits at each point;
    `order`, how many axes are permuted (an int >= 0; 0 gives the trivial action
    on `features`); `monoid`, a subgroup of ``S_n`` to use instead (e.g.
    ``Monoid.cyclic(n)``).

    **Returns:** the action.

    >>> import numpy as np, jax.numpy as jnp
    >>> x = jnp.arange(6.0).reshape(3, 2)
    >>> permutation_action(3, (2,)).act(np.array([2, 0, 1]), x)
    Array([[4., 5.],
           [0., 1.],
           [2., 3.]], dtype=float32)
    """
    if not isinstance(features, Sequence):
        raise TypeError(_messages.features_not_a_shape(features))
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 0:
        raise ValueError(_messages.bad_order(order))
    group = Monoid.symmetric(n) if monoid is None else monoid
    shape = (n,) * order + tuple(features)
    return IndexAction(group, shape, tuple((a,) for a in range(order)))


def require_actions(owner: str, *actions: object) -> None:
    """Refuse anything given as an action that is not one, naming `owner`."""
    for action in actions:
        if not isinstance(action, AbstractAction):
            raise TypeError(_messages.not_an_action_value(owner, action))


def trivial_action(monoid: Monoid, shape: Sequence[int] = ()) -> IndexAction:
    """`monoid` acting trivially on ``float[*shape]``: the target of invariant maps.

    **Arguments:** `monoid`; `shape`.

    **Returns:** the action in which every element is the identity.

    >>> import numpy as np, jax.numpy as jnp
    >>> trivial_action(Monoid.symmetric(3), (2,)).act(np.array([1, 0, 2]), jnp.ones(2))
    Array([1., 1.], dtype=float32)
    """
    return IndexAction(monoid, shape, ())


def signal_action(
    monoid: Monoid, length: int, channels: int | None = None
) -> IndexAction:
    """`monoid` acting on the positions of a signal ``float[channels, length]``.

    Channels come first, as for `cdl.Conv1d`; without `channels` the signal is
    ``float[length]``. Use it with `Monoid.cyclic`, `Monoid.reflection`,
    `Monoid.dihedral`, `Monoid.shifts` or `Monoid.truncations`.

    **Arguments:** `monoid` (acting on `length` points); `length`; `channels`.

    **Returns:** the action.

    >>> import jax.numpy as jnp
    >>> act = signal_action(Monoid.shifts(4), 4)
    >>> act.act(act.monoid.generators_array()[0], jnp.array([1.0, 2.0, 3.0, 4.0]))
    Array([0., 1., 2., 3.], dtype=float32)
    """
    if channels is None:
        return IndexAction(monoid, (length,), ((0,),))
    return IndexAction(monoid, (channels, length), ((1,),))


def image_action(monoid: Monoid, height: int, width: int, channels: int) -> IndexAction:
    """`monoid` acting on the pixels of an image ``float[channels, height, width]``.

    Use it with `Monoid.translations` or `Monoid.image_dihedral`.

    **Arguments:** `monoid` (acting on ``height·width`` pixels); the image's sizes.

    **Returns:** the action.

    >>> import jax.numpy as jnp
    >>> act = image_action(Monoid.image_dihedral(2), 2, 2, 1)
    >>> act.act(act.monoid.generators_array()[0], jnp.arange(4.0).reshape(1, 2, 2))
    Array([[[1., 3.],
            [0., 2.]]], dtype=float32)
    """
    if (
        isinstance(monoid, Monoid)
        and _is_int(height)
        and _is_int(width)
        and height != width
        and height * width == monoid.size
        and monoid == Monoid.translations(width, height)
    ):  # the same number of pixels, on the transposed grid
        raise ValueError(_messages.transposed_grid(monoid.name, height, width))
    return IndexAction(monoid, (channels, height, width), ((1, 2),))


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _numbers(tree: Any) -> list[Array]:
    """The leaves of `tree` as floating arrays (a graph's indices and masks too)."""
    return [
        jnp.asarray(leaf, jnp.result_type(leaf, jnp.float32))
        for leaf in jax.tree.leaves(tree)
    ]


def _relative(a: Any, b: Any) -> Array:
    left, right = _numbers(a), _numbers(b)
    diff = jnp.sqrt(
        sum(jnp.sum((p - q) ** 2) for p, q in zip(left, right, strict=True))
    )
    na = jnp.sqrt(sum(jnp.sum(p**2) for p in left))
    nb = jnp.sqrt(sum(jnp.sum(q**2) for q in right))
    return diff / jnp.maximum(jnp.maximum(na, nb), float(np.finfo(np.float32).tiny))


def check_action(
    action: AbstractAction, *, key: PRNGKeyArray, samples: int = 4, tol: float = 1e-5
) -> None:
    """Check the algebra laws of `action` on random points; raise if one fails.

    Unit: ``e ▷ x = x``. Multiplication: ``(g·h) ▷ x = g ▷ (h ▷ x)``, for every pair
    of generators and for random products of them.

    **Arguments:** `action`; `key`; `samples`, random points and random pairs;
    `tol`, the largest relative error allowed.

    **Returns:** None; raises `ValueError` naming the law that fails.

    >>> import jax
    >>> torus = image_action(Monoid.translations(3, 3), 3, 3, 2)
    >>> check_action(torus, key=jax.random.key(0))
    """
    require_actions("check_action", action)
    monoid = action.monoid
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    xs = [action.random_input(k) for k in jax.random.split(key, samples)]
    for x in xs:
        error = float(_relative(action.act(monoid.identity(), x), x))
        if error > tol:
            raise ValueError(_messages.not_an_action(action.label, "unit", error))
    gens = list(monoid.generators_array())
    pairs = [(g, h) for g in gens for h in gens]
    pairs += [(monoid.sample(rng), monoid.sample(rng)) for _ in range(samples)]
    for g, h in pairs:
        for x in xs:
            once = action.act(monoid.multiply(g, h), x)
            twice = action.act(g, action.act(h, x))
            error = float(_relative(once, twice))
            if error > tol:
                raise ValueError(
                    _messages.not_an_action(action.label, "multiplication", error)
                )
