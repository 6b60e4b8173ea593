"""Reparametrisation 2-cells: changing, tying, sharing and freezing parameters.

A 2-cell ``r: (P', f') ⇒ (P, f)`` of Para is a map of parameters ``r: P' → P`` with
``f'(p', x) = f(r(p'), x)``. Weight tying and sharing are 2-cells that copy one
parameter into several places; freezing is one that stops its gradient. In each
case a parameter used several times is *one* leaf of the pytree, so its gradients
add up and an optimiser updates it once. `repeat` is the n-fold composite
reparametrised along the diagonal ``P → Pⁿ``, run as one loop:

>>> import jax, jax.numpy as jnp, cdl
>>> cell = cdl.Linear(2, 2, key=jax.random.key(0))
>>> unrolled = cdl.repeat(cell, 3)
>>> len(jax.tree.leaves(unrolled)) == len(jax.tree.leaves(cell))
True
>>> x = jnp.ones(2)
>>> bool(jnp.allclose(unrolled(x), cell(cell(cell(x))), atol=1e-6))
True
"""

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import equinox as eqx
import jax
from jaxtyping import PRNGKeyArray

from . import _messages
from ._category import output_space_of, signature_of
from ._errors import CompositionError
from ._para import A, B, Para, apply
from ._space import Mismatch, Space, Unifier

_P = TypeVar("_P")


def _is_index(node: object) -> bool:
    return isinstance(node, eqx.nn.StateIndex)


def parameters(f: Para[A, B]) -> Para[A, B]:
    """The parameters of `f`: `f` with every non-array leaf replaced by None.

    The initial value a stateful layer keeps in its `equinox.nn.StateIndex`
    (`BatchNorm`'s running statistics) is state, not a parameter: it is None
    here too.

    >>> import jax, cdl
    >>> cdl.parameters(cdl.Linear(2, 3, key=jax.random.key(0))).weight.shape
    (3, 2)
    >>> cdl.parameters(cdl.BatchNorm(3)).running is None
    True
    """
    params: Para[A, B] = eqx.filter(f, eqx.is_array, is_leaf=_is_index)
    return params


def _is_flag(path: tuple[Any, ...], node: object) -> bool:
    """Whether `node` is a module's ``inference`` flag (`Dropout`, `BatchNorm`)."""
    last = path[-1] if path else None
    name = getattr(last, "name", None)
    return isinstance(last, jax.tree_util.GetAttrKey) and name == "inference"


def _own_parameters(f: Para[A, B]) -> Any:
    """The parameters a `tie` or `freeze` of `f` holds: `cdl.parameters(f)` pruned.

    A module that keeps parameters and has an ``inference`` flag (`BatchNorm`)
    keeps its flag too, so that the flag is never None: `equinox.nn.inference_mode`
    finds every flag by the object it is, and cannot pick one None out of many.
    """
    kept = jax.tree_util.tree_map_with_path(
        lambda path, node: (
            node
            if (eqx.is_array(node) and not _is_index(node)) or _is_flag(path, node)
            else None
        ),
        f,
        is_leaf=_is_index,
    )
    return _pruned(kept)


