"""Trial round 8: the architecture builders given odd arguments."""

import jax
import pytest

from cdl.architectures import transformer_block


@pytest.mark.parametrize("activation", ["relu", jax.nn.relu])
def test_a_transformer_block_names_an_activation_that_is_no_layer(activation):
    # A string or a JAX function failed inside `>>` with "unsupported operand
    # type(s) for >>: 'Linear' and 'str'", naming neither the builder nor the
    # argument.
    with pytest.raises(TypeError, match="transformer_block: activation must be"):
        transformer_block(8, 2, activation=activation, key=jax.random.key(0))
