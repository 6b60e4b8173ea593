"""Equivariant linear layers derived from the actions, as reparametrised dense layers.

For linear actions the equivariance constraint ``W ρ_in(g) = ρ_out(g) W`` is a
weight-tying scheme: the solutions are ``W = Σ_k θ_k B_k`` for a basis ``B_k``. So a
derived layer is a 2-cell of Para: the dense layer ``DenseMap`` reparametrised along
``θ ↦ Σ_k θ_k B_k``. Its parameters are the coefficients ``θ``; ``layer.base()``
rebuilds the dense layer. When the actions have a structured form (a convolution
for cyclic groups, sums and diagonals for symmetric groups) the layer applies that
instead of the dense matrix, with the same result.

>>> import jax, jax.numpy as jnp, cdl
>>> act = cdl.permutation_action(5, (3,))
>>> layer = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
>>> layer.params.weight.shape                 # two 3×3 blocks: λI + γ11ᵀ
(2, 3, 3)
>>> x = jnp.ones((5, 3))
>>> bool(jnp.allclose(layer(x), layer.base()(x), atol=1e-5))
True
>>> cdl.is_equivariant(layer, act, act, key=jax.random.key(1))
True
"""

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _random
from .._para import Para
from .._reparam import Reparam
from .._space import _FLOAT, ProductSpace, Space, TensorSpace, space_of
from ..nn._arguments import flag, prng_key
from ._action import AbstractAction, require_actions
from ._basis import Basis, equivariant_basis, invariant_basis
from ._by_value import ByValue
from ._structured import Apply, structured as structured_apply


def _widened(space: Space) -> Space:
    """`space` with each floating-point dtype widened to the float kind."""
    if isinstance(space, ProductSpace):
        return ProductSpace(tuple(_widened(f) for f in space.factors))
    if (
        isinstance(space, TensorSpace)
        and isinstance(space.dtype, frozenset)
        and space.dtype <= _FLOAT
    ):
        return TensorSpace(_FLOAT, space.shape)
    return space


def _space(act: AbstractAction) -> Space:
    """The space `act` acts on, any floating-point dtype (as `Linear`'s)."""
    shape = jax.eval_shape(act.random_input, jax.random.key(0))
    return _widened(space_of(shape))


class DenseMap(Para[Any, Any]):
    """An unconstrained linear map between the spaces of two actions.

    The weight is stored over canonical coordinates, ``[P_out, F_out, P_in, F_in]``
    (points moved by the monoid, then features); this is the base morphism that a
    derived `EquivariantLinear` reparametrises.

    **Arguments:** `act_in`, `act_out`; `weight`; `bias` (``[P_out, F_out]`` or
    None).

    **Returns:** the layer.

    >>> import jax.numpy as jnp, cdl
    >>> act = cdl.permutation_action(2)
    >>> DenseMap(act, act, jnp.ones((2, 1, 2, 1)), None)(jnp.array([1.0, 2.0]))
    Array([3., 3.], dtype=float32)
    """

    weight: Float[Array, "p_out f_out p_in f_in"] | None
    bias: Float[Array, "p_out f_out"] | None
    act_in: AbstractAction = eqx.field(static=True)
    act_out: AbstractAction = eqx.field(static=True)
    spaces: tuple[Space, Space] = eqx.field(static=True)

    def __init__(
        self,
        act_in: AbstractAction,
        act_out: AbstractAction,
        weight: Array | None,
        bias: Array | None,
    ) -> None:
        self.weight = weight
        self.bias = bias
        self.act_in = act_in
        self.act_out = act_out
        self.spaces = (_space(act_in), _space(act_out))

    def signature(self) -> tuple[Space, Space]:
        """The spaces the two actions act on."""
        return self.spaces

    @property
    def label(self) -> str:
        """``DenseMap(in → out)``."""
        return f"DenseMap({self.spaces[0]!r}→{self.spaces[1]!r})"

    def __call__(self, x: Any) -> Any:
        """``W x + b`` in canonical coordinates."""
        assert self.weight is not None
        y = jnp.einsum(
            "aibj,bj->ai", self.weight, self.act_in.to_canonical(x), precision="highest"
        )
        if self.bias is not None:
            y = y + self.bias
        return self.act_out.from_canonical(y)


class Coefficients(eqx.Module):
    """The parameters of a derived layer: one block per basis element.

    **Arguments:** `weight` ``[k, F_out, F_in]``; `bias` ``[k_b, F_out]`` or None.

    **Returns:** the pytree of coefficients (the ``params`` of `EquivariantLinear`).

    >>> import jax.numpy as jnp
    >>> Coefficients(jnp.zeros((2, 1, 1)), None).weight.shape
    (2, 1, 1)
    """

    weight: Float[Array, "k f_out f_in"]
    bias: Float[Array, "kb f_out"] | None


