"""The python blocks of the pages users copy from run as written, one after another.

Blocks of a page share one namespace, as a reader's session would; a block that
shows what mypy reports (a ``# error:`` comment) is a listing, not a step.
"""

import pathlib
import re
from typing import Any

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    "page", ["architectures", "equivariance", "graphs", "games", "schemes"]
)
def test_the_blocks_of_a_page_run_in_order(page: str) -> None:
    namespace: dict[str, Any] = {}
    blocks = FENCE.findall((DOCS / f"{page}.md").read_text())
    ran = 0
    for index, source in enumerate(blocks):
        if "# error:" in source:
            continue
        exec(compile(source, f"docs/{page}.md, block {index}", "exec"), namespace)
        ran += 1
    assert ran >= 1
