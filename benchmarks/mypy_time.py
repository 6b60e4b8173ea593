"""How long ``cdl check`` takes against plain ``mypy`` with the same configuration.

In a scratch project outside the repository (a user's file with one shape bug, or
the files given), three commands run with a fresh cache (cold) and then again on it
(warm), taking turns so that load from other processes falls on all of them:

- ``cdl check FILES``;
- ``mypy --config-file C FILES``, where C is what ``cdl check --show-config`` prints;
- the same without cdl's plugin and stubs (how much the shape checks add).

Every run's exit status and messages are checked: each must print exactly the
messages of the first ``mypy`` run (which must report the file's shape bug), and a
crash or a missing error marks the measurement invalid instead of fast. Prints the
median seconds and the ratios, then one target line per ratio.

    python benchmarks/mypy_time.py [--repeats 5] [FILES...]
"""

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Final

ROOT: Final = pathlib.Path(__file__).resolve().parent.parent
GOAL: Final = 1.20
BIN: Final = pathlib.Path(sys.executable).parent
USER_FILE: Final = """\
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def layer(x: Float[Array, "8 3"], w: Float[Array, "3 5"]) -> Float[Array, "8 4"]:
    return jax.nn.relu(x @ w)
"""
EXPECTED: Final = 'Incompatible return value type (got "Array[Literal[8], Literal[5]]"'
CRASH: Final = ("INTERNAL ERROR", "Traceback (most recent call last)")


class RunError(Exception):
    """A run whose status or messages are not those expected."""


def _command(name: str) -> list[str]:
    script = BIN / name
    if script.is_file():
        return [str(script)]
    if name == "cdl":
        return [sys.executable, str(ROOT / "_cdl_cli.py")]
    return [sys.executable, "-m", name]


def _baseline(config: str) -> str:
    """The configuration without cdl's plugin and without its stubs' path."""
    lines = []
    for line in config.splitlines():
        if line.startswith("plugins"):
            kept = [p.strip() for p in line.split("=", 1)[1].split(",")]
            line = "plugins = " + ", ".join(p for p in kept if "cdl" not in p)
        if not line.startswith("mypy_path"):
            lines.append(line)
    return "\n".join(lines) + "\n"


def _run(
    command: list[str], cwd: pathlib.Path, cache: pathlib.Path
) -> tuple[float, int, str]:
    env = {**os.environ, "MYPY_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    return seconds, done.returncode, done.stdout + done.stderr


def _checked(
    name: str, result: tuple[float, int, str], expected: tuple[int, str] | None
) -> float:
    seconds, status, output = result
    if any(c in output for c in CRASH) or status not in (0, 1):
        raise RunError(f"{name} failed (status {status}): {output[-400:]}")
    if expected is not None and (status, output) != expected:
        raise RunError(
            f"{name} printed other messages than mypy (status {status}, "
            f"expected {expected[0]}):\n{output[-400:]}"
        )
    return seconds


def measure(
    repeats: int, files: Sequence[pathlib.Path]
) -> dict[str, dict[str, list[float]]]:
    """Seconds of each command, cold and warm, `repeats` times each."""
    times: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="mypy-time-") as scratch:
        folder = pathlib.Path(scratch)
        project = folder / "project"
        project.mkdir()
        if files:
            targets = []
            for path in files:
                copy = project / path.name
                (shutil.copytree if path.is_dir() else shutil.copy)(path, copy)
                targets.append(path.name)
        else:
            (project / "layer.py").write_text(USER_FILE)
            targets = ["layer.py"]
        shown = subprocess.run(
            [*_command("cdl"), "check", "--show-config"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (folder / "cdl.ini").write_text(shown)
        (folder / "baseline.ini").write_text(_baseline(shown))
        commands = {
            "cdl check": [*_command("cdl"), "check", *targets],
            "mypy": [*_command("mypy"), "--config-file", str(folder / "cdl.ini")]
            + targets,
            "mypy, no cdl": [
                *_command("mypy"),
                "--config-file",
                str(folder / "baseline.ini"),
                *targets,
            ],
        }
        times = {name: {"cold": [], "warm": []} for name in commands}
        # the messages every run must print: plain mypy's, from an untimed run
        _, status, output = _run(commands["mypy"], project, folder / "reference")
        expected = status, output
        _checked("mypy", (0.0, status, output), None)
        if not files and EXPECTED not in output:
            raise RunError(f"mypy missed the shape bug:\n{output}")
        for run in range(repeats):
            order = list(commands)
            if run % 2:
                order.reverse()
            for kind in ("cold", "warm"):
                for name in order:
                    cache = folder / f"cache-{run}-{name.replace(' ', '_')}"
                    result = _run(commands[name], project, cache)
                    reference = None if name == "mypy, no cdl" else expected
                    times[name][kind].append(_checked(name, result, reference))
    return times


def main(repeats: int = 5, files: Sequence[pathlib.Path] = ()) -> int:
    """Measure and print; always exits 0."""
    what = " ".join(str(f) for f in files) or "one user file with a shape bug"
    print(f"cdl check and mypy on {what}: median of {repeats} runs (seconds)")
    try:
        times = measure(repeats, files)
    except RunError as error:
        print(f"invalid measurement: {error}")
        for name in ("check_cold", "check_warm", "cold_plugin", "warm_plugin"):
            print(f"target: mypy_{name}_overhead measured=nan goal=<={GOAL:.2f} missed")
        return 0
    medians = {
        name: {kind: statistics.median(v) for kind, v in kinds.items()}
        for name, kinds in times.items()
    }
    print(f"{'':16}{'cold':>10}{'warm':>10}")
    for name, row in medians.items():
        print(f"{name:16}{row['cold']:10.2f}{row['warm']:10.2f}")
    ratios = {}
    for kind in ("cold", "warm"):
        check = medians["cdl check"][kind] / medians["mypy"][kind]
        plugin = medians["mypy"][kind] / medians["mypy, no cdl"][kind]
        ratios[f"mypy_check_{kind}_overhead"] = check
        ratios[f"mypy_{kind}_plugin_overhead"] = plugin
        print(f"{kind}: cdl check / mypy = {check:.3f}")
        print(f"{kind}: mypy with cdl / without = {plugin:.3f}")
    for name, ratio in ratios.items():
        verdict = "met" if ratio <= GOAL else "missed"
        print(f"target: {name} measured={ratio:.3f} goal=<={GOAL:.2f} {verdict}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("files", nargs="*", type=pathlib.Path)
    args = parser.parse_args()
    sys.exit(main(args.repeats, [f.resolve() for f in args.files]))
