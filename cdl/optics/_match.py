"""Where two trees differ: the first path at which a model is not the one expected.

`fit` compares the model (or state) it starts from with the learner's, so that a
mismatch is named by its path and both sides instead of surfacing as a pytree error
deep inside a training step.

>>> import jax, cdl
>>> from cdl.optics._match import first_difference
>>> k = jax.random.key(0)
>>> a = cdl.Linear(2, 3, key=k) >> cdl.Tanh()
>>> first_difference(a, cdl.Linear(2, 3, key=k) >> cdl.Tanh()) is None
True
>>> first_difference(a, cdl.Linear(2, 4, key=k) >> cdl.Tanh())
('.factors[0]', 'Linear(2→3)', 'Linear(2→4)')
"""

import dataclasses
from typing import Any

import equinox as eqx
import jax


def describe(node: Any) -> str:
    """A short text for a node of a tree: its label, its array type or its type.

    **Arguments:** `node`.

    **Returns:** e.g. ``Linear(2→3)``, ``float32[3, 2]``, ``None`` or ``tuple of 2``.

    >>> import jax.numpy as jnp
    >>> from cdl.optics._match import describe
    >>> describe(jnp.zeros((3, 2))), describe((1, 2)), describe(None)
    ('float32[3, 2]', 'tuple of 2', 'None')
    """
    if eqx.is_array(node) or isinstance(node, jax.ShapeDtypeStruct):
        return f"{node.dtype}{list(node.shape)}"
    if node is None:
        return "None"
    label = getattr(node, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(node, list | tuple | dict):
        return f"{type(node).__name__} of {len(node)}"
    return type(node).__name__


def _with_kind(node: Any) -> str:
    """`describe(node)` followed by its class, for nodes of one label and two kinds.

    >>> import jax, cdl
    >>> from cdl.optics._match import _with_kind
    >>> _with_kind(cdl.freeze(cdl.Linear(2, 3, key=jax.random.key(0))))
    'Linear(2→3) (a Reparam: tied, frozen or reparametrised)'
    """
    kind = type(node).__name__
    if kind == "Reparam":
        kind = "a Reparam: tied, frozen or reparametrised"
    return f"{describe(node)} ({kind})"


def _short(value: Any) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _static_difference(
    expected: Any, given: Any, path: str
) -> tuple[str, str, str] | None:
    """The first static field in which two modules of one class differ."""
    if type(expected) is not type(given) or not dataclasses.is_dataclass(expected):
        return None
    for field in dataclasses.fields(expected):
        a, b = getattr(expected, field.name), getattr(given, field.name)
        if field.metadata.get("static", False) and a != b:
            return (f"{path}.{field.name}", _short(a), _short(b))
    return None


def _children(node: Any) -> tuple[list[tuple[Any, Any]], Any]:
    """The key paths and children of `node` one level down, and its node type."""
    pairs, treedef = jax.tree_util.tree_flatten_with_path(
        node, is_leaf=lambda child: child is not node
    )
    return [(path[0], child) for path, child in pairs], treedef


def first_difference(
    expected: Any, given: Any, path: str = ""
) -> tuple[str, str, str] | None:
    """The first path at which `given` differs from `expected` in structure or type.

    Nodes differ in their kind or static fields (``Linear(2→3)`` against
    ``Linear(2→4)``), arrays in shape or dtype; a None in either tree (a hole, as
    `split_parameters` leaves) matches anything.

    **Arguments:** `expected`, `given`: trees; `path`, the prefix of the paths.

    **Returns:** ``(path, expected, given)`` as texts, or None when they agree.

    >>> import jax.numpy as jnp
    >>> from cdl.optics._match import first_difference
    >>> first_difference({"w": jnp.zeros(2)}, {"w": jnp.zeros(3)})
    ("['w']", 'float32[2]', 'float32[3]')
    """
    if expected is None or given is None:
        return None
    here = (path or "the root", describe(expected), describe(given))
    if eqx.is_array(expected) or eqx.is_array(given):
        same = (
            eqx.is_array(expected)
            and eqx.is_array(given)
            and expected.shape == given.shape
            and expected.dtype == given.dtype
        )
        return None if same else here
    expected_leaf = jax.tree_util.treedef_is_leaf(jax.tree.structure(expected))
    given_leaf = jax.tree_util.treedef_is_leaf(jax.tree.structure(given))
    if expected_leaf or given_leaf:
        # Flags and functions may differ (a layer in inference mode).
        return None if expected_leaf and given_leaf else here
    expected_children, expected_def = _children(expected)
    given_children, given_def = _children(given)
    if expected_def != given_def:
        if here[1] == here[2] and type(expected) is not type(given):
            # Alike in name, not in kind (a model beside its tie or freeze).
            return (here[0], _with_kind(expected), _with_kind(given))
        if here[1] == here[2]:  # alike in name: name the static field that differs
            return _static_difference(expected, given, path) or here
        return here
    for (key, a), (_, b) in zip(expected_children, given_children, strict=True):
        found = first_difference(a, b, path + jax.tree_util.keystr((key,)))
        if found is not None:
            return found
    return None
