"""Checkpoints and resuming, dead processes and failed writes.

A resumed run must end exactly as the same run trained without a break (on the CPU, every
metric but the times, and every weight); a run whose process was killed reads as
``interrupted`` at once; a write that fails ends the run ``failed`` with the file and the cause
named, and its finished epochs readable.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import gdw.runs.files
from gdw import (
    ConfigError,
    DataConfig,
    RunConfig,
    TrainingSink,
    available_devices,
    live_state,
    load_run,
    run,
)
from gdw.cli import main
from gdw.training.checkpoint import CHECKPOINT, save_checkpoint
from gdw.training.trainer import resume

ROOT = Path(__file__).resolve().parents[1]
NOISY = DataConfig(noise="uniform", noise_rate=0.4, train_subset=300, seed=2)
TIMES = ("seconds",)


class StopAfter(TrainingSink):
    """Sets ``event`` at step ``step`` of epoch ``epoch``."""

    def __init__(self, epoch: int, step: int, event: threading.Event) -> None:
        self.at, self.event = (epoch, step), event

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if (epoch, step) == self.at:
            self.event.set()


def assert_same_run(resumed: Path, uninterrupted: Path) -> None:
    """Every metric but the times and every per-epoch array are equal, bit for bit."""
    a, b = load_run(resumed), load_run(uninterrupted)
    assert a.state == b.state == "completed" and a.epochs_done == b.epochs_done
    columns = [c for c in b.metrics.columns if c not in TIMES]
    pd.testing.assert_frame_equal(a.metrics[columns], b.metrics[columns], check_exact=True)
    assert set(a.arrays) == set(b.arrays)
    for name in b.arrays:
        file = gdw.runs.files.array_file(name)
        assert np.array_equal(np.load(a.path / file), np.load(b.path / file))
    keys = ("final_test_acc", "best_test_acc", "best_epoch", "last5_test_acc", "epochs_done")
    assert {k: a.summary[k] for k in keys} == {k: b.summary[k] for k in keys}


@pytest.mark.parametrize(
    ("method", "data", "epochs", "stop_at"),
    [
        ("gdw", NOISY, 4, (3, 2)),
        ("mwnet", NOISY, 3, (2, 1)),
        ("erm", NOISY, 3, (1, 2)),
    ],
    ids=["gdw", "mwnet", "erm"],
)
def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, method, data, epochs, stop_at):
    config = RunConfig(method=method, data=data, epochs=epochs)
    whole = run(config.replace(name="whole"), runs_dir=tmp_path)
    stop = threading.Event()
    part = run(
        config.replace(name="part"),
        runs_dir=tmp_path,
        stop_event=stop,
        sinks=[StopAfter(*stop_at, stop)],
    )
    stopped = load_run(part)
    assert stopped.state == "stopped" and stopped.epochs_done == stop_at[0] - 1
    assert np.load(part / "weights.npy").shape[0] == stop_at[0] - 1  # cut to the finished epochs
    assert [p.name for p in part.iterdir() if p.name.startswith(".")] == []
    assert resume(part) == part
    assert_same_run(part, whole)
    assert json.loads((part / "status.json").read_text())["epoch"] == epochs


class InterruptAfterFirstEpoch(TrainingSink):
    """Ctrl-C once epoch 1 is in metrics.csv, before its checkpoint is written."""

    def on_epoch(self, metrics, arrays):
        raise KeyboardInterrupt


def test_a_run_stopped_before_its_first_checkpoint_starts_over_in_place(tmp_path):
    config = RunConfig(data=NOISY, epochs=2)
    whole = run(config.replace(name="whole"), runs_dir=tmp_path)
    stop = threading.Event()
    at_first_step = run(
        config.replace(name="first-step"),
        runs_dir=tmp_path,
        stop_event=stop,
        sinks=[StopAfter(1, 1, stop)],
    )
    with pytest.raises(KeyboardInterrupt):
        run(
            config.replace(name="first-epoch"),
            runs_dir=tmp_path,
            sinks=[InterruptAfterFirstEpoch()],
        )
    before_checkpoint = tmp_path / "first-epoch"
    for part, listed in ((at_first_step, 0), (before_checkpoint, 1)):
        stopped = load_run(part)
        assert (stopped.state, stopped.epochs_done) == ("stopped", listed)
        assert not (part / CHECKPOINT).exists()
        assert resume(part) == part
        assert_same_run(part, whole)


def test_augmentation_and_batchnorm_resume_exactly(tmp_path, torchvision_root):
    """CIFAR-shaped data: the augmentation generator and BatchNorm's running statistics."""
    data = DataConfig(
        dataset="cifar10",
        data_root=str(torchvision_root("cifar10")),
        num_meta=20,
        noise="flip",
        noise_rate=0.2,
    )
    config = RunConfig(method="gdw", data=data, model="cnn", epochs=2, batch_size=50)
    whole = run(config.replace(name="whole"), runs_dir=tmp_path)
    stop = threading.Event()
    part = run(
        config.replace(name="part"),
        runs_dir=tmp_path,
        stop_event=stop,
        sinks=[StopAfter(2, 1, stop)],
    )
    assert load_run(part).epochs_done == 1
    resume(part)
    assert_same_run(part, whole)


