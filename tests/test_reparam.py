from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import cdl
from cdl.architectures import layers_of
from cdl.optics import Adam, Learner, MeanSquaredError, fit, from_optax

K1, K2, K3 = jax.random.split(jax.random.key(0), 3)


def autoencoder() -> cdl.Compose:  # type: ignore[type-arg]
    return cdl.Compose(
        cdl.Linear(6, 3, use_bias=False, key=K1) >> cdl.Tanh(),
        cdl.Linear(3, 6, use_bias=False, key=K2),
    )


def test_tied_autoencoder_gradient_is_the_sum_over_both_uses() -> None:
    ae = autoencoder()
    tied = cdl.tie(
        ae,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[2].weight,
        via=jnp.transpose,
    )
    assert len(jax.tree.leaves(tied)) == 1
    x = jax.random.normal(K3, (6,))

    def loss(model: cdl.Para) -> jax.Array:  # type: ignore[type-arg]
        return ((model(x) - x) ** 2).sum()

    w = tied.params.factors[0].weight
    untied = eqx.tree_at(lambda m: m.factors[2].weight, ae, w.T)
    untied = eqx.tree_at(lambda m: m.factors[0].weight, untied, w)
    assert jnp.allclose(tied(x), untied(x))
    g_untied = jax.grad(loss)(untied)
    expected = g_untied.factors[0].weight + g_untied.factors[2].weight.T
    g_tied = jax.grad(loss)(tied)
    np.testing.assert_allclose(g_tied.params.factors[0].weight, expected, rtol=1e-5)


