"""Where parameters live on a mesh: rules giving each parameter a `PartitionSpec`.

A rule maps a parameter (its path in the parameter tree, e.g.
``.factors[0].weight``, and the array) to a `jax.sharding.PartitionSpec` over
the axes of a `jax.sharding.Mesh`. `data_parallel(learner, mesh, params=rule)`
gives a learner whose steps keep the parameters, their gradients and the
optimiser's moments in those shards; XLA gathers a parameter where a layer needs
it whole and reduces gradients into shards (FSDP), so training computes what
replicated training computes. Three kinds of rules:

- `fsdp(axis)`: every parameter of at least `min_size` elements split along its
  largest dimension that the axis divides (fully sharded data parallelism over
  the data axis ``"batch"``, or over a model axis);
- a mapping from regular expressions over the paths to specs (per-layer specs,
  the first pattern found in the path wins; unmatched parameters replicated);
- any function ``(path, array) -> PartitionSpec | None``.

>>> import jax, jax.numpy as jnp
>>> from jax.sharding import PartitionSpec as P
>>> from cdl.optics import by_path, fsdp
>>> mesh = jax.make_mesh((1,), ("batch",))
>>> fsdp(min_size=4).spec(".weight", jnp.zeros((3, 8)), mesh)
P(None, 'batch')
>>> by_path({r"weight$": P("batch", None)}).spec(".bias", jnp.zeros(8), mesh)
P()
"""

import abc
import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import equinox as eqx
import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import _messages

_constrain: Callable[[Any, Any], Any] = jax.lax.with_sharding_constraint
_spec: Callable[..., PartitionSpec] = PartitionSpec


class AbstractParameterRule(abc.ABC):
    """A rule placing each parameter on a mesh: its path and array to a spec.

    **Arguments:** those of the subclass.

    **Returns:** the rule; `spec` gives one parameter's `PartitionSpec`.

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import AbstractParameterRule, fsdp
    >>> isinstance(fsdp(), AbstractParameterRule)
    True
    """

    @abc.abstractmethod
    def spec(self, path: str, leaf: Any, mesh: Mesh) -> PartitionSpec:
        """The `PartitionSpec` of the parameter at `path`.

        **Arguments:** `path`, the parameter's key path (``.factors[0].weight``);
        `leaf`, the array; `mesh`.

        **Returns:** the spec (``PartitionSpec()`` replicates it).
        """


@dataclasses.dataclass(frozen=True)
class FSDP(AbstractParameterRule):
    """Split every large parameter along its largest dimension that `axis` divides.

    **Arguments:** `axis`, a mesh axis name; `min_size`, the number of elements
    below which a parameter stays whole on every device.

    **Returns:** the rule (see `fsdp`).

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import FSDP
    >>> FSDP("batch", 0).spec(".w", jnp.zeros((4, 2)), jax.make_mesh((1,), ("batch",)))
    P('batch', None)
    """

    axis: str = "batch"
    min_size: int = 1024

    def __post_init__(self) -> None:
        """Refuse an axis that is not a name and a size that is not an int >= 0."""
        size = self.min_size
        if (
            not isinstance(self.axis, str)
            or isinstance(size, bool)
            or not (isinstance(size, int) and size >= 0)
        ):
            raise ValueError(_messages.bad_fsdp(self.axis, size))

    def spec(self, path: str, leaf: Any, mesh: Mesh) -> PartitionSpec:
        """The spec splitting `leaf`'s largest divisible dimension over `axis`."""
        shape = tuple(leaf.shape)
        if self.axis not in mesh.shape:
            raise ValueError(_messages.fsdp_axis(self.axis, dict(mesh.shape)))
        parts = mesh.shape[self.axis]
        if leaf.size < self.min_size:
            return _spec()
        fits = [d for d, n in enumerate(shape) if n % parts == 0 and n >= parts]
        if not fits:
            return _spec()
        widest = max(fits, key=lambda d: (shape[d], -d))
        return _spec(*(self.axis if d == widest else None for d in range(len(shape))))


