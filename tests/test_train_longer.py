"""Training a run on to more epochs: ``resume(run_dir, epochs=N)`` and ``gdw train --resume RUN
--epochs N``.

The run goes on in its folder: ``metrics.csv`` and the per-epoch arrays continue, the epochs
done stay as they were byte for byte, ``config.json`` records the new total and the change, the
learning rate's cosine is recomputed over the new total, the warm-up and the recorded examples
stay the run's own; what cannot be done is refused in one line, and an extension that fails
midway leaves a run that resumes.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import gdw.runs.recording
import gdw.runs.writer
from gdw import ConfigError, DataConfig, RunConfig, TrainingSink, load_run, run
from gdw.cli import main
from gdw.runs.files import RunWriteError, array_file
from gdw.training.checkpoint import CHECKPOINT
from gdw.training.trainer import resume

NOISY = DataConfig(noise="uniform", noise_rate=0.4, train_subset=300, seed=2)
LR = RunConfig().lr


class StopAt(TrainingSink):
    """Sets ``event`` at the first step of epoch ``epoch``."""

    def __init__(self, epoch: int, event: threading.Event) -> None:
        self.epoch, self.event = epoch, event

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if epoch == self.epoch:
            self.event.set()


def cosine(epoch: int, total: int) -> float:
    """The learning rate of epoch ``epoch`` (1-based) of a cosine schedule over ``total``."""
    return LR * (1 + math.cos(math.pi * (epoch - 1) / total)) / 2


def epoch_rows(folder: Path, epochs: int) -> dict[str, bytes]:
    """The bytes of the first ``epochs`` rows of every per-epoch array of the run."""
    return {
        name: np.load(folder / array_file(name), mmap_mode="r")[:epochs].tobytes()
        for name in load_run(folder).arrays
    }


def config_record(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def test_a_completed_run_trains_on_to_more_epochs_in_its_folder(tmp_path):
    done = run(RunConfig(data=NOISY, epochs=2, name="done"), runs_dir=tmp_path)
    assert (done / CHECKPOINT).exists()  # a completed run keeps its last checkpoint
    metrics = (done / "metrics.csv").read_bytes()
    rows = epoch_rows(done, 2)

    assert resume(done, epochs=3) == done
    longer = load_run(done)
    assert (longer.state, longer.epochs_done, longer.summary["epochs_done"]) == ("completed", 3, 3)
    text = (done / "metrics.csv").read_bytes()
    assert text.startswith(metrics) and len(text.splitlines()) == 4
    assert epoch_rows(done, 2) == rows  # the epochs done, byte for byte
    for name in longer.arrays:
        assert np.load(done / array_file(name)).shape[0] == 3
    assert np.isfinite(longer.weights(3)).all() and longer.weights(3).any()
    record = config_record(done)
    assert record["config"]["epochs"] == record["resolved"]["epochs"] == 3
    assert record["per_epoch"]["epochs"] == longer.planned_epochs == 3
    assert record["epochs_changed"] == [{"after_epoch": 2, "from": 2, "to": 3}]
    assert [p.name for p in tmp_path.iterdir()] == ["done"]  # no other folder, nothing staged
    # The cosine is recomputed over 3 epochs from epoch 3 on; the old one had reached zero.
    assert longer.metrics["lr"].tolist() == pytest.approx([LR, cosine(2, 2), cosine(3, 3)])

    resume(done, epochs=4)  # and again
    again = load_run(done)
    assert again.epochs_done == 4 and again.metrics["lr"].iloc[3] == pytest.approx(cosine(4, 4))
    assert again.epoch_changes == (
        {"after_epoch": 2, "from": 2, "to": 3},
        {"after_epoch": 3, "from": 3, "to": 4},
    )


def test_training_on_keeps_the_warm_up_and_the_recorded_examples(tmp_path, monkeypatch):
    """A default warm-up is a tenth of the epochs: it must not grow with them (epoch 2 of 20
    would then be plain). The recorded examples, chosen within a budget per epoch, must stay
    those of the run's start (fewer would fit 20 epochs)."""
    budget = 2_000
    monkeypatch.setattr(gdw.runs.recording, "RECORD_BUDGET", budget)
    short = run(RunConfig(data=NOISY, epochs=1, name="short"), runs_dir=tmp_path)
    recorded = load_run(short).instances["index"].to_numpy()
    assert budget // (10 * 20) < len(recorded) < 300
    stop = threading.Event()
    resume(short, epochs=20, stop_event=stop, sinks=[StopAt(3, stop)])
    longer = load_run(short)
    assert (longer.state, longer.epochs_done) == ("stopped", 2)
    assert np.array_equal(longer.instances["index"].to_numpy(), recorded)
    record = config_record(short)
    assert record["config"]["warmup_epochs"] == record["resolved"]["warmup_epochs"] == 0
    assert longer.warmup_epochs == 0
    assert not np.allclose(longer.instance_weights(2), 1.0)  # GDW weighted epoch 2