class Reparam(Para[A, B], Generic[A, B, _P]):
    """The morphism `base` reparametrised along ``r: P' → P``.

    Its parameters are `params`, a point of ``P'``; each call rebuilds `base` from
    ``r(params)``, a tree shaped like ``cdl.parameters(base)``. Build one with
    `reparam`, `tie`, `repeat` or `freeze`.

    **Arguments:** `base`, the morphism; `r`, the map of parameters (hashable: a
    function or a frozen dataclass); `params`, the new parameters.

    >>> import jax, jax.numpy as jnp, cdl
    >>> f = cdl.Bias(2)
    >>> cdl.Reparam(f, lambda p: p, jnp.zeros(2))
    Traceback (most recent call last):
    ...
    TypeError: the reparametrisation of Bias(2,) must return parameters shaped ...
    """

    params: _P
    # The base without its arrays (a stateful layer's `StateIndex` stays here
    # whole): a module like any other, so the flags it holds (`Dropout`'s
    # `inference`) are leaves `equinox.nn.inference_mode`, `equinox.tree_at` and
    # `equinox.partition` reach. A layer that also keeps parameters in `params`
    # (`BatchNorm`) has its flag there too, where it wins; both are switched
    # together.
    skeleton: Para[A, B]
    r: Callable[[_P], Any] = eqx.field(static=True)

    def __init__(self, base: Para[A, B], r: Callable[[_P], Any], params: _P) -> None:
        self.skeleton = eqx.filter(base, _is_parameter, inverse=True, is_leaf=_is_index)
        self.r = r
        self.params = params
        rebuilt = _arrays(eqx.filter_eval_shape(r, params))
        expected = jax.tree.structure(_pruned(parameters(base)))
        given = jax.tree.structure(_pruned(rebuilt))
        if expected != given:  # type: ignore[operator]
            path, want, got = _first_difference(_pruned(parameters(base)), rebuilt)
            raise TypeError(_messages.reparam_mismatch(base.label, path, want, got))
        _check_leaves(base, rebuilt)

    def base(self) -> Para[A, B]:
        """The base morphism with its parameters filled in from ``r(params)``."""
        rebuilt: Para[A, B] = eqx.combine(self.r(self.params), self.skeleton)
        return rebuilt

    def signature(self) -> tuple[Space, Space]:
        """That of the base morphism."""
        return signature_of(self.skeleton)

    def output_space(self, dom: Space) -> Space:
        """That of the base morphism."""
        return output_space_of(self.skeleton, dom)

    @property
    def stochastic(self) -> bool:
        """Whether the base morphism needs a key."""
        return self.skeleton.stochastic

    @property
    def label(self) -> str:
        """The base morphism's label."""
        return self.skeleton.label

    def __call__(self, x: A, *, key: PRNGKeyArray | None = None) -> B:
        """Rebuild the base morphism, then apply it."""
        return apply(self.base(), x, key)


def _is_parameter(node: object) -> bool:
    return eqx.is_array(node) and not _is_index(node)


def _arrays(tree: Any) -> Any:
    """The arrays (or their shapes) of `tree`, None elsewhere and for state."""
    return eqx.filter(
        tree,
        lambda node: isinstance(node, jax.ShapeDtypeStruct) or eqx.is_array(node),
        is_leaf=_is_index,
    )


def _empty(node: object) -> bool:
    return isinstance(node, eqx.Module) and not any(
        isinstance(leaf, jax.ShapeDtypeStruct) or eqx.is_array(leaf)
        for leaf in jax.tree.leaves(node)
    )


def _pruned(tree: Any) -> Any:
    """`tree` with each module that holds no arrays (`Tanh`, `Dropout`) as None.

    New parameters built from it hold no copies of such layers, whose flags
    would be None there: the skeleton alone holds them.
    """
    return jax.tree.map(
        lambda node: None if _empty(node) else node, tree, is_leaf=_empty
    )


def _described(node: Any) -> str:
    """What a leaf of a tree of parameters is, for a message."""
    if node is None:
        return "nothing"
    if isinstance(node, jax.ShapeDtypeStruct) or eqx.is_array(node):
        return f"{node.dtype}{list(node.shape)}"
    return _messages.with_article(type(node).__name__)


def _first_difference(expected: Any, given: Any) -> tuple[str, str, str]:
    """The first path where two trees of parameters differ, and what each holds.

    >>> import jax.numpy as jnp, cdl
    >>> _first_difference(cdl.Bias(2), jnp.zeros(2))
    ('.bias', 'float32[2]', 'nothing')
    """

    def leaves(tree: Any) -> dict[str, str]:
        found = jax.tree_util.tree_leaves_with_path(
            _pruned(tree), is_leaf=lambda node: node is None
        )
        return {jax.tree_util.keystr(path): _described(leaf) for path, leaf in found}

    want, got = leaves(expected), leaves(given)
    for path, kind in want.items():
        if got.get(path, "nothing") != kind:
            return path, kind, got.get(path, "nothing")
    for path, kind in got.items():
        if path not in want:
            return path, "nothing", kind
    return "", str(jax.tree.structure(expected)), str(jax.tree.structure(given))


def _check_leaves(base: Para[Any, Any], rebuilt: Any) -> None:
    """Raise `TypeError` unless `rebuilt` has the types of `base`'s arrays."""
    paths = jax.tree_util.tree_leaves_with_path(parameters(base))
    for (path, want), got in zip(paths, jax.tree.leaves(rebuilt), strict=True):
        if want.shape != got.shape or want.dtype != got.dtype:
            raise TypeError(
                _messages.reparam_leaf(
                    base.label,
                    jax.tree_util.keystr(path),
                    f"{want.dtype}{list(want.shape)}",
                    f"{got.dtype}{list(got.shape)}",
                )
            )


