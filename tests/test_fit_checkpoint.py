"""Checkpoints survive crashes: atomic saves, checksums, damaged files, SIGKILL."""

import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    Adam,
    CheckpointError,
    Learner,
    SoftmaxCrossEntropy,
    accuracy,
    check_directory,
    fit,
    load_checkpoint,
    save_checkpoint,
)
from cdl.optics._checkpoint import sealed, verified

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 24

# The run every trial makes: dropout, metrics and a partial last batch (20 = 3 * 6 + 2).
CHILD = """
import sys

import jax
import jax.numpy as jnp

import cdl
from cdl.optics import Adam, Learner, SoftmaxCrossEntropy, accuracy, fit

k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
model = (
    cdl.Linear(4, 8, key=k1) >> cdl.Tanh() >> cdl.Dropout(0.2)
    >> cdl.Linear(8, 3, key=k2)
)
xs = jax.random.normal(k3, (20, 4))
ys = (xs[:, 0] > 0).astype(jnp.int32) + (xs[:, 1] > 0).astype(jnp.int32)
learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.01))
fit(learner, model, xs, ys, epochs=int(sys.argv[2]), batch_size=6,
    key=jax.random.key(1), metrics={"accuracy": accuracy},
    checkpoint=sys.argv[1], progress=False)
print("finished", flush=True)
"""


def run_in_process(directory: Path, epochs: int = EPOCHS) -> None:
    namespace: dict[str, object] = {}
    argv = sys.argv
    sys.argv = ["child", str(directory), str(epochs)]
    try:
        exec(compile(CHILD, "child", "exec"), namespace)
    finally:
        sys.argv = argv


def final_bytes(directory: Path, epochs: int = EPOCHS) -> bytes:
    return (directory / f"epoch-{epochs:08d}.ckpt").read_bytes()


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache)
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    return env


