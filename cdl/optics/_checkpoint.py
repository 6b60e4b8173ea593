"""Checkpoints: save a training run in one atomic commit and resume it bit for bit.

One save is one file, ``epoch-<n>.ckpt``, holding everything a run changes: the
`TrainState` (parameters, optimiser state, step), the run's PRNG key (and the name
of its implementation: threefry, rbg or any other), the number of epochs done, the
metrics so far and the states callbacks keep (`EarlyStopping`'s best), behind a
SHA-256 checksum of all of it. The file is written
under a temporary name, flushed to the disk (``fsync``) and renamed over its final
name (``os.replace``, atomic on POSIX and Windows), and the directory is synced, so
a run killed at any moment leaves either the previous checkpoint or the new one,
never a mixture. The newest checkpoints are kept (two by default); one whose
checksum fails is renamed ``….damaged`` and the one before it is used.

>>> import tempfile, jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, MeanSquaredError, SGD
>>> from cdl.optics import load_checkpoint, save_checkpoint
>>> model = cdl.Linear(2, 1, key=jax.random.key(0))
>>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
>>> state = learner.init(model)
>>> with tempfile.TemporaryDirectory() as d:
...     path = save_checkpoint(d, state, key=jax.random.key(1), epoch=3,
...                            history={"loss": [0.5, 0.4, 0.3]})
...     restored = load_checkpoint(d, state)
>>> restored.epoch, bool((restored.state.params.weight == state.params.weight).all())
(3, True)
"""

import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import socket
from collections.abc import Mapping
from typing import Any, Final

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray

from . import _messages
from ._learner import Learner, TrainState
from ._match import describe
from ._optimiser import OptaxOptimiser

_MAGIC: Final = b"cdl-checkpoint 1\n"
_NAME: Final = re.compile(r"^epoch-(\d+)\.ckpt$")
_DAMAGED: Final = re.compile(r"^epoch-(\d+)\.ckpt\.damaged(-\d+)?$")
_DIGEST: Final = 64
_LOCK: Final = ".lock"


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be used: unwritable, foreign or all damaged.

    >>> from cdl.optics import CheckpointError, check_directory
    >>> try:
    ...     check_directory("/proc/cdl-checkpoints")
    ... except CheckpointError as error:
    ...     print("cannot" in str(error))
    True
    """


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A restored training run.

    **Arguments:** `state`, `key` (the run's PRNG key), `epoch` (epochs done),
    `history` (metric name to one value per epoch), `path` (the file read),
    `damaged` (newer files found damaged and set aside, with why) and `kept`
    (the states callbacks keep: a name to an epoch and the state of that epoch)
    and `settings` (what the run was given that a resume must give alike:
    batch size, key, data; see `fit`'s `resume_changed`), empty for a file
    written before they were recorded.

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
    path: pathlib.Path | None = None
    damaged: tuple[str, ...] = ()
    kept: dict[str, tuple[int, TrainState]] = dataclasses.field(default_factory=dict)
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)


def _file(root: pathlib.Path, epoch: int) -> pathlib.Path:
    return root / f"epoch-{epoch:08d}.ckpt"


def _saved(root: pathlib.Path) -> list[tuple[int, pathlib.Path]]:
    """The checkpoint files of `root`, newest first."""
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def _set_aside(root: pathlib.Path) -> list[pathlib.Path]:
    """The checkpoint files of `root` set aside as damaged, by name."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if _DAMAGED.match(path.name))


def _aside(path: pathlib.Path) -> pathlib.Path:
    """Where to keep a damaged checkpoint: ``<name>.damaged`` (or ``.damaged-2``).

    A file set aside earlier under the name (a run whose epoch was damaged
    twice) is kept, not replaced.
    """
    aside = path.with_name(path.name + ".damaged")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{n}")
    return aside


def _sync_directory(root: pathlib.Path) -> None:
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:  # directories cannot be opened on some systems (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _clear_temporaries(root: pathlib.Path) -> None:
    for path in root.glob(".*.tmp"):
        path.unlink(missing_ok=True)


