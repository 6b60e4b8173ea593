"""Check cdl's jax stubs on other Pythons and jax versions, as a user installs them.

For each Python (``--python``, e.g. pyenv's 3.12 and 3.13) and each jax version
(``--jax``), this builds cdl's wheel and makes a fresh virtual environment. By
default it installs there, from the package index, only what mypy needs to read a
jax program (mypy, jaxtyping, numpy, that jax without its dependencies), then cdl's
wheel without dependencies, and runs ``cdl check`` (which loads the plugin by file,
without importing jax). With ``--full`` it installs the wheel with all of cdl's
dependencies (then that jax and its jaxlib over them) and runs plain mypy with only
``plugins = cdl.mypy_plugin`` in the project's ``mypy.ini``. Either way two programs
outside the repository are checked: one with three shape bugs (each must be
reported) and one correct program calling the shadowed jax modules and others
(nothing may be reported). Prints one line per pair and exits 1 if any failed.

    python scripts/check_versions.py --python ~/.pyenv/versions/3.12.1/bin/python \
        --python ~/.pyenv/versions/3.13.0/bin/python --jax 0.10.2 --jax 0.9.2
"""

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
TOOLS: Final = ["mypy>=2.4.1,<2.5", "jaxtyping>=0.3.11,<0.4", "numpy", "ml_dtypes"]
TOOLS_ALSO: Final = ["typing-extensions>=4.16", "opt_einsum", "wadler-lindig"]
BAD: Final = textwrap.dedent(
    """
    import jax.numpy as jnp
    from jax import lax
    from jaxtyping import Array, Float


    def head(x: Float[Array, "4 3"]) -> Float[Array, "4 5"]:
        return x @ jnp.ones((3, 4))


    def row_norms(x: Float[Array, "4 3"]) -> Float[Array, "3"]:
        norms = jnp.linalg.norm(x, axis=-1)
        return norms


    def smooth(x: Float[Array, "4 3"]) -> Float[Array, "4"]:
        smoothed = lax.fori_loop(0, 5, lambda i, c: 0.5 * c, x)
        return smoothed
    """
)
GOOD: Final = textwrap.dedent(
    """
    import jax
    import jax.numpy as jnp
    from jax import lax
    from jaxtyping import Array, Float, Int, PRNGKeyArray


    def mlp(key: PRNGKeyArray, x: Float[Array, "8 3"]) -> Float[Array, "8 5"]:
        k1, k2 = jax.random.split(key)
        w = jax.random.normal(k1, (3, 5))
        b = jax.random.uniform(k2, (5,))
        h = jax.nn.gelu(x @ w + b)
        return jax.nn.log_softmax(h, axis=-1)


    def classify(logits: Float[Array, "8 10"], labels: Int[Array, "8"]) -> Array:
        onehot = jax.nn.one_hot(labels, 10)
        picked = logits.argmax(axis=-1)
        keep = jax.random.bernoulli(jax.random.key(0), 0.9, (8,))
        draw = jax.random.categorical(jax.random.key(1), logits)
        perm = jax.random.permutation(jax.random.key(2), 8)
        counts = picked.sum() + keep.sum() + draw.sum() + perm.sum()
        return (onehot * logits).sum() + counts


    def geometry(a: Float[Array, "3 3"], v: Float[Array, "3"]) -> Float[Array, "3"]:
        q, r = jnp.linalg.qr(a)
        w, vecs = jnp.linalg.eigh(a @ a.T)
        s = jnp.linalg.svd(a, compute_uv=False)
        y = jnp.linalg.solve(jnp.linalg.inv(a), v) / jnp.linalg.norm(v)
        c = jnp.linalg.cholesky(a @ a.T)[0]
        return y + jnp.linalg.det(a) + s.sum() + w.sum() + c


    def loops(x: Float[Array, "4 3"]) -> Float[Array, "4 3"]:
        total = lax.fori_loop(0, 3, lambda i, acc: acc + 1.0, 0.0)
        y = lax.while_loop(lambda c: c.sum() < 10.0, lambda c: c * 2.0, x)
        z = lax.cond(total > 1.0, lambda: y, lambda: -y)
        carry, ys = lax.scan(lambda c, row: (c + row, row * 2.0), jnp.zeros(3), x)
        return lax.switch(0, [lambda: z, lambda: 2.0 * z]) + carry + ys


    batched = jax.jit(jax.vmap(lambda r: jnp.tanh(r).sum()))
    grads = jax.grad(lambda w: jnp.sum(w**2))(jnp.ones(3))
    """
)


def _run(
    command: list[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _wheel(folder: Path) -> Path:
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "--wheel-dir", str(folder), str(ROOT)]
    )
    if built.returncode:
        raise SystemExit(built.stderr)
    (wheel,) = folder.glob("cdl-*.whl")
    return wheel


def check(python: str, jax: str, wheel: Path, folder: Path, full: bool) -> str:
    """Install and check one pair; return a one-line verdict."""
    env = folder / "venv"
    made = _run([python, "-m", "venv", str(env)])
    if made.returncode:
        return f"no venv: {made.stderr.strip()[-200:]}"
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    steps = (
        [[str(wheel)], ["--no-deps", f"jax=={jax}", f"jaxlib=={jax}"]]
        if full
        else [
            [*TOOLS, *TOOLS_ALSO],
            ["--no-deps", f"jax=={jax}"],
            ["--no-deps", str(wheel)],
        ]
    )
    for step in steps:
        done = _run(pip + step)
        if done.returncode:
            return f"install failed ({' '.join(step)}): {done.stderr.strip()[-300:]}"
    project = folder / "project"
    project.mkdir()
    (project / "mypy.ini").write_text("[mypy]\nplugins = cdl.mypy_plugin\n")
    (project / "bad.py").write_text(BAD)
    (project / "good.py").write_text(GOOD)
    mypy = (
        [str(env / "bin" / "python"), "-m", "mypy", "--no-error-summary"]
        if full
        else [str(env / "bin" / "cdl"), "check"]
    )
    bad, good = _run([*mypy, "bad.py"], project), _run([*mypy, "good.py"], project)
    found = [line for line in bad.stdout.splitlines() if ": error:" in line]
    lines = [
        n
        for n in ("bad.py:8:", "bad.py:13:", "bad.py:18:")
        if any(f.startswith(n) for f in found)
    ]
    verdict = f"bugs found {len(lines)}/3"
    if good.returncode or "error" in good.stdout:
        return f"{verdict}; FALSE ERRORS (correct program):\n{good.stdout}{good.stderr}"
    if len(lines) != 3 or len(found) != 3:
        return f"{verdict}; FAILED:\n{bad.stdout}{bad.stderr}"
    return f"{verdict}, correct program clean: ok"


def main() -> int:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[])
    parser.add_argument("--jax", action="append", default=[])
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="cdl-versions-") as scratch:
        wheel = _wheel(Path(scratch) / "wheel")
        for python in args.python or [sys.executable]:
            version = _run([python, "--version"]).stdout.strip()
            for jax in args.jax or ["0.10.2"]:
                folder = Path(tempfile.mkdtemp(dir=scratch))
                verdict = check(python, jax, wheel, folder, args.full)
                failed |= not verdict.endswith(": ok")
                how = "plain mypy, all dependencies" if args.full else "cdl check"
                print(f"{version}, jax {jax}, {how}: {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
