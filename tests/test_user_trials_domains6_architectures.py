"""Architectures at unusual sizes, as an outside user builds them."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.architectures import layers_of, resnet, unet, vit
from cdl.architectures._twins import resnet_twin

SDS = jax.ShapeDtypeStruct


def test_vit_refuses_an_image_its_patches_would_crop() -> None:
    # A ViT for 6×6 images with 2×2 patches took a 7×7 image: the strided stem
    # dropped its last row and column and the model answered as if for the crop.
    key = jax.random.key(0)
    # weights filled with zeros: a JAX sampler per weight shape would be slow
    shell = eqx.filter_eval_shape(lambda: vit(6, 2, 1, 3, 4, 1, 2, key=key))
    model = jax.tree.map(
        lambda a: jnp.zeros(a.shape, a.dtype) if isinstance(a, SDS) else a,
        shell,
        is_leaf=lambda a: isinstance(a, SDS),
    )
    assert repr(model.dom) == "float[1,6,6]"
    image = jax.random.normal(key, (1, 7, 7))
    with pytest.raises(
        cdl.SpaceError, match=r"float\[1,6,6\], but was given f32\[1,7,7\]"
    ):
        model(image)
    with pytest.raises(
        cdl.SpaceError, match=r"float\[1,6,6\], but was given f32\[1,6,4\]"
    ):
        model(image[:, :6, :4])
    # the stem is still the Conv2d it was
    (stem,) = layers_of(model, cdl.Conv2d)
    assert stem.label == "Conv2d(1→4, 2×2)" and stem.stride == (2, 2)
    # the image it was built for is taken, alone or in a batch (traced, not run)
    assert eqx.filter_eval_shape(model, image[:, :6, :6]).shape == (3,)
    batch = jnp.stack([image[:, :6, :6]] * 2)
    assert eqx.filter_eval_shape(jax.vmap(model), batch).shape == (2, 3)


def test_unet_given_a_channels_last_image_says_so() -> None:
    # A convolution given (h, w, c) says the image looks channels-last, but a U-Net,
    # whose first factor is its top level (a block), only said "dimension 3 is not 8".
    shell = eqx.filter_eval_shape(lambda: unet(3, 1, 2, 2, key=jax.random.key(0)))
    image = jnp.ones((8, 8, 3))
    with pytest.raises(cdl.SpaceError, match=r"dimension 3 is not 8\). It looks chan"):
        shell(image)
    assert eqx.filter_eval_shape(shell, jnp.moveaxis(image, -1, 0)).shape == (1, 8, 8)


@pytest.mark.parametrize("stem", ["small", "imagenet"])
def test_resnet_given_a_channels_last_image_says_so(stem: str) -> None:
    # A convolution given (h, w, c) says the image looks channels-last, but a ResNet,
    # whose first factor is its stem's `conv @ id` (a Tensor), said only
    # "dimension 3 is not 8".
    build = eqx.nn.make_with_state(resnet)
    shell, state = eqx.filter_eval_shape(
        build, (1,), (2,), 3, 4, stem=stem, key=jax.random.key(0)
    )
    image = jnp.ones((8, 8, 3))
    with pytest.raises(cdl.SpaceError, match=r"dimension 3 is not 8\). It looks chan"):
        shell((image, state))
    # `cdl.fit` checks the images alone against the model's domain
    assert "jnp.moveaxis(x, -1, 0)" in shell.input_hint(cdl.space_of(image))
    # a channels-first image is not hinted at, and runs
    assert shell.input_hint(cdl.space_of(jnp.ones((3, 8, 8)))) == ""
    axes = {"axis_name": "batch", "in_axes": ((0, None),), "out_axes": (0, None)}
    images = jnp.stack([jnp.moveaxis(image, -1, 0)] * 2)
    run = lambda m, x: jax.vmap(m, **axes)(x)  # noqa: E731
    y, _ = eqx.filter_eval_shape(run, shell, (images, state))
    assert y.shape == (2, 4)


def test_resnet_twin_of_an_imagenet_stem_has_its_max_pool() -> None:
    # The twin of a ResNet with the ImageNet stem was built without the stem's
    # 3×3 max pool of stride 2, silently: it computed another function.
    build = lambda: eqx.nn.make_with_state(resnet)(  # noqa: E731
        (1,), (2,), 1, 3, stem="imagenet", key=jax.random.key(0)
    )
    rng = np.random.default_rng(0)
    model, state = jax.tree.map(
        lambda a: (
            jnp.asarray(0.5 * rng.standard_normal(a.shape), a.dtype)
            if isinstance(a, jax.ShapeDtypeStruct)
            else a
        ),
        eqx.filter_eval_shape(build),
    )
    twin, twin_state = resnet_twin(model)
    images = jax.random.normal(jax.random.key(1), (3, 1, 9, 9))  # odd: pool pads
    ours, _ = eqx.filter_jit(
        lambda m, x: jax.vmap(m, axis_name="batch", in_axes=((0, None),),
                              out_axes=(0, None))(x)
    )(model, (images, state))  # fmt: skip
    theirs, _ = eqx.filter_jit(
        lambda m, x, s: jax.vmap(m, axis_name="batch", in_axes=(0, None),
                                 out_axes=(0, None))(x, s)
    )(twin, images, twin_state)  # fmt: skip
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_layers_of_a_tied_gpt_as_applied_holds_the_tied_weight() -> None:
    # layers_of(tied_gpt, Linear)[-1] is the read-out as a parameter, whose tied
    # weight is a hole (None); a user reading the weights had no way to the one used.
    from cdl.architectures import gpt

    model = gpt(11, 8, 1, 2, 6, key=jax.random.key(0))
    (table,) = [e.table for e in layers_of(model, cdl.Embedding)]
    assert layers_of(model, cdl.Linear)[-1].weight is None
    readout = layers_of(model, cdl.Linear, applied=True)[-1]
    assert readout.weight is table
    assert readout(jnp.ones(8)).shape == (11,)
    # a frozen tied GPT: its read-out holds no parameter, but is applied
    frozen = cdl.freeze(model, lambda p: layers_of(p, cdl.LayerNorm)[0].weight)
    linears = layers_of(frozen, cdl.Linear, applied=True)
    assert len(linears) == len(layers_of(model, cdl.Linear)) == 7
    assert (linears[-1].weight == table).all()
    norm = layers_of(frozen, cdl.LayerNorm, applied=True)[0]
    assert isinstance(norm.weight, jax.Array)  # the frozen value, not `Frozen`
    with pytest.raises(TypeError, match="layers_of: applied must be True or False"):
        layers_of(model, cdl.Linear, applied="yes")  # type: ignore[arg-type]


def test_batch_norm_in_inference_uses_its_running_statistics_undivided() -> None:
    # docs/architectures.md says BatchNorm equals eqx.nn.BatchNorm(mode="batch") in
    # training only: both keep the same running statistics, which cdl uses as they
    # are in inference (as PyTorch does) and Equinox divides by 1 - momentum^steps.
    bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    theirs, their_state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        3, "batch", momentum=0.9, mode="batch"
    )
    xs = 2 * jax.random.normal(jax.random.key(0), (16, 3, 4)) + 1
    ys, state = jax.vmap(
        bn, axis_name="batch", in_axes=((0, None),), out_axes=(0, None)
    )((xs, state))
    zs, their_state = jax.vmap(
        theirs, axis_name="batch", in_axes=(0, None), out_axes=(0, None)
    )(xs, their_state)
    assert jnp.allclose(ys, zs, atol=1e-5)
    mean, var = state.get(bn.running)
    hidden = their_state.get(theirs.batch_state_index)
    assert jnp.allclose(mean, hidden[0]) and jnp.allclose(var, hidden[1])
    y, _ = cdl.inference_mode(bn)((xs[0], state))
    scale = (var + bn.eps) ** -0.5
    assert jnp.allclose(y, (xs[0] - mean[:, None]) * scale[:, None], atol=1e-5)
    z, _ = eqx.nn.inference_mode(theirs)(xs[0], their_state)
    assert float(jnp.abs(y - z).max()) > 1.0  # Equinox divides by 1 - 0.9


def test_generate_names_a_prompt_token_outside_the_vocabulary() -> None:
    # A prompt token the embedding has no row for failed inside the sampling loop,
    # in a long Equinox runtime report from the compiled loop.
    from cdl.architectures import generate, gpt

    model = gpt(5, 8, 1, 2, 16, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"prompt\[1\] is token 7, but .*0\.\.4 only"):
        generate(model, jnp.array([1, 7]), 4, key=jax.random.key(1))
    with pytest.raises(ValueError, match=r"prompt\[0\] is token -1"):
        generate(model, jnp.array([-1, 2]), 4, key=jax.random.key(1))
    # every token of the vocabulary is taken, of a narrow dtype too
    out = generate(model, jnp.array([4, 0], jnp.uint8), 3, key=jax.random.key(1))
    assert out[:2].tolist() == [4, 0]
