"""Fast applications of derived equivariant maps, where a structured operation exists.

A derived layer's weight is ``Σ_k θ_k ⊗ B_k``. Building that dense matrix costs as
much as an unconstrained layer; for the common actions a structured operation does
the same job with far fewer operations:

- ``C_n`` (or the translations ``C_h × C_w``) on signals or images: a circular
  convolution whose kernel is read off the first row of orbits;
- shifts with zero fill on a signal: a causal convolution, whose taps are read off
  the last row of the basis;
- ``S_n`` on tensors of any order: a sum, over set partitions of the index
  positions, of einsums that take diagonals, sum out and broadcast (the basis of
  Maron et al.), after a Möbius transform of the orbit coefficients.

Each returns ``None`` when it does not apply; the layer then uses the dense weight.
"""

import dataclasses
import string
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._action import AbstractAction, IndexAction
from ._basis import Basis
from ._by_value import ByValue
from ._monoid import Monoid, partitions

Apply = Callable[[Array, Any], Any]


@dataclasses.dataclass(frozen=True, eq=False)
class CircularConv(ByValue):
    """``x ↦ θ ⋆ x`` by wrap padding and a convolution, channels first."""

    act_in: IndexAction
    act_out: IndexAction
    spatial: tuple[int, ...]
    first_row: np.ndarray

    def __call__(self, coeffs: Array, x: Array) -> Array:
        """Apply the circulant map with orbit coefficients `coeffs` to `x`."""
        k = len(self.spatial)
        x = _channels_first(self.act_in, x)
        identity = np.array_equal(self.first_row, np.arange(self.first_row.size))
        kernel = coeffs if identity else coeffs[jnp.asarray(self.first_row)]
        kernel = kernel.reshape(self.spatial + kernel.shape[1:])
        kernel = jnp.moveaxis(kernel, (k, k + 1), (0, 1))
        padded = jnp.pad(x, [(0, 0)] + [(0, s - 1) for s in self.spatial], mode="wrap")
        y = _valid_conv(padded, kernel)
        return _from_channels_first(self.act_out, y)


def _valid_conv(x: Array, kernel: Array) -> Array:
    """A stride-1 unpadded convolution, promoting bf16 x f32 as a matmul does."""
    dtype = jnp.result_type(x, kernel)
    y = jax.lax.conv_general_dilated(
        x[None].astype(dtype), kernel.astype(dtype), (1,) * (x.ndim - 1), "VALID"
    )
    return y[0]


def _channels_first(act: IndexAction, x: Array) -> Array:
    (slot,) = act.slots
    free = tuple(a for a in range(len(act.shape)) if a not in slot)
    x = jnp.transpose(x, free + slot)
    return x.reshape((-1,) + x.shape[len(free) :])


def _from_channels_first(act: IndexAction, y: Array) -> Array:
    (slot,) = act.slots
    free = tuple(a for a in range(len(act.shape)) if a not in slot)
    order = free + slot
    y = y.reshape(tuple(act.shape[a] for a in order))
    return jnp.transpose(y, tuple(np.argsort(order).tolist()))


def _translation_sizes(monoid: Monoid, act: IndexAction) -> tuple[int, ...] | None:
    if len(act.slots) != 1:
        return None
    sizes = tuple(act.shape[a] for a in act.slots[0])
    if len(sizes) == 1 and monoid == Monoid.cyclic(sizes[0]):
        return sizes
    if len(sizes) == 2 and monoid == Monoid.translations(*sizes):
        return sizes
    return None


def circular_conv(
    act_in: AbstractAction, act_out: AbstractAction, basis: Basis
) -> CircularConv | None:
    """The convolution for cyclic translations of one signal or image, if it applies."""
    if not (isinstance(act_in, IndexAction) and isinstance(act_out, IndexAction)):
        return None
    if basis.orbits is None:
        return None
    sizes = _translation_sizes(act_in.monoid, act_in)
    if sizes is None or sizes != _translation_sizes(act_out.monoid, act_out):
        return None
    return CircularConv(act_in, act_out, sizes, basis.orbits[0])


