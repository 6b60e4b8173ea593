"""Static shapes agree with run time, on programs that hypothesis writes.

Each generated program builds a morphism or applies a jax operation and reveals the
result. mypy (with cdl's plugin) checks all programs of one example in a single run;
then each program is executed. The properties:

- a program that mypy accepts runs, and the shape mypy reveals is the run-time
  ``.shape``;
- a program with a shape bug is reported by mypy with a ``[shape]`` error on the line
  of the bug, and fails at run time;
- mypy never crashes.
"""

import dataclasses
import pathlib
import re
import tempfile
from collections.abc import Callable

import jax
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from cdl.mypy_plugin import _shapes as shape_rules
from cdl.mypy_plugin._run import Message, check
from cdl.mypy_plugin._shapes import Arr, Dim, Mismatch, Unifier

HEADER = "import jax\nimport jax.numpy as jnp\nimport cdl\n\nk = jax.random.key(0)\n"
ACTIVATIONS = ["Tanh", "Relu", "Gelu", "Sigmoid", "Identity"]
LITERAL = re.compile(r"Literal\[(-?\d+)\]")


@dataclasses.dataclass(frozen=True)
class Program:
    """A program, the line of its bug (None: correct) and the revealed name."""

    source: str
    bug_line: int | None


def _lines(body: list[str]) -> Program:
    return Program(HEADER + "\n".join(body) + "\n", None)


@st.composite
def chains(draw: st.DrawFn) -> Program:
    """An MLP, maybe with residual blocks, maybe with one wrong input size."""
    widths = draw(st.lists(st.integers(1, 12), min_size=2, max_size=5))
    factors: list[str] = []
    bug: int | None = None
    broken = draw(st.booleans())
    for i, (a, b) in enumerate(zip(widths, widths[1:], strict=False)):
        given = a
        if broken and bug is None and i > 0 and draw(st.booleans()):
            given = a + draw(st.sampled_from([-1, 1, 2, 5]))
            given = given if given > 0 else a + 1
            bug = len(factors)
        factors.append(f"cdl.Linear({given}, {b}, key=k)")
        act = draw(st.sampled_from([*ACTIVATIONS, None]))
        if act is not None:
            factors.append(f"cdl.{act}()")
        if draw(st.integers(0, 3)) == 0:
            factors.append(
                f"cdl.Copy() >> (cdl.Linear({b}, {b}, key=k) @ cdl.Identity())"
                " >> cdl.Add()"
            )
    body = ["model = (", f"    {factors[0]}"]
    body += [f"    >> ({f})" for f in factors[1:]]
    body += [")", f"y = model(jnp.ones({widths[0]}))", "reveal_type(y)"]
    program = _lines(body)
    if bug is None:
        return program
    first = HEADER.count("\n") + 2
    return Program(program.source, first + bug)


@st.composite
def operations(draw: st.DrawFn) -> Program:
    """A jax operation on arrays of random, maybe incompatible, sizes."""
    size = st.integers(1, 6)
    a, b, c = draw(size), draw(size), draw(size)
    d = draw(st.sampled_from([b, b, draw(size)]))
    kind = draw(
        st.sampled_from(["matmul", "add", "concat", "reshape", "einsum", "reduce"])
    )
    if kind == "matmul":
        expr = f"jnp.zeros(({a}, {b})) @ jnp.zeros(({d}, {c}))"
    elif kind == "add":
        expr = f"jnp.zeros(({a}, {b})) + jnp.zeros(({d},))"
    elif kind == "concat":
        expr = f"jnp.concatenate([jnp.zeros(({a}, {b})), jnp.zeros(({c}, {d}))])"
    elif kind == "reshape":
        target = draw(st.sampled_from([(a * b,), (b, a), (-1,), (d, -1), (a, d)]))
        expr = f"jnp.zeros(({a}, {b})).reshape({target})"
    elif kind == "reduce":
        axis = draw(st.sampled_from(["0", "1", "-1", "None", "(0, 1)"]))
        keep = draw(st.booleans())
        expr = f"jnp.zeros(({a}, {b})).sum(axis={axis}, keepdims={keep})"
    else:
        expr = f'jnp.einsum("ij,jk->ik", jnp.zeros(({a}, {b})), jnp.zeros(({d}, {c})))'
    program = _lines([f"y = {expr}", "reveal_type(y)"])
    return Program(program.source, -1)


def _revealed(messages: list[Message]) -> tuple[int, ...] | None:
    notes = [text for _, kind, text in messages if kind == "note"]
    if len(notes) != 1 or "Any" in notes[0]:
        return None
    return tuple(int(n) for n in LITERAL.findall(notes[0]))


