"""Multi-agent learning: players as parametric lenses, games as their composites.

Following Capucci, Gavranović, Hedges and Rischel (*Towards foundations of
categorical cybernetics*), an agent is a parametrised optic that controls its own
parameters. A `Player` is a named morphism with its own optimiser; players wired
with ``>>`` and ``@`` form an arena, and a `Game` gives each its own loss of the
arena's outcome. A step moves every player along the direction an update rule
(`GradientPlay`, `Extragradient`, `Optimistic`, `Consensus`, `SGA`, `LOLA`) builds
from the gradient of its own loss in its own parameters.
"""

from ._equilibrium import best_response_gains as best_response_gains
from ._game import (
    Game as Game,
    GameState as GameState,
    players_of as players_of,
)
from ._player import Move as Move, Player as Player
from ._rules import (
    LOLA as LOLA,
    SGA as SGA,
    AbstractGameRule as AbstractGameRule,
    Consensus as Consensus,
    Extragradient as Extragradient,
    GradientPlay as GradientPlay,
    Optimistic as Optimistic,
    all_gradients as all_gradients,
    simultaneous_gradient as simultaneous_gradient,
)
