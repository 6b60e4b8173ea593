"""Training across processes: global batches from local shards, one writer, one voice.

With `jax.distributed` one process runs per host (or per accelerator), each
addressing its own devices; a learner's mesh spans the devices of all of them.
Every process runs the same program on its own part of the data:
`global_batch` joins the processes' local rows into one array sharded along the
mesh's ``"batch"`` axis (the rows of process 0 first), `place_state` puts a
training state on the mesh as the learner's parameter rule says, and XLA's
collectives reduce the gradients, so every process ends with the same
parameters. Checkpoints are written by process 0 alone (sharded arrays are
gathered first) and read by process 0 alone, which sends what it read to the
others; progress and notices are printed by process 0.

In one process these functions do what single-process training does.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD, data_parallel, global_batch
>>> learner = data_parallel(Learner(cdl.Bias(2), MeanSquaredError(), SGD(0.1)))
>>> global_batch(learner, jnp.zeros((4, 2))).shape
(4, 2)
"""

import hashlib
import io
import json
import os
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import PRNGKeyArray

from . import _messages
from ._checkpoint import (
    Checkpoint,
    CheckpointError,
    DirectoryLock,
    has_checkpoint,
    key_data_like,
    key_impl,
    load_checkpoint,
    lock_directory,
    save_checkpoint,
)
from ._data import DataError
from ._learner import Learner, TrainState
from ._sharding import place_like

_from_local: Callable[..., Any] = jax.make_array_from_process_local_data
_batch: Any = PartitionSpec("batch")  # type: ignore[no-untyped-call]


def multiprocess() -> bool:
    """Whether this program runs as one of several `jax.distributed` processes.

    **Arguments:** none.

    **Returns:** True when `jax.process_count()` is above one.

    >>> from cdl.optics._distributed import multiprocess
    >>> multiprocess()
    False
    """
    return bool(jax.process_count() > 1)


def is_main() -> bool:
    """Whether this is the process that reports and writes checkpoints (index 0).

    **Arguments:** none.

    **Returns:** True in process 0 (and in a single process).

    >>> from cdl.optics._distributed import is_main
    >>> is_main()
    True
    """
    return jax.process_index() == 0


def to_host(x: Any) -> Any:
    """The whole value of an array as NumPy, gathering shards from all processes.

    Every process must call it for a sharded array spread over processes (it is
    a collective then).

    **Arguments:** `x`, an array (or anything NumPy takes).

    **Returns:** the NumPy array.

    >>> import jax.numpy as jnp
    >>> from cdl.optics._distributed import to_host
    >>> to_host(jnp.arange(3))
    array([0, 1, 2], dtype=int32)
    """
    if not isinstance(x, jax.Array) or x.is_fully_addressable:
        return np.asarray(x)
    if x.is_fully_replicated:
        return np.asarray(x.addressable_data(0))
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def _mesh(learner: Learner, what: str) -> Any:
    if learner.mesh is None:
        raise ValueError(_messages.needs_mesh(learner.label, what))
    return learner.mesh


def global_batch(learner: Learner, local: Any) -> Any:
    """One global batch from each process's local rows, split along ``"batch"``.

    Each process passes its own examples (as many in every process, a multiple
    of its devices on the mesh); the result holds the rows of process 0, then
    process 1, and so on, and is what `Learner.step` takes across processes.

    **Arguments:** `learner`, with a mesh (`data_parallel`); `local`, a pytree of
    arrays with this process's examples on the leading axis.

    **Returns:** the pytree of global `jax.Array`s.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, data_parallel
    >>> from cdl.optics import global_batch, place_state
    >>> learner = data_parallel(Learner(cdl.Bias(1), MeanSquaredError(), SGD(0.5)))
    >>> state = place_state(learner, learner.init(cdl.Bias(1)))
    >>> xs, ys = global_batch(learner, (jnp.zeros((2, 1)), jnp.ones((2, 1))))
    >>> jax.jit(learner.step)(state, xs, ys)[0].params.bias
    Array([1.], dtype=float32)
    """
    mesh = _mesh(learner, "global_batch")
    sharding = NamedSharding(mesh, _batch)
    local = jax.tree.map(np.asarray, local)
    if multiprocess():
        # Each array's global shape is its local one times the processes: the
        # processes must agree on every array's length, or their arrays differ.
        sizes = [int(x.shape[0]) if x.ndim else 0 for x in jax.tree.leaves(local)]
        held = [json.loads(text) for text in gather_texts(json.dumps(sizes))]
        if any(other != sizes for other in held):
            raise ValueError(_messages.uneven_global_batch(held))
    parts = _local_batch_parts(mesh)
    for x in jax.tree.leaves(local):
        if x.ndim == 0:
            raise ValueError(_messages.global_batch_scalar(x))
        if x.shape[0] % parts:
            raise ValueError(_messages.indivisible_global_batch(x.shape[0], parts))
    return jax.tree.map(lambda x: _from_local(sharding, x), local)


