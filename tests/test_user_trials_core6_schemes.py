"""Malformed functors and node tables, as users write them: each a clear error."""

import jax.numpy as jnp
import numpy as np
import pytest

import cdl


@pytest.mark.parametrize("spec", [3, None, ["a", "x"]])
def test_a_constructor_whose_fields_are_no_string(spec):
    with pytest.raises(TypeError, match=r"constructor A of F: its fields are a string"):
        cdl.polynomial("F", A=spec)


def test_functor_and_constructor_names_are_identifiers():
    with pytest.raises(TypeError, match="named by a Python identifier.*not 3"):
        cdl.polynomial(3, A="a")
    with pytest.raises(ValueError, match="F cannot have a constructor called '1A'"):
        cdl.polynomial("F", **{"1A": "a"})
    assert cdl.polynomial("F", Leaf="a", leaf="a").names == ("Leaf", "leaf")


@pytest.mark.parametrize("rows", [np.array(["a", "b"]), np.array([object(), object()])])
def test_table_payload_rows_that_are_no_numbers(rows):
    with pytest.raises(ValueError, match=r"TreeF\.Leaf's payload rows .*numbers"):
        cdl.NodeTable.from_arrays(
            cdl.TreeF, [1, 0, 0], [[1, 2], [-1, -1], [-1, -1]], {"Leaf": rows}, 0
        )


def _deep_terms(n):
    zero, succ = cdl.NatF.patterns
    leaf, node = cdl.TreeF.patterns
    nat, tree = zero(), leaf(np.float32(0.0))
    for i in range(n):
        nat, tree = succ(nat), node(tree, leaf(np.float32(i)))
    return nat, tree


def node_swapped(tree):
    return tree._replace(children=tree.children[::-1])


def test_deep_terms_pickle_copy_and_compare():
    import copy
    import pickle

    for t in _deep_terms(3000):
        other = _deep_terms(3000)[0 if t.constructor == "Succ" else 1]
        assert t == other and not t != other and hash(t) == hash(other)
        assert pickle.loads(pickle.dumps(t)) == t
        u = copy.deepcopy(t)
        assert u == t and u is not t
    nat, tree = _deep_terms(3000)
    assert nat != _deep_terms(2999)[0]
    assert tree != node_swapped(tree) and tree != nat


@pytest.mark.parametrize(
    "stop", [lambda n: n, lambda n: jnp.stack([n <= 0, n > 0])], ids=["int", "vector"]
)
def test_a_stop_condition_that_is_no_single_bool(stop):
    coalg = cdl.ListCoalgebra(lambda n: (n, n - 1), stop)
    with pytest.raises(TypeError, match=r"stop condition of ListCoalgebra\(<lambda>\)"):
        cdl.ana(coalg, max_size=4)(jnp.int32(3))
    ok = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    assert cdl.ana(ok, max_size=4)(jnp.int32(3)).to_list() == [3, 2, 1]


def test_a_natural_transformation_that_reads_a_child():
    leaf, node = cdl.TreeF.patterns

    def peek(layer):
        match layer:
            case leaf(x):
                return leaf(x)
            case node(a, b):
                return node(a + b, b)

    alg = cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0])
    with pytest.raises(TypeError, match="computed with child 0 of its layer"):
        cdl.prepro(peek, alg)(node(leaf(1.0), leaf(2.0)))


def test_a_list_of_tables_is_no_forest():
    alg = cdl.Algebra(
        cdl.TreeF, Leaf=lambda p: jnp.tanh(p[0]), Node=lambda p: p[1][0] * p[1][1]
    )
    tables = [cdl.tree_table(cdl.TreeF, (1.0, 2.0)), cdl.tree_table(cdl.TreeF, 3.0)]
    with pytest.raises(TypeError, match=r"cata\(Algebra\(TreeF.*list of 2 values"):
        cdl.cata(alg)(tables)


@pytest.mark.parametrize(
    "n", [5.0, True, jnp.float32(3.0)], ids=["float", "bool", "0d"]
)
def test_a_fold_of_naturals_given_no_int(n):
    count = cdl.cata(
        cdl.Algebra(cdl.NatF, Zero=lambda p: 0.0, Succ=lambda p: p[1][0] + 1)
    )
    assert float(count(np.int64(4))) == 4.0
    with pytest.raises(TypeError, match=r"folds natural numbers of NatF: an int >= 0"):
        count(n)
