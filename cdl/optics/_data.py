"""Training data for `fit`: arrays, padded lists, batches of graphs, forests of trees.

A dataset is a sequence of examples with their labels; `fit` draws batches of it by
index. Three kinds cover what cdl builds:

- `Arrays`: any pytrees of arrays sharing a leading axis (arrays, tuples and dicts
  of arrays, `cdl.PaddedList` batches from `cdl.batch_lists(..., pad=True)`). The
  model acts on one example and is mapped over a batch; whole epochs run on the
  device.
- `Graphs`: a list of `cdl.Graph`, one label per graph. Each batch is the graphs
  side by side (`cdl.graphs.batch`), padded to one size for the dataset
  (`cdl.graphs.pad`) so that every step, the last partial one included, runs the
  same compiled code; the labels of the padding graph are masked (`Masked`).
- `Trees`: a list of terms of a functor, one label per term (or, with
  ``per_node=True``, one per node, masked). Each batch is one
  node table of the forest of its terms, built by `tables` (by default
  ``cdl.tree_table(functor, terms, forest=True)``; a builder that buckets tables
  so batches share compiled code slots in there).

For graphs and trees the model takes the whole batch and returns one row per
example.

>>> import jax.numpy as jnp
>>> from cdl.optics import Arrays
>>> data = Arrays({"a": jnp.zeros((5, 2)), "b": jnp.ones(5)}, jnp.arange(5))
>>> data.size, data.batch(np.array([3, 1]))[1]
(5, Array([3, 1], dtype=int32))
"""

import abc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import jax
import jax.numpy as jnp
import numpy as np

from ..graphs import Graph
from ..schemes import Functor, Layer, NodeTable, tree_table
from . import _messages
from ._loss import Masked


class AbstractData(abc.ABC):
    """A dataset `fit` can draw batches from by index.

    Subclasses define `size`, `per_example` and `batch`.

    **Arguments:** those of the subclass.

    **Returns:** the dataset.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import AbstractData, Arrays
    >>> isinstance(Arrays(jnp.zeros((2, 1)), jnp.zeros(2)), AbstractData)
    True
    """

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """The number of examples."""

    @property
    @abc.abstractmethod
    def per_example(self) -> bool:
        """True when the model acts on one example; False when on a whole batch."""

    @abc.abstractmethod
    def batch(self, indices: np.ndarray, batch_size: int | None = None) -> Any:
        """The inputs and labels of the examples at `indices`.

        **Arguments:** `indices`; `batch_size`, the size of a full batch, for
        datasets that pad every batch to one shape.

        **Returns:** ``(inputs, labels)``.
        """


def _leading(tree: Any) -> set[int]:
    return {
        int(np.shape(leaf)[0]) if np.ndim(leaf) else 0 for leaf in jax.tree.leaves(tree)
    }


def _arrays(which: str, tree: Any) -> Any:
    """`tree` with every leaf a JAX array; a `DataError` naming a leaf that is none.

    >>> _arrays("inputs", (x for x in [1, 2]))
    Traceback (most recent call last):
    ...
    cdl.optics._data.DataError: the inputs are a generator, which is not an \
array: fit takes the whole data as arrays (or tuples and dicts of arrays) with \
one row per example, not an iterator of batches: collect it first, e.g. \
xs = np.concatenate([x for x, _ in batches]).
    """

    def convert(path: Any, leaf: Any) -> Any:
        try:
            return jnp.asarray(leaf)
        except TypeError:
            where = jax.tree_util.keystr(path)
            raise DataError(
                _messages.not_array_data(which, where, type(leaf).__name__)
            ) from None

    return jax.tree_util.tree_map_with_path(convert, tree)


