"""Trial round 8: single layers given odd arguments and inputs."""

import jax
import jax.numpy as jnp
import pytest

import cdl


@pytest.mark.parametrize(
    "make",
    [
        lambda: cdl.MaxPool2d(2, padding=2),
        lambda: cdl.AvgPool2d((3, 2), padding=(1, 2)),
        lambda: cdl.MaxPool1d(1, padding=1),
        lambda: cdl.AvgPool1d(2, stride=1, padding=3),
    ],
)
def test_pooling_padded_past_its_window_is_refused(make):
    # A window made of padding only gave -inf (max) or 0 (mean) at the edges,
    # values that are not in the input at all, without a word.
    with pytest.raises(ValueError, match="padding . is not less than the kernel size"):
        make()


def test_pooling_padded_less_than_its_window_keeps_to_the_input():
    x = jnp.arange(16.0).reshape(1, 4, 4)
    y = cdl.MaxPool2d(3, stride=2, padding=2)(x)
    assert bool(jnp.isfinite(y).all())
    assert set(y.ravel().tolist()) <= set(x.ravel().tolist())


@pytest.mark.parametrize("layer", [cdl.Softmax(axis=2), cdl.LogSoftmax(axis=-3)])
def test_softmax_along_an_axis_the_input_lacks_names_the_layer(layer):
    # NumPy's "axis 2 is out of bounds for array of dimension 2" named no layer.
    with pytest.raises(cdl.SpaceError, match=r"Softmax\(-?[23]\) works along axis"):
        layer(jnp.ones((2, 3)))
    with pytest.raises(cdl.CompositionError, match="float\\[3\\], which has no such"):
        cdl.Linear(2, 3, key=jax.random.key(0)) >> layer


def test_softmax_of_a_scalar_and_a_bad_axis_are_named():
    with pytest.raises(cdl.SpaceError, match=r"Softmax\(-1\) works along axis -1"):
        cdl.Softmax()(jnp.float32(1.0))
    with pytest.raises(TypeError, match="Softmax: axis must be an int"):
        cdl.Softmax(axis="a")  # type: ignore[arg-type]
    y = cdl.Softmax(axis=0)(jnp.zeros((2, 3)))
    assert bool(jnp.allclose(y, 0.5))


def test_nested_each_names_its_two_lengths_apart():
    # Each(Each(f)) printed float[n,n,3], which reads as a square, though any
    # two lengths are taken; the same for Each around attention.
    lin = cdl.Linear(3, 2, key=jax.random.key(0))
    nested = cdl.Each(cdl.Each(lin))
    assert (str(nested.dom), str(nested.cod)) == ("float[m,n,3]", "float[m,n,2]")
    assert nested(jnp.ones((2, 4, 3))).shape == (2, 4, 2)
    attention = cdl.Each(cdl.SelfAttention(4, 2, key=jax.random.key(1)))
    assert str(attention.dom) == "float[m,n,4]"
    assert str(cdl.Each(lin).dom) == "float[n,3]"


def test_a_residual_around_a_map_of_tuples_says_add_takes_arrays():
    # The message said the branch and the shortcut end in
    # (float[*shape] × float[*shape]) and "cannot be added": two equal spaces.
    with pytest.raises(cdl.CompositionError, match="adds two arrays, not tuples"):
        cdl.residual(cdl.Tanh() @ cdl.Tanh())
    pair = cdl.residual(cdl.Tanh()) @ cdl.residual(cdl.Tanh())
    x, y = pair((jnp.zeros(2), jnp.ones(3)))
    assert x.shape == (2,) and bool(jnp.allclose(y, 1 + jnp.tanh(1.0)))


@pytest.mark.parametrize(
    "make, owner",
    [
        (lambda: cdl.Each(jnp.tanh), "Each needs a cdl morphism"),
        (lambda: cdl.residual(jnp.tanh), "residual needs a cdl morphism"),
        (
            lambda: cdl.residual(cdl.Tanh(), "id"),
            "residual's shortcut needs a cdl morphism",
        ),
        (lambda: cdl.Block("MLP", jnp.tanh), r"Block\('MLP'\) needs a cdl morphism"),
        (lambda: cdl.Block(3, cdl.Tanh()), "Block: name must be a str"),
    ],
)
def test_sequence_and_residual_wrappers_refuse_what_is_no_morphism(make, owner):
    # Each(jnp.tanh) and Block("MLP", jnp.tanh) were built and failed at their
    # first use; residual(jnp.tanh) failed inside @ with "unsupported operand".
    with pytest.raises(TypeError, match=owner):
        make()


def test_a_pool_with_its_own_stride_or_padding_is_labelled_so():
    # MaxPool2d(2, stride=1), Equinox's default, and MaxPool2d(2) were both
    # labelled MaxPool2d(2×2), in errors and in diagrams alike.
    assert cdl.MaxPool2d(2).label == "MaxPool2d(2×2)"
    assert cdl.MaxPool2d(2, stride=1).label == "MaxPool2d(2×2, stride 1)"
    pool = cdl.MaxPool2d(3, stride=2, padding=1)
    assert pool.label == "MaxPool2d(3×3, stride 2, padding 1)"
    assert cdl.AvgPool1d(2, stride=1).label == "AvgPool1d(2, stride 1)"


def test_a_transposed_convolution_padded_to_nothing_is_refused():
    # ConvTranspose2d(1, 1, 3, padding=3) on a 4×4 map returned a (1, 0, 0)
    # array, and its output_space said float[1,-2,-2] for padding 4.
    layer = cdl.ConvTranspose2d(1, 1, 3, padding=3, key=jax.random.key(0))
    with pytest.raises(cdl.SpaceError, match="padding 3 leaves no output"):
        layer(jnp.ones((1, 4, 4)))
    wider = cdl.ConvTranspose2d(1, 1, 3, padding=4, key=jax.random.key(0))
    with pytest.raises(cdl.CompositionError, match="at most 2"):
        wider.output_space(cdl.space_of(jnp.ones((1, 4, 4))))
    kept = cdl.ConvTranspose2d(1, 1, 3, padding=2, key=jax.random.key(0))
    assert kept(jnp.ones((1, 4, 4))).shape == (1, 2, 2)
