"""Checkpoints: save a training run and resume it bit for bit.

A checkpoint holds the `TrainState` (parameters, optimiser state, step), the run's
PRNG key, the number of epochs done and the metrics so far. Arrays are written
exactly (Equinox's leaf serialisation), so a resumed run continues as if it had never
stopped.

>>> import tempfile, jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD
>>> from cdl.optics import load_checkpoint, save_checkpoint
>>> model = cdl.Linear(2, 1, key=jax.random.key(0))
>>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
>>> state = learner.init(model)
>>> with tempfile.TemporaryDirectory() as d:
...     save_checkpoint(d, state, key=jax.random.key(1), epoch=3,
...                     history={"loss": [0.5, 0.4, 0.3]})
...     restored = load_checkpoint(d, state)
>>> restored.epoch, bool((restored.state.params.weight == state.params.weight).all())
(3, True)
"""

import dataclasses
import json
import os
import pathlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from . import _messages
from ._learner import TrainState

_STATE = "state.eqx"
_PROGRESS = "progress.json"


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A restored training run.

    **Arguments:** `state`, `key` (the run's PRNG key), `epoch` (epochs done),
    `history` (metric name to one value per epoch).

    **Returns:** the checkpoint, as read by `load_checkpoint`.

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import Checkpoint, TrainState
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> Checkpoint(state, jax.random.key(0), 0, {}).epoch
    0
    """

    state: TrainState
    key: PRNGKeyArray
    epoch: int
    history: dict[str, list[float]]


def _write(path: pathlib.Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(
    directory: str | os.PathLike[str],
    state: TrainState,
    *,
    key: PRNGKeyArray,
    epoch: int,
    history: dict[str, list[float]],
) -> None:
    """Write a checkpoint into `directory` (created if missing), replacing any.

    Each file is written to a temporary name first and renamed, so an interrupted
    save leaves the previous checkpoint readable.

    **Arguments:** `directory`; `state`; `key`, the run's PRNG key; `epoch`, epochs
    done; `history`, the metrics so far.

    **Returns:** nothing.

    >>> import tempfile, os, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState, save_checkpoint
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_checkpoint(d, state, key=jax.random.key(0), epoch=0, history={})
    ...     sorted(os.listdir(d))
    ['progress.json', 'state.eqx']
    """
    root = pathlib.Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    progress = json.dumps({"epoch": epoch, "history": history}).encode()
    _write(root / _PROGRESS, lambda f: f.write(progress))
    tree = (state, jax.random.key_data(key), jnp.asarray(epoch, jnp.int32))
    _write(root / _STATE, lambda f: eqx.tree_serialise_leaves(f, tree))


def has_checkpoint(directory: str | os.PathLike[str]) -> bool:
    """Whether `directory` holds a complete checkpoint.

    **Arguments:** `directory`.

    **Returns:** True when both files of a checkpoint are there.

    >>> from cdl.optics import has_checkpoint
    >>> has_checkpoint("/nonexistent")
    False
    """
    root = pathlib.Path(directory)
    return (root / _STATE).is_file() and (root / _PROGRESS).is_file()


def load_checkpoint(directory: str | os.PathLike[str], like: TrainState) -> Checkpoint:
    """Read the checkpoint in `directory`, shaped like the state `like`.

    **Arguments:** `directory`; `like`, a state of the same learner and model
    (e.g. ``learner.init(model)``), giving the structure to fill.

    **Returns:** the `Checkpoint`; raises ValueError if it does not fit `like`.

    >>> import tempfile, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState, load_checkpoint, save_checkpoint
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_checkpoint(d, state, key=jax.random.key(0), epoch=2, history={})
    ...     load_checkpoint(d, TrainState(jnp.zeros(3), (), state.step))
    Traceback (most recent call last):
    ...
    ValueError: checkpoint ... does not match this learner and model ...
    """
    root = pathlib.Path(directory)
    template = (
        like,
        jax.random.key_data(jax.random.key(0)),
        jnp.zeros([], jnp.int32),
    )
    try:
        with open(root / _STATE, "rb") as f:
            state, key_data, _ = eqx.tree_deserialise_leaves(f, template)
    except (ValueError, RuntimeError, OSError) as error:
        raise ValueError(
            _messages.checkpoint_mismatch(root, str(error).splitlines()[0])
        ) from None
    progress = json.loads((root / _PROGRESS).read_text())
    epoch = int(progress["epoch"])
    history = {
        name: list(values)[:epoch] for name, values in progress["history"].items()
    }
    return Checkpoint(state, jax.random.wrap_key_data(key_data), epoch, history)
