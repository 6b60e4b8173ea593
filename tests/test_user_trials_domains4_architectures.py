"""Builders take only True or False for their switches."""

import jax
import pytest

from cdl.architectures import gpt, transformer_block

KEY = jax.random.key(0)


def test_switches_that_are_not_bools_are_refused() -> None:
    # "no" and "yes" were both read as True: tied="no" built a tied model and
    # causal="no" a decoder block.
    with pytest.raises(TypeError, match="gpt: tied must be True or False"):
        gpt(5, 8, 1, 2, 8, tied="no", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transformer_block: causal must be True"):
        transformer_block(8, 2, causal="no", key=KEY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transformer_block: rotary must be True"):
        transformer_block(8, 2, rotary=1, key=KEY)  # type: ignore[arg-type]
    assert transformer_block(8, 2, causal=True, key=KEY).label.startswith("Decoder")
