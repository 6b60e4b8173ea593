"""Fields of a named tuple read from a value whose items have shapes.

mypy types a named tuple as a tuple of its items with the class behind it: an
attribute (``qr(a).Q``, ``batch.x``) is read from the class, whose fields declare
what every instance may hold (``QRResult``'s unshaped arrays, a ``Batch`` whose
``"b 784"`` is any ``b``), while unpacking (``q, r = qr(a)``) reads the items.
A field read here is the item, so both ways give the shapes a call computed
(`._linalg`) or a constructor bound (`._calls`).

A constructor's value has the sizes its arguments bound (``Batch(x, y)`` of a
``[32, 784]`` image batch is ``Batch`` of ``[32, 784]`` and ``[32]``), unless it
is assigned to a name bound again (`._bindings`): the name keeps the type of
its definition, which another size would contradict.
"""

from mypy.checker import TypeChecker
from mypy.nodes import TypeInfo
from mypy.plugin import AttributeContext, FunctionContext, MethodContext
from mypy.types import Instance, TupleType, Type, get_proper_type

from ._bindings import bound_once
from ._shapes import Dim
from ._types import ARRAY_CLASS, Shapes, array_dims, tag_of


def is_named_tuple(info: TypeInfo | None) -> bool:
    """Whether `info` is a named tuple class."""
    return (
        info is not None
        and info.tuple_type is not None
        and "namedtuple" in info.metadata
    )


def field_index(info: TypeInfo, name: str) -> int | None:
    """The position of the field `name` of the named tuple `info` (None: not one)."""
    fields = info.metadata.get("namedtuple", {}).get("fields")
    if info.tuple_type is None or not isinstance(fields, list) or name not in fields:
        return None
    return fields.index(name)


def field(ctx: AttributeContext, index: int) -> AttributeContext:
    """`ctx` whose attribute type is the item at `index` of the tuple read.

    Only an array item is taken: other fields keep what mypy reads.
    """
    t = get_proper_type(ctx.type)
    if ctx.is_lvalue or not isinstance(t, TupleType) or index >= len(t.items):
        return ctx
    item = t.items[index]
    if array_dims(item) is None or array_dims(ctx.default_attr_type) is None:
        return ctx
    return ctx._replace(default_attr_type=item)


def constructed(
    ctx: FunctionContext | MethodContext,
    result: Type,
    bound: dict[str, Dim],
    shapes: Shapes,
) -> Type:
    """`result`, a named tuple just built, its fields' names bound to their sizes."""
    t = get_proper_type(result)
    if (
        not isinstance(t, TupleType)
        or t.partial_fallback.type.tuple_type is None
        or not isinstance(ctx.api, TypeChecker)
        or not bound_once(ctx.api, ctx.context)
    ):
        return result
    return t.copy_modified(items=[_sized(i, bound, shapes) for i in t.items])


def _sized(item: Type, bound: dict[str, Dim], shapes: Shapes) -> Type:
    """An array `item` whose named sizes are replaced by those `bound`."""
    t = get_proper_type(item)
    if not isinstance(t, Instance) or t.type.fullname != ARRAY_CLASS:
        return item
    args: list[Type] = []
    for arg in t.args:
        tag = tag_of(get_proper_type(arg))
        size = bound.get(tag[1]) if tag is not None and tag[0] == "dim" else None
        args.append(arg if size is None else shapes.dim_type(size))
    return t.copy_modified(args=args)


def replaced(ctx: MethodContext) -> Type:
    """``t._replace(h=v)``: the items of `t`, the field `h` of `v`'s type.

    mypy gives it the type of `t`, whose shapes `h` may no longer have.
    """
    t = get_proper_type(ctx.type)
    if not isinstance(t, TupleType) or not isinstance(ctx.api, TypeChecker):
        return ctx.default_return_type
    info = t.partial_fallback.type
    fields = info.metadata.get("namedtuple", {}).get("fields")
    declared = info.tuple_type
    if not isinstance(fields, list) or declared is None:
        return ctx.default_return_type
    if not bound_once(ctx.api, ctx.context):
        # The fields' declared types, behind the class (not ``tuple``'s).
        return t.copy_modified(items=list(declared.items))
    items = list(t.items)
    for name, types in zip(ctx.callee_arg_names, ctx.arg_types, strict=False):
        if name in fields and len(types) == 1:
            at = fields.index(name)
            given = types[0] if array_dims(types[0]) is not None else None
            items[at] = declared.items[at] if given is None else given
    return t.copy_modified(items=items)