@dataclasses.dataclass(frozen=True, eq=False)
class CausalConv(ByValue):
    """``y[t] = Σ_k a_k x[t−k]`` by left zero padding and a convolution."""

    act_in: IndexAction
    act_out: IndexAction
    taps: np.ndarray

    def __call__(self, coeffs: Array, x: Array) -> Array:
        """Apply the causal map with basis coefficients `coeffs` to `x`."""
        n = self.taps.shape[0]
        x = _channels_first(self.act_in, x)
        kernel = jnp.tensordot(jnp.asarray(self.taps, coeffs.dtype), coeffs, 1)
        rhs = jnp.moveaxis(kernel[::-1], 0, -1)
        padded = jnp.pad(x, ((0, 0), (n - 1, 0)))
        y = _valid_conv(padded, rhs)
        return _from_channels_first(self.act_out, y)


def causal_conv(
    act_in: AbstractAction, act_out: AbstractAction, basis: Basis
) -> CausalConv | None:
    """The causal convolution for shifts with zero fill of one signal, if it applies."""
    if not (isinstance(act_in, IndexAction) and isinstance(act_out, IndexAction)):
        return None
    n = act_in.monoid.size
    if act_in.monoid != Monoid.shifts(n) or basis.dense is None:
        return None
    for act in (act_in, act_out):
        if len(act.slots) != 1 or len(act.slots[0]) != 1:
            return None
    # a_k = W[n−1, n−1−k]; check that every basis map is the Toeplitz map of its taps.
    mats = basis.matrices()
    taps = mats[:, n - 1, ::-1].T
    for b, m in enumerate(mats):
        toeplitz = sum(taps[k, b] * np.eye(n, k=-k) for k in range(n))
        if not np.allclose(m, toeplitz):
            return None
    return CausalConv(act_in, act_out, np.ascontiguousarray(taps))


@dataclasses.dataclass(frozen=True)
class Term:
    """One ``A_π``: reduce the input, mix the features, place into the output.

    Reducing first (diagonals and sums over the input-only blocks) and placing last
    (broadcasts and diagonals of the output-only blocks) keeps the feature mixing
    as small as the pattern allows: a DeepSets layer mixes the set's sum once.
    """

    reduce: str
    mix: str
    place: str
    eyes: int
    broadcast: tuple[int, ...]


def _apply_spec(spec: str, operand: Array, *extras: Array) -> Array:
    inputs, output = spec.split("->")
    if not extras and inputs == output:
        return operand
    return jnp.einsum(spec, operand, *extras)


def _broadcast(x: Array, axes: tuple[int, ...], n: int) -> Array:
    """Insert each of `axes` (positions in the result) of size `n` by broadcasting."""
    if not axes:
        return x
    x = jnp.expand_dims(x, axes)
    shape = tuple(n if a in axes else s for a, s in enumerate(x.shape))
    return jnp.broadcast_to(x, shape)


@dataclasses.dataclass(frozen=True, eq=False)
class PartitionMaps(ByValue):
    """``x ↦ Σ_π A_π(x) φ_π``: each ``A_π`` an einsum of diagonals, sums, broadcasts."""

    act_in: IndexAction
    act_out: IndexAction
    n: int
    terms: tuple[Term, ...]
    mobius: np.ndarray

    def __call__(self, coeffs: Array, x: Array) -> Array:
        """Apply the map with orbit coefficients `coeffs` to `x`."""
        x = x.astype(jnp.result_type(x, coeffs))  # sum in the wider dtype
        _, features_in = self.act_in.canonical_shape()
        k = len(self.act_in.slots)
        xc = self.act_in.to_canonical(x).reshape((self.n,) * k + (features_in,))
        phi = jnp.tensordot(jnp.asarray(self.mobius, coeffs.dtype), coeffs, 1)
        eye = jnp.eye(self.n, dtype=x.dtype)
        total = None
        for index, term in enumerate(self.terms):
            reduced = _apply_spec(term.reduce, xc)
            mixed = jnp.einsum(term.mix, reduced, phi[index])
            placed = _apply_spec(term.place, mixed, *[eye] * term.eyes)
            placed = _broadcast(placed, term.broadcast, self.n)
            total = placed if total is None else total + placed
        assert total is not None
        points_out, features_out = self.act_out.canonical_shape()
        out: Array = self.act_out.from_canonical(
            total.reshape(points_out, features_out)
        )
        return out


