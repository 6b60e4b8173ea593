"""Callbacks that steer a run: EarlyStopping ends it and restores its best state."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cdl
from cdl.optics import (
    SGD,
    Callback,
    CSVLogger,
    EarlyStopping,
    FitResult,
    Learner,
    MeanSquaredError,
    fit,
    load_checkpoint,
)

XS = jax.random.normal(jax.random.key(0), (40, 3))
YS = XS @ jnp.array([[1.0], [-2.0], [0.5]])
MODEL = cdl.Linear(3, 1, key=jax.random.key(1))
LEARNER = Learner(MODEL, MeanSquaredError(), SGD(0.05))
# Labels that training moves away from: the validation loss grows every epoch.
AGAINST = (XS[:8], -YS[:8])


def run(epochs: int, callbacks: list[Callback], **options: object) -> FitResult:
    return fit(
        LEARNER,
        MODEL,
        XS,
        YS,
        epochs=epochs,
        batch_size=8,
        key=jax.random.key(2),
        validation=AGAINST,
        callbacks=callbacks,
        progress=False,
        **options,  # type: ignore[arg-type]
    )


def same_parameters(a: FitResult, b: FitResult) -> bool:
    return all(
        np.array_equal(x, y)
        for x, y in zip(jax.tree.leaves(a.state), jax.tree.leaves(b.state), strict=True)
    )


def test_early_stopping_stops_after_patience_and_restores_the_best_state() -> None:
    stop = EarlyStopping("val_loss", patience=3, restore_best=True)
    result = run(50, [stop])
    losses = result.history["val_loss"]
    assert all(b > a for a, b in zip(losses, losses[1:], strict=False))
    assert (stop.best_epoch, stop.stopped_epoch, len(losses)) == (1, 4, 4)
    assert stop.best == losses[0]
    # The state returned is that of epoch 1, bit for bit, not that of epoch 4.
    assert same_parameters(result, run(1, []))
    assert not same_parameters(result, run(4, []))
    assert int(result.state.step) == 5  # 40 examples in batches of 8


def test_without_restore_best_the_last_state_is_returned() -> None:
    stop = EarlyStopping("val_loss", patience=2)
    result = run(50, [stop])
    assert stop.stopped_epoch == 3
    assert same_parameters(result, run(3, []))


def test_a_metric_that_improves_keeps_the_run_going() -> None:
    stop = EarlyStopping("loss", patience=2)  # the training loss falls throughout
    result = run(6, [stop])
    assert stop.stopped_epoch is None and len(result.history["loss"]) == 6
    assert stop.mode == "min"
    # "auto" takes higher as better for names not ending in "loss".
    assert EarlyStopping("val_accuracy").mode == "max"


def test_min_delta_and_mode_max() -> None:
    stop = EarlyStopping("val_loss", patience=2, mode="max", min_delta=0.0)
    run(10, [stop])  # a growing loss, read as higher-is-better, never stops it
    assert stop.stopped_epoch is None and stop.best_epoch == 10
    huge = EarlyStopping("val_loss", patience=2, mode="max", min_delta=1e9)
    run(10, [huge])  # no gain is ever large enough
    assert (huge.best_epoch, huge.stopped_epoch) == (1, 3)


def test_a_stopped_run_resumed_from_its_checkpoint_stays_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(50, [EarlyStopping(patience=2)], checkpoint=tmp_path)
    assert len(first.history["loss"]) == 3
    assert "stopped the run after epoch 3 of 50" in capsys.readouterr().err
    again = EarlyStopping(patience=2)
    second = run(50, [again], checkpoint=tmp_path)
    assert second.history == first.history
    assert (again.best_epoch, again.stopped_epoch) == (1, 3)
    assert same_parameters(first, second)


def test_an_unknown_monitor_names_what_fit_reports() -> None:
    with pytest.raises(ValueError, match=r"no 'val_accuracy'.*'loss', 'val_loss'"):
        run(3, [EarlyStopping("val_accuracy")])
    with pytest.raises(ValueError, match=r"pass `validation=`"):
        fit(LEARNER, MODEL, XS, YS, epochs=2, batch_size=8, key=jax.random.key(0),
            callbacks=[EarlyStopping("val_loss")], progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="`patience` must be a positive int, not 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="`mode` must be 'min', 'max' or 'auto'"):
        EarlyStopping(mode="lowest")  # type: ignore[arg-type]


def test_the_best_state_survives_a_resume_from_a_checkpoint(tmp_path: Path) -> None:
    first = EarlyStopping("val_loss", patience=10, restore_best=True)
    run(3, [first], checkpoint=tmp_path)  # the best epoch is the first
    assert load_checkpoint(tmp_path, LEARNER.init(MODEL)).kept.keys() == {
        "EarlyStopping#0"
    }
    again = EarlyStopping("val_loss", patience=10, restore_best=True)
    # Callbacks of other classes may be added in front on resuming.
    resumed = run(6, [CSVLogger(tmp_path / "log.csv"), again], checkpoint=tmp_path)
    assert (again.best_epoch, len(resumed.history["val_loss"])) == (1, 6)
    assert same_parameters(resumed, run(1, []))


def test_a_best_state_the_checkpoint_lacks_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(3, [], checkpoint=tmp_path)  # saved without restore_best
    stop = EarlyStopping("val_loss", patience=10, restore_best=True)
    resumed = run(5, [stop], checkpoint=tmp_path)
    assert "the best epoch, 1, ran before the checkpoint" in capsys.readouterr().err
    assert same_parameters(resumed, run(5, []))


class Told(Callback):
    """Records the epochs it is told of; raises Ctrl-C at epoch `stop_at`."""

    reads_state = False

    def __init__(self, stop_at: int = 0) -> None:
        self.stop_at, self.told = stop_at, list[int]()

    def on_epoch_end(self, epoch: int, values: dict, state: object) -> None:
        if epoch == self.stop_at:
            raise KeyboardInterrupt
        self.told.append(epoch)


@pytest.mark.parametrize(
    ("per_call", "stop_at", "saved"), [(2, 3, 2), (2, 4, 4), (1, 3, 3)]
)
def test_ctrl_c_in_callbacks_saves_no_epoch_they_were_not_told_of(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    per_call: int,
    stop_at: int,
    saved: int,
) -> None:
    # Ctrl-C in the callbacks of epoch 3 of a call running epochs 3 and 4 saved
    # epoch 4 as done: on resuming no callback was ever told of epoch 4 (nor of
    # the rest of 3), so a TensorBoard log lacked them for good.
    first = Told(stop_at)
    with pytest.raises(SystemExit):
        run(6, [first], checkpoint=tmp_path, epochs_per_call=per_call)
    assert load_checkpoint(tmp_path, LEARNER.init(MODEL)).epoch == saved
    # It names the epoch Ctrl-C came in, not the last one the call ran
    # ('interrupted after 4 of 6 epochs' for Ctrl-C in epoch 3).
    err = capsys.readouterr().err
    assert f"interrupted after {stop_at} of 6 epochs" in err
    assert f"holds epoch {saved}:" in err
    second = Told()
    resumed = run(6, [second], checkpoint=tmp_path, epochs_per_call=per_call)
    # Every epoch is told once, but the one Ctrl-C came in when it was saved.
    told = [e for e in range(1, 7) if e != stop_at or saved < stop_at]
    assert first.told + second.told == told
    assert second.told[0] == saved + 1
    assert resumed.history == run(6, [], epochs_per_call=per_call).history
