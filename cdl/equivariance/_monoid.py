"""Finite monoids and groups, as monoids of (partial) transformations of a finite set.

Every finite monoid is a monoid of maps of a finite set (Cayley's theorem for
monoids), so cdl represents one by its generators, each an array ``g`` of indices
into ``{0, …, size−1}``. An element acts on a sequence by reindexing it,
``(g ▷ x)[i] = x[g[i]]``, where the index ``-1`` stands for a zero: that is how
non-invertible elements (a shift that drops data, a truncation) are written. The
product is defined so that ``(g·h) ▷ x = g ▷ (h ▷ x)``. The monoid laws hold:

>>> import numpy as np
>>> m = Monoid.shifts(4)
>>> g, h, k = m.generators_array()[0], m.generators_array()[0], m.identity()
>>> left = m.multiply(m.multiply(g, h), k)
>>> bool(np.array_equal(left, m.multiply(g, m.multiply(h, k))))
True
>>> bool(np.array_equal(m.multiply(m.identity(), g), g))
True
>>> m.order, Monoid.symmetric(4).order, Monoid.dihedral(5).order
(5, 24, 10)
"""

import dataclasses
import functools
from collections.abc import Sequence
from typing import Final

import numpy as np

from . import _messages

_LIMIT: Final = 100_000


def _is_index(i: object) -> bool:
    """Whether `i` is a whole number (a Python or NumPy int, not a bool)."""
    return isinstance(i, int | np.integer) and not isinstance(i, bool)


def _as_numbers(value: object) -> object:
    """A concrete jax array as NumPy's, whose entries are NumPy ints.

    ``jnp.int32(4)`` becomes ``np.int32(4)`` and ``jnp.roll(jnp.arange(4), 1)`` an
    array of NumPy ints; anything else is returned as it is.
    """
    if isinstance(value, str | Sequence | np.ndarray | np.generic | int):
        return value
    if hasattr(value, "__array__") and hasattr(value, "shape"):
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # traced: left for the checks to name
            return value
        return array[()] if array.shape == () else array
    return value


