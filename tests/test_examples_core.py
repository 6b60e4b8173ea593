"""The core's examples, run on small settings."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_linear_regression_recovers_the_line() -> None:
    intercept, slope = load("linear_regression").main(steps=300)
    assert abs(intercept - 3) < 0.05 and abs(slope - 7) < 0.1


def test_tied_autoencoder_learns() -> None:
    initial, final = load("tied_autoencoder").main(steps=100)
    assert final < 0.5 * initial


def test_shared_cell_learns_a_cube_root_of_the_quarter_turn() -> None:
    angle = load("shared_cell").main(steps=600)
    assert abs((3 * angle) % 360 - 90) < 1.0
