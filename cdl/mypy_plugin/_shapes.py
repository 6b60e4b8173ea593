"""Shapes as the plugin sees them, with unification and the shape rules of jax ops.

A space is an array shape (`Arr`), a pair or tuple of spaces (`Tup`), a space variable
(`SpaceVar`, the ``A`` of ``Identity[A]``) or `Opaque` (anything the plugin does not
model, e.g. a user's pytree). A dimension is a known size (`int`), `None` (unknown),
a named dimension (`Sym`), a dimension variable (`Var`), or a variadic run (`Star`).

A named dimension of the function or class being checked is rigid, as a type
variable is: it equals itself only, so ``n`` against ``d`` or against ``3`` is a
mismatch. A dimension unknown statically (`None`) agrees with every size. At a call,
the callee's named dimensions become variables (`Var`) bound from the arguments;
jaxtyping's arithmetic (``n+1``, ``2*d``) is solved when one name is unbound.

>>> u = Unifier()
>>> u.unify(Arr((Var("n"), 3)), Arr((2, 3)))
>>> u.resolve(Arr((Var("n"),)))
Arr(dims=(2,))
>>> u.unify(Arr((Var("n"),)), Arr((5,)))
Traceback (most recent call last):
...
cdl.mypy_plugin._shapes.Mismatch: dimension 2 != 5
"""

import ast
import dataclasses
import math
from collections.abc import Sequence
from typing import TypeAlias


class Mismatch(Exception):
    """Two shapes cannot agree: the text says where."""


@dataclasses.dataclass(frozen=True)
class Sym:
    """A named dimension of an annotation; `scope` (a function or class) makes it rigid.

    Its `name` may be jaxtyping arithmetic of names, e.g. ``2*d``.
    """

    name: str
    scope: str | None = dataclasses.field(default=None, compare=False)

    @property
    def rigid(self) -> bool:
        """Whether it equals itself only (a dimension of a scope being checked)."""
        return self.scope is not None


@dataclasses.dataclass(frozen=True)
class Var:
    """A dimension variable of a morphism's signature, bound by unification."""

    name: str


@dataclasses.dataclass(frozen=True)
class Star:
    """A variadic run of dimensions; `var` when unification may bind it."""

    name: str | None
    var: bool = False


Dim: TypeAlias = int | Sym | Var | Star | None


@dataclasses.dataclass(frozen=True)
class Arr:
    """An array space: its dimensions, with at most one `Star`."""

    dims: tuple[Dim, ...]


@dataclasses.dataclass(frozen=True)
class Tup:
    """A product of spaces: a Python tuple of values."""

    items: tuple["Space", ...]


@dataclasses.dataclass(frozen=True)
class SpaceVar:
    """A space variable of a structural map's signature."""

    name: str


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A space the plugin does not model; it agrees with every space."""

    origin: object = dataclasses.field(default=None, compare=False)


Space: TypeAlias = Arr | Tup | SpaceVar | Opaque


def base_name(name: str) -> str:
    """A variable's name without the suffix that made it fresh."""
    return name.split("'", 1)[0]


def render_dim(dim: Dim) -> str:
    """How a dimension is written in messages."""
    if isinstance(dim, bool) or dim is None:
        return "?"
    if isinstance(dim, int):
        return str(dim)
    if isinstance(dim, Star):
        return "*" + base_name(dim.name) if dim.name else "..."
    return base_name(dim.name)


def render(space: Space) -> str:
    """How a space is written in messages, e.g. ``f32[32,784]``.

    >>> render(Tup((Arr((3,)), Arr((None, 4)))))
    '(f32[3], f32[?,4])'
    """
    if isinstance(space, Arr):
        return "f32[" + ",".join(render_dim(d) for d in space.dims) + "]"
    if isinstance(space, Tup):
        return "(" + ", ".join(render(s) for s in space.items) + ")"
    if isinstance(space, SpaceVar):
        return base_name(space.name)
    name = getattr(getattr(space.origin, "type", None), "name", None)
    return name if isinstance(name, str) else "?"  # a class's instances: its name


def _star_index(dims: Sequence[Dim]) -> int | None:
    for i, d in enumerate(dims):
        if isinstance(d, Star):
            return i
    return None