def start(directory: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory), str(EPOCHS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def newest_epoch(directory: Path) -> int:
    return max((int(p.stem[6:]) for p in directory.glob("epoch-*.ckpt")), default=0)


def kill_at_random(
    directory: Path, env: dict[str, str], rng: random.Random
) -> subprocess.Popen[str]:
    """Start a run, kill it at a random moment a few epochs on (saves included).

    The moment is drawn from the run's progress, not the clock: a run whose
    epochs take milliseconds would otherwise often finish before its kill.
    """
    target = min(newest_epoch(directory) + rng.randint(1, 4), EPOCHS - 2)
    process = start(directory, env)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if newest_epoch(directory) >= target:
            break
        time.sleep(0.001)
    time.sleep(rng.uniform(0.0, 0.02))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    return process


def run_to_the_end(directory: Path, env: dict[str, str]) -> None:
    done = start(directory, env)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err[-3000:]
    assert "finished" in out


def killed_and_resumed(tmp_path: Path, kills: int, seed: int) -> None:
    env = child_env(tmp_path / "cache")
    rng = random.Random(seed)
    directory = tmp_path / "run"
    finished_early = 0
    for _ in range(kills):
        process = kill_at_random(directory, env, rng)
        finished_early += process.returncode == 0
    run_to_the_end(directory, env)
    assert finished_early < kills, "every run ended before its kill: nothing tested"
    # The uninterrupted run, last: it reads the compiled code from the cache the
    # first killed run wrote, where a run in this process would compile afresh.
    reference = tmp_path / "reference"
    run_to_the_end(reference, env)
    assert final_bytes(directory) == final_bytes(reference)


def test_sigkill_at_random_moments_then_resume_is_bit_identical(
    tmp_path: Path,
) -> None:
    killed_and_resumed(tmp_path, kills=2, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_many_sigkills_then_resume_is_bit_identical(tmp_path: Path, seed: int) -> None:
    killed_and_resumed(tmp_path, kills=8, seed=seed)


def small_state() -> tuple[Learner, cdl.optics.TrainState]:
    model = cdl.Linear(3, 2, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    return learner, learner.init(model)


def test_a_save_killed_before_its_rename_leaves_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, state = small_state()
    key = jax.random.key(3)
    save_checkpoint(tmp_path, state, key=key, epoch=1, history={"loss": [1.0]})
    later = cdl.optics.TrainState(
        jax.tree.map(lambda a: a + 1, state.params), state.opt_state, state.step + 5
    )

    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # a kill between the write and the rename

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", crash)
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(
                tmp_path, later, key=key, epoch=2, history={"loss": [1.0, 0.5]}
            )
    assert [p.name for p in tmp_path.glob(".*.tmp")]  # the half-done save
    restored = load_checkpoint(tmp_path, state)
    assert restored.epoch == 1 and restored.history == {"loss": [1.0]}
    assert int(restored.state.step) == 0
    check_directory(tmp_path)  # clears what the killed save left
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_checkpoint_is_named_and_the_previous_one_used(
    tmp_path: Path, damage: str
) -> None:
    _, state = small_state()
    key = jax.random.key(3)
    for epoch in (1, 2):
        save_checkpoint(
            tmp_path, state, key=key, epoch=epoch, history={"loss": [0.5] * epoch}
        )
    newest = tmp_path / "epoch-00000002.ckpt"
    data = bytearray(newest.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-7] ^= 0x10
    else:
        data = bytearray()
    newest.write_bytes(bytes(data))
    restored = load_checkpoint(tmp_path, state)
    assert restored.epoch == 1
    assert len(restored.damaged) == 1 and "damaged" in restored.damaged[0]
    assert "epoch-00000002.ckpt" in restored.damaged[0]
    assert (tmp_path / "epoch-00000002.ckpt.damaged").is_file()


def test_fit_says_which_checkpoint_was_damaged_and_resumes_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_in_process(tmp_path, epochs=3)
    newest = tmp_path / "epoch-00000003.ckpt"
    newest.write_bytes(newest.read_bytes()[:-10])
    capsys.readouterr()
    run_in_process(tmp_path, epochs=3)
    err = capsys.readouterr().err
    assert "epoch-00000003.ckpt is damaged (checksum mismatch" in err
    assert "resuming from the checkpoint" in err and "epoch 2 of 3 done" in err
    reference = tmp_path / "reference"
    run_in_process(reference, epochs=3)
    assert final_bytes(tmp_path, 3) == final_bytes(reference, 3)


def test_no_intact_checkpoint_is_an_error(tmp_path: Path) -> None:
    _, state = small_state()
    save_checkpoint(tmp_path, state, key=jax.random.key(0), epoch=1, history={})
    path = tmp_path / "epoch-00000001.ckpt"
    path.write_bytes(b"cdl-checkpoint 1\n" + b"0" * 64 + b"\nrubbish")
    with pytest.raises(CheckpointError, match="no intact checkpoint.*checksum"):
        load_checkpoint(tmp_path, state)


def test_the_checkpoint_directory_is_checked_before_training(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    learner, _ = small_state()
    model = learner.model_at(learner.init(cdl.Linear(3, 2, key=jax.random.key(0))))
    calls = []

    class Spy(cdl.optics.Callback):
        def on_train_begin(self, epoch: int, history: dict[str, list[float]]) -> None:
            calls.append(epoch)

    with pytest.raises(CheckpointError, match="cannot hold checkpoints"):
        fit(
            learner,
            model,
            jnp.zeros((4, 3)),
            jnp.zeros(4, jnp.int32),
            epochs=1,
            batch_size=2,
            key=jax.random.key(0),
            checkpoint=blocker / "run",
            progress=False,
            callbacks=[Spy()],
        )
    assert calls == []


def test_only_the_newest_checkpoints_are_kept(tmp_path: Path) -> None:
    xs = jax.random.normal(jax.random.key(0), (8, 3))
    ys = jnp.zeros(8, jnp.int32)
    model = cdl.Linear(3, 2, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.1))
    fit(
        learner,
        model,
        xs,
        ys,
        epochs=5,
        batch_size=4,
        key=jax.random.key(0),
        checkpoint=tmp_path,
        keep=3,
        progress=False,
        metrics={"accuracy": accuracy},
    )
    names = sorted(p.name for p in pathlib.Path(tmp_path).iterdir())
    assert names == [f"epoch-{e:08d}.ckpt" for e in (3, 4, 5)]
    restored = load_checkpoint(tmp_path, learner.init(model))
    assert len(restored.history["accuracy"]) == 5
    assert np.isfinite(restored.history["loss"]).all()


def dropout_run(directory: Path, key: jax.Array, epochs: int) -> cdl.optics.FitResult:
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    model = cdl.Linear(3, 6, key=k1) >> cdl.Dropout(0.3) >> cdl.Linear(6, 2, key=k2)
    xs = jax.random.normal(k3, (10, 3))
    ys = (xs[:, 0] > 0).astype(jnp.int32)
    learner = Learner(model, SoftmaxCrossEntropy(), Adam(0.05))
    return fit(
        learner,
        model,
        xs,
        ys,
        epochs=epochs,
        batch_size=4,
        key=key,
        checkpoint=directory,
        progress=False,
    )


@pytest.mark.parametrize(
    ("impl", "make"),
    [
        ("threefry2x32", lambda: jax.random.key(3, impl="rbg")),
        ("threefry2x32", lambda: jax.random.key(3, impl="unsafe_rbg")),
        ("threefry2x32", lambda: jax.random.PRNGKey(3)),
        ("rbg", lambda: jax.random.PRNGKey(3)),
        ("rbg", lambda: jax.random.key(3)),
        ("rbg", lambda: jax.random.key(3, impl="threefry2x32")),
    ],
)
def test_a_run_resumes_with_the_key_of_any_prng_implementation(
    tmp_path: Path, impl: str, make: Callable[[], jax.Array]
) -> None:
    with jax.default_prng_impl(impl):
        key = make()
        whole = dropout_run(tmp_path / "whole", key, 4)
        dropout_run(tmp_path / "run", key, 2)
        resumed = dropout_run(tmp_path / "run", key, 4)
        typed = jax.random.wrap_key_data(key) if key.dtype == jnp.uint32 else key
    assert resumed.history == whole.history
    for a, b in zip(
        jax.tree.leaves(resumed.state), jax.tree.leaves(whole.state), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    # The checkpoint's key is the run's, of its implementation, whatever the
    # default is when it is read.
    restored = load_checkpoint(tmp_path / "run", resumed.state)
    assert jax.random.key_impl(restored.key) == jax.random.key_impl(typed)
    np.testing.assert_array_equal(
        jax.random.key_data(restored.key), jax.random.key_data(typed)
    )


def test_a_key_of_an_unknown_prng_implementation_is_named(tmp_path: Path) -> None:
    run = dropout_run(tmp_path, jax.random.key(0, impl="rbg"), 1)
    path = tmp_path / "epoch-00000001.ckpt"
    body = verified(path.read_bytes()).replace(b'"rbg"', b'"mystery"', 1)
    path.write_bytes(sealed(body))
    with pytest.raises(CheckpointError, match="PRNG implementation 'mystery'"):
        load_checkpoint(tmp_path, run.state)
