"""Data that one process alone refuses stop every process, not only that one.

Two processes on localhost, each with its own share of the data. A check of a
process's own share (labels out of range, a NaN, inputs and labels of different
lengths) used to fail in that process only: the other went on into training and
waited for it at the first collective, forever. `global_batch` given local
batches of different sizes built global arrays of different shapes in each
process, silently. `cdl.save` of a model trained with FSDP across processes
failed on its arrays (not fully addressable): it gathers them and process 0
writes. Processes given different keys trained on garbage (a NaN loss at step
3), different start models trained silently apart, and `checkpoint=` given in
process 0 only (the docs say only process 0 needs to see the directory) waited
forever: such settings are compared before training.
"""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent(
    """
    import sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    index, port = int(sys.argv[1]), sys.argv[2]
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=index)
    import numpy as np, cdl
    from cdl.optics import Learner, SGD, SoftmaxCrossEntropy, data_parallel, fit
    from cdl.optics import global_batch, place_state

    rng = np.random.default_rng(index)
    xs = rng.normal(size=(8, 3)).astype(np.float32)
    ys = rng.integers(0, 2, 8).astype(np.int32)
    model = cdl.Linear(3, 2, key=jax.random.key(0))
    learner = Learner(model, SoftmaxCrossEntropy(), SGD(0.1))

    def attempt(tag, run):
        try:
            run()
        except Exception as error:
            print(f"{tag}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"{tag}: no error", flush=True)

    run = dict(epochs=1, batch_size=4, progress=False)
    own_key = jax.random.key(index)
    attempt("key", lambda: fit(learner, model, xs, ys, key=own_key, **run))
    own = cdl.Linear(3, 2, key=own_key)
    attempt("start", lambda: fit(Learner(own, SoftmaxCrossEntropy(), SGD(0.1)), own,
                                 xs, ys, key=jax.random.key(0), **run))
    shared = data_parallel(learner)
    attempt("place", lambda: place_state(shared, shared.init(own)))
    where = sys.argv[3] + ".run" if index == 0 else None
    attempt("checkpoint", lambda: fit(learner, model, xs, ys, key=jax.random.key(0),
                                      checkpoint=where, **run))
    bad = np.full(8, 5, np.int32) if index == 1 else ys
    attempt("labels", lambda: fit(learner, model, xs, bad, epochs=1, batch_size=4,
                                  key=jax.random.key(0), progress=False))
    short = ys[:4] if index == 0 else ys
    attempt("lengths", lambda: fit(learner, model, xs, short, epochs=1,
                                   batch_size=4, key=jax.random.key(0),
                                   progress=False))
    rows = xs[: 4 + 2 * index]
    attempt("global", lambda: global_batch(data_parallel(learner), rows))
    pair = (xs, ys[:6]) if index == 1 else (xs, ys)
    attempt("pair", lambda: global_batch(data_parallel(learner), pair))
    # Arrays of different lengths, alike in every process (training and
    # validation data together, as fit passes them), are fine.
    attempt("ragged", lambda: global_batch(data_parallel(learner), (xs, ys[:6])))
    attempt("odd", lambda: global_batch(data_parallel(learner), xs[:3]))

    # Parameters split across the processes (FSDP) are gathered to be saved.
    from cdl.optics import fsdp
    from cdl.optics._distributed import to_host
    wide = cdl.Linear(3, 4, key=jax.random.key(0))  # weight split in 4 parts
    split = data_parallel(Learner(wide, SoftmaxCrossEntropy(), SGD(0.1)),
                          params=fsdp(min_size=0))
    result = fit(split, wide, xs, ys, epochs=1, batch_size=4, key=jax.random.key(0),
                 progress=False)
    print(f"spec: {result.model.weight.sharding.spec}")
    attempt("save", lambda: cdl.save(sys.argv[3], result.model, size=4))
    whole = [to_host(x) for x in jax.tree.leaves(result.model)]
    if index == 0:
        back = cdl.load(sys.argv[3], cdl.Linear(3, 4, key=jax.random.key(1)))
        same = all((a == b).all() for a, b in zip(jax.tree.leaves(back), whole))
        print(f"loaded: {same}")
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port: int = s.getsockname()[1]
        return port


def test_one_process_refusing_its_data_stops_both(tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT))
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    port = str(_free_port())
    running = [
        subprocess.Popen(
            [sys.executable, str(worker), str(i), port, str(tmp_path / "m.cdl")],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = []
    try:
        for process in running:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-3000:]
            outputs.append(dict(line.split(": ", 1) for line in out.splitlines()))
    finally:
        for process in running:
            process.kill()
    first, second = outputs
    assert first["place"] == (
        "ValueError: place_state(Linear(3→2)): the state differs between "
        "processes: every process must pass the same one (learner.init of a "
        "model built alike everywhere)."
    )
    for case in ("key", "start", "checkpoint", "place"):
        assert first[case] == second[case], case
    assert first["key"] == (
        "ValueError: fit(Linear(3→2)): the processes were given different keys "
        "(key data): [[0, 0], [0, 1]], from process 0 on. Run fit with the same "
        "arguments in every process, each with its own share of the data."
    )
    assert first["start"] == (
        "ValueError: fit(Linear(3→2)): the start model differs between processes: "
        "build it alike in every process (from the same key), or load one file."
    )
    assert first["checkpoint"].startswith(
        "ValueError: fit(Linear(3→2)): checkpoint= was given in processes "
        "[True, False] (True: given): give it in every process"
    )
    label_error = (
        "fit(Linear(3→2)): label 5 of example 0 is not a class of the model's "
        "2 outputs: labels must lie in 0..1."
    )
    assert second["labels"] == f"DataError: {label_error}"
    assert first["labels"] == (
        f"DataError: process 1 stopped before training: {label_error}"
    )
    length_error = (
        "fit(Linear(3→2)): 8 inputs but 4 labels: inputs and labels must have "
        "the same leading axis."
    )
    assert first["lengths"] == f"DataError: {length_error}"
    assert second["lengths"] == (
        f"DataError: process 0 stopped before training: {length_error}"
    )
    uneven = (
        "ValueError: global_batch: the processes hold [4, 6] examples: every "
        "process must pass as many, array by array (the global batch is their "
        "concatenation)."
    )
    assert first["global"] == second["global"] == uneven
    assert (
        first["pair"]
        == second["pair"]
        == (
            "ValueError: global_batch: the processes hold [[8, 8], [8, 6]] examples: "
            "every process must pass as many, array by array (the global batch is "
            "their concatenation)."
        )
    )
    assert first["ragged"] == second["ragged"] == "no error"
    assert first["spec"] == "P('batch', None)"
    assert first["save"] == second["save"] == "no error"
    assert first["loaded"] == "True"
    assert sorted(os.listdir(tmp_path)) == ["m.cdl", "worker.py"]
    assert (
        first["odd"]
        == second["odd"]
        == (
            "ValueError: global_batch: this process's batch holds 3 examples, which "
            "its 2 devices on the mesh's 'batch' axis cannot share evenly: pass a "
            "multiple of 2."
        )
    )