def _require_morphism(receiver: str, f: object) -> None:
    """Raise a `TypeError` naming `receiver` when `f` is not a `Para` morphism."""
    if not isinstance(f, Para):
        raise TypeError(_messages.not_a_morphism(receiver, f))


def reparam(f: Para[A, B], r: Callable[[_P], Any], params: _P) -> Reparam[A, B, _P]:
    """Reparametrise `f` along ``r: P' → P``, starting from new parameters `params`.

    **Arguments:** `f`; `r`, mapping new parameters to a tree shaped like
    ``cdl.parameters(f)``; `params`, the initial new parameters.

    **Returns:** a morphism with the spaces of `f` whose parameters are `params`.

    Here one scalar fills the whole bias:

    >>> import equinox as eqx, jax.numpy as jnp, cdl
    >>> f = cdl.Bias(3)
    >>> spread = lambda s: eqx.tree_at(lambda b: b.bias, f, jnp.full(3, s))
    >>> g = cdl.reparam(f, spread, jnp.array(2.0))
    >>> g(jnp.zeros(3))
    Array([2., 2., 2.], dtype=float32)
    """
    _require_morphism("reparam", f)
    return Reparam(f, r, params)


@dataclasses.dataclass(frozen=True)
class _Tie:
    source: Callable[[Any], Any]
    targets: tuple[Callable[[Any], Any], ...]
    via: Callable[[Any], Any]

    def holes(self, params: Any) -> Any:
        return eqx.tree_at(
            lambda p: [t(p) for t in self.targets],
            params,
            replace=[None] * len(self.targets),
        )

    def __call__(self, holed: Any) -> Any:
        # A frozen source (`tie` of a `freeze`) is copied as its value, held
        # fixed: its copies are as frozen as it is.
        value = self.via(_thawed(self.source(holed)))
        return eqx.tree_at(
            lambda p: [t(p) for t in self.targets],
            holed,
            replace=[value] * len(self.targets),
            is_leaf=lambda node: node is None,
        )


def _identity(x: Any) -> Any:
    return x


def _thawed(tree: Any) -> Any:
    """`tree` with each `Frozen` parameter replaced by its value, held fixed."""
    return jax.tree.map(
        lambda node: jax.lax.stop_gradient(node.value) if is_frozen(node) else node,
        tree,
        is_leaf=is_frozen,
    )


def _holds_frozen(tree: Any) -> bool:
    return any(is_frozen(leaf) for leaf in jax.tree.leaves(tree, is_leaf=is_frozen))


def tie(
    f: Para[A, B],
    source: Callable[[Any], Any],
    *targets: Callable[[Any], Any],
    via: Callable[[Any], Any] = _identity,
) -> Reparam[A, B, Para[A, B]]:
    """Tie the parameters at each of `targets` to ``via(source)``.

    The targets stop being parameters; the source is one leaf used in several places,
    so its gradient is the sum over all of them.

    **Arguments:** `f`; `source` and `targets`, functions picking a parameter (or a
    subtree of parameters) out of `f`, as for `equinox.tree_at`; `via`, applied to
    the source before it is copied (e.g. `jnp.transpose`).

    **Returns:** the tied morphism.

    A tied autoencoder, whose decoder is the transpose of its encoder:

    >>> import jax, jax.numpy as jnp, cdl
    >>> k1, k2 = jax.random.split(jax.random.key(0))
    >>> ae = cdl.Linear(4, 2, use_bias=False, key=k1) >> cdl.Linear(
    ...     2, 4, use_bias=False, key=k2)
    >>> tied = cdl.tie(ae, lambda m: m.factors[0].weight, lambda m: m.factors[1].weight,
    ...                via=jnp.transpose)
    >>> w = tied.params.factors[0].weight
    >>> bool(jnp.allclose(tied(jnp.ones(4)), w.T @ (w @ jnp.ones(4))))
    True
    """
    _require_morphism("tie", f)
    r = _Tie(source, targets, via)
    params = _own_parameters(f)
    try:
        picked = source(params)
        itself = [i for i, target in enumerate(targets) if target(params) is picked]
        frozen = [
            i for i, target in enumerate(targets) if _holds_frozen(target(params))
        ]
        holed = r.holes(params)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        nested = isinstance(f, Reparam)
        raise TypeError(_messages.bad_picker("tie", f.label, error, nested)) from None
    if itself:
        raise ValueError(_messages.tied_to_itself(f.label, itself[0]))
    if frozen:
        raise ValueError(_messages.tied_to_frozen(f.label, frozen[0]))
    return Reparam(f, r, holed)


