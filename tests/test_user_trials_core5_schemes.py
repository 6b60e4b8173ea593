"""Recursion schemes as an outside user met them: payload dtypes and structures,
machines given no sequence, Python start values beside bfloat16 lists or under x64,
deep terms, and typed algebras over tables that lack a constructor."""

import subprocess
import sys
import textwrap
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns


def _lstm() -> cdl.Algebra:
    return cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeLSTMCell(2, 3, arity=0, key=jax.random.key(1)),
        Node=cdl.TreeLSTMCell(0, 3, arity=2, key=jax.random.key(2)),
    )


def test_bfloat16_payloads_fold_as_their_values():
    # bfloat16 arrays were refused as "payloads are numbers, arrays, or pytrees".
    a, b = jnp.array([1.0, 2.0], jnp.bfloat16), jnp.array([3.0, 0.5], jnp.bfloat16)
    fold = cdl.cata(_lstm())
    want = fold(
        cdl.tree_table(cdl.TreeF, (a.astype(jnp.float32), b.astype(jnp.float32)))
    )
    for term in [(a, b), Node(Leaf(a), Leaf(b))]:
        table = cdl.tree_table(cdl.TreeF, term)
        assert table.payloads["Leaf"].dtype == jnp.bfloat16
        h, c = fold(table)
        np.testing.assert_allclose(h, want[0], rtol=1e-6)
        np.testing.assert_allclose(c, want[1], rtol=1e-6)


def test_a_tuple_payload_in_nested_pairs_is_the_pytree_a_layer_gives():
    # Nested pairs stacked a 3-tuple payload into an array f32[3]; the same tree
    # written with patterns hands the cell the tuple.
    algebra = cdl.Algebra(
        cdl.TreeF,
        Leaf=lambda p: p[0][0] * 10 + p[0][2],
        Node=lambda p: p[1][0] + p[1][1],
    )
    fold = cdl.cata(algebra)
    pairs = cdl.tree_table(cdl.TreeF, ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)))
    layers = cdl.tree_table(
        cdl.TreeF, Node(Leaf((1.0, 2.0, 3.0)), Leaf((4.0, 5.0, 6.0)))
    )
    assert isinstance(pairs.payloads["Leaf"], tuple)
    assert float(fold(pairs)) == float(fold(layers)) == 13.0 + 46.0
    # A typed leaf cell names the tuple it was given, not an array f32[3,2].
    v = jnp.ones(2)
    with pytest.raises(
        cdl.SpaceError, match=r"\(\(f32\[2\] × f32\[2\] × f32\[2\]\) × \(\)\)"
    ):
        cdl.cata(_lstm())(cdl.tree_table(cdl.TreeF, (v, v, v)))


@pytest.mark.parametrize(
    "inputs, given",
    [
        (jnp.float32(1.0), "f32[]"),
        ({"a": jnp.ones(3), "b": jnp.ones(4)}, "{'a': f32[3], 'b': f32[4]}"),
    ],
)
def test_a_machine_given_no_sequence_says_so(inputs, given):
    # These raised IndexError: tuple index out of range, from inside lax.scan.
    machines = [
        cdl.Mealy(lambda p: (p[0], p[1]), jnp.float32(0)),
        cdl.Moore(lambda s: s, lambda p: p[1], jnp.float32(0)),
    ]
    for machine in machines:
        with pytest.raises(TypeError) as error:
            machine(inputs)
        text = str(error.value)
        assert text.startswith(machine.label) and "runs over a sequence" in text
        assert text.endswith(f"but was given {given}.")


