"""Levels wider than the largest chunk run it in a loop, forward and backward."""

import jax
import jax.numpy as jnp
import numpy as np

import cdl
from cdl.schemes._levels import LARGEST, chunks


def test_chunk_sizes_stop_at_the_largest():
    assert chunks(1) == (1,)
    assert chunks(24) == (16, 8)
    ladder = chunks(10_000)
    assert ladder[0] == LARGEST and ladder[-1] == 8
    assert all(a == 2 * b for a, b in zip(ladder, ladder[1:], strict=False))


def test_wide_levels_fold_and_differentiate_as_node_by_node():
    rng = np.random.default_rng(0)
    forest = []
    for _ in range(LARGEST + 40):  # a first level of over 2 * LARGEST leaves
        t: object = (rng.normal(size=1), rng.normal(size=1))
        if rng.random() < 0.1:
            t = (t, rng.normal(size=1))
        forest.append(t)
    k1, k2 = jax.random.split(jax.random.key(0))
    alg = cdl.Algebra(
        cdl.TreeF,
        Leaf=cdl.TreeRNNCell(1, 3, arity=0, key=k1),
        Node=cdl.TreeRNNCell(0, 3, arity=2, key=k2),
    )

    def loss(a, table):
        return jnp.sum(cdl.cata(a)(table) ** 2)

    wide = cdl.tree_table(cdl.TreeF, forest, forest=True)
    assert int(np.asarray(wide.blocks)[0, 0, 1]) > 2 * LARGEST
    one = cdl.tree_table(cdl.TreeF, forest, forest=True, strategy="nodes")
    values = [jax.jit(jax.value_and_grad(loss))(alg, t) for t in (wide, one)]
    for x, y in zip(*(jax.tree.leaves(v) for v in values), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
