r"""cdl's static shapes against Pyrefly's on one corpus of plain-JAX programs.

The corpus is ``typesafety/plain_jax/corpus.yml``: cases named ``*_bug`` hold a shape
bug, cases named ``*_ok`` are correct. Each is checked by mypy with cdl's plugin and
by Pyrefly (1.5 with ``jax-pyrefly-stubs`` 1.4 and ``shape_extensions``), which reads
jaxtyping strings inside ``@static_jaxtyping("n d")``: the Pyrefly version of each case
is the same program with those declarations added (``--keep DIR`` writes them out). A
bug is caught when the checker reports an error in its case; an error in a correct
case is a false positive.

Pyrefly is installed apart from cdl's environment (its stubs replace jax's)::

    python -m venv /tmp/pyrefly-venv
    /tmp/pyrefly-venv/bin/pip install pyrefly==1.5.0 jax==0.10.2 jaxtyping==0.3.11
    /tmp/pyrefly-venv/bin/pip install --no-deps --ignore-requires-python \
        jax-pyrefly-stubs==1.4.0 pyrefly-shape-extensions==1.4.0

Run ``python benchmarks/pyrefly_shapes.py [--pyrefly /tmp/pyrefly-venv]``; without
Pyrefly only cdl's column is measured.
"""

import argparse
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml  # type: ignore[import-untyped]

from cdl.mypy_plugin._run import check

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "typesafety" / "plain_jax" / "corpus.yml"
_MARK = re.compile(r"\s*#\s*[EN]:.*$")
_SPEC = re.compile(r'\[\s*Array\s*,\s*"([^"]*)"\s*\]')
_REVEAL = re.compile(r"reveal_type\((.*)\)$")
_ERROR = re.compile(
    r"^ERROR [^\n]*\[(?P<code>[\w-]+)\]\n\s*-->\s*(?P<file>[^:]+):(?P<line>\d+)", re.M
)


def cases() -> list[tuple[str, str]]:
    """(name, source without the expected-output comments) of every corpus case."""
    out = []
    for entry in yaml.safe_load(CORPUS.read_text()):
        lines = [_MARK.sub("", line) for line in entry["main"].splitlines()]
        out.append((entry["case"], "\n".join(lines) + "\n"))
    return out


def for_pyrefly(source: str) -> str:
    """The case with its dimension names declared as Pyrefly reads them."""
    out = ["from __future__ import annotations", ""]
    lines = source.splitlines()
    last_import = max(
        k for k, line in enumerate(lines) if line.startswith(("import", "from"))
    )
    enclosing: list[tuple[int, list[str]]] = []  # (indent, names) of open defs
    for k, line in enumerate(lines):
        if k == last_import + 1:
            out.append("from shape_extensions import static_jaxtyping")
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped:
            enclosing = [(i, n) for i, n in enclosing if i < indent]
        reveal = _REVEAL.search(stripped)
        if reveal:
            line = line.replace(stripped, f"_ = {reveal.group(1)}")
        if stripped.startswith("def "):
            # A nested function uses its enclosing one's names without redeclaring.
            outer = {name for _, names in enclosing for name in names}
            names = [n for n in _names(line) if n not in outer]
            out.append(f'{line[:indent]}@static_jaxtyping("{" ".join(names)}")')
            enclosing.append((indent, names))
        out.append(line)
    return "\n".join(out) + "\n"


def _names(signature: str) -> list[str]:
    """The dimension names (``*rest`` for variadic ones) a signature's strings use."""
    names: list[str] = []
    for spec in _SPEC.findall(signature):
        for token in spec.split():
            if token.startswith("*"):
                token_names = [token]
            else:
                token_names = re.findall(r"[A-Za-z_]\w*", token)
            for name in token_names:
                if name != "_" and name not in names:
                    names.append(name)
    return names


def cdl_errors(sources: list[tuple[str, str]]) -> dict[str, int]:
    """How many errors mypy with cdl's plugin reports in each case."""
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, source in sources:
            path = pathlib.Path(folder) / f"{name}.py"
            path.write_text(source)
            files.append(path)
        found = check(files)
    return {name: sum(1 for m in found[name] if m[1] == "error") for name, _ in sources}


def pyrefly_errors(
    venv: pathlib.Path, sources: list[tuple[str, str]], folder: pathlib.Path
) -> dict[str, int]:
    """How many errors Pyrefly reports in each case (its programs put in `folder`).

    An annotation Pyrefly rejects (``"n 2*d"``) is not counted as a bug it caught.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources:
        (folder / f"{name}.py").write_text(for_pyrefly(source))
    (folder / "pyrefly.toml").write_text(
        f'python-interpreter-path = "{venv / "bin" / "python"}"\n'
    )
    run = subprocess.run(
        [str(venv / "bin" / "pyrefly"), "check", "--output-format", "full-text"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    counts = dict.fromkeys((name for name, _ in sources), 0)
    for match in _ERROR.finditer(run.stdout + run.stderr):
        stem = pathlib.Path(match.group("file")).stem
        if stem in counts and match.group("code") != "invalid-annotation":
            counts[stem] += 1
    return counts


def score(errors: dict[str, int]) -> tuple[list[str], list[str]]:
    """(bugs caught, correct cases flagged)."""
    caught = [n for n, k in errors.items() if n.endswith("_bug") and k]
    false = [n for n, k in errors.items() if n.endswith("_ok") and k]
    return caught, false


def main() -> None:
    """Print both checkers' verdicts case by case, their scores and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyrefly", type=pathlib.Path, default="/tmp/pyrefly-venv")
    parser.add_argument("--keep", type=pathlib.Path, default=None)
    args = parser.parse_args()
    sources = cases()
    bugs = [n for n, _ in sources if n.endswith("_bug")]
    ours = cdl_errors(sources)
    theirs = None
    if (args.pyrefly / "bin" / "pyrefly").exists():
        with tempfile.TemporaryDirectory() as scratch:
            folder = args.keep or pathlib.Path(scratch)
            theirs = pyrefly_errors(args.pyrefly, sources, folder)
    print(f"{'case':40} {'cdl':>8} {'pyrefly':>8}")
    for name, _ in sources:
        other = "-" if theirs is None else str(theirs[name])
        print(f"{name:40} {ours[name]:>8} {other:>8}")
    caught, false = score(ours)
    print(f"cdl: {len(caught)}/{len(bugs)} bugs caught, {len(false)} false positives")
    missed_by_cdl = 0
    if theirs is not None:
        their_caught, their_false = score(theirs)
        print(
            f"pyrefly: {len(their_caught)}/{len(bugs)} bugs caught, "
            f"{len(their_false)} false positives ({', '.join(their_false) or 'none'})"
        )
        missed_by_cdl = len(set(their_caught) - set(caught))
    else:
        print(f"pyrefly: not installed at {args.pyrefly}", file=sys.stderr)
    print(
        f"target: bugs_pyrefly_catches_that_cdl_misses measured={missed_by_cdl} goal=0 "
        + ("met" if missed_by_cdl == 0 and theirs is not None else "missed")
    )
    print(
        f"target: cdl_bugs_missed measured={len(bugs) - len(caught)} goal=0 "
        + ("met" if len(caught) == len(bugs) else "missed")
    )
    print(
        f"target: cdl_false_positives measured={len(false)} goal=0 "
        + ("met" if not false else "missed")
    )


if __name__ == "__main__":
    main()