def _stopped_in_epoch_two(tmp_path: Path, config: RunConfig) -> Path:
    stop = threading.Event()
    part = run(config, runs_dir=tmp_path, stop_event=stop, sinks=[StopAfter(2, 1, stop)])
    assert load_run(part).state == "stopped" and load_run(part).epochs_done == 1
    return part


@pytest.mark.parametrize("kind_recorded", [True, False], ids=["kind-recorded", "older-checkpoint"])
def test_a_checkpoint_from_another_kind_of_device_resumes_reseeded(
    tmp_path, torchvision_root, kind_recorded
):
    """A CUDA generator's state (its seed and offset, 16 bytes) does not fit a CPU generator:
    the augmentation goes on from a generator seeded from the run's seed and the epoch."""
    data = DataConfig(dataset="cifar10", data_root=str(torchvision_root("cifar10")), num_meta=20)
    config = RunConfig(method="gdw", data=data, model="mlp", epochs=2, batch_size=50, name="gpu")
    part = _stopped_in_epoch_two(tmp_path, config)
    state = torch.load(part / CHECKPOINT, weights_only=True)
    state["loop"]["augment_rng"] = torch.zeros(16, dtype=torch.uint8)
    if kind_recorded:
        state["loop"]["augment_device"] = "cuda"
    else:  # written before the kind was
        state["loop"].pop("augment_device", None)
    save_checkpoint(part, state)
    again = shutil.copytree(part, tmp_path / "again")
    assert resume(part) == part and resume(again) == again
    resumed = load_run(part)
    assert resumed.state == "completed" and resumed.epochs_done == 2
    assert_same_run(part, again)  # the same checkpoint continues the same way


def test_resume_takes_the_device_given_on_the_command_line(tmp_path, capsys):
    part = _stopped_in_epoch_two(tmp_path, RunConfig(data=NOISY, epochs=2, name="made-on-a-gpu"))
    record = json.loads((part / "config.json").read_text())
    record["config"]["device"] = "cuda"  # as a run made with --device cuda says
    (part / "config.json").write_text(json.dumps(record))
    if not torch.cuda.is_available():
        assert main(["train", "--resume", str(part)]) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            "gdw: error: device 'cuda' is not available on this machine (found: "
            f"{', '.join(available_devices())}); use --device auto or cpu"
        )
        assert load_run(part).state == "stopped"
    assert main(["train", "--resume", str(part), "--device", "cpu"]) == 0
    resumed = load_run(part)
    assert resumed.state == "completed" and resumed.epochs_done == 2


def test_only_stopped_failed_or_interrupted_runs_resume(tmp_path):
    done = run(RunConfig(data=NOISY, epochs=1), runs_dir=tmp_path)
    with pytest.raises(ConfigError, match="it is completed; only a stopped, failed or"):
        resume(done)
    assert main(["train", "--resume", str(done)]) == 2
    (done / "metrics.csv").write_text("epoch,test_acc\n1,x\n")
    with pytest.raises(ConfigError, match="metrics.csv: line 2, column 'test_acc'"):
        resume(done)


# A real training process, slowed down (a pause after every step) so that it is surely killed
# in the middle of the run, however fast or loaded the machine.
SLOW_TRAINING = """
import sys, time
from gdw import DataConfig, RunConfig, TrainingSink, retain_freed_memory_unless_disabled, run

retain_freed_memory_unless_disabled()  # as `gdw train` does, and the resume below

class Pause(TrainingSink):
    def on_step(self, epoch, step, steps):
        time.sleep(0.1)

config = RunConfig(data=DataConfig(noise="flip", noise_rate=0.3, train_subset=300), epochs=8)
run(config.replace(name="victim"), runs_dir=sys.argv[1], sinks=[Pause()])
"""


