"""Composites as a new user builds them: residuals of shape-polymorphic layers,
chains of thousands of layers built from either end, and the errors they give."""

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import cdl
from cdl.optics import Adam, Learner, MeanSquaredError
from cdl.optics._messages import checkpoint_other_run


@pytest.mark.parametrize(
    "branch", [cdl.Tanh(), cdl.Relu() >> cdl.Tanh(), cdl.LayerNorm(3)]
)
def test_a_residual_of_a_shape_polymorphic_branch_builds(branch: cdl.Para) -> None:
    # Unifying two copies of one variadic run bound it to itself, and expanding
    # it recursed forever.
    by_hand = cdl.Copy() >> (branch @ cdl.Identity()) >> cdl.Add()
    model = cdl.residual(branch)
    x = jnp.arange(3.0)
    assert jnp.allclose(by_hand(x), branch(x) + x)
    assert jnp.allclose(model(x), branch(x) + x)
    assert repr(by_hand.dom) == repr(by_hand.cod) == repr(branch.dom)


def test_a_run_of_dimensions_that_would_hold_itself_is_a_mismatch() -> None:
    stack = cdl.lift(
        lambda x: jnp.stack([x, x, x], -1),
        dom=Float[Array, "*s"],
        cod=Float[Array, "*s 3"],
    )
    output = r"\(float\[\*s,3\] × float\[\*s\]\)"
    with pytest.raises(cdl.CompositionError, match=output):
        cdl.Copy() >> (stack @ cdl.Identity()) >> cdl.Add()


def _walks_of(chain: cdl.Para, build: object) -> int:
    """How many times Equinox walks `chain`'s leaves while `build()` runs."""
    walks = 0
    leaves = jax.tree_util.tree_leaves

    def counting(tree: object, *args: object, **kwargs: object) -> object:
        nonlocal walks
        if isinstance(tree, tuple) and tree and isinstance(tree[0], tuple):
            walks += any(part is chain for part in tree[0])
        return leaves(tree, *args, **kwargs)  # type: ignore[arg-type]

    jax.tree_util.tree_leaves = counting
    try:
        build()  # type: ignore[operator]
    finally:
        jax.tree_util.tree_leaves = leaves
    return walks


def test_adding_a_layer_in_front_of_a_long_chain_does_not_walk_it() -> None:
    # Building a chain from its right end, `f >> chain`, looked `signature` up on
    # the chain; Equinox wraps a looked-up method as a module and walks the whole
    # chain to build it: quadratic in the chain's length (14 s for 4,000 layers,
    # 1 s now). A composite's own construction does not walk its factors.
    chain = cdl.Compose(*[cdl.Tanh() for _ in range(1000)])
    assert _walks_of(chain, lambda: cdl.Relu() >> chain) == 0
    assert _walks_of(chain, lambda: (chain.dom, chain.cod)) == 0


def test_errors_about_a_long_chain_name_its_ends_and_a_count() -> None:
    chain = cdl.Compose(*[cdl.Tanh() if i % 2 else cdl.Bias(4) for i in range(2000)])
    with pytest.raises(cdl.SpaceError) as call:
        chain(jnp.ones(5))
    assert str(call.value) == (
        "Bias(4,) >> Tanh() >> Bias(4,) >> …1,994 more… >> Tanh() >> Bias(4,) >> "
        "Tanh() expects input float[4], but was given f32[5] (dimension 4 is not 5)."
    )
    with pytest.raises(cdl.CompositionError) as joined:
        chain >> cdl.Bias(5)
    assert len(str(joined.value)) < 400
    assert "…1,994 more…" in str(joined.value)
    with pytest.raises(TypeError, match=r"…1,994 more….* holds arrays"):
        hash(chain)
    assert chain.label.count(">>") == 1999  # the label itself stays whole


def test_a_checkpoint_of_a_long_chain_changed_inside_names_the_factor() -> None:
    # Both labels whole made a 5,000-character message; shortened alone they
    # would look the same. The message says where they differ.
    layers = [cdl.Tanh() if i % 2 else cdl.Bias(4) for i in range(200)]
    changed = list(layers)
    changed[101] = cdl.Relu()
    saved, given = cdl.Compose(*layers), cdl.Compose(*changed)
    text = checkpoint_other_run(
        "runs/a",
        {"model": saved.label, "optimiser": "Adam"},
        {"model": given.label, "optimiser": "Adam"},
        None,
    )
    assert len(text) < 800
    assert "(the models' factor 101 is Tanh() there and Relu() here)" in text


def test_a_learner_of_a_long_chain_is_named_by_its_ends() -> None:
    chain = cdl.Compose(
        *[cdl.Dropout(0.1) if i % 2 else cdl.Bias(3) for i in range(2000)]
    )
    learner = Learner(chain, MeanSquaredError(), Adam(1e-2))
    with pytest.raises(ValueError) as e:
        learner.step(learner.init(chain), jnp.ones((2, 3)), jnp.ones((2, 3)))
    assert str(e.value).startswith(
        "Learner(Bias(3,) >> Dropout(0.1) >> Bias(3,) >> …1,994 more… >> "
    )
    assert len(str(e.value)) < 400
