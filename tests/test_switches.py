"""Every switch takes True or False (or a NumPy bool) and refuses the rest alike."""

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.architectures import gpt, transformer_block
from cdl.games import SGA, Game, Move, Player
from cdl.graphs import Graph, Propagate
from cdl.nn._arguments import flag

KEY = jax.random.key(0)
_ACT = cdl.permutation_action(3, (2,))
_X = Player("x", Move(jnp.array([1.0])), cdl.SGD(0.1))
_Y = Player("y", Move(jnp.array([0.0])), cdl.SGD(0.1))
_LOSSES = {
    "x": lambda o, _: (o[0] * o[1]).sum(),
    "y": lambda o, _: -(o[0] * o[1]).sum(),
}

SWITCHES: dict[str, tuple[str, Callable[[Any], object]]] = {
    "Graph.from_edge_list: undirected": (
        "Graph.from_edge_list: undirected",
        lambda v: Graph.from_edge_list([(0, 1)], 2, undirected=v),
    ),
    "Propagate: keep": ("Propagate: keep", lambda v: Propagate(keep=v)),
    "Game: batched": ("Game: batched", lambda v: Game(_X @ _Y, _LOSSES, batched=v)),
    "SGA: align": ("SGA: align", lambda v: SGA(1.0, align=v)),
    "transformer_block: causal": (
        "transformer_block: causal",
        lambda v: transformer_block(8, 2, causal=v, key=KEY),
    ),
    "transformer_block: rotary": (
        "transformer_block: rotary",
        lambda v: transformer_block(8, 2, rotary=v, key=KEY),
    ),
    "gpt: tied": ("gpt: tied", lambda v: gpt(5, 8, 1, 2, 4, tied=v, key=KEY)),
    "EquivariantLinear: use_bias": (
        "EquivariantLinear: use_bias",
        lambda v: cdl.EquivariantLinear(_ACT, _ACT, key=KEY, use_bias=v),
    ),
    "EquivariantLinear: structured": (
        "EquivariantLinear: structured",
        lambda v: cdl.EquivariantLinear(_ACT, _ACT, key=KEY, structured=v),
    ),
}


@pytest.mark.parametrize("case", sorted(SWITCHES))
def test_a_switch_refuses_what_is_not_a_bool_with_one_text(case: str) -> None:
    # "no" would read as True and 0 as False; each package said so in its own copy.
    head, build = SWITCHES[case]
    for bad in ("no", 0, 1, np.int64(1), None):
        text = f"{head} must be True or False, but was given {bad!r}."
        with pytest.raises(TypeError, match=f"^{re.escape(text)}$"):
            build(bad)
    for good in (True, np.bool_(False)):
        build(good)


def test_flag_gives_a_python_bool() -> None:
    assert flag("Game", "batched", np.bool_(True)) is True
    assert flag("Game", "batched", False) is False
    with pytest.raises(TypeError, match="Game: batched must be True or False"):
        flag("Game", "batched", "False")
