"""Trees trained by fit on the devices of a mesh (`data_parallel`).

A node table holds numbers (its count of levels) beside its arrays, and the
data-parallel step split every leaf of a batch along its first axis: fit
stopped at the first step with JAX's "is only valid for values of rank at
least 1, but was applied to a value of rank 0". Numbers are now replicated;
the run equals one device's.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    import cdl
    from cdl.optics import SGD, Learner, SoftmaxCrossEntropy, Trees, data_parallel, fit

    terms = [(1.0, 2.0), 3.0, ((1.0, -2.0), 0.5), (-1.0, 1.0)] * 3
    labels = np.arange(12, dtype=np.int32) % 2

    def run(parallel):
        k1, k2 = jax.random.split(jax.random.key(0))
        leaf = lambda p: jnp.tanh(p[0] * jnp.ones(3))
        node = cdl.TreeRNNCell(0, 3, arity=2, key=k1)
        fold = cdl.cata(cdl.Algebra(cdl.TreeF, Leaf=leaf, Node=node))
        model = fold >> cdl.Each(cdl.Linear(3, 2, key=k2))
        learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))
        if parallel:
            learner = data_parallel(learner)
        return fit(learner, model, Trees(cdl.TreeF, terms, labels), epochs=1,
                   batch_size=4, key=jax.random.key(0), progress=False)

    one, four = run(False), run(True)
    pairs = zip(jax.tree.leaves(one.state.params), jax.tree.leaves(four.state.params))
    gap = max(float(jnp.abs(a - b).max(initial=0.0)) for a, b in pairs)
    print("gap", gap, "loss", one.history["loss"][0], four.history["loss"][0])
    """
)


def test_trees_train_on_a_mesh_as_on_one_device() -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    words = done.stdout.split()
    gap, one, four = float(words[1]), float(words[3]), float(words[4])
    assert gap < 1e-6
    assert abs(one - four) < 1e-6
