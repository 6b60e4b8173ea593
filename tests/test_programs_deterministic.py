"""A fold's compiled program does not depend on Python's hash seed.

JAX's persistent compilation cache finds a program by its text: a program that
changed with the seed (a set of constructor names walked in hash order) would
compile again in every process, and the buckets that let batches share programs
would not carry over from one run to the next.
"""

import os
import subprocess
import sys

PROGRAM = """
import hashlib
import jax, jax.numpy as jnp
import cdl

key1, key2 = jax.random.split(jax.random.key(0))
algebra = cdl.Algebra(
    cdl.TreeF,
    Leaf=cdl.TreeLSTMCell(4, 3, arity=0, key=key1),
    Node=cdl.TreeLSTMCell(0, 3, arity=2, key=key2),
)
leaf = lambda: jnp.ones(4)
table = cdl.tree_table(cdl.TreeF, [((leaf(), leaf()), leaf()), leaf()], forest=True)

def loss(a, t):
    h, _ = cdl.cata(a)(t)
    return h.sum()

text = jax.jit(jax.grad(loss)).lower(algebra, table).as_text(debug_info=False)
print(hashlib.sha256(text.encode()).hexdigest())
"""


def _program_under(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_tree_fold_gradient_lowers_to_one_program_under_any_hash_seed() -> None:
    # Seeds 1 and 2 walk the set {"Leaf", "Node"} in opposite orders.
    assert _program_under("1") == _program_under("2")
