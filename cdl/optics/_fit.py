"""The training loop: epochs of jitted learner steps, metrics, progress, checkpoints.

`fit` trains a learner on any batchable data (see `cdl.optics.Arrays`, `Graphs`,
`Trees`). For arrays each epoch is one compiled call: the data are shuffled on the
device and a `jax.lax.scan` runs the learner's step over every full batch, then one
step on the last, partial batch (so every example is used). Graphs and trees are
batched on the host, one jitted step per batch. Metrics are computed after each
epoch with stochastic layers (`cdl.Dropout`) switched off. With a checkpoint
directory the run is saved after every call in one atomic commit and resumed from
there, continuing bit for bit.

>>> import jax, jax.numpy as jnp, cdl
>>> from cdl.optics import Learner, SoftmaxCrossEntropy, Adam, accuracy, fit
>>> xs = jax.random.normal(jax.random.key(0), (64, 2))
>>> ys = (xs[:, 0] > xs[:, 1]).astype(jnp.int32)
>>> model = cdl.Linear(2, 2, key=jax.random.key(1))
>>> learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
>>> result = fit(learner, model, xs, ys, epochs=30, batch_size=16,
...              key=jax.random.key(2), metrics={"accuracy": accuracy}, progress=False)
>>> result.history["accuracy"][-1] > 0.9
True
"""

import dataclasses
import inspect
import json
import os
import pathlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .._errors import SpaceError
from .._messages import BATCH_HINT
from .._para import Para
from .._reparam import is_frozen
from .._space import Mismatch, TensorSpace, Unifier, space_of
from ..graphs import Graph
from ..nn import inference_mode
from ..nn._messages import MOVE_CHANNELS_FIRST
from ..schemes import Case, Function, Layer, PaddedList, batch_lists
from . import _messages
from ._callbacks import Callback, EarlyStopping
from ._checkpoint import Checkpoint, CheckpointError, is_count, key_impl, run_of
from ._data import AbstractData, Arrays, DataError, Graphs, Trees, as_data, fingerprint
from ._display import Display, notice
from ._distributed import (
    check_shards,
    digest,
    gather_texts,
    global_batch,
    in_every_process,
    multiprocess,
    place_state,
    prepare_directory,
    restore,
    same_everywhere,
    save_once,
    to_host,
)
from ._learner import Learner, TrainState, data_parallel
from ._loss import (
    BinaryCrossEntropy,
    Masked,
    SoftmaxCrossEntropy,
    outside_unit,
    split_over_devices,
)
from ._match import first_difference
from ._metric import AbstractMetric
from ._stateful import input_space, run_with_state, with_state_fixed

Metric = Callable[[Para[Any, Any], Any, Any], Float[Array, ""]]
"""A metric: an `AbstractMetric` (any data), or ``f(model, xs, ys)`` (arrays)."""


class NonFiniteLossError(FloatingPointError):
    """Training met a loss that is NaN or infinite; the step's update was discarded.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, fit
    >>> model = cdl.Linear(1, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(1e3))
    >>> xs = jnp.linspace(-10, 10, 8)[:, None]
    >>> fit(learner, model, xs, xs, epochs=50, batch_size=8, key=jax.random.key(0),
    ...     progress=False)
    Traceback (most recent call last):
    ...
    cdl.optics._fit.NonFiniteLossError: fit(Linear(1→1)): the loss became inf at \
step ... (epoch ..., batch 1)...
    """


class TrainingInterrupted(SystemExit):
    """Ctrl-C ended a run; the line printed says where its checkpoint is.

    It is a `SystemExit` (status 130), so a script ends with that one line and no
    traceback; catch it to carry on.

    >>> from cdl.optics import TrainingInterrupted
    >>> TrainingInterrupted(130).code
    130
    """


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What `fit` returns: the final state, the trained model, the metrics.

    **Arguments:** `state`, `model` and `history` (metric name to one value per
    epoch: ``loss``, the mean training loss, and each metric; ``val_`` names for
    the validation data; ``skipped``, batches skipped for a non-finite loss, with
    ``on_nonfinite="skip"``).

    **Returns:** the result.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import FitResult, TrainState
    >>> FitResult(TrainState(None, (), jnp.zeros([], jnp.int32)), cdl.Tanh(), {}).model
    Tanh()
    """

    state: TrainState
    model: Para[Any, Any]
    history: dict[str, list[float]]


def _first_not_finite(values: np.ndarray) -> tuple[int, int] | None:
    # jnp.issubdtype: NumPy's own does not count bfloat16 (ml_dtypes) as inexact.
    if not jnp.issubdtype(values.dtype, jnp.inexact) or values.ndim == 0:
        return None
    bad = ~np.isfinite(values.reshape(values.shape[0], -1)).all(axis=1)
    count = int((~np.isfinite(values)).sum())
    return (count, int(np.argmax(bad))) if count else None


def _plain_cell(x: Any) -> bool:
    return isinstance(x, Case | Function)


def _check_captured(name: str, model: Any) -> None:
    """Raise `ValueError` for a plain function cell reading a learned layer.

    A function of layers (``Algebra(F, fn)``) or a plain function cell holds no
    parameters: a layer it reads from its closure or from the module's globals
    would never be trained, silently. Arrays alone (constants, tables) are fine.
    """
    cells = [c for c in jax.tree.leaves(model, is_leaf=_plain_cell) if _plain_cell(c)]
    for cell in cells:
        func = getattr(cell.fn, "func", None)
        if not inspect.isfunction(func):
            continue
        try:
            found = inspect.getclosurevars(func)
        except (TypeError, ValueError):  # a builtin, or code it cannot read
            continue
        for var, value in {**found.globals, **found.nonlocals}.items():
            if isinstance(value, eqx.Module) and any(
                eqx.is_inexact_array(leaf) for leaf in jax.tree.leaves(value)
            ):
                raise ValueError(_messages.captured_layer(name, cell.label, var))


def _graph(x: Any) -> bool:
    return isinstance(x, Graph)


def _check_finite(at: str, which: str, tree: Any) -> None:
    for leaf in jax.tree.leaves(tree):
        found = _first_not_finite(np.asarray(leaf))
        if found is not None:
            raise DataError(_messages.not_finite(at, which, *found))


def _check_finite_examples(at: str, examples: list[list[Any]]) -> None:
    """Raise `DataError` when the arrays of some example hold NaN or infinity.

    `examples` holds, per example (a graph, a term), its arrays: a graph's
    feature tables, a term's payloads.
    """
    count, first = 0, 0
    for i, arrays in enumerate(examples):
        for a in map(np.asarray, arrays):
            inexact = jnp.issubdtype(a.dtype, jnp.inexact)  # bfloat16's kind is "V"
            bad = int((~np.isfinite(a)).sum()) if inexact else 0
            first = i if bad and not count else first
            count += bad
    if count:
        raise DataError(_messages.not_finite(at, "inputs", count, first))


def _nodes(term: Any) -> Iterator[tuple[str, Any]]:
    """Each node's constructor and payload in a term (a `cdl.Layer`, or nested pairs).

    Walked without recursion: a term may be deeper than Python's stack.
    """
    stack = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Layer):
            stack += t.children
            yield t.constructor, t.payload
        elif isinstance(t, tuple) and len(t) == 2:
            stack += t
        else:
            yield "Leaf", t


def _payloads(term: Any) -> list[Any]:
    """The payloads' arrays of a term."""
    return [leaf for _, payload in _nodes(term) for leaf in jax.tree.leaves(payload)]


