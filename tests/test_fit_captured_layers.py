"""fit refuses a plain function cell that reads a learned layer it does not hold."""

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import SGD, Learner, MeanSquaredError, Trees, fit

Leaf, Node = cdl.TreeF.patterns
TERMS: list[Any] = [(1.0, 2.0), 3.0, ((1.0, -2.0), 0.5), (-1.0, 1.0)]
TARGETS = np.array([[3.0], [3.0], [-0.5], [0.0]], np.float32)


def train(algebra: cdl.Algebra) -> Any:
    model = cdl.cata(algebra) >> cdl.Each(cdl.Linear(2, 1, key=jax.random.key(1)))
    return fit(
        Learner(model, MeanSquaredError(), SGD(0.1)), model,
        Trees(cdl.TreeF, TERMS, TARGETS), epochs=1, batch_size=2,
        key=jax.random.key(0), progress=False,
    )  # fmt: skip


def test_a_layer_read_from_a_closure_is_refused() -> None:
    # Its weights were constants of the fold: fit left them as they were.
    mix = cdl.Linear(4, 2, key=jax.random.key(0))

    def cell(layer: cdl.Layer) -> Any:
        match layer:
            case Leaf(x):
                return x * jnp.ones(2)
            case Node(a, b):
                return jnp.tanh(mix(jnp.concatenate([a, b])))
        return None

    with pytest.raises(ValueError, match=r"reads the layer `mix` from outside"):
        train(cdl.Algebra(cdl.TreeF, cell))


class Cell(eqx.Module):
    mix: cdl.Linear

    def __call__(self, layer: cdl.Layer) -> Any:
        match layer:
            case Leaf(x):
                return x * jnp.ones(2)
            case Node(a, b):
                return jnp.tanh(self.mix(jnp.concatenate([a, b])))
        return None


def test_a_module_matching_on_layers_trains_its_layers() -> None:
    cell = Cell(cdl.Linear(4, 2, key=jax.random.key(0)))
    result = train(cdl.Algebra(cdl.TreeF, cell))
    trained = result.model.factors[0].algebra.cells["Node"].fn.mix.weight
    assert not np.allclose(trained, cell.mix.weight)
