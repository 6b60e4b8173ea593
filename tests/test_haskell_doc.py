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


def test_the_blocks_type_check(tmp_path):
    """mypy (cdl's plugin, the repository's configuration) finds nothing to flag.

    Each block becomes the body of a function; the page's cells are unannotated
    functions and lambdas, as Haskell users write them, so untyped definitions are
    allowed (but still checked).
    """
    from cdl.mypy_plugin._run import check

    lines = [
        "# mypy: allow-untyped-defs, allow-untyped-calls, check-untyped-defs",
        "import jax",
        "import jax.numpy as jnp",
        "import cdl",
    ]
    for index, block in enumerate(BLOCKS):
        lines.append(f"def block_{index}() -> None:")
        lines += ["    " + line if line.strip() else "" for line in block.splitlines()]
    path = tmp_path / "haskell_blocks.py"
    path.write_text("\n".join(lines) + "\n")
    assert check([path])["haskell_blocks"] == []
