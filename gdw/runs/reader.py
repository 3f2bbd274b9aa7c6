"""The run directory: the one boundary between the trainer and every reader.

The trainer writes a run through :class:`~gdw.runs.writer.RunWriter`; the dashboard, a notebook,
``gdw runs`` and the sweep read it here, and only here. Every file is read defensively: a
missing, cut short, garbled, non-UTF-8 or wrongly shaped file, a run of a later ``format`` or a
link leading out of the folder is a *problem* of that file, never an exception from deep inside
pandas or NumPy. :func:`load_run` raises :class:`RunReadError` naming the file and the problem
(or, with ``strict=False``, returns what is intact with the problems listed); :func:`list_runs`
never raises. A run whose process died shows as ``interrupted``: at once on the host that ran it
(its process id is gone), elsewhere once its heartbeat is older than :data:`HEARTBEAT_TIMEOUT`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gdw.config import ConfigError, RunConfig
from gdw.runs.checks import (
    INSTANCE_COLUMNS,
    FileProblem,
    array_layout,
    array_specs,
    check_config,
    check_status,
    parse_instances,
    parse_metrics,
    read_json_object,
    read_text,
)
from gdw.runs.files import (
    _SAFE_ID,
    FORMAT,
    ArraySpec,
    NpyLayout,
    RunExistsError,
    RunPathError,
    RunReadError,
    RunWriteError,
    atomic_write_bytes,
    atomic_write_json,
    resolve_run_path,
)
from gdw.runs.writer import WRITTEN_STATES, RunWriter, process_start

__all__ = [
    "EPOCH_ARRAYS",
    "FORMAT",
    "HEARTBEAT_TIMEOUT",
    "STATES",
    "ArraySpec",
    "Run",
    "RunWriter",
    "RunExistsError",
    "RunPathError",
    "RunReadError",
    "RunWriteError",
    "atomic_write_bytes",
    "atomic_write_json",
    "list_runs",
    "live_state",
    "load_run",
    "read_listed_run",
    "resolve_run_path",
    "run_ids",
    "status_state",
]

STATES = (*WRITTEN_STATES, "interrupted", "unreadable")
"""Every state a reader reports: the four a run writes, ``interrupted`` (its process died while
it said ``running``) and ``unreadable`` (a file is damaged; :attr:`Run.problems` says which)."""

HEARTBEAT_TIMEOUT = 300.0
"""Seconds without a status update after which a ``running`` run of another host (or one that
recorded no process) counts as ``interrupted``; a live run updates its status every second while
it steps."""

EPOCH_ARRAYS: dict[str, tuple[str, bool]] = {
    "weights": ("float16", True),
    "base_weights": ("float16", False),
    "predicted": ("int16", False),
    "given_prob": ("float16", False),
    "margin": ("float16", False),
    "given_step": ("float16", False),
}
"""What the trainer records per epoch for every recorded example: name -> (dtype, one column
per class). ``weights``: the class-level weights at its visit (ERM: ones; instance weighting:
its weight in every column); ``base_weights``: the first-stage instance weight ``v0`` the step
started from (ones for ERM); ``predicted``: the class the step's forward predicted;
``given_prob``: the probability that forward gave the given label; ``margin``: that
probability minus the largest other one; ``given_step``: how far the outer step moved the
given-class weight before the clamp (zeros without an outer step). Each is ``<name>.npy``,
``[epochs, recorded examples(, classes)]``; runs of format 1 hold ``weights`` alone."""

_RUN_FILES = ("config.json", "status.json", "metrics.csv", "instances.csv", "weights.npy")


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    except (OverflowError, ValueError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):  # a zombie: dead, not yet reaped
        return False
    return started is None or process_start(pid) in (None, started)


def live_state(status: Mapping[str, Any], *, now: float | None = None) -> str:
    """The state of a run from its ``status.json``: ``interrupted`` instead of ``running`` when
    the process that wrote it is gone (same host) or silent for :data:`HEARTBEAT_TIMEOUT`."""
    state = str(status.get("state", "unknown"))
    if state != "running":
        return state
    pid, host = status.get("pid"), status.get("host")
    if isinstance(pid, int) and host == socket.gethostname():
        return "running" if _alive(pid, status.get("pid_start")) else "interrupted"
    now = time.time() if now is None else now
    beat = status.get("updated_at")
    silent = not isinstance(beat, (int, float)) or now - float(beat) > HEARTBEAT_TIMEOUT
    return "interrupted" if silent else "running"


def status_state(run_dir: str | Path) -> str:
    """A run folder's state from its ``status.json`` alone (:func:`live_state`), read as
    defensively as :func:`load_run` reads it: ``unreadable`` when it is missing or damaged. For
    a quick look at many folders (a live sweep), where reading whole runs would cost too much."""
    try:
        record = read_json_object(Path(run_dir), "status.json")
    except FileProblem:
        return "unreadable"
    return live_state(record or {})


@dataclass(frozen=True)
class Run:
    """A read-only view of one run directory, as it was when loaded (live or finished).

    Attributes:
        problems: damaged files and what is wrong with each (empty for a whole run); the parts
            they hold are left empty, everything else is read.
        arrays: where each readable per-epoch array (``weights`` and others) lies in its file.
    """

    path: Path
    config: dict[str, Any]
    status: dict[str, Any]
    metrics: pd.DataFrame
    summary: dict[str, Any] | None
    instances: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(INSTANCE_COLUMNS))
    )
    arrays: Mapping[str, NpyLayout] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        """``unreadable`` when a file is damaged, else :func:`live_state` of its status."""
        return "unreadable" if self.problems else live_state(self.status)

    @property
    def reason(self) -> str:
        """What is damaged, ``file: problem; ...`` (empty for a whole run)."""
        return "; ".join(
            f"{name}: {problem}" if name else problem for name, problem in self.problems.items()
        )

    def error(self, name: str) -> RunReadError | None:
        """The problem of file ``name`` as an exception, or None."""
        return RunReadError(self.path, name, self.problems[name]) if name in self.problems else None

    @property
    def epochs_done(self) -> int:
        """Epochs whose metrics and weights can be read."""
        return len(self.metrics)

    @property
    def classes(self) -> list[str]:
        return list(self.config.get("classes", []))

    # -- what config.json says, typed (every reader goes through these, never the raw dict) --

    @cached_property
    def settings(self) -> Mapping[str, Any]:
        """The run's configuration as recorded (the ``config`` part of ``config.json``; empty
        when unreadable). :attr:`run_config` is its typed form."""
        record = self.config.get("config")
        return record if isinstance(record, dict) else {}

    @cached_property
    def run_config(self) -> RunConfig | None:
        """The :class:`RunConfig` the run was made with, or ``None`` when its record cannot be
        read back (damaged, or written by a version with other fields)."""
        try:
            return RunConfig.from_dict(dict(self.settings))
        except (ConfigError, TypeError, ValueError):
            return None

    @property
    def method(self) -> str:
        """The method id (``gdw``, ``mwnet``, ...), ``?`` when unknown."""
        return str(self.settings.get("method") or "?")

    @cached_property
    def data(self) -> Mapping[str, Any]:
        """The data settings as recorded (dataset, noise, imbalance, seed, ...); two runs with
        equal ``data`` trained on the same examples with the same corruption."""
        record = self.settings.get("data")
        return record if isinstance(record, dict) else {}

    @property
    def dataset(self) -> str:
        return str(self.data.get("dataset") or "?")

    @cached_property
    def resolved(self) -> Mapping[str, Any]:
        """The values the trainer resolved (``epochs``, ``outer_lr``, ``model``, ``device``...)."""
        record = self.config.get("resolved")
        return record if isinstance(record, dict) else {}

    @cached_property
    def recording(self) -> Mapping[str, Any]:
        """Which examples were recorded (``recorded``, ``total``, ``subset``, ``note``)."""
        record = self.config.get("recording")
        return record if isinstance(record, dict) else {}

    @cached_property
    def data_summary(self) -> Mapping[str, Any]:
        """:func:`gdw.describe` of the run's data (class counts, realised noise, sizes)."""
        record = self.config.get("data_summary")
        return record if isinstance(record, dict) else {}

    @property
    def planned_epochs(self) -> int | None:
        """Epochs the run was set to train, from its status or its resolved configuration."""
        planned = self.status.get("epochs") or self.resolved.get("epochs")
        return int(planned) if isinstance(planned, (int, float)) else None

    def array(self, name: str) -> np.ndarray:
        """The per-epoch array ``name`` (``weights``: ``[epochs, recorded, classes]``) of the
        finished epochs, memory-mapped. Raises :class:`RunReadError` when it is damaged."""
        file = f"{name}.npy"
        for damaged in (file, "instances.csv"):
            if damaged in self.problems:
                raise RunReadError(self.path, damaged, self.problems[damaged])
        if name not in self.arrays:
            raise RunReadError(self.path, file, "is not part of this run")
        layout = self.arrays[name]
        try:
            mapped = np.memmap(
                self.path / file,
                dtype=layout.dtype,
                mode="r",
                offset=layout.offset,
                shape=layout.shape,
            )
        except (OSError, ValueError) as exc:
            raise RunReadError(self.path, file, f"cannot be read ({exc})") from None
        return mapped[: self.epochs_done]

    def has_array(self, name: str) -> bool:
        """Whether the run holds a readable per-epoch array ``name`` (older runs recorded only
        ``weights``)."""
        return name in self.arrays and f"{name}.npy" not in self.problems

    def epoch_array(self, name: str, epoch: int) -> np.ndarray:
        """Per-epoch array ``name`` (:data:`EPOCH_ARRAYS`) at epoch ``epoch`` (1-based):
        ``[recorded examples(, classes)]``, float32 (``predicted``: int64)."""
        if not 1 <= epoch <= self.epochs_done:
            raise IndexError(f"epoch {epoch} not recorded (1..{self.epochs_done})")
        return _widen(self.array(name)[epoch - 1])

    def epoch_array_of(self, name: str, rows: Iterable[int]) -> np.ndarray:
        """Per-epoch array ``name`` of some recorded rows, every epoch done:
        ``[epochs done, len(rows)(, classes)]``."""
        rows = np.asarray(list(rows), dtype=np.int64)
        return _widen(self.array(name)[:, rows])

    def weights(self, epoch: int) -> np.ndarray:
        """Weights ``[recorded examples, classes]`` of epoch ``epoch`` (1-based)."""
        return self.epoch_array("weights", epoch)

    def weights_of(self, rows: Iterable[int]) -> np.ndarray:
        """Weights ``[epochs done, len(rows), classes]`` of some recorded rows, every epoch."""
        return self.epoch_array_of("weights", rows)

    def base_weights(self, epoch: int) -> np.ndarray:
        """First-stage instance weights ``v0`` ``[recorded examples]`` of epoch ``epoch``."""
        return self.epoch_array("base_weights", epoch)