@dataclasses.dataclass(frozen=True)
class ByPath(AbstractParameterRule):
    r"""Per-parameter specs by regular expressions over the parameters' paths.

    **Arguments:** `patterns`, ``(regex, spec)`` pairs; the first whose regex is
    found in a path (`re.search`) gives that parameter's spec; parameters no
    pattern matches are replicated.

    **Returns:** the rule (see `by_path`).

    >>> import jax, jax.numpy as jnp
    >>> from jax.sharding import PartitionSpec as P
    >>> from cdl.optics import ByPath
    >>> rule = ByPath(((r"\[1\]\.weight", P(None, "batch")),))
    >>> mesh = jax.make_mesh((1,), ("batch",))
    >>> rule.spec(".factors[1].weight", jnp.zeros((2, 2)), mesh)
    P(None, 'batch')
    """

    patterns: tuple[tuple[str, PartitionSpec], ...]

    def __post_init__(self) -> None:
        """Refuse a pattern that is not a regular expression, naming it."""
        for pattern, _ in self.patterns:
            try:
                re.compile(pattern)
            except (re.error, TypeError) as error:
                raise ValueError(_messages.bad_pattern(pattern, str(error))) from None

    def spec(self, path: str, leaf: Any, mesh: Mesh) -> PartitionSpec:
        """The spec of the first pattern found in `path`, else replicated."""
        for pattern, spec in self.patterns:
            if re.search(pattern, path):
                return spec
        return _spec()


@dataclasses.dataclass(frozen=True)
class ByFunction(AbstractParameterRule):
    """A rule given by a function ``(path, array) -> PartitionSpec | None``.

    **Arguments:** `function` (None means replicated).

    **Returns:** the rule.

    >>> import jax, jax.numpy as jnp
    >>> from jax.sharding import PartitionSpec as P
    >>> from cdl.optics import ByFunction
    >>> rule = ByFunction(lambda path, x: P("batch") if x.ndim == 1 else None)
    >>> rule.spec(".w", jnp.zeros((2, 2)), jax.make_mesh((1,), ("batch",)))
    P()
    """

    function: Callable[[str, Any], PartitionSpec | None]

    def spec(self, path: str, leaf: Any, mesh: Mesh) -> PartitionSpec:
        """The function's spec for the parameter, replicated for None."""
        spec = self.function(path, leaf)
        return _spec() if spec is None else spec


ParameterRule: TypeAlias = (
    AbstractParameterRule
    | Mapping[str, PartitionSpec]
    | Callable[[str, Any], PartitionSpec | None]
)
"""What `data_parallel(..., params=…)` takes: a rule, a mapping, or a function."""


def fsdp(axis: str = "batch", *, min_size: int = 1024) -> FSDP:
    """Fully sharded data parallelism: large parameters split over `axis`.

    **Arguments:** `axis`, the mesh axis (``"batch"``, the data axis, by
    default); `min_size`, parameters with fewer elements stay whole.

    **Returns:** the `FSDP` rule.

    >>> from cdl.optics import fsdp
    >>> fsdp("model", min_size=0)
    FSDP(axis='model', min_size=0)
    """
    return FSDP(axis, min_size)


def by_path(specs: Mapping[str, PartitionSpec]) -> ByPath:
    r"""Per-layer specs: regular expressions over parameter paths, to specs.

    **Arguments:** `specs`, e.g. ``{r"factors\[0\]\.weight": P("model", None)}``;
    the first pattern (in order) found in a path wins.

    **Returns:** the `ByPath` rule.

    >>> from jax.sharding import PartitionSpec as P
    >>> from cdl.optics import by_path
    >>> by_path({"weight": P(None, "model")}).patterns
    (('weight', P(None, 'model')),)
    """
    return ByPath(tuple((pattern, spec) for pattern, spec in specs.items()))


def as_rule(rule: ParameterRule) -> AbstractParameterRule:
    """The rule for what `data_parallel(..., params=…)` was given.

    **Arguments:** `rule`, an `AbstractParameterRule`, a mapping of path
    patterns to specs, or a function ``(path, array) -> PartitionSpec | None``.

    **Returns:** the `AbstractParameterRule`; raises TypeError for anything else.

    >>> from cdl.optics._sharding import as_rule
    >>> as_rule({})
    ByPath(patterns=())
    """
    if isinstance(rule, AbstractParameterRule):
        return rule
    if isinstance(rule, Mapping):
        return by_path(rule)
    if callable(rule):
        return ByFunction(rule)
    raise TypeError(_messages.bad_parameter_rule(rule))