def _is_symmetric_tensor(act: AbstractAction) -> int | None:
    if not isinstance(act, IndexAction):
        return None
    n = act.monoid.size
    if act.monoid != Monoid.symmetric(n):
        return None
    if any(len(s) != 1 for s in act.slots):
        return None
    return n


def partition_maps(
    act_in: AbstractAction, act_out: AbstractAction, basis: Basis
) -> PartitionMaps | None:
    """The partition einsums for ``S_n`` acting on tensors, if they apply."""
    n = _is_symmetric_tensor(act_in)
    if n is None or n != _is_symmetric_tensor(act_out) or basis.orbits is None:
        return None
    assert isinstance(act_in, IndexAction) and isinstance(act_out, IndexAction)
    k, m = len(act_in.slots), len(act_out.slots)
    if k + m > 8:
        return None
    # Output positions are 0..m-1, input positions m..m+k-1.
    found = [p for p in partitions(list(range(m + k))) if len(p) <= n]
    if len(found) != basis.size:
        return None
    labels = []
    for blocks in found:
        value = {pos: b for b, block in enumerate(blocks) for pos in block}
        out = np.ravel_multi_index([value[i] for i in range(m)], (n,) * m) if m else 0
        inp = (
            np.ravel_multi_index([value[m + j] for j in range(k)], (n,) * k) if k else 0
        )
        labels.append(int(basis.orbits[out, inp]))
    # Exact patterns E_σ (the orbits) against "at least" patterns A_π (einsums):
    # A_π = Σ_{σ coarser than π} E_σ, so θ = Z φ with Z[σ, π] = [π refines σ].
    zeta = np.array(
        [[_refines(pi, sigma) for pi in found] for sigma in found], dtype=np.float64
    )
    select = np.zeros((len(found), basis.size))
    select[np.arange(len(found)), labels] = 1.0
    mobius = np.round(np.linalg.inv(zeta)) @ select
    terms = tuple(_term(blocks, k, m) for blocks in found)
    return PartitionMaps(act_in, act_out, n, terms, mobius)


def _refines(fine: list[list[int]], coarse: list[list[int]]) -> bool:
    return all(any(set(b) <= set(c) for c in coarse) for b in fine)


def _term(blocks: list[list[int]], k: int, m: int) -> Term:
    """The three einsums of ``A_π`` (outputs are positions ``< m``)."""
    letters = iter(string.ascii_lowercase)
    position: dict[int, str] = {}
    kept: list[str] = []
    extra_specs: list[str] = []
    spread: list[str] = []
    for block in blocks:
        letter = next(letters)
        outs = [p for p in block if p < m]
        has_input = any(p >= m for p in block)
        for p in block:
            if p >= m:
                position[p] = letter
        if has_input and outs:
            kept.append(letter)
        for i, p in enumerate(outs):
            if i == 0:
                position[p] = letter
            else:
                position[p] = next(letters)
                extra_specs.append(letter + position[p])
        if len(outs) == 1 and not has_input:
            spread.append(letter)
    x_spec = "".join(position[m + j] for j in range(k)) + "X"
    kept_spec = "".join(kept)
    # A block holding one output and no input is broadcast last; the outputs of
    # one block are tied to its first by identity matrices (a diagonal).
    out_letters = [position[i] for i in range(m)]
    placed = "".join(c for c in out_letters if c not in spread) + "Y"
    broadcast = tuple(i for i, c in enumerate(out_letters) if c in spread)
    return Term(
        reduce=f"{x_spec}->{kept_spec}X",
        mix=f"{kept_spec}X,YX->{kept_spec}Y",
        place=",".join([kept_spec + "Y", *extra_specs]) + "->" + placed,
        eyes=len(extra_specs),
        broadcast=broadcast,
    )


def structured(
    act_in: AbstractAction, act_out: AbstractAction, basis: Basis
) -> Apply | None:
    """The fastest structured application that applies, or ``None``."""
    for build in (circular_conv, causal_conv, partition_maps):
        found = build(act_in, act_out, basis)
        if found is not None:
            return found
    return None