def test_python_start_values_take_a_float32_list_dtype_under_x64():
    # With 64-bit types on, 0.0 is a float64, and a fold of float32 elements was
    # refused: "the carrier starts in f64[] but the step returns f32[]".
    code = textwrap.dedent(
        """
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp, cdl
        xs = jnp.array([1.0, 2.0, 4.0], jnp.float32)
        add = lambda p: p[0] + p[1]
        outs = [
            cdl.cata(cdl.ListAlgebra(0.0, add))(xs),
            cdl.foldl(cdl.ListAlgebra(0.0, add))(xs),
            cdl.para(0.0, lambda p: p[0] + p[1][1])(xs),
            cdl.histo(0.0, lambda p: p[0] + p[1][0], depth=2)(xs),
            cdl.mutu((0.0, 0.0), lambda p: p[0] + p[1][1], lambda p: p[1][0])(xs)[0],
            cdl.Mealy(lambda p: (p[1], p[1] + p[0]), 0.0)(xs)[-1],
        ]
        print([(str(o.dtype), float(o)) for o in outs])
        print(cdl.cata(cdl.ListAlgebra(0.0, add))(xs.astype(jnp.float64)).dtype)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == str([("float32", v) for v in (7.0, 7.0, 7.0, 7.0, 5.0, 3.0)])
    assert out[1] == "float64"


def test_python_start_values_take_a_bfloat16_list_dtype():
    # 0.0 is a float32 here, which a bfloat16 step does not widen to: refused as
    # "the carrier starts in f32[] but the step returns bf16[]".
    xs = jnp.array([1.0, 2.0, 4.0], jnp.bfloat16)
    total = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))(xs)
    first, second = cdl.mutu((0.0, 0.0), lambda p: p[0] + p[1][1], lambda p: p[1][0])(
        xs
    )
    outputs = cdl.Mealy(lambda p: (p[1], p[1] + p[0]), 0.0)(xs)
    assert [a.dtype for a in (total, first, second, outputs)] == [jnp.bfloat16] * 4
    assert (float(total), float(first), float(second)) == (7.0, 5.0, 2.0)
    assert outputs.tolist() == [0.0, 1.0, 3.0]


def test_a_deep_term_has_a_repr():
    # repr of a term 3,000 deep raised RecursionError (a named tuple's repr).
    term = Leaf(1.0)
    for _ in range(3000):
        term = Node(term, Leaf(2.0))
    assert repr(term).startswith("Layer(constructor='Node', payload=None, children=(")
    small = Node(Leaf(1.0), cdl.Layer("Cons", jnp.ones(2), ("rest",)))
    named = "Layer(constructor=%r, payload=%r, children=%r)"
    assert repr(small) == named % (small.constructor, small.payload, small.children)
    assert repr(small.children[1]) == named % tuple(small.children[1])


def test_a_typed_algebra_folds_a_table_without_one_of_its_constructors():
    # A batch of expressions without an Op (or an empty forest) stored Op's
    # payloads as f32[], and TreeRNNCell(4, 3) refused them: a SpaceError.
    E = cdl.polynomial("E", Num="a", Op="a x x")
    Num, Op = E.patterns
    num = cdl.TreeRNNCell(2, 3, arity=0, key=jax.random.key(0))
    op = cdl.TreeRNNCell(4, 3, arity=2, key=jax.random.key(1))
    algebra = cdl.Algebra(E, Num=num, Op=op)
    x = jnp.array([0.5, -1.0])
    only_nums = cdl.tree_table(E, [Num(x), Num(2 * x)], forest=True)
    assert only_nums.unknown == frozenset({"Op"})
    want = jnp.stack([num((x, ())), num((2 * x, ()))])
    np.testing.assert_allclose(cdl.cata(algebra)(only_nums), want, rtol=1e-6)
    jitted = eqx.filter_jit(lambda a, t: cdl.cata(a)(t))(algebra, only_nums)
    np.testing.assert_allclose(jitted, want, rtol=1e-6)
    # With an Op present nothing changes.
    both = cdl.tree_table(E, Op(jnp.ones(4), Num(x), Num(x)))
    assert both.unknown == frozenset()
    h = num((x, ()))
    np.testing.assert_allclose(
        cdl.cata(algebra)(both), op((jnp.ones(4), (h, h))), rtol=1e-6
    )
    # An empty forest folds to no rows of the carrier.
    empty = cdl.tree_table(cdl.TreeF, [], forest=True)
    assert [a.shape for a in cdl.cata(_lstm())(empty)] == [(0, 3), (0, 3)]


def test_scheme_sizes_may_be_numpy_ints_and_must_be_whole():
    # np.int64 sizes were kept as static fields (Equinox's 'A JAX array is being
    # set as static!' warning, an error where warnings are errors); a tree
    # unfold's max_width=np.int64(8) raised "'numpy.int64' object is not
    # iterable", a tree histo's depth np.int64(2) was refused as "not 2", and a
    # float size (2.5) passed the check.
    n = np.int64
    up = cdl.ListCoalgebra(lambda x: (x, x + 1), lambda x: x > 7)
    grow = cdl.Coalgebra(
        cdl.TreeF,
        lambda h: (
            jnp.where(h == 0, 0, 1),
            {"Leaf": h * 1.0},
            jnp.stack([h - 1, h - 1]),
        ),
    )
    count = cdl.Algebra(cdl.TreeF, Leaf=lambda p: 1.0, Node=lambda p: p[1][0] + p[1][1])
    depth2 = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0].value + p[1][1].value
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schemes = [
            cdl.histo(0.0, lambda p: p[0] + p[1][0], depth=n(3)),
            cdl.ana(up, max_size=n(10)),
            cdl.unfold(lambda s: (s, s + 1), n(4)),
            cdl.ana(grow, max_depth=n(4), max_width=n(8)),
            cdl.hylo(count, grow, max_depth=n(4), max_width=np.array([1, 2, 4, 8])),
            cdl.histo(depth2, n(2)),
        ]
        assert schemes[0].depth == 3 and type(schemes[0].depth) is int
        assert float(schemes[0](jnp.ones(4))) == 4.0
        assert [int(v) for v in schemes[1](jnp.int32(3)).to_list()] == [3, 4, 5, 6, 7]
        assert schemes[2](jnp.int32(0)).tolist() == [0, 1, 2, 3]
        assert schemes[3](jnp.int32(3)).valid.sum(axis=1).tolist() == [1, 2, 4, 8]
        assert float(schemes[4](jnp.int32(3))) == 8.0
        assert float(schemes[5](cdl.tree_table(cdl.TreeF, (1.0, 2.0)))) == 3.0
    for bad in [2.5, True, 0]:
        with pytest.raises(
            ValueError, match=f"ana needs a maximum size of at least 1, not {bad!r}"
        ):
            cdl.ana(up, max_size=bad)
        with pytest.raises(ValueError, match="ana's width needs a maximum size"):
            cdl.ana(grow, max_depth=2, max_width=bad)
    with pytest.raises(
        ValueError, match="prepro's depth needs a maximum size of at least 0"
    ):
        cdl.prepro(
            lambda layer: layer, cdl.ListAlgebra(0, lambda p: p[0] + p[1]), max_depth=-1
        )


@pytest.mark.parametrize(
    "cell",
    [
        cdl.ElmanCell,
        cdl.GRUCell,
        cdl.LSTMCell,
        cdl.TreeRNNCell,
        cdl.TreeLSTMCell,
        cdl.ChildSumTreeLSTMCell,
        cdl.DecoderCell,
    ],
)
def test_a_cell_checks_its_sizes(cell):
    # A NumPy int size was labelled away ('GRUCell(4)') and kept as a static JAX
    # array; 3.0 failed in a slice, -1 built a cell (LSTMCell(-1, 4)) or failed in
    # numpy, and hidden=0 built an empty cell.
    key = jax.random.key(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        made = cell(np.int64(3), 4, key=key)
    assert made.label == f"{cell.__name__}(3, 4)" and made == cell(3, 4, key=key)
    for args in [(3.0, 4), (-1, 4), (True, 4), (3, 0)]:
        with pytest.raises(ValueError, match=rf"^{cell.__name__}: \w+ must be"):
            cell(*args, key=key)
    with pytest.raises(TypeError, match="key must be a PRNG key"):
        cell(3, 4, key=0)


def test_a_finite_mealy_cell_checks_its_sizes():
    key = jax.random.key(0)
    assert (
        cdl.FiniteMealyCell(np.int64(3), 2, 2, key=key).label
        == "FiniteMealyCell(3, 2, 2)"
    )
    with pytest.raises(
        ValueError, match="FiniteMealyCell: n_inputs must be a positive int"
    ):
        cdl.FiniteMealyCell(3, 0, 2, key=key)


def test_a_rose_tree_unfold_folds_without_a_declared_carrier():
    # cata of an Unfolded of RoseF (and hylo) asked for carrier=, where the same
    # algebra folds the same tree as a table: the carrier of a functor whose only
    # leaves are a variadic constructor's was read for tables alone.
    rose = cdl.RoseF(3)
    add = cdl.Algebra(
        rose, Node=lambda p: p[0] + jnp.sum(jnp.where(p[1][1], p[1][0], 0.0))
    )

    def step(n):
        k = jnp.minimum(n, n % 3 + 1) * (n > 0)
        return 0, {"Node": n.astype(jnp.float32)}, jnp.stack([n - 1, n - 2, n - 3]), k

    def total(n):
        k = min(n, n % 3 + 1) if n > 0 else 0
        return n + sum(total(n - 1 - j) for j in range(k))

    grow = cdl.Coalgebra(rose, step)
    tree = cdl.ana(grow, max_depth=5, max_width=8)(jnp.int32(4))
    assert float(cdl.cata(add)(tree)) == float(cdl.cata(add)(tree.to_table())) == 13.0
    sums = jax.vmap(cdl.hylo(add, grow, max_depth=5, max_width=8))(jnp.arange(5))
    assert sums.tolist() == [total(n) for n in range(5)]
    # A cell declaring its carrier (Child-Sum Tree-LSTM) is read from its result.
    cell = cdl.ChildSumTreeLSTMCell(3, 4, key=jax.random.key(0))
    lstm = cdl.Algebra(rose, Node=cell)
    pairs = cdl.Coalgebra(
        rose,
        lambda n: (0, {"Node": jnp.ones(3) * n}, jnp.stack([n - 1] * 3), (n > 0) * 2),
    )
    h, _ = cdl.hylo(lstm, pairs, max_depth=3, max_width=4)(jnp.int32(2))
    table = cdl.ana(pairs, max_depth=3, max_width=4)(jnp.int32(2)).to_table()
    np.testing.assert_allclose(h, cdl.cata(lstm)(table)[0], rtol=1e-6)


def test_a_payload_that_contains_itself_is_named():
    # A forest list appended to itself (or any list payload holding itself)
    # failed in JAX's flatten: "SystemError: <nanobind.nb_method ...> returned a
    # result with an exception set".
    v = jnp.ones(2)
    forest: list = [v]
    forest.append(forest)
    with pytest.raises(ValueError, match=r"TreeF.Leaf's payload 1 contains itself"):
        cdl.tree_table(cdl.TreeF, forest, forest=True)
    (node,) = cdl.RoseF(2).patterns
    with pytest.raises(ValueError, match=r"RoseF.Node's payload 0 contains itself"):
        cdl.tree_table(cdl.RoseF(2), node({"a": forest}, []))


def test_a_module_algebra_sharing_a_layer_folds_whatever_its_constructor_order():
    # Constructors declared Lit, Add, Mul and a layer shared by Add and Mul: the
    # fold failed with KeyError: 'Lit', since the algebra's cells come back from
    # a JAX transform with their names sorted (Add first), and the shared layer
    # was looked up in a cell not yet rebuilt.
    E = cdl.polynomial("E", Lit="a", Add="x x", Mul="x x")
    Lit, Add, Mul = E.patterns

    class Cell(eqx.Module):
        embed: cdl.Linear
        comb: cdl.Linear

        def __call__(self, layer):
            match layer:
                case Lit(x):
                    return jnp.tanh(self.embed(x))
                case Add(a, b):
                    return jnp.tanh(self.comb(jnp.concatenate([a, b])))
                case Mul(a, b):
                    return jnp.tanh(self.comb(jnp.concatenate([a * b, a - b])))

    def reference(cell, term):
        match term:
            case Lit(x):
                return jnp.tanh(cell.embed(x))
            case Add(a, b):
                x, y = reference(cell, a), reference(cell, b)
                return jnp.tanh(cell.comb(jnp.concatenate([x, y])))
            case Mul(a, b):
                x, y = reference(cell, a), reference(cell, b)
                return jnp.tanh(cell.comb(jnp.concatenate([x * y, x - y])))

    keys = jax.random.split(jax.random.key(0))
    cell = Cell(cdl.Linear(1, 3, key=keys[0]), cdl.Linear(6, 3, key=keys[1]))
    one = jnp.ones(1)
    terms = [Add(Lit(one), Mul(Lit(2 * one), Lit(-one))), Mul(Lit(one), Lit(one))]
    table = cdl.tree_table(E, terms, forest=True)
    algebra = cdl.Algebra(E, cell)
    want = jnp.stack([reference(cell, t) for t in terms])
    np.testing.assert_allclose(cdl.cata(algebra)(table), want, atol=1e-6)
    grads = eqx.filter_grad(lambda a: cdl.cata(a)(table).sum())(algebra)
    expected = eqx.filter_grad(lambda c: sum(reference(c, t).sum() for t in terms))(
        cell
    )
    got, ref = jax.tree.leaves(grads), jax.tree.leaves(expected)
    assert len(got) == len(ref) == 4  # comb is one parameter, its gradient summed
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, r, atol=1e-6)
