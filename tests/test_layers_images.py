import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl

KEY = jax.random.key(0)


def batched(model: cdl.Para) -> object:
    return jax.vmap(model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None))


def test_rms_norm_equals_equinox_on_each_position() -> None:
    x = jax.random.normal(KEY, (5, 6))
    ours = cdl.RMSNorm(6)
    ours = eqx.tree_at(lambda m: m.weight, ours, jnp.linspace(0.5, 2, 6))
    theirs = eqx.tree_at(
        lambda m: m.weight, eqx.nn.RMSNorm(6, use_bias=False), ours.weight
    )
    assert jnp.allclose(ours(x), jax.vmap(theirs)(x), atol=1e-6)


def test_batch_norm_trains_on_batch_statistics_and_infers_with_running_ones() -> None:
    bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3, momentum=0.5)
    xs = 2.0 + 3.0 * jax.random.normal(KEY, (32, 3, 4, 4))
    ys, state = batched(bn)((xs, state))
    mean, var = xs.mean(axis=(0, 2, 3)), xs.var(axis=(0, 2, 3))
    expected = (xs - mean[None, :, None, None]) / jnp.sqrt(
        var[None, :, None, None] + 1e-5
    )
    assert jnp.allclose(ys, expected, atol=1e-4)
    running_mean, running_var = state.get(bn.running)
    assert jnp.allclose(running_mean, 0.5 * mean, atol=1e-5)
    assert jnp.allclose(running_var, 0.5 + 0.5 * var, atol=1e-4)
    frozen = eqx.nn.inference_mode(bn)
    one, same = frozen((xs[0], state))
    assert same is state
    scale = jnp.sqrt(running_var + 1e-5)[:, None, None]
    assert jnp.allclose(one, (xs[0] - running_mean[:, None, None]) / scale, atol=1e-5)


def test_batch_norm_in_training_outside_a_named_batch_axis_says_how_to_map_it() -> None:
    bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    with pytest.raises(NameError, match=r"BatchNorm\(3\) in training mode .* 'batch'"):
        bn((jnp.ones((3, 4)), state))
    with pytest.raises(NameError, match=r"jax.vmap\(model, axis_name='batch'"):
        jax.vmap(bn, in_axes=((0, None),), out_axes=(0, None))(
            (jnp.ones((2, 3)), state)
        )


def test_batch_norm_equals_equinox_batch_mode_in_training() -> None:
    model = cdl.BatchNorm(4)
    ours, state = eqx.nn.make_with_state(lambda: model)()
    theirs, their_state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(
        4, "batch", mode="batch", momentum=0.9
    )
    xs = jax.random.normal(KEY, (8, 4, 3))
    y1, _ = batched(ours)((xs, state))
    y2, _ = jax.vmap(theirs, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        xs, their_state
    )
    assert jnp.allclose(y1, y2, atol=1e-5)


def test_stateless_layers_join_a_batch_norm_chain_as_f_at_id() -> None:
    conv = cdl.Conv2d(1, 4, 3, padding=1, key=KEY)
    model, state = eqx.nn.make_with_state(
        lambda: (conv @ cdl.Identity()) >> cdl.BatchNorm(4)
    )()
    assert repr(model.cod) == "(float[4,out_height,out_width] × State)"
    with pytest.raises(cdl.CompositionError, match="BatchNorm\\(5\\)"):
        (conv @ cdl.Identity()) >> cdl.BatchNorm(5)
    ys, _ = batched(model)((jnp.ones((2, 1, 5, 5)), state))
    assert ys.shape == (2, 4, 5, 5)


@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (cdl.MaxPool2d(2), eqx.nn.MaxPool2d(2, 2), (3, 8, 6)),
        (cdl.MaxPool2d(3, 2, 1), eqx.nn.MaxPool2d(3, 2, 1), (2, 7, 7)),
        (cdl.AvgPool2d(2), eqx.nn.AvgPool2d(2, 2), (3, 8, 6)),
        (cdl.MaxPool1d(3, 1), eqx.nn.MaxPool1d(3, 1), (2, 9)),
        (cdl.AvgPool1d(2), eqx.nn.AvgPool1d(2, 2), (2, 9)),
    ],
)
def test_pools_equal_equinox_and_know_their_output_sizes(
    ours: cdl.Para, theirs: eqx.Module, shape: tuple[int, ...]
) -> None:
    x = jax.random.normal(KEY, shape)
    out = ours(x)
    assert jnp.allclose(out, theirs(x), atol=1e-6)
    assert ours.output_space(cdl.space_of(x)).shape == out.shape


