"""Generalised folds and unfolds: `gcata`, `gana` and `ghylo` with distributive laws.

Haskell's ``gcata :: (Comonad w) => (forall b. f (w b) -> w (f b)) -> (f (w a) ->
a) -> t -> a`` folds with an algebra that sees each child through a comonad `w`,
which the distributive law threads through the layers; ``gana`` is its dual with a
monad `m`. Each law here is a comonad (or monad) with a fixed-shape carrier, and is
lowered to the engine pass that already computes it: one `jax.lax.scan` on lists,
one level-by-level pass on trees.

- `dist_cata` (``Identity``): the child as its result: `cdl.cata`;
- `dist_para` (``(,) t``): as ``(subterm, result)``: `cdl.para`;
- ``dist_zygo(helper)`` (an environment): as ``(helper's, result)``: `cdl.zygo`;
- ``dist_histo(depth)`` (``Cofree f``, `depth` generations of it): as its history:
  `cdl.histo`;
- `dist_ana` (``Identity``): a seed: `cdl.ana`;
- `dist_futu` (``Free f``): seeds or layers: `cdl.futu`;
- ``dist_apo(finish, tail)`` (``Either t``): a seed or a finished structure:
  `cdl.apo`.

With the identity law `gcata` is `cata`, and with the cofree law it is `histo`:

>>> import jax.numpy as jnp, cdl
>>> xs = jnp.arange(1.0, 6.0)
>>> add = cdl.ListAlgebra(0.0, lambda p: p[0] + p[1])
>>> bool(cdl.gcata(cdl.dist_cata, add)(xs) == cdl.cata(add)(xs))
True
>>> fib = cdl.ListAlgebra(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1))
>>> cdl.gcata(cdl.dist_histo(2), fib)(jnp.zeros(10))
Array(89, dtype=int32, weak_type=True)
"""

import abc
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx

from .._para import Para
from .._space import Space, SpaceVar
from . import _list, _messages
from ._functor import Layer
from ._list import ListAlgebra, ListCoalgebra
from ._schemes import ana, apo, cata, futu, histo, para, zygo
from ._sizes import size
from ._tree import Algebra, tree_table
from ._tree_unfolds import Coalgebra

_A = TypeVar("_A")
_S = TypeVar("_S")


def _parts(scheme: str, algebra: Any) -> tuple[Any, ...]:
    """``(algebra,)`` for a tree algebra, ``(nil, cons)`` for a list algebra."""
    if isinstance(algebra, Algebra):
        return (algebra,)
    if isinstance(algebra, ListAlgebra):
        return algebra.nil, algebra.cons
    raise TypeError(_messages.not_an_algebra(scheme, algebra))


class Distributive(eqx.Module):
    """A distributive law ``f (w b) → w (f b)`` of a comonad `w` over a base functor.

    The library's laws (`dist_cata`, `dist_para`, ``dist_zygo``, ``dist_histo``)
    are lowered to the folds that compute them. A law of your own comonad, whose
    values are fixed-shape pytrees, defines two methods: ``extract(w)``, and
    ``lift(algebra, layer)``, the layer of ``w a`` carriers to the next ``w a``
    (Haskell's ``fmap g . k . fmap duplicate``: `algebra` is ``g``, to be called
    on a layer of ``w a``, and the result keeps what the comonad adds). `gcata`
    is then the `cdl.cata` of the lifted algebra, followed by ``extract``. A
    layer is a `cdl.Layer` for a `cdl.Algebra`, and for a `cdl.ListAlgebra`
    ``None`` (the end) or a pair ``(element, w)``.

    The environment comonad of a helper fold (what `dist_zygo` is), by hand:

    >>> import jax.numpy as jnp, cdl
    >>> class Env(cdl.Distributive):
    ...     helper: cdl.ListAlgebra
    ...     def extract(self, w):
    ...         return w[1]
    ...     def lift(self, algebra, layer):
    ...         if layer is None:
    ...             return self.helper(None), algebra(None)
    ...         x, (b, _) = layer
    ...         return self.helper((x, b)), algebra(layer)
    >>> parity = cdl.ListAlgebra(False, lambda p: ~p[1])
    >>> alt = cdl.ListAlgebra(0.0, lambda p: jnp.where(p[1][0], -p[0], p[0]) + p[1][1])
    >>> xs = jnp.array([5.0, 3.0, 1.0])
    >>> cdl.gcata(Env(parity), alt)(xs), cdl.gcata(cdl.dist_zygo(parity), alt)(xs)
    (Array(3., dtype=float32), Array(3., dtype=float32))
    """

    def fold(self, algebra: Any) -> Para[Any, Any]:
        """The generalised fold of `algebra`: ``extract`` after the lifted `cata`."""
        return Lifted(self, algebra)

    def lift(self, algebra: Any, layer: Any) -> Any:
        """The layer of ``w a`` carriers to ``w a`` (see the class)."""
        raise TypeError(_messages.law_methods(type(self).__name__))

    def extract(self, w: Any) -> Any:
        """The value a ``w a`` holds (the comonad's counit)."""
        raise TypeError(_messages.law_methods(type(self).__name__))

    def __repr__(self) -> str:
        return type(self).__name__


