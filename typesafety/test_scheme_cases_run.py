"""Type-level cases, run: the shapes mypy infers are the run-time ones.

Each case of ``typesafety/test_schemes/*.yml``, ``typesafety/plain_jax/*.yml``
(plain JAX with jaxtyping annotations) and ``typesafety/layers/*.yml`` (cdl's layers)
is executed as a program. Every array
shape that mypy reveals (``# N: Revealed type is "…Array[Literal[4]]"``) must be the
run-time ``.shape`` of the value, and every line that mypy flags with a ``[shape]``
error must fail when it runs (a line with another error may run or fail). Lines
inside functions that a case never calls are not run.
"""

import pathlib
import re
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = [
    path
    for folder in ("test_schemes", "plain_jax", "layers")
    for path in sorted((ROOT / "typesafety" / folder).glob("*.yml"))
]
ERROR = re.compile(r"^(?P<pad>\s*)(?P<code>.*?)\s*#\s*E:.*\[(?P<kind>[\w-]+)\]\s*$")
REVEALED = re.compile(
    r'#\s*N: Revealed type is "jax\._src\.basearray\.Array\[(?P<dims>[^"]*)\]"'
)
LITERAL = re.compile(r"Literal\[(-?\d+)\]")


def _load() -> list[tuple[str, str]]:
    return [
        (f"{path.stem}_{entry['case']}", entry["main"])
        for path in CASES
        for entry in yaml.safe_load(path.read_text())
    ]


ALL = _load()
# Cases that build and run whole networks (cdl's layers, its architectures): about
# two minutes together, so left to `-m slow` with the plain-JAX corpus.
# Plain-function algebras (about 3 s) run there too.
SLOW = (
    *(f"{path.stem}_" for path in CASES if path.parent.name == "layers"),
    "plain_algebras_",
)


def _dims(text: str) -> list[int | None]:
    """``Literal[7], Any`` as ``[7, None]``; ``()`` (a scalar) as ``[]``."""
    dims: list[int | None] = []
    if text == "()":
        return dims
    for part in text.split(", "):
        match = LITERAL.fullmatch(part)
        dims.append(int(match.group(1)) if match else None)
    return dims


class Run:
    """What running a case saw: the revealed shapes and the flagged lines that ran."""

    def __init__(self) -> None:
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.raised: set[int] = set()
        self.passed: set[int] = set()

    def reveal(self, line: int, value: Any) -> Any:
        self.shapes[line] = tuple(value.shape)
        return value


class Program:
    """A case's source, instrumented: reveals recorded, flagged lines guarded."""

    def __init__(self, source: str) -> None:
        self.shapes: dict[int, list[int | None]] = {}
        self.shape_errors: set[int] = set()
        out: list[str] = []
        for number, line in enumerate(source.splitlines(), start=1):
            revealed = REVEALED.search(line)
            if revealed:
                self.shapes[number] = _dims(revealed.group("dims"))
                line = line.replace("reveal_type(", f"_run.reveal({number}, ", 1)
            error = ERROR.match(line)
            if error is None:
                out.append(line)
                continue
            if error.group("code").startswith("@") and error.group("kind") != "shape":
                # A decorator (mypy's [override] of an overloaded method) cannot be
                # guarded alone, and needs not be: such a line may run or fail.
                out.append(line)
                continue
            if error.group("kind") == "shape":
                self.shape_errors.add(number)
            pad = error.group("pad")
            out += [
                f"{pad}try:",
                f"{pad}    {error.group('code')}",
                f"{pad}except Exception:",
                f"{pad}    _run.raised.add({number})",
                f"{pad}else:",
                f"{pad}    _run.passed.add({number})",
            ]
        self.text = "\n".join(out) + "\n"

    def run(self, name: str) -> Run:
        """Execute the program; what it saw."""
        run = Run()
        scope = {"__name__": name, "_run": run, "reveal_type": lambda value: value}
        exec(compile(self.text, f"<{name}>", "exec"), scope)
        return run


@pytest.mark.parametrize(
    ("name", "source"),
    [
        # The plain-JAX corpus runs eagerly op by op: about 30 s, so left to `-m slow`.
        pytest.param(n, s, marks=pytest.mark.slow)
        if n.startswith(("corpus_", *SLOW))
        else (n, s)
        for n, s in ALL
    ],
    ids=[name for name, _ in ALL],
)
def test_static_shapes_are_run_time_shapes(name: str, source: str) -> None:
    program = Program(source)
    run = program.run(name)
    assert not run.passed & program.shape_errors, "a [shape] error ran without failing"
    for line, shape in run.shapes.items():
        want = program.shapes[line]
        agree = len(shape) == len(want) and all(
            w is None or w == s for s, w in zip(shape, want, strict=False)
        )
        assert agree, f"line {line}: mypy says {want}, the run {shape}"


def test_the_runs_check_something() -> None:
    programs = [Program(source) for _, source in ALL]
    assert sum(len(p.shapes) for p in programs) >= 8
    assert sum(len(p.shape_errors) for p in programs) >= 15