class Repeat(Para[A, A]):
    """``cell >> cell >> … >> cell`` (`times` copies) with one shared set of weights.

    It is the `times`-fold composite reparametrised along the diagonal
    ``P → P^times``, and runs as one `jax.lax.scan`: its compile time and its
    trace do not grow with `times`, and the gradient with respect to the shared
    weights is the sum over the steps. Build one with `repeat`.

    **Arguments:** `cell`, an endomorphism ``A → A``; `times`, at least 1.

    >>> import jax, jax.numpy as jnp, cdl
    >>> r = cdl.Repeat(cdl.Tanh(), 2)
    >>> bool(jnp.allclose(r(jnp.ones(2)), jnp.tanh(jnp.tanh(1.0))))
    True
    """

    cell: Para[A, A]
    times: int = eqx.field(static=True)
    takes_key: ClassVar[bool] = True

    def __init__(self, cell: Para[A, A], times: int) -> None:
        from .nn._arguments import whole  # the layers import this module

        _require_morphism("repeat", cell)
        steps = whole(times)  # NumPy ints too, read from a config array
        if steps is None or steps < 1:
            raise ValueError(_messages.bad_times(times))
        dom, _ = signature_of(cell)
        out = output_space_of(cell, dom)
        try:
            Unifier().unify(dom, out)
        except Mismatch:
            raise CompositionError(
                _messages.not_endomorphism(cell.label, dom, out)
            ) from None
        self.cell = cell
        self.times = steps

    def signature(self) -> tuple[Space, Space]:
        """That of the cell."""
        return signature_of(self.cell)

    def output_space(self, dom: Space) -> Space:
        """That of the cell, which keeps its space."""
        return output_space_of(self.cell, dom)

    @property
    def stochastic(self) -> bool:
        """Whether the cell needs a key (each step gets its own)."""
        return self.cell.stochastic

    @property
    def label(self) -> str:
        """``repeat(cell, times)``."""
        return f"repeat({self.cell.label}, {self.times})"

    def __call__(self, x: A, *, key: PRNGKeyArray | None = None) -> A:
        """Apply the cell `times` times, in one loop."""
        cell = self.cell
        if self.times == 1:
            return apply(cell, x, key)
        if key is None or not cell.stochastic:

            def step(carry: A, _: None) -> tuple[A, None]:
                return apply(cell, carry, None), None

            out, _ = jax.lax.scan(step, x, None, length=self.times)
            return out

        def noisy(carry: A, k: PRNGKeyArray) -> tuple[A, None]:
            return apply(cell, carry, k), None

        out, _ = jax.lax.scan(noisy, x, jax.random.split(key, self.times))
        return out


def repeat(cell: Para[A, A], times: int) -> Repeat[A]:
    """``cell >> cell >> … >> cell`` (`times` copies) with one shared set of weights.

    **Arguments:** `cell`, an endomorphism; `times`, at least 1.

    **Returns:** a `Repeat`, whose parameters are those of `cell`; it runs as one
    loop, so `times` may be large.

    >>> import jax, cdl
    >>> cdl.repeat(cdl.Linear(3, 3, key=jax.random.key(0)), 3).label
    'repeat(Linear(3→3), 3)'
    """
    return Repeat(cell, times)


class Frozen(eqx.Module):
    """A parameter held fixed: a leaf no gradient reaches and no optimiser moves.

    `freeze` wraps the parameters it freezes in `Frozen`. `split_parameters` (so
    `Learner`, `fit` and every optimiser, optax's included) counts them with the
    structure, not the trainable parameters: no update reaches them, not even a
    decoupled weight decay (``optax.adamw``). A loop of your own with optax
    should likewise train ``cdl.optics.split_parameters(model)[0]``.

    **Arguments:** `value`, the array held.

    **Returns:** the frozen parameter.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.Frozen(jnp.ones(2)).value
    Array([1., 1.], dtype=float32)
    >>> f = cdl.freeze(cdl.Linear(2, 1, key=jax.random.key(0)), lambda m: m.bias)
    >>> type(f.params.bias).__name__, f.params.bias.value.shape
    ('Frozen', (1,))
    """

    value: Any


