"""Training across processes (jax.distributed on localhost) and sharded parameters.

Each setting runs in fresh Python processes: the number of CPU devices and the
distributed runtime are fixed when JAX starts.
"""

import functools
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import cdl
from cdl.optics import Adam, Learner, SoftmaxCrossEntropy, accuracy, data_parallel, fit

ROOT = Path(__file__).resolve().parents[1]

# Drawn by NumPy: each jax.random call would compile a sampler first, several
# seconds in every process here, before the part under test starts.
DATA = textwrap.dedent(
    """
    import equinox as eqx, jax, jax.numpy as jnp, numpy as np, cdl

    def problem():
        rng = np.random.default_rng(0)

        def draw(leaf):
            if not isinstance(leaf, jax.ShapeDtypeStruct):
                return leaf
            return jnp.asarray(rng.uniform(-0.5, 0.5, leaf.shape), leaf.dtype)

        key = jax.random.key(0)
        shell = eqx.filter_eval_shape(
            lambda: cdl.Linear(4, 16, key=key) >> cdl.Tanh()
            >> cdl.Linear(16, 8, key=key))
        model = jax.tree.map(draw, shell)
        xs = jnp.asarray(rng.normal(size=(64, 4)), jnp.float32)
        ys = jnp.asarray(rng.integers(0, 8, 64), jnp.int32)
        val_xs = jnp.asarray(rng.normal(size=(32, 4)), jnp.float32)
        val_ys = jnp.asarray(rng.integers(0, 8, 32), jnp.int32)
        return model, xs, ys, val_xs, val_ys
    """
)