def align(
    formal: Sequence[Dim], given: Sequence[Dim]
) -> tuple[list[tuple[Dim, Dim]], tuple[str, tuple[Dim, ...]] | None] | None:
    """Pair a declared shape's dimensions with a given shape's, around variadic runs.

    Returns the pairs of single dimensions that must agree and, when the declared
    shape has a named run (``*b``) and the given one's rank is known, the run's
    dimensions; None when the given shape is too short for the declared one (or,
    with no run on either side, of another rank).

    >>> align((Star("b"), 4), (2, 3, 4))
    ([(4, 4)], ('b', (2, 3)))
    >>> align((1, 3), (Star(None), 5))
    ([(3, 5)], None)
    >>> align((Star("b"), Sym("d"), Sym("e")), (3,)) is None
    True
    """
    i, j = _star_index(formal), _star_index(given)
    if i is None and j is None:
        if len(formal) != len(given):
            return None
        return list(zip(formal, given, strict=True)), None
    fixed_formal = len(formal) - (i is not None)
    fixed_given = len(given) - (j is not None)
    if (j is None and fixed_given < fixed_formal) or (
        i is None and fixed_given > fixed_formal
    ):
        return None
    head = min(i if i is not None else len(formal), j if j is not None else len(given))
    tail = min(
        len(formal) - 1 - i if i is not None else len(formal),
        len(given) - 1 - j if j is not None else len(given),
    )
    pairs = list(zip(formal[:head], given[:head], strict=True))
    if tail:
        pairs += list(zip(formal[-tail:], given[-tail:], strict=True))
    run = None
    star = formal[i] if i is not None else None
    if j is None and isinstance(star, Star) and star.name is not None:
        assert i is not None
        run = star.name, tuple(given[i : len(given) - (len(formal) - 1 - i)])
    return pairs, run


