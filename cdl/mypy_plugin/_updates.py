"""``x.at[idx].set(v)`` and the other updates: `v` against the slot it updates.

jax broadcasts `v` to the shape of ``x[idx]`` (``jnp.broadcast_to``), so `v` may
have fewer axes than the slot, and axes of size 1, but not more axes nor another
size: those fail when traced. The result has the shape of `x`.
"""

from collections.abc import Sequence

from mypy.checker import TypeChecker
from mypy.nodes import CallExpr, Expression, IndexExpr, MemberExpr, TupleExpr
from mypy.plugin import MethodContext
from mypy.types import Instance, TupleType, Type, get_proper_type

from . import _messages
from ._indexing import indexed
from ._shapes import Arr, Dim, Mismatch, fixed_size, render
from ._types import ARRAY_CLASS, Env, array_dims, operand_dims, report, star

# Updates that take no value to broadcast.
_WITHOUT_VALUE = frozenset({"apply", "get"})


def index_update(env: Env, ctx: MethodContext) -> Type:
    """``x.at[i].set(v)``: the shape of `x`; `v` checked against ``x[i]``."""
    callee = ctx.context.callee if isinstance(ctx.context, CallExpr) else None
    ref = callee.expr if isinstance(callee, MemberExpr) else None
    helper = ref.base if isinstance(ref, IndexExpr) else None
    if (
        not isinstance(helper, MemberExpr)
        or helper.name != "at"
        or not isinstance(ctx.api, TypeChecker)
        or not isinstance(ref, IndexExpr)
    ):
        return ctx.default_return_type
    t = get_proper_type(ctx.api.lookup_type(helper.expr))
    if not isinstance(t, Instance) or t.type.fullname != ARRAY_CLASS:
        return ctx.default_return_type
    method = callee.name if isinstance(callee, MemberExpr) else ""
    if method in _WITHOUT_VALUE or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return t
    dims, value = array_dims(t), operand_dims(ctx.arg_types[0][0])
    slot = _slot(ctx.api, dims, ref.index)
    if slot is None or value is None or star(value):
        return t
    try:
        _fits(value, slot)
    except Mismatch as why:
        report(ctx.api, _messages.op(f"at[].{method}", str(why)), ctx.context)
    return t


def _slot(
    api: TypeChecker, dims: tuple[Dim, ...] | None, index: Expression
) -> tuple[Dim, ...] | None:
    """The shape of ``x[index]`` of an `x` of shape `dims` (None: unknown)."""
    if dims is None or star(dims):
        return None
    try:
        whole = get_proper_type(api.lookup_type(index))
    except KeyError:
        return None
    types: list[Type] = [whole]
    items = [index]
    if isinstance(index, TupleExpr):
        if not isinstance(whole, TupleType) or len(whole.items) != len(index.items):
            return None
        items, types = list(index.items), list(whole.items)
    try:
        found = indexed(api, dims, items, types)
    except Mismatch:
        return None  # the index itself is reported where it is read
    return None if found is None or star(found) else found


def _fits(value: Sequence[Dim], slot: Sequence[Dim]) -> None:
    """`Mismatch` unless `value` broadcasts to exactly `slot`."""
    shown = render(Arr(tuple(value))), render(Arr(tuple(slot)))
    if len(value) > len(slot):
        raise Mismatch(_messages.update_slot(*shown, more_axes=True))
    for v, s in zip(reversed(value), reversed(slot), strict=False):
        if v == 1 or v == s or (s == 1 and not isinstance(v, int)):
            continue  # a named size may be 1
        if fixed_size(v) and fixed_size(s):
            raise Mismatch(_messages.update_slot(*shown, more_axes=False))