def _local_batch_parts(mesh: Mesh) -> int:
    """How many parts this process's rows are split into along ``"batch"``."""
    axis = mesh.axis_names.index("batch")
    here = jax.process_index()
    return len(
        {
            index[axis]
            for index, device in np.ndenumerate(mesh.devices)
            if device.process_index == here
        }
    )


def _put_everywhere(x: Any, sharding: NamedSharding) -> Any:
    if isinstance(x, jax.Array) and x.sharding == sharding:
        return x
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        return jax.random.wrap_key_data(
            _put_everywhere(jax.random.key_data(x), sharding), impl=key_impl(x)
        )
    whole = to_host(x)
    return jax.make_array_from_callback(whole.shape, sharding, lambda i: whole[i])


def place_state(learner: Learner, state: TrainState) -> TrainState:
    """`state` on the learner's mesh: parameters and their moments as its rule says.

    Every process passes the same state (as `learner.init` gives it); a state
    already placed is returned as it is.

    **Arguments:** `learner`, with a mesh (`data_parallel`); `state`.

    **Returns:** the state, its arrays sharded or replicated over the mesh.

    >>> import jax, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, data_parallel
    >>> from cdl.optics import place_state
    >>> learner = data_parallel(Learner(cdl.Bias(4), MeanSquaredError(), SGD(0.1)))
    >>> place_state(learner, learner.init(cdl.Bias(4))).params.bias.sharding.spec
    P()
    """
    mesh = _mesh(learner, "place_state")
    if multiprocess():
        # Each process places its own values: they must be the same everywhere.
        same_everywhere(f"place_state({learner.label})", {"state": digest(state)})
    put = _put_everywhere if multiprocess() else jax.device_put
    placed: TrainState = place_like(state, state.params, mesh, learner.placement, put)
    return placed


def check_shards(at: str, count: int, mesh: Mesh | None) -> int:
    """The number of examples of all processes together, checked to split evenly.

    **Arguments:** `at`, whose data they are (``fit(model)``); `count`, this
    process's examples; `mesh`, the learner's mesh (or None).

    **Returns:** the total; raises `DataError` when the processes hold different
    numbers of examples or a number their devices cannot share.

    >>> from cdl.optics._distributed import check_shards
    >>> check_shards("m", 8, None)
    8
    """
    if not multiprocess():
        return count
    here = jax.process_index()
    devices = (
        1
        if mesh is None
        else sum(d.process_index == here for d in mesh.devices.flat) or 1
    )
    # Every process sees every count, so all raise the same error (or none).
    table = multihost_utils.process_allgather(np.asarray([count, devices], np.int64))
    table = np.asarray(table).reshape(-1, 2)
    counts = [int(c) for c in table[:, 0]]
    if len(set(counts)) > 1:
        raise DataError(_messages.uneven_shards(at, counts))
    for index, (held, share) in enumerate(table.tolist()):
        if held % share:
            raise DataError(_messages.indivisible_shard(at, held, share, index))
    return sum(counts)


def gather_texts(text: str) -> list[str]:
    """Every process's `text`, in process order (a collective across processes).

    **Arguments:** `text`, this process's.

    **Returns:** the list of all processes' texts (in one process, ``[text]``).

    >>> from cdl.optics._distributed import gather_texts
    >>> gather_texts("fine")
    ['fine']
    """
    if not multiprocess():
        return [text]
    data = np.frombuffer(text.encode(), np.uint8)
    sizes = multihost_utils.process_allgather(np.asarray(data.size, np.int64))
    sizes = [int(size) for size in np.ravel(sizes)]
    buffer = np.zeros(max(1, *sizes), np.uint8)
    buffer[: data.size] = data
    rows = np.asarray(multihost_utils.process_allgather(buffer))
    rows = rows.reshape(len(sizes), -1)
    return [bytes(row[:size]).decode() for row, size in zip(rows, sizes, strict=True)]