def _payload_shapes(term: Any) -> Iterator[tuple[str, Any]]:
    """Each node's constructor and its payload's structure and shapes."""
    for name, payload in _nodes(term):
        if isinstance(payload, np.ndarray | jax.Array | float | int):
            yield name, (None, np.shape(payload))
        elif payload is not None:
            leaves, tree = jax.tree.flatten(payload)
            if jax.tree_util.treedef_is_leaf(tree):  # a NumPy scalar, say
                yield name, (None, np.shape(payload))
            else:
                yield name, (tree, tuple(np.shape(leaf) for leaf in leaves))


def _check_payload_shapes(at: str, data: Trees) -> None:
    """Raise `DataError` at the first term whose payloads differ from earlier ones.

    A batch's table stacks each constructor's payloads, so they must agree in
    shape over the whole dataset, not only within a batch.
    """
    first: dict[str, tuple[int, Any]] = {}
    for i, term in enumerate(data.terms):
        for name, shape in _payload_shapes(term):
            j, seen = first.setdefault(name, (i, shape))
            if seen != shape:
                raise DataError(
                    _messages.payload_shapes_differ(
                        at, f"{data.functor.name}.{name}", i, shape[1], j, seen[1]
                    )
                )


def _example_arrays(data: AbstractData) -> list[list[Any]] | None:
    """Each example's input arrays, for graphs and trees; None for other data."""
    if isinstance(data, Graphs):
        return [[t for t in (g.nodes, g.edges) if t is not None] for g in data.graphs]
    if isinstance(data, Trees):
        return [_payloads(term) for term in data.terms]
    return None


def _check_domain(at: str, learner: Learner, xs: Any, stateful: bool) -> None:
    if isinstance(xs, PaddedList):  # ragged lists: each is checked as its array
        xs = xs.values
    if not isinstance(xs, jax.Array):
        return
    dom = getattr(learner.model.skeleton, "dom", None)
    if stateful and dom is not None:
        dom = input_space(dom)
    given = space_of(xs[0])
    if dom is None or not isinstance(given, TensorSpace):
        return
    try:
        Unifier().unify(dom, given)
    except Mismatch as error:
        message = _messages.bad_inputs(at, dom, given, str(error))
        skeleton = learner.model.skeleton
        if isinstance(skeleton, Para):
            hint = skeleton.input_hint(given)
            message += hint
            if MOVE_CHANNELS_FIRST in hint:  # said of one example
                message += _messages.MOVE_DATASET_CHANNELS_FIRST
        index = None if stateful else _state_index(skeleton)
        if index is not None:
            message += _messages.state_not_given(index)
        raise DataError(message) from None


def _state_index(model: Any) -> str | None:
    """Where `model` holds an `equinox.nn.StateIndex` (None if nowhere)."""
    found = jax.tree_util.tree_leaves_with_path(model, is_leaf=_is_state_index)
    for path, node in found:
        if _is_state_index(node):
            return jax.tree_util.keystr(path)
    return None


def _is_state_index(node: object) -> bool:
    return isinstance(node, eqx.nn.StateIndex)


def _shape_text(tree: Any) -> str:
    """One example's shapes in a batch `tree` (a structure of several: its space)."""
    leaves = jax.tree.leaves(tree)
    if len(leaves) != 1:
        return str(space_of(tree))
    return f"{leaves[0].dtype}{list(leaves[0].shape[1:])}"


def check_data(
    learner: Learner,
    state: TrainState,
    xs: Any,
    ys: Any = None,
    batch_size: int | None = 1,
    *,
    validation: bool = False,
) -> None:
    """Check a dataset before training; raise `DataError` naming what is wrong.

    It checks that there are examples, as many labels as inputs, a batch size that
    fits, no NaN or infinity, inputs in the model's domain, labels the loss can
    compare with the model's outputs, class labels within the model's classes,
    and binary targets within ``[0, 1]``.

    **Arguments:** `learner`, `state`; `xs`, `ys` as for `fit` (or a dataset as
    `xs`); `batch_size` (None for data not drawn in batches); `validation`,
    whether these are the validation data (the errors then say so). Across
    processes `xs`, `ys` are this process's share, and the batch size counts
    them all.

    **Returns:** nothing.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, check_data
    >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> state = learner.init(model)
    >>> check_data(learner, state, jnp.zeros((4, 3)), jnp.zeros((4, 1)), 2)
    Traceback (most recent call last):
    ...
    cdl.optics._data.DataError: fit(Linear(2→1)): each input must lie in float[2], \
the model's domain, but the examples are f32[3] (dimension 2 is not 3).
    """
    data = as_data(xs, ys)
    at = _messages.subject(learner.label, validation)
    # Across processes each checks its own share; one refusing stops them all.
    total = check_shards(at, data.size, learner.mesh)
    in_every_process(lambda: _check_share(learner, state, data, at, batch_size, total))