class Unifier:
    """Binds variables so that spaces agree; raises `Mismatch` when they cannot."""

    def __init__(self) -> None:
        self.dims: dict[str, Dim] = {}
        self.stars: dict[str, tuple[Dim, ...]] = {}
        self.spaces: dict[str, Space] = {}

    def dim(self, d: Dim) -> Dim:
        """`d` with its variable bindings followed (arithmetic of bound ones solved)."""
        seen = 0
        while isinstance(d, Var) and d.name in self.dims and seen < 64:
            d = self.dims[d.name]
            seen += 1
        if isinstance(d, Var) and _arithmetic(d):
            value = evaluate(*self._known(d))
            return d if value is None else value
        return d

    def _known(self, var: Var) -> tuple[str, dict[str, int]]:
        """The arithmetic a variable stands for, and the sizes bound to its names."""
        expr = base_name(var.name)
        suffix = var.name[len(expr) :]
        values = {}
        for name in names_in(expr):
            value = self.dim(Var(name + suffix))
            if isinstance(value, int) and not isinstance(value, bool):
                values[name] = value
        return expr, values

    def dims_of(self, dims: Sequence[Dim]) -> tuple[Dim, ...]:
        """Dimensions with bindings substituted and bound runs spliced in."""
        out: list[Dim] = []
        for d in dims:
            if isinstance(d, Star) and d.var and d.name in self.stars:
                out.extend(self.dims_of(self.stars[d.name]))
            else:
                out.append(self._written(self.dim(d)))
        return tuple(out)

    def _written(self, d: Dim) -> Dim:
        """`d`, or None for arithmetic of names that now stand for other sizes.

        ``d+1`` is kept while its ``d`` is the same free variable; once ``d`` is
        bound to another variable (``AddOne() >> AddOne()``) it would be read as
        the wrong arithmetic, and is an unknown size instead.
        """
        if not isinstance(d, Var) or not _arithmetic(d):
            return d
        expr = base_name(d.name)
        suffix = d.name[len(expr) :]
        for name in names_in(expr):
            if self.dim(Var(name + suffix)) != Var(name + suffix):
                return None
        return d

    def resolve(self, space: Space) -> Space:
        """`space` with every bound variable replaced."""
        if isinstance(space, Arr):
            return Arr(self.dims_of(space.dims))
        if isinstance(space, Tup):
            return Tup(tuple(self.resolve(s) for s in space.items))
        if isinstance(space, SpaceVar) and space.name in self.spaces:
            return self.resolve(self.spaces[space.name])
        return space

    def unify_dim(self, a: Dim, b: Dim) -> None:
        """Make two single dimensions agree."""
        a, b = self.dim(a), self.dim(b)
        if a == b or a is None or b is None:
            return
        if isinstance(b, Var) and _arithmetic(b) and not isinstance(a, Var):
            a, b = b, a
        if isinstance(a, Var) and _arithmetic(a):
            # ``d+1`` of a layer's spaces: a size solves for its one unbound name;
            # a variable stands for the arithmetic; anything else is not compared.
            if isinstance(b, int) and not isinstance(b, bool):
                expr = base_name(a.name)
                suffix = a.name[len(expr) :]
                self.solve(expr, {n: n + suffix for n in names_in(expr)}, b)
            elif isinstance(b, Var) and not _arithmetic(b):
                self.dims[b.name] = a
            return
        if isinstance(a, Var):
            self.dims[a.name] = b
        elif isinstance(b, Var):
            self.dims[b.name] = a
        elif isinstance(a, int) and isinstance(b, int):
            raise Mismatch(f"dimension {a} != {b}")
        elif fixed_size(a) and fixed_size(b):
            raise Mismatch(f"dimension {render_dim(a)} != {render_dim(b)}")

    def solve(self, expr: str, names: dict[str, str], size: Dim) -> None:
        """Make the arithmetic `expr` of variables (`names`: name → variable) `size`.

        Bound names are substituted; with one name left unbound and a known `size`
        it is solved for; a result that cannot hold is a `Mismatch`.

        >>> u = Unifier()
        >>> u.solve("2*d", {"d": "d'1"}, 8)
        >>> u.dims
        {"d'1": 4}
        >>> u.solve("d+1", {"d": "d'1"}, 6)
        Traceback (most recent call last):
        ...
        cdl.mypy_plugin._shapes.Mismatch: dimension d+1 = 5 != 6
        """
        values = {n: self.dim(Var(v)) for n, v in names.items()}
        free = [n for n, v in values.items() if not isinstance(v, int)]
        if not isinstance(size, int) or isinstance(size, bool):
            return
        if any(not isinstance(values[n], Var) for n in free):
            return  # a name bound to a named dimension: not solved for
        if not free:
            known = {n: v for n, v in values.items() if isinstance(v, int)}
            value = evaluate(expr, known)
            if value is not None and value != size:
                raise Mismatch(f"dimension {expr} = {value} != {size}")
            return
        if len(free) > 1:
            return
        known = {n: v for n, v in values.items() if isinstance(v, int)}
        at = [evaluate(expr, {**known, free[0]: x}) for x in (0, 1, 2)]
        if any(v is None for v in at):
            return
        b, slope = at[0], at[1] - at[0]  # type: ignore[operator]
        if at[2] - at[1] != slope or slope == 0:  # type: ignore[operator]
            return
        if (size - b) % slope or (size - b) // slope < 0:  # type: ignore[operator]
            raise Mismatch(f"dimension {expr} cannot be {size}")
        unbound = values[free[0]]
        assert isinstance(unbound, Var)
        self.unify_dim(unbound, (size - b) // slope)  # type: ignore[operator]

    def unify_dims(self, left: Sequence[Dim], right: Sequence[Dim]) -> None:
        """Make two shapes agree, matching a variadic run against the rest."""
        left, right = self.dims_of(left), self.dims_of(right)
        i, j = _star_index(left), _star_index(right)
        if i is None and j is None:
            if len(left) != len(right):
                raise Mismatch(f"rank {len(left)} != {len(right)}")
            for a, b in zip(left, right, strict=True):
                self.unify_dim(a, b)
            return
        if i is None:
            self.unify_dims(right, left)
            return
        prefix, suffix = left[:i], left[i + 1 :]
        star = left[i]
        assert isinstance(star, Star)
        fixed = [d for d in right if not isinstance(d, Star)]
        if j is None and len(fixed) < len(prefix) + len(suffix):
            raise Mismatch(f"rank {len(right)} < {len(prefix) + len(suffix)}")
        head = min(len(prefix), j if j is not None else len(right))
        for a, b in zip(prefix[:head], right[:head], strict=True):
            self.unify_dim(a, b)
        r_tail = len(right) - 1 - j if j is not None else len(right)
        tail = min(len(suffix), r_tail)
        for a, b in zip(
            suffix[len(suffix) - tail :], right[len(right) - tail :], strict=True
        ):
            self.unify_dim(a, b)
        if head == len(prefix) and tail == len(suffix):
            middle = right[head : len(right) - tail]
            if star.var and star.name is not None and star not in middle:
                self.stars[star.name] = middle
        elif j is not None:
            other = right[j]
            assert isinstance(other, Star)
            rest = left[head : len(left) - tail]
            if (
                head == j
                and tail == r_tail
                and other.var
                and other.name is not None
                and other not in rest
            ):
                self.stars[other.name] = rest

    def unify(self, a: Space, b: Space) -> None:
        """Make two spaces agree, binding variables; raise `Mismatch` if they cannot."""
        a, b = self.resolve(a), self.resolve(b)
        if isinstance(a, Opaque) or isinstance(b, Opaque) or a == b:
            return
        if isinstance(a, SpaceVar):
            self.spaces[a.name] = b
        elif isinstance(b, SpaceVar):
            self.spaces[b.name] = a
        elif isinstance(a, Arr) and isinstance(b, Arr):
            self.unify_dims(a.dims, b.dims)
        elif isinstance(a, Tup) and isinstance(b, Tup):
            if len(a.items) != len(b.items):
                raise Mismatch(f"{len(a.items)} components != {len(b.items)}")
            for x, y in zip(a.items, b.items, strict=True):
                self.unify(x, y)
        else:
            raise Mismatch("an array is not a tuple")


def _arithmetic(var: Var) -> bool:
    """Whether `var` stands for jaxtyping arithmetic of other variables (``d+1``)."""
    return not base_name(var.name).isidentifier()


def fixed_size(d: Dim) -> bool:
    """A rigid named dimension or a known size: what equals itself only."""
    return (isinstance(d, int) and not isinstance(d, bool)) or (
        isinstance(d, Sym) and d.rigid
    )


def names_in(expr: str) -> list[str]:
    """The names that jaxtyping arithmetic such as ``2*d+1`` uses.

    >>> names_in("h*w")
    ['h', 'w']
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return []
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})


# A polynomial in named dimensions: each monomial (its names, sorted, a name repeated
# for its powers) with its integer coefficient.
Polynomial: TypeAlias = dict[tuple[str, ...], int]


def polynomial(expr: str) -> Polynomial | None:
    """Jaxtyping arithmetic as a polynomial (None: not one, e.g. with ``//``).

    >>> polynomial("(a+b)*c") == polynomial("c*b+a*c")
    True
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None
    return _polynomial(tree.body)


def _polynomial(node: ast.expr) -> Polynomial | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return {(): node.value} if node.value else {}
    if isinstance(node, ast.Name):
        return {(node.id,): 1}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _polynomial(node.operand)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return None if inner is None else {m: sign * c for m, c in inner.items()}
    if not isinstance(node, ast.BinOp):
        return None
    left = _polynomial(node.left)
    if isinstance(node.op, ast.Pow):
        power = node.right
        if left is None or not isinstance(power, ast.Constant):
            return None
        if type(power.value) is not int or not 0 <= power.value <= 8:
            return None
        out: Polynomial = {(): 1}
        for _ in range(power.value):
            out = _times(out, left)
        return out
    right = _polynomial(node.right)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Add | ast.Sub):
        sign = 1 if isinstance(node.op, ast.Add) else -1
        out = dict(left)
        for m, c in right.items():
            out[m] = out.get(m, 0) + sign * c
        return {m: c for m, c in out.items() if c}
    if isinstance(node.op, ast.Mult):
        return _times(left, right)
    return None


def _times(left: Polynomial, right: Polynomial) -> Polynomial:
    out: Polynomial = {}
    for m, c in left.items():
        for n, d in right.items():
            key = tuple(sorted(m + n))
            out[key] = out.get(key, 0) + c * d
    return {m: c for m, c in out.items() if c}


def show_polynomial(p: Polynomial) -> str:
    """A polynomial written as jaxtyping writes arithmetic: ``2*d``, ``h*w+1``.

    Terms of higher degree come first, then by their names; the constant last.

    >>> show_polynomial(polynomial("1+w*h+d+d-3"))
    'h*w+2*d-2'
    """
    terms = sorted(p.items(), key=lambda item: (-len(item[0]), item[0]))
    text = ""
    for monomial, coefficient in terms:
        factors = [
            name if k == 1 else f"{name}**{k}"
            for name, k in sorted({n: monomial.count(n) for n in monomial}.items())
        ]
        if abs(coefficient) != 1 or not factors:
            factors.insert(0, str(abs(coefficient)))
        term = "*".join(factors)
        if coefficient < 0:
            text += "-" + term
        else:
            text += ("+" if text else "") + term
    return text or "0"


def canonical(expr: str) -> int | str | None:
    """Jaxtyping arithmetic in one form for all that are equal (None: not arithmetic).

    Arithmetic that is a polynomial of names is written as `show_polynomial` does,
    so ``w*h`` and ``h*w``, ``d+d`` and ``2*d``, ``(a+b)*c`` and ``a*c+b*c`` are one
    size; a constant is its int. Other arithmetic (``n//2``) is kept as written,
    without spaces (as jaxtyping writes it, not as `substitute` does).

    >>> canonical("w*h"), canonical("d+d"), canonical("(a+b)*c"), canonical("n-n+3")
    ('h*w', '2*d', 'a*c+b*c', 3)
    >>> canonical("n//2"), canonical("n // 2"), canonical("n+")
    ('n//2', 'n//2', None)
    """
    p = polynomial(expr)
    if p is not None:
        return p.get((), 0) if all(not m for m in p) else show_polynomial(p)
    names = names_in(expr)
    if not names or evaluate(expr, dict.fromkeys(names, 2)) is None:
        return None
    return "".join(expr.split())


def solve_for(expr: str, name: str, size: str) -> int | str | None:
    """What `name` must be for the arithmetic `expr` to be the arithmetic `size`.

    Only arithmetic linear in `name` is solved, and only where the result has
    integer coefficients; None otherwise. `size` may use a name called `name`: it
    is another dimension (the caller's).

    >>> solve_for("2*n", "n", "2*k"), solve_for("n+1", "n", "n")
    ('k', 'n-1')
    >>> solve_for("2*n", "n", "k") is None
    True
    """
    free = "_cdl_free"
    p = polynomial(substitute(expr, {name: free}))
    q = polynomial(size)
    if p is None or q is None:
        return None
    slope = p.get((free,), 0)
    if not slope or any(free in m for m in p if m != (free,)):
        return None
    out = dict(q)
    for m, c in p.items():
        if m != (free,):
            out[m] = out.get(m, 0) - c
    if any(c % slope for c in out.values()):
        return None
    out = {m: c // slope for m, c in out.items() if c}
    if all(not m for m in out):
        return out.get((), 0)
    return show_polynomial(out)


def substitute(expr: str, parts: dict[str, str]) -> str:
    """Jaxtyping arithmetic with each name in `parts` replaced by its arithmetic.

    >>> substitute("2*d+1", {"d": "n-1"})
    '2 * (n - 1) + 1'
    """
    tree = ast.parse(expr, mode="eval")

    class _Replace(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            if node.id not in parts:
                return node
            return ast.parse(parts[node.id], mode="eval").body

    return ast.unparse(_Replace().visit(tree))


def evaluate(expr: str, values: dict[str, int]) -> int | None:
    """The value of jaxtyping arithmetic given its names' sizes (None: unknown).

    >>> evaluate("h*w+1", {"h": 3, "w": 4})
    13
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None
    return _eval(tree.body, values)


def _eval(node: ast.expr, values: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, values), _eval(node.right, values)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if isinstance(node.op, ast.FloorDiv) and b:
            return a // b
        if isinstance(node.op, ast.Pow) and 0 <= b <= 64:
            return int(a**b)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand, values)
        if value is None:
            return None
        return -value if isinstance(node.op, ast.USub) else value
    return None


def known_size(dims: Sequence[Dim]) -> int | None:
    """The number of entries when every dimension is a known size."""
    if all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return math.prod(d for d in dims if isinstance(d, int))
    return None


def broadcast(left: Sequence[Dim], right: Sequence[Dim]) -> tuple[Dim, ...]:
    """Numpy broadcasting of two shapes; `Mismatch` on two sizes that differ.

    >>> broadcast((32, 1), (10,))
    (32, 10)
    >>> broadcast((3,), (4,))
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: cannot broadcast f32[3] with f32[4]

    A variadic run (``*b``) may be of any length: the dimensions right of it are
    compared, and a run against itself must stand at the same place from the right.

    >>> broadcast((Star("b"), 3), (3,))
    (Star(name='b', var=False), 3)
    >>> broadcast((Star("b"), 3), (Star("b"), 1))
    (Star(name='b', var=False), 3)
    >>> try:
    ...     broadcast((Star("b"), 3), (Star("b"),))
    ... except Mismatch as why:
    ...     print(why)
    cannot broadcast f32[*b,3] with f32[*b] (unless *b is empty)
    """
    i, j = _star_index(left), _star_index(right)
    if i is not None or j is not None:
        return _broadcast_runs(left, right, i, j)
    out: list[Dim] = []
    for k in range(1, max(len(left), len(right)) + 1):
        a = left[-k] if k <= len(left) else 1
        b = right[-k] if k <= len(right) else 1
        if a == 1:
            out.append(b)
        elif b == 1 or a == b:
            out.append(a)
        elif fixed_size(a) and fixed_size(b):
            raise Mismatch(
                f"cannot broadcast {render(Arr(tuple(left)))} "
                f"with {render(Arr(tuple(right)))}"
            )
        else:
            out.append(a if isinstance(a, int) else b if isinstance(b, int) else None)
    return tuple(reversed(out))


def _broadcast_runs(
    left: Sequence[Dim], right: Sequence[Dim], i: int | None, j: int | None
) -> tuple[Dim, ...]:
    """`broadcast` where `left` has a run at `i` or `right` one at `j`."""
    left_tail = left[i + 1 :] if i is not None else left
    right_tail = right[j + 1 :] if j is not None else right
    n = min(len(left_tail), len(right_tail))
    try:
        tail = broadcast(
            left_tail[len(left_tail) - n :], right_tail[len(right_tail) - n :]
        )
    except Mismatch:
        raise Mismatch(
            f"cannot broadcast {render(Arr(tuple(left)))} "
            f"with {render(Arr(tuple(right)))}"
        ) from None
    if i is not None and j is not None:
        run, other = left[i], right[j]
        same = isinstance(run, Star) and run == other and run.name and not run.var
        if not same:
            return (Star(None), *tail)
        if len(left_tail) != len(right_tail):
            raise Mismatch(
                f"cannot broadcast {render(Arr(tuple(left)))} with "
                f"{render(Arr(tuple(right)))} (unless {render_dim(run)} is empty)"
            )
        return (*broadcast(left[:i], right[:j]), run, *tail)
    starred, plain, k = (left, right, i) if i is not None else (right, left, j)
    assert k is not None
    if len(plain) <= len(starred) - k - 1:
        return (*starred[: k + 1], *broadcast(starred[k + 1 :], plain))
    return (Star(None), *tail)


def matmul(left: Sequence[Dim], right: Sequence[Dim]) -> tuple[Dim, ...] | None:
    """Shape of ``left @ right``; None when a rank is unknown.

    >>> matmul((32, 784), (784, 128))
    (32, 128)
    >>> matmul((784,), (10, 784))
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: contracted dimension 784 != 10
    """
    if _star_index(left) is not None or _star_index(right) is not None:
        if left and right and not isinstance(left[-1], Star):
            r_inner = right[-2] if len(right) >= 2 else None
            if not isinstance(r_inner, Star) and _star_index(right[-2:]) is None:
                _contract(left[-1], r_inner)
        return None
    if not left or not right:
        raise Mismatch("matmul of a scalar")
    a = list(left) if len(left) > 1 else [1, left[0]]
    b = list(right) if len(right) > 1 else [right[0], 1]
    _contract(a[-1], b[-2])
    batch = broadcast(a[:-2], b[:-2])
    out = [*batch, a[-2], b[-1]]
    if len(right) == 1:
        out.pop()
    if len(left) == 1:
        out.pop(-1 if len(right) == 1 else -2)
    return tuple(out)


def tensordot(
    left: Sequence[Dim], right: Sequence[Dim], axes: tuple[list[int], list[int]] | int
) -> tuple[Dim, ...] | None:
    """Shape of ``jnp.tensordot(left, right, axes)``; None when a rank is unknown.

    `axes` is the number of trailing axes of `left` contracted with as many leading
    axes of `right`, or the two lists of axes.

    >>> tensordot((2, 3, 4), (4, 5), 1)
    (2, 3, 5)
    >>> tensordot((2, 3, 4), (4, 5), ([1], [0]))
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: contracted dimension 3 != 4
    """
    if _star_index(left) is not None or _star_index(right) is not None:
        return None
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(left), len(right)):
            raise Mismatch(
                f"cannot contract {axes} axes of ranks {len(left)} and {len(right)}"
            )
        mine = list(range(len(left) - axes, len(left)))
        theirs = list(range(axes))
    else:
        mine = [_axis_of(a, len(left)) for a in axes[0]]
        theirs = [_axis_of(a, len(right)) for a in axes[1]]
        if len(mine) != len(theirs):
            raise Mismatch(f"{len(mine)} axes contracted with {len(theirs)}")
    for a, b in zip(mine, theirs, strict=True):
        _contract(left[a], right[b])
    return (
        *(d for i, d in enumerate(left) if i not in mine),
        *(d for i, d in enumerate(right) if i not in theirs),
    )


def _contract(a: Dim, b: Dim) -> None:
    if fixed_size(a) and fixed_size(b) and a != b:
        raise Mismatch(f"contracted dimension {render_dim(a)} != {render_dim(b)}")


def reshape(dims: Sequence[Dim], target: Sequence[int | None]) -> tuple[Dim, ...]:
    """Shape after reshaping to `target` (one -1 allowed; None: unknown entry).

    >>> reshape((4, 6), (3, -1))
    (3, 8)
    >>> reshape((4, 6), (5, 5))
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: cannot reshape f32[4,6] (24 entries) to f32[5,5]
    >>> reshape((2, 3), (-1, -1))
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: only one size may be -1
    """
    if target.count(-1) > 1:
        raise Mismatch("only one size may be -1")
    size = known_size(dims)
    out: list[Dim] = [None if d == -1 else d for d in target]
    if size is None or any(d is None for d in target):
        return tuple(out)
    rest = math.prod(d for d in target if d is not None and d != -1)
    shown = "f32[" + ",".join(str(d) for d in target) + "]"
    if -1 in target:
        if rest == 0 or size % rest:
            raise Mismatch(
                f"cannot reshape {render(Arr(tuple(dims)))} ({size} entries) to {shown}"
            )
        return tuple(size // rest if d == -1 else d for d in target)
    if rest != size:
        raise Mismatch(
            f"cannot reshape {render(Arr(tuple(dims)))} ({size} entries) to {shown}"
        )
    return tuple(out)


def concatenate(shapes: Sequence[Sequence[Dim]], axis: int) -> tuple[Dim, ...] | None:
    """Shape of arrays joined along an existing `axis`; None when unknown.

    >>> concatenate([(2, 3), (5, 3)], 0)
    (7, 3)
    >>> concatenate([(2, 3), (2, 4)], 0)
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: axis 1: 3 != 4
    >>> b, n = Star("b"), Sym("n", "f")
    >>> concatenate([(b, n, 2), (b, n, 3)], -1)
    (Star(name='b', var=False), Sym(name='n', scope='f'), 5)
    """
    if not shapes:
        return None
    if any(_star_index(s) is not None for s in shapes):
        return _concatenate_after_run(shapes, axis)
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise Mismatch(
            "ranks differ: " + ", ".join(render(Arr(tuple(s))) for s in shapes)
        )
    if not -rank <= axis < rank:
        raise Mismatch(f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    out: list[Dim] = []
    for k in range(rank):
        column = [s[k] for s in shapes]
        if k == axis:
            out.append(_total(column))
        else:
            out.append(_agree(column, k))
    return tuple(out)


def shifted(size: Dim, by: int) -> Dim:
    """`size` plus the constant `by`: arithmetic of a named dimension kept.

    >>> shifted(Sym("h", "f"), -2), shifted(30, -2), shifted(None, 1)
    (Sym(name='h-2', scope='f'), 28, None)
    """
    return _total([size, by])


def _concatenate_after_run(
    shapes: Sequence[Sequence[Dim]], axis: int
) -> tuple[Dim, ...] | None:
    """Arrays of one named variadic run (``"*b n d"``) joined right of it.

    Only an axis counted from the end (``axis=-1``) that lies right of the run is
    known; other joins (another run, an axis inside or left of it) are None.
    """
    first = shapes[0]
    at = _star_index(first)
    if at is None:
        return None
    run = first[at]
    if not isinstance(run, Star) or run.name is None:
        return None
    if any(
        len(s) != len(first) or _star_index(s) != at or s[at] != run for s in shapes
    ):
        return None
    if not at - len(first) < axis < 0:
        return None
    out: list[Dim] = []
    for k in range(len(first)):
        column = [s[k] for s in shapes]
        if k == at:
            out.append(run)
        elif k == len(first) + axis:
            out.append(_total(column))
        else:
            out.append(_agree(column, k - len(first)))
    return tuple(out)


def _total(column: Sequence[Dim]) -> Dim:
    """The sum of sizes and named dimensions of one scope (None: unknown).

    Only polynomials are added: ``d//2 + d//2`` is ``d`` for even sizes only.

    >>> _total([Sym("d", "f"), Sym("d", "f"), 1])
    Sym(name='2*d+1', scope='f')
    >>> _total([2, 5]), _total([Sym("d", "f"), None]), _total([Sym("d//2", "f")] * 2)
    (7, None, None)
    """
    if all(isinstance(d, int) and not isinstance(d, bool) for d in column):
        return sum(d for d in column if isinstance(d, int))
    syms = [d for d in column if isinstance(d, Sym)]
    if not all(fixed_size(d) for d in column) or len({d.scope for d in syms}) != 1:
        return None
    if any(polynomial(d.name) is None for d in syms):
        return None
    size = canonical("+".join(f"({render_dim(d)})" for d in column))
    if isinstance(size, str):
        return Sym(size, syms[0].scope)
    return size


def _agree(column: Sequence[Dim], k: int) -> Dim:
    known = [d for d in column if fixed_size(d)]
    for d in known[1:]:
        if d != known[0]:
            raise Mismatch(f"axis {k}: {render_dim(known[0])} != {render_dim(d)}")
    if known:
        return known[0]
    names = set(column)
    return column[0] if len(names) == 1 else None


def stack(shapes: Sequence[Sequence[Dim]], axis: int) -> tuple[Dim, ...] | None:
    """Shape of arrays stacked along a new `axis`; None when unknown.

    >>> stack([(3,), (3,)], 0)
    (2, 3)
    """
    if not shapes or any(_star_index(s) is not None for s in shapes):
        return None
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise Mismatch(
            "shapes differ: " + ", ".join(render(Arr(tuple(s))) for s in shapes)
        )
    if not -rank - 1 <= axis <= rank:
        raise Mismatch(f"axis {axis} is out of range for rank {rank + 1}")
    axis %= rank + 1
    out = [_agree([s[k] for s in shapes], k) for k in range(rank)]
    out.insert(axis, len(shapes))
    return tuple(out)


def einsum(spec: str, shapes: Sequence[Sequence[Dim]]) -> tuple[Dim, ...] | None:
    """Output shape of an einsum; `Mismatch` when one index has two sizes.

    >>> einsum("bi,ij->bj", [(32, 784), (784, 10)])
    (32, 10)
    >>> einsum("ij,jk->ik", [(2, 3), (4, 5)])
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: index 'j' is 3 in operand 1 and 4 in operand 2
    """
    spec = spec.replace(" ", "")
    if "." in spec:
        return _einsum_ellipsis(spec, shapes)
    if any(_star_index(s) is not None for s in shapes):
        return None
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise Mismatch(f"{len(terms)} index groups for {len(shapes)} operands")
    sizes: dict[str, tuple[Dim, int]] = {}
    for n, (term, shape) in enumerate(zip(terms, shapes, strict=True), start=1):
        if len(term) != len(shape):
            raise Mismatch(
                f"operand {n} has rank {len(shape)} but '{term}' names {len(term)}"
            )
        for letter, d in zip(term, shape, strict=True):
            if letter not in sizes or (sizes[letter][0] is None and fixed_size(d)):
                sizes[letter] = (d, n)
                continue
            seen, where = sizes[letter]
            if fixed_size(seen) and fixed_size(d) and seen != d and 1 not in (seen, d):
                raise Mismatch(
                    f"index '{letter}' is {render_dim(seen)} in operand {where} and "
                    f"{render_dim(d)} in operand {n}"
                )
    if not arrow:
        counts = {c: inputs.count(c) for c in sizes}
        output = "".join(sorted(c for c, k in counts.items() if k == 1))
    if any(c not in sizes for c in output):
        raise Mismatch(f"output index not among the inputs in '{spec}'")
    return tuple(sizes[c][0] for c in output)


def _einsum_ellipsis(
    spec: str, shapes: Sequence[Sequence[Dim]]
) -> tuple[Dim, ...] | None:
    """`einsum` of a `spec` with ``...``: the axes it stands for broadcast together.

    >>> _einsum_ellipsis("...d,dk->...k", [(2, 3, 4), (4, 5)])
    (2, 3, 5)
    >>> _einsum_ellipsis("...ij,...jk", [(7, 2, 3), (3, 4)])
    (7, 2, 4)
    """
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise Mismatch(f"{len(terms)} index groups for {len(shapes)} operands")
    if any(t.replace("...", "", 1).count(".") for t in [*terms, output]):
        return None
    letters: list[str] = []
    cores: list[tuple[Dim, ...]] = []
    joint: tuple[Dim, ...] = ()
    for n, (term, shape) in enumerate(zip(terms, shapes, strict=True), start=1):
        before, dots, after = term.partition("...")
        star = _star_index(shape)
        if not dots:
            if star is not None:
                return None
            letters.append(term)
            cores.append(tuple(shape))
            continue
        width = len(shape) - len(before) - len(after)
        if width < 0 and star is None:
            raise Mismatch(
                f"operand {n} has rank {len(shape)} but '{term}' names "
                f"{len(before) + len(after)}"
            )
        if star is not None and not len(before) <= star < len(shape) - len(after):
            return None
        middle = tuple(shape[len(before) : len(shape) - len(after)])
        letters.append(before + after)
        cores.append((*shape[: len(before)], *shape[len(shape) - len(after) :]))
        joint = broadcast(joint, middle)
    if not arrow:
        core = einsum(",".join(letters), cores)
        return None if core is None else (*joint, *core)
    before, dots, after = output.partition("...")
    if not dots:
        return None if joint else einsum(f"{','.join(letters)}->{output}", cores)
    core = einsum(f"{','.join(letters)}->{before}{after}", cores)
    if core is None:
        return None
    return (*core[: len(before)], *joint, *core[len(before) :])


def _axis_of(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise Mismatch(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def swapaxes(dims: Sequence[Dim], first: int, second: int) -> tuple[Dim, ...]:
    """`dims` with two axes exchanged.

    >>> swapaxes((2, 3, 4), -1, -2)
    (2, 4, 3)
    """
    out = list(dims)
    a, b = _axis_of(first, len(dims)), _axis_of(second, len(dims))
    out[a], out[b] = out[b], out[a]
    return tuple(out)


def moveaxis(
    dims: Sequence[Dim], source: Sequence[int], destination: Sequence[int]
) -> tuple[Dim, ...]:
    """`dims` with the `source` axes moved to `destination`, as ``jnp.moveaxis``.

    >>> moveaxis((2, 3, 4), [2], [0])
    (4, 2, 3)
    """
    rank = len(dims)
    if len(source) != len(destination):
        raise Mismatch(f"{len(source)} source axes but {len(destination)} destinations")
    src = [_axis_of(a, rank) for a in source]
    dst = [_axis_of(a, rank) for a in destination]
    order = [n for n in range(rank) if n not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return tuple(dims[n] for n in order)


def expand_dims(dims: Sequence[Dim], axes: Sequence[int]) -> tuple[Dim, ...]:
    """`dims` with axes of size 1 inserted at `axes` (of the result).

    >>> expand_dims((2, 3), [-1]), expand_dims((2, 3), [0, 2])
    ((2, 3, 1), (1, 2, 1, 3))
    """
    rank = len(dims) + len(axes)
    new = {_axis_of(a, rank) for a in axes}
    if len(new) != len(axes):
        raise Mismatch(f"repeated axis in {tuple(axes)}")
    rest = iter(dims)
    return tuple(1 if n in new else next(rest) for n in range(rank))


def squeeze(dims: Sequence[Dim], axes: Sequence[int] | None) -> tuple[Dim, ...] | None:
    """`dims` without the axes of size 1 (`axes`: those only); None when unknown.

    >>> squeeze((2, 1, 3), None), squeeze((2, 1, 3), [1])
    ((2, 3), (2, 3))
    >>> squeeze((2, 1, 3), [0])
    Traceback (most recent call last):
    ...
    cdl.mypy_plugin._shapes.Mismatch: axis 0 has size 2, not 1
    """
    if axes is None:
        if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
            return None  # a named or unknown size may be 1
        return tuple(d for d in dims if d != 1)
    gone = {_axis_of(a, len(dims)) for a in axes}
    for n in sorted(gone):
        d = dims[n]
        if isinstance(d, int) and not isinstance(d, bool) and d != 1:
            raise Mismatch(f"axis {n} has size {d}, not 1")
    return tuple(d for n, d in enumerate(dims) if n not in gone)


def ravel(dims: Sequence[Dim]) -> tuple[Dim, ...]:
    """The one axis of `dims` flattened: sizes and named dimensions multiplied.

    >>> ravel((2, 3)), ravel((Sym("n", "f"), Sym("d", "f"))), ravel((2, None))
    ((6,), (Sym(name='d*n', scope='f'),), (None,))
    """
    if all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return (math.prod(d for d in dims if isinstance(d, int)),)
    syms = [d for d in dims if isinstance(d, Sym)]
    if not all(fixed_size(d) for d in dims) or len({d.scope for d in syms}) != 1:
        return (None,)
    if any(polynomial(d.name) is None for d in syms):
        return (None,)
    size = canonical("*".join(f"({render_dim(d)})" for d in dims))
    return (Sym(size, syms[0].scope) if isinstance(size, str) else size,)