class Arrays(AbstractData):
    """Pytrees of arrays whose leaves share a leading axis of examples.

    **Arguments:** `xs`, the inputs (an array, a tuple or dict of arrays, a
    `cdl.PaddedList` batch…); `ys`, the labels, likewise.

    **Returns:** the dataset; raises `DataError` when the leaves disagree in
    number of examples.

    >>> import jax.numpy as jnp, cdl
    >>> from cdl.optics import Arrays
    >>> lists = cdl.batch_lists([[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]], pad=True)
    >>> Arrays(lists, jnp.zeros(3)).size
    3
    >>> Arrays([[0.0, 1.0], [2.0, 3.0]], [0, 1])
    Traceback (most recent call last):
    ...
    cdl.optics._data.DataError: the inputs hold a single number at [0][0], where \
each leaf must be an array with one row per example: give nested lists of numbers \
as one array (jnp.asarray(xs)).
    """

    def __init__(self, xs: Any, ys: Any) -> None:
        self.xs = _arrays("inputs", xs)
        self.ys = _arrays("labels", ys)
        for which, tree in (("inputs", self.xs), ("labels", self.ys)):
            for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
                if not leaf.ndim:
                    where = jax.tree_util.keystr(path) or "the top"
                    raise DataError(_messages.scalar_leaf(which, where))
        inputs, labels = _leading(self.xs), _leading(self.ys)
        for which, given, sizes in (("inputs", xs, inputs), ("labels", ys, labels)):
            # A Python list of examples reads as that many inputs (or labels),
            # each with its own rows: its rows disagree among themselves or with
            # the other side's.
            disagree = len(sizes) > 1 or bool(inputs and labels and inputs != labels)
            if isinstance(given, list) and given and disagree:
                raise DataError(
                    _messages.list_of_examples(which, len(given), sorted(sizes))
                )
        if len(inputs) > 1 or len(labels) > 1:
            raise DataError(_messages.ragged_leaves(sorted(inputs | labels)))
        self._size = inputs.pop() if inputs else 0
        self._labels = labels.pop() if labels else 0

    @property
    def size(self) -> int:
        """The number of examples: the leading axis of the inputs."""
        return self._size

    @property
    def labels(self) -> int:
        """The number of labels: the leading axis of the labels."""
        return self._labels

    @property
    def per_example(self) -> bool:
        """True: the model acts on one example."""
        return True

    def batch(self, indices: np.ndarray, batch_size: int | None = None) -> Any:
        """The examples at `indices`, gathered leaf by leaf."""
        index = jnp.asarray(indices)
        return jax.tree.map(lambda a: a[index], (self.xs, self.ys))


class Graphs(AbstractData):
    """Graphs with one label each, batched side by side and padded per step.

    Every batch is padded to the nodes and edges of the `batch_size` largest
    graphs (plus one padding node and graph), so all steps share one compiled
    program; the padding graph's label is masked.

    **Arguments:** `graphs`, a sequence of `cdl.Graph` (each one graph); `labels`,
    an array with one row per graph.

    **Returns:** the dataset; the model takes a padded batch, as
    ``(graph, node features)`` (`cdl.Graph.inputs`, what the graph layers take)
    when the graphs carry node features, else as the `cdl.Graph`, and returns
    one row per graph of it (e.g. ending in `cdl.graphs.Readout`).

    >>> import numpy as np, cdl
    >>> from cdl.optics import Graphs
    >>> g = cdl.graphs.Graph.from_edge_list([(0, 1)], 2, nodes=np.ones((2, 3)))
    >>> (batch, nodes), labels = Graphs([g, g, g], np.arange(3.0)).batch(
    ...     np.array([2]), 2)
    >>> batch.num_nodes, batch.num_graphs, nodes.shape, labels.mask
    (5, 3, (5, 3), Array([1., 0., 0.], dtype=float32))
    """

    def __init__(self, graphs: Sequence[Graph], labels: Any) -> None:
        self.graphs = list(graphs)
        try:
            self.labels = np.asarray(labels)
        except ValueError:  # rows of different lengths
            lengths = sorted({len(row) for row in labels})
            raise DataError(_messages.ragged_graph_labels(lengths)) from None
        for i, g in enumerate(self.graphs):
            if not isinstance(g, Graph) or g.num_graphs != 1:
                raise DataError(_messages.not_one_graph(i, g))
        if self.labels.ndim == 0 or self.labels.shape[0] != len(self.graphs):
            count = self.labels.shape[0] if self.labels.ndim else 0
            raise DataError(_messages.graph_labels(len(self.graphs), count))
        self._nodes = np.sort([g.num_nodes for g in self.graphs])[::-1]
        self._edges = np.sort([g.num_edges for g in self.graphs])[::-1]
        self._host = [_host_graph(g) for g in self.graphs]
        for name in ("nodes", "edges"):
            present = {getattr(g, name) is None for g in self.graphs}
            if len(present) > 1:
                raise DataError(_messages.mixed_graph_features(name))

    @property
    def size(self) -> int:
        """The number of graphs."""
        return len(self.graphs)

    @property
    def per_example(self) -> bool:
        """False: the model takes a padded batch of graphs."""
        return False

    def batch(self, indices: np.ndarray, batch_size: int | None = None) -> Any:
        """The graphs at `indices`, batched and padded; their labels, masked."""
        k = len(indices) if batch_size is None else batch_size
        padded = _padded_batch(
            [self._host[int(i)] for i in indices],
            int(self._nodes[:k].sum()) + 1,
            int(self._edges[:k].sum()),
            k + 1,
        )
        labels = np.zeros((k + 1, *self.labels.shape[1:]), self.labels.dtype)
        labels[: len(indices)] = self.labels[np.asarray(indices)]
        mask = np.zeros(k + 1, np.float32)
        mask[: len(indices)] = 1.0
        inputs = padded if padded.nodes is None else padded.inputs()
        return inputs, Masked(jnp.asarray(labels), jnp.asarray(mask))