def _check_share(
    learner: Learner,
    state: TrainState,
    data: AbstractData,
    at: str,
    batch_size: int | None,
    total: int,
) -> None:
    """`check_data` on this process's share of the data, of `total` in all."""
    n = data.size
    if n == 0:
        raise DataError(_messages.empty_dataset(at))
    if isinstance(data, Arrays) and data.labels != n:
        raise DataError(_messages.length_mismatch(at, n, data.labels))
    if batch_size is not None and not 1 <= batch_size <= total:
        raise DataError(_messages.bad_batch_size(at, batch_size, total))
    parts = 1 if learner.mesh is None else learner.mesh.shape["batch"]
    if batch_size is not None and batch_size % parts:
        raise DataError(_messages.indivisible_batch(at, batch_size, parts))
    if isinstance(data, Arrays):
        _check_finite(at, "inputs", data.xs)
        _check_finite(at, "labels", data.ys)
        _check_domain(at, learner, data.xs, state.model_state is not None)
    if isinstance(data, Trees):
        _check_payload_shapes(at, data)
    examples = _example_arrays(data)
    if examples is not None:
        _check_finite_examples(at, examples)
        _check_finite(at, "labels", getattr(data, "labels", None))
    probe_x, probe_y = data.batch(np.arange(min(n, 2)), min(n, 2))
    learner = learner.with_model(learner.model_at(state), per_example=data.per_example)
    key = jax.random.key(0)
    try:
        outputs = jax.eval_shape(lambda x: _outputs(learner, state, x, key), probe_x)
    except SpaceError as error:
        if isinstance(data, Arrays):
            raise
        why = str(error).splitlines()[0]
        if isinstance(data, Graphs) and data.graphs[0].nodes is None:
            why += _messages.graphs_without_nodes()
        if isinstance(data, Trees) and why.endswith(BATCH_HINT):
            why = why[: -len(BATCH_HINT)] + _messages.rows_of_roots()
        kind = type(data).__name__.lower()
        raise DataError(_messages.batch_outside_domain(at, kind, why)) from None
    try:
        jax.eval_shape(lambda y, o: learner.loss.get(y, o), probe_y, outputs)
    except (TypeError, ValueError) as error:
        labels = probe_y.labels if isinstance(probe_y, Masked) else probe_y
        why = _loss_error(learner, data, probe_y, outputs) or str(error)
        why = why.splitlines()[0]
        if any(isinstance(o, Graph) for o in jax.tree.leaves(outputs, is_leaf=_graph)):
            why = _messages.graph_outputs()
        if isinstance(data, Trees):
            why += _tree_rows_hint(data, outputs, min(n, 2))
        raise DataError(
            _messages.bad_labels(at, _shape_text(labels), _shape_text(outputs), why)
        ) from None
    labels = data.ys if isinstance(data, Arrays) else getattr(data, "labels", None)
    if isinstance(learner.loss, BinaryCrossEntropy) and eqx.is_array(labels):
        found = outside_unit(labels)
        if found is not None:
            raise DataError(_messages.label_outside_unit(at, *found))
    if (
        isinstance(learner.loss, SoftmaxCrossEntropy)
        and isinstance(labels, jax.Array | np.ndarray)
        and jnp.issubdtype(labels.dtype, jnp.integer)
    ):
        classes = outputs.shape[-1]
        labels = np.asarray(labels).reshape(n, -1)
        outside = (labels < 0) | (labels >= classes)
        if outside.any():
            index = int(np.argmax(outside.any(axis=1)))
            value = int(labels[index][outside[index]][0])
            raise DataError(_messages.label_out_of_range(at, value, index, classes))


def _loss_error(
    learner: Learner, data: AbstractData, probe_y: Any, outputs: Any
) -> str | None:
    """The loss's error on labels and outputs as large as the whole dataset.

    The data are checked on a batch of two examples (graphs: and the padding
    graph), so the loss's own error (``give labels of shape (2, 1)``) would
    speak of that batch; for arrays, graphs and trees labelled at their roots,
    whose labels hold one row per example, it is asked again of shapes with one
    row per example of the data.
    """
    rows = min(data.size, 2) + isinstance(data, Graphs)
    if isinstance(data, Trees):
        leaves = jax.tree.leaves(outputs)
        per_root = bool(leaves) and leaves[0].shape[:1] == (rows,)
        if data.per_node or not per_root:
            return None
    elif not isinstance(data, Arrays | Graphs):
        return None

    def whole(leaf: Any) -> Any:
        shape = tuple(leaf.shape)
        if shape[:1] != (rows,):
            return leaf
        return jax.ShapeDtypeStruct((data.size, *shape[1:]), leaf.dtype)  # type: ignore[no-untyped-call]

    labels = probe_y.labels if isinstance(probe_y, Masked) else probe_y
    try:
        jax.eval_shape(
            learner.loss.get,
            jax.tree.map(whole, jax.eval_shape(lambda: labels)),
            jax.tree.map(whole, outputs),
        )
    except (TypeError, ValueError) as error:
        return str(error)
    return None


def _tree_rows_hint(data: Trees, outputs: Any, terms: int) -> str:
    """Why a tree model's rows miss the labels: a fold for node labels, or back."""
    leaves = jax.tree.leaves(outputs)
    rows = leaves[0].shape[0] if leaves and leaves[0].ndim else None
    wanted = terms if not data.per_node else None
    if rows is None or rows == wanted or (data.per_node and rows != terms):
        return ""
    return _messages.rows_not_terms(rows, terms, data.per_node)


def _validation_data(
    name: str, validation: object, train: AbstractData
) -> AbstractData:
    """`fit`'s validation data as a dataset; its errors say they are about them.

    A pair ``(terms, labels)`` beside training `Trees` is read as trees of the
    same functor, tabled alike; lists beside training padded lists are padded
    as `cdl.batch_lists(lists, pad=True)` pads them.
    """
    if isinstance(validation, AbstractData):
        return validation
    if not isinstance(validation, tuple | list) or len(validation) != 2:
        raise DataError(_messages.bad_validation(name, validation))
    if isinstance(train, Trees):
        terms, labels = validation
        try:
            return Trees(
                train.functor,
                terms,
                labels,
                tables=train.tables,
                per_node=train.per_node,
            )
        except DataError as error:
            raise DataError(_messages.in_validation(name, str(error))) from None
    xs, ys = validation
    if (
        isinstance(train, Arrays)
        and isinstance(train.xs, PaddedList)
        and isinstance(xs, list | tuple)
    ):
        try:
            xs = batch_lists(list(xs), pad=True)
        except (TypeError, ValueError) as error:
            raise DataError(_messages.in_validation(name, str(error))) from None
    try:
        return as_data(xs, ys)
    except DataError as error:
        raise DataError(_messages.in_validation(name, str(error))) from None


def _outputs(
    learner: Learner, state: TrainState, xs: Any, key: PRNGKeyArray | None
) -> Any:
    """The model's outputs on a batch (with the state of a model with state)."""
    if state.model_state is None:
        return learner.model.get(state.params, xs, key=key)
    model = learner.model_at(state)
    return run_with_state(model, xs, state.model_state, key, learner.per_example)[0]


