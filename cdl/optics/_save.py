"""Save a trained model to one file and load it back: `cdl.save`, `cdl.load`.

This follows Equinox's convention for serialisation: the arrays are written with
`equinox.tree_serialise_leaves`, and the structure they fill is rebuilt by the
code that built the model, from hyperparameters saved beside the arrays (JSON).
The file is written atomically and carries a SHA-256 checksum, checked on load.

>>> import tempfile, os, jax, cdl
>>> def build(hidden):
...     return cdl.Linear(2, hidden, key=jax.random.key(0)) >> cdl.Tanh()
>>> model = build(hidden=3)
>>> with tempfile.TemporaryDirectory() as d:
...     path = os.path.join(d, "model.cdl")
...     cdl.save(path, model, hidden=3)
...     back = cdl.load(path, build)
>>> bool((back.factors[0].weight == model.factors[0].weight).all())
True
"""

import inspect
import io
import json
import os
import pathlib
from collections.abc import Callable
from typing import Any, Final, TypeVar

import equinox as eqx
import jax
import numpy as np

from . import _messages
from ._checkpoint import (
    has_checkpoint,
    is_sealed,
    layout,
    layout_difference,
    read_like,
    sealed,
    verified,
    with_key_data,
    write_atomically,
)
from ._distributed import is_main, to_host

_M = TypeVar("_M")


