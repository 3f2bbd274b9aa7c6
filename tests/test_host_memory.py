"""Freed activation memory stays in the process: a training thread's steps do not page-fault."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A fresh interpreter, so that no thread exists before the tuning (as in `gdw train` and the
# dashboard's job threads): a small-CNN GDW step in a training thread, page faults per step.
STEPS = """
import json, os, resource, sys, threading
import torch
from gdw.training.bench import synthetic_dataset
from gdw.host_memory import retain_freed_memory
from gdw.training.stepper import Stepper
from gdw.training.session import build_method, build_model
from gdw.config import RunConfig
from gdw.weighting.weight_net import WeightNet

if sys.argv[1] == "tuned":
    assert retain_freed_memory()
torch.manual_seed(0)
data = synthetic_dataset((1, 28, 28), n_train=1200, n_meta=100, n_classes=10, seed=0)
model = build_model("cnn", image_shape=(1, 28, 28), n_classes=10).train()
method = build_method(RunConfig(method="gdw"), model, WeightNet(), n_classes=10)
stepper = Stepper(method, data, batch_size=100,
                  device=torch.device("cpu"), order_seed=0, augment_seed=0)
stepper.begin_epoch()
faults = []

def train():
    for step in range(1, 13):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        stepper.step(step)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

thread = threading.Thread(target=train)
thread.start()
thread.join()
print(json.dumps(faults))
"""


def _faults_per_step(mode: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", STEPS, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_gdw_steps_in_a_training_thread_stop_faulting_pages_back_in() -> None:
    faults = _faults_per_step("tuned")
    # The first steps grow the heap. After them, with glibc's defaults, every step here faulted
    # 11,000 to 46,000 pages back in (about 200,000 over these eight); tuned, a few thousand.
    assert sum(faults[4:]) < 30_000, faults


def test_only_the_entry_points_retune_the_process_and_it_can_be_turned_off(
    tmp_path, monkeypatch
) -> None:
    import gdw.host_memory
    from gdw import DataConfig, RunConfig, run
    from gdw.cli import main

    calls: list[str] = []
    monkeypatch.setattr(gdw.host_memory, "retain_freed_memory", lambda: calls.append("tuned"))
    run(RunConfig(data=DataConfig(train_subset=120), method="erm", epochs=1), runs_dir=tmp_path)
    assert calls == []  # the library alone leaves the process as it is
    assert main(["describe", "--train-subset", "120"]) == 0
    assert calls == ["tuned"]
    monkeypatch.setenv("GDW_RETAIN_FREED_MEMORY", "0")
    assert main(["describe", "--train-subset", "120"]) == 0
    assert calls == ["tuned"]
