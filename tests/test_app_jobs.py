"""The job manager (app/server/job_manager.py): queues per device, stop and cancel, failures
before start.

A fake ``start`` stands in for the trainer so these tests are about scheduling only; the app
tests drive real runs.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.server.job_manager import JobManager, comparison_configs
from gdw.config import ConfigError, RunConfig

ROOT = Path(__file__).resolve().parents[1]

_NUMBERS = itertools.count()


class FakeHandle:
    """Trains "epochs" of ``seconds`` each in a thread; makes its folder after ``delay``."""

    def __init__(
        self,
        config: RunConfig,
        runs_dir: Path,
        log: list,
        *,
        seconds: float,
        fail: str | None = None,
    ) -> None:
        self.config, self._log, self.error = config, log, None
        self._stop = threading.Event()
        self._dir: Path | None = None
        self._thread = threading.Thread(target=self._main, args=(runs_dir, seconds, fail))
        self._thread.start()

    @property
    def run_dir(self) -> Path | None:
        return self._dir

    def _main(self, runs_dir: Path, seconds: float, fail: str | None) -> None:
        time.sleep(0.02)
        if fail:
            self.error = fail
            return
        self._dir = runs_dir / f"run-{self.config.method}-{next(_NUMBERS)}"
        self._dir.mkdir(parents=True)
        self._log.append(("start", self.config.method, self.config.device, time.monotonic()))
        self._stop.wait(seconds)
        self._log.append(
            ("end", self.config.method, self.config.device, time.monotonic(), self._stop.is_set())
        )

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


@pytest.fixture
def make_manager(tmp_path: Path):
    managers = []

    def make(seconds: float = 0.3, *, fail: str | None = None, devices=("cpu",)):
        log: list = []

        def start(config: RunConfig, *, runs_dir: Path) -> FakeHandle:
            if config.name == "refused":
                raise ConfigError("run name refused at start")
            return FakeHandle(config, runs_dir, log, seconds=seconds, fail=fail)

        manager = JobManager(
            tmp_path / "runs", start=start, devices=lambda: list(devices), poll=0.02
        )
        managers.append(manager)
        return manager, log

    yield make
    for manager in managers:
        assert manager.shutdown(timeout=5)


def _wait_for(condition, seconds: float = 30.0) -> None:
    """Waits until ``condition()`` holds (the worker threads may be slow on a busy machine)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_one_job_per_device_at_a_time_in_submission_order(make_manager) -> None:
    manager, log = make_manager(30.0)
    jobs = manager.submit_comparison(RunConfig())
    assert [job.config.method for job in jobs] == ["gdw", "mwnet", "erm"]
    # The worker may already have taken the first job; the others queue behind it in order.
    assert jobs[2].queue_position == jobs[1].queue_position + 1
    _wait_for(lambda: manager.job(jobs[0].job_id).state == "running")
    states = {job.job_id: job for job in manager.jobs()}
    assert states[jobs[0].job_id].state == "running"  # it trains until stopped, below
    assert [states[j.job_id].queue_position for j in jobs[1:]] == [1, 2]
    for job in jobs:  # each in turn: the next starts only once the one before has ended
        _wait_for(lambda job=job: manager.job(job.job_id).state == "running")
        assert manager.stop(job.job_id)
    assert manager.wait_idle(10)
    starts = [entry for entry in log if entry[0] == "start"]
    ends = [entry for entry in log if entry[0] == "end"]
    assert [entry[1] for entry in starts] == ["gdw", "mwnet", "erm"]
    for end, next_start in zip(ends, starts[1:], strict=False):
        assert next_start[3] >= end[3]  # never two at once on the CPU
    finished = manager.jobs()
    assert {job.state for job in finished} == {"finished"}
    assert all(job.run_id for job in finished)
    assert len({job.group for job in finished}) == 1


