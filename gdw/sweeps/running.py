"""Running a sweep: every run of its grid that its folder does not hold finished yet.

Where the runs run is a *backend* (:class:`SweepBackend`): :func:`local_backend` runs them one
after another in this process; :class:`gdw.sweeps.ray_backend.RayBackend` runs each as a Ray task.
Both call :func:`run_one`; the planning, the resuming and the result files
(:mod:`gdw.sweeps.folder`) are this process's.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gdw.config import ConfigError, DataError, RunConfig
from gdw.runs.reader import load_run
from gdw.sink import TrainingSink
from gdw.sweeps.folder import claim, finished_row, locked, move_aside, write_results
from gdw.sweeps.spec import SweepSpec
from gdw.training.resume_point import is_resumable

__all__ = [
    "RunEvent",
    "SweepBackend",
    "SweepOutcome",
    "SweepSink",
    "local_backend",
    "run_one",
    "run_sweep",
]


class SweepSink(TrainingSink):
    """Receives a sweep's progress; as a :class:`TrainingSink` it also sees every run's epochs."""

    def on_sweep_start(self, planned: int, finished: int, epochs: int) -> None:
        """``finished`` of ``planned`` runs are done already; each run has ``epochs`` epochs."""

    def on_run_start(self, number: int, planned: int, name: str) -> None:
        """Run ``name``, number ``number`` (1-based) of ``planned``, is about to start."""

    def on_run_end(self, name: str, state: str, error: str | None) -> None:
        """Run ``name`` ended as ``completed``, ``stopped`` or ``failed``."""


@dataclass(frozen=True)
class SweepOutcome:
    """What a call of :func:`run_sweep` did."""

    path: Path
    planned: int
    finished: int
    ran: int
    moved_aside: tuple[str, ...] = ()
    resumed: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    stopped: bool = False


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    stop_event: threading.Event | None = None,
    sinks: Sequence[SweepSink] = (),
    command: str | None = None,
    backend: SweepBackend | None = None,
) -> SweepOutcome:
    """Runs the runs of ``spec`` that ``out`` does not hold finished yet.

    A run that fails (for example diverges) is recorded and the sweep goes on; bad input
    (missing data files, an impossible meta set) raises ``ConfigError``/``DataError`` at once.
    ``stop_event`` or Ctrl-C stop within one training step; what finished stays in
    ``results.csv`` and a rerun continues from there, with either backend.

    Args:
        backend: where the runs run (default :func:`local_backend`). ``results.csv`` and
            ``summary.md`` are rewritten here, in this process, after each run that ends.

    Raises:
        ConfigError: ``out`` holds a different sweep, another process is running this one, or
            ``out`` is a non-empty folder that is not a sweep.
    """
    out = Path(out)
    planned = spec.runs()  # builds every RunConfig, so a bad grid fails before any work
    out.mkdir(parents=True, exist_ok=True)
    with locked(out):
        command = claim(out, spec, command)
        rows: dict[str, dict[str, Any]] = {}
        moved: list[str] = []
        resumed: list[str] = []
        for config in planned:
            row = finished_row(out, config)
            if row is not None:
                rows[config.name] = row
            elif is_resumable(out / "runs" / config.name, config):
                resumed.append(config.name)  # _run_one continues it from its checkpoint
            elif (out / "runs" / config.name).exists():
                moved.append(move_aside(out, config.name))
        write_results(out, spec, planned, rows, {}, command)
        for sink in sinks:
            sink.on_sweep_start(len(planned), len(rows), spec.base.resolved_epochs)
        failed: dict[str, str] = {}
        ran, started = 0, len(rows)  # runs numbered on: finished ones first
        todo = [config for config in planned if config.name not in rows]
        by_name = {config.name: config for config in todo}
        events = (backend or local_backend)(out, todo, stop_event=stop_event, sinks=sinks)
        try:
            for event in events:
                if event.moved_aside:
                    moved.append(event.moved_aside)
                if event.state == "running":
                    started += 1
                    for sink in sinks:
                        sink.on_run_start(started, len(planned), event.name)
                    continue
                ran += 1
                if event.state == "completed":
                    rows[event.name] = finished_row(out, by_name[event.name]) or {}
                elif event.error is not None:
                    failed[event.name] = event.error
                write_results(out, spec, planned, rows, failed, command)
                for sink in sinks:
                    sink.on_run_end(event.name, event.state, event.error)
                if event.state == "stopped":
                    break
        finally:
            events.close()  # a backend ends what it still runs (Ray: cancels its tasks)
        stopped = len(rows) + len(failed) < len(planned)
        return SweepOutcome(
            out, len(planned), len(rows), ran, tuple(moved), tuple(resumed), failed, stopped
        )


@dataclass(frozen=True)
class RunEvent:
    """A run of a sweep started (``state`` ``running``) or ended (``completed``, ``stopped`` or
    ``failed`` with ``error``); ``moved_aside`` names the folder of a lost attempt set aside."""

    name: str
    state: str
    error: str | None = None
    moved_aside: str | None = None


class SweepBackend(Protocol):
    """Runs a sweep's runs; yields a ``running`` event when a run starts and one when it ends.

    Closing the iterator ends the runs still going. ``ConfigError``/``DataError`` (bad input)
    propagate.
    """

    def __call__(
        self,
        out: Path,
        todo: Sequence[RunConfig],
        *,
        stop_event: threading.Event | None,
        sinks: Sequence[SweepSink],
    ) -> Generator[RunEvent, None, None]: ...


def local_backend(
    out: Path,
    todo: Sequence[RunConfig],
    *,
    stop_event: threading.Event | None = None,
    sinks: Sequence[SweepSink] = (),
) -> Generator[RunEvent, None, None]:
    """Runs ``todo`` one after another in this process (``gdw sweep --backend local``)."""
    for config in todo:
        yield RunEvent(config.name, "running")
        yield run_one(out, config, stop_event=stop_event, sinks=sinks)


def run_one(
    out: Path,
    config: RunConfig,
    *,
    stop_event: threading.Event | None = None,
    sinks: Sequence[SweepSink] = (),
) -> RunEvent:
    """Trains one run of a sweep into ``out/runs/<name>``: what every backend calls.

    A folder already there is what an earlier attempt left (a stopped sweep, or a Ray task
    retried after its worker died): it is continued from its checkpoint when it can be
    (:func:`gdw.training.resume_point.is_resumable`), on ``config``'s device, else moved to
    ``unfinished/`` first. The GPU memory the run cached is released when it ends.

    Raises:
        ConfigError, DataError: bad input, raised before the run folder exists; every run of
            the sweep would fail the same.
    """
    # torch: in the process that trains, not a Ray driver
    from gdw.training.device import release_cached_memory
    from gdw.training.failures import failure_message
    from gdw.training.trainer import resume, run

    folder = out / "runs" / config.name
    moved = None
    if folder.exists() and not is_resumable(folder, config):
        moved = move_aside(out, config.name)
    try:
        if folder.exists():  # resumable: every other leftover was moved aside above
            resume(folder, device=config.device, stop_event=stop_event, sinks=sinks)
        else:
            run(config, runs_dir=out / "runs", stop_event=stop_event, sinks=sinks)
    except (ConfigError, DataError):
        raise
    except Exception as exc:  # noqa: BLE001 - the run folder says failed; the sweep goes on
        return RunEvent(config.name, "failed", failure_message(exc), moved)
    finally:
        release_cached_memory()
    return RunEvent(config.name, load_run(out / "runs" / config.name).state, None, moved)