def _check_arguments(
    name: str,
    epochs: object,
    batch_size: object,
    key: object,
    on_nonfinite: object,
    epochs_per_call: object,
    unroll: object,
    shuffle: object,
    progress: object,
    resume_changed: object = False,
) -> PRNGKeyArray:
    for what, value in (
        ("epochs", epochs),
        ("batch_size", batch_size),
        ("epochs_per_call", epochs_per_call),
        ("unroll", unroll),
    ):
        if not is_count(value, 1):
            raise ValueError(_messages.bad_count(name, what, value))
    if on_nonfinite not in ("raise", "skip"):
        raise ValueError(_messages.bad_on_nonfinite(name, on_nonfinite))
    flags = (("shuffle", shuffle), ("progress", progress))
    for what, flag in (*flags, ("resume_changed", resume_changed)):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(_messages.not_a_flag(name, what, flag))
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape == ():
            return key
        raise ValueError(_messages.bad_key(name, "keys", key.shape))
    elif isinstance(key, jax.Array | np.ndarray) and key.dtype == np.uint32:
        # A raw key (jax.random.PRNGKey) of the default implementation, whose
        # shape is that implementation's: (2,) for threefry, (4,) for rbg.
        if key.shape == jax.random.key_data(jax.random.key(0)).shape:
            wrapped: PRNGKeyArray = jax.random.wrap_key_data(jnp.asarray(key))
            return wrapped
    if isinstance(key, jax.Array | np.ndarray):
        raise ValueError(_messages.bad_key(name, key.dtype, key.shape))
    raise ValueError(_messages.bad_key(name, key))


def _check_saving(name: str, checkpoint: object, keep: object) -> None:
    """Raise ValueError for a checkpoint that is no directory or a bad `keep`."""
    if checkpoint is not None and (
        not isinstance(checkpoint, str | os.PathLike) or not os.fspath(checkpoint)
    ):
        raise ValueError(_messages.bad_checkpoint_path(name, checkpoint))
    if not is_count(keep, 1):
        raise ValueError(_messages.bad_count(name, "keep", keep))


def _check_start(learner: Learner, start: Para[Any, Any] | TrainState) -> None:
    """Raise ValueError naming where `start` is not the learner's model."""
    given = start.params if isinstance(start, TrainState) else start
    found = first_difference(learner.model.skeleton, given)
    if found is not None:
        what = (
            "the start state's parameters"
            if isinstance(start, TrainState)
            else "the start model"
        )
        raise ValueError(_messages.start_mismatch(learner.label, what, *found))


def _check_trainable(name: str, state: TrainState, skeleton: Any) -> None:
    """Raise ValueError when the model has no parameter to train."""
    if any(eqx.is_inexact_array(x) for x in jax.tree.leaves(state.params)):
        return
    frozen = [x for x in jax.tree.leaves(skeleton, is_leaf=is_frozen) if is_frozen(x)]
    arrays = sum(len(jax.tree.leaves(x)) for x in frozen)
    raise ValueError(_messages.nothing_to_train(name, arrays))


def _keep_finite(
    old: TrainState, new: TrainState, loss: Float[Array, ""]
) -> TrainState:
    finite = jnp.isfinite(loss)
    kept: TrainState = jax.tree.map(
        lambda a, b: jnp.where(finite, a, b) if eqx.is_array(a) else a, new, old
    )
    return TrainState(kept.params, kept.opt_state, new.step, kept.model_state)


def _step(
    learner: Learner,
    state: TrainState,
    xs: Any,
    ys: Any,
    key: PRNGKeyArray | None,
    skip: bool,
) -> tuple[TrainState, Float[Array, ""]]:
    key = key if learner.model.stochastic else None
    new, loss = learner.step(state, xs, ys, key=key)
    return (_keep_finite(state, new, loss) if skip else new), loss


def _model_for_metrics(learner: Learner, state: TrainState) -> Para[Any, Any]:
    model: Para[Any, Any] = inference_mode(learner.model_at(state))
    if state.model_state is not None:
        # Replicated on a mesh, as the steps keep it.
        return with_state_fixed(model, learner._place(state.model_state, state.params))
    return model


def _scores(
    learner: Learner,
    state: TrainState,
    xs: Any,
    ys: Any,
    metrics: Mapping[str, Metric],
) -> tuple[dict[str, Float[Array, ""]], Float[Array, ""]]:
    """Sums over a batch of the loss and the metrics, and its number of examples."""
    model = _model_for_metrics(learner, state)
    outputs = jax.vmap(model)(xs) if learner.per_example else model(xs)
    labels, mask = (ys.labels, ys.mask) if isinstance(ys, Masked) else (ys, None)
    rows = jax.tree.leaves(labels)[0].shape[0]
    weights = jnp.ones(rows) if mask is None else mask.astype(jnp.float32)
    count = jnp.sum(weights)
    with split_over_devices(learner.mesh is not None):
        sums = {"loss": learner.loss.get(ys, outputs) * count}
    for name, metric in metrics.items():
        if isinstance(metric, AbstractMetric):
            scores = _per_example(learner.label, name, metric, outputs, labels)
            sums[name] = jnp.sum(scores * weights)
        else:
            sums[name] = _metric_value(learner.label, name, metric, model, xs, labels)
            sums[name] = sums[name] * count
    return sums, count


def _per_example(
    at: str, name: str, metric: AbstractMetric, outputs: Any, labels: Any
) -> Array:
    """``metric.per_example(outputs, labels)``; its error names the metric."""
    try:
        return metric.per_example(outputs, labels)
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        why = str(error).splitlines()[0]
        # fit checks metrics on a batch of two examples: the shapes say so.
        sized = [x for x in jax.tree.leaves(labels) if jnp.ndim(x)]
        rows = int(jnp.shape(sized[0])[0]) if sized else None
        raise kind(_messages.metric_cannot_score(at, name, why, rows)) from None


def _check_metrics(
    learner: Learner,
    state: TrainState,
    data: AbstractData,
    metrics: Mapping[str, Metric],
) -> None:
    """Trace the metrics on two examples: one that fails the data fails now.

    Otherwise it would fail after the first epoch's training for data batched
    on the host, and after the callbacks' start (a log file begun) for arrays.
    """
    if not metrics:
        return
    count = min(data.size, 2)
    xs, ys = data.batch(np.arange(count), count)
    probe = learner.with_model(learner.model_at(state), per_example=data.per_example)
    jax.eval_shape(lambda x, y: _scores(probe, state, x, y, metrics), xs, ys)


