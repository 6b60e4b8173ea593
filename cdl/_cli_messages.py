"""Every error text of the ``cdl`` command line, in one place.

>>> bad_spec("model.py")
"MODEL must be FILE.py:NAME or MODULE:NAME, not 'model.py'."
"""

from pathlib import Path

from ._messages import with_article


def bad_lengths(text: str) -> str:
    """Text of the error for a --lengths that is not positive integers."""
    return f"--lengths must be positive integers separated by commas, not {text!r}."


def bad_suffix(option: str, path: Path) -> str:
    """Text of the error for a picture to write that is not SVG, PNG or PDF."""
    found = path.suffix or path.name
    return f"{option} must end in .svg, .png or .pdf, not {found!r}."


def no_folder(option: str, path: Path) -> str:
    """Text of the error for a picture to write in a folder that does not exist."""
    return f"{option}: no folder {str(path.parent)!r} to write {path.name!r} in."


def is_folder(option: str, path: Path) -> str:
    """Text of the error for a picture to write that names a folder."""
    return f"{option}: {str(path)!r} is a folder; name a file to write."


def bad_spec(spec: str) -> str:
    """Text of the error for a MODEL that is not FILE.py:NAME or MODULE:NAME."""
    return f"MODEL must be FILE.py:NAME or MODULE:NAME, not {spec!r}."


def no_file(source: str, spec: str) -> str:
    """Text of the error for a MODEL whose file does not exist."""
    return f"no such file {source!r} (from MODEL {spec!r})."


def no_module(source: str, error: ImportError) -> str:
    """Text of the error for a MODEL whose module cannot be imported."""
    return f"cannot import {source!r}: {error}."


def no_name(source: str, name: str) -> str:
    """Text of the error for a MODEL whose file or module lacks the name."""
    return f"{source} defines no {name!r}."


def not_para(spec: str, value: object) -> str:
    """Text of the error for a MODEL that names no `cdl.Para` morphism."""
    return (
        f"{spec} is {with_article(type(value).__name__)}, not a cdl.Para morphism "
        f"(or a function returning one)."
    )


def needs_arguments(spec: str, parameters: str) -> str:
    """Text of the error for a MODEL naming a function that needs arguments."""
    return (
        f"{spec} takes arguments {parameters}: MODEL must name a cdl.Para "
        f"morphism or a function of no arguments returning one."
    )


def aborted() -> str:
    """The line printed when a command is aborted."""
    return "cdl: aborted."


def error_line(text: str) -> str:
    """The line printed on stderr for a bad argument, from its text."""
    return f"cdl: error: {text}"