WORKER = DATA + textwrap.dedent(
    """
    import json, os, signal, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    index, port, directory, out, kill_at, rule = sys.argv[1:7]
    jax.distributed.initialize(
        f"localhost:{port}", num_processes=2, process_id=int(index))
    import numpy as np
    from cdl.optics import (Adam, Callback, Learner, SoftmaxCrossEntropy,
                            accuracy, data_parallel, fit, fsdp)

    class Kill(Callback):
        # fit saves an epoch once its callbacks have seen it: dying at the end of
        # the epoch after kill_at, before that epoch's save, leaves kill_at saved.
        def on_epoch_end(self, epoch, values, state):
            if int(kill_at) > 0 and epoch == int(kill_at) + 1:
                os.kill(os.getpid(), signal.SIGKILL)

    model, xs, ys, val_xs, val_ys = problem()
    mine = slice(32 * jax.process_index(), 32 * (jax.process_index() + 1))
    held = slice(mine.start // 2, mine.stop // 2)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    if rule == "fsdp":
        learner = data_parallel(learner, params=fsdp(min_size=16))
    # kill_at < 0: a run of -kill_at epochs ends, and a run of 4 resumes it.
    for epochs in ([-int(kill_at)] if int(kill_at) < 0 else []) + [4]:
        result = fit(learner, model, xs[mine], ys[mine], epochs=epochs,
                     batch_size=16, key=jax.random.key(1), progress=False,
                     checkpoint=directory, metrics={"accuracy": accuracy},
                     validation=(val_xs[held], val_ys[held]), callbacks=[Kill()])
    from jax.experimental.multihost_utils import process_allgather
    leaves = [np.asarray(process_allgather(leaf, tiled=True))
              for leaf in jax.tree.leaves(result.state)]
    np.savez(out, *leaves)
    with open(out + ".json", "w") as f:
        json.dump({"history": result.history,
                   "specs": [str(leaf.sharding.spec)
                             for leaf in jax.tree.leaves(result.state.params)]}, f)
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port: int = s.getsockname()[1]
        return port


def _launch(
    tmp: Path, directory: Path, tag: str, kill_at: int, rule: str, devices: int
) -> list[subprocess.CompletedProcess[str]]:
    """Run the worker in two processes on localhost; wait for both."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = str(ROOT)
    port = str(_free_port())
    worker = tmp / "worker.py"
    worker.write_text(WORKER)
    running = [
        subprocess.Popen(
            [
                sys.executable,
                str(worker),
                str(i),
                port,
                str(directory),
                str(tmp / f"{tag}-{i}.npz"),
                str(kill_at),
                rule,
            ],
            env=env,
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    done = []
    for process in running:
        try:
            out, err = process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for other in running:
                other.kill()
            raise
        done.append(
            subprocess.CompletedProcess(process.args, process.returncode, out, err)
        )
    return done


@functools.cache
def _reference() -> tuple[list[np.ndarray], dict[str, list[float]]]:
    """One process training on all of the data (once per session)."""
    scope: dict[str, object] = {}
    exec(DATA, scope)
    model, xs, ys, val_xs, val_ys = scope["problem"]()  # type: ignore[operator]
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    result = fit(
        learner,
        model,
        xs,
        ys,
        epochs=4,
        batch_size=16,
        key=jax.random.key(1),
        progress=False,
        metrics={"accuracy": accuracy},
        validation=(val_xs, val_ys),
    )
    return [np.asarray(leaf) for leaf in jax.tree.leaves(result.state)], result.history


def _check_same(tmp: Path, tag: str) -> dict[str, object]:
    leaves, history = _reference()
    runs = []
    for i in range(2):
        with np.load(tmp / f"{tag}-{i}.npz") as saved:
            got = [saved[f"arr_{k}"] for k in range(len(saved.files))]
        assert len(got) == len(leaves)
        worst = max(
            float(np.max(np.abs(a - b))) for a, b in zip(got, leaves, strict=True)
        )
        assert worst <= 1e-6, (i, worst)
        runs.append(json.loads((tmp / f"{tag}-{i}.npz.json").read_text()))
    for run in runs:
        assert run["history"].keys() == history.keys()
        for name, values in history.items():
            np.testing.assert_allclose(run["history"][name], values, atol=1e-6)
    assert runs[0] == runs[1]
    return runs[0]


def _run_killed_then_resumed(tmp_path: Path, rule: str, devices: int) -> None:
    directory = tmp_path / "run"
    killed = _launch(tmp_path, directory, "killed", 2, rule, devices)
    assert [p.returncode for p in killed] == [-9, -9], [
        p.stderr[-2000:] for p in killed
    ]
    assert sorted(os.listdir(directory)) == [
        "epoch-00000001.ckpt",
        "epoch-00000002.ckpt",
    ]
    resumed = _launch(tmp_path, directory, "resumed", 0, rule, devices)
    assert [p.returncode for p in resumed] == [0, 0], [
        p.stderr[-3000:] for p in resumed
    ]
    # Reported once: only process 0 says where it resumes from.
    assert "epoch 2 of 4 done" in resumed[0].stderr
    assert "resuming" not in resumed[1].stderr
    assert sorted(os.listdir(directory)) == [
        "epoch-00000003.ckpt",
        "epoch-00000004.ckpt",
    ]
    _check_same(tmp_path, "resumed")


def test_two_processes_train_as_one_and_resume(tmp_path: Path) -> None:
    """Each process feeds half the data; a run of 2 epochs ends, one of 4 resumes it."""
    directory = tmp_path / "run"
    done = _launch(tmp_path, directory, "resumed", -2, "replicated", 1)
    assert [p.returncode for p in done] == [0, 0], [p.stderr[-3000:] for p in done]
    assert "epoch 2 of 4 done" in done[0].stderr
    assert "resuming" not in done[1].stderr
    assert sorted(os.listdir(directory)) == [
        "epoch-00000003.ckpt",
        "epoch-00000004.ckpt",
    ]
    _check_same(tmp_path, "resumed")


@pytest.mark.slow
def test_two_processes_killed_resume_from_the_shared_checkpoint(
    tmp_path: Path,
) -> None:
    _run_killed_then_resumed(tmp_path, "replicated", 1)


@pytest.mark.slow
def test_two_processes_uninterrupted_match_one(tmp_path: Path) -> None:
    done = _launch(tmp_path, tmp_path / "run", "whole", 0, "replicated", 1)
    assert [p.returncode for p in done] == [0, 0], [p.stderr[-3000:] for p in done]
    _check_same(tmp_path, "whole")


@pytest.mark.slow
def test_two_processes_with_parameters_sharded_across_them(tmp_path: Path) -> None:
    """FSDP over 4 devices, 2 in each process: shards live in both processes."""
    _run_killed_then_resumed(tmp_path, "fsdp", 2)
    run = json.loads((tmp_path / "resumed-0.npz.json").read_text())
    assert run["specs"] == [
        "P('batch', None)",
        "P('batch',)",
        "P(None, 'batch')",
        "P()",
    ]


SHARDED = DATA + textwrap.dedent(
    """
    import sys
    import numpy as np
    from jax.sharding import PartitionSpec as P
    from cdl.optics import (Adam, Learner, SoftmaxCrossEntropy,
                            data_parallel, fit, fsdp)

    assert len(jax.devices()) == 4, jax.devices()
    model, xs, ys, val_xs, val_ys = problem()
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    settings = dict(epochs=3, batch_size=16, key=jax.random.key(1), progress=False)
    one = fit(learner, model, xs, ys, **settings)
    rules = {
        "fsdp": (None, fsdp(min_size=16)),
        "model": (
            jax.make_mesh((2, 2), ("batch", "model")),
            {r"factors\\[0\\]\\.weight": P("model", None),
             r"factors\\[2\\]\\.weight": P(None, "model")},
        ),
    }
    for name in sys.argv[1:]:
        mesh, rule = rules[name]
        sharded = data_parallel(learner, mesh, params=rule)
        got = fit(sharded, model, xs, ys, **settings)
        worst = max(
            float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
            for a, b in zip(jax.tree.leaves(one.state), jax.tree.leaves(got.state))
        )
        print(name, "max difference", worst)
        assert worst <= 1e-6, (name, worst)
        for key, values in one.history.items():
            assert np.allclose(values, got.history[key], atol=1e-6), key
        # Each device holds only its shard, of parameters and Adam's moments alike.
        params = got.state.params
        moments = (got.state.opt_state.mu, got.state.opt_state.nu)
        for tree in (params, *moments):
            first, second = tree.factors[0].weight, tree.factors[2].weight
            split = 2 if name == "model" else 4
            for leaf, whole, part in ((first, (16, 4), (16 // split, 4)),
                                      (second, (8, 16), (8, 16 // split))):
                assert leaf.shape == whole
                assert len(leaf.addressable_shards) == 4
                for shard in leaf.addressable_shards:
                    assert shard.data.shape == part, (name, shard.data.shape)
                    assert np.array_equal(np.asarray(shard.data),
                                          np.asarray(leaf)[shard.index])
        first = params.factors[0].weight
        print(name, "shards", [s.data.shape for s in first.addressable_shards])
    """
)


@pytest.mark.parametrize(
    "rule", ["fsdp", pytest.param("model", marks=pytest.mark.slow)]
)
def test_sharded_parameters_match_replicated_on_four_devices(rule: str) -> None:
    """FSDP over the data axis; a model axis on a 2 x 2 mesh (slow)."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", SHARDED, rule],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{rule} max difference" in done.stdout, done.stdout
    assert f"{rule} shards" in done.stdout


def test_parameter_rules_refuse_what_does_not_fit() -> None:
    model = cdl.Linear(4, 6, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
    mesh = jax.make_mesh((1,), ("batch",))
    state = learner.init(model)
    xs, ys = jnp.zeros((4, 4)), jnp.zeros(4, int)
    wrong = data_parallel(learner, mesh, params={"weight": P("model", None)})
    with pytest.raises(ValueError, match=r"\.weight of shape \(6, 4\).*'model'"):
        fit(wrong, model, xs, ys, epochs=1, batch_size=2, key=jax.random.key(0))
    wrong = data_parallel(learner, mesh, params={"bias": P("batch", None)})
    with pytest.raises(ValueError, match="too many entries"):
        cdl.optics.place_state(wrong, state)
    with pytest.raises(ValueError, match="no 'batch' axis"):
        data_parallel(learner, jax.make_mesh((1,), ("data",)))
    with pytest.raises(TypeError, match="not a parameter rule"):
        data_parallel(learner, params=3)  # type: ignore[arg-type]
    typo = data_parallel(learner, mesh, params={r"layers\[0\]": P(None, "batch")})
    with pytest.raises(ValueError, match=r"matches no parameter's path.*\.weight"):
        cdl.optics.place_state(typo, state)


def test_a_function_rule_places_parameters_through_a_step() -> None:
    model = cdl.Linear(4, 6, key=jax.random.key(0))
    learner = data_parallel(
        Learner(model, SoftmaxCrossEntropy(), Adam(0.01)),
        params=lambda path, x: P("batch") if path.endswith("bias") else None,
    )
    state = cdl.optics.place_state(learner, learner.init(model))
    assert state.params.bias.sharding.spec == P("batch")
    assert state.opt_state.mu.bias.sharding.spec == P("batch")
    xs, ys = cdl.optics.global_batch(learner, (jnp.zeros((2, 4)), jnp.zeros(2, int)))
    stepped, loss = jax.jit(learner.step)(state, xs, ys)
    placed = jax.sharding.NamedSharding(learner.mesh, P("batch"))
    assert stepped.params.bias.sharding.is_equivalent_to(placed, 1)
    assert np.isfinite(loss)


STATEFUL_WORKER = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    index, port, directory, out = sys.argv[1:5]
    if index != "one":
        jax.distributed.initialize(
            f"localhost:{port}", num_processes=2, process_id=int(index))
    import equinox as eqx, jax.numpy as jnp, numpy as np, optax
    import cdl
    from cdl.optics import Learner, SoftmaxCrossEntropy, accuracy, fit, from_optax

    keys = jax.random.split(jax.random.key(3), 2)
    model, state = eqx.nn.make_with_state(
        lambda: (cdl.Linear(3, 8, key=keys[0]) @ cdl.Identity())
        >> cdl.BatchNorm(8)
        >> (cdl.Relu() >> cdl.Linear(8, 2, key=keys[1])) @ cdl.Identity())()
    xs = jax.random.normal(jax.random.key(4), (32, 3)) * 2.0 + 1.0
    ys = (xs[:, 0] > 1.0).astype(jnp.int32)
    learner = Learner(model, SoftmaxCrossEntropy(), from_optax(optax.sgd(0.1)))
    one = index == "one"
    mine = slice(0, 32) if one else slice(16 * int(index), 16 * (int(index) + 1))
    # Two processes: a run of 2 epochs ends, and a run of 4 resumes it.
    for epochs in [4] if one else [2, 4]:
        result = fit(learner, model, xs[mine], ys[mine], epochs=epochs,
                     batch_size=8, key=jax.random.key(2), progress=False,
                     model_state=state, metrics={"accuracy": accuracy},
                     checkpoint=None if one else directory)
    from jax.experimental.multihost_utils import process_allgather
    trained = (result.state.params, result.state.model_state)
    leaves = [np.asarray(leaf if one else process_allgather(leaf, tiled=True))
              for leaf in jax.tree.leaves(trained)]
    np.savez(out, *leaves)
    with open(out + ".json", "w") as f:
        json.dump(result.history, f)
    """
)


@pytest.mark.slow
def test_two_processes_train_a_model_with_state_as_one(tmp_path: Path) -> None:
    """Batch norm across processes: parameters, statistics and history as one's."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    worker = tmp_path / "stateful.py"
    worker.write_text(STATEFUL_WORKER)
    port = str(_free_port())
    running = [
        subprocess.Popen(
            [sys.executable, str(worker), name, port, str(tmp_path / "run"),
             str(tmp_path / f"{name}.npz")],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("0", "1", "one")
    ]  # fmt: skip
    for process in running:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
    one = np.load(tmp_path / "one.npz")
    history = json.loads((tmp_path / "one.npz.json").read_text())
    for name in ("0", "1"):
        got = np.load(tmp_path / f"{name}.npz")
        for key in one.files:
            np.testing.assert_allclose(got[key], one[key], atol=1e-6)
        theirs = json.loads((tmp_path / f"{name}.npz.json").read_text())
        assert theirs.keys() == history.keys()
        for metric, values in history.items():
            np.testing.assert_allclose(theirs[metric], values, atol=1e-6)
    assert sorted(os.listdir(tmp_path / "run")) == [
        "epoch-00000003.ckpt",
        "epoch-00000004.ckpt",
    ]
