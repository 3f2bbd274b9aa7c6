"""Out of GPU memory, on the CPU: the error is raised where a run copies its data to the device
(patched in), and the run says in one line what to do, on the command line and in its status.
And what a run cached on the GPU is given back once it has ended, with none of its tensors left,
in the dashboard's training threads and in a sweep's runs (the release is watched, patched in)."""

from __future__ import annotations

import json
import weakref

import pytest
import torch

import gdw.training.trainer
from gdw import DataConfig, RunConfig, TrainingSink, load_run, start
from gdw.cli import main
from gdw.sweeps.running import run_one
from gdw.training.failures import OUT_OF_GPU_MEMORY
from gdw.training.stepper import Stepper

TINY = RunConfig(data=DataConfig(train_subset=100), epochs=2, name="tiny")


def out_of_memory(*args, **kwargs):
    raise torch.OutOfMemoryError(
        "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.79 GiB "
        "of which 1.06 GiB is free."
    )


def test_the_command_line_and_the_run_say_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gdw.training.trainer, "Stepper", out_of_memory)
    argv = ["train", "--train-subset", "100", "--runs-dir", str(tmp_path), "--name", "big"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines()[-1] == f"gdw: error: {OUT_OF_GPU_MEMORY}"
    assert "Traceback" not in err and "CUDA out of memory" not in err
    status = json.loads((tmp_path / "big" / "status.json").read_text())
    assert (status["state"], status["error"]) == ("failed", OUT_OF_GPU_MEMORY)


class RaiseInEpochTwo(TrainingSink):
    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if epoch == 2:
            raise RuntimeError("boom in a step")


@pytest.fixture
def releases(monkeypatch):
    """Each release of the GPU cache, as whether every stepper made so far (what holds
    a run's data on its device) was gone by then. CUDA counts as in use."""
    steppers: list[weakref.ref] = []
    seen: list[bool] = []

    class WatchedStepper(Stepper):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            steppers.append(weakref.ref(self))

    monkeypatch.setattr(gdw.training.trainer, "Stepper", WatchedStepper)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(
        torch.cuda, "empty_cache", lambda: seen.append(all(r() is None for r in steppers))
    )
    return seen


@pytest.mark.parametrize("ending", ["completed", "failed"])
def test_a_dashboard_run_gives_back_what_it_cached_once_it_has_ended(tmp_path, releases, ending):
    sinks = [RaiseInEpochTwo()] if ending == "failed" else []
    handle = start(TINY, runs_dir=tmp_path, sinks=sinks)
    assert handle.join(timeout=120)
    assert load_run(tmp_path / "tiny").state == ending
    assert releases == [True]


def test_a_sweeps_run_gives_back_what_it_cached_once_it_has_ended(tmp_path, releases):
    event = run_one(tmp_path, TINY.replace(name="in-a-sweep"))
    assert event.state == "completed" and releases == [True]
