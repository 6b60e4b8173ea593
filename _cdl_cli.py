"""The ``cdl`` command's entry point: ``cdl check`` without importing cdl first.

Importing anything from the ``cdl`` package runs ``cdl/__init__.py``, which
imports jax and equinox (about two seconds). ``cdl check`` needs none of it: this
module loads ``cdl/_check.py`` by file and lets it hand the process to mypy.
Every other command (and ``cdl check --help``) runs `cdl.cli.main`.
"""

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

_NAME = "_cdl_check"


def _check_module() -> ModuleType | None:
    """``cdl/_check.py`` loaded on its own, or None when cdl cannot be found."""
    spec = importlib.util.find_spec("cdl")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "_check.py"
        if path.is_file():
            loaded = importlib.util.spec_from_file_location(_NAME, path)
            if loaded is None or loaded.loader is None:
                return None
            module = importlib.util.module_from_spec(loaded)
            sys.modules[_NAME] = module
            loaded.loader.exec_module(module)
            return module
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cdl`` command line; return its exit status.

    **Arguments:** `argv`, the arguments (default: ``sys.argv[1:]``).

    **Returns:** the status of `cdl.cli.main`; ``cdl check`` exits with mypy's.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"] and not {"-h", "--help"} & set(args):
        check = _check_module()
        if check is not None:
            check.run(args[1:])
    from cdl.cli import main as full

    return full(args)


if __name__ == "__main__":
    sys.exit(main())