def test_a_killed_training_process_is_interrupted_at_once_and_resumes(tmp_path):
    runs_dir = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", SLOW_TRAINING, str(runs_dir)], env=env)
    victim = runs_dir / "victim"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (victim / "metrics.csv").exists() and load_run(victim).epochs_done >= 2:
                break
            assert process.poll() is None, "the training process ended on its own"
            time.sleep(0.02)
        assert load_run(victim).state == "running"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed = load_run(victim)
    assert killed.status["state"] == "running"  # what the dead process last wrote
    assert killed.state == "interrupted" and 2 <= killed.epochs_done < 8
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    # The resume and the uninterrupted run in fresh processes too, as a user runs them: the
    # allocator's state of a long-lived test process can change the last digits of a result.
    cli = [sys.executable, "-m", "gdw", "train"]
    subprocess.run([*cli, "--resume", str(victim)], env=env, check=True, capture_output=True)
    whole = [
        *cli,
        "--noise",
        "flip",
        "--noise-rate",
        "0.3",
        "--train-subset",
        "300",
        "--epochs",
        "8",
        "--name",
        "whole",
        "--runs-dir",
        str(tmp_path / "other"),
    ]
    subprocess.run(whole, env=env, check=True, capture_output=True)
    assert_same_run(victim, tmp_path / "other" / "whole")


def test_the_heartbeat_decides_for_a_run_of_another_host():
    now = time.time()
    elsewhere = {"state": "running", "pid": 1, "host": "another-machine", "updated_at": now - 5}
    assert live_state(elsewhere, now=now) == "running"
    assert live_state({**elsewhere, "updated_at": now - 3600}, now=now) == "interrupted"
    assert live_state({"state": "running", "updated_at": now - 3600}, now=now) == "interrupted"
    here = {**elsewhere, "host": os.uname().nodename, "pid": os.getpid()}
    assert live_state({**here, "updated_at": now - 3600}, now=now) == "running"  # alive here
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert live_state({**here, "pid": dead.pid}, now=now) == "interrupted"
    assert live_state({**here, "state": "stopped"}, now=now) == "stopped"


def test_a_failing_write_ends_the_run_failed_and_keeps_the_finished_epochs(tmp_path, monkeypatch):
    real = gdw.runs.files._replace_file
    writes = {"metrics.csv": 0}

    def full_disk(path: Path, data: bytes) -> None:
        if path.name == "metrics.csv":
            writes["metrics.csv"] += 1
            if writes["metrics.csv"] == 2:  # the line of epoch 2
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(gdw.runs.files, "_replace_file", full_disk)
    config = RunConfig(data=NOISY, epochs=4, name="full")
    with pytest.raises(gdw.runs.files.RunWriteError, match="metrics.csv: No space left on device"):
        run(config, runs_dir=tmp_path)
    failed = load_run(tmp_path / "full")
    assert failed.state == "failed" and failed.epochs_done == 1
    assert "metrics.csv" in failed.status["error"] and "No space left" in failed.status["error"]
    assert np.load(tmp_path / "full" / "weights.npy").shape == (1, 300, 10)
    assert np.isfinite(failed.weights(1)).all()
    monkeypatch.setattr(gdw.runs.files, "_replace_file", real)
    resume(tmp_path / "full")  # the disk has room again: on from the checkpoint of epoch 1
    assert_same_run(tmp_path / "full", run(config.replace(name="whole"), runs_dir=tmp_path))


def test_one_checkpoint_per_run_replaced_after_each_epoch(tmp_path):
    seen: list[int] = []

    class Watch(TrainingSink):
        def on_step(self, epoch: int, step: int, steps: int) -> None:
            if step == 1 and epoch > 1:
                seen.append(os.stat(folder / CHECKPOINT).st_ino)

    folder = tmp_path / "watched"
    run(RunConfig(data=NOISY, epochs=3, name="watched"), runs_dir=tmp_path, sinks=[Watch()])
    assert len(set(seen)) == 2  # a new file (an atomic replace) after epochs 1 and 2
    assert [p.name for p in folder.iterdir() if "checkpoint" in p.name] == [CHECKPOINT]