_HostGraph = tuple[np.ndarray, np.ndarray, int, np.ndarray | None, np.ndarray | None]


def _host_graph(g: Graph) -> _HostGraph:
    def table(t: Any) -> np.ndarray | None:
        return None if t is None else np.asarray(t)

    return (
        np.asarray(g.senders),
        np.asarray(g.receivers),
        g.num_nodes,
        table(g.nodes),
        table(g.edges),
    )


def _padded_batch(
    graphs: list[_HostGraph], nodes: int, edges: int, count: int
) -> Graph:
    """The graphs side by side, padded as `cdl.graphs.pad` does, built on the host."""
    sizes = np.array([g[2] for g in graphs] + [0] * (count - len(graphs)))
    sizes[len(graphs)] = nodes - sizes.sum()
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    counts = np.array([len(g[0]) for g in graphs] + [0] * (count - len(graphs)))
    counts[len(graphs)] = edges - counts.sum()
    fill = np.full(counts[len(graphs)], offsets[len(graphs)], np.int32)
    shifted = list(zip(graphs, offsets[: len(graphs)], strict=True))
    senders = np.concatenate([g[0] + o for g, o in shifted] + [fill])
    receivers = np.concatenate([g[1] + o for g, o in shifted] + [fill])

    def table(parts: list[np.ndarray | None], rows: int) -> np.ndarray | None:
        tables = [p for p in parts if p is not None]
        if not tables:
            return None
        pad = np.zeros((rows, tables[0].shape[1]), tables[0].dtype)
        return np.concatenate([*tables, pad])

    mask = np.arange(count) < len(graphs)
    return Graph(
        senders.astype(np.int32),
        receivers.astype(np.int32),
        num_nodes=nodes,
        nodes=table([g[3] for g in graphs], int(sizes[len(graphs)])),
        edges=table([g[4] for g in graphs], int(counts[len(graphs)])),
        n_node=sizes,
        n_edge=counts,
        graph_mask=mask,
    )


def _forest(functor: Functor, terms: list[Any]) -> NodeTable:
    return tree_table(functor, terms, forest=True)


