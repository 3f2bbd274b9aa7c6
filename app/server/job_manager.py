"""The process-wide job manager: background training runs with one queue per device.

The page code keeps one :class:`JobManager` per runs folder in ``st.cache_resource``, so a page
refresh or a second browser tab reaches the same jobs. This module does not import Streamlit:
the workers only train and write run folders, and the page follows them by reading those
folders. At most one job trains at a time per device; the others wait in a FIFO queue and can
be cancelled while they wait.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gdw
from app.server.job_info import JobInfo
from gdw import (
    ConfigError,
    RunConfig,
    available_devices,
    load_run,
    method_ids,
    method_spec,
    resolve_run_path,
)

__all__ = ["JobManager", "comparison_configs"]

_KEEP_FINISHED = 50


@dataclass
class _Job:
    info: JobInfo
    handle: Any = field(default=None, repr=False)


def comparison_configs(config: RunConfig, *, ablations: bool = False) -> list[RunConfig]:
    """GDW and its baselines (MW-Net, ERM; with ``ablations`` also ``mwnet-step``) on the same
    data, seed and schedule: every registered method, GDW first, the registry's order reversed."""
    methods = [m for m in reversed(method_ids()) if ablations or not method_spec(m).ablation]
    return [config.replace(method=method) for method in methods]


def _default_start(
    config: RunConfig, *, runs_dir: Path, resume: Path | None = None, epochs: int | None = None
) -> Any:
    # torch: at the first run
    return gdw.start(config, runs_dir=runs_dir, resume=resume, epochs=epochs)


def _run_dir_of(handle: Any) -> Path | None:
    try:
        run_dir = handle.run_dir
    except Exception:  # a handle may refuse to answer before its run folder exists
        return None
    return Path(run_dir) if run_dir else None


