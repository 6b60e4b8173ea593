"""Solving ``W ρ_in(g) = ρ_out(g) W`` for a basis of the equivariant linear maps.

For a group acting by permutations of points the answer is combinatorial: ``W`` is
equivariant exactly when it is constant on each orbit of pairs of points
``(i, j) ↦ (g▷i, g▷j)``, so the basis is one indicator per orbit, found by a
connected-components pass over the generators, with no linear algebra at all. For
a monoid acting non-invertibly (or any other linear action) the constraints are
stacked and their null space is found with a symmetric eigensolver; the basis is
then reduced so that each element is 1 at its own pivot entry.

The known answers come out, with their parameter counts:

>>> c = signal_action(Monoid.cyclic(5), 5)
>>> equivariant_basis(c, c).size                      # circulant matrices
5
>>> s = permutation_action(5)
>>> equivariant_basis(s, s).size                      # λI + γ11ᵀ
2
>>> s2 = permutation_action(5, order=2)
>>> equivariant_basis(s2, s2).size                    # Bell(4)
15
>>> z = signal_action(Monoid.shifts(5), 5)
>>> equivariant_basis(z, z).size                      # causal convolutions
5
"""

import dataclasses
from collections.abc import Callable
from typing import Final

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg  # type: ignore[import-untyped]
import scipy.sparse  # type: ignore[import-untyped]
import scipy.sparse.csgraph  # type: ignore[import-untyped]
from jaxtyping import Array

from . import _messages
from ._action import (  # noqa: F401 (the examples below use them)
    AbstractAction,
    _relative,
    image_action,
    permutation_action,
    require_actions,
    signal_action,
)
from ._by_value import ByValue
from ._monoid import Monoid  # noqa: F401

# Relative error above which an action is taken not to be linear (float32 points).
_LINEAR_TOLERANCE: Final = 1e-4


@dataclasses.dataclass(frozen=True, eq=False)
class Basis(ByValue):
    """A basis of the equivariant linear maps between the moved points of two actions.

    Features (axes the monoid leaves alone) factor out of the constraint, so a
    basis is over the ``P_out × P_in`` matrices on points; a full weight has one
    ``F_out × F_in`` block of coefficients per basis element.

    Exactly one of `orbits` (an int array ``[P_out, P_in]`` naming each entry's
    orbit, for permutation actions of groups) and `dense` (``[size, P_out, P_in]``)
    is set.

    **Returns:** the basis, with `size`, `matrices` and `expand`.

    >>> s = permutation_action(3)
    >>> equivariant_basis(s, s).matrices()
    array([[[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]],
    <BLANKLINE>
           [[0., 1., 1.],
            [1., 0., 1.],
            [1., 1., 0.]]])
    """

    points_out: int
    points_in: int
    size: int
    orbits: np.ndarray | None = None
    dense: np.ndarray | None = None

    def matrices(self) -> np.ndarray:
        """The basis as ``[size, P_out, P_in]`` matrices."""
        if self.dense is not None:
            return self.dense
        assert self.orbits is not None
        hits = self.orbits[None] == np.arange(self.size)[:, None, None]
        matrices: np.ndarray = hits.astype(np.float64)
        return matrices

    def expand(self, coeffs: Array) -> Array:
        """``Σ_k coeffs[k] ⊗ B_k``: from ``[size, *rest]`` to ``[P_out, P_in, *rest]``.

        >>> import jax.numpy as jnp
        >>> s = permutation_action(2)
        >>> equivariant_basis(s, s).expand(jnp.array([1.0, 5.0]))
        Array([[1., 5.],
               [5., 1.]], dtype=float32)
        """
        if self.orbits is not None:
            return coeffs[jnp.asarray(self.orbits)]
        assert self.dense is not None
        return jnp.tensordot(
            jnp.asarray(self.dense, coeffs.dtype), coeffs, ((0,), (0,))
        )


def _orbit_basis(
    gens_out: list[np.ndarray], gens_in: list[np.ndarray], p_out: int, p_in: int
) -> Basis:
    """Orbits of pairs ``(i, j) ↦ (g_out[i], g_in[j])`` as connected components."""
    nodes = p_out * p_in
    here = np.arange(nodes)
    targets = [
        (g_out[:, None] * p_in + g_in[None, :]).ravel()
        for g_out, g_in in zip(gens_out, gens_in, strict=True)
    ]
    if targets:
        sources = np.concatenate([here] * len(targets))
        graph = scipy.sparse.coo_matrix(
            (np.ones(sources.size, np.int8), (sources, np.concatenate(targets))),
            shape=(nodes, nodes),
        )
        _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    else:
        labels = here
    # Name orbits by first appearance in row-major order, so the layout is stable.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    orbits = rank[inverse].reshape(p_out, p_in)
    return Basis(p_out, p_in, int(first.size), orbits=orbits)


