"""How much time cdl's shape checking adds to mypy, cold and warm, on ``examples/``.

Runs ``mypy examples`` with the repository's ``mypy.ini`` (plugin and shape-aware
stubs) and with the same configuration minus both, each with a fresh cache (cold) and
then again on that cache (warm). Prints the medians and the ratios, then one target
line per measurement.

    python benchmarks/mypy_time.py [--repeats 3]
"""

import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Final

ROOT: Final = pathlib.Path(__file__).resolve().parent.parent
GOAL: Final = 1.20


def _baseline_config(folder: pathlib.Path) -> pathlib.Path:
    """The repository's mypy.ini without cdl's plugin and without its stubs."""
    lines = []
    for line in (ROOT / "mypy.ini").read_text().splitlines():
        if line.startswith("plugins"):
            kept = [p.strip() for p in line.split("=", 1)[1].split(",")]
            kept = [p for p in kept if "mypy_plugin" not in p]
            line = "plugins = " + ", ".join(kept)
        if line.startswith("mypy_path"):
            continue
        lines.append(line)
    path = folder / "baseline.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def _mypy(config: pathlib.Path, cache: pathlib.Path, targets: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(cache),
            *targets,
        ],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start


def measure(repeats: int, targets: list[str]) -> dict[str, dict[str, float]]:
    """Median cold and warm seconds, with and without the plugin."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = pathlib.Path(scratch)
        configs = {"plugin": ROOT / "mypy.ini", "baseline": _baseline_config(folder)}
        times: dict[str, dict[str, list[float]]] = {
            name: {"cold": [], "warm": []} for name in configs
        }
        for run in range(repeats):
            for name, config in configs.items():
                cache = folder / f"cache-{name}-{run}"
                times[name]["cold"].append(_mypy(config, cache, targets))
                times[name]["warm"].append(_mypy(config, cache, targets))
        for name, kinds in times.items():
            results[name] = {k: statistics.median(v) for k, v in kinds.items()}
    return results


def main(repeats: int = 3, targets: tuple[str, ...] = ("examples",)) -> int:
    """Measure and print; always exits 0."""
    results = measure(repeats, list(targets))
    print(f"mypy {' '.join(targets)}: median of {repeats} runs (seconds)")
    print(f"{'':10}{'cold':>10}{'warm':>10}")
    for name, row in results.items():
        print(f"{name:10}{row['cold']:10.2f}{row['warm']:10.2f}")
    for kind in ("cold", "warm"):
        ratio = results["plugin"][kind] / results["baseline"][kind]
        print(f"{kind}: plugin / baseline = {ratio:.3f}")
    for kind in ("cold", "warm"):
        ratio = results["plugin"][kind] / results["baseline"][kind]
        verdict = "met" if ratio < GOAL else "missed"
        print(
            f"target: mypy_{kind}_plugin_overhead measured={ratio:.3f} "
            f"goal=<{GOAL:.2f} {verdict}"
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("targets", nargs="*", default=["examples"])
    args = parser.parse_args()
    sys.exit(main(args.repeats, tuple(args.targets)))
