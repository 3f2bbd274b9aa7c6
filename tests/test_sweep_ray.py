"""`gdw sweep --backend ray`: the same results as the local backend on a real local Ray (2 CPUs),
failed runs, Ctrl-C and resuming with the other backend, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import start_local_ray

from gdw import load_run
from gdw.cli import build_parser, main, sweep_spec_from_args
from gdw.cli.progress import SweepProgressBar
from gdw.sweeps.ray_backend import RayBackend
from gdw.sweeps.results import load_sweep
from gdw.sweeps.running import SweepSink, run_sweep

TINY = "--methods erm,gdw --noise flip --noise-rates 0.2,0.4 --seeds 1 --epochs 2".split() + [
    "--train-subset",
    "200",
]
RAY = ["--backend", "ray"]

# Installed in every worker by Ray's worker_process_setup_hook. The run of seed 5 of GDW at 40%
# raises inside its Ray task, as a bug in the trainer would. A run of seed 6 or 7 holds after its
# first checkpoint until its task is cancelled (at most HOLD_SECONDS), so a test can interrupt a
# sweep whose runs are all mid-way, whatever the machine's speed. No other test uses seeds 5-7.
FAULTS = """
import time

import gdw.training.trainer
from gdw.sink import TrainingSink

_real_run = gdw.training.trainer.run
HOLD_SECONDS = 120


class _HoldAfterFirstCheckpoint(TrainingSink):
    def on_step(self, epoch, step, steps):
        if epoch == 2 and step == 1:  # epoch 1's checkpoint is on disk
            deadline = time.monotonic() + HOLD_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.05)  # short sleeps: the cancel's KeyboardInterrupt lands between them


def _run(config, **kwargs):
    if config.name == "gdw-flip-0.4-imb1-seed5":
        raise RuntimeError("boom in a worker")
    if config.data.seed in (6, 7):
        kwargs["sinks"] = [*kwargs.get("sinks", ()), _HoldAfterFirstCheckpoint()]
    return _real_run(config, **kwargs)


def install():
    gdw.training.trainer.run = _run
"""


def without_seconds(path: Path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns=["seconds"])


def same_runs(first: Path, second: Path) -> None:
    """The two sweep folders hold the same results.csv rows and the same epochs of every run."""
    pd.testing.assert_frame_equal(
        without_seconds(first / "results.csv"), without_seconds(second / "results.csv")
    )
    for name in pd.read_csv(first / "results.csv")["run"]:
        pd.testing.assert_frame_equal(
            without_seconds(first / "runs" / name / "metrics.csv"),
            without_seconds(second / "runs" / name / "metrics.csv"),
        )


def test_gdw_imports_without_ray(tmp_path):
    code = (
        "import sys; import gdw, gdw.cli, gdw.sweeps.ray_backend; assert 'ray' not in sys.modules; "
        "sys.modules['ray'] = None; sys.exit(gdw.cli.main(sys.argv[1:]))"
    )
    argv = ["sweep", "--backend", "ray", "--out", str(tmp_path / "sweep")]
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1 and "--backend ray needs Ray" in err and "[ray]" in err


BAD_FLAGS = {
    "unknown backend": ("--backend dask", "--backend 'dask' is not one of: local, ray"),
    "ray flag without ray": ("--cpus-per-run 2", "--cpus-per-run needs --backend ray"),
    "zero cpus": ("--backend ray --cpus-per-run 0", "--cpus-per-run must be > 0"),
    "gpus 1.5": ("--backend ray --gpus-per-run 1.5", "--gpus-per-run must be a fraction"),
    "cuda without gpus": ("--backend ray --device cuda", "needs --gpus-per-run"),
    "not an address": ("--backend ray --ray-address nowhere", "is not HOST:PORT"),
    "unreachable": ("--backend ray --ray-address 127.0.0.1:1", "cannot reach a Ray cluster"),
}


@pytest.mark.parametrize("flags, message", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_backend_flags_exit_2_with_one_line(tmp_path, capsys, flags, message):
    out = tmp_path / "sweep"
    assert main(["sweep", *TINY, *flags.split(), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("gdw: error: ") and message in err
    assert not out.exists()


def test_a_failed_join_suggests_the_token_ray_start_requires(monkeypatch):
    from gdw.sweeps.ray_backend import _auth_hint

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    assert "RAY_AUTH_MODE=token" in _auth_hint("10.0.0.5:6379")
    assert _auth_hint(None) == ""  # a Ray started here needs no token from the user
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert _auth_hint("10.0.0.5:6379") == ""


def test_a_ray_started_here_has_its_workers_compete_fairly(monkeypatch):
    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    assert RayBackend()._local_system_config() == {"_system_config": {"worker_niceness": 0}}
    assert RayBackend(address="10.0.0.5:6379")._local_system_config() == {}  # the operator's
    monkeypatch.setenv("RAY_worker_niceness", "15")
    assert RayBackend()._local_system_config() == {}  # Ray's own variable is respected


WORKER_NICENESS = """
import os, ray
from gdw.sweeps.ray_backend import RayBackend
with RayBackend():
    print(ray.get(ray.remote(num_cpus=1)(lambda: os.nice(0)).remote()))