def _metric_value(
    at: str, name: str, metric: Metric, model: Para[Any, Any], xs: Any, ys: Any
) -> Float[Array, ""]:
    """``metric(model, xs, ys)``, a scalar; a TypeError naming it otherwise."""
    try:
        value = jnp.asarray(metric(model, xs, ys))
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        why = f"it raised {str(error).splitlines()[0]}"
        raise kind(_messages.metric_failed(at, name, why)) from None
    if value.shape != () or not jnp.issubdtype(value.dtype, jnp.number):
        leaves = jax.tree.leaves(ys)
        rows = leaves[0].shape[0] if leaves and jnp.ndim(leaves[0]) else None
        got = _messages.metric_returned(f"{value.dtype}{list(value.shape)}", rows)
        raise TypeError(_messages.metric_failed(at, name, got))
    return value


_RESERVED: Final = frozenset(("loss", "skipped"))
"""Names the history records for itself, which no metric may take."""


def _recorded(metrics: Mapping[str, Metric], validation: bool, skip: bool) -> set[str]:
    """The names a run's history records each epoch."""
    names = {"loss", *metrics}
    if validation:
        names |= {"val_loss", *(f"val_{name}" for name in metrics)}
    return names | {"skipped"} if skip else names


def _resumed_history(
    name: str,
    root: pathlib.Path,
    history: dict[str, list[float]],
    done: int,
    metrics: Mapping[str, Metric],
    validation: bool,
    skip: bool,
) -> dict[str, list[float]]:
    """A checkpoint's history, checked to record what this run records.

    A run resumed with other metrics or validation would extend each name's list
    from its own end, so that a value added now stood at the first epoch and one
    dropped now stopped short: refused. ``skipped`` alone may appear (a run
    resumed with ``on_nonfinite="skip"`` after a NaN): the epochs before skipped
    nothing, since a skipped batch would have stopped them.
    """
    history = dict(history)
    if skip and "skipped" not in history:
        history["skipped"] = [0.0] * done
    wanted = _recorded(metrics, validation, skip) | ({"skipped"} & set(history))
    if set(history) != wanted:
        raise CheckpointError(
            _messages.resumed_other_metrics(name, root, sorted(history), sorted(wanted))
        )
    return history


def _epoch_keys(key: PRNGKeyArray, epoch: Int[Array, ""] | int) -> Any:
    return jax.random.split(jax.random.fold_in(key, epoch))


def _run_epoch(
    learner: Learner,
    state: TrainState,
    data: tuple[Any, Any],
    key: PRNGKeyArray,
    epoch: Int[Array, ""],
    batch_size: int,
    unroll: int,
    skip: bool,
    shuffle: bool,
) -> tuple[TrainState, Float[Array, " batches"], Float[Array, " batches"]]:
    """One epoch: the state after it, each batch's loss and each batch's weight."""
    n = jax.tree.leaves(data)[0].shape[0]
    batches, rest = divmod(n, batch_size)
    shuffle_key, step_key = _epoch_keys(key, epoch)
    order = jax.random.permutation(shuffle_key, n) if shuffle else jnp.arange(n)
    # One gather per epoch; the scan then reads contiguous batches.
    shuffled = jax.tree.map(
        lambda a: a[order[: batches * batch_size]].reshape(
            batches, batch_size, *a.shape[1:]
        ),
        data,
    )

    def body(
        state: TrainState, scanned: tuple[Array, tuple[Any, Any]]
    ) -> tuple[TrainState, Float[Array, ""]]:
        i, (x, y) = scanned
        return _step(learner, state, x, y, jax.random.fold_in(step_key, i), skip)

    state, losses = jax.lax.scan(
        body, state, (jnp.arange(batches), shuffled), unroll=unroll
    )
    if rest:
        x, y = jax.tree.map(lambda a: a[order[batches * batch_size :]], data)
        state, last = _step(
            learner, state, x, y, jax.random.fold_in(step_key, batches), skip
        )
        losses = jnp.concatenate([losses, last[None]])
    return state, losses, _batch_weights(data[1], order, batch_size)


def _batch_weights(
    ys: Any, order: Int[Array, " n"], batch_size: int
) -> Float[Array, " batches"]:
    """How much each batch's loss counts in the epoch's mean.

    Its examples, or the labels present when they are `Masked` (the loss is a
    mean over those).
    """
    n = order.shape[0]
    if not isinstance(ys, Masked):
        return jnp.asarray(_sizes(n, batch_size))
    batches = n // batch_size
    mask = ys.mask.astype(jnp.float32)
    full = mask[order[: batches * batch_size]].reshape(batches, -1).sum(axis=1)
    if n % batch_size:
        full = jnp.concatenate([full, mask[order[batches * batch_size :]].sum()[None]])
    return full


def _epoch_loss(losses: Array, sizes: Array) -> dict[str, Array]:
    """The epoch's mean loss over its finite batches, and the batches skipped.

    The mean is NaN when every batch was skipped (no loss was measured).
    """
    finite = jnp.isfinite(losses)
    total = jnp.sum(jnp.where(finite, losses * sizes, 0.0))
    counted = jnp.sum(jnp.where(finite, sizes, 0.0))
    # An epoch whose every batch was skipped has no loss: 0.0 read as perfect.
    mean = jnp.where(counted > 0, total / jnp.maximum(counted, 1.0), jnp.nan)
    return {"loss": mean, "skipped": jnp.sum(~finite).astype(jnp.float32)}


def _sizes(n: int, batch_size: int) -> np.ndarray:
    batches, rest = divmod(n, batch_size)
    return np.asarray([batch_size] * batches + ([rest] if rest else []), np.float32)


def _mean_scores(
    learner: Learner,
    state: TrainState,
    data: tuple[Any, Any],
    metrics: Mapping[str, Metric],
) -> dict[str, Array]:
    sums, count = _scores(learner, state, *data, metrics)
    return {k: v / count for k, v in sums.items()}


@eqx.filter_jit
def _run_epochs(
    learner: Learner,
    state: TrainState,
    data: tuple[Any, Any],
    key: PRNGKeyArray,
    epochs: Int[Array, " count"],
    batch_size: int,
    unroll: int,
    skip: bool,
    shuffle: bool,
    metrics: Mapping[str, Metric],
    validation: tuple[Any, Any] | None,
) -> tuple[TrainState, dict[str, Array], Array]:
    def one(
        state: TrainState, epoch: Int[Array, ""]
    ) -> tuple[TrainState, tuple[dict[str, Array], Array]]:
        state, losses, weights = _run_epoch(
            learner, state, data, key, epoch, batch_size, unroll, skip, shuffle
        )
        values = _epoch_loss(losses, weights)
        if metrics:
            train = _mean_scores(learner, state, data, metrics)
            values.update({k: v for k, v in train.items() if k != "loss"})
        if validation is not None:
            val = _mean_scores(learner, state, validation, metrics)
            values.update({f"val_{k}": v for k, v in val.items()})
        return state, (values, losses)

    state, (values, losses) = jax.lax.scan(one, state, epochs)
    return state, values, losses