def _run(source: str) -> tuple[int, ...] | Exception:
    shapes: list[tuple[int, ...]] = []
    namespace = {"reveal_type": lambda value: shapes.append(tuple(value.shape))}
    try:
        with jax.numpy_rank_promotion("allow"):
            exec(compile(source, "<generated>", "exec"), namespace)
    except (TypeError, ValueError) as error:
        return error
    return shapes[0]


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(chains(), min_size=8, max_size=8),
    st.lists(operations(), min_size=8, max_size=8),
)
def test_static_shapes_agree_with_run_time(
    morphisms: list[Program], ops: list[Program]
) -> None:
    programs = morphisms + ops
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for n, program in enumerate(programs):
            path = pathlib.Path(folder) / f"generated_{n}.py"
            path.write_text(program.source)
            files.append(path)
        reports = check(files)
    for n, program in enumerate(programs):
        messages = reports[f"generated_{n}"]
        errors = [(line, text) for line, kind, text in messages if kind == "error"]
        outcome = _run(program.source)
        if isinstance(outcome, Exception):
            assert errors, (program.source, outcome)
            assert all(text.endswith("[shape]") for _, text in errors), errors
            if program.bug_line is not None and program.bug_line > 0:
                assert {line for line, _ in errors} == {program.bug_line}, errors
            continue
        assert not errors, (program.source, errors)
        revealed = _revealed(messages)
        assert revealed == outcome, (program.source, messages, outcome)


def test_a_bug_in_a_chain_is_caught_at_run_time_too() -> None:
    source = HEADER + "model = cdl.Linear(3, 4, key=k) >> cdl.Linear(5, 2, key=k)\n"
    assert isinstance(_run(source + "reveal_type(model(jnp.ones(3)))\n"), TypeError)


# The plugin's shape rules against numpy's, on random shapes (no mypy involved).

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)
matrices = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _numpy(fn: Callable[[], np.ndarray]) -> tuple[int, ...] | None:
    try:
        return tuple(fn().shape)
    except ValueError:
        return None


def _rule(fn: Callable[[], tuple[Dim, ...] | None]) -> tuple[Dim, ...] | None:
    try:
        return fn()
    except Mismatch:
        return None


@given(shapes, shapes)
def test_broadcast_is_numpys(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    expected = _numpy(lambda: np.zeros(a) + np.zeros(b))
    assert _rule(lambda: shape_rules.broadcast(a, b)) == expected


@given(matrices, matrices)
def test_matmul_is_numpys(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    expected = _numpy(lambda: np.zeros(a) @ np.zeros(b))
    assert _rule(lambda: shape_rules.matmul(a, b)) == expected


@given(matrices, st.lists(st.sampled_from([-1, 1, 2, 3, 4, 6, 8]), max_size=3))
def test_reshape_is_numpys(a: tuple[int, ...], target: list[int]) -> None:
    if target.count(-1) > 1:
        return
    expected = _numpy(lambda: np.zeros(a).reshape(target))
    assert _rule(lambda: shape_rules.reshape(a, list(target))) == expected


@given(st.lists(matrices, min_size=1, max_size=3), st.integers(-3, 2))
def test_concatenate_and_stack_are_numpys(
    parts: list[tuple[int, ...]], axis: int
) -> None:
    arrays = [np.zeros(p) for p in parts]
    assert _rule(lambda: shape_rules.concatenate(parts, axis)) == _numpy(
        lambda: np.concatenate(arrays, axis=axis)
    )
    assert _rule(lambda: shape_rules.stack(parts, axis)) == _numpy(
        lambda: np.stack(arrays, axis=axis)
    )


@given(st.lists(st.integers(2, 4), min_size=3, max_size=3), st.booleans())
def test_einsum_is_numpys(sizes: list[int], broken: bool) -> None:
    i, j, k = sizes
    a, b = (i, j), (j + 1 if broken else j, k)
    expected = _numpy(lambda: np.einsum("ij,jk->ik", np.zeros(a), np.zeros(b)))
    assert _rule(lambda: shape_rules.einsum("ij,jk->ik", [a, b])) == expected


@given(shapes, shapes)
def test_unification_is_symmetric(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    def agrees(x: tuple[int, ...], y: tuple[int, ...]) -> bool:
        try:
            Unifier().unify(Arr(x), Arr(y))
        except Mismatch:
            return False
        return True

    assert agrees(a, b) == agrees(b, a) == (a == b)
