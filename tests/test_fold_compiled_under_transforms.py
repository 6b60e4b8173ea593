"""A fold called under `jax.grad` or `jax.vmap` outside `jit` reuses its program.

The fold is compiled once per algebra structure and table bucket; an eager
`jax.grad(fold)(term)` differentiates that program rather than running the level
engine's loops one operation at a time, so a second gradient traces and compiles
nothing.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from _compiles import compiles

import cdl

ExprF = cdl.polynomial("ExprF", Lit="a", Add="x x", Mul="x x")
Lit, Add, Mul = ExprF.patterns
Leaf, Node = cdl.TreeF.patterns


def _counting_algebra() -> tuple[cdl.Algebra, list[int]]:
    traces = [0]

    def evaluate(layer):  # type: ignore[no-untyped-def]
        traces[0] += 1
        match layer:
            case Lit(n):
                return n
            case Add(a, b):
                return a + b
            case Mul(a, b):
                return a * b

    return cdl.Algebra(ExprF, evaluate), traces


def _reference(e):  # type: ignore[no-untyped-def]
    match e:
        case Lit(n):
            return n
        case Add(a, b):
            return _reference(a) + _reference(b)
        case Mul(a, b):
            return _reference(a) * _reference(b)


def test_a_second_eager_gradient_compiles_nothing_and_agrees() -> None:
    algebra, traces = _counting_algebra()
    fold = cdl.cata(algebra)
    expr = Mul(Add(Lit(2.0), Lit(3.0)), Lit(4.0))
    first = jax.grad(fold)(expr)
    after_first = traces[0], compiles()
    other = Mul(Add(Lit(1.0), Lit(-2.0)), Lit(0.5))
    second = jax.grad(fold)(other)
    assert (traces[0], compiles()) == after_first
    assert jax.tree.leaves(first) == jax.tree.leaves(jax.grad(_reference)(expr))
    assert jax.tree.leaves(second) == jax.tree.leaves(jax.grad(_reference)(other))


def test_a_fold_under_vmap_of_its_payloads_matches_one_by_one() -> None:
    algebra, _ = _counting_algebra()
    fold = cdl.cata(algebra)

    def value(a: jax.Array, b: jax.Array) -> jax.Array:
        return fold(Mul(Add(Lit(a), Lit(b)), Lit(a)))

    xs, ys = jnp.arange(3.0), jnp.array([1.0, -1.0, 2.0])
    mapped = jax.vmap(value)(xs, ys)
    one_by_one = jnp.stack([value(x, y) for x, y in zip(xs, ys, strict=True)])
    assert jnp.allclose(mapped, one_by_one)
    assert jnp.allclose(mapped, (xs + ys) * xs)


def test_a_second_eager_gradient_of_a_tree_prepro_compiles_nothing() -> None:
    traces = [0]

    def swap(layer):  # type: ignore[no-untyped-def]
        match layer:
            case Leaf(x):
                return Leaf(2.0 * x)
            case Node(l, r):
                return Node(r, l)

    def shape(layer):  # type: ignore[no-untyped-def]
        traces[0] += 1
        match layer:
            case Leaf(x):
                return x
            case Node(a, b):
                return a - b

    fold = cdl.prepro(swap, cdl.Algebra(cdl.TreeF, shape))

    def term(a: jax.Array) -> cdl.Layer:
        return Node(Leaf(a), Node(Leaf(2.0), Leaf(3.0)))

    first = jax.grad(lambda a: fold(term(a)))(1.0)
    after_first = traces[0], compiles()
    second = jax.grad(lambda a: fold(term(a)))(4.0)
    assert (traces[0], compiles()) == after_first
    # The leaf at depth one is doubled once before the fold reads it.
    assert float(first) == float(second) == 2.0


class _Double(cdl.Para):  # type: ignore[type-arg]
    """A Leaf cell: twice its payload."""

    def __call__(self, x):  # type: ignore[no-untyped-def]
        return 2.0 * x[0]


class _Pick(cdl.Para):  # type: ignore[type-arg]
    """A Node cell with an integer field: which child its second term reads."""

    w: jax.Array
    pick: jax.Array

    def __call__(self, x):  # type: ignore[no-untyped-def]
        _, (left, right) = x
        return self.w * left + jnp.where(self.pick == 0, left, right)


def test_a_gradient_outside_jit_of_an_algebra_with_an_integer_field() -> None:
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=_Double(),
        Node=_Pick(jnp.float32(0.5), jnp.int32(1)),
    )
    table = cdl.tree_table(cdl.TreeF, [(1.0, (2.0, 3.0)), 4.0], forest=True)

    def loss(a: cdl.Algebra) -> jax.Array:
        return jnp.sum(cdl.cata(a)(table))

    def reference(w: jax.Array) -> jax.Array:
        inner = w * 4.0 + 6.0  # the Node of (2, 3) reads its right child
        return w * 2.0 + inner + 8.0

    for grad in (eqx.filter_grad(eqx.filter_jit(loss)), eqx.filter_grad(loss)):
        got = grad(algebra).cells["Node"].w
        assert jnp.allclose(got, jax.grad(reference)(jnp.float32(0.5)))