def _check_spec(path: str, leaf: Any, spec: PartitionSpec, mesh: Mesh) -> None:
    if not isinstance(spec, PartitionSpec):
        raise ValueError(_messages.bad_spec(path, leaf, spec, "is not a PartitionSpec"))
    if len(spec) > leaf.ndim:
        raise ValueError(_messages.bad_spec(path, leaf, spec, "has too many entries"))
    for dim, names in enumerate(spec):
        if names is None:
            continue
        axes = names if isinstance(names, tuple) else (names,)
        unknown = [a for a in axes if a not in mesh.shape]
        if unknown:
            why = f"names {unknown[0]!r}, not an axis of the mesh {dict(mesh.shape)}"
            raise ValueError(_messages.bad_spec(path, leaf, spec, why))
        parts = 1
        for a in axes:
            parts *= mesh.shape[a]
        if leaf.shape[dim] % parts:
            why = f"splits dimension {dim} ({leaf.shape[dim]}) into {parts} parts"
            raise ValueError(_messages.bad_spec(path, leaf, spec, why))


def parameter_specs(
    mesh: Mesh, rule: AbstractParameterRule | None, params: Any
) -> list[PartitionSpec]:
    """The spec of every array of `params`, in flattening order, checked.

    **Arguments:** `mesh`; `rule` (None replicates everything); `params`.

    **Returns:** one `PartitionSpec` per array leaf; raises ValueError naming a
    parameter whose spec does not fit it or the mesh.

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import fsdp
    >>> from cdl.optics._sharding import parameter_specs
    >>> mesh = jax.make_mesh((1,), ("batch",))
    >>> params = {"b": jnp.zeros(2), "w": jnp.zeros((2, 3))}
    >>> parameter_specs(mesh, fsdp(min_size=0), params)
    [P('batch',), P(None, 'batch')]
    """
    specs, paths = [], []
    for key_path, leaf in jax.tree_util.tree_leaves_with_path(params):
        if not eqx.is_array(leaf):
            specs.append(_spec())
            continue
        path = jax.tree_util.keystr(key_path)
        paths.append(path)
        spec = _spec() if rule is None else rule.spec(path, leaf, mesh)
        _check_spec(path, leaf, spec, mesh)
        specs.append(spec)
    if isinstance(rule, ByPath):
        for pattern, _ in rule.patterns:
            if not any(re.search(pattern, path) for path in paths):
                raise ValueError(_messages.pattern_matches_nothing(pattern, paths))
    return specs


def _matches(tree: Any, params: Any) -> bool:
    mine: Any = jax.tree.structure(tree)
    if mine != jax.tree.structure(params):
        return False
    return all(
        getattr(a, "shape", None) == getattr(b, "shape", None)
        for a, b in zip(jax.tree.leaves(tree), jax.tree.leaves(params), strict=True)
    )


def _place(tree: Any, shardings: list[Any], put: Callable[[Any, Any], Any]) -> Any:
    leaves, treedef = jax.tree.flatten(tree)
    placed = [
        put(leaf, sharding) if eqx.is_array(leaf) else leaf
        for leaf, sharding in zip(leaves, shardings, strict=True)
    ]
    return jax.tree.unflatten(treedef, placed)


def place_like(
    tree: Any,
    params: Any,
    mesh: Mesh,
    rule: AbstractParameterRule | None,
    put: Callable[[Any, Any], Any] = _constrain,
) -> Any:
    """`tree` with each part shaped like `params` placed as the parameters are.

    `tree` may be the parameters, their gradients, or an optimiser state whose
    parts are trees like the parameters (Adam's moments); every other array is
    replicated.

    **Arguments:** `tree`; `params`, the parameters (or arrays of their shapes);
    `mesh`; `rule`; `put`, how to place an array on a `NamedSharding`
    (a sharding constraint, inside jit, by default).

    **Returns:** the tree with its arrays placed.

    >>> import jax, jax.numpy as jnp
    >>> from cdl.optics import fsdp
    >>> from cdl.optics._sharding import place_like
    >>> mesh = jax.make_mesh((1,), ("batch",))
    >>> params = {"w": jnp.zeros((2, 4))}
    >>> placed = place_like((jnp.zeros([]), params), params, mesh, fsdp(min_size=0),
    ...                     jax.device_put)
    >>> placed[1]["w"].sharding.spec
    P(None, 'batch')
    """
    replicated = NamedSharding(mesh, _spec())
    shardings = [
        NamedSharding(mesh, spec) for spec in parameter_specs(mesh, rule, params)
    ]

    def one(part: Any) -> Any:
        if _matches(part, params):
            return _place(part, shardings, put)
        return put(part, replicated) if eqx.is_array(part) else part

    return jax.tree.map(one, tree, is_leaf=lambda part: _matches(part, params))
