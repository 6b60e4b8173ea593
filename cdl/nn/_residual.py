"""Residual connections and named blocks.

``residual(f)`` is the composite ``copy >> (f @ id) >> add``: the input is copied,
one copy goes through `f`, and the two are added. `Block` gives a composite a name,
so that a diagram or a message shows it as one box:

>>> import jax, jax.numpy as jnp, cdl
>>> f = cdl.Linear(4, 4, key=jax.random.key(0)) >> cdl.Tanh()
>>> block = cdl.residual(f)
>>> block.label
'Copy() >> ((Linear(4→4) >> Tanh()) @ id) >> Add()'
>>> x = jnp.ones(4)
>>> bool(jnp.allclose(block(x), f(x) + x))
True
>>> cdl.Block("Mix", block).label
'Mix'
"""

from typing import Any, Generic

import equinox as eqx
from jaxtyping import PRNGKeyArray
from typing_extensions import TypeVar

from .._para import Para, apply
from .._space import Space
from .._structure import Add, Copy, Identity

_A = TypeVar("_A", default=Any)
_B = TypeVar("_B", default=Any)


def residual(f: Para[_A, _A], shortcut: Para[_A, _A] | None = None) -> Para[_A, _A]:
    """The residual connection around `f`: ``copy >> (f @ shortcut) >> add``.

    **Arguments:** `f`, the branch; `shortcut`, the other branch (the identity
    unless given, e.g. a projection when `f` changes the width).

    **Returns:** the composite ``x ↦ f(x) + shortcut(x)``; a `CompositionError`
    when the two branches end in different spaces.

    >>> import jax, cdl
    >>> try:
    ...     cdl.residual(cdl.Linear(4, 3, key=jax.random.key(0)))
    ... except cdl.CompositionError as error:
    ...     print(error)
    Copy() >> (Linear(4→3) @ id) does not compose with Add(): \
output (float[3] × float[4]) of Copy() >> (Linear(4→3) @ id) != input \
(any[*shape] × any[*shape]) of Add().
    """
    other: Para[Any, Any] = Identity() if shortcut is None else shortcut
    out: Para[Any, Any] = Copy() >> (f @ other) >> Add()
    return out


class Block(Para[_A, _B], Generic[_A, _B]):
    """A composite under a name: it runs `body` and is drawn as one box.

    Draw ``block.body`` to see inside it. The parameters are the body's.

    **Arguments:** `name`, the label; `body`, the morphism.

    **Returns:** a morphism with `body`'s spaces.

    >>> import jax, jax.numpy as jnp, cdl
    >>> mlp = cdl.Linear(2, 8, key=jax.random.key(0)) >> cdl.Relu()
    >>> block = cdl.Block("MLP", mlp)
    >>> block.dom, block.cod, cdl.draw(block).boxes()
    (float[2], float[8], ['MLP'])
    >>> bool((block(jnp.ones(2)) == mlp(jnp.ones(2))).all())
    True
    """

    name: str = eqx.field(static=True)
    body: Para[_A, _B]

    @property
    def label(self) -> str:
        """The name."""
        return self.name

    @property
    def stochastic(self) -> bool:
        """Whether the body needs a key."""
        return self.body.stochastic

    def signature(self) -> tuple[Space, Space]:
        """The body's spaces."""
        return self.body.signature()

    def output_space(self, dom: Space) -> Space:
        """The body's output on `dom`."""
        return self.body.output_space(dom)

    def __call__(self, x: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """Run the body."""
        return apply(self.body, x, key)
