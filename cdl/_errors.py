"""Errors raised when spaces do not meet: `cdl.CompositionError`, `cdl.SpaceError`."""


class CompositionError(TypeError):
    """Two morphisms do not compose: the codomain of one is not the domain of the next.

    >>> import jax, cdl
    >>> k = jax.random.key(0)
    >>> cdl.Linear(784, 128, key=k) >> cdl.Tanh() >> cdl.Linear(64, 10, key=k)
    Traceback (most recent call last):
    ...
    cdl.CompositionError: Linear(784→128) >> Tanh() does not compose with \
Linear(64→10): output float[128] of Linear(784→128) >> Tanh() != input float[64] of \
Linear(64→10).
    """

    __module__ = "cdl"


class SpaceError(TypeError):
    """A morphism was called on, or returned, a value outside its space.

    >>> import jax, jax.numpy as jnp, cdl
    >>> cdl.Linear(3, 2, key=jax.random.key(0))(jnp.zeros(4))
    Traceback (most recent call last):
    ...
    cdl.SpaceError: Linear(3→2) expects input float[3], but was given f32[4] \
(dimension 3 is not 4).
    """

    __module__ = "cdl"