def save(path: str | os.PathLike[str], model: Any, /, **hyperparameters: Any) -> None:
    """Write `model`'s arrays and the `hyperparameters` that rebuild it to `path`.

    **Arguments:** `path`, the file (its directory is created); `model`, any
    Equinox module (a trained `cdl.Para`, e.g. ``fit(...).model``);
    `hyperparameters`, JSON-serialisable keyword arguments of the function that
    builds the model (given to `load`), whatever their names (``path`` and
    ``model`` too).

    **Returns:** nothing. Across `jax.distributed` processes call it in every
    process, as `fit` runs: parameters split across processes (`fsdp`) are
    gathered first, which takes all of them, and process 0 alone writes the
    file. A model with state (`BatchNorm`, whose running
    statistics live in an `equinox.nn.State`, not in the model) is saved with
    its state, as the pair ``(model, state)``, and loaded by a `build` that
    returns such a pair (``equinox.nn.make_with_state(build_model)(...)``);
    the model alone is refused, since the file would lose its statistics.

    >>> import tempfile, os, equinox as eqx, jax, cdl
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cdl.save(os.path.join(d, "m.cdl"), cdl.Bias(2), size=2)
    ...     bn, state = eqx.nn.make_with_state(cdl.BatchNorm)(3)
    ...     cdl.save(os.path.join(d, "bn.cdl"), (bn, state), channels=3)
    ...     sorted(os.listdir(d))
    ['bn.cdl', 'm.cdl']
    >>> cdl.save("bn.cdl", bn, channels=3)
    Traceback (most recent call last):
    ...
    ValueError: cdl.save: BatchNorm(3) keeps state (its StateIndex at .running)...
    >>> cdl.save("m.cdl", cdl.Bias(2), act=jax.nn.relu)
    Traceback (most recent call last):
    ...
    TypeError: cdl.save: hyperparameter act=<...> is not JSON ...
    """
    _check_state(model)
    for name, value in hyperparameters.items():
        try:
            json.dumps(_tagged(value), default=_plain)
        except (TypeError, ValueError) as error:
            text = _messages.hyperparameter_not_json(name, value, error)
            raise TypeError(text) from None
    # Arrays spread over processes (after multi-process training) are gathered.
    model = jax.tree.map(_whole, model)
    if not is_main():
        return
    target = pathlib.Path(path)
    if target.is_dir():
        raise IsADirectoryError(_messages.save_to_directory(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays = io.BytesIO()
    eqx.tree_serialise_leaves(arrays, with_key_data(model))
    tagged = {name: _tagged(value) for name, value in hyperparameters.items()}
    written = {"hyperparameters": tagged, "layout": layout(model)}
    text = json.dumps(written, default=_plain)
    header = text.encode() + b"\n"
    write_atomically(target, sealed(header + arrays.getvalue()))


def _plain(value: object) -> object:
    """A NumPy scalar (``np.int64(3)`` from a grid) as the Python number it holds."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_TUPLE: Final = "__cdl_tuple__"
_DICT: Final = "__cdl_dict__"


def _tagged(value: object) -> object:
    """`value` for JSON, its tuples and its dicts of other keys than strings tagged.

    JSON has lists and string-keyed objects only: a tuple would come back a
    list, and ``{1: 3}`` as ``{"1": 3}``, so `load` would call `build` with
    other values than `save` was given.

    >>> from cdl.optics._save import _tagged, _untagged
    >>> import json
    >>> given = {"sizes": (3, 5), "table": {1: "a"}, "names": ["x"]}
    >>> _untagged(json.loads(json.dumps(_tagged(given)))) == given
    True
    """
    if isinstance(value, tuple):
        return {_TUPLE: [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in (_TUPLE, _DICT) for k in value):
            return {k: _tagged(v) for k, v in value.items()}
        return {_DICT: [[_tagged(k), _tagged(v)] for k, v in value.items()]}
    return value


def _untagged(value: Any) -> Any:
    """What `_tagged` wrote, read back from JSON: tuples and keys as they were."""
    if isinstance(value, list):
        return [_untagged(v) for v in value]
    if isinstance(value, dict):
        if list(value) == [_TUPLE]:
            return tuple(_untagged(v) for v in value[_TUPLE])
        if list(value) == [_DICT]:
            return {_untagged(k): _untagged(v) for k, v in value[_DICT]}
        return {k: _untagged(v) for k, v in value.items()}
    return value


def _whole(x: Any) -> Any:
    """An array's whole value on this host, if some of it lives on other hosts."""
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return to_host(x)
    return x


def _is_index(node: object) -> bool:
    return isinstance(node, eqx.nn.StateIndex | eqx.nn.State)


def _check_state(tree: Any) -> None:
    """Raise ValueError if `tree` holds a `StateIndex` but no `State` for it."""
    nodes = jax.tree_util.tree_leaves_with_path(tree, is_leaf=_is_index)
    indices = [path for path, node in nodes if isinstance(node, eqx.nn.StateIndex)]
    if indices and not any(isinstance(node, eqx.nn.State) for _, node in nodes):
        label = getattr(tree, "label", type(tree).__name__)
        where = jax.tree_util.keystr(indices[0])
        raise ValueError(_messages.model_without_state(str(label), where))


def load(path: str | os.PathLike[str], build: Callable[..., _M] | _M) -> _M:
    """Read a model written by `save`.

    **Arguments:** `path`; `build`, the function that builds the model, called
    with the saved hyperparameters to give the structure the arrays fill (or a
    model of that structure itself).

    **Returns:** the model with the saved arrays; raises ValueError for a damaged
    file or one that does not fit the structure.

    >>> import tempfile, os, cdl
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cdl.save(os.path.join(d, "m.cdl"), cdl.Bias(2), size=2)
    ...     cdl.load(os.path.join(d, "m.cdl"), cdl.Bias(3))
    Traceback (most recent call last):
    ...
    ValueError: model file ... does not fit the model built (it holds float32[2] \
at .bias where the model built has float32[3]): build the model with the code and \
hyperparameters it was saved from.
    """
    source = pathlib.Path(path)
    if source.is_dir():
        text = _messages.load_from_directory(source, has_checkpoint(source))
        raise IsADirectoryError(text)
    data = source.read_bytes()
    if not is_sealed(data):
        raise ValueError(_messages.model_not_saved_by_cdl(source))
    try:
        body = verified(data)
    except ValueError as error:
        raise ValueError(_messages.model_damaged(source, str(error))) from None
    header, arrays = body.split(b"\n", 1)
    written = json.loads(header)
    if "hyperparameters" not in written:
        raise ValueError(_messages.model_is_checkpoint(source))
    hyperparameters = _untagged(written["hyperparameters"])
    if _is_builder(build):
        _check_arguments(source, build, hyperparameters)  # type: ignore[arg-type]
    like = build(**hyperparameters) if _is_builder(build) else build  # type: ignore[operator]
    try:
        model: _M = read_like(io.BytesIO(arrays), like, theirs="the model built has")
    except (ValueError, RuntimeError, TypeError, EOFError) as error:
        why = str(error).splitlines()[0]
        if "layout" in written:
            theirs = "the model built has"
            why = layout_difference(written["layout"], layout(like), theirs) or why
        raise ValueError(_messages.model_mismatch(source, why)) from None
    return model


def _check_arguments(
    source: pathlib.Path, build: Callable[..., Any], hyperparameters: dict[str, Any]
) -> None:
    """Raise `TypeError` when `build` cannot be called with the saved values."""
    try:
        inspect.signature(build).bind(**hyperparameters)
    except TypeError as error:
        text = _messages.build_arguments(source, hyperparameters, str(error))
        raise TypeError(text) from None
    except ValueError:  # no signature to read: the call itself will tell
        pass


def _is_builder(build: object) -> bool:
    return callable(build) and not isinstance(build, eqx.Module)