class Trees(AbstractData):
    """Terms of a functor (trees, expressions) with one label each, or one per node.

    **Arguments:** `functor`; `terms`, a sequence of terms (`cdl.Layer`s, or
    nested tuples for `cdl.TreeF`); `labels`, an array with one row per term;
    `tables`, the builder of a batch's node table from ``(functor, terms)``
    (by default the forest of the terms, `cdl.tree_table`); `per_node`, labels on
    every node instead: `labels` is then a sequence with, for each term, its nodes'
    labels in the order `cdl.tree_table` stores them (children before parents,
    left to right, as `cdl.read_brackets(..., labels=True)` returns them), ``None``
    for a node without a label.

    **Returns:** the dataset; the model takes a `cdl.NodeTable` of a forest and
    returns one row per root (a fold, `cdl.cata`), or with `per_node` one row per
    entry of the table (`cdl.upwards`), the labels of a batch then `Masked` by
    which entries are labelled nodes.

    >>> import numpy as np, cdl
    >>> from cdl.optics import Trees
    >>> data = Trees(cdl.TreeF, [(1.0, 2.0), 3.0, ((4.0, 5.0), 6.0)], np.arange(3))
    >>> table, labels = data.batch(np.array([2, 0]))
    >>> table.roots.shape, labels
    ((2,), Array([2, 0], dtype=int32))
    >>> nodes = Trees(cdl.TreeF, [(1.0, 2.0), 3.0], [[0, 1, 1], [None]], per_node=True)
    >>> table, masked = nodes.batch(np.array([0, 1]))
    >>> masked.labels[:5], masked.mask[:5]
    (Array([0, 1, 1, 0, 0], dtype=int32), Array([1., 1., 1., 0., 0.], dtype=float32))
    """

    def __init__(
        self,
        functor: Functor,
        terms: Sequence[Any],
        labels: Any,
        *,
        tables: Callable[[Functor, list[Any]], NodeTable] = _forest,
        per_node: bool = False,
    ) -> None:
        self.functor = functor
        self.terms = list(terms)
        self.tables = tables
        self.per_node = per_node
        if per_node:
            self._rows, self._weights = _node_labels(labels, len(self.terms))
            self.labels = _padded_rows(self._rows)
            return
        try:
            self.labels = jnp.asarray(labels)
        except (TypeError, ValueError):
            raise DataError(_messages.ragged_tree_labels()) from None
        if self.labels.ndim == 0 or self.labels.shape[0] != len(self.terms):
            count = self.labels.shape[0] if self.labels.ndim else 0
            raise DataError(_messages.length_mismatch("Trees", len(self.terms), count))

    @property
    def size(self) -> int:
        """The number of terms."""
        return len(self.terms)

    @property
    def per_example(self) -> bool:
        """False: the model takes the node table of a forest."""
        return False

    def batch(self, indices: np.ndarray, batch_size: int | None = None) -> Any:
        """The node table of the terms at `indices`, and their labels.

        With `batch_size`, a smaller batch (an epoch's last) is filled up to it
        with its first term again, whose labels are masked out (`Masked`), so
        that it has as many roots as a full batch and its steps run the full
        batches' compiled program; every batch's labels are then `Masked`.
        """
        count = len(indices)
        if batch_size is not None and 0 < count < batch_size:
            fill = np.full(batch_size - count, indices[0], np.asarray(indices).dtype)
            indices = np.concatenate([np.asarray(indices), fill])
        terms = [self.terms[int(i)] for i in indices]
        table = self.tables(self.functor, terms)
        if not self.per_node:
            labels = self.labels[jnp.asarray(indices)]
            if batch_size is None:
                return table, labels
            present = (np.arange(len(indices)) < count).astype(np.float32)
            return table, Masked(labels, jnp.asarray(present))
        rows = np.concatenate([self._rows[int(i)] for i in indices])
        if rows.shape[0] != table.size:
            # A table stores a layer met twice (a term drawn twice, a shared
            # subterm) once, but each occurrence has its labels.
            table = self.tables(self.functor, [_unshared(t) for t in terms])
        if rows.shape[0] != table.size:
            raise DataError(self._miscounted(indices, table.size, rows.shape[0]))
        weights = np.concatenate(
            [
                self._weights[int(i)] if j < count else 0 * self._weights[int(i)]
                for j, i in enumerate(indices)
            ]
        )
        labels = jnp.asarray(table.per_node(rows))
        return table, Masked(labels, jnp.asarray(table.per_node(weights), jnp.float32))

    def _miscounted(self, indices: np.ndarray, nodes: int, labels: int) -> str:
        """The error text for the first term whose labels miss its nodes."""
        for i in map(int, indices):
            nodes = self.tables(self.functor, [_unshared(self.terms[i])]).size
            if nodes != self._rows[i].shape[0]:
                return _messages.node_labels_miscounted(
                    i, nodes, self._rows[i].shape[0]
                )
        return _messages.batch_labels_miscounted(nodes, labels)


