"""cdl: categorical deep learning on JAX.

Architectures are morphisms of the category Para, built from typed layers with
``>>`` (sequential) and ``@`` (parallel) composition.

Nothing is imported until it is used: ``import cdl`` is cheap (so mypy can load
``cdl.mypy_plugin`` without jax), and ``cdl.Linear`` imports the layers on first
use. The names and where they come from are listed once, in ``__init__.pyi``.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
