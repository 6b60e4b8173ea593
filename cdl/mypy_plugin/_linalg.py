"""Shapes of matrix decompositions and inverses: ``qr``, ``svd``, ``eigh``, ``inv``, ...

jax returns them as named tuples (``QRResult``, ``SVDResult``, ...) of unshaped
arrays. Each rule keeps jax's tuple and gives its items the shapes the
decomposition has: of a ``[..., m, n]`` matrix, ``qr``'s ``Q`` is ``[..., m, k]``
and ``R`` ``[..., k, n]`` with ``k = min(m, n)`` (``mode="complete"``: ``[m, m]``
and ``[m, n]``); ``svd``'s ``U``, ``S``, ``Vh`` are ``[m, m]``, ``[k]``, ``[n, n]``
(``full_matrices=False``: ``[m, k]``, ``[k]``, ``[k, n]``); ``eigh`` and ``eig``
of a square ``[..., n, n]`` give ``[..., n]`` values and ``[..., n, n]`` vectors;
``slogdet`` gives a sign and a log-determinant of the batch's shape; ``inv`` of a
square matrix and ``pinv`` of ``[..., m, n]`` are ``[..., n, m]``, ``det``
of the batch's shape: also where the call is an operand (``a @ inv(s)``), in whose
type context mypy would pick the stubs' unshaped variant. ``k`` of two
named sizes is unknown. Arguments that are not constants, and results given to
names bound again (`._bindings`), leave jax's answer; a matrix that is not square
where one must be is a ``[shape]`` error.
"""

from collections.abc import Callable, Sequence
from typing import Final

from mypy.checker import TypeChecker
from mypy.nodes import StrExpr
from mypy.plugin import FunctionContext
from mypy.types import Instance, TupleType, Type, get_proper_type

from . import _messages
from ._bindings import bound_once
from ._shapes import Arr, Dim, Star, render
from ._types import Env, array_dims, callee_name, fold_bool, given_arguments

_Rule = Callable[[Env, FunctionContext, list[Dim], Dim, Dim], list[list[Dim]] | None]


def _shorter(m: Dim, n: Dim) -> Dim:
    """``min(m, n)``: known for two sizes, or one size twice."""
    if isinstance(m, int) and isinstance(n, int):
        return min(m, n)
    return m if m is not None and m == n else None


def _flag(ctx: FunctionContext, name: str, default: bool) -> bool | None:
    expr = given_arguments(ctx).get(name)
    return default if expr is None else fold_bool(expr)


def _square(
    env: Env, ctx: FunctionContext, dims: Sequence[Dim], m: Dim, n: Dim
) -> Dim | None:
    """The side of the square matrix `m` by `n` (None, reported: not square)."""
    if m is not None and n is not None and m != n:
        why = _messages.not_square(render(Arr(tuple(dims))))
        env.fail(ctx.api, ctx.context, callee_name(ctx.context), why)
        return None
    return m if m is not None else n


def _qr(
    env: Env, ctx: FunctionContext, batch: list[Dim], m: Dim, n: Dim
) -> list[list[Dim]] | None:
    mode = given_arguments(ctx).get("mode")
    if mode is not None and not isinstance(mode, StrExpr):
        return None
    kind = "reduced" if mode is None else mode.value
    k = _shorter(m, n)
    if kind == "reduced":
        return [[*batch, m, k], [*batch, k, n]]
    if kind in ("complete", "full"):
        return [[*batch, m, m], [*batch, m, n]]
    if kind == "r":
        return [[*batch, k, n]]
    return None


def _svd(
    env: Env, ctx: FunctionContext, batch: list[Dim], m: Dim, n: Dim
) -> list[list[Dim]] | None:
    if "subset_by_index" in given_arguments(ctx):
        return None
    full, uv = _flag(ctx, "full_matrices", True), _flag(ctx, "compute_uv", True)
    k = _shorter(m, n)
    if uv is False:
        return [[*batch, k]]
    if uv is None or full is None:
        return None
    if full:
        return [[*batch, m, m], [*batch, k], [*batch, n, n]]
    return [[*batch, m, k], [*batch, k], [*batch, k, n]]


def _of_a_square(shapes: Callable[[list[Dim], Dim], list[list[Dim]]]) -> _Rule:
    """The rule of a function of a square matrix, ``shapes(batch, side)``.

    A matrix whose two sides are known to differ is reported (and the rule gives
    no shapes).
    """

    def rule(
        env: Env, ctx: FunctionContext, batch: list[Dim], m: Dim, n: Dim
    ) -> list[list[Dim]] | None:
        side = _square(env, ctx, [*batch, m, n], m, n)
        if side is None and (m is not None or n is not None):
            return None
        return shapes(batch, side)

    return rule


_eig = _of_a_square(lambda batch, side: [[*batch, side], [*batch, side, side]])
_eigvals = _of_a_square(lambda batch, side: [[*batch, side]])
_slogdet = _of_a_square(lambda batch, side: [list(batch), list(batch)])
_inverse = _of_a_square(lambda batch, side: [[*batch, side, side]])
_determinant = _of_a_square(lambda batch, side: [list(batch)])


def _pseudo_inverse(
    env: Env, ctx: FunctionContext, batch: list[Dim], m: Dim, n: Dim
) -> list[list[Dim]] | None:
    return [[*batch, n, m]]


_RULES: Final[dict[str, _Rule]] = {
    "inv": _inverse,
    "pinv": _pseudo_inverse,
    "det": _determinant,
    "eigvalsh": _eigvals,
    "qr": _qr,
    "svd": _svd,
    "eigh": _eig,
    "eig": _eig,
    "eigvals": _eigvals,
    "slogdet": _slogdet,
}
DECOMPOSITIONS: Final = frozenset(
    {
        f"jax.numpy.linalg.{name}"
        for name in ("qr", "svd", "eigh", "inv", "pinv", "det", "eigvalsh")
    }
    | {f"jax._src.numpy.linalg.{name}" for name in ("eig", "eigvals", "slogdet")}
)


def decomposition(env: Env, ctx: FunctionContext, fullname: str) -> Type:
    """The shapes of the results of `fullname` (jax's own answer where unknown)."""
    rule = _RULES.get(fullname.rpartition(".")[2])
    if rule is None or not ctx.arg_types or len(ctx.arg_types[0]) != 1:
        return ctx.default_return_type
    dims = array_dims(ctx.arg_types[0][0])
    if dims is None or len(dims) < 2 or any(isinstance(d, Star) for d in dims[-2:]):
        return ctx.default_return_type
    *batch, m, n = dims
    shapes = rule(env, ctx, batch, m, n)
    default = get_proper_type(ctx.default_return_type)
    if shapes is None:
        return ctx.default_return_type
    if isinstance(default, TupleType) and len(default.items) == len(shapes):
        if not isinstance(ctx.api, TypeChecker) or not bound_once(ctx.api, ctx.context):
            return ctx.default_return_type
        items = [
            env.array(s, item) for s, item in zip(shapes, default.items, strict=True)
        ]
        return default.copy_modified(items=items)
    if isinstance(default, Instance) and len(shapes) == 1:
        return env.array(shapes[0], default)
    return ctx.default_return_type