def write_atomically(path: pathlib.Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves the old file or the new one.

    **Arguments:** `path`; `data`.

    **Returns:** nothing.

    >>> import tempfile, pathlib
    >>> from cdl.optics._checkpoint import write_atomically
    >>> with tempfile.TemporaryDirectory() as d:
    ...     write_atomically(pathlib.Path(d) / "f", b"x")
    ...     (pathlib.Path(d) / "f").read_bytes()
    b'x'
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk keeps no half-written file
        raise
    _sync_directory(path.parent)


def sealed(body: bytes) -> bytes:
    """`body` behind the format's header and its SHA-256 checksum.

    **Arguments:** `body`.

    **Returns:** the bytes to write; `verified` gives `body` back.

    >>> from cdl.optics._checkpoint import sealed, verified
    >>> verified(sealed(b"abc"))
    b'abc'
    """
    return _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def check_directory(directory: str | os.PathLike[str]) -> pathlib.Path:
    """Make sure checkpoints can be written to `directory` before training starts.

    It creates the directory if missing, writes and removes a probe file, and
    removes temporary files left by a save that was killed. A directory that
    a training run is writing to (see `lock_directory`) is refused, and its
    temporary files are left alone.

    **Arguments:** `directory`.

    **Returns:** the directory as a path; raises `CheckpointError` naming why it
    cannot hold checkpoints.

    >>> import tempfile, os
    >>> from cdl.optics import check_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_directory(os.path.join(d, "run")).name
    'run'
    """
    lock_directory(directory).release()
    return pathlib.Path(directory)


class DirectoryLock:
    """A checkpoint directory held by this process (see `lock_directory`).

    **Arguments:** `path`, the lock file; `fd`, its open descriptor (None where
    the system has no ``flock``).

    **Returns:** the lock; `release` lets another run use the directory.

    >>> import tempfile
    >>> from cdl.optics._checkpoint import lock_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     lock = lock_directory(d)
    ...     lock.release()
    ...     lock_directory(d).release()  # free again
    """

    def __init__(self, path: pathlib.Path, fd: int | None) -> None:
        self.path, self.fd = path, fd

    def release(self) -> None:
        """Remove the lock file and unlock (idempotent)."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(fd)


def _holder(path: pathlib.Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def lock_directory(directory: str | os.PathLike[str]) -> DirectoryLock:
    """Hold `directory` for one training run's checkpoints, ready to write.

    The directory is created if missing and probed for writing; the run takes
    an exclusive ``flock`` on ``<directory>/.lock`` (released when the lock is,
    or when the process ends, even killed), then removes temporary files left
    by a save that was killed. A directory already held by another run, in this
    process or another, is refused: two runs saving into one directory would
    prune each other's checkpoints, and a resume would read either's. Where the
    system has no ``flock`` (Windows) nothing is locked.

    **Arguments:** `directory`.

    **Returns:** the `DirectoryLock`; raises `CheckpointError` naming why the
    directory cannot hold this run's checkpoints.

    >>> import tempfile
    >>> from cdl.optics import CheckpointError
    >>> from cdl.optics._checkpoint import lock_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     lock = lock_directory(d)
    ...     try:
    ...         lock_directory(d)
    ...     except CheckpointError as error:
    ...         print("another run" in str(error))
    ...     lock.release()
    True
    """
    root = pathlib.Path(directory)
    path = root / _LOCK
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}.tmp"
        with open(probe, "wb") as f:
            f.write(b"probe")
        probe.unlink()
        lock = _take(path)
        try:
            _clear_temporaries(root)
        except OSError:
            lock.release()
            raise
    except OSError as error:
        raise CheckpointError(
            _messages.checkpoint_unwritable(root, error.strerror or str(error))
        ) from None
    return lock


def _take(path: pathlib.Path) -> DirectoryLock:
    """The lock of `path`; CheckpointError if another run holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows has no flock
        return DirectoryLock(path, None)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise CheckpointError(
                _messages.checkpoint_in_use(path.parent, _holder(path))
            ) from None
        except OSError:
            os.close(fd)
            raise
        # A holder that released meanwhile unlinks the file: lock the new one.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode())
    return DirectoryLock(path, fd)


def key_impl(key: PRNGKeyArray) -> str:
    """The name of the PRNG implementation of `key` (saved beside its data).

    **Arguments:** `key`, a typed PRNG key.

    **Returns:** the name, e.g. ``"threefry2x32"`` or ``"rbg"``.

    >>> import jax
    >>> from cdl.optics._checkpoint import key_impl
    >>> key_impl(jax.random.key(0, impl="rbg"))
    'rbg'
    """
    return str(jax.random.key_impl(key))


def key_data_like(impl: str) -> Array:
    """The raw data of a key of the PRNG implementation `impl`: a template to fill.

    **Arguments:** `impl`, a name as `key_impl` gives.

    **Returns:** a uint32 array of that implementation's key shape.

    >>> from cdl.optics._checkpoint import key_data_like
    >>> key_data_like("rbg").shape, key_data_like("threefry2x32").shape
    ((4,), (2,))
    """
    data: Array = jax.random.key_data(jax.random.key(0, impl=impl))
    return data


def _optax_states(tree: Any) -> list[str]:
    """The names of optax's state types in `tree`, in order (none for cdl's own)."""
    names: list[str] = []

    def visit(node: Any) -> bool:
        if type(node).__module__.startswith("optax"):
            names.append(type(node).__name__)
        return False

    jax.tree.leaves(tree, is_leaf=visit)  # visits every node, parents first
    return names


def run_of(learner: Learner, state: TrainState) -> dict[str, str]:
    """What a checkpoint records of the run that wrote it: the model and optimiser.

    Resuming compares them (`load_checkpoint`'s `run`), so that a run resumed with
    another model or optimiser whose arrays happen to fit is refused, not fed the
    other one's weights or moments.

    **Arguments:** `learner`; `state`, a state of it (for an optax optimiser,
    the types of its state name the transformation).

    **Returns:** ``{"model": label, "optimiser": name}``.

    >>> import jax, optax, cdl
    >>> from cdl.optics import Adam, Learner, MeanSquaredError, from_optax
    >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> run_of(Learner(model, MeanSquaredError(), Adam(0.1)), None)
    {'model': 'Linear(2→1)', 'optimiser': 'Adam'}
    >>> learner = Learner(model, MeanSquaredError(), from_optax(optax.adam(0.1)))
    >>> run_of(learner, learner.init(model))["optimiser"]
    'from_optax(ScaleByAdamState, EmptyState)'
    """
    optimiser = type(learner.optimiser).__name__
    if isinstance(learner.optimiser, OptaxOptimiser):
        names = _optax_states(getattr(state, "opt_state", None))
        optimiser = f"from_optax({', '.join(names)})"
    return {"model": learner.label, "optimiser": optimiser}


def _encode(
    state: TrainState,
    key: PRNGKeyArray,
    epoch: int,
    history: dict[str, list[float]],
    kept: Mapping[str, tuple[int, TrainState]],
    run: Mapping[str, str] | None,
    settings: Mapping[str, Any] | None = None,
) -> bytes:
    arrays = io.BytesIO()
    states = [kept_state for _, kept_state in kept.values()]
    written = (state, jax.random.key_data(key), *states)
    eqx.tree_serialise_leaves(arrays, with_key_data(written))
    progress = {
        "epoch": epoch,
        "history": history,
        "key_impl": key_impl(key),
        "kept": [[name, at] for name, (at, _) in kept.items()],
        "layout": layout(state),
    }
    if run is not None:
        progress["run"] = dict(run)
    if settings:
        progress["settings"] = dict(settings)
    header = json.dumps(progress).encode() + b"\n"
    return sealed(header + arrays.getvalue())


def save_checkpoint(
    directory: str | os.PathLike[str],
    state: TrainState,
    *,
    key: PRNGKeyArray,
    epoch: int,
    history: dict[str, list[float]],
    keep: int = 2,
    kept: Mapping[str, tuple[int, TrainState]] | None = None,
    run: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> pathlib.Path:
    """Write a checkpoint into `directory` (created if missing) in one atomic commit.

    The file is written to a temporary name, synced and renamed; only then are
    checkpoints older than the newest `keep` removed.

    **Arguments:** `directory`; `state`; `key`, the run's PRNG key; `epoch`, epochs
    done; `history`, the metrics so far; `keep`, how many checkpoints to keep;
    `kept`, states of the same learner that callbacks keep (a name to an epoch
    and that epoch's state; see `Callback.kept_state`); `run`, the model and
    optimiser that wrote it (`run_of`), which resuming compares; `settings`,
    JSON-able settings of the run (`fit` records its batch size, key and data),
    handed back in the `Checkpoint`.

    **Returns:** the path of the checkpoint written.

    >>> import tempfile, os, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState, save_checkpoint
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for epoch in range(3):
    ...         _ = save_checkpoint(d, state, key=jax.random.key(0), epoch=epoch,
    ...                             history={})
    ...     sorted(os.listdir(d))
    ['epoch-00000001.ckpt', 'epoch-00000002.ckpt']
    """
    _check_save_arguments(state, key, epoch, keep)
    history = _plain_history(history)
    root = pathlib.Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    final = _file(root, epoch)
    write_atomically(
        final, _encode(state, key, epoch, history, kept or {}, run, settings)
    )
    for _, old in _saved(root)[keep:]:
        old.unlink(missing_ok=True)
    return final


def is_count(value: object, least: int) -> bool:
    """Whether `value` is an int (a NumPy one too, not a bool) of at least `least`.

    >>> import numpy as np
    >>> is_count(np.int64(3), 1), is_count(True, 1), is_count(0, 1)
    (True, False, False)
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        return False
    return int(value) >= least


def _check_save_arguments(
    state: object, key: object, epoch: object, keep: object
) -> None:
    """Raise naming a `save_checkpoint` argument of the wrong kind."""
    if not isinstance(state, TrainState):
        raise TypeError(_messages.checkpoint_not_a_state("save_checkpoint", state))
    typed = isinstance(key, jax.Array) and jnp.issubdtype(
        key.dtype, jax.dtypes.prng_key
    )
    raw = isinstance(key, jax.Array) and key.dtype == jnp.uint32 and key.ndim == 1
    if not (typed or raw):
        raise TypeError(_messages.checkpoint_bad_key(key))
    for what, value, least in (("epoch", epoch, 0), ("keep", keep, 1)):
        if not is_count(value, least):
            raise ValueError(_messages.checkpoint_bad_count(what, value, least))


def _plain_history(history: Mapping[str, Any]) -> dict[str, list[float]]:
    """`history` with Python floats (NumPy and JAX scalars converted), checked."""
    plain: dict[str, list[float]] = {}
    for name, values in history.items():
        try:
            plain[str(name)] = [float(value) for value in values]
        except (TypeError, ValueError):
            raise TypeError(_messages.checkpoint_bad_history(name, values)) from None
    return plain


def has_checkpoint(directory: str | os.PathLike[str]) -> bool:
    """Whether `directory` holds a checkpoint file (intact or not).

    **Arguments:** `directory`.

    **Returns:** True when there is at least one ``epoch-*.ckpt`` file, or one
    set aside as damaged (``epoch-*.ckpt.damaged``): a run resumed there is
    refused rather than started afresh over the damaged run.

    >>> from cdl.optics import has_checkpoint
    >>> has_checkpoint("/nonexistent")
    False
    """
    root = pathlib.Path(directory)
    return bool(_saved(root) or _set_aside(root))


def is_sealed(data: bytes) -> bool:
    """Whether `data` begins as `sealed` bytes do (whatever follows).

    **Arguments:** `data`.

    **Returns:** True for bytes with cdl's header.

    >>> from cdl.optics._checkpoint import is_sealed, sealed
    >>> is_sealed(sealed(b"abc")), is_sealed(b"abc")
    (True, False)
    """
    return data.startswith(_MAGIC)


def verified(data: bytes) -> bytes:
    """The checked body of sealed bytes; raises ValueError saying what is wrong.

    **Arguments:** `data`, as written from `sealed`.

    **Returns:** the body.

    >>> from cdl.optics._checkpoint import sealed, verified
    >>> verified(sealed(b"abc")[:-1])
    Traceback (most recent call last):
    ...
    ValueError: checksum mismatch: truncated or altered
    """
    if not data.startswith(_MAGIC):
        raise ValueError("not a cdl checkpoint (wrong header)")
    start = len(_MAGIC)
    digest, body = data[start : start + _DIGEST], data[start + _DIGEST + 1 :]
    if len(data) < start + _DIGEST + 1 or data[start + _DIGEST] != ord("\n"):
        raise ValueError("truncated")
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise ValueError("checksum mismatch: truncated or altered")
    return body


def _load_array(stream: io.BytesIO) -> np.ndarray:
    """The next array of `stream` in the dtype it was written in.

    As `jnp.load`, but without JAX's conversion (which turns a float64 into a
    float32 where 64-bit types are off); NumPy writes bfloat16 as 2-byte voids.

    >>> import io, jax.numpy as jnp
    >>> stream = io.BytesIO()
    >>> jnp.save(stream, jnp.ones(2, jnp.bfloat16))
    >>> _ = stream.seek(0)
    >>> _load_array(stream).dtype
    dtype(bfloat16)
    """
    array: np.ndarray = np.load(stream)
    if array.dtype == np.dtype("V2"):
        array = array.view(jnp.bfloat16)
    return array


def is_key(leaf: object) -> bool:
    """Whether `leaf` is an array of typed PRNG keys (``jax.random.key``).

    >>> import jax
    >>> from cdl.optics._checkpoint import is_key
    >>> is_key(jax.random.key(0)), is_key(jax.random.PRNGKey(0))
    (True, False)
    """
    return isinstance(leaf, jax.Array) and jnp.issubdtype(
        leaf.dtype, jax.dtypes.prng_key
    )


def with_key_data(tree: Any) -> Any:
    """`tree` with each array of typed PRNG keys replaced by its raw data.

    NumPy, and so `equinox.tree_serialise_leaves`, cannot write typed keys; a
    model holding one (a noise layer's seed) is written as the key's data and
    wrapped again by `read_like`, with the implementation of the key it fills.

    **Arguments:** `tree`.

    **Returns:** the tree, its keys as ``uint32`` arrays.

    >>> import jax
    >>> from cdl.optics._checkpoint import with_key_data
    >>> with_key_data({"seed": jax.random.key(3)})["seed"].dtype
    dtype('uint32')
    """
    return jax.tree.map(lambda x: jax.random.key_data(x) if is_key(x) else x, tree)


def layout(tree: Any) -> list[list[Any]]:
    """The arrays `tree` writes, in order: each one's path, dtype and shape.

    A checkpoint or model file records it beside its arrays (which carry no
    names), so that a file that no longer fits the code can say which
    parameter was added or removed, not only where the reading went wrong.

    **Arguments:** `tree`.

    **Returns:** a list of ``[path, dtype, shape]``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics._checkpoint import layout
    >>> layout({"w": jnp.zeros((2, 3)), "n": None})
    [["['w']", 'float32', [2, 3]]]
    """
    pairs = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [
        [jax.tree_util.keystr(path), str(leaf.dtype), list(leaf.shape)]
        for path, leaf in pairs
        if eqx.is_array(leaf) or isinstance(leaf, jax.ShapeDtypeStruct)
    ]


def layout_difference(saved: Any, given: Any, theirs: str) -> str | None:
    """The first array in which two layouts differ, as a reason; None if unclear.

    **Arguments:** `saved`, a file's recorded `layout`; `given`, the layout of
    what it is read into; `theirs`, what that is (for the text).

    **Returns:** the reason, that the file holds an array at a path the model
    does not have or the other way round; None otherwise (the layouts agree,
    an array differs in shape or dtype alone, or `saved` is not a layout).

    >>> from cdl.optics._checkpoint import layout_difference
    >>> saved = [[".w", "float32", [2]], [".b", "float32", [2]], [".v", "float32", [1]]]
    >>> layout_difference(saved, [saved[0], saved[2]], "the model built has")
    'it holds float32[2] at .b, which the model built has not'
    """
    try:
        rows = _layout_rows(saved)
    except (TypeError, ValueError):
        return None
    mine = _layout_rows(given)
    saved_paths, given_paths = dict(rows), dict(mine)
    for i in range(max(len(rows), len(mine))):
        ours = rows[i] if i < len(rows) else None
        other = mine[i] if i < len(mine) else None
        if ours == other:
            continue
        if ours is not None and ours[0] not in given_paths:
            return _messages.leaf_only_saved(ours[0], ours[1], theirs)
        if other is not None and other[0] not in saved_paths:
            return _messages.leaf_only_given(other[0], other[1], theirs)
        # The same array in another shape or dtype (reading names it, with a
        # hint for 64-bit types), or arrays in another order.
        return None
    return None


def _same_parameters(saved: Any, like: TrainState) -> bool:
    """Whether a recorded layout's parameters are those of the state `like`."""
    try:
        rows = _layout_rows(saved)
    except (TypeError, ValueError):
        return False

    def params(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [row for row in rows if row[0].startswith(".params")]

    return params(rows) == params(_layout_rows(layout(like)))


def _layout_rows(recorded: Any) -> list[tuple[str, str]]:
    """Each array of a `layout` as its path and ``float32[2, 3]``."""
    return [(str(p), f"{d}{list(map(int, shape))}") for p, d, shape in recorded]


def read_like(
    stream: io.BytesIO,
    like: Any,
    *,
    whole: bool = True,
    theirs: str = "this learner and model have",
) -> Any:
    """The leaves of `stream` (from `equinox.tree_serialise_leaves`) filling `like`.

    Each array must have the shape and dtype of `like`'s, and (with `whole`) the
    arrays must fill the rest of the stream; otherwise ValueError names the first
    leaf that differs.

    **Arguments:** `stream`; `like`, the tree whose structure to fill; `whole`,
    whether `like` is all the stream holds from its position on; `theirs`, what
    `like` is, for the errors.

    **Returns:** the tree read.

    >>> import io, equinox as eqx, jax.numpy as jnp
    >>> from cdl.optics._checkpoint import read_like
    >>> stream = io.BytesIO()
    >>> eqx.tree_serialise_leaves(stream, {"w": jnp.zeros(2)})
    >>> _ = stream.seek(0)
    >>> read_like(stream, {"w": jnp.zeros(3)})
    Traceback (most recent call last):
    ...
    ValueError: it holds float32[2] at ['w'] where this learner and model have \
float32[3]
    """
    pairs, treedef = jax.tree_util.tree_flatten_with_path(like)
    leaves = []
    for path, leaf in pairs:
        where = jax.tree_util.keystr(path)
        expected = describe(leaf)
        impl = jax.random.key_impl(leaf) if is_key(leaf) else None
        if impl is not None:
            # Written as its raw data (`with_key_data`): read that, wrap it again.
            leaf = jax.random.key_data(leaf)
            expected = f"{expected} (data {describe(leaf)})"
        try:
            # An array is read as NumPy, in the dtype it was written in: JAX
            # would turn a float64 into a float32 where 64-bit types are off.
            array = isinstance(leaf, jax.Array | jax.ShapeDtypeStruct)
            value = (
                _load_array(stream)
                if array
                else eqx.default_deserialise_filter_spec(stream, leaf)
            )
        except (ValueError, EOFError):
            raise ValueError(_messages.checkpoint_ends(where)) from None
        if eqx.is_array(leaf) and (leaf.shape, leaf.dtype) != (
            value.shape,
            value.dtype,
        ):
            raise ValueError(
                _messages.checkpoint_leaf(where, expected, describe(value), theirs)
                + _messages.x64_hint(str(leaf.dtype), str(value.dtype))
            )
        if impl is not None:
            value = jax.random.wrap_key_data(jnp.asarray(value), impl=impl)
        leaves.append(jnp.asarray(value) if array else value)
    left = len(stream.getbuffer()) - stream.tell()
    if whole and left:
        raise ValueError(_messages.checkpoint_longer(left))
    return jax.tree.unflatten(treedef, leaves)


def load_checkpoint(
    directory: str | os.PathLike[str],
    like: TrainState,
    *,
    run: Mapping[str, str] | None = None,
) -> Checkpoint:
    """Read the newest intact checkpoint in `directory`, shaped like the state `like`.

    A file whose checksum fails is renamed with the suffix ``.damaged`` (kept for
    inspection) and the next older one is read.

    **Arguments:** `directory`; `like`, a state of the same learner and model
    (e.g. ``learner.init(model)``), giving the structure to fill; `run`, the
    model and optimiser resuming (`run_of`): a checkpoint written by another
    is refused, even when its arrays fit (without `run` nothing is compared).

    **Returns:** the `Checkpoint` (its `damaged` names what was set aside, its
    `kept` holds the callbacks' states, shaped like `like` too, and `settings`
    the settings recorded); raises
    `CheckpointError` if none is intact or the newest intact one does not fit
    `like`.

    >>> import tempfile, jax, jax.numpy as jnp
    >>> from cdl.optics import TrainState, load_checkpoint, save_checkpoint
    >>> state = TrainState(jnp.zeros(1), (), jnp.zeros([], jnp.int32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_checkpoint(d, state, key=jax.random.key(0), epoch=2, history={})
    ...     load_checkpoint(d, TrainState(jnp.zeros(3), (), state.step))
    Traceback (most recent call last):
    ...
    cdl.optics._checkpoint.CheckpointError: checkpoint ... does not match this \
learner and model ...
    """
    if not isinstance(like, TrainState):
        raise TypeError(_messages.checkpoint_not_a_state("load_checkpoint", like))
    root = pathlib.Path(directory)
    if not _saved(root):
        aside = _set_aside(root)
        if aside:
            raise CheckpointError(_messages.only_damaged_checkpoints(root, aside))
        raise CheckpointError(_messages.nothing_to_load(root, root.is_file()))
    damaged: list[str] = []
    for _, path in _saved(root):
        try:
            data = path.read_bytes()
        except OSError as error:
            why = f"{type(error).__name__}: {error.strerror or error}"
            raise CheckpointError(_messages.checkpoint_unreadable(path, why)) from None
        try:
            body = verified(data)
        except ValueError as error:
            aside = _aside(path)
            os.replace(path, aside)
            damaged.append(_messages.checkpoint_damaged(path, str(error), aside))
            continue
        header, arrays = body.split(b"\n", 1)
        progress = json.loads(header)
        # Files written before the implementation was saved hold a default key.
        impl = progress.get("key_impl") or key_impl(jax.random.key(0))
        try:
            key_data_like(impl)
        except (ValueError, TypeError):
            raise CheckpointError(_messages.unknown_key_impl(path, impl)) from None
        saved_run = progress.get("run")
        differs = saved_run is not None and run is not None and dict(run) != saved_run
        other = run if differs else None
        names = [(str(name), int(at)) for name, at in progress.get("kept", [])]
        in_state = True
        try:
            stream = io.BytesIO(arrays)
            state = read_like(stream, like, whole=False)
            in_state = False
            key_data = read_like(stream, key_data_like(impl), whole=not names)
            kept = {
                name: (at, read_like(stream, like, whole=i == len(names) - 1))
                for i, (name, at) in enumerate(names)
            }
        except (ValueError, RuntimeError, TypeError, EOFError) as error:
            why = str(error).splitlines()[0]
            # Read past the state too: a state whose last arrays are gone from
            # the code reads whole, and the key is read from what follows.
            named = None
            if "layout" in progress:
                theirs = "this learner and model have"
                named = layout_difference(progress["layout"], layout(like), theirs)
                if named is not None and _same_parameters(progress["layout"], like):
                    named += _messages.optimiser_state_changed()
            why = named or why
            if not other:
                raise CheckpointError(
                    _messages.checkpoint_mismatch(path, why)
                ) from None
            # Arrays read past the state (as the key) say nothing of use.
            detail = why if in_state or named else None
            raise CheckpointError(
                _messages.checkpoint_other_run(path, saved_run, other, detail)
            ) from None
        if other is not None:
            raise CheckpointError(
                _messages.checkpoint_other_run(path, saved_run, other, None)
            )
        epoch = int(progress["epoch"])
        history = {
            name: [float(v) for v in values][:epoch]
            for name, values in progress["history"].items()
        }
        key = jax.random.wrap_key_data(jnp.asarray(key_data), impl=impl)
        settings = dict(progress.get("settings") or {})
        return Checkpoint(
            state, key, epoch, history, path, tuple(damaged), kept, settings
        )
    raise CheckpointError(_messages.no_intact_checkpoint(root, damaged))