@eqx.filter_jit
def _jit_step(
    learner: Learner,
    state: TrainState,
    xs: Any,
    ys: Any,
    key: PRNGKeyArray,
    skip: bool,
) -> tuple[TrainState, Float[Array, ""]]:
    return _step(learner, state, xs, ys, key, skip)


@eqx.filter_jit
def _jit_scores(
    learner: Learner,
    state: TrainState,
    xs: Any,
    ys: Any,
    metrics: Mapping[str, Metric],
) -> tuple[dict[str, Float[Array, ""]], Float[Array, ""]]:
    return _scores(learner, state, xs, ys, metrics)


def _batches(n: int, batch_size: int) -> list[slice]:
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def _host_scores(
    learner: Learner,
    state: TrainState,
    data: AbstractData,
    batch_size: int,
    metrics: Mapping[str, Metric],
) -> dict[str, float]:
    totals: dict[str, float] = {}
    count = 0.0
    order = np.arange(data.size)
    for part in _batches(data.size, batch_size):
        xs, ys = data.batch(order[part], batch_size)
        sums, n = _jit_scores(learner, state, xs, ys, metrics)
        for k, v in sums.items():
            totals[k] = totals.get(k, 0.0) + float(v)
        count += float(n)
    return {k: v / count for k, v in totals.items()}


def _run_host_epoch(
    learner: Learner,
    state: TrainState,
    data: AbstractData,
    key: PRNGKeyArray,
    epoch: int,
    batch_size: int,
    skip: bool,
    shuffle: bool,
    metrics: Mapping[str, Metric],
    validation: AbstractData | None,
) -> tuple[TrainState, dict[str, Array], Array]:
    shuffle_key, step_key = _epoch_keys(key, epoch)
    order = (
        np.asarray(jax.random.permutation(shuffle_key, data.size))
        if shuffle
        else np.arange(data.size)
    )
    losses, weights = [], []
    for i, part in enumerate(_batches(data.size, batch_size)):
        xs, ys = data.batch(order[part], batch_size)
        state, loss = _jit_step(
            learner, state, xs, ys, jax.random.fold_in(step_key, i), skip
        )
        losses.append(loss)
        # A batch's loss is the mean over its labels (a masked one over those
        # present: per-node labels), so the epoch's mean weighs it by them.
        count = part.stop - part.start
        weights.append(jnp.sum(ys.mask) if isinstance(ys, Masked) else count)
    stacked = jnp.stack(losses)
    values = _epoch_loss(stacked, jnp.asarray(weights, jnp.float32))
    if metrics:
        train = _host_scores(learner, state, data, batch_size, metrics)
        values.update({k: jnp.asarray(v) for k, v in train.items() if k != "loss"})
    if validation is not None:
        val = _host_scores(learner, state, validation, batch_size, metrics)
        values.update({f"val_{k}": jnp.asarray(v) for k, v in val.items()})
    return state, {k: v[None] for k, v in values.items()}, stacked[None]


@eqx.filter_jit
def _all_finite(params: Any) -> Array:
    leaves = [x for x in jax.tree.leaves(params) if eqx.is_inexact_array(x)]
    return jnp.all(jnp.stack([jnp.isfinite(x).all() for x in leaves] or [True]))


def _finite_params(state: TrainState) -> bool:
    """Whether every parameter is finite: one compiled call, not one per array."""
    return bool(_all_finite(state.params))


def _nonfinite(
    name: str,
    losses: np.ndarray,
    first: int,
    step: int,
    saved: str,
) -> NonFiniteLossError:
    epoch, batch = np.argwhere(~np.isfinite(losses))[0]
    per_epoch = losses.shape[1]
    at = step - losses.size + int(epoch) * per_epoch + int(batch) + 1
    value = losses[epoch, batch]
    return NonFiniteLossError(
        _messages.non_finite_loss(
            name, str(value), at, first + int(epoch) + 1, int(batch) + 1, saved
        )
    )


def _stop_asked(callbacks: Sequence[Callback]) -> bool:
    """Whether a callback asks to end the run (`Callback.should_stop`)."""
    return any(
        callable(ask) and ask()
        for ask in (getattr(callback, "should_stop", None) for callback in callbacks)
    )


def _named(callbacks: Sequence[Callback]) -> list[tuple[str, Callback]]:
    """Each callback with the name its kept state has in checkpoints.

    The name is its class and its place among the callbacks of that class
    (``EarlyStopping#0``), so adding or moving callbacks of other classes keeps
    the names.
    """
    named: list[tuple[str, Callback]] = []
    for callback in callbacks:
        kind = type(callback).__name__
        count = sum(name.startswith(f"{kind}#") for name, _ in named)
        named.append((f"{kind}#{count}", callback))
    return named


def _kept(named: Sequence[tuple[str, Callback]]) -> dict[str, tuple[int, TrainState]]:
    """The states the callbacks keep (`Callback.kept_state`), by name."""
    kept = {}
    for name, callback in named:
        ask = getattr(callback, "kept_state", None)
        found = ask() if callable(ask) else None
        if found is not None:
            kept[name] = found
    return kept


def _key_text(key: PRNGKeyArray) -> str:
    """A key as a checkpoint records it: its implementation and its data."""
    data = np.asarray(jax.random.key_data(key)).tolist()
    return f"{key_impl(key)} {data}"


def _record(
    batch_size: int,
    key: PRNGKeyArray,
    shuffle: bool,
    data: AbstractData,
    val_data: AbstractData | None,
) -> dict[str, Any]:
    """The settings a checkpoint records, which a resume must give alike."""
    record: dict[str, Any] = {
        "batch_size": batch_size,
        "shuffle": bool(shuffle),
        "key": _key_text(key),
    }
    for prefix, one in (("", data), ("val_", val_data)):
        if one is None:
            continue
        found = fingerprint(one)
        if multiprocess():
            # Each process holds its share: the run's data is all of them.
            shares = [json.loads(t) for t in gather_texts(json.dumps(found))]
            found = {
                "examples": sum(int(share["examples"]) for share in shares),
                "arrays": found["arrays"],
                "values": digest(
                    [np.frombuffer(json.dumps(shares).encode(), np.uint8)]
                ),
            }
        record.update({prefix + what: value for what, value in found.items()})
    return record


