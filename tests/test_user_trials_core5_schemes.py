"""Recursion schemes as an outside user met them: machines given no sequence,
Python start values beside bfloat16 lists or under x64, and deep terms."""

import subprocess
import sys
import textwrap

import jax.numpy as jnp
import pytest

import cdl

Leaf, Node = cdl.TreeF.patterns


@pytest.mark.parametrize(
    "inputs, given",
    [
        (jnp.float32(1.0), "f32[]"),
        ({"a": jnp.ones(3), "b": jnp.ones(4)}, "{'a': f32[3], 'b': f32[4]}"),
    ],
)
def test_a_machine_given_no_sequence_says_so(inputs, given):
    # These raised IndexError: tuple index out of range, from inside lax.scan.
    machines = [
        cdl.Mealy(lambda p: (p[0], p[1]), jnp.float32(0)),
        cdl.Moore(lambda s: s, lambda p: p[1], jnp.float32(0)),
    ]
    for machine in machines:
        with pytest.raises(TypeError) as error:
            machine(inputs)
        text = str(error.value)
        assert text.startswith(machine.label) and "runs over a sequence" in text
        assert text.endswith(f"but was given {given}.")


def test_python_start_values_take_a_float32_list_dtype_under_x64():
    # With 64-bit types on, 0.0 is a float64, and a fold of float32 elements was
    # refused: "the carrier starts in f64[] but the step returns f32[]".
    code = textwrap.dedent(
        """
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp, cdl
        xs = jnp.array([1.0, 2.0, 4.0], jnp.float32)
        add = lambda p: p[0] + p[1]
        outs = [
            cdl.cata(cdl.ListAlgebra(0.0, add))(xs),
            cdl.foldl(cdl.ListAlgebra(0.0, add))(xs),
            cdl.para(0.0, lambda p: p[0] + p[1][1])(xs),
            cdl.histo(0.0, lambda p: p[0] + p[1][0], depth=2)(xs),
            cdl.mutu((0.0, 0.0), lambda p: p[0] + p[1][1], lambda p: p[1][0])(xs)[0],
            cdl.Mealy(lambda p: (p[1], p[1] + p[0]), 0.0)(xs)[-1],
        ]
        print([(str(o.dtype), float(o)) for o in outs])
        print(cdl.cata(cdl.ListAlgebra(0.0, add))(xs.astype(jnp.float64)).dtype)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == str([("float32", v) for v in (7.0, 7.0, 7.0, 7.0, 5.0, 3.0)])
    assert out[1] == "float64"


def test_python_start_values_take_a_bfloat16_list_dtype():
    # 0.0 is a float32 here, which a bfloat16 step does not widen to: refused as
    # "the carrier starts in f32[] but the step returns bf16[]".
    xs = jnp.array([1.0, 2.0, 4.0], jnp.bfloat16)
    total = cdl.cata(cdl.ListAlgebra(0.0, lambda p: p[0] + p[1]))(xs)
    first, second = cdl.mutu((0.0, 0.0), lambda p: p[0] + p[1][1], lambda p: p[1][0])(
        xs
    )
    outputs = cdl.Mealy(lambda p: (p[1], p[1] + p[0]), 0.0)(xs)
    assert [a.dtype for a in (total, first, second, outputs)] == [jnp.bfloat16] * 4
    assert (float(total), float(first), float(second)) == (7.0, 5.0, 2.0)
    assert outputs.tolist() == [0.0, 1.0, 3.0]


def test_a_deep_term_has_a_repr():
    # repr of a term 3,000 deep raised RecursionError (a named tuple's repr).
    term = Leaf(1.0)
    for _ in range(3000):
        term = Node(term, Leaf(2.0))
    assert repr(term).startswith("Layer(constructor='Node', payload=None, children=(")
    small = Node(Leaf(1.0), cdl.Layer("Cons", jnp.ones(2), ("rest",)))
    named = "Layer(constructor=%r, payload=%r, children=%r)"
    assert repr(small) == named % (small.constructor, small.payload, small.children)
    assert repr(small.children[1]) == named % tuple(small.children[1])
