"""An unshaped array prints as ``Array`` in mypy's messages.

The stubs make ``jax.Array`` generic in a variadic shape whose default is any shape,
so mypy writes a bare ``Array`` as ``Array[*tuple[Any, ...]]`` in every message
that mentions one. mypy has no hook for how a type is written, but it passes every
message it records through the error watchers on its stack
(``mypy.errors.ErrorWatcher``), and a watcher's filter may be a function. The plugin
keeps one at the bottom of the stack that rewrites the text, put there by the first
hook mypy calls; mypy calls one wherever an annotation names ``Array``, before it
reports anything about one.

>>> unshaped('expected "Array[*tuple[Any, ...]] | PaddedList"')
'expected "Array | PaddedList"'
>>> unshaped("got Array[Literal[3], *tuple[Any, ...]]")
'got Array[Literal[3], *tuple[Any, ...]]'

The same watcher drops an error about a name whose value is unknown: a name re-bound
to an untyped value (``x = layer(x)`` with ``layer`` of type ``Any``) has any shape,
as it has without the plugin, though mypy keeps its declared shape
(`._unknown`).
"""

import gc
from typing import Final

from mypy.checker import TypeChecker
from mypy.errors import ErrorInfo, Errors, ErrorWatcher
from mypy.plugin import AnalyzeTypeContext
from mypy.types import (
    AnyType,
    Instance,
    Type,
    TypeOfAny,
    UnpackType,
    get_proper_type,
)

from ._overrides import renamed_only, super_renamed
from ._unknown import replaced, unknown

# How mypy writes a bare Array: with PEP 646's star, or before Python 3.11 with Unpack.
_ANY_SHAPE: Final = ("Array[*tuple[Any, ...]]", "Array[Unpack[tuple[Any, ...]]]")


def unshaped(text: str) -> str:
    """`text` with every array of any shape written ``Array``."""
    for written in _ANY_SHAPE:
        text = text.replace(written, "Array")
    return text


# The type checker of the module being checked, once a hook has run in it.
_CHECKER: list[TypeChecker] = []
_ERRORS: list[Errors] = []


def _rewrite(file: str, info: ErrorInfo) -> bool:
    info.message = unshaped(info.message)
    if replaced(file, info):
        return True
    shaped = "Array[" in info.message or "f32[" in info.message
    if not shaped and (info.code is None or info.code.code != "override"):
        return False
    try:
        checker = _checker(file)
        if checker is None:
            return False
        return (
            renamed_only(checker, info)
            or super_renamed(checker, info)
            or (shaped and unknown(checker, info))
        )
    except Exception:  # a plugin bug must not stop type checking
        return False


def _checker(file: str) -> TypeChecker | None:
    """The type checker of `file`, the module whose error is being recorded.

    A hook keeps it (`install`); before any hook has run in the module, it is
    found as what refers to the scope that mypy's errors hold, which is the
    checker's own.
    """
    if _CHECKER and _CHECKER[0].path == file:
        return _CHECKER[0]
    scope = _ERRORS[0].scope if _ERRORS else None
    for found in gc.get_referrers(scope) if scope is not None else []:
        if isinstance(found, TypeChecker) and found.path == file:
            _CHECKER[:] = [found]
            return found
    return None


def install(api: object) -> None:
    """Keep the rewriting watcher at the bottom of the error stack of mypy's `api`.

    `api` is what a hook's context holds: the type checker, the semantic analyser
    or a type analyser. The watcher is added once (again after mypy resets its
    errors); a type checker is kept for the errors of its module.
    """
    if isinstance(api, TypeChecker) and (not _CHECKER or _CHECKER[0] is not api):
        _CHECKER[:] = [api]
    errors = _errors(api)
    if errors is None:
        return
    _ERRORS[:] = [errors]
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
        """What mypy makes of the annotation, after installing the watcher.

        A bare ``Array`` is ``Array[*tuple[Any, ...]]``, the default of its shape;
        that ``Any`` is made a special form, as mypy's own implicit ones are, so
        that a bare array is no explicit ``Any`` to mypy: an overloaded callee
        (``eqx.filter_grad(loss, has_aux=True)``) of a function of bare arrays
        would otherwise match several variants ambiguously and give an untyped
        callable.
        """
        install(ctx.api)
        self.reading = True
        try:
            return _implicit_shape(ctx.api.analyze_type(ctx.type))
        finally:
            self.reading = False


def _implicit_shape(typ: Type) -> Type:
    """`typ`, a bare ``Array``'s default shape made of a special-form ``Any``."""
    t = get_proper_type(typ)
    if not isinstance(t, Instance) or len(t.args) != 1:
        return typ
    arg = t.args[0]
    if not isinstance(arg, UnpackType):
        return typ
    inner = get_proper_type(arg.type)
    if not isinstance(inner, Instance) or inner.type.fullname != "builtins.tuple":
        return typ
    item = get_proper_type(inner.args[0]) if len(inner.args) == 1 else None
    if not isinstance(item, AnyType) or item.type_of_any == TypeOfAny.special_form:
        return typ
    anything = inner.copy_modified(args=[AnyType(TypeOfAny.special_form)])
    return t.copy_modified(args=[UnpackType(anything)])