"""


def test_the_workers_of_a_local_ray_run_at_the_drivers_niceness():
    """Ray's default would add 15: any other process on the machine then starves the runs."""
    pytest.importorskip("ray")
    env = {k: v for k, v in os.environ.items() if k != "RAY_worker_niceness"}
    done = subprocess.run(
        [sys.executable, "-c", WORKER_NICENESS],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) == os.nice(0)


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A real Ray on this machine with 2 CPUs, its workers given gdw and the fault above, at the
    niceness a sweep gives them: at Ray's default of 15 any other training on the machine starved
    them (a run's worker took minutes to start beside another sweep, and the test timed out)."""
    ray = pytest.importorskip("ray")
    hooks = tmp_path_factory.mktemp("hooks") / "sweep_faults"
    hooks.mkdir()
    (hooks / "__init__.py").write_text(FAULTS)
    env = dict(RayBackend.runtime_env)
    env["py_modules"] = [*env["py_modules"], str(hooks)]
    env["worker_process_setup_hook"] = "sweep_faults.install"
    # Started as from a background job (nohup, &, some CI runners), whose processes ignore
    # SIGINT: a run's cancel must get through all the same (gdw.sweeps.ray_worker).
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        start_local_ray(ray, env)
    finally:
        signal.signal(signal.SIGINT, ignored)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "sweep"
    assert main(["sweep", *TINY, "--out", str(out)]) == 0
    return out


def test_ray_writes_the_same_results_as_the_local_backend(local_ray, local_sweep, tmp_path):
    out = tmp_path / "ray"
    assert main(["sweep", *TINY, *RAY, "--out", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 4 and set(results["state"]) == {"completed"}
    same_runs(local_sweep, out)
    summary, local = ((path / "summary.md").read_text().splitlines() for path in (out, local_sweep))
    assert "4 of 4 runs finished." in summary
    numbers = [line for line in summary if not line.startswith(("Command:", "Mean seconds"))]
    assert numbers == [line for line in local if not line.startswith(("Command:", "Mean seconds"))]
    assert not list(out.glob(".ray-probe-*"))  # the write check cleans up after itself


def test_a_run_that_raises_is_failed_and_the_others_finish(local_ray, tmp_path, capsys):
    out = tmp_path / "ray"
    assert main(["sweep", *TINY, "--seed", "5", *RAY, "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("gdw: error: 1 of 4 runs failed") and "boom in a worker" in err
    results = pd.read_csv(out / "results.csv")
    failed = results[results["state"] == "failed"]
    assert list(failed["run"]) == ["gdw-flip-0.4-imb1-seed5"]
    assert failed["error"].iloc[0] == "RuntimeError: boom in a worker"
    assert failed["final_acc"].isna().all()
    assert (results["state"] == "completed").sum() == 3
    assert (
        "`gdw-flip-0.4-imb1-seed5`: RuntimeError: boom in a worker"
        in (out / "summary.md").read_text()
    )
    sweep = load_sweep(out)
    assert len(sweep.results) == 3 and list(sweep.failed) == ["gdw-flip-0.4-imb1-seed5"]
    assert sweep.running == ()


def test_ctrl_c_cancels_the_ray_runs_and_the_local_backend_resumes(
    local_ray, tmp_path, monkeypatch, capsys
):
    flags = "--methods gdw --noise flip --noise-rates 0.4 --seeds 2 --seed 6 --epochs 3".split()
    out = tmp_path / "ray"
    names = ("gdw-flip-0.4-imb1-seed6", "gdw-flip-0.4-imb1-seed7")

    def interrupt_once_every_run_has_a_checkpoint(self, number, planned, name):
        # Both runs hold after their first checkpoint (FAULTS) until they are cancelled.
        checkpoints = [out / "runs" / name / "checkpoint.pt" for name in names]
        deadline = time.monotonic() + 100
        while not all(map(Path.exists, checkpoints)) and time.monotonic() < deadline:
            time.sleep(0.1)
        raise KeyboardInterrupt

    monkeypatch.setattr(SweepProgressBar, "on_run_start", interrupt_once_every_run_has_a_checkpoint)
    assert main(["sweep", *flags, *RAY, "--out", str(out)]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("gdw: error: stopped;")
    held = [load_run(out / "runs" / name) for name in names]
    assert [(run.state, run.epochs_done) for run in held] == [("stopped", 1)] * 2  # not "running"
    monkeypatch.undo()
    assert main(["sweep", *flags, "--out", str(out)]) == 0
    assert not (out / "unfinished").exists()  # the stopped runs were continued, not set aside
    results = pd.read_csv(out / "results.csv")
    assert sorted(results["run"]) == list(names) and set(results["state"]) == {"completed"}
    assert [load_run(out / "runs" / name).epochs_done for name in names] == [3, 3]


def test_a_stopped_local_sweep_resumes_on_ray(local_ray, local_sweep, tmp_path):
    spec, _ = sweep_spec_from_args(build_parser().parse_args(["sweep", *TINY]))
    stop = threading.Event()

    class StopInSecondRun(SweepSink):
        def on_run_start(self, number, planned, name):
            if number == 2:
                stop.set()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the command line does (--threads 1)
    try:
        outcome = run_sweep(spec, tmp_path, stop_event=stop, sinks=[StopInSecondRun()])
    finally:
        torch.set_num_threads(threads)
    assert outcome.stopped and outcome.finished == 1
    with RayBackend() as backend:
        outcome = run_sweep(spec, tmp_path, backend=backend)
    # The second run stopped before its first checkpoint: it starts over in its folder.
    assert outcome.finished == 4 and outcome.ran == 3 and len(outcome.resumed) == 1
    assert outcome.moved_aside == ()
    same_runs(local_sweep, tmp_path)


def test_resources_no_node_has_exit_2(local_ray, tmp_path, capsys):
    for flags, message in (
        (["--gpus-per-run", "1"], "can give a run 1 CPUs and 1 GPUs (its nodes: 2 CPUs, 0 GPUs)"),
        (["--cpus-per-run", "3"], "can give a run 3 CPUs and 0 GPUs"),
    ):
        out = tmp_path / "sweep"
        assert main(["sweep", *TINY, *RAY, *flags, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err and "--gpus-per-run" in err
        assert not out.exists()


def _task_pids() -> list[int]:
    """Processes that run one of our Ray tasks (Ray names them ``ray::run_task``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ray::run_task" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker through /proc")
def test_a_killed_worker_is_retried_and_its_folder_set_aside(local_ray, tmp_path):
    flags = "--methods gdw --noise flip --noise-rates 0.4 --seeds 1 --epochs 100".split()
    spec, _ = sweep_spec_from_args(build_parser().parse_args(["sweep", *flags]))
    status = tmp_path / "runs" / "gdw-flip-0.4-imb1-seed0" / "status.json"
    killed: list[int] = []

    def kill_the_worker_after_an_epoch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if status.exists() and load_run(status.parent).epochs_done >= 1:
                for pid in _task_pids():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_the_worker_after_an_epoch, daemon=True)
    killer.start()
    with RayBackend() as backend:
        outcome = run_sweep(spec, tmp_path, backend=backend)
    killer.join(5)
    assert killed and outcome.finished == 1 and not outcome.failed
    assert outcome.moved_aside == ("gdw-flip-0.4-imb1-seed0",)
    aside = load_run(tmp_path / "unfinished" / "gdw-flip-0.4-imb1-seed0")
    assert aside.state == "running" and 1 <= aside.epochs_done < 100
    assert load_run(status.parent).epochs_done == 100
