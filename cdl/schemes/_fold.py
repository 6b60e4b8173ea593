"""Which engine folds a node table: the level engine, or the unrolled one.

A table laid out in an `Envelope` has static level widths and is folded by the
unrolled engine (`_unrolled`); any other by the level engine (`_levels`), whose
levels' widths are data.
"""

from typing import Any

import equinox as eqx
import jax
import numpy as np
from jax._src import core

from .._para import Para
from .._space import ProductSpace, example_of, is_concrete
from . import _messages
from ._levels import fold_levels
from ._tree import Algebra, NodeTable
from ._unrolled import evaluate_unrolled


def evaluate(
    algebra: Algebra[Any],
    table: NodeTable,
    *,
    subtrees: bool = False,
    every_node: bool = False,
) -> Any:
    """Fold every tree of `table` with `algebra`; with `subtrees`, as a para.

    The result is the carrier at every root, or with `every_node` at every node in
    node order, padded to the table's capacity (zeros past the last node). Called
    outside `jax.jit` (under an eager `jax.grad` or `jax.vmap` too), the fold is
    compiled once per algebra structure and table bucket (or envelope) and
    reused, as under `jit`: its loops never run one operation at a time.
    """
    noisy = [n for n, c in algebra.cells.items() if getattr(c, "stochastic", False)]
    if noisy:
        raise ValueError(_messages.stochastic_tree_cell(algebra.label, noisy))
    plain = forward_mode(algebra, table)
    return _compiled(
        algebra, declared_payloads(algebra, table), subtrees, every_node, plain
    )


def forward_mode(algebra: Algebra[Any], table: NodeTable) -> bool:
    """Whether the fold is called under forward-mode differentiation.

    The fold's gradient is a custom reverse-mode rule (a sweep over the levels), and
    JAX cannot push tangents forward through such a rule. Under `jax.jvp` or
    `jax.jacfwd` (inside `jax.jit` or not, and around a jitted function that calls
    the fold, when it is traced there) the fold runs without the rule, so its
    tangents are plain forward-mode autodiff of its loop, linear in the nodes. Under
    a reverse derivative of a forward one (`jax.jacrev(jax.jacfwd(f))`) the level
    engine's loop cannot be transposed, nor can its reverse rule be differentiated
    in reverse mode again (`jax.jacrev(jax.jacrev(f))`): both are errors naming
    `jax.hessian`, which takes the forward derivative of the reverse one and works.
    `jax.linearize` looks like a reverse derivative while the fold is traced, and
    fails with JAX's own error; `jax.jvp` works instead.

    >>> import jax, jax.numpy as jnp, cdl
    >>> fold = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=lambda p: jnp.sin(p[0]),
    ...                             Node=lambda p: p[1][0] * p[1][1]))
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> term = Node(Leaf(1.0), Leaf(2.0))
    >>> ones = jax.tree.map(jnp.ones_like, term)
    >>> _, tangent = jax.jvp(fold, (term,), (ones,))
    >>> round(float(tangent), 4)  # d/dε sin(1+ε) sin(2+ε) at 0 = sin(3)
    0.1411
    """
    modes = _modes()
    if not modes or table.envelope is not None:
        return bool(modes) and modes[0] == "JVPTrace"
    reverse, forward = 0, False
    for x in jax.tree.leaves((algebra, table)):
        kinds = _traces(x)
        reverse = max(reverse, sum(k == "LinearizeTrace" for k, _ in kinds))
        forward = forward or any(k == "JVPTrace" for k, _ in kinds)
    if modes[0] == "JVPTrace" and reverse:
        if not forward:
            # The jvp does not reach the fold's inputs (a jvp in another variable
            # inside a gradient): JAX passes the fold by, and the outer gradient
            # takes the reverse rule.
            return False
        raise TypeError(_messages.reverse_of_forward(algebra.label))
    if modes[0] == "LinearizeTrace" and reverse > 1:
        raise TypeError(_messages.reverse_of_reverse(algebra.label))
    return modes[0] == "JVPTrace"


