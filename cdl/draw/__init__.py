"""String diagrams of cdl morphisms, rendered to SVG (by hand) and PNG (matplotlib).

>>> import jax, cdl
>>> net = cdl.Linear(4, 8, key=jax.random.key(0)) >> cdl.Relu() >> cdl.Linear(
...     8, 2, key=jax.random.key(1))
>>> cdl.draw(net).boxes()
['Linear(4→8)', 'Relu()', 'Linear(8→2)']
"""

from ._draw import Diagram as Diagram, draw as draw
from ._layout import Block as Block, layout as layout
