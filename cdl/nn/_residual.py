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

from .. import _messages as core_messages
from .._para import CompositionError, Para, apply
from .._space import Mismatch, ProductSpace, Space
from .._structure import Add, Copy, Identity
from . import _messages

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
    residual(Linear(4→3)): on float[4] the branch Linear(4→3) ends in float[3] \
and the shortcut id in float[4], which cannot be added: give a shortcut that \
ends where the branch does, residual(f, shortcut) (e.g. a Linear projection).
    """
    if not isinstance(f, Para):
        raise TypeError(_messages.not_a_morphism("residual", f))
    if shortcut is not None and not isinstance(shortcut, Para):
        raise TypeError(_messages.not_a_morphism("residual's shortcut", shortcut))
    other: Para[Any, Any] = Identity() if shortcut is None else shortcut
    try:
        out: Para[Any, Any] = Copy() >> (f @ other) >> Add()
    except CompositionError:
        dom = f.dom
        ends = []
        for branch in (f, other):
            try:
                ends.append(branch.output_space(dom))
            except Mismatch:
                ends.append(branch.cod)
        if any(isinstance(end, ProductSpace) for end in ends):
            raise CompositionError(
                _messages.residual_of_tuple(f.label, dom, *ends)
            ) from None
        raise CompositionError(
            _messages.residual_mismatch(f.label, other.label, dom, *ends)
        ) from None
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

    def __check_init__(self) -> None:
        name: object = self.name  # typed, but given anything at run time
        body: object = self.body
        if not isinstance(name, str):
            raise TypeError(_messages.not_a_name("Block", name))
        if not isinstance(body, Para):
            raise TypeError(_messages.not_a_morphism(f"Block({name!r})", body))

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

    def input_hint(self, given: Space) -> str:
        """What the first layer inside that reads the input says about `given`.

        A block of a residual connection around a convolution, or a ResNet's
        basic block, given a channels-last image points to `jnp.moveaxis` as
        the convolution does.
        """
        hint: str = self.body.input_hint(given)
        return hint

    def __call__(self, x: _A, *, key: PRNGKeyArray | None = None) -> _B:
        """Run the body; a stochastic one without a key is refused by the name."""
        if key is None and self.body.stochastic:
            raise ValueError(core_messages.needs_key(self.label))
        return apply(self.body, x, key)
