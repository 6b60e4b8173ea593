"""A ResNet's batch-norm state, tried as an outside user tries it (seventh round)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import cdl
from cdl.architectures import resnet


def test_batch_norm_names_a_state_built_with_another_model() -> None:
    # The state of another ResNet failed with Equinox's bare KeyError
    # 'Compose.factors[4].body.factors[2]...running'; the state of a wider one
    # failed inside JAX's broadcasting.
    build = eqx.nn.make_with_state(resnet)
    model, _ = build((1, 1), (4, 8), 3, 5, key=jax.random.key(0))
    _, deeper = build((1,), (4,), 3, 5, key=jax.random.key(0))
    _, wider = build((1, 1), (8, 16), 3, 5, key=jax.random.key(0))
    batched = jax.vmap(
        model, axis_name="batch", in_axes=((0, None),), out_axes=(0, None)
    )
    xs = jnp.ones((2, 3, 6, 6))
    with pytest.raises(ValueError, match=r"BatchNorm\(8\): the state holds no running"):
        batched((xs, deeper))
    with pytest.raises(ValueError, match=r"BatchNorm\(4\): .* of shape \(8,\) for it"):
        batched((xs, wider))
    with pytest.raises(ValueError, match=r"BatchNorm\(4\): .* of shape \(8,\) for it"):
        cdl.inference_mode(model)((xs[0], wider))