@dataclasses.dataclass(frozen=True)
class Monoid:
    """A finite monoid of maps of ``{0, …, size−1}``, given by generators.

    Each generator is a tuple of `size` indices in ``[-1, size)``; ``-1`` marks a
    point sent to zero. A monoid whose generators are all permutations is a group.
    Build the common ones with the class methods (`cyclic`, `symmetric`, `dihedral`,
    `shifts`, …).

    **Arguments:** `size`, the number of points; `generators`, tuples of indices;
    `name`, used in messages.

    **Returns:** the monoid (immutable and hashable, so it can be static metadata).

    >>> Monoid(3, ((1, 2, 0),), name="C3").order
    3
    """

    size: int
    generators: tuple[tuple[int, ...], ...]
    name: str = "M"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(_messages.bad_monoid_name(self.name))
        size = _as_numbers(self.size)
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(_messages.bad_size(self.name, size))
        object.__setattr__(self, "size", int(size))
        generators = []
        given: tuple[object, ...] = tuple(self.generators)
        for index, g in enumerate(given):
            g = _as_numbers(g)
            if (
                isinstance(g, str)
                or not isinstance(g, Sequence | np.ndarray)
                or len(g) != self.size
                or any(not _is_index(i) or not -1 <= i < self.size for i in g)
            ):
                raise ValueError(
                    _messages.not_a_transformation(self.name, index, self.size, g)
                )
            generators.append(tuple(int(i) for i in g))
        # hashable, of Python ints, whatever sequences they were given as
        object.__setattr__(self, "generators", tuple(generators))

    def __repr__(self) -> str:
        return self.name

    # -- the monoid structure ------------------------------------------------------

    def identity(self) -> np.ndarray:
        """The unit ``e``: every point to itself.

        >>> Monoid.cyclic(3).identity()
        array([0, 1, 2])
        """
        return np.arange(self.size)

    def multiply(self, g: np.ndarray, h: np.ndarray) -> np.ndarray:
        """The product ``g·h``, the element with ``(g·h) ▷ x = g ▷ (h ▷ x)``.

        **Arguments:** `g`, `h`: elements (index arrays).

        **Returns:** their product, an index array.

        >>> c = Monoid.cyclic(4)
        >>> g = c.generators_array()[0]
        >>> c.multiply(g, g)
        array([2, 3, 0, 1])
        """
        g, h = np.asarray(g), np.asarray(h)
        return np.where(g >= 0, h[np.maximum(g, 0)], -1)

    def inverse(self, g: np.ndarray) -> np.ndarray:
        """The inverse of a group element; raises `ValueError` in a proper monoid.

        >>> Monoid.cyclic(3).inverse(np.array([1, 2, 0]))
        array([2, 0, 1])
        """
        if not self.is_group:
            raise ValueError(_messages.not_a_group(self.name))
        return np.argsort(np.asarray(g))

    @property
    def is_group(self) -> bool:
        """Whether every generator is a permutation (so the monoid is a group).

        >>> Monoid.cyclic(3).is_group, Monoid.shifts(3).is_group
        (True, False)
        """
        return all(sorted(g) == list(range(self.size)) for g in self.generators)

    def generators_array(self) -> tuple[np.ndarray, ...]:
        """The generators as index arrays.

        >>> Monoid.reflection(3).generators_array()
        (array([2, 1, 0]),)
        """
        return tuple(np.array(g, dtype=np.int64) for g in self.generators)

    def elements(self, limit: int = _LIMIT) -> list[np.ndarray]:
        """Every element, found by closing the generators under the product.

        **Arguments:** `limit`, the most elements to enumerate before giving up.

        **Returns:** the elements, the unit first.

        >>> [e.tolist() for e in Monoid.reflection(2).elements()]
        [[0, 1], [1, 0]]
        """
        seen = {tuple(range(self.size))}
        found = [self.identity()]
        frontier = list(found)
        gens = self.generators_array()
        while frontier:
            following = []
            for x in frontier:
                for g in gens:
                    y = self.multiply(x, g)
                    t = tuple(int(i) for i in y)
                    if t not in seen:
                        seen.add(t)
                        found.append(y)
                        following.append(y)
                        if len(found) > limit:
                            raise ValueError(
                                _messages.too_many_elements(self.name, limit)
                            )
            frontier = following
        return found

    @property
    def order(self) -> int:
        """The number of elements.

        >>> Monoid.truncations(3).order
        3
        """
        return len(self.elements())

    def sample(self, rng: np.random.Generator, length: int | None = None) -> np.ndarray:
        """A random element: the product of a random word in the generators.

        **Arguments:** `rng`, a NumPy generator; `length`, the word's length
        (default ``2·size``, or a uniform permutation for the symmetric group).

        **Returns:** an index array.

        >>> g = Monoid.symmetric(5).sample(np.random.default_rng(0))
        >>> sorted(g.tolist())
        [0, 1, 2, 3, 4]
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(_messages.not_a_generator(self.name, rng))
        if length is not None and (
            isinstance(length, bool) or not isinstance(length, int | np.integer)
            or length < 0
        ):  # fmt: skip
            raise ValueError(_messages.bad_word_length(self.name, length))
        if length is None and self == Monoid.symmetric(self.size):
            return rng.permutation(self.size)
        gens = self.generators_array()
        element = self.identity()
        if not gens:  # the trivial monoid: every word is the unit
            return element
        for _ in range(2 * self.size if length is None else length):
            element = self.multiply(element, gens[int(rng.integers(len(gens)))])
        return element

    # -- the common monoids --------------------------------------------------------

    @classmethod
    def cyclic(cls, n: int) -> "Monoid":
        """The cyclic group ``C_n`` of rotations of ``Z/n``: ``(g ▷ x)[i] = x[i+1]``.

        >>> Monoid.cyclic(4)
        C4
        """
        return cls(n, (tuple(np.roll(np.arange(n), -1).tolist()),), name=f"C{n}")

    @classmethod
    def symmetric(cls, n: int) -> "Monoid":
        """The symmetric group ``S_n`` of all permutations of ``n`` points.

        Generated by a transposition and an ``n``-cycle.

        >>> Monoid.symmetric(3).order
        6
        """
        if n <= 1:
            return cls(n, (), name=f"S{n}")
        swap = np.arange(n)
        swap[[0, 1]] = [1, 0]
        cycle = np.roll(np.arange(n), -1)
        gens: tuple[tuple[int, ...], ...] = (tuple(swap.tolist()),)
        if n > 2:
            gens = gens + (tuple(cycle.tolist()),)
        return cls(n, gens, name=f"S{n}")

    @classmethod
    def reflection(cls, n: int) -> "Monoid":
        """The group of order 2 reversing a sequence of length ``n``.

        A monoid here is its maps of the points, so a sequence of one point, which
        reversing leaves alone, gives the trivial group.

        >>> Monoid.reflection(4).order, Monoid.reflection(1).order
        (2, 1)
        """
        return cls(n, (tuple(range(n - 1, -1, -1)),), name=f"Z2(flip {n})")

    @classmethod
    def dihedral(cls, n: int) -> "Monoid":
        """The dihedral group ``D_n`` of the regular ``n``-gon: rotations and flips.

        It has ``2n`` elements for ``n >= 3``. A monoid here is its maps of the
        points, so on 2 points, where a flip is a rotation, it is ``S_2`` (2
        elements), and on 1 point the trivial group.

        >>> Monoid.dihedral(6).order, Monoid.dihedral(2).order
        (12, 2)
        """
        rotation = tuple(np.roll(np.arange(n), -1).tolist())
        flip = tuple(((-np.arange(n)) % n).tolist())
        return cls(n, (rotation, flip), name=f"D{n}")

    @classmethod
    def image_dihedral(cls, size: int) -> "Monoid":
        """The dihedral group of the square acting on the pixels of a square image.

        Generated by the quarter turn and the left-right mirror; it has 8 elements
        (one, the identity, for an image of one pixel). Points are pixels in
        row-major order.

        >>> Monoid.image_dihedral(5).order, Monoid.image_dihedral(1).order
        (8, 1)
        """
        grid = np.arange(size * size).reshape(size, size)
        turn = tuple(np.rot90(grid).ravel().tolist())
        mirror = tuple(np.fliplr(grid).ravel().tolist())
        return cls(size * size, (turn, mirror), name=f"D4({size}×{size})")

    @classmethod
    def translations(cls, height: int, width: int) -> "Monoid":
        """The group ``C_h × C_w`` of cyclic translations of an image (a torus).

        Points are pixels in row-major order.

        >>> Monoid.translations(3, 4).order
        12
        """
        return cls.product(cls.cyclic(height), cls.cyclic(width))

    @classmethod
    def product(cls, first: "Monoid", second: "Monoid") -> "Monoid":
        """The product ``M × N`` acting on pairs of points, in row-major order.

        **Arguments:** the two factors.

        **Returns:** the product monoid, generated by each factor's generators
        acting on its coordinate.

        >>> Monoid.product(Monoid.cyclic(2), Monoid.cyclic(3)).order
        6
        """
        for factor in (first, second):
            if not isinstance(factor, Monoid):
                raise TypeError(_messages.not_a_monoid("Monoid.product", factor))
        m, n = first.size, second.size
        gens = []
        for g in first.generators_array():
            src = np.where(g[:, None] >= 0, g[:, None] * n + np.arange(n), -1)
            gens.append(tuple(src.ravel().tolist()))
        for h in second.generators_array():
            src = np.where(h[None, :] >= 0, np.arange(m)[:, None] * n + h, -1)
            gens.append(tuple(src.ravel().tolist()))
        return cls(m * n, tuple(gens), name=f"{first.name}×{second.name}")

    @classmethod
    def shifts(cls, n: int) -> "Monoid":
        """The monoid of shifts with zero fill, ``x ↦ (0, x_0, …, x_{n−2})``.

        Shifting drops the last entry, so no shift but the unit is invertible:
        this is a monoid, not a group. It has ``n + 1`` elements (the last is 0).

        >>> Monoid.shifts(3).generators_array()
        (array([-1,  0,  1]),)
        """
        return cls(n, (tuple(range(-1, n - 1)),), name=f"Shift{n}")

    @classmethod
    def truncations(cls, n: int, lengths: Sequence[int] | None = None) -> "Monoid":
        """The monoid of truncations ``x ↦ (x_0, …, x_{k−1}, 0, …, 0)``.

        Each truncation is idempotent; they commute, and the product of two keeps
        the shorter prefix.

        **Arguments:** `n`; `lengths`, the prefixes ``k`` to generate from
        (default ``1, …, n−1``).

        >>> Monoid.truncations(4, [2]).generators_array()
        (array([ 0,  1, -1, -1]),)
        """
        ks = range(1, n) if lengths is None else lengths
        for k in ks:
            if not _is_index(k) or not 0 <= k <= n:
                raise ValueError(_messages.bad_length(n, k))
        gens = tuple(tuple(i if i < k else -1 for i in range(n)) for k in ks)
        return cls(n, gens, name=f"Trunc{n}{'' if lengths is None else list(ks)}")

    @classmethod
    def projections(cls, n: int, keeps: Sequence[Sequence[int]]) -> "Monoid":
        """The monoid generated by idempotent coordinate projections.

        Each projection keeps the coordinates it lists and zeroes the rest.

        **Arguments:** `n`; `keeps`, for each generator the coordinates it keeps.

        >>> Monoid.projections(4, [[0, 2]]).order
        2
        """
        for keep in keeps:
            if not all(_is_index(i) and 0 <= i < n for i in keep):
                raise ValueError(_messages.bad_keep(n, keep))
        gens = tuple(
            tuple(i if i in set(keep) else -1 for i in range(n)) for keep in keeps
        )
        return cls(n, gens, name=f"Proj{n}")


_MEMBERSHIP_LIMIT: Final = 10_000


@functools.lru_cache(maxsize=32)
def _element_set(monoid: Monoid) -> frozenset[tuple[int, ...]] | None:
    """The elements of `monoid` as tuples, or None when there are too many."""
    try:
        found = monoid.elements(limit=_MEMBERSHIP_LIMIT)
    except ValueError:  # too many to enumerate for a check
        return None
    return frozenset(tuple(int(i) for i in g) for g in found)


def outside(monoid: Monoid, g: np.ndarray) -> bool:
    """Whether the map `g` is known not to be an element of `monoid`.

    A group holds only permutations, and the symmetric group every one; other
    monoids are enumerated (up to 10,000 elements; a larger one is not checked).

    >>> c3 = Monoid.cyclic(3)
    >>> outside(c3, np.array([1, 0, 2])), outside(c3, np.array([1, 2, 0]))
    (True, False)
    """
    permutation = sorted(int(i) for i in g) == list(range(monoid.size))
    if monoid.is_group and not permutation:
        return True
    if permutation and monoid == Monoid.symmetric(monoid.size):
        return False
    known = _element_set(monoid)
    return known is not None and tuple(int(i) for i in g) not in known


def partitions(items: Sequence[int]) -> list[list[list[int]]]:
    """Every set partition of `items`, each as a list of blocks.

    >>> len(partitions([0, 1, 2, 3]))
    15
    """
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out: list[list[list[int]]] = []
    for smaller in partitions(rest):
        out.append([[first], *smaller])
        for i in range(len(smaller)):
            out.append([*smaller[:i], [first, *smaller[i]], *smaller[i + 1 :]])
    return out