def _widen(values: np.ndarray) -> np.ndarray:
    """float16 to float32 and int16 to int64, copied out of the memory map."""
    kind = np.int64 if np.issubdtype(values.dtype, np.integer) else np.float32
    return np.asarray(values, dtype=kind)


def _read(path: Path) -> Run:
    problems: dict[str, str] = {}

    def attempt(name: str, read, default):  # type: ignore[no-untyped-def]
        try:
            return read()
        except FileProblem as problem:
            problems[name] = str(problem)
            return default

    def config_record() -> dict[str, Any]:
        record = read_json_object(path, "config.json")
        check_config(record)
        return record

    def status_record() -> dict[str, Any]:
        record = read_json_object(path, "status.json")
        check_status(record)
        return record

    config = attempt("config.json", config_record, {})
    status = attempt("status.json", status_record, {})
    metrics = attempt(
        "metrics.csv",
        lambda: parse_metrics(read_text(path, "metrics.csv", required=False)),
        pd.DataFrame(),
    )
    if metrics.empty and int(status.get("epoch") or 0) > 0 and "metrics.csv" not in problems:
        problems["metrics.csv"] = (
            f"is missing, but status.json says {status['epoch']} epoch(s) are done"
        )
    summary = attempt(
        "summary.json", lambda: read_json_object(path, "summary.json", required=False), None
    )
    classes = len(config.get("classes", []))
    instances = attempt(
        "instances.csv",
        lambda: parse_instances(read_text(path, "instances.csv"), classes),
        pd.DataFrame(columns=list(INSTANCE_COLUMNS)),
    )
    arrays: dict[str, NpyLayout] = {}
    if "config.json" not in problems:
        specs = attempt("config.json", lambda: array_specs(config), {})
        for name, spec in specs.items():
            layout = attempt(
                f"{name}.npy",
                lambda n=name, s=spec: array_layout(path, n, s, len(instances), len(metrics)),
                None,
            )
            if layout is not None:
                arrays[name] = layout
    if "instances.csv" not in problems and "weights" in arrays:
        recorded = arrays["weights"].shape[1]
        if len(instances) != recorded:
            problems["instances.csv"] = f"has {len(instances)} rows, weights.npy {recorded}"
    return Run(path, config, status, metrics, summary, instances, arrays, problems)