class JobManager:
    """Starts, queues, lists and stops background training runs in one runs folder.

    Args:
        runs_dir: where runs are written.
        start: ``start(config, runs_dir=...)`` (a resume also with ``resume=`` its folder and
            ``epochs=``) returning a handle with ``run_dir``, ``stop()``, ``join(timeout) ->
            bool`` and ``error`` (default: the library's ``start``).
        devices: returns the devices present, first = what ``auto`` means.
        poll: seconds between a worker's looks at its running job.
    """

    def __init__(
        self,
        runs_dir: str | Path,
        *,
        start: Callable[..., Any] | None = None,
        devices: Callable[[], Sequence[str]] | None = None,
        poll: float = 0.2,
    ) -> None:
        self.runs_dir = Path(runs_dir)
        self._start = start or _default_start
        self._devices = devices or available_devices
        self._poll = poll
        self._lock = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._queues: dict[str, deque[str]] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._numbers = itertools.count(1)
        self._closed = False

    # -- submitting ---------------------------------------------------------------------------

    def submit(
        self,
        config: RunConfig,
        *,
        group: str | None = None,
        resume_run: str | None = None,
        epochs: int | None = None,
    ) -> JobInfo:
        """Queues one run on its device; it starts when the device is free. With
        ``resume_run``, the job continues that run folder (to ``epochs`` in all if given, see
        :meth:`submit_resume`)."""
        device = self.device_of(config)
        with self._lock:
            if self._closed:
                raise RuntimeError("the job manager is shut down")
            job_id = f"job-{next(self._numbers)}"
            resume = resume_run is not None
            info = JobInfo(
                job_id, config, device, group, run_id=resume_run, resume=resume, epochs=epochs
            )
            self._jobs[job_id] = _Job(info)
            self._queues.setdefault(device, deque()).append(job_id)
            self._ensure_worker(device)
            self._forget_old()
            self._lock.notify_all()
            return self._snapshot(job_id)

    def submit_resume(self, run_id: str, *, epochs: int | None = None) -> JobInfo:
        """Queues the continuation of run ``run_id`` (stopped, failed or interrupted) from its
        last checkpoint; given ``epochs``, the training of it (a completed one too) on to that
        many epochs in all (:func:`gdw.resume`, which refuses what cannot be done: the job
        then fails with its message). Raises ``ConfigError`` when its configuration cannot be
        read."""
        run = load_run(resolve_run_path(self.runs_dir, run_id), strict=False)
        if run.run_config is None:
            raise ConfigError(f"cannot resume {run_id}: its configuration is unreadable")
        return self.submit(run.run_config, resume_run=run_id, epochs=epochs)

    def submit_comparison(self, config: RunConfig, *, ablations: bool = False) -> list[JobInfo]:
        """Queues the methods of :func:`comparison_configs` on the same data and seed, in that
        order, together (no other job slips in between) and reported as of the same moment."""
        group = f"compare-{int(time.time() * 1000)}"
        with self._lock:
            configs = comparison_configs(config, ablations=ablations)
            queued = [self.submit(each, group=group) for each in configs]
            return [self._snapshot(job.job_id) for job in queued]

    def device_of(self, config: RunConfig) -> str:
        """The device whose queue a run joins (``auto`` resolved to the best one present)."""
        if config.device != "auto":
            return config.device
        present = list(self._devices())
        return present[0] if present else "cpu"

    # -- looking ------------------------------------------------------------------------------

    def jobs(self) -> list[JobInfo]:
        """Every job this process knows, newest first, with queue positions filled in."""
        with self._lock:
            return [self._snapshot(job_id) for job_id in reversed(self._jobs)]

    def active_jobs(self) -> list[JobInfo]:
        """Queued, starting and running jobs, oldest first (the order they train in)."""
        return [job for job in reversed(self.jobs()) if job.active]

    def job(self, job_id: str) -> JobInfo | None:
        with self._lock:
            return self._snapshot(job_id) if job_id in self._jobs else None

    def job_for_run(self, run_id: str) -> JobInfo | None:
        """The active job that trains run ``run_id`` in this process, if any."""
        with self._lock:
            for job_id, job in self._jobs.items():
                if job.info.run_id == run_id and job.info.active:
                    return self._snapshot(job_id)
        return None

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, job_id: str) -> bool:
        """Cancels a queued job or asks a running one to stop; False if it was not active."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or not job.info.active:
                return False
            if job.info.state == "queued":
                self._queues[job.info.device].remove(job_id)
                job.info = replace(job.info, state="cancelled")
            else:
                job.info = replace(job.info, stop_requested=True)
                if job.handle is not None:
                    job.handle.stop()
            self._lock.notify_all()
            return True

    def stop_all(self) -> int:
        """Stops every active job; returns how many were active."""
        return sum(self.stop(job.job_id) for job in self.active_jobs())

    def wait_idle(self, timeout: float) -> bool:
        """Blocks until no job is active (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while any(job.info.active for job in self._jobs.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))
        return True

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stops everything and refuses new jobs; True if all workers ended in time."""
        self.stop_all()
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        deadline = time.monotonic() + timeout
        for worker in list(self._workers.values()):
            worker.join(max(0.0, deadline - time.monotonic()))
        return not any(worker.is_alive() for worker in self._workers.values())

    # -- internals (callers hold the lock unless said otherwise) --------------------------------

    def _snapshot(self, job_id: str) -> JobInfo:
        info = self._jobs[job_id].info
        if info.state == "queued":
            info = replace(info, queue_position=self._queues[info.device].index(job_id) + 1)
        return info

    def _forget_old(self) -> None:
        finished = [k for k, job in self._jobs.items() if not job.info.active]
        for job_id in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self._jobs[job_id]

    def _ensure_worker(self, device: str) -> None:
        worker = self._workers.get(device)
        if worker is None or not worker.is_alive():
            worker = threading.Thread(
                target=self._work, args=(device,), name=f"gdw-jobs-{device}", daemon=True
            )
            self._workers[device] = worker
            worker.start()

    def _set(self, job_id: str, **changes: Any) -> None:
        job = self._jobs[job_id]
        job.info = replace(job.info, **changes)
        self._lock.notify_all()

    def _work(self, device: str) -> None:
        """One worker per device: takes the queue's head, trains it to the end, repeats."""
        while True:
            with self._lock:
                queue = self._queues[device]
                while not queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job_id = queue.popleft()
                self._set(job_id, state="starting")
            self._train(job_id)

    def _train(self, job_id: str) -> None:
        """Runs one job (without holding the lock while it trains)."""
        with self._lock:
            info = self._jobs[job_id].info
        extra: dict[str, Any] = {}
        if info.resume and info.run_id:
            extra = {"resume": self.runs_dir / info.run_id, "epochs": info.epochs}
        try:
            handle = self._start(info.config, runs_dir=self.runs_dir, **extra)
        except Exception as error:  # bad input refused up front (ConfigError, DataError)
            with self._lock:
                self._set(job_id, state="failed", error=str(error) or type(error).__name__)
            return
        with self._lock:
            self._jobs[job_id].handle = handle
            if self._jobs[job_id].info.stop_requested:
                handle.stop()
        finished = trained = False
        while not finished:
            finished = bool(handle.join(self._poll))
            run_dir = _run_dir_of(handle)
            with self._lock:
                if run_dir is not None and not trained:
                    trained = True
                    self._set(job_id, state="running", run_id=run_dir.name)
        error = getattr(handle, "error", None)
        with self._lock:
            if not trained and error:
                self._set(job_id, state="failed", error=str(error))
            else:
                self._set(job_id, state="finished")
