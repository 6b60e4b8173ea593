"""Models and optimiser states holding typed PRNG keys save, load and resume."""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import pytest

import cdl
from cdl.optics import Learner, MeanSquaredError, fit, from_optax


class Noisy(eqx.Module):
    lin: cdl.Linear
    seed: jax.Array

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.lin(x) + 0.01 * jax.random.normal(self.seed, (3,))


def _noisy(impl: str = "threefry2x32") -> Noisy:
    return Noisy(cdl.Linear(4, 3, key=jax.random.key(0)), jax.random.key(5, impl=impl))


def test_a_model_holding_a_key_saves_and_loads(tmp_path):
    model = eqx.tree_at(lambda m: m.seed, _noisy(), jax.random.key(11))
    cdl.save(tmp_path / "m.cdl", model)
    back = cdl.load(tmp_path / "m.cdl", _noisy)
    assert back.seed.dtype == model.seed.dtype
    assert (jax.random.key_data(back.seed) == jax.random.key_data(model.seed)).all()
    assert (back.lin.weight == model.lin.weight).all()
    keys = {"keys": jax.random.split(jax.random.key(1), 4)}
    cdl.save(tmp_path / "k.cdl", keys)
    read = cdl.load(
        tmp_path / "k.cdl", {"keys": jax.random.split(jax.random.key(0), 4)}
    )
    assert (
        jax.random.key_data(read["keys"]) == jax.random.key_data(keys["keys"])
    ).all()


def test_a_key_of_another_implementation_is_named(tmp_path):
    cdl.save(tmp_path / "m.cdl", _noisy())
    with pytest.raises(
        ValueError, match=r"at \.seed where the model built has key<rbg>\[\]"
    ):
        cdl.load(tmp_path / "m.cdl", lambda: _noisy("rbg"))


def test_an_optimiser_state_holding_a_key_checkpoints_and_resumes(tmp_path):
    xs = jax.random.normal(jax.random.key(2), (32, 4))
    ys = xs @ jnp.ones((4, 2))

    def run(epochs, checkpoint):
        model = cdl.Linear(4, 2, key=jax.random.key(0))
        tx = optax.noisy_sgd(0.05, eta=0.01, key=jax.random.key(9))
        learner = Learner(model, MeanSquaredError(), from_optax(tx))
        return fit(
            learner,
            model,
            xs,
            ys,
            epochs=epochs,
            batch_size=16,
            key=jax.random.key(1),
            checkpoint=checkpoint,
            progress=False,
        )

    straight = run(3, None)
    run(1, tmp_path / "run")
    resumed = run(3, tmp_path / "run")
    assert (resumed.model.weight == straight.model.weight).all()
