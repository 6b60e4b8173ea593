"""Type aliases of jaxtyping annotations keep their shapes.

mypy reads the right-hand side of ``Vec: TypeAlias = Float[Array, "3"]`` (or of
``Model: TypeAlias = cdl.Para[Float[Array, "n 8"], Float[Array, "10"]]``) as an
expression, and drops ``Annotated``'s metadata there: the alias would be a bare
``Array``. Where such an alias is used in an annotation, the plugin reads the
alias's definition again and gives the annotation the shapes written in it, as if
the alias's text were written in its place: its named dimensions belong to the
function or class whose annotation uses it (jaxtyping binds them per call too).
"""

from collections.abc import Callable

from mypy.errors import Errors
from mypy.nodes import (
    AssignmentStmt,
    Expression,
    IndexExpr,
    MypyFile,
    NameExpr,
    TypeAlias,
)
from mypy.options import Options
from mypy.parse import parse
from mypy.plugin import AnalyzeTypeContext
from mypy.types import AnyType, Type, TypeOfAny

from ._annotations import rigid_dim, shape_expr
from ._names import JAXTYPING_DTYPES
from ._shapes import Dim
from ._types import ARRAY_CLASS, Shapes


class Aliases:
    """The definitions of module-level type aliases that contain jaxtyping types.

    **Arguments:** `modules`, mypy's trees by module name (a module read from
    mypy's cache has no tree: its source is parsed again); `options`, mypy's.

    **Returns:** the finder.

    >>> from mypy.options import Options
    >>> Aliases({}, Options()).definition("m.Vec", None) is None
    True
    """

    def __init__(self, modules: dict[str, MypyFile], options: Options) -> None:
        self._modules = modules
        self._options = options
        self._found: dict[str, Expression | None] = {}
        self._parsed: dict[str, MypyFile] = {}

    def definition(self, fullname: str, node: object) -> Expression | None:
        """The right-hand side defining the alias `fullname`, if it has jaxtyping types.

        `node` is what `fullname` names; only a non-generic `TypeAlias` counts.
        """
        if not isinstance(node, TypeAlias) or node.alias_tvars:
            return None
        if fullname not in self._found:
            module, _, name = fullname.rpartition(".")
            tree = self._tree(module)
            found = None if tree is None else _assigned(tree, name, node.line)
            self._found[fullname] = found if found and _has_jaxtyping(found) else None
        return self._found[fullname]

    def _tree(self, module: str) -> MypyFile | None:
        tree = self._modules.get(module)
        if tree is None or tree.defs:
            return tree
        if module not in self._parsed:
            try:
                with open(tree.path, encoding="utf-8") as source:
                    text = source.read()
            except OSError:
                return None
            errors = Errors(self._options)
            self._parsed[module] = parse(
                text, tree.path, module, errors, self._options, eager=True
            )
        return self._parsed[module]


def _assigned(tree: MypyFile, name: str, line: int) -> Expression | None:
    """The value bound to `name` at `line` of `tree` (-1: an alias from the cache)."""
    for stmt in tree.defs:
        if (
            isinstance(stmt, AssignmentStmt)
            and line in (stmt.line, -1)
            and len(stmt.lvalues) == 1
            and isinstance(stmt.lvalues[0], NameExpr)
            and stmt.lvalues[0].name == name
        ):
            return stmt.rvalue
    return None


def _has_jaxtyping(expr: Expression) -> bool:
    """Whether `expr` subscripts a jaxtyping dtype anywhere (``Float[...]``)."""
    if not isinstance(expr, IndexExpr):
        return False
    base = getattr(expr.base, "name", None)
    if base in JAXTYPING_DTYPES:
        return True
    index = expr.index
    items = getattr(index, "items", [index])
    return any(_has_jaxtyping(e) for e in items)


def expand(
    ctx: AnalyzeTypeContext, alias: TypeAlias, expr: Expression, *, rigid: bool
) -> Type:
    """The alias `alias` (defined by `expr`) where it is used, with its shapes."""
    array = ctx.api.named_type(ARRAY_CLASS, [])
    shapes = Shapes(
        array.type,
        ctx.api.named_type("builtins.tuple", [AnyType(TypeOfAny.special_form)]),
        ctx.api.named_type("builtins.int", []),
        ctx.api.named_type("builtins.object", []),
    )
    scoped: Callable[[Dim], Dim] = (
        (lambda d: rigid_dim(ctx, d)) if rigid else (lambda d: d)
    )
    return shape_expr(expr, alias.target, lambda d: shapes.dim_type(scoped(d)))
