"""cdl's mypy plugin: shape errors of architectures as type errors.

Enable it beside returns' plugin in ``mypy.ini``::

    [mypy]
    mypy_path = typeshed_ext
    plugins = returns.contrib.mypy.returns_plugin, cdl.mypy_plugin

See ``docs/static-shapes.md`` for what it checks.
"""

from mypy.plugin import Plugin

from ._plugin import CdlPlugin as CdlPlugin


def plugin(version: str) -> type[Plugin]:
    """The entry point mypy calls: cdl's plugin class, for any mypy version.

    **Arguments:** `version`, mypy's version string.

    **Returns:** the plugin class.

    >>> plugin("2.4.1").__name__
    'CdlPlugin'
    """
    return CdlPlugin