def digest(tree: Any) -> str:
    """A short SHA-256 of the arrays of `tree` this process holds whole.

    Arrays spread over processes are left out (one array, the same for all).

    **Arguments:** `tree`, a pytree.

    **Returns:** 16 hexadecimal digits.

    >>> import jax.numpy as jnp
    >>> from cdl.optics._distributed import digest
    >>> digest(jnp.zeros(2)) == digest(jnp.zeros(2)) != digest(jnp.ones(2))
    True
    """
    hashed = hashlib.sha256()
    for leaf in jax.tree.leaves(tree):
        if not eqx.is_array(leaf):
            continue
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            continue
        if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        hashed.update(np.asarray(leaf).tobytes())
    return hashed.hexdigest()[:16]


def same_everywhere(name: str, settings: Mapping[str, Any]) -> None:
    """Raise in every process when the processes' `settings` differ.

    **Arguments:** `name`, the learner's label; `settings`, JSON-able values
    that must be equal in all processes.

    **Returns:** nothing; raises ValueError naming the first setting that differs
    and each process's value.

    >>> from cdl.optics._distributed import same_everywhere
    >>> same_everywhere("m", {"epochs": 3})
    """
    mine = json.dumps(settings, sort_keys=True, default=repr)
    texts = gather_texts(mine)
    if all(text == mine for text in texts):
        return
    told = [json.loads(text) for text in texts]
    for what in sorted(settings):
        values = [one.get(what) for one in told]
        if any(value != values[0] for value in values):
            raise ValueError(_messages.settings_differ(name, what, values))


def in_every_process(check: Callable[[], None]) -> None:
    """Run `check` in each process; if it fails in any, raise in all of them.

    A check of each process's own data fails in that process alone; had the
    others gone on, they would wait for it forever at the first collective.
    The process that failed raises its own error, the others a `DataError`
    naming it and quoting the error.

    **Arguments:** `check`, a function raising on what it refuses; it must not
    itself communicate across processes.

    **Returns:** nothing.

    >>> from cdl.optics._distributed import in_every_process
    >>> in_every_process(lambda: None)
    """
    if not multiprocess():
        check()
        return
    error: Exception | None = None
    try:
        check()
    except Exception as raised:  # every kind: the others must hear of it
        error = raised
    said = "" if error is None else (str(error).splitlines() or [repr(error)])[0]
    texts = gather_texts(said)
    if error is not None:
        raise error
    for index, text in enumerate(texts):
        if text:
            raise DataError(_messages.refused_elsewhere(index, text))


def _broadcast_bytes(data: bytes) -> bytes:
    size = multihost_utils.broadcast_one_to_all(np.asarray(len(data), np.int64))
    buffer = np.zeros(int(size), np.uint8)
    if is_main():
        buffer[:] = np.frombuffer(data, np.uint8)
    return bytes(multihost_utils.broadcast_one_to_all(buffer).tobytes())


def _agree(error: str) -> None:
    """Raise, in every process, the error process 0 met (empty: none)."""
    said = _broadcast_bytes(error.encode()).decode()
    if said:
        raise CheckpointError(said)


def prepare_directory(
    directory: str | os.PathLike[str],
) -> tuple[pathlib.Path, DirectoryLock | None]:
    """`lock_directory`, done by process 0 only; every process raises its error.

    **Arguments:** `directory`.

    **Returns:** the directory as a path, and the lock process 0 holds on it
    for the run (None in the other processes); release it when the run ends.

    >>> import tempfile, os
    >>> from cdl.optics._distributed import prepare_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     root, lock = prepare_directory(os.path.join(d, "run"))
    ...     lock.release()
    ...     root.name
    'run'
    """
    if not multiprocess():
        return pathlib.Path(directory), lock_directory(directory)
    error = ""
    lock = None
    if is_main():
        try:
            lock = lock_directory(directory)
        except CheckpointError as raised:
            error = str(raised)
    try:
        _agree(error)
    except CheckpointError:
        if lock is not None:
            lock.release()
        raise
    return pathlib.Path(directory), lock