@dataclasses.dataclass(frozen=True, eq=False)
class Expand(ByValue):
    """The 2-cell ``θ ↦ Σ_k θ_k ⊗ B_k``: from coefficients to the dense weight."""

    act_in: AbstractAction
    act_out: AbstractAction
    basis: Basis
    bias_basis: Basis | None

    def weight(self, coeffs: Coefficients) -> Array:
        """The dense weight ``[P_out, F_out, P_in, F_in]``."""
        return jnp.transpose(self.basis.expand(coeffs.weight), (0, 2, 1, 3))

    def bias(self, coeffs: Coefficients) -> Array | None:
        """The dense bias ``[P_out, F_out]``, or None."""
        if coeffs.bias is None or self.bias_basis is None:
            return None
        return self.bias_basis.expand(coeffs.bias)[:, 0]

    def __call__(self, coeffs: Coefficients) -> DenseMap:
        """The parameters of the base `DenseMap`."""
        return DenseMap(
            self.act_in, self.act_out, self.weight(coeffs), self.bias(coeffs)
        )


class EquivariantLinear(Reparam[Any, Any, Coefficients]):
    """The equivariant linear layer between two actions, derived by solving for a basis.

    It is ``cdl.reparam(DenseMap, Expand, θ)``: its parameters are the basis
    coefficients `params` (a `Coefficients`), and `base()` rebuilds the dense
    layer. It applies a structured operation (circular convolution for cyclic
    translations, sums and diagonals for ``S_n``) when one exists, else the dense
    weight built from the basis.

    **Arguments:**

    - `act_in`, `act_out`: linear actions of one monoid.
    - `key`: PRNG key for the initial coefficients.
    - `use_bias`: whether to add an equivariant (invariant) bias (default True).
    - `structured`: whether to use a structured operation where one exists
      (default True; False always uses the dense weight).

    **Returns:** the layer, a morphism from the space of `act_in` to that of
    `act_out`.

    Circulant matrices for cyclic shifts, applied as a circular convolution:

    >>> import jax, jax.numpy as jnp, cdl
    >>> act = cdl.signal_action(cdl.Monoid.cyclic(8), 8, channels=2)
    >>> conv = cdl.EquivariantLinear(act, act, key=jax.random.key(0))
    >>> conv.size, conv.params.weight.shape, conv.dom, conv.cod
    (8, (8, 2, 2), float[2,8], float[2,8])
    """

    act_in: AbstractAction = eqx.field(static=True)
    act_out: AbstractAction = eqx.field(static=True)
    fast: Apply | None = eqx.field(static=True)

    def __init__(
        self,
        act_in: AbstractAction,
        act_out: AbstractAction,
        *,
        key: PRNGKeyArray,
        use_bias: bool = True,
        structured: bool = True,
    ) -> None:
        require_actions("EquivariantLinear", act_in, act_out)
        key = prng_key("EquivariantLinear", key)
        flag("EquivariantLinear", "use_bias", use_bias)
        flag("EquivariantLinear", "structured", structured)
        basis = equivariant_basis(act_in, act_out)
        bias_basis = invariant_basis(act_out) if use_bias else None
        points_in, features_in = act_in.canonical_shape()
        _, features_out = act_out.canonical_shape()
        w_key, b_key = jax.random.split(key)
        bound = 1 / math.sqrt(max(points_in * features_in, 1))
        weight = _random.uniform(
            w_key, (basis.size, features_out, features_in), -bound, bound
        )
        bias = None
        if bias_basis is not None and bias_basis.size:
            bias = _random.uniform(
                b_key, (bias_basis.size, features_out), -bound, bound
            )
        else:
            bias_basis = None
        self.params = Coefficients(weight, bias)
        self.r = Expand(act_in, act_out, basis, bias_basis)
        self.skeleton = DenseMap(act_in, act_out, None, None)
        self.act_in = act_in
        self.act_out = act_out
        self.fast = structured_apply(act_in, act_out, basis) if structured else None

    @property
    def basis(self) -> Basis:
        """The basis of equivariant maps the coefficients refer to."""
        expand = self.r
        assert isinstance(expand, Expand)
        return expand.basis

    @property
    def size(self) -> int:
        """The number of basis maps (the parameter count per pair of features)."""
        return self.basis.size

    @property
    def label(self) -> str:
        """``EquivariantLinear(M: in → out)``."""
        dom, cod = self.skeleton.signature()
        return f"EquivariantLinear({self.act_in.monoid.name}: {dom!r}→{cod!r})"

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Apply the layer, by its structured operation where there is one."""
        if self.fast is None:
            return self.base()(x)
        expand = self.r
        assert isinstance(expand, Expand)
        y = self.fast(self.params.weight, x)
        bias = expand.bias(self.params)
        if bias is not None:
            y = y + self.act_out.from_canonical(bias)
        return y