@pytest.mark.parametrize(
    ("stride", "padding", "output_padding"),
    [(1, 0, 0), (2, 1, 1)],
)
def test_transposed_convolutions_equal_equinox(
    stride: int, padding: int, output_padding: int
) -> None:
    ours = cdl.ConvTranspose2d(
        3, 2, 3, stride=stride, padding=padding, output_padding=output_padding, key=KEY
    )
    theirs = eqx.nn.ConvTranspose2d(
        3, 2, 3, stride=stride, padding=padding, output_padding=output_padding, key=KEY
    )
    theirs = eqx.tree_at(
        lambda t: (t.weight, t.bias), theirs, (ours.weight, ours.bias.reshape(2, 1, 1))
    )
    x = jax.random.normal(KEY, (3, 5, 4))
    out = ours(x)
    assert jnp.allclose(out, theirs(x), atol=1e-5)
    assert ours.output_space(cdl.space_of(x)).shape == out.shape
    line = cdl.ConvTranspose1d(3, 2, 3, stride=stride, padding=padding, key=KEY)
    assert line(x[:, 0]).shape == (2, (4 - 1) * stride - 2 * padding + 3)


def test_upsample_repeats_or_interpolates() -> None:
    x = jax.random.normal(KEY, (2, 3, 4))
    near = cdl.Upsample(2)(x)
    assert jnp.array_equal(near, jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2))
    linear = cdl.Upsample(3, "linear")(x)
    assert jnp.allclose(linear, jax.image.resize(x, (2, 9, 12), "linear"))
    assert cdl.Upsample(2).output_space(cdl.space_of(x)).shape == (2, 6, 8)
    assert cdl.GlobalAvgPool()(x).shape == (2,)


def test_layer_arguments_are_checked() -> None:
    with pytest.raises(
        ValueError, match="MaxPool2d: kernel_size must be a positive int"
    ):
        cdl.MaxPool2d(0)
    with pytest.raises(
        ValueError, match="ConvTranspose2d: stride must be an int or a tuple of 2"
    ):
        cdl.ConvTranspose2d(2, 2, 3, stride=(1, 2, 3), key=KEY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="BatchNorm: momentum must lie in"):
        cdl.BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="RMSNorm: dim must be a positive int"):
        cdl.RMSNorm(-1)
    with pytest.raises(ValueError, match="Upsample: scale must be a positive int"):
        cdl.Upsample(0)
    with pytest.raises(
        ValueError,
        match=r"ConvTranspose2d: output_padding must be smaller than stride .* "
        r"given \(2, 2\) with stride \(2, 2\)",
    ):
        cdl.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2, key=KEY)


@pytest.mark.parametrize(
    ("pool", "shape"),
    [
        (cdl.MaxPool2d(3), (2, 2, 5)),
        (cdl.AvgPool2d((2, 4), padding=(0, 1)), (1, 3, 1)),
        (cdl.MaxPool1d(4, padding=1), (3, 1)),
        (cdl.AvgPool1d(6), (2, 5)),
    ],
)
def test_a_window_larger_than_the_padded_input_is_refused(pool, shape) -> None:
    x = jnp.ones(shape)
    with pytest.raises(cdl.SpaceError, match="is larger than the padded input"):
        pool(x)
    with pytest.raises(cdl.CompositionError, match="is larger than the padded input"):
        (cdl.Identity() >> pool).output_space(cdl.space_of(x))
    # one size larger fits
    assert pool(jnp.ones(tuple(n + 2 for n in shape))).size > 0


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (cdl.Conv1d(2, 3, 3, key=KEY), (2, 6)),
        (cdl.Conv2d(2, 3, 3, key=KEY), (2, 5, 5)),
        (cdl.ConvTranspose1d(2, 3, 2, stride=2, key=KEY), (2, 4)),
        (cdl.ConvTranspose2d(2, 3, 2, stride=2, key=KEY), (2, 4, 4)),
    ],
)
@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_convolutions_promote_a_narrower_input_as_linear_does(
    layer: cdl.Para, shape: tuple[int, ...], dtype: type
) -> None:
    x = jax.random.normal(KEY, shape)
    out = layer(x.astype(dtype))
    assert out.dtype == jnp.float32
    assert jnp.allclose(out, layer(x.astype(dtype).astype(jnp.float32)))
    narrow = jax.tree.map(
        lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, layer
    )
    assert narrow(x.astype(dtype)).dtype == dtype


def test_a_mean_over_nothing_is_named_not_nan() -> None:
    with pytest.raises(cdl.SpaceError, match=r"SequenceMean\(\) averages over the"):
        cdl.SequenceMean()(jnp.ones((0, 4)))
    with pytest.raises(cdl.SpaceError, match=r"GlobalAvgPool\(\) .* shape \(3, 0, 4\)"):
        cdl.GlobalAvgPool()(jnp.ones((3, 0, 4)))
    assert cdl.SequenceMean()(jnp.ones((2, 0))).shape == (0,)  # no features: fine


def test_composites_pass_on_the_hint_of_the_convolution_the_input_reaches() -> None:
    conv = cdl.Conv2d(3, 3, 3, padding=1, key=jax.random.key(0))
    image = jnp.ones((8, 8, 3))  # channels last
    for model, x in [
        (cdl.residual(conv), image),
        (conv @ conv, (jnp.ones((3, 8, 8)), image)),
        (cdl.Tanh() >> conv, image),
    ]:
        with pytest.raises(cdl.SpaceError, match=r"jnp\.moveaxis\(x, -1, 0\)"):
            model(x)
