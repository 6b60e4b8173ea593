"""Mistakes users make writing Haskell-style folds and unfolds: each is named."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns


def test_a_python_branch_in_a_tree_cell_is_named() -> None:
    def larger(layer: cdl.Layer) -> object:
        match layer:
            case Leaf(x):
                return x
            case Node(a, b):
                if a > b:
                    return a
                return b
        return None

    fold = cdl.cata(cdl.Algebra(cdl.TreeF, larger))
    with pytest.raises(TypeError, match=r"larger\.Node branches in Python.*jnp\.where"):
        fold(Node(Leaf(1.0), Leaf(2.0)))


def test_a_python_branch_in_a_list_cell_is_named() -> None:
    fold = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] if p[0] > p[1] else p[1]))
    with pytest.raises(TypeError, match="branches in Python"):
        fold(jnp.arange(3.0))


def test_a_cell_returning_text_points_to_a_host_fold() -> None:
    def pretty(layer: cdl.Layer) -> object:
        match layer:
            case Leaf(x):
                return str(x)
            case Node(a, b):
                return f"({a} {b})"
        return None

    with pytest.raises(TypeError, match=r"pretty\.Leaf returned a str.*cdl\.cataM"):
        cdl.cata(cdl.Algebra(cdl.TreeF, pretty))(Node(Leaf(1.0), Leaf(2.0)))


def test_a_history_off_the_carrier_names_where_it_differs() -> None:
    zero, succ = cdl.NatF.patterns

    def count(layer: cdl.Layer) -> object:
        match layer:
            case zero():
                return 0.0
            case succ(h):  # h.present has one entry per child: a vector
                return h.value + jnp.where(h.present, 1.0, 0.0)
        return None

    with pytest.raises(TypeError, match=r"At \.value it returns f32\[1\] where the "):
        cdl.histo(cdl.Algebra(cdl.NatF, count), depth=2)(3)


def test_a_tag_out_of_range_is_reported_outside_jit_too() -> None:
    def grow(h: jax.Array) -> tuple[object, ...]:
        return jnp.int32(7), {"Leaf": jnp.float32(0)}, jnp.stack([h, h])

    ana = cdl.ana(cdl.Coalgebra(cdl.TreeF, grow), max_depth=3, max_width=4)
    # Eagerly, a check inside a scan used to fail as an internal callback error.
    with pytest.raises(eqx.EquinoxRuntimeError, match="tag outside 0..1"):
        ana(jnp.int32(0))


def add() -> cdl.Algebra:
    return cdl.Algebra(cdl.TreeF, Leaf=lambda p: p[0], Node=lambda p: p[1][0] + p[1][1])


def test_from_arrays_takes_payloads_as_a_python_list() -> None:
    kids = [[-1, -1], [-1, -1], [0, 1]]
    table = cdl.NodeTable.from_arrays(
        cdl.TreeF, [0, 0, 1], kids, {"Leaf": [1.0, 2.0]}, 2
    )
    assert float(cdl.cata(add())(table)) == 3.0
    with pytest.raises(ValueError, match=r"payloads are one number \(shape \(\)\)"):
        cdl.NodeTable.from_arrays(cdl.TreeF, [0], [[-1, -1]], {"Leaf": 1.0}, 0)


def test_a_payload_on_a_constructor_without_one_is_refused() -> None:
    # It was dropped silently.
    term = cdl.Layer("Node", 1.0, (Leaf(1.0), Leaf(2.0)))
    with pytest.raises(ValueError, match="TreeF.Node carries no payload.*1.0"):
        cdl.tree_table(cdl.TreeF, term)


@pytest.mark.parametrize(
    "term", [cdl.Layer("Node", None, (Leaf(1.0), None)), (None, 1.0)]
)
def test_a_missing_payload_is_named(term: object) -> None:
    with pytest.raises(ValueError, match="TreeF.Leaf carries a payload, but a node"):
        cdl.cata(add())(term)


Nil, Cons = cdl.ListF.patterns


def suffix_weighted(layer: cdl.Layer) -> object:
    match layer:
        case Nil():
            return 0.0
        case Cons(x, (rest, acc)):
            return acc + x * rest.size
    return None


def test_a_list_algebra_of_listf_folds_a_python_list_as_one_list() -> None:
    # A Python list of numbers was read as a forest of terms ("a term of ListF
    # is a cdl.Layer, not float"); a list of Cons terms is still a forest.
    para = cdl.para(cdl.Algebra(cdl.ListF, suffix_weighted))
    xs = [1.0, 2.0, 3.0]
    expected = sum(x * (len(xs) - i) for i, x in enumerate(xs))
    assert float(para(xs)) == expected == 10.0
    assert float(para([])) == 0.0
    forest = para([Cons(1.0, Nil()), Cons(2.0, Cons(3.0, Nil()))])
    assert forest.tolist() == [1.0, 2.0 * 2 + 3.0]


def test_an_array_given_to_a_tree_scheme_of_listf_points_to_the_list_form() -> None:
    para = cdl.para(cdl.Algebra(cdl.ListF, suffix_weighted))
    with pytest.raises(TypeError, match=r"not arrays.*cdl\.para\(nil, cons\)"):
        para(jnp.arange(3.0))


def test_zygo_of_a_tree_helper_in_the_list_form_is_named() -> None:
    # It raised AttributeError: 'Algebra' object has no attribute 'nil'.
    helper = add()
    with pytest.raises(TypeError, match=r"zygo\(helper, algebra\)"):
        cdl.zygo(helper, 0.0, lambda p: p[1][1])


def test_a_list_seed_that_changes_dtype_is_named_at_the_step() -> None:
    # `n / 2` of an int seed: JAX's scan named its carry, not the step.
    step = lambda n: (n, jnp.where(n % 2 == 0, n / 2, 3 * n + 1))  # noqa: E731
    collatz = cdl.ListCoalgebra(step, lambda n: n == 1)
    with pytest.raises(TypeError, match=r"turns the seed i32\[\] into f32\[\]"):
        cdl.ana(collatz, max_size=200)(jnp.int32(27))
    with pytest.raises(TypeError, match=r"returns \(element, next seed\)"):
        cdl.ana(cdl.ListCoalgebra(lambda n: n - 1, lambda n: n <= 0), 5)(jnp.int32(3))


def test_a_coalgebra_step_may_return_a_layer_of_seeds() -> None:
    # Haskell's `coalg n = if n <= 1 then Lit n else ...`; it raised
    # "invalid literal for int() with base 10: 'Lit'".
    expr = cdl.polynomial("ExprF", Lit="a", Neg="x", Add="x x")
    lit, neg, add_ = expr.patterns

    def expand(n: jax.Array) -> object:
        split = add_(n // 2, n - n // 2)
        return cdl.choose(
            n <= 1, lit(n.astype(float)), cdl.choose(n % 2 == 0, neg(n - 1), split)
        )

    def reference(n: int) -> cdl.Layer:
        if n <= 1:
            return lit(float(n))
        if n % 2 == 0:
            return neg(reference(n - 1))
        return add_(reference(n // 2), reference(n - n // 2))

    unfold = cdl.ana(cdl.Coalgebra(expr, expand), max_depth=8, max_width=8)
    for n in range(1, 9):
        assert unfold(jnp.int32(n)).to_terms() == reference(n)


def test_a_machine_cell_returning_no_pair_is_named() -> None:
    # It raised "iteration over a 0-d array" from inside the scan.
    with pytest.raises(TypeError, match=r"returns \(output, next state\).*i32\[\]"):
        cdl.Mealy(lambda x: x[0] + x[1], 0)(jnp.array([1, 0, 1]))
    with pytest.raises(TypeError, match=r"returns \(output, next state\).*f32\[\]"):
        cdl.unfold(lambda s: s * 2, 5)(jnp.float32(1.0))


def test_a_python_branch_in_a_natural_transformation_is_named() -> None:
    # It raised JAX's TracerBoolConversionError.
    def prune(layer: cdl.Layer) -> object:
        match layer:
            case Leaf(x):
                if x > 1:
                    return Leaf(0.0)
                return Leaf(x)
            case _:
                return layer

    with pytest.raises(TypeError, match=r"branches in Python.*cdl\.choose"):
        cdl.prepro(prune, add())(Node(Node(Leaf(1.0), Leaf(2.0)), Leaf(3.0)))


def test_algebras_and_functors_built_wrong_are_named() -> None:
    with pytest.raises(TypeError, match=r"cata\(cdl\.Algebra\(functor, fn\)\)"):
        cdl.cata(lambda layer: layer)
    # It raised AttributeError: 'str' object has no attribute 'names'.
    with pytest.raises(TypeError, match="an Algebra needs a Functor, not 'TreeF'"):
        cdl.Algebra("TreeF", Leaf=lambda p: p[0], Node=lambda p: p[1][0])
    # It built a functor with no constructors.
    with pytest.raises(ValueError, match="the functor F has no constructors"):
        cdl.polynomial("F")


@pytest.mark.parametrize("given", [[1.0, 2.0], [jnp.float32(1.0)]])
def test_batch_lists_names_an_item_that_is_not_a_list(given: list) -> None:
    # "object of type 'float' has no len()", or "len() of unsized object".
    with pytest.raises(TypeError, match="batch_lists takes lists.*item 0 is a"):
        cdl.batch_lists(given, pad=True)
    # A dict is a list given as a pytree, whose leaves hold the elements' rows.
    with pytest.raises(ValueError, match=r"list 0 is a pytree whose leaves .*\[\(\)\]"):
        cdl.batch_lists([{"a": [1.0]}], pad=True)


def test_a_matching_cell_returning_a_term_points_to_a_host_fold() -> None:
    # It was a carrier mismatch between "(str × NoneType × ...)" spaces.
    def rebuild(layer: cdl.Layer) -> object:
        match layer:
            case Leaf(x):
                return Leaf(x)
            case Node(a, b):
                return Node(a, b)
        return None

    with pytest.raises(TypeError, match=r"rebuild\.Leaf returns a Leaf layer.*cataM"):
        cdl.cata(cdl.Algebra(cdl.TreeF, rebuild))(Node(Leaf(1.0), Leaf(2.0)))


def test_a_python_number_seed_takes_the_steps_dtype() -> None:
    # JAX's scan widens a weakly typed carry: an int seed halved by `/` unfolds.
    halve = cdl.ListCoalgebra(lambda s: (s, s / 2), lambda s: s < 1)
    assert cdl.ana(halve, max_size=10)(8).to_list() == [8.0, 4.0, 2.0, 1.0]


def test_a_layer_of_one_tensor_as_a_tree_cell_points_to_its_payload() -> None:
    embed = cdl.Linear(3, 8, key=jax.random.key(0))
    told = r"TreeF\.Leaf .*Linear\(3→8\) takes float\[3\]"
    with pytest.raises(TypeError, match=told):
        cdl.Algebra(cdl.TreeF, Leaf=embed, Node=lambda p: p[1][0] + p[1][1])
    with pytest.raises(TypeError, match=r"unpacked: `Algebra\(TreeF, \*\*cells\)`"):
        cdl.Algebra(cdl.TreeF, {"Leaf": embed})  # type: ignore[arg-type]
    fixed = cdl.Algebra(
        cdl.TreeF, Leaf=cdl.Fst() >> embed, Node=lambda p: p[1][0] + p[1][1]
    )
    ones = jnp.ones(3)
    folded = cdl.cata(fixed)(Node(Leaf(ones), Leaf(ones)))
    assert jnp.allclose(folded, 2 * embed(ones))