def is_frozen(node: object) -> bool:
    """Whether `node` is a `Frozen` parameter (for ``is_leaf=`` of tree maps).

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.is_frozen(cdl.Frozen(jnp.zeros(1))), cdl.is_frozen(jnp.zeros(1))
    (True, False)

    The frozen leaves of a model, counted whole:

    >>> f = cdl.freeze(cdl.Linear(2, 3, key=jax.random.key(0)), lambda m: m.weight)
    >>> [cdl.is_frozen(leaf) for leaf in jax.tree.leaves(f, is_leaf=cdl.is_frozen)]
    [True, False]
    """
    return isinstance(node, Frozen)


@dataclasses.dataclass(frozen=True)
class _Freeze:
    """``r`` of `freeze`: the value of each `Frozen` it made, its gradient stopped.

    `paths` are where this freeze put them; parameters a `freeze` inside the
    base froze stay `Frozen`, as the base's parameters hold them.
    """

    paths: frozenset[tuple[Any, ...]]

    def __call__(self, params: Any) -> Any:
        return jax.tree_util.tree_map_with_path(
            lambda path, node: (
                jax.lax.stop_gradient(node.value) if path in self.paths else node
            ),
            params,
            is_leaf=is_frozen,
        )


def _frozen_paths(tree: Any) -> frozenset[tuple[Any, ...]]:
    leaves = jax.tree_util.tree_leaves_with_path(tree, is_leaf=is_frozen)
    return frozenset(path for path, node in leaves if is_frozen(node))


def freeze(
    f: Para[A, B], where: Callable[[Any], Any] = _identity
) -> Reparam[A, B, Para[A, B]]:
    """Freeze the parameters of `f` at `where` (all of them by default).

    Frozen parameters stay where they are: no gradient flows to them (they
    receive exactly zero), and they are held as `Frozen` leaves, which
    `split_parameters` leaves out of the trainable parameters, so that no
    optimiser moves them, weight decay included. Freezing holds parameters,
    not state: a frozen `BatchNorm` in training mode still normalises with each
    batch's statistics and moves its running ones. To hold those too (what
    Keras's ``trainable = False`` does to batch norm), freeze the part in
    inference mode: ``cdl.freeze(cdl.inference_mode(part))``.

    **Arguments:** `f`; `where`, picking the parameters to freeze out of `f`.

    **Returns:** the morphism with those parameters frozen.

    >>> import jax, jax.numpy as jnp, cdl
    >>> from cdl.optics import split_parameters
    >>> f = cdl.freeze(cdl.Linear(2, 1, key=jax.random.key(0)), lambda m: m.weight)
    >>> g = jax.grad(lambda m: m(jnp.ones(2)).sum())(f)
    >>> g.params.weight.value, g.params.bias
    (Array([[0., 0.]], dtype=float32), Array([1.], dtype=float32))
    >>> split_parameters(f)[0].params.weight is None
    True

    A frozen or tied morphism keeps its parameters at ``.params``:

    >>> cdl.freeze(f, lambda m: m.bias)
    Traceback (most recent call last):
    ...
    TypeError: freeze(Linear(2→1)): a function picking parameters failed on \
cdl.parameters of it (AttributeError: 'Reparam' object has no attribute 'bias'): it \
reads a tree shaped like the morphism; a tied or frozen morphism holds its \
parameters at .params (lambda m: m.params…).
    >>> g = cdl.freeze(f, lambda m: m.params.bias)
    >>> cdl.is_frozen(g.params.params.bias), cdl.is_frozen(g.params.params.weight)
    (True, True)
    """
    _require_morphism("freeze", f)
    params = _own_parameters(f)
    try:
        frozen = eqx.tree_at(
            where,
            params,
            replace_fn=lambda part: jax.tree.map(
                lambda node: Frozen(node) if eqx.is_array(node) else node,
                part,
                is_leaf=is_frozen,
            ),
            is_leaf=lambda node: node is None,
        )
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        nested = isinstance(f, Reparam)
        raise TypeError(
            _messages.bad_picker("freeze", f.label, error, nested)
        ) from None
    made = _frozen_paths(frozen) - _frozen_paths(params)
    return Reparam(f, _Freeze(made), frozen)