def _null_space_basis(
    mats_out: list[np.ndarray], mats_in: list[np.ndarray], p_out: int, p_in: int
) -> Basis:
    """Null space of the stacked ``W R_in − R_out W`` for every generator."""
    n = p_out * p_in
    gram = np.zeros((n, n))
    for r_out, r_in in zip(mats_out, mats_in, strict=True):
        # Row-major vec: vec(W R_in) = (I ⊗ R_inᵀ) vec W,
        # vec(R_out W) = (R_out ⊗ I) vec W.
        c = np.kron(np.eye(p_out), r_in.T) - np.kron(r_out, np.eye(p_in))
        gram += c.T @ c
    values, vectors = np.linalg.eigh(gram)
    scale = max(float(values[-1]) if n else 0.0, 1.0)
    null = vectors[:, values <= 1e-9 * scale * n]
    size = null.shape[1]
    if size:
        # Reduce: pick pivot entries by pivoted QR, make each element 1 at its own
        # pivot and 0 at the others' (a reduced echelon form, readable by eye).
        _, _, pivots = scipy.linalg.qr(null.T, pivoting=True)
        null = null @ np.linalg.inv(null[pivots[:size]])
        null[np.abs(null) < 1e-9] = 0.0
        order = np.argsort(pivots[:size])
        null = null[:, order]
    return Basis(p_out, p_in, size, dense=null.T.reshape(size, p_out, p_in))


def _solve(
    index_out: Callable[[np.ndarray], np.ndarray | None],
    index_in: Callable[[np.ndarray], np.ndarray | None],
    matrix_out: Callable[[np.ndarray], np.ndarray],
    matrix_in: Callable[[np.ndarray], np.ndarray],
    gens: tuple[np.ndarray, ...],
    is_group: bool,
    p_out: int,
    p_in: int,
) -> Basis:
    if is_group:
        outs = [index_out(g) for g in gens]
        ins = [index_in(g) for g in gens]
        if all(o is not None for o in outs) and all(i is not None for i in ins):
            return _orbit_basis(
                [o for o in outs if o is not None],
                [i for i in ins if i is not None],
                p_out,
                p_in,
            )
    return _null_space_basis(
        [matrix_out(g) for g in gens], [matrix_in(g) for g in gens], p_out, p_in
    )


def equivariant_basis(act_in: AbstractAction, act_out: AbstractAction) -> Basis:
    """A basis of the linear maps ``W`` with ``W(g ▷ x) = g ▷ (W x)`` for every ``g``.

    Permutation actions of groups are solved by their orbit structure; other
    actions by a null-space computation.

    **Arguments:** `act_in`, `act_out`: linear actions of one monoid.

    **Returns:** a `Basis` over the points (features factor out).

    >>> img = image_action(Monoid.image_dihedral(3), 3, 3, 1)
    >>> equivariant_basis(img, img).size
    15
    """
    _check_pair(act_in, act_out)
    p_in, _ = act_in.canonical_shape()
    p_out, _ = act_out.canonical_shape()
    monoid = act_in.monoid
    return _solve(
        act_out.slot_index,
        act_in.slot_index,
        act_out.slot_matrix,
        act_in.slot_matrix,
        monoid.generators_array(),
        monoid.is_group,
        p_out,
        p_in,
    )


def invariant_basis(act: AbstractAction) -> Basis:
    """A basis of the invariant vectors, ``g ▷ b = b`` for every ``g``.

    These are the equivariant biases: maps from the trivial one-point action.

    **Arguments:** `act`, a linear action.

    **Returns:** a `Basis` with ``points_in == 1``.

    >>> invariant_basis(permutation_action(4, order=2)).size   # diagonal, off-diagonal
    2
    >>> invariant_basis(signal_action(Monoid.shifts(4), 4)).size
    0
    """
    p_out, _ = act.canonical_shape()
    monoid = act.monoid
    one = np.zeros(1, np.int64)
    return _solve(
        act.slot_index,
        lambda g: one,
        act.slot_matrix,
        lambda g: np.ones((1, 1)),
        monoid.generators_array(),
        monoid.is_group,
        p_out,
        1,
    )


def _check_pair(act_in: AbstractAction, act_out: AbstractAction) -> None:
    require_actions("equivariant_basis", act_in, act_out)
    if act_in.monoid != act_out.monoid:
        raise ValueError(
            _messages.different_monoids(act_in.monoid.name, act_out.monoid.name)
        )
    for act in (act_in, act_out):
        if not act.is_linear:
            raise ValueError(_messages.not_linear(act.label))
        _check_linear(act)


def _check_linear(act: AbstractAction) -> None:
    """Raise unless `act` acts linearly where its matrices are read off a basis.

    An action that is not an index map (a subclass's own `act`) is solved for
    through the images of basis vectors, which describe it only if it is linear;
    an action such as ``x ↦ |x|`` would give maps that are not equivariant.
    """
    x, y = (act.random_input(k) for k in jax.random.split(jax.random.key(0)))
    both = jax.tree.map(lambda a, b: a + 2 * b, x, y)
    for g in act.monoid.generators_array():
        if act.slot_index(g) is not None:
            continue
        apart = jax.tree.map(lambda a, b: a + 2 * b, act.act(g, x), act.act(g, y))
        error = float(_relative(act.act(g, both), apart))
        if error > _LINEAR_TOLERANCE:
            raise ValueError(_messages.acts_nonlinearly(act.label, g.tolist(), error))
