"""The plugin's entry for ``mypy.ini`` by file, without importing cdl's run time.

``plugins = cdl.mypy_plugin`` makes Python import the ``cdl`` package first, and with
it jax and equinox: about two seconds added to every mypy run, even on a warm cache.
Naming this file instead loads only the plugin's own modules::

    [mypy]
    plugins = returns.contrib.mypy.returns_plugin, cdl/mypy_plugin/cdl_shape_plugin.py

>>> plugin("2.4.1").__name__
'CdlPlugin'
"""

import importlib.util
import pathlib
import sys
from types import ModuleType
from typing import Final

_NAME: Final = "_cdl_mypy_plugin"


def _load() -> ModuleType:
    """The plugin package, imported on its own under a private name."""
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    here = pathlib.Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        _NAME, here / "__init__.py", submodule_search_locations=[str(here)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load cdl's mypy plugin from {here}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


plugin = _load().plugin
