"""Coalgebras that run on input streams: unfolding decoders, Mealy and Moore machines.

A coalgebra ``S → O × S`` of the stream functor unfolds a seed into a stream of
outputs (`unfold`); a Mealy machine is a coalgebra ``S → (O × S)^I`` of `MealyF`, a
Moore machine one ``S → O × S^I`` of `MooreF`: fed an input sequence, each produces
one output per input, in one `jax.lax.scan`. A deterministic machine is the special
case where the cell is a function; a learned one has parameters.

>>> import jax, jax.numpy as jnp, cdl
>>> m = cdl.FiniteMealyCell(2, 2, 2, key=jax.random.key(0))
>>> machine = cdl.Mealy(m, m.start())
>>> machine(jnp.array([0, 1, 1])).shape
(3, 2)
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .. import _random
from .._para import Para
from .._space import (
    DimVar,
    ProductSpace,
    Space,
    SpaceVar,
    TensorSpace,
    rename,
    space_of,
)
from ..nn._arguments import positive_int, prng_key
from . import _messages
from ._eager import compiled
from ._list import PaddedList, _settle, stacked
from ._plain import as_cell, run_step

_I = TypeVar("_I")
_O = TypeVar("_O")
_S = TypeVar("_S")


def _sequence(label: str, inputs: Any) -> Any:
    """An input sequence: an array ``[n, ...]`` (a pytree of such), or a Python list.

    Anything else (a scalar, arrays of unequal lengths) is a `TypeError` naming it.
    """
    inputs = stacked(label, inputs) if isinstance(inputs, list) else inputs
    leaves = jax.tree.leaves(inputs)
    if (
        not leaves
        or not all(getattr(v, "ndim", 0) >= 1 for v in leaves)
        or len({v.shape[0] for v in leaves}) != 1
    ):
        raise TypeError(_messages.not_a_sequence(label, jax.tree.map(space_of, inputs)))
    return inputs


def _padded_run(machine: Any, inputs: PaddedList) -> PaddedList:
    """A machine run over a padded list: its outputs padded alike, zeros past them.

    A machine is causal, so the outputs within the list do not see the padding.
    """
    outputs = machine(inputs.values)

    def cut(o: Array) -> Array:
        keep = jnp.arange(o.shape[0]) < inputs.length
        return jnp.where(keep.reshape(-1, *(1,) * (o.ndim - 1)), o, jnp.zeros_like(o))

    return PaddedList(jax.tree.map(cut, outputs), inputs.length)


def _stream_space(element: Space, name: str) -> Space:
    """Sequences ``[n, ...]`` of `element`; an open space `name` for an open one."""
    if isinstance(element, TensorSpace):
        return TensorSpace(element.dtype, (DimVar("n"), *element.shape))
    return SpaceVar(name)


def _pair(label: str, out: Any) -> tuple[Any, Any]:
    """`out` as ``(output, next state)``; anything else is a `TypeError`.

    >>> _pair("Mealy(xor)", 1)
    Traceback (most recent call last):
    ...
    TypeError: the cell of Mealy(xor) returns (output, next state), but it returned ...
    """
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(_messages.machine_not_a_pair(label, space_of(out)))
    return out


class Unfold(Para[_S, Any], Generic[_S, _O]):
    """The anamorphism of a stream coalgebra, cut at `length`; built by `unfold`."""

    coalgebra: Para[_S, tuple[_O, _S]]
    length: int = eqx.field(static=True)

    def signature(self) -> tuple[Space, Space]:
        """Seeds to ``O[length, ...]``."""
        dom, cod = self.coalgebra.signature()
        out = cod.factors[0] if isinstance(cod, ProductSpace) else SpaceVar("O")
        stream = _stream_space(out, "Outputs")
        if isinstance(stream, TensorSpace):
            stream = TensorSpace(stream.dtype, (self.length, *stream.shape[1:]))
        both = rename(ProductSpace((dom, stream)))
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def label(self) -> str:
        """``unfold(<coalgebra>, length)``."""
        return f"unfold({self.coalgebra.label}, {self.length})"

    @compiled
    def __call__(self, seed: _S) -> Any:
        """The first `length` outputs of the stream unfolded from `seed`."""

        def body(s: _S, _: None) -> tuple[_S, _O]:
            o, nxt = _pair(self.label, run_step(self.label, self.coalgebra, s))
            return nxt, o

        none = jnp.zeros((1, 0))  # no inputs: the state is settled on a blank one
        seed = _settle(self.label, none, seed, lambda _, s, __: body(s, None)[0])
        _, outputs = jax.lax.scan(body, seed, None, length=self.length)
        return outputs


_Hidden = Float[Array, "hidden"]
_Out = Float[Array, "out_dim"]
_States = Float[Array, "n_states"]
_Outputs = Float[Array, "n_outputs"]


class DecoderCell(Para[_Hidden, tuple[_Out, _Hidden]]):
    """An unfolding decoder's cell, a stream coalgebra ``h ↦ (V h' + c, h')``.

    The next state is ``h' = tanh(W h + b)``.

    **Arguments:** `hidden`, `out_dim`, and a PRNG `key`.

    **Returns:** a morphism ``float[hidden] → float[out_dim] × float[hidden]``.

    >>> import jax, jax.numpy as jnp, cdl
    >>> o, h = cdl.DecoderCell(4, 3, key=jax.random.key(0))(jnp.ones(4))
    >>> o.shape, h.shape
    ((3,), (4,))
    """

    w: Float[Array, "hidden hidden"]
    b: Float[Array, "hidden"]
    v: Float[Array, "out_dim hidden"]
    c: Float[Array, "out_dim"]
    hidden: int = eqx.field(static=True)
    out_dim: int = eqx.field(static=True)

    def __init__(self, hidden: int, out_dim: int, *, key: PRNGKeyArray) -> None:
        hidden = positive_int("DecoderCell", "hidden", hidden)
        out_dim = positive_int("DecoderCell", "out_dim", out_dim)
        key = prng_key("DecoderCell", key)
        k1, k2 = jax.random.split(key)
        bound = 1 / hidden**0.5
        self.w = _random.uniform(k1, (hidden, hidden), -bound, bound)
        self.v = _random.uniform(k2, (out_dim, hidden), -bound, bound)
        self.b = jnp.zeros(hidden)
        self.c = jnp.zeros(out_dim)
        self.hidden, self.out_dim = hidden, out_dim

    def __call__(
        self, h: Float[Array, "hidden"]
    ) -> tuple[Float[Array, "out_dim"], Float[Array, "hidden"]]:
        """One output and the next state."""
        nxt = jnp.tanh(self.w @ h + self.b)
        return self.v @ nxt + self.c, nxt


class Mealy(Para[Any, Any], Generic[_I, _O, _S]):
    """A Mealy machine: a coalgebra ``S → (O × S)^I`` run on an input sequence.

    The cell maps ``(input, state)`` to ``(output, next_state)``, the curried form of
    the coalgebra. Calling the machine on inputs ``[n, ...]`` returns the outputs
    ``[n, ...]``, one per input, in one `jax.lax.scan`; on a `cdl.PaddedList` (a
    ragged batch from `cdl.batch_lists(..., pad=True)`, under `jax.vmap`), a
    `PaddedList` of the outputs, zeros past its length.

    **Arguments:** `cell`, a `cdl.Para` ``I × S → O × S``; `init`, the start state
    (it may be a learned parameter).

    **Returns:** a `cdl.Para` from input sequences to output sequences.

    A parity transducer (a deterministic two-state machine):

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Int
    >>> class Xor(cdl.Para[tuple[Int[Array, ""], Int[Array, ""]],
    ...                    tuple[Int[Array, ""], Int[Array, ""]]]):
    ...     def __call__(self, x):
    ...         s = x[0] ^ x[1]
    ...         return s, s
    >>> cdl.Mealy(Xor(), jnp.int32(0))(jnp.array([1, 0, 1, 1]))
    Array([1, 1, 0, 1], dtype=int32)
    """

    cell: Para[tuple[_I, _S], tuple[_O, _S]]
    init: _S

    def __init__(
        self,
        cell: Para[tuple[_I, _S], tuple[_O, _S]]
        | Callable[[tuple[_I, _S]], tuple[_O, _S]],
        init: _S,
    ) -> None:
        self.cell = as_cell(cell, "Mealy's cell")
        self.init = init

    def signature(self) -> tuple[Space, Space]:
        """Input sequences ``I[n, ...]`` to output sequences ``O[n, ...]``."""
        dom, cod = self.cell.signature()
        i = dom.factors[0] if isinstance(dom, ProductSpace) else SpaceVar("I")
        o = cod.factors[0] if isinstance(cod, ProductSpace) else SpaceVar("O")
        both = rename(
            ProductSpace((_stream_space(i, "Inputs"), _stream_space(o, "Outputs")))
        )
        assert isinstance(both, ProductSpace)
        dom_s, cod_s = both.factors
        if isinstance(dom_s, TensorSpace) and isinstance(cod_s, TensorSpace):
            cod_s = TensorSpace(cod_s.dtype, (dom_s.shape[0], *cod_s.shape[1:]))
        return dom_s, cod_s

    @property
    def label(self) -> str:
        """``Mealy(<cell>)``."""
        return f"Mealy({self.cell.label})"

    @compiled
    def __call__(self, inputs: Any) -> Any:
        """Run the machine from `init` over `inputs`; one output per input."""

        def body(s: _S, i: _I) -> tuple[_S, _O]:
            o, nxt = _pair(self.label, self.cell((i, s)))
            return nxt, o

        if isinstance(inputs, PaddedList):
            return _padded_run(self, inputs)
        inputs = _sequence(self.label, inputs)
        if isinstance(self.cell, FiniteMealyCell):
            self.cell.check_inputs(inputs)
        init = _settle(self.label, inputs, self.init, lambda i, s, _: body(s, i)[0])
        _, outputs = jax.lax.scan(body, init, inputs)
        return outputs


class Moore(Para[Any, Any], Generic[_I, _O, _S]):
    """A Moore machine: a coalgebra ``S → O × S^I`` run on an input sequence.

    After each input the state moves by `transition` and the machine emits
    ``output(state)``: the output depends on the state only.

    **Arguments:** `output`, a `cdl.Para` ``S → O``; `transition`, a `cdl.Para`
    ``I × S → S``; `init`, the start state.

    **Returns:** a `cdl.Para` from input sequences ``[n, ...]`` to outputs.

    A counter modulo 3 that outputs whether it is at zero:

    >>> import jax.numpy as jnp, cdl
    >>> from jaxtyping import Array, Int, Bool
    >>> class Step(cdl.Para[tuple[Int[Array, ""], Int[Array, ""]], Int[Array, ""]]):
    ...     def __call__(self, x):
    ...         return (x[1] + x[0]) % 3
    >>> class AtZero(cdl.Para[Int[Array, ""], Bool[Array, ""]]):
    ...     def __call__(self, s):
    ...         return s == 0
    >>> cdl.Moore(AtZero(), Step(), jnp.int32(0))(jnp.array([1, 1, 1, 2]))
    Array([False, False,  True, False], dtype=bool)
    """

    output: Para[_S, _O]
    transition: Para[tuple[_I, _S], _S]
    init: _S

    def __init__(
        self,
        output: Para[_S, _O] | Callable[[_S], _O],
        transition: Para[tuple[_I, _S], _S] | Callable[[tuple[_I, _S]], _S],
        init: _S,
    ) -> None:
        self.output = as_cell(output, "Moore's output")
        self.transition = as_cell(transition, "Moore's transition")
        self.init = init

    def signature(self) -> tuple[Space, Space]:
        """Input sequences to output sequences."""
        dom, _ = self.transition.signature()
        _, o = self.output.signature()
        i = dom.factors[0] if isinstance(dom, ProductSpace) else SpaceVar("I")
        both = rename(
            ProductSpace((_stream_space(i, "Inputs"), _stream_space(o, "Outputs")))
        )
        assert isinstance(both, ProductSpace)
        return both.factors[0], both.factors[1]

    @property
    def label(self) -> str:
        """``Moore(<output>, <transition>)``."""
        return f"Moore({self.output.label}, {self.transition.label})"

    @compiled
    def __call__(self, inputs: Any) -> Any:
        """Run the machine from `init`; one output per input."""

        def body(s: _S, i: _I) -> tuple[_S, _O]:
            nxt = self.transition((i, s))
            return nxt, self.output(nxt)

        if isinstance(inputs, PaddedList):
            return _padded_run(self, inputs)
        inputs = _sequence(self.label, inputs)
        init = _settle(self.label, inputs, self.init, lambda i, s, _: body(s, i)[0])
        _, outputs = jax.lax.scan(body, init, inputs)
        return outputs


class FiniteMealyCell(Para[tuple[Int[Array, ""], _States], tuple[_Outputs, _States]]):
    """A learnable finite Mealy machine's cell: a state is a distribution over states.

    For input `i`, the next state is ``s P_i`` with ``P_i = softmax(T_i)`` a
    stochastic matrix, and the output distribution ``Σ_s s_s softmax(E_{i,s})``.
    Stochastic matrices keep the state a distribution at every step, so a machine
    learned on short inputs runs on inputs of any length; once its transitions are
    sharp it is a deterministic automaton.

    **Arguments:** `n_states`, `n_inputs`, `n_outputs`, and a PRNG `key`.

    **Returns:** a morphism ``int[] × float[n_states] → float[n_outputs] ×
    float[n_states]`` (outputs are probabilities).

    >>> import jax, jax.numpy as jnp, cdl
    >>> cell = cdl.FiniteMealyCell(3, 2, 2, key=jax.random.key(0))
    >>> o, s = cell((jnp.int32(1), cell.start()))
    >>> float(o.sum()), float(s.sum())
    (1.0, 1.0)
    """

    transitions: Float[Array, "n_inputs n_states n_states"]
    emissions: Float[Array, "n_inputs n_states n_outputs"]
    n_states: int = eqx.field(static=True)
    n_inputs: int = eqx.field(static=True)
    n_outputs: int = eqx.field(static=True)

    def __init__(
        self, n_states: int, n_inputs: int, n_outputs: int, *, key: PRNGKeyArray
    ) -> None:
        n_states = positive_int("FiniteMealyCell", "n_states", n_states)
        n_inputs = positive_int("FiniteMealyCell", "n_inputs", n_inputs)
        n_outputs = positive_int("FiniteMealyCell", "n_outputs", n_outputs)
        key = prng_key("FiniteMealyCell", key)
        k1, k2 = jax.random.split(key)
        self.transitions = _random.normal(k1, (n_inputs, n_states, n_states))
        self.emissions = _random.normal(k2, (n_inputs, n_states, n_outputs))
        self.n_states, self.n_inputs, self.n_outputs = n_states, n_inputs, n_outputs

    def check_inputs(self, inputs: Any) -> None:
        """Raise `ValueError` for concrete inputs outside the alphabet.

        (Traced inputs are checked at each step, with `equinox.error_if`.)
        """
        if isinstance(inputs, jax.core.Tracer):
            return
        outside = (inputs < 0) | (inputs >= self.n_inputs)
        if bool(jnp.any(outside)):
            at = int(jnp.argmax(jnp.ravel(outside)))
            raise ValueError(
                _messages.input_outside(self.label, self.n_inputs)
                + f" Input {at} is {int(jnp.ravel(inputs)[at])}."
            )

    def start(self) -> Float[Array, "n_states"]:
        """The start state: all mass on state 0."""
        return jnp.zeros(self.n_states).at[0].set(1.0)

    def __call__(
        self, x: tuple[Int[Array, ""], Float[Array, "n_states"]]
    ) -> tuple[Float[Array, "n_outputs"], Float[Array, "n_states"]]:
        """Emit the output distribution and move the state distribution."""
        i, s = x
        outside = (i < 0) | (i >= self.n_inputs)
        i = eqx.error_if(i, outside, _messages.input_outside(self.label, self.n_inputs))
        # A state off the simplex (a start state moved by an optimiser, as `fit`
        # moves every array of the machine) is taken back to a distribution: the
        # identity on distributions, which every later state is.
        s = jnp.abs(s)
        s = s / jnp.maximum(s.sum(), 1e-30)
        p = jax.nn.softmax(self.transitions[i], axis=-1)
        e = jax.nn.softmax(self.emissions[i], axis=-1)
        return s @ e, s @ p
