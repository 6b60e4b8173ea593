"""Architectures as a new user tries them: odd sizes, batches of one, transforms."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.architectures import conv_bn, generate, gpt, unet

KEY = jax.random.key(0)


@pytest.fixture(scope="module")
def net() -> cdl.Para[jax.Array, jax.Array]:
    shell: cdl.Para[jax.Array, jax.Array] = eqx.filter_eval_shape(
        lambda: unet(1, 2, 4, 2, key=KEY)
    )
    return shell


@pytest.mark.parametrize(("height", "width"), [(15, 15), (17, 17), (16, 10), (6, 8)])
def test_unet_names_an_image_its_poolings_cannot_halve(
    net: cdl.Para[jax.Array, jax.Array], height: int, width: int
) -> None:
    says = (
        rf"Level2\(1→4\): a U-Net of depth 2 needs a height and width that are "
        rf"multiples of 4, but the image is {height}×{width}: pad or crop it"
    )
    with pytest.raises(cdl.SpaceError, match=says):
        eqx.filter_eval_shape(net, jnp.ones((1, height, width)))
    with pytest.raises(cdl.CompositionError, match=says):
        net.output_space(cdl.space_of(jnp.ones((1, height, width))))


@pytest.mark.parametrize(("height", "width"), [(16, 12), (4, 4), (8, 20)])
def test_unet_takes_any_multiple_of_its_halvings(
    net: cdl.Para[jax.Array, jax.Array], height: int, width: int
) -> None:
    batch = jnp.ones((1, 1, height, width))
    out = eqx.filter_eval_shape(lambda m, x: jax.vmap(m)(x), net, batch)
    assert out.shape == (1, 2, height, width)


def test_unet_of_depth_zero_takes_any_size() -> None:
    flat = eqx.filter_eval_shape(lambda: unet(1, 2, 4, 0, key=KEY))
    assert eqx.filter_eval_shape(flat, jnp.ones((1, 7, 5))).shape == (2, 7, 5)


@pytest.mark.parametrize("kernel", [2, 4])
def test_conv_bn_names_an_even_kernel(kernel: int) -> None:
    with pytest.raises(ValueError, match=rf"kernel must be odd .* given {kernel}"):
        conv_bn(3, 8, kernel, 1, key=KEY)


def test_conv_bn_keeps_the_size_with_an_odd_kernel() -> None:
    layer = eqx.filter_eval_shape(lambda: conv_bn(3, 8, 5, 1, key=KEY))
    assert layer.label == "(Conv2d(3→8, 5×5) @ id) >> BatchNorm(8)"


@pytest.fixture(scope="module")
def decoder() -> cdl.Para[jax.Array, jax.Array]:
    return gpt(vocab=5, dim=4, depth=1, heads=1, max_length=4, key=KEY)


def test_generate_takes_a_prompt_given_as_a_list(
    decoder: cdl.Para[jax.Array, jax.Array],
) -> None:
    out = generate(decoder, [1, 2], 4, key=KEY, temperature=0.0)  # type: ignore[arg-type]
    assert out.shape == (4,) and out[:2].tolist() == [1, 2]


@pytest.mark.parametrize("length", [6.0, 0, -1])
def test_generate_names_a_length_that_is_no_length(
    decoder: cdl.Para[jax.Array, jax.Array], length: object
) -> None:
    with pytest.raises(ValueError, match=r"generate: length must be a positive int"):
        generate(decoder, jnp.array([1]), length, key=KEY)  # type: ignore[arg-type]