def test_devices_have_separate_queues(make_manager) -> None:
    manager, log = make_manager(30.0, devices=("cuda", "cpu"))
    jobs = [manager.submit(RunConfig()), manager.submit(RunConfig(device="cpu"))]  # auto: cuda
    _wait_for(lambda: all(manager.job(job.job_id).state == "running" for job in jobs))
    assert sorted(job.device for job in manager.jobs() if job.state == "running") == ["cpu", "cuda"]
    assert all(manager.stop(job.job_id) for job in jobs)
    assert manager.wait_idle(10)


def test_stop_a_running_job_and_cancel_a_queued_one(make_manager) -> None:
    manager, log = make_manager(30.0)
    first, second = manager.submit(RunConfig()), manager.submit(RunConfig(method="erm"))
    _wait_for(lambda: manager.job(first.job_id).run_id is not None)
    run_id = manager.job(first.job_id).run_id
    assert manager.job_for_run(run_id).job_id == first.job_id
    assert manager.stop(second.job_id)  # queued: cancelled, never starts
    assert manager.job(second.job_id).state == "cancelled"
    assert manager.stop(first.job_id)
    assert manager.wait_idle(5)
    assert manager.job(first.job_id).state == "finished"
    assert [entry[1] for entry in log if entry[0] == "start"] == ["gdw"]
    assert log[-1][-1] is True  # the run saw the stop request
    assert not manager.stop(first.job_id)  # nothing left to stop
    assert manager.job_for_run(run_id) is None


def test_failures_before_a_run_folder_keep_their_message(make_manager) -> None:
    manager, _ = make_manager(fail="no mnist files in data/MNIST/raw")
    job = manager.submit(RunConfig())
    refused = manager.submit(RunConfig(name="refused"))
    assert manager.wait_idle(5)
    assert manager.job(job.job_id).state == "failed"
    assert "no mnist files" in manager.job(job.job_id).error
    assert manager.job(refused.job_id).error == "run name refused at start"


def test_a_resume_job_hands_its_run_and_new_total_to_start(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "done"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"config": RunConfig(epochs=2).to_dict()}))
    calls = []

    def start(config: RunConfig, *, runs_dir: Path, resume: Path, epochs: int | None):
        calls.append((resume, epochs))
        return FakeHandle(config, runs_dir, [], seconds=0.01)

    manager = JobManager(tmp_path / "runs", start=start, devices=lambda: ["cpu"], poll=0.02)
    try:
        longer = manager.submit_resume("done", epochs=5)
        again = manager.submit_resume("done")
        assert (longer.resume, longer.epochs, again.epochs) == (True, 5, None)
        assert manager.wait_idle(10)
    finally:
        assert manager.shutdown(timeout=5)
    assert calls == [(folder, 5), (folder, None)]


def test_comparison_configs_share_data_and_seed() -> None:
    config = RunConfig(method="erm", epochs=3)
    runs = comparison_configs(config)
    assert [c.method for c in runs] == ["gdw", "mwnet", "erm"]
    assert all(c.data == config.data and c.epochs == 3 for c in runs)


def test_shutdown_refuses_new_jobs(make_manager) -> None:
    manager, _ = make_manager()
    assert manager.shutdown(timeout=5)
    with pytest.raises(RuntimeError, match="shut down"):
        manager.submit(RunConfig())


def test_server_exit_stops_its_runs_cleanly(tmp_path: Path) -> None:
    """The app's job manager stops its runs when the process exits: the run ends "stopped"."""
    runs = tmp_path / "runs"
    script = """
import time
from app.server.runs_folder import job_manager
from gdw.config import DataConfig, RunConfig
manager = job_manager()
manager.submit(RunConfig(data=DataConfig(train_subset=300), epochs=100000))
while not any(job.run_id for job in manager.jobs()):
    time.sleep(0.05)
time.sleep(0.5)  # mid-training, then the interpreter exits
"""
    done = subprocess.run(
        [sys.executable, "-c", script, "--runs-dir", str(runs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = runs.iterdir()
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "stopped"
    assert status["epoch"] < 100000
