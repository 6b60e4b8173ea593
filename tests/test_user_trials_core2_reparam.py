"""2-cells as a new user gets them wrong: a tie of a parameter to itself, and a
reparametrisation returning the wrong tree, are named by path."""

import jax
import pytest

import cdl

K1, K2 = jax.random.split(jax.random.key(0))


def test_a_tie_whose_target_is_its_source_says_so() -> None:
    model = cdl.Linear(4, 4, key=K1) >> cdl.Tanh() >> cdl.Linear(4, 4, key=K2)
    with pytest.raises(ValueError) as e:
        cdl.tie(model, lambda m: m.factors[0].weight, lambda m: m.factors[0].weight)
    assert str(e.value) == (
        "tie(Linear(4→4) >> Tanh() >> Linear(4→4)): target 0 picks the source "
        "itself; a tie copies the source into other parameters."
    )


def test_a_reparametrisation_of_the_wrong_tree_names_the_first_path() -> None:
    # It printed both PyTreeDefs, a screenful for any real model.
    f = cdl.Linear(3, 2, key=K1) >> cdl.Relu()
    with pytest.raises(TypeError) as e:
        cdl.reparam(f, lambda p: p.factors[0], cdl.parameters(f))
    assert str(e.value) == (
        "the reparametrisation of Linear(3→2) >> Relu() must return parameters "
        "shaped like cdl.parameters(Linear(3→2) >> Relu()), but returned nothing "
        "at .factors[0].weight where those hold float32[2, 3]."
    )
    assert "PyTreeDef" not in str(e.value)


def test_ties_between_arrays_of_different_shapes_name_both() -> None:
    model = cdl.Linear(4, 8, key=K1) >> cdl.Tanh() >> cdl.Linear(8, 3, key=K2)
    with pytest.raises(TypeError, match=r"float32\[3, 8\] at \.factors\[2\]\.weight"):
        cdl.tie(model, lambda m: m.factors[0].weight, lambda m: m.factors[2].weight)
