"""mypy's cache of a module is keyed by all of cdl's plugin, not its entry alone.

mypy tracks a plugin's entry module; the plugin reports a digest of all its sources
(`report_config_data`), so that an upgrade changing another of its modules re-checks
what the older plugin left in a project's cache.
"""

import pathlib
import shutil

from mypy.options import Options
from mypy.plugin import ReportConfigContext

from cdl.mypy_plugin._plugin import CdlPlugin, sources_digest

PLUGIN = pathlib.Path(__file__).resolve().parent.parent / "cdl" / "mypy_plugin"


def test_the_digest_follows_every_module_of_the_plugin(tmp_path: pathlib.Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(PLUGIN, before, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(before, after)
    with (after / "_shapes.py").open("a") as source:
        source.write("\n# a later version\n")
    assert sources_digest(before) != sources_digest(after)
    assert sources_digest(before) == sources_digest(PLUGIN)


def test_the_plugin_reports_the_digest_to_mypy() -> None:
    plugin = CdlPlugin(Options())
    context = ReportConfigContext(id="m", path="m.py", is_check=True)
    assert plugin.report_config_data(context) == sources_digest(PLUGIN)
