"""Results computed once per live object, kept beside it rather than on it."""

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

_memo: dict[tuple[int, str], tuple[weakref.ref[Any], Any]] = {}


def remembered(owner: object, what: str, compute: Callable[[], _T]) -> _T:
    """`compute()`, once per live `owner` and name `what`.

    A morphism's spaces depend only on its static structure, and modules are
    immutable, so a result can be kept while `owner` lives. Keeping it on the
    instance would change its pytree structure.

    **Arguments:** `owner`, any weakly referenceable object; `what`, a name for
    the result; `compute`, called the first time only.

    **Returns:** the remembered result.

    >>> class Owner: ...
    >>> o = Owner()
    >>> remembered(o, "n", lambda: 1), remembered(o, "n", lambda: 2)
    (1, 1)
    """
    key = (id(owner), what)
    entry = _memo.get(key)
    if entry is not None and entry[0]() is owner:
        value: _T = entry[1]
        return value
    value = compute()
    _memo[key] = (weakref.ref(owner, lambda _: _memo.pop(key, None)), value)
    return value
