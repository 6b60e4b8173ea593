import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cdl

KEY = jax.random.key(0)


def conv1d_reference(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int
) -> np.ndarray:  # noqa: E501
    x = np.pad(x, ((0, 0), (pad, pad)))
    out_len = (x.shape[1] - w.shape[2]) // stride + 1
    out = np.zeros((w.shape[0], out_len))
    for o in range(w.shape[0]):
        for t in range(out_len):
            window = x[:, t * stride : t * stride + w.shape[2]]
            out[o, t] = (window * w[o]).sum() + b[o]
    return out


@settings(max_examples=8, deadline=None)
@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 2),
    st.integers(0, 2), st.integers(0, 1000),
)  # fmt: skip
def test_conv1d_matches_direct_sum(
    c_in: int, c_out: int, k: int, stride: int, pad: int, seed: int
) -> None:
    length = k + 5
    conv = cdl.Conv1d(
        c_in, c_out, k, stride=stride, padding=pad, key=jax.random.key(seed)
    )
    x = jax.random.normal(jax.random.key(seed + 1), (c_in, length))
    expected = conv1d_reference(
        np.asarray(x), np.asarray(conv.weight), np.asarray(conv.bias), stride, pad
    )
    np.testing.assert_allclose(conv(x), expected, rtol=1e-4, atol=1e-4)
    assert conv.output_space(cdl.space_of(x)) == cdl.space_of(conv(x)).__class__(
        conv.output_space(cdl.space_of(x)).dtype,  # type: ignore[union-attr]
        expected.shape,
    )


def test_conv2d_spaces_flow_into_linear() -> None:
    net = (
        cdl.Reshape(1, 8, 8)
        >> cdl.Conv2d(1, 4, 3, key=KEY)
        >> cdl.Relu()
        >> cdl.Conv2d(4, 2, 3, stride=2, padding=1, key=KEY)
        >> cdl.Flatten()
    )
    assert repr(net.output_space(cdl.space_of(jnp.zeros(64)))) == "float[18]"
    assert net(jnp.zeros(64)).shape == (18,)
    assert (net >> cdl.Linear(18, 3, key=KEY))(jnp.zeros(64)).shape == (3,)


def test_conv_rejects_wrong_channels() -> None:
    with pytest.raises(cdl.CompositionError, match="Conv2d"):
        cdl.Conv2d(1, 4, 3, key=KEY) >> cdl.Conv2d(3, 2, 3, key=KEY)
    with pytest.raises(cdl.SpaceError, match="Conv1d"):
        cdl.Conv1d(2, 2, 3, key=KEY)(jnp.zeros((3, 9)))


def test_layer_norm_normalises_last_axis() -> None:
    x = jax.random.normal(KEY, (5, 6)) * 3 + 1
    y = cdl.LayerNorm(6)(x)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-3)
    with pytest.raises(cdl.SpaceError):
        cdl.LayerNorm(6)(jnp.zeros(5))


def test_embedding_and_int_inputs() -> None:
    e = cdl.Embedding(10, 3, key=KEY)
    np.testing.assert_array_equal(e(jnp.array(4)), e.table[4])
    with pytest.raises(cdl.SpaceError, match="dtype"):
        e(jnp.array(4.0))
    model = e >> cdl.Linear(3, 2, key=KEY)
    assert repr(model.dom) == "integer[]"


def test_reshape_flatten_concat_spaces() -> None:
    assert repr((cdl.Reshape(2, -1) >> cdl.Flatten()).cod) == "any[size]"
    assert (
        repr(cdl.Reshape(4, -1).output_space(cdl.space_of(jnp.zeros(8)))) == "f32[4,2]"
    )
    pair = cdl.Linear(2, 3, key=KEY) @ cdl.Linear(2, 4, key=KEY)
    joined = pair >> cdl.Concat()
    assert repr(joined.output_space(joined.dom)) == "float[7]"
    assert joined((jnp.ones(2), jnp.ones(2))).shape == (7,)
    with pytest.raises(cdl.CompositionError):
        joined >> cdl.Linear(6, 1, key=KEY)
    assert (joined >> cdl.Linear(7, 1, key=KEY))((jnp.ones(2), jnp.ones(2))).shape == (
        1,
    )


