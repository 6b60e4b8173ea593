"""Equivariance from structure: monoid actions, equivariance checks, derived layers."""

from ._action import (
    AbstractAction as AbstractAction,
    DirectSum as DirectSum,
    IndexAction as IndexAction,
    MatrixAction as MatrixAction,
    check_action as check_action,
    image_action as image_action,
    permutation_action as permutation_action,
    signal_action as signal_action,
    trivial_action as trivial_action,
)
from ._basis import (
    Basis as Basis,
    equivariant_basis as equivariant_basis,
    invariant_basis as invariant_basis,
)
from ._blocks import (
    Pointwise as Pointwise,
    Pool as Pool,
    equivariant_mlp as equivariant_mlp,
)
from ._check import (
    assert_equivariant as assert_equivariant,
    equivariance_error as equivariance_error,
    is_equivariant as is_equivariant,
)
from ._linear import (
    Coefficients as Coefficients,
    DenseMap as DenseMap,
    EquivariantLinear as EquivariantLinear,
)
from ._monoid import (
    Monoid as Monoid,
)
