"""An unshaped array prints as ``Array`` in mypy's messages.

The stubs make ``jax.Array`` generic in a variadic shape whose default is any shape,
so mypy writes a bare ``Array`` as ``Array[*tuple[Any, ...]]`` in every message
that mentions one. mypy has no hook for how a type is written, but it passes every
message it records through the error watchers on its stack
(``mypy.errors.ErrorWatcher``), and a watcher's filter may be a function. The plugin
keeps one at the bottom of the stack that rewrites the text and filters nothing,
put there by the first hook mypy calls; mypy calls one wherever an annotation names
``Array``, before it reports anything about one.

>>> unshaped('expected "Array[*tuple[Any, ...]] | PaddedList"')
'expected "Array | PaddedList"'
>>> unshaped("got Array[Literal[3], *tuple[Any, ...]]")
'got Array[Literal[3], *tuple[Any, ...]]'
"""

from typing import Final

from mypy.errors import ErrorInfo, Errors, ErrorWatcher
from mypy.plugin import AnalyzeTypeContext
from mypy.types import Type

# How mypy writes a bare Array: with PEP 646's star, or before Python 3.11 with Unpack.
_ANY_SHAPE: Final = ("Array[*tuple[Any, ...]]", "Array[Unpack[tuple[Any, ...]]]")


def unshaped(text: str) -> str:
    """`text` with every array of any shape written ``Array``."""
    for written in _ANY_SHAPE:
        text = text.replace(written, "Array")
    return text


def _rewrite(file: str, info: ErrorInfo) -> bool:
    info.message = unshaped(info.message)
    return False  # nothing is filtered out


def install(api: object) -> None:
    """Keep the rewriting watcher at the bottom of the error stack of mypy's `api`.

    `api` is what a hook's context holds: the type checker, the semantic analyser
    or a type analyser. The watcher is added once (again after mypy resets its
    errors).
    """
    errors = _errors(api)
    if errors is None:
        return
    stack = errors._watchers
    if stack and stack[0]._filter is _rewrite:
        return
    stack.insert(0, ErrorWatcher(errors, filter_errors=_rewrite))


def _errors(api: object) -> Errors | None:
    for found in (
        getattr(getattr(api, "msg", None), "errors", None),
        getattr(api, "errors", None),
        getattr(getattr(api, "api", None), "errors", None),
    ):
        if isinstance(found, Errors):
            return found
    return None


class ArrayAnnotations:
    """mypy's own reading of an annotation naming ``Array``, the watcher put first.

    **Returns:** the hook's holder; `reading` says whether mypy's own reading is
    under way (the plugin then claims nothing, so mypy reads it as it would).

    >>> ArrayAnnotations().reading
    False
    """

    def __init__(self) -> None:
        self.reading = False

    def analyze(self, ctx: AnalyzeTypeContext) -> Type:
        """What mypy makes of the annotation, after installing the watcher."""
        install(ctx.api)
        self.reading = True
        try:
            return ctx.api.analyze_type(ctx.type)
        finally:
            self.reading = False
