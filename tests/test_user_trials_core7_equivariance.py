"""Round core7 of user trials: equivariance."""

import jax
import jax.numpy as jnp
import pytest

import cdl


def test_assert_equivariant_names_a_function_by_its_name() -> None:
    # Without name=, a function was shown by its repr, "<function <lambda> at
    # 0x7f...> is not equivariant", where equivariance_error's messages say "<lambda>".
    act = cdl.signal_action(cdl.Monoid.cyclic(5), 5)
    key = jax.random.key(0)
    with pytest.raises(AssertionError, match=r"^cumsum is not equivariant"):
        cdl.assert_equivariant(jnp.cumsum, act, act, key=key)
    with pytest.raises(AssertionError, match=r"^<lambda> is not equivariant"):
        cdl.assert_equivariant(lambda x: jnp.cumsum(x), act, act, key=key)
    layer = cdl.Linear(5, 5, key=key)
    with pytest.raises(AssertionError, match=r"^Linear\(5→5\) is not equivariant"):
        cdl.assert_equivariant(layer, act, act, key=key)