def load_run(path: str | Path, *, strict: bool = True) -> Run:
    """Reads a run directory.

    Args:
        path: the run folder.
        strict: raise :class:`RunReadError` (a :class:`RunPathError`) naming the first damaged
            file and its problem; with ``False``, return the intact parts and the problems in
            :attr:`Run.problems` (its state is then ``unreadable``).
    """
    path = Path(path)
    if not path.is_dir():
        if strict:
            raise RunReadError(path, "", "is not a run directory (no such folder)")
        return Run(path, {}, {}, pd.DataFrame(), None, problems={"": "is not a folder"})
    run = _read(path)
    if strict and run.problems:
        name, problem = next(iter(run.problems.items()))
        raise RunReadError(path, name, problem)
    return run


def read_listed_run(runs_dir: str | Path, run_id: str) -> Run:
    """Run ``run_id`` of ``runs_dir`` as a listing shows it; never raises: a damaged run, or a
    link leading out of the runs folder, comes back ``unreadable`` with its reason."""
    plain = Path(runs_dir, str(run_id))
    try:  # a folder (not a link) with an allowed name lies inside; only links are resolved
        ok = _SAFE_ID.match(str(run_id)) and not plain.is_symlink()
        path = plain if ok else resolve_run_path(runs_dir, run_id)
    except RunPathError as exc:
        problem = (
            "is a link to a folder outside the runs folder"
            if (Path(runs_dir, str(run_id)).is_symlink())
            else str(exc)
        )
        return Run(
            Path(runs_dir, str(run_id)), {}, {}, pd.DataFrame(), None, problems={"": problem}
        )
    try:
        return load_run(path, strict=False)
    except (OSError, ValueError) as exc:  # a folder vanishing while read, a file system error
        return Run(path, {}, {}, pd.DataFrame(), None, problems={"": f"cannot be read ({exc})"})


def run_ids(runs_dir: str | Path) -> list[str]:
    """Names in ``runs_dir`` that hold a run, or what is left of one: a name
    :func:`resolve_run_path` could accept (never a hidden staging folder) that is a folder
    holding any run file, or a link (reported unreadable when it leads out of the folder)."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    ids = []
    for child in root.iterdir():
        if child.name.startswith(".") or not _SAFE_ID.match(child.name):
            continue
        if child.is_symlink():  # kept: a link out of the folder is reported unreadable
            ids.append(child.name)
        elif child.is_dir() and any((child / name).exists() for name in _RUN_FILES):
            ids.append(child.name)
    return ids


def list_runs(runs_dir: str | Path, *, include_unreadable: bool = False) -> list[Run]:
    """Every run in ``runs_dir``, newest first; never raises. Damaged runs are left out, or
    with ``include_unreadable`` listed with state ``unreadable`` and their :attr:`Run.reason`."""
    runs = [read_listed_run(runs_dir, run_id) for run_id in run_ids(runs_dir)]
    if not include_unreadable:
        runs = [run for run in runs if not run.problems]
    return sorted(runs, key=lambda run: float(run.status.get("started_at") or 0.0), reverse=True)
