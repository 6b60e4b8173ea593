"""Equivariance from structure: monoid actions, equivariance checks, derived layers."""

from ._action import (
    AbstractAction as AbstractAction,
)
from ._action import (
    DirectSum as DirectSum,
)
from ._action import (
    IndexAction as IndexAction,
)
from ._action import (
    check_action as check_action,
)
from ._action import (
    image_action as image_action,
)
from ._action import (
    permutation_action as permutation_action,
)
from ._action import (
    signal_action as signal_action,
)
from ._action import (
    trivial_action as trivial_action,
)
from ._check import (
    assert_equivariant as assert_equivariant,
)
from ._check import (
    equivariance_error as equivariance_error,
)
from ._check import (
    is_equivariant as is_equivariant,
)
from ._monoid import (
    Monoid as Monoid,
)