def _check_resumed(name: str, restored: Checkpoint, record: Mapping[str, Any]) -> None:
    """Raise `CheckpointError` naming the first setting that differs from the saved.

    A file written before settings were recorded holds the key alone.
    """
    saved = {**restored.settings, "key": _key_text(restored.key)}
    for what, given in record.items():
        if what in saved and saved[what] != given:
            raise CheckpointError(
                _messages.resumed_otherwise(
                    name, restored.path, what, saved[what], given
                )
            )


def _saved_line(root: pathlib.Path | None, saved: int) -> str:
    if root is None:
        return _messages.nothing_saved()
    if saved == 0:
        return _messages.no_checkpoint_yet(root)
    return _messages.checkpoint_holds(root, saved)


def fit(
    learner: Learner,
    start: Para[Any, Any] | TrainState,
    xs: Any,
    ys: Any = None,
    *,
    epochs: int,
    batch_size: int,
    key: PRNGKeyArray,
    metrics: Mapping[str, Metric] | None = None,
    validation: tuple[Any, Any] | AbstractData | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    keep: int = 2,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    shuffle: bool = True,
    on_nonfinite: Literal["raise", "skip"] = "raise",
    epochs_per_call: int = 1,
    unroll: int = 1,
    model_state: Any = None,
    resume_changed: bool = False,
) -> FitResult:
    """Train `learner` for `epochs` epochs of shuffled batches.

    **Arguments:**

    - `learner`; `start`, the initial model (or a `TrainState` to continue from:
      its epochs count from 1 again, and their shuffles and dropout keys derive
      from `key` and that count, so pass a new key to draw new ones).
    - `xs`, `ys`: inputs and labels, with the examples along the leading axis
      (arrays, tuples or dicts of arrays, `cdl.PaddedList` batches), or a list of
      `cdl.Graph` and their labels; or a dataset (`Arrays`, `Graphs`, `Trees`)
      as `xs` alone.
    - `epochs`, the total number of epochs; `batch_size` (the last batch of an
      epoch holds the examples left over); `key`, a PRNG key
      (``jax.random.key(0)``), for shuffling and for stochastic layers.
    - `metrics`: name to metric (e.g. `accuracy`), computed after each epoch on
      the training data and on `validation` (names ``val_…``), with stochastic
      layers switched off.
    - `checkpoint`: a directory, checked before training starts; if it holds a
      checkpoint the run resumes from it (its state wins over `start`), and it is
      saved after every call in one atomic commit, keeping the newest `keep`. A
      checkpoint records the run's `batch_size`, `shuffle`, `key` and a
      fingerprint of its data and validation data (examples, shapes, a hash);
      resuming with any of them changed is a `CheckpointError` naming it (more
      or fewer `epochs` are fine).
    - `resume_changed`: resume such a checkpoint all the same, going on from its
      state with the batch size, key and data given now (no longer the run it
      continues, nor what an uninterrupted run gives).
    - `callbacks`: `Callback`s, e.g. `CSVLogger`, `TensorBoardLogger`,
      `EarlyStopping` (a callback may end the run early, choose the state
      returned and keep a state in the checkpoints).
    - `progress`: show progress (a bar in a terminal, a line per epoch elsewhere).
    - `shuffle`: draw each epoch's batches in a fresh random order (True), or in
      the order of the data (for data generated in the order it should be seen).
    - `on_nonfinite`: ``"raise"`` stops at a NaN or infinite loss with
      `NonFiniteLossError` naming the step and epoch (the last checkpoint stays
      the last good one); ``"skip"`` discards such a batch's update and counts it
      in the history's ``skipped``.
    - `epochs_per_call`: how many epochs of array data run in one compiled call
      (a scan over epochs); the progress, the metrics' transfer and checkpoints
      happen between calls, and a callback that reads each epoch's state
      (`Callback.reads_state`) makes every call one epoch.
    - `unroll`: training steps per iteration of the compiled loop over batches.
    - `model_state`: the state of a model ``x × S → y × S`` (batch norm's
      running statistics, from `equinox.nn.make_with_state`) when `start` is a
      model. Each step maps the model over the batch with one state (the batch
      axis named ``"batch"``) and keeps the state it returns; checkpoints hold
      it; metrics read it in inference mode. The result's
      ``state.model_state`` is the final one.

    **Returns:** a `FitResult`; raises `DataError` on unusable data and
    ValueError on bad arguments, before any training. Ctrl-C ends the run with
    one line saying where its checkpoint is (`TrainingInterrupted`).

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, fit
    >>> xs = jnp.linspace(-1, 1, 32)[:, None]
    >>> model = cdl.Linear(1, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> result = fit(learner, model, xs, 2 * xs, epochs=20, batch_size=8,
    ...              key=jax.random.key(1), progress=False, epochs_per_call=20)
    >>> len(result.history["loss"]), round(float(result.model.weight[0, 0]), 2)
    (20, 2.0)
    """
    if not isinstance(learner, Learner):
        raise TypeError(_messages.not_a_learner(learner))
    name = learner.label
    key = _check_arguments(
        name,
        epochs,
        batch_size,
        key,
        on_nonfinite,
        epochs_per_call,
        unroll,
        shuffle,
        progress,
        resume_changed,
    )
    # NumPy ints pass the checks; the loop wants Python's (a list times a count).
    epochs, batch_size = int(epochs), int(batch_size)
    epochs_per_call, unroll = int(epochs_per_call), int(unroll)
    _check_saving(name, checkpoint, keep)
    if metrics is not None and not isinstance(metrics, Mapping):
        raise ValueError(_messages.metrics_not_a_mapping(name, metrics))
    metrics = dict(metrics or {})
    data = as_data(xs, ys)
    learner = learner.with_model(learner.model.skeleton, per_example=data.per_example)
    if multiprocess():
        if not isinstance(data, Arrays):
            kind = type(data).__name__
            raise DataError(_messages.host_data_across_processes(name, kind))
        if learner.mesh is None:
            learner = data_parallel(learner)
    if not isinstance(callbacks, Sequence):
        raise ValueError(_messages.bad_callbacks(name, callbacks))
    for callback in callbacks:
        if isinstance(callback, type) or not callable(
            getattr(callback, "on_epoch_end", None)
        ):
            raise ValueError(_messages.not_a_callback(name, callback))
    for metric_name, metric in metrics.items():
        if (
            not isinstance(metric_name, str)
            or metric_name in _RESERVED
            or (metric_name.startswith("val_") or not metric_name)
        ):
            raise ValueError(_messages.reserved_metric(name, metric_name))
        if not isinstance(metric, AbstractMetric) and not callable(metric):
            raise ValueError(_messages.bad_metric(name, metric_name, metric))
        if not data.per_example and not isinstance(metric, AbstractMetric):
            raise ValueError(_messages.metric_needs_outputs(name, metric_name))
    if any(getattr(callback, "reads_state", True) for callback in callbacks):
        epochs_per_call = 1
    _check_start(learner, start)
    _check_captured(name, learner.model.skeleton)
    state = start if isinstance(start, TrainState) else learner.init(start, model_state)
    if state.model_state is not None and _state_index(learner.model.skeleton) is None:
        raise ValueError(_messages.state_without_stateful_model(name))
    _check_trainable(name, state, learner.model.skeleton)
    if multiprocess():
        # Processes given other settings would part ways at a collective and wait.
        settings = {
            "epochs": epochs,
            "batch_size": batch_size,
            "epochs_per_call": epochs_per_call,
            "unroll": unroll,
            "shuffle": bool(shuffle),
            "on_nonfinite": on_nonfinite,
            "keep": int(keep),
            "checkpoint": checkpoint is not None,
            "validation": validation is not None,
            "metrics": sorted(metrics),
            "key": np.asarray(jax.random.key_data(key)).tolist(),
            "start": digest(state),
        }
        same_everywhere(name, settings)
    check_data(learner, state, data, batch_size=batch_size)
    val_data = None if validation is None else _validation_data(name, validation, data)
    if val_data is not None:
        if type(val_data) is not type(data):
            raise DataError(
                _messages.validation_kind(
                    name, type(data).__name__, type(val_data).__name__
                )
            )
        check_data(learner, state, val_data, batch_size=None, validation=True)
    _check_metrics(learner, state, data, metrics)
    skip = on_nonfinite == "skip"
    recorded = _recorded(metrics, validation is not None, skip)
    for callback in callbacks:
        if isinstance(callback, EarlyStopping) and callback.monitor not in recorded:
            text = _messages.unknown_monitor(callback.monitor, sorted(recorded))
            raise ValueError(text)
    root, lock = (None, None) if checkpoint is None else prepare_directory(checkpoint)
    try:
        history: dict[str, list[float]] = {}
        done = 0
        run = run_of(learner, state)
        record = (
            None if root is None else _record(batch_size, key, shuffle, data, val_data)
        )
        restored = None if root is None else restore(root, state, run)
        if root is not None and restored is not None:
            if not resume_changed:
                _check_resumed(name, restored, record or {})
            for line in restored.damaged:
                notice(line)
            # The key is the checkpoint's (checked above) or, resumed on purpose
            # with other settings, the one given now.
            state, done, history = restored.state, restored.epoch, restored.history
            if done < epochs:
                history = _resumed_history(
                    name, root, history, done, metrics, val_data is not None, skip
                )
            notice(
                _messages.finished(root, done)
                if done >= epochs
                else _messages.resuming(root, done, epochs)
            )
        saved = done
        arrays = (data.xs, data.ys) if isinstance(data, Arrays) else None
        validation_arrays = (
            None
            if val_data is None or arrays is None
            else val_data.batch(np.arange(val_data.size))
        )
        if learner.mesh is not None:
            state = place_state(learner, state)
        if multiprocess():
            arrays, validation_arrays = global_batch(
                learner, (arrays, validation_arrays)
            )
        named = _named(callbacks)
        for name_of, callback in named:
            callback.on_train_begin(done, history)
            on_resume = getattr(callback, "on_resume", None)
            if restored is not None and callable(on_resume):
                on_resume(restored.kept.get(name_of))
        stopped = _stop_asked(callbacks)
        telling = done  # the epoch the callbacks are told of

        def save_now(root: pathlib.Path) -> None:
            """The run as it stands (state, epoch, history, what callbacks keep)."""
            save_once(
                root, state, key=key, epoch=done, history=history, keep=keep,
                kept=_kept(named), run=run, settings=record,
            )  # fmt: skip

        with Display(name, total=epochs, done=done, enabled=progress) as display:
            try:
                while done < epochs and not stopped:
                    if arrays is not None:
                        count = min(epochs_per_call, epochs - done)
                        new, values, losses = _run_epochs(
                            learner,
                            state,
                            arrays,
                            key,
                            jnp.arange(done, done + count),
                            batch_size,
                            unroll,
                            skip,
                            shuffle,
                            metrics,
                            validation_arrays,
                        )
                    else:
                        count = 1
                        new, values, losses = _run_host_epoch(
                            learner,
                            state,
                            data,
                            key,
                            done,
                            batch_size,
                            skip,
                            shuffle,
                            metrics,
                            val_data,
                        )
                    host_losses = to_host(losses)
                    where = _saved_line(root, saved)
                    if not skip and not np.isfinite(host_losses).all():
                        raise _nonfinite(name, host_losses, done, int(new.step), where)
                    if not _finite_params(new):
                        raise NonFiniteLossError(
                            _messages.non_finite_parameters(name, done + count, where)
                        )
                    state = new
                    columns = {
                        k: to_host(v).tolist()
                        for k, v in values.items()
                        if skip or k != "skipped" or k in history
                    }
                    for k, column in columns.items():
                        history.setdefault(k, []).extend(column)
                    done += count
                    for i in range(count):
                        epoch_values = {k: v[i] for k, v in columns.items()}
                        telling = done - count + i + 1
                        for callback in callbacks:
                            callback.on_epoch_end(telling, epoch_values, state)
                    # Saved once the callbacks have seen the epoch, with what they keep.
                    if root is not None:
                        try:
                            save_now(root)
                        except OSError as error:
                            why = f"{type(error).__name__}: {error}"
                            where = _saved_line(root, saved)
                            raise CheckpointError(
                                _messages.save_failed_here(name, done, why, where)
                            ) from error
                        saved = done
                    display.update(done, history)
                    stopped = _stop_asked(callbacks)
            except KeyboardInterrupt:
                if root is not None and saved < telling == done and not multiprocess():
                    # Ctrl-C came after the epoch ran, in its callbacks or its save.
                    # Earlier epochs of the call that no callback was told of are
                    # run again on resuming, not saved as done (a log would lack them).
                    save_now(root)
                    saved = done
                # The epoch Ctrl-C came in (the call may have run later ones).
                line = _saved_line(root, saved)
                notice(_messages.interrupted(telling, epochs, line))
                raise TrainingInterrupted(130) from None
        if stopped and done < epochs:
            notice(_messages.stopped_early(name, done, epochs))
        for callback in callbacks:
            callback.on_train_end(history)
        for callback in callbacks:
            final_state = getattr(callback, "final_state", None)
            state = state if final_state is None else final_state(state)
        return FitResult(state, learner.model_at(state), history)
    finally:
        # Another run may use the directory once this one ends, however it ends.
        if lock is not None:
            lock.release()
