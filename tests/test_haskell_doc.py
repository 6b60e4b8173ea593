"""docs/haskell.md: every cdl block runs, and its asserts hold."""

import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "haskell.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = FENCE.findall(DOC.read_text())


def test_the_page_has_its_examples():
    assert len(BLOCKS) >= 19


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(index):
    import jax
    import jax.numpy as jnp

    import cdl

    namespace = {"jax": jax, "jnp": jnp, "cdl": cdl}
    exec(compile(BLOCKS[index], f"docs/haskell.md block {index}", "exec"), namespace)