def restore(
    root: pathlib.Path, like: TrainState, run: Mapping[str, str] | None = None
) -> Checkpoint | None:
    """The newest intact checkpoint in `root` (None if none), as process 0 read it.

    Process 0 reads and checks the files (setting damaged ones aside) and sends
    the run to the other processes, which need not see the directory.

    **Arguments:** `root`; `like`, a state giving the structure to fill; `run`,
    the model and optimiser resuming, as for `load_checkpoint`.

    **Returns:** the `Checkpoint`, or None when `root` holds none.

    >>> import tempfile, pathlib, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState, save_checkpoint
    >>> from cdl.optics._distributed import restore
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_checkpoint(d, state, key=jax.random.key(0), epoch=2, history={})
    ...     restore(pathlib.Path(d), state).epoch
    2
    """
    if not multiprocess():
        return load_checkpoint(root, like, run=run) if has_checkpoint(root) else None
    header: dict[str, Any] = {"found": False, "error": ""}
    arrays = io.BytesIO()
    if is_main() and has_checkpoint(root):
        try:
            found = load_checkpoint(root, like, run=run)
        except CheckpointError as raised:
            header["error"] = str(raised)
        else:
            header = {
                "found": True,
                "error": "",
                "epoch": found.epoch,
                "history": found.history,
                "damaged": list(found.damaged),
                "path": str(found.path),
                "key_impl": key_impl(found.key),
                "kept": [[name, at] for name, (at, _) in found.kept.items()],
                "settings": found.settings,
            }
            kept = [state for _, state in found.kept.values()]
            eqx.tree_serialise_leaves(
                arrays, (found.state, jax.random.key_data(found.key), *kept)
            )
    said = json.loads(_broadcast_bytes(json.dumps(header).encode()))
    if said["error"]:
        raise CheckpointError(said["error"])
    if not said["found"]:
        return None
    names = [(str(name), int(at)) for name, at in said["kept"]]
    template = (like, key_data_like(said["key_impl"]), *(like for _ in names))
    state, key_data, *kept = eqx.tree_deserialise_leaves(
        io.BytesIO(_broadcast_bytes(arrays.getvalue())), template
    )
    return Checkpoint(
        state,
        jax.random.wrap_key_data(jnp.asarray(key_data), impl=said["key_impl"]),
        int(said["epoch"]),
        said["history"],
        pathlib.Path(said["path"]),
        tuple(said["damaged"]),
        {name: (at, one) for (name, at), one in zip(names, kept, strict=True)},
        dict(said["settings"]),
    )


def save_once(
    root: pathlib.Path,
    state: TrainState,
    *,
    key: PRNGKeyArray,
    epoch: int,
    history: dict[str, list[float]],
    keep: int,
    kept: Mapping[str, tuple[int, TrainState]] | None = None,
    run: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> None:
    """`save_checkpoint` by process 0 alone, after gathering sharded arrays.

    Every process calls it at the same epoch; the others learn whether the save
    succeeded and raise process 0's error if not.

    **Arguments:** `root`; `state`; `key`, `epoch`, `history`, `keep`, `kept`,
    `run`, `settings` as for `save_checkpoint`.

    **Returns:** nothing.

    >>> import tempfile, pathlib, os, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState
    >>> from cdl.optics._distributed import save_once
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_once(pathlib.Path(d), state, key=jax.random.key(0), epoch=1,
    ...               history={}, keep=2)
    ...     os.listdir(d)
    ['epoch-00000001.ckpt']
    """
    if not multiprocess():
        save_checkpoint(
            root,
            state,
            key=key,
            epoch=epoch,
            history=history,
            keep=keep,
            kept=kept,
            run=run,
            settings=settings,
        )
        return
    host, host_kept = jax.tree.map(
        lambda x: to_host(x) if eqx.is_array(x) else x, (state, dict(kept or {}))
    )
    error = ""
    if is_main():
        try:
            save_checkpoint(
                root,
                host,
                key=key,
                epoch=epoch,
                history=history,
                keep=keep,
                kept=host_kept,
                run=run,
                settings=settings,
            )
        except OSError as raised:
            error = _messages.save_failed(root, str(raised))
    _agree(error)