def _unshared(term: Any) -> Any:
    """`term` with a new layer for every node, none of them met twice."""
    return jax.tree.unflatten(jax.tree.structure(term), jax.tree.leaves(term))


def _node_labels(labels: Any, terms: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each term's node labels (``None`` filled) and their weights (0 for ``None``)."""
    if isinstance(labels, np.ndarray | jax.Array) and labels.ndim < 2:
        raise DataError(_messages.node_labels_not_nested(labels.shape))
    try:
        given = list(labels)
    except TypeError:
        raise DataError(_messages.node_labels_not_nested(())) from None
    if len(given) != terms:
        raise DataError(_messages.length_mismatch("Trees", terms, len(given)))
    rows, weights = [], []
    for i, row in enumerate(given):
        items = list(row) if isinstance(row, Sequence) else None
        if items is None:
            array = np.asarray(row)
            if array.ndim == 0:
                raise DataError(_messages.node_labels_not_nested((), i))
            rows.append(array)
            weights.append(np.ones(array.shape[0], np.float32))
            continue
        present = [x for x in items if x is not None]
        fill = present[0] if present else 0
        rows.append(np.asarray([fill if x is None else x for x in items]))
        weights.append(np.asarray([x is not None for x in items], np.float32))
    for i, row in enumerate(rows):
        # bfloat16 (ml_dtypes) is of kind "V" to NumPy; jnp knows it as a float.
        if row.dtype.kind not in "biuf" and not jnp.issubdtype(row.dtype, jnp.floating):
            raise DataError(_messages.node_labels_not_numbers(i, row.dtype))
    filled = [(i, row) for i, row in enumerate(rows) if row.shape[0]]
    shape = filled[0][1].shape[1:] if filled else ()
    for i, row in filled:
        if row.shape[1:] != shape:
            first = filled[0][0]
            raise DataError(_messages.node_label_shapes(i, row.shape[1:], first, shape))
    # A term with no labels given ([]) has none of any shape: the others' shape.
    rows = [row if row.shape[0] else row.reshape(0, *shape) for row in rows]
    return rows, weights


def _padded_rows(rows: list[np.ndarray]) -> jax.Array:
    """The terms' node labels padded with a label of their own, one row per term."""
    width = max((r.shape[0] for r in rows), default=0)
    out = []
    for r in rows:
        fill = r[:1] if r.shape[0] else np.zeros((1, *r.shape[1:]), r.dtype)
        out.append(np.concatenate([r, np.repeat(fill, width - r.shape[0], 0)]))
    return jnp.asarray(np.stack(out)) if out else jnp.zeros((0, 0))


class DataError(ValueError):
    """The data given to `fit` cannot train the model: empty, mismatched, not finite.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import Learner, MeanSquaredError, SGD, fit
    >>> model = cdl.Linear(2, 1, key=jax.random.key(0))
    >>> learner = Learner(model, MeanSquaredError(), SGD(0.1))
    >>> xs = jnp.array([[0.0, 1.0], [jnp.nan, 0.0]])
    >>> fit(learner, model, xs, jnp.zeros((2, 1)), epochs=1, batch_size=1,
    ...     key=jax.random.key(0), progress=False)
    Traceback (most recent call last):
    ...
    cdl.optics._data.DataError: fit(Linear(2→1)): the inputs hold 1 NaN or \
infinite value(s), the first in example 1: clean the data before training.
    """


def as_data(xs: Any, ys: Any) -> AbstractData:
    """The dataset for inputs `xs` and labels `ys` as given to `fit`.

    **Arguments:** `xs`, a dataset (then `ys` is None), a list of `cdl.Graph`, or
    a pytree of arrays; `ys`, the labels.

    **Returns:** the `AbstractData`.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import as_data
    >>> type(as_data(jnp.zeros((3, 2)), jnp.zeros(3))).__name__
    'Arrays'
    """
    if isinstance(xs, AbstractData):
        if ys is not None:
            raise DataError(_messages.labels_beside_dataset(type(xs).__name__))
        return xs
    if isinstance(xs, list | tuple) and xs and all(isinstance(g, Graph) for g in xs):
        return Graphs(xs, ys)
    if isinstance(xs, list | tuple) and xs and isinstance(xs[0], Layer):
        raise DataError(_messages.terms_without_trees(xs[0].constructor))
    return Arrays(xs, ys)


_WHOLE: Final = 64 * 2**20
"""Data up to this many bytes is hashed whole; larger data by rows spread over it."""

_ROWS: Final = 1024


def _described(leaves: list[Any]) -> str:
    return ", ".join(f"{np.dtype(a.dtype).name}{list(a.shape)}" for a in leaves)


def _hash_arrays(hashed: Any, leaves: list[Any], rows: np.ndarray | None) -> None:
    for leaf in leaves:
        array = np.asarray(leaf if rows is None or not leaf.ndim else leaf[rows])
        hashed.update(f"{array.dtype.str}{array.shape}".encode())
        hashed.update(np.ascontiguousarray(array).tobytes())


def _term_parts(term: Any) -> Iterator[Any]:
    """Each node of a term, in order: its constructor, its arity and its payload.

    Walked without recursion: a term may be deeper than Python's stack.
    """
    stack = [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Layer):
            stack += reversed(t.children)
            yield f"{t.constructor}/{len(t.children)}"
            yield from jax.tree.leaves(t.payload)
        elif isinstance(t, tuple) and len(t) == 2:
            stack += reversed(t)
            yield "pair"
        else:
            yield t


def fingerprint(data: AbstractData) -> dict[str, Any]:
    """What identifies a dataset cheaply: its kind, examples, arrays and a hash.

    A checkpoint records it, so that a run resumed on other data is told so.
    The hash (SHA-256, 16 hexadecimal digits) covers every value of data up to
    64 MiB; of larger arrays it covers 1,024 rows spread over the examples.

    **Arguments:** `data`, a dataset (`Arrays`, `Graphs`, `Trees`; of another
    kind only its kind and size are recorded).

    **Returns:** ``{"examples": n, "arrays": text, "values": digest}``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics import Arrays
    >>> from cdl.optics._data import fingerprint
    >>> fingerprint(Arrays(jnp.zeros((4, 2)), jnp.arange(4)))["arrays"]
    'Arrays: float32[4, 2], int32[4]'
    >>> a = fingerprint(Arrays(jnp.zeros((4, 2)), jnp.arange(4)))["values"]
    >>> a == fingerprint(Arrays(jnp.ones((4, 2)), jnp.arange(4)))["values"]
    False
    """
    hashed = hashlib.sha256()
    kind = type(data).__name__
    arrays = kind
    if isinstance(data, Arrays):
        leaves = jax.tree.leaves((data.xs, data.ys))
        arrays = f"{kind}: {_described(leaves)}"
        size = sum(int(np.prod(a.shape)) * np.dtype(a.dtype).itemsize for a in leaves)
        rows = None
        if size > _WHOLE:
            rows = np.unique(np.linspace(0, data.size - 1, _ROWS).astype(np.int64))
        _hash_arrays(hashed, leaves, rows)
    elif isinstance(data, Graphs):
        arrays = f"{kind}: labels {_described([data.labels])}"
        for graph in data._host:
            parts = [p for p in graph if p is not None]
            _hash_arrays(hashed, [np.asarray(p) for p in parts], None)
        _hash_arrays(hashed, [data.labels], None)
    elif isinstance(data, Trees):
        arrays = f"{kind} of {data.functor.name}"
        for term in data.terms:
            hashed.update(b"term")
            for part in _term_parts(term):
                array = None if isinstance(part, str) else np.asarray(part)
                if array is None or array.dtype == object:
                    hashed.update(repr(part).encode())
                else:
                    _hash_arrays(hashed, [array], None)
        _hash_arrays(hashed, [np.asarray(data.labels)], None)
        if data.per_node:
            _hash_arrays(hashed, list(data._weights), None)
    return {"examples": data.size, "arrays": arrays, "values": hashed.hexdigest()[:16]}