def forward_traced() -> bool:
    """Whether the innermost derivative being taken here is a forward one.

    A scheme that compiles itself around a fold (`prepro`) keys its program on
    it, so that a program traced for a value or a gradient is not reused under
    `jax.jvp`, where the fold must run without its reverse rule.
    """
    modes = _modes()
    return bool(modes) and modes[0] == "JVPTrace"


def _modes() -> list[str]:
    """The derivatives being taken, innermost first: JVP or linearize traces."""
    # JAX's trace stack is internal: where a release moves it, nothing is found and
    # the fold keeps its reverse rule, as before forward mode was supported.
    trace = getattr(getattr(core, "trace_ctx", None), "trace", None)
    modes: list[str] = []
    while trace is not None:
        name = type(trace).__name__
        if name in ("JVPTrace", "LinearizeTrace"):
            modes.append(name)
        trace = getattr(trace, "parent_trace", None)
    return modes


def _traces(x: Any) -> set[tuple[str, int]]:
    """The traces `x` is a tracer of, at every level of its nesting."""
    kinds: set[tuple[str, int]] = set()
    stack = [x]
    while stack:
        y = stack.pop()
        if isinstance(y, core.Tracer):
            kinds.add((type(y._trace).__name__, id(y._trace)))
            stack.extend(
                getattr(y, a) for a in ("primal", "tangent", "val") if hasattr(y, a)
            )
    return kinds


def declared_payloads(algebra: Algebra[Any], table: NodeTable) -> NodeTable:
    """`table`, with the payloads of constructors it has no node of in their shapes.

    A table built from terms stores such a constructor's payloads as ``f32[rows]``
    (an empty forest, or a batch of expressions without an ``Op``): with no node,
    their shape is unknown to it (`NodeTable.unknown`). The fold still traces every
    cell, so a cell that declares its payload space (`cdl.TreeRNNCell(4, …)`:
    ``float[4]``) is given rows of that space, instead of refusing ``f32[]``.

    >>> import jax, cdl
    >>> E = cdl.polynomial("E", Num="a", Op="a x x")
    >>> cells = dict(Num=cdl.TreeRNNCell(2, 3, arity=0, key=jax.random.key(0)),
    ...              Op=cdl.TreeRNNCell(4, 3, arity=2, key=jax.random.key(1)))
    >>> table = cdl.tree_table(E, E.patterns[0](jax.numpy.ones(2)))
    >>> table.payloads["Op"].shape, table.unknown
    ((25,), frozenset({'Op'}))
    >>> declared_payloads(cdl.Algebra(E, **cells), table).payloads["Op"].shape
    (25, 4)
    """
    payloads, changed = dict(table.payloads), False
    for c in algebra.functor.constructors:
        cell = algebra.cells.get(c.name)
        if c.name not in table.unknown or not isinstance(cell, Para):
            continue
        rows = len(jax.tree.leaves(payloads[c.name])[0])
        try:
            dom, _ = cell.signature()
        except Exception:  # a signature needing what the cell cannot know alone
            continue
        if isinstance(dom, ProductSpace) and len(dom.factors) == 2:
            if is_concrete(dom.factors[0]):
                payloads[c.name] = jax.tree.map(
                    lambda s, rows=rows: np.zeros((rows, *s.shape), s.dtype),
                    example_of(dom.factors[0]),
                )
                changed = True
    if not changed:
        return table
    out: NodeTable = eqx.tree_at(lambda t: t.payloads, table, payloads)
    return out


def _either(
    algebra: Algebra[Any],
    table: NodeTable,
    subtrees: bool,
    every_node: bool,
    plain: bool = False,
) -> Any:
    engine = evaluate_unrolled if table.envelope is not None else fold_levels
    return engine(
        algebra.untied(), table, subtrees=subtrees, every_node=every_node, plain=plain
    )


@eqx.filter_jit
def _compiled(
    algebra: Algebra[Any],
    table: NodeTable,
    subtrees: bool,
    every_node: bool,
    plain: bool = False,
) -> Any:
    return _either(algebra, table, subtrees, every_node, plain)