class Lifted(Para[Any, Any]):
    """A generalised fold by a law's `lift` and `extract`; built by `cdl.gcata`."""

    law: Distributive
    algebra: Any

    def signature(self) -> tuple[Space, Space]:
        """Structures to carriers (unchecked pytrees)."""
        return SpaceVar("T"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``gcata(<law>, <algebra>)``."""
        return f"gcata({self.law!r}, {self.algebra.label})"

    def __call__(self, data: Any) -> Any:
        """Fold `data` with the lifted algebra, then extract."""
        law, algebra = self.law, self.algebra
        step = _Lift(law, algebra)
        lifted: Any
        if isinstance(algebra, ListAlgebra):
            lifted = ListAlgebra(law.lift(algebra, None), step)
        else:
            lifted = Algebra(_parts("gcata", algebra)[0].functor, step)
        return law.extract(cata(lifted)(data))


class _Lift(eqx.Module):
    """``law.lift(algebra, layer)``, a module: equal laws make equal folds.

    A fold is compiled once per algebra structure, so equal laws and algebras
    share one program.
    """

    law: Distributive
    algebra: Any

    def __call__(self, layer: Any) -> Any:
        return self.law.lift(self.algebra, layer)


class _OnTables(Para[Any, Any]):
    """A fold of node tables that also takes terms, storing them as a table."""

    fold: Para[Any, Any]
    functor: Any = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """The fold's spaces."""
        return self.fold.signature()

    @property
    def label(self) -> str:
        """The fold's label."""
        return self.fold.label

    def __call__(self, data: Any) -> Any:
        """Fold `data`, a table, or a term (or a list of terms: a forest)."""
        if isinstance(data, Layer | list | tuple):
            data = tree_table(self.functor, data, forest=isinstance(data, list))
        return self.fold(data)


def _tree_fold(fold: Para[Any, Any], algebra: Any) -> Para[Any, Any]:
    """`fold`, taking terms too when `algebra` is a tree algebra."""
    if isinstance(algebra, Algebra):
        return _OnTables(fold, algebra.functor)
    return fold


class _DistCata(Distributive):
    def fold(self, algebra: Any) -> Para[Any, Any]:
        out: Para[Any, Any] = cata(algebra)
        return out

    def __repr__(self) -> str:
        return "dist_cata"


class _DistPara(Distributive):
    def fold(self, algebra: Any) -> Para[Any, Any]:
        out: Para[Any, Any] = para(*_parts("gcata(dist_para, …)", algebra))
        return _tree_fold(out, algebra)

    def __repr__(self) -> str:
        return "dist_para"


class _DistZygo(Distributive):
    helper: Any

    def fold(self, algebra: Any) -> Para[Any, Any]:
        parts = _parts("gcata(dist_zygo(…), …)", algebra)
        out: Para[Any, Any] = zygo(self.helper, *parts)
        return _tree_fold(out, algebra)

    def __repr__(self) -> str:
        return "dist_zygo(…)"


class _DistHisto(Distributive):
    depth: int = eqx.field(static=True)

    def fold(self, algebra: Any) -> Para[Any, Any]:
        parts = _parts("gcata(dist_histo(…), …)", algebra)
        if len(parts) == 1:
            return _tree_fold(histo(parts[0], self.depth), algebra)
        return _list.histo(parts[0], parts[1], self.depth)

    def __repr__(self) -> str:
        return f"dist_histo({self.depth})"


dist_cata: Distributive = _DistCata()
"""The identity law: `gcata` with it is `cdl.cata`."""
dist_para: Distributive = _DistPara()
"""The law of ``(,) t`` (each child beside its subterm): `gcata` with it is
`cdl.para`."""


def dist_zygo(helper: Any) -> Distributive:
    """The law of the environment comonad of a helper fold: `cdl.zygo`.

    **Arguments:** `helper`, an algebra (a `cdl.ListAlgebra` with list
    algebras, a `cdl.Algebra` with tree ones) whose results each cell sees beside
    the children's.

    **Returns:** the law.

    >>> import jax.numpy as jnp, cdl
    >>> parity = cdl.ListAlgebra(False, lambda p: ~p[1])
    >>> alt = cdl.ListAlgebra(0.0, lambda p: jnp.where(p[1][0], -p[0], p[0]) + p[1][1])
    >>> cdl.gcata(cdl.dist_zygo(parity), alt)(jnp.array([5.0, 3.0, 1.0]))
    Array(3., dtype=float32)
    """
    return _DistZygo(helper)


def dist_histo(depth: int) -> Distributive:
    """The law of the cofree comonad, ``f (Cofree f b) → Cofree f (f b)``: `cdl.histo`.

    The cofree comonad of a finite structure holds every result below a node;
    the engine keeps `depth` generations of it (a history is a fixed-shape
    carrier), which is all an algebra reading `depth` generations deep sees.

    **Arguments:** `depth`, at least 1.

    **Returns:** the law.

    >>> import jax.numpy as jnp, cdl
    >>> fib = cdl.ListAlgebra(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1))
    >>> cdl.gcata(cdl.dist_histo(2), fib)(jnp.zeros(5))
    Array(8, dtype=int32, weak_type=True)
    """
    depth = size("dist_histo's depth", depth)
    return _DistHisto(depth)


def gcata(
    law: Distributive, algebra: ListAlgebra[Any, _A] | Algebra[_A]
) -> Para[Any, _A]:
    """The generalised catamorphism: a fold seeing its children through a comonad.

    Haskell's ``gcata k g = g . extract . c where c = k . fmap (duplicate . fmap g
    . c) . project``. The algebra's cells see each child as the law's comonad
    presents it (see `cdl.schemes`): with `dist_cata` as its result (`cdl.cata`),
    with ``dist_histo(depth)`` as its history (`cdl.histo`), and so on.

    **Arguments:** `law`, a `Distributive`; `algebra`, a `cdl.ListAlgebra` (its
    `nil` and `cons`) or a `cdl.Algebra`.

    **Returns:** the fold, a `cdl.Para` (the one `law` lowers to).

    >>> import jax.numpy as jnp, cdl
    >>> Leaf, Node = cdl.TreeF.patterns
    >>> def size(layer):
    ...     match layer:
    ...         case Leaf(_):
    ...             return 1.0
    ...         case Node(l, r):
    ...             return l + r
    >>> cdl.gcata(cdl.dist_cata, cdl.Algebra(cdl.TreeF, size))(
    ...     Node(Leaf(0.0), Node(Leaf(0.0), Leaf(0.0))))
    Array(3., dtype=float32)
    """
    if not isinstance(law, Distributive):
        raise TypeError(
            _messages.wrong_law(
                "gcata",
                "a distributive law (cdl.dist_cata, cdl.dist_para, "
                "cdl.dist_zygo(...), cdl.dist_histo(...))",
                law,
                "gana, an unfold" if isinstance(law, Codistributive) else None,
            )
        )
    folded: Para[Any, _A] = law.fold(algebra)
    return folded


class Codistributive(eqx.Module):
    """A distributive law ``m (f b) → f (m b)`` of a monad `m` over a base functor.

    Each law is lowered to the unfold that computes it: `dist_ana`,
    `dist_futu`, ``dist_apo(finish, tail)``. A subclass defines `unfold`.

    >>> import cdl
    >>> cdl.dist_futu
    dist_futu
    """

    @abc.abstractmethod
    def unfold(self, coalgebra: Any, *args: Any, **bounds: Any) -> Para[Any, Any]:
        """The generalised unfold of `coalgebra` under this law."""

    def __repr__(self) -> str:
        return type(self).__name__


class _DistAna(Codistributive):
    def unfold(self, coalgebra: Any, *args: Any, **bounds: Any) -> Para[Any, Any]:
        out: Para[Any, Any] = ana(coalgebra, *args, **bounds)
        return out

    def __repr__(self) -> str:
        return "dist_ana"


class _DistFutu(Codistributive):
    def unfold(self, coalgebra: Any, *args: Any, **bounds: Any) -> Para[Any, Any]:
        out: Para[Any, Any] = futu(coalgebra, *args, **bounds)
        return out

    def __repr__(self) -> str:
        return "dist_futu"


class _DistApo(Codistributive):
    finish: Callable[[Any], Any]
    tail: Callable[[Any], Any]

    def unfold(self, coalgebra: Any, *args: Any, **bounds: Any) -> Para[Any, Any]:
        out: Para[Any, Any] = apo(coalgebra, self.finish, self.tail, *args, **bounds)
        return out

    def __repr__(self) -> str:
        return "dist_apo(…)"


dist_ana: Codistributive = _DistAna()
"""The identity law: `gana` with it is `cdl.ana`."""
dist_futu: Codistributive = _DistFutu()
"""The law of the free monad ``Free f``: `gana` with it is `cdl.futu` (its
coalgebra is `cdl.futu`'s step)."""


def dist_apo(
    finish: Callable[[Any], Any], tail: Callable[[Any], Any]
) -> Codistributive:
    """The law of ``Either t``, a seed or a finished structure: `cdl.apo`.

    **Arguments:** `finish` and `tail`, functions of the seed, as for `cdl.apo`.

    **Returns:** the law.

    >>> import jax.numpy as jnp, cdl
    >>> xs = jnp.array([1.0, 3.0])
    >>> law = cdl.dist_apo(lambda i: i == 0, lambda i: cdl.PaddedList(xs[1:], 1))
    >>> up = cdl.ListCoalgebra(lambda i: (xs[i], i + 1), lambda i: i >= 2)
    >>> cdl.gana(law, up, 4)(jnp.int32(0)).to_list()
    [Array(1., dtype=float32), Array(3., dtype=float32)]
    """
    return _DistApo(finish, tail)


def gana(
    law: Codistributive, coalgebra: ListCoalgebra[Any, _S] | Coalgebra[_S] | Any,
    *args: Any, **bounds: Any,
) -> Para[_S, Any]:  # fmt: skip
    """The generalised anamorphism: an unfold whose steps go through a monad.

    Haskell's ``gana k f = a . return where a = embed . fmap (a . join . fmap f)
    . k``: with `dist_ana` it is `cdl.ana`, with `dist_futu` `cdl.futu`, with
    ``dist_apo(finish, tail)`` `cdl.apo`. The bounds are those of that unfold.

    **Arguments:** `law`, a `Codistributive`; `coalgebra`, what that unfold
    takes; `args` and `bounds`, its sizes (`max_size`, or `max_depth` and
    `max_width`; `cdl.futu` on lists takes ``stop, max_size``).

    **Returns:** the unfold, a `cdl.Para` from seeds to structures.

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    >>> cdl.gana(cdl.dist_ana, down, 5)(jnp.int32(3)).to_list()
    [Array(3, dtype=int32), Array(2, dtype=int32), Array(1, dtype=int32)]
    """
    if not isinstance(law, Codistributive):
        raise TypeError(
            _messages.wrong_law(
                "gana",
                "a distributive law (cdl.dist_ana, cdl.dist_futu, cdl.dist_apo(...))",
                law,
                "gcata, a fold" if isinstance(law, Distributive) else None,
            )
        )
    return law.unfold(coalgebra, *args, **bounds)


class GHylo(Para[_S, _A], Generic[_S, _A]):
    """A generalised hylomorphism; built by `cdl.ghylo`."""

    fold: Para[Any, _A]
    unfold: Para[_S, Any]

    def signature(self) -> tuple[Space, Space]:
        """Seeds to carriers (unchecked pytrees)."""
        return SpaceVar("S"), SpaceVar("A")

    @property
    def label(self) -> str:
        """``ghylo(<fold>, <unfold>)``."""
        return f"ghylo({self.fold.label}, {self.unfold.label})"

    def __call__(self, seed: _S) -> _A:
        """Unfold `seed`, then fold; raises (also under `jax.jit`) if cut off."""
        return self.fold(self.unfold(seed))


def ghylo(
    w: Distributive, m: Codistributive, algebra: Any, coalgebra: Any,
    *args: Any, **bounds: Any,
) -> GHylo[Any, Any]:  # fmt: skip
    """The generalised hylomorphism ``gcata(w, algebra) ∘ gana(m, coalgebra)``.

    Haskell's ``ghylo w m f g``: the unfold's structure is folded at once and
    never handed out; a structure cut off by its bounds raises (also under
    `jax.jit`) rather than give a wrong answer.

    **Arguments:** `w`, a `Distributive`; `m`, a `Codistributive`; `algebra`;
    `coalgebra`; `args` and `bounds`, the unfold's sizes (see `gana`).

    **Returns:** a `cdl.Para` from seeds to the carrier.

    Fibonacci by a histomorphism of the count-down (a dynamorphism):

    >>> import jax.numpy as jnp, cdl
    >>> down = cdl.ListCoalgebra(lambda n: (n, n - 1), lambda n: n <= 0)
    >>> fib = cdl.ListAlgebra(0, lambda p: p[1][0] + jnp.maximum(p[1][1], 1))
    >>> cdl.ghylo(cdl.dist_histo(2), cdl.dist_ana, fib, down, 20)(jnp.int32(10))
    Array(89, dtype=int32, weak_type=True)
    """
    if isinstance(w, Codistributive) and isinstance(m, Distributive):
        raise TypeError(_messages.swapped_laws(w, m))
    return GHylo(gcata(w, algebra), gana(m, coalgebra, *args, **bounds))