def test_a_stopped_run_goes_on_to_another_total_than_planned(tmp_path):
    stop = threading.Event()
    config = RunConfig(data=NOISY, epochs=4, name="stopped")
    stopped = run(config, runs_dir=tmp_path, stop_event=stop, sinks=[StopAt(2, stop)])
    assert load_run(stopped).epochs_done == 1
    resume(stopped, epochs=3)
    shorter = load_run(stopped)
    assert (shorter.state, shorter.epochs_done, shorter.planned_epochs) == ("completed", 3, 3)
    assert shorter.epoch_changes == ({"after_epoch": 1, "from": 4, "to": 3},)
    assert np.load(stopped / "weights.npy").shape[0] == 3
    lrs = [cosine(1, 4), cosine(2, 3), cosine(3, 3)]  # epoch 1 on the old schedule
    assert shorter.metrics["lr"].tolist() == pytest.approx(lrs)


class TryTrainingOn(TrainingSink):
    """Tries to train the run on while it is running, at its first step."""

    def __init__(self) -> None:
        self.refusal: str | None = None

    def on_start(self, run_dir: Path, plan: dict) -> None:
        self.run_dir = run_dir

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if self.refusal is None:
            with pytest.raises(ConfigError) as refused:
                resume(self.run_dir, epochs=5)
            self.refusal = str(refused.value)


def test_what_cannot_be_trained_on_is_refused_in_one_line(tmp_path, capsys):
    trying = TryTrainingOn()
    done = run(RunConfig(data=NOISY, epochs=2, name="done"), runs_dir=tmp_path, sinks=[trying])
    assert trying.refusal == (
        "cannot resume done: it is running; only a stopped, failed, interrupted or completed "
        "run can be trained on"
    )
    files = {path.name: path.read_bytes() for path in done.iterdir()}
    for epochs in (2, 1, 0):
        with pytest.raises(ConfigError) as refused:
            resume(done, epochs=epochs)
        assert str(refused.value) == (
            f"cannot train done on to {epochs} epochs: it has done 2; give a total of more than 2"
        )
    with pytest.raises(ConfigError, match="it is completed; only a stopped, failed or"):
        resume(done)  # without a new total
    assert main(["train", "--resume", str(done), "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "gdw: error: cannot train done on to 2 epochs: it has done 2; give a total of more than 2\n"
    )
    assert {path.name: path.read_bytes() for path in done.iterdir()} == files  # untouched
    bare = shutil.copytree(done, tmp_path / "bare")
    (bare / CHECKPOINT).unlink()
    with pytest.raises(ConfigError, match="^cannot resume bare: its checkpoint.pt is missing$"):
        resume(bare, epochs=3)


def test_an_extension_that_fails_midway_keeps_the_run_and_resumes(tmp_path, monkeypatch):
    """The disk fills up as the arrays grow, after config.json says 3 epochs: the run ends
    failed with its 2 epochs intact, and a plain resume trains it on to 3."""
    done = run(RunConfig(data=NOISY, epochs=2, name="done"), runs_dir=tmp_path)
    metrics, rows = (done / "metrics.csv").read_bytes(), epoch_rows(done, 2)
    resize = gdw.runs.writer.resize_npy_rows
    full = []

    def full_disk(path: Path, epochs: int) -> None:
        if epochs == 3 and not full:
            full.append(path)
            raise RunWriteError(path, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        resize(path, epochs)

    monkeypatch.setattr(gdw.runs.writer, "resize_npy_rows", full_disk)
    with pytest.raises(RunWriteError, match="No space left on device"):
        resume(done, epochs=3)
    failed = load_run(done)
    assert (failed.state, failed.epochs_done) == ("failed", 2)
    assert "No space left" in failed.status["error"] and failed.planned_epochs == 3
    assert (done / "metrics.csv").read_bytes() == metrics and epoch_rows(done, 2) == rows
    monkeypatch.setattr(gdw.runs.writer, "resize_npy_rows", resize)

    resume(done)  # the disk has room again
    longer = load_run(done)
    assert (longer.state, longer.epochs_done) == ("completed", 3)
    assert epoch_rows(done, 2) == rows
    assert longer.epoch_changes == ({"after_epoch": 2, "from": 2, "to": 3},)
    assert longer.metrics["lr"].iloc[2] == pytest.approx(cosine(3, 3))


def test_gdw_train_resume_with_epochs_on_the_command_line(tmp_path, capsys):
    assert main(["train", "--help"]) == 0
    assert "with --epochs E, train it (a completed one too) on to E epochs in all" in " ".join(
        capsys.readouterr().out.split()
    )
    tiny = ["--train-subset", "300", "--epochs", "2", "--noise", "flip", "--noise-rate", "0.3"]
    assert main(["train", *tiny, "--runs-dir", str(tmp_path), "--name", "cli"]) == 0
    folder = tmp_path / "cli"
    capsys.readouterr()
    assert main(["train", "--resume", str(folder), "--epochs", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(folder)
    longer = load_run(folder)
    assert (longer.state, longer.epochs_done, longer.planned_epochs) == ("completed", 3, 3)
    assert main(["train", "--resume", str(folder), "--epochs", "three"]) == 2
    assert "invalid int value: 'three'" in capsys.readouterr().err
    assert load_run(folder).epochs_done == 3