def test_cell_shared_across_three_steps() -> None:
    cell = cdl.Linear(4, 4, key=K1) >> cdl.Tanh()
    unrolled = cdl.repeat(cell, 3)
    assert len(jax.tree.leaves(unrolled)) == len(jax.tree.leaves(cell)) == 2
    x = jax.random.normal(K2, (4,))
    assert jnp.allclose(unrolled(x), cell(cell(cell(x))), atol=1e-6)

    def loss(model: cdl.Para) -> jax.Array:  # type: ignore[type-arg]
        return model(x).sum()

    copies = cell >> cell >> cell
    g_copies = jax.grad(loss)(copies)
    assert len(g_copies.factors) == 6
    per_step = [g_copies.factors[i : i + 2] for i in (0, 2, 4)]
    total = jax.tree.map(lambda *gs: sum(gs), *per_step)
    g_shared = jax.grad(loss)(unrolled)
    for a, b in zip(
        jax.tree.leaves(g_shared.cell), jax.tree.leaves(total), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    opt = optax.sgd(0.1)
    state = opt.init(eqx.filter(unrolled, eqx.is_array))
    updates, _ = opt.update(g_shared, state)
    stepped = eqx.apply_updates(unrolled, updates)
    np.testing.assert_allclose(
        stepped.cell.factors[0].weight,
        cell.factors[0].weight - 0.1 * total[0].weight,
        rtol=1e-5,
        atol=1e-6,
    )


def test_repeat_needs_an_endomorphism() -> None:
    with pytest.raises(cdl.CompositionError):
        cdl.repeat(cdl.Linear(2, 3, key=K1), 2)
    with pytest.raises(ValueError, match="positive int"):
        cdl.repeat(cdl.Linear(2, 2, key=K1), 0)


def test_frozen_parameters_get_no_gradient() -> None:
    model = cdl.freeze(autoencoder(), lambda m: m.factors[:2])
    x = jnp.ones(6)
    g = jax.grad(lambda m: (m(x) ** 2).sum())(model)
    assert jnp.all(g.params.factors[0].weight.value == 0)
    assert jnp.any(g.params.factors[2].weight != 0)
    fully = cdl.freeze(autoencoder())
    g = jax.grad(lambda m: (m(x) ** 2).sum())(fully)
    assert all(jnp.all(leaf == 0) for leaf in jax.tree.leaves(g))


def test_reparam_keeps_spaces_and_checks_its_map() -> None:
    f = cdl.Linear(3, 2, key=K1)
    doubled = cdl.reparam(
        f, lambda p: jax.tree.map(lambda a: 2 * a, p), cdl.parameters(f)
    )
    assert repr(doubled.dom) == "float[3]" and repr(doubled.cod) == "float[2]"
    x = jnp.ones(3)
    np.testing.assert_allclose(doubled(x), 2 * f(x), rtol=1e-6)
    with pytest.raises(cdl.CompositionError):
        doubled >> cdl.Linear(3, 1, key=K2)
    with pytest.raises(TypeError, match="must return parameters shaped like"):
        cdl.reparam(f, lambda p: p.weight, cdl.parameters(f))


def test_reparam_serialises_and_jits(tmp_path: object) -> None:
    tied = cdl.repeat(cdl.Linear(3, 3, key=K1), 2)
    path = f"{tmp_path}/tied.eqx"
    eqx.tree_serialise_leaves(path, tied)
    blank = jax.tree.map(jnp.zeros_like, tied)
    loaded = eqx.tree_deserialise_leaves(path, blank)
    x = jnp.ones(3)
    assert jnp.array_equal(eqx.filter_jit(lambda m, x: m(x))(loaded, x), tied(x))


def test_tying_parameters_of_different_shapes_is_refused_when_tied() -> None:
    k1, k2 = jax.random.split(jax.random.key(0))
    model = cdl.Linear(3, 1, key=k1) >> cdl.Tanh() >> cdl.Linear(1, 4, key=k2)
    with pytest.raises(TypeError, match=r"float32\[4\] at .factors\[2\].bias"):
        cdl.tie(model, lambda m: m.factors[0].bias, lambda m: m.factors[2].bias)


@pytest.mark.parametrize(
    "optimiser",
    [
        lambda: from_optax(optax.adamw(0.1, weight_decay=0.5)),
        lambda: from_optax(optax.lion(0.1, weight_decay=0.5)),
        lambda: from_optax(optax.chain(optax.add_decayed_weights(0.5), optax.sgd(0.1))),
        lambda: from_optax(optax.sgd(0.1, momentum=0.9)),
        lambda: Adam(0.1),
    ],
)
def test_no_optimiser_moves_frozen_parameters(optimiser: Any) -> None:
    base = cdl.Linear(4, 3, key=K1) >> cdl.Tanh() >> cdl.Linear(3, 2, key=K2)
    model = cdl.freeze(base, lambda m: m.factors[0])
    xs = jax.random.normal(K3, (16, 4))
    ys = xs[:, :2] ** 2
    learner = Learner(model, MeanSquaredError(), optimiser())
    trained = fit(learner, model, xs, ys, epochs=3, batch_size=4,
                  key=jax.random.key(0), progress=False).model  # fmt: skip
    before, after = model.base(), trained.base()
    assert jnp.array_equal(after.factors[0].weight, before.factors[0].weight)
    assert jnp.array_equal(after.factors[0].bias, before.factors[0].bias)
    assert not jnp.array_equal(after.factors[2].weight, before.factors[2].weight)
    # The frozen arrays are no trainable parameters: not in the state at all.
    state = learner.init(model)
    assert state.params.params.factors[0].weight is None


def test_frozen_leaves_are_public_names() -> None:
    from cdl import Frozen, is_frozen

    model = cdl.freeze(autoencoder(), lambda m: m.factors[0].weight)
    leaves = jax.tree.leaves(model, is_leaf=is_frozen)
    assert [is_frozen(leaf) for leaf in leaves] == [True, False]
    assert isinstance(leaves[0], Frozen) and leaves[0].value.shape == (3, 6)
    assert isinstance(model.params.factors[0].weight, cdl.Frozen)


def test_a_frozen_model_can_be_frozen_further() -> None:
    once = cdl.freeze(autoencoder(), lambda m: m.factors[0].weight)
    twice = cdl.freeze(once, lambda m: m.params.factors[2].weight)
    x = jnp.ones(6)
    assert bool(jnp.allclose(twice(x), autoencoder()(x)))
    g = jax.grad(lambda m: (m(x) ** 2).sum())(twice)
    assert all(jnp.all(leaf == 0) for leaf in jax.tree.leaves(g))
    assert cdl.is_frozen(twice.params.params.factors[0].weight)
    assert cdl.is_frozen(twice.params.params.factors[2].weight)


def test_a_picker_that_misses_names_where_the_parameters_are() -> None:
    once = cdl.freeze(autoencoder(), lambda m: m.factors[0].weight)
    with pytest.raises(TypeError, match=r"freeze\(.*'Reparam' .* at \.params"):
        cdl.freeze(once, lambda m: m.factors[2].weight)
    with pytest.raises(TypeError, match=r"tie\(.*IndexError.*shaped like the morph"):
        cdl.tie(autoencoder(), lambda m: m.factors[5].weight, lambda m: m.factors[0])


def batch_norm_body() -> cdl.Para[Any, Any]:
    return (cdl.Linear(2, 3, key=K1) @ cdl.Identity()) >> cdl.BatchNorm(3)


def test_equinox_inference_mode_switches_a_frozen_or_tied_batch_norm() -> None:
    tied = cdl.tie(
        batch_norm_body() >> (cdl.Linear(3, 3, key=K2) @ cdl.Identity()),
        lambda m: m.factors[0].factors[0].bias,
        lambda m: m.factors[2].factors[0].bias,
    )
    for model in (cdl.freeze(cdl.BatchNorm(3)), tied):
        off = eqx.nn.inference_mode(model)
        assert [bn.inference for bn in layers_of(off.base(), cdl.BatchNorm)] == [True]
        back = eqx.nn.inference_mode(off, value=False)
        assert jax.tree.structure(back) == jax.tree.structure(model)
        same = cdl.inference_mode(model)
        assert jax.tree.structure(same) == jax.tree.structure(off)


@pytest.mark.parametrize("freeze_first", [True, False])
def test_a_frozen_batch_norm_keeps_its_running_statistics_as_state(
    freeze_first: bool,
) -> None:
    if freeze_first:
        model, state = eqx.nn.make_with_state(lambda: cdl.freeze(batch_norm_body()))()
    else:
        body, state = eqx.nn.make_with_state(batch_norm_body)()
        model = cdl.freeze(body)
    # The running statistics are the state's, once, not frozen parameters.
    assert not any(
        cdl.is_frozen(leaf) for leaf in jax.tree.leaves(state, is_leaf=cdl.is_frozen)
    )
    assert len(jax.tree.leaves(state)) == 2
    xs = jax.random.normal(K3, (8, 2))
    batched = jax.vmap(
        model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None)
    )
    _, new = batched((xs, state))
    bn = layers_of(model.base(), cdl.BatchNorm)[0]
    mean, _ = new.get(bn.running)
    hidden = jax.vmap(model.base().factors[0].factors[0])(xs)
    assert bool(jnp.allclose(mean, 0.1 * hidden.mean(0), atol=1e-6))
    # Frozen in inference mode, it holds its running statistics too.
    held = eqx.nn.inference_mode(model)
    _, same = jax.vmap(held, in_axes=((0, None),), out_axes=(0, None))((xs, state))
    for a, b in zip(jax.tree.leaves(same), jax.tree.leaves(state), strict=True):
        assert bool(jnp.array_equal(a, b))