def test_reshape_and_concat_name_inputs_they_cannot_take() -> None:
    with pytest.raises(cdl.CompositionError, match=r"Reshape\(3, 3\) cannot take"):
        cdl.Linear(2, 8, key=KEY) >> cdl.Reshape(3, 3)
    with pytest.raises(cdl.SpaceError, match="7 entries, and the target holds a mul"):
        cdl.Reshape(3, -1)(jnp.ones(7))
    pair = cdl.Reshape(2, 4) @ cdl.Reshape(3, 1)
    with pytest.raises(cdl.CompositionError, match="dimension 1 is 4 and 1"):
        pair >> cdl.Concat()
    side_by_side = cdl.Reshape(2, 4) @ cdl.Reshape(2, 1) >> cdl.Concat(axis=-1)
    assert repr(side_by_side.cod) == "any[2,5]"
    with pytest.raises(cdl.SpaceError, match="ranks 2 and 1 differ"):
        cdl.Concat(axis=1)((jnp.ones((2, 3)), jnp.ones(2)))
    with pytest.raises(cdl.SpaceError, match="axis 0 is outside rank 0"):
        cdl.Concat()((jnp.ones(()), jnp.ones(())))


def test_activations_keep_shape_and_values() -> None:
    x = jnp.linspace(-2, 2, 12).reshape(3, 4)
    np.testing.assert_allclose(cdl.Tanh()(x), jnp.tanh(x))
    np.testing.assert_allclose(cdl.Relu()(x), jnp.maximum(x, 0))
    np.testing.assert_allclose(cdl.Sigmoid()(x), jax.nn.sigmoid(x))
    np.testing.assert_allclose(cdl.Gelu()(x), jax.nn.gelu(x))
    np.testing.assert_allclose(cdl.Softmax()(x).sum(-1), 1, rtol=1e-6)
    np.testing.assert_allclose(jnp.exp(cdl.LogSoftmax()(x)).sum(-1), 1, rtol=1e-6)
    with pytest.raises(cdl.SpaceError, match="dtype"):
        cdl.Tanh()(jnp.arange(3))


def test_exact_gelu_is_x_times_the_normal_cdf() -> None:
    x = np.linspace(-5, 5, 41)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    exact = cdl.Gelu(approximate=False)(jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(exact, x * cdf, atol=1e-6)
    gap = jnp.abs(cdl.Gelu()(jnp.asarray(x, jnp.float32)) - exact)
    assert 1e-4 < float(gap.max()) < 1e-3  # the tanh approximation, by default
    labels = cdl.Gelu().label, cdl.Gelu(approximate=False).label
    assert labels == ("Gelu()", "Gelu(approximate=False)")


def test_bias_adds() -> None:
    b = cdl.Bias((2, 2), init=1.5)
    np.testing.assert_allclose(b(jnp.zeros((2, 2))), 1.5)
    with pytest.raises(cdl.SpaceError):
        b(jnp.zeros(2))


def test_layer_norm_equals_equinox_on_batches() -> None:
    x = jax.random.normal(KEY, (3, 5, 8)) * 4.0 + 2.0
    ours = cdl.LayerNorm(8)
    theirs = eqx.nn.LayerNorm(8)
    expected = jax.vmap(jax.vmap(theirs))(x)
    assert jnp.allclose(ours(x), expected, atol=1e-6)


def test_inference_mode_reaches_layers_of_a_tied_model() -> None:
    first, last = cdl.Linear(4, 4, key=KEY), cdl.Linear(4, 4, key=KEY)
    tied = cdl.tie(
        first >> cdl.Dropout(0.5) >> last,
        lambda m: m.factors[0].weight,
        lambda m: m.factors[2].weight,
    )
    assert tied.stochastic
    quiet = cdl.inference_mode(tied)
    assert not quiet.stochastic
    x = jnp.arange(4.0)
    w = tied.params.factors[0].weight
    assert jnp.allclose(quiet(x), w @ (w @ x + first.bias) + last.bias, atol=1e-5)
    assert cdl.inference_mode(quiet, False).stochastic


def test_an_embedding_takes_unsigned_token_arrays():
    table = cdl.Embedding(11, 4, key=jax.random.key(0))
    tokens = jnp.array([3, 10], jnp.uint16)  # as token files are often stored
    np.testing.assert_array_equal(
        jax.vmap(table)(tokens), table.table[jnp.array([3, 10])]
    )
    with pytest.raises(cdl.SpaceError, match="expects input integer"):
        table(jnp.array(3.0))
