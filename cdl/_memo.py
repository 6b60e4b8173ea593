"""Results computed once per live object, kept beside it rather than on it."""

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

_T = TypeVar("_T")

_memo: dict[tuple[int, Hashable], tuple[weakref.ref[Any], Any]] = {}


def remembered(
    owner: object,
    what: Hashable,
    compute: Callable[[], _T],
    keep: Callable[[_T], bool] | None = None,
) -> _T:
    """`compute()`, once per live `owner` and name `what`.

    A morphism's spaces depend only on its static structure, and modules are
    immutable, so a result can be kept while `owner` lives. Keeping it on the
    instance would change its pytree structure.

    **Arguments:** `owner`, any weakly referenceable object; `what`, a name (any
    hashable key) for the result; `compute`, called the first time only; `keep`,
    whether a result is kept (by default every one is).

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
    if keep is not None and not keep(value):
        return value
    _memo[key] = (weakref.ref(owner, lambda _: _memo.pop(key, None)), value)
    return value
