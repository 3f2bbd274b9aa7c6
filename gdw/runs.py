"""The run directory: the one boundary between the trainer and every reader.

The trainer writes a run through :class:`RunWriter`; the dashboard, a notebook or the sweep read
it with :func:`load_run`. A run folder appears with its first files already in it (it is staged
under a hidden name, then renamed). Every file except ``weights.npy`` is replaced atomically
(written to a temporary file, then renamed), so a reader never sees half a file.
The per-epoch arrays (:data:`EPOCH_ARRAYS`: ``weights.npy`` ``[epochs, recorded examples,
classes]`` and its companions) are memory-mapped arrays created whole up front; an epoch's rows
are written and flushed *before* that epoch's line appears in ``metrics.csv``, so whatever
``metrics.csv`` lists can be read. A run that ends early has the arrays cut to its finished
epochs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EPOCH_ARRAYS",
    "STATES",
    "Run",
    "RunWriter",
    "RunExistsError",
    "RunPathError",
    "atomic_write_bytes",
    "atomic_write_json",
    "list_runs",
    "load_run",
    "resolve_run_path",
    "run_ids",
]

STATES = ("running", "completed", "stopped", "failed")

EPOCH_ARRAYS: dict[str, tuple[type, bool]] = {
    "weights": (np.float16, True),
    "base_weights": (np.float16, False),
    "predicted": (np.int16, False),
    "given_prob": (np.float16, False),
}
"""What a run records per epoch for every recorded example: name -> (dtype, one column per
class). ``weights``: the class-level weights at its visit (ERM: ones; instance weighting: its
weight in every column); ``base_weights``: the first-stage instance weight ``v0`` the step
started from (ones for ERM); ``predicted``: the class the step's forward predicted;
``given_prob``: the probability that forward gave the given label. Each is ``<name>.npy``,
``[epochs, recorded examples(, classes)]``."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


class RunPathError(ValueError):
    """A run name or path would leave the runs folder, or names no run."""


class RunExistsError(FileExistsError):
    """The run folder name asked for is taken."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replaces ``path`` with ``data``: written to a temporary file beside it, synced, renamed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, record: Mapping[str, Any]) -> None:
    """Replaces ``path`` with ``record`` as JSON (NaN written as null)."""
    text = json.dumps(_json_ready(record), indent=2, allow_nan=False)
    atomic_write_bytes(Path(path), (text + "\n").encode())


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def resolve_run_path(runs_dir: str | Path, run_id: str) -> Path:
    """The folder of run ``run_id`` inside ``runs_dir``; refuses ids that would leave it."""
    if not isinstance(run_id, str) or not _SAFE_ID.match(run_id):
        raise RunPathError(
            f"run id {run_id!r} is not allowed: use letters, digits, '.', '-' and '_' only"
        )
    root = Path(runs_dir).resolve()
    path = (root / run_id).resolve()
    if path.parent != root:
        raise RunPathError(f"run id {run_id!r} would leave the runs folder {root}")
    return path


def _free_run_ids(stem: str) -> Iterable[str]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    yield f"{stamp}-{stem}"
    for attempt in range(2, 1001):
        yield f"{stamp}-{stem}-{attempt}"


def _publish(staging: Path, root: Path, run_id: str | None, stem: str) -> Path:
    """Renames the staged run folder to its final name; a taken name is never overwritten."""
    candidates = [run_id] if run_id is not None else _free_run_ids(stem)
    for candidate in candidates:
        target = resolve_run_path(root, candidate)
        if target.exists():
            continue
        try:
            staging.rename(target)
        except OSError:  # taken in between by another writer (POSIX refuses a non-empty target)
            if target.exists():
                continue
            raise
        return target
    if run_id is not None:
        raise RunExistsError(
            f"a run named {run_id!r} already exists in {root}; choose another name"
        )
    raise RunExistsError(f"could not find a free run folder name for {stem!r} in {root}")


class RunWriter:
    """Creates one run directory and writes it as training goes.

    The folder appears whole: its first files (``config.json``, ``instances.csv``, the empty
    per-epoch arrays of :data:`EPOCH_ARRAYS` and ``status.json``) are written in a hidden
    staging folder that is then renamed into place, so a reader listing the runs folder never
    meets a half-made run.

    Args:
        runs_dir: the runs folder (created if needed).
        run_id: the run's folder name; ``None`` picks a fresh ``<stamp>-<stem>``. A taken name
            raises :class:`RunExistsError`; a name that would leave ``runs_dir`` raises
            :class:`RunPathError`.
        stem: the tail of generated names.
        config: the ``config.json`` record.
        instances: columns ``index, given_label, true_label, is_noisy`` of the recorded examples.
        n_epochs: planned epochs (rows of the per-epoch arrays).
        n_classes: columns of ``weights.npy``.
    """

    def __init__(
        self,
        runs_dir: str | Path,
        run_id: str | None = None,
        *,
        stem: str = "run",
        config: Mapping[str, Any],
        instances: Mapping[str, np.ndarray],
        n_epochs: int,
        n_classes: int,
    ) -> None:
        root = Path(runs_dir)
        if run_id is not None:
            resolve_run_path(root, run_id)  # refuse an escaping name before writing anything
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
        self._columns: list[str] = []
        self._csv_lines: list[str] = []  # metrics.csv, header first, so an epoch adds one line
        self._started = time.time()
        try:
            atomic_write_json(self.path / "config.json", config)
            table = pd.DataFrame({k: np.asarray(v) for k, v in instances.items()})
            atomic_write_bytes(self.path / "instances.csv", table.to_csv(index=False).encode())
            for name, (dtype, per_class) in EPOCH_ARRAYS.items():
                shape = (n_epochs, len(table), n_classes) if per_class else (n_epochs, len(table))
                np.lib.format.open_memmap(
                    self.path / f"{name}.npy", mode="w+", dtype=dtype, shape=shape
                ).flush()
            self.write_status("running", epoch=0)
            self.path = _publish(self.path, root, run_id, stem)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._arrays = {name: self._open(name) for name in EPOCH_ARRAYS}

    def _open(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy", mmap_mode="r+")

    def write_status(
        self, state: str, *, epoch: int, error: str | None = None, **extra: Any
    ) -> None:
        """Replaces ``status.json``; ``extra`` carries progress such as ``step`` and ``steps``."""
        assert state in STATES, state
        now = time.time()
        record = {
            "state": state,
            "epoch": epoch,
            "error": error,
            "started_at": self._started,
            "updated_at": now,
            "elapsed": now - self._started,
            **extra,
        }
        atomic_write_json(self.path / "status.json", record)

    def append_epoch(self, metrics: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Records one finished epoch: its rows of every per-epoch array first (``arrays`` holds
        one per name of :data:`EPOCH_ARRAYS`), then its ``metrics.csv`` line."""
        unknown = set(metrics) - set(self._columns) if self._columns else set()
        if unknown:
            raise ValueError(f"metrics {sorted(unknown)} were not in the first epoch's columns")
        if set(arrays) != set(EPOCH_ARRAYS):
            raise ValueError(f"arrays {sorted(arrays)} are not {sorted(EPOCH_ARRAYS)}")
        epoch = self.epochs_written
        for name, target in self._arrays.items():
            target[epoch] = arrays[name].astype(target.dtype, copy=False)
            target.flush()
        if not self._columns:
            self._columns = list(metrics)
            self._csv_lines.append(_csv_line(self._columns))
        self._csv_lines.append(_csv_line([_csv_value(metrics.get(c)) for c in self._columns]))
        atomic_write_bytes(self.path / "metrics.csv", "".join(self._csv_lines).encode())

    @property
    def epochs_written(self) -> int:
        """Epochs recorded so far."""
        return max(0, len(self._csv_lines) - 1)

    def finish(
        self, state: str, *, summary: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Ends the run: cuts the per-epoch arrays to the finished epochs, writes summary and
        status."""
        done = self.epochs_written
        for name in EPOCH_ARRAYS:
            if done < self._arrays[name].shape[0]:
                self._truncate(name, done)
        if summary is not None:
            atomic_write_json(self.path / "summary.json", summary)
        self.write_status(state, epoch=done, error=error)

    def _truncate(self, name: str, epochs: int) -> None:
        path = self.path / f"{name}.npy"
        whole = self._arrays[name]
        tmp = path.with_name(f".{name}.npy.tmp")
        cut = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=whole.dtype, shape=(epochs, *whole.shape[1:])
        )
        cut[:] = whole[:epochs]
        cut.flush()
        del cut
        os.replace(tmp, path)
        self._arrays[name] = self._open(name)


def _csv_value(value: Any) -> str:
    """As pandas writes a cell: NaN and None empty, floats in full precision."""
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


@dataclass(frozen=True)
class Run:
    """A read-only view of one run directory, as it was when loaded (live or finished)."""

    path: Path
    config: dict[str, Any]
    status: dict[str, Any]
    metrics: pd.DataFrame
    summary: dict[str, Any] | None

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def state(self) -> str:
        return str(self.status.get("state", "unknown"))

    @property
    def epochs_done(self) -> int:
        """Epochs whose metrics and weights can be read."""
        return len(self.metrics)

    @property
    def classes(self) -> list[str]:
        return list(self.config.get("classes", []))

    @cached_property
    def instances(self) -> pd.DataFrame:
        """``index, given_label, true_label, is_noisy`` (and, in newer runs, ``source`` and
        ``is_canary``) of the recorded examples, in the row order of the weights."""
        return pd.read_csv(self.path / "instances.csv")

    def has_array(self, name: str) -> bool:
        """Whether the run folder holds the per-epoch array ``name`` (older runs recorded only
        ``weights``)."""
        return (self.path / f"{name}.npy").is_file()

    def _array_file(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy", mmap_mode="r")

    def epoch_array(self, name: str, epoch: int) -> np.ndarray:
        """Per-epoch array ``name`` (:data:`EPOCH_ARRAYS`) at epoch ``epoch`` (1-based):
        ``[recorded examples(, classes)]``, float32 (``predicted``: int64)."""
        if not 1 <= epoch <= self.epochs_done:
            raise IndexError(f"epoch {epoch} not recorded (1..{self.epochs_done})")
        return _widen(self._array_file(name)[epoch - 1])

    def epoch_array_of(self, name: str, rows: Iterable[int]) -> np.ndarray:
        """Per-epoch array ``name`` of some recorded rows, every epoch done:
        ``[epochs done, len(rows)(, classes)]``."""
        rows = np.asarray(list(rows), dtype=np.int64)
        return _widen(self._array_file(name)[: self.epochs_done][:, rows])

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


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def load_run(path: str | Path) -> Run:
    """Reads a run directory. Raises RunPathError when ``path`` holds no run."""
    path = Path(path)
    config = _read_json(path / "config.json")
    if config is None:
        raise RunPathError(f"{path} is not a run directory (no config.json)")
    status = _read_json(path / "status.json") or {"state": "unknown", "epoch": 0}
    try:
        metrics = pd.read_csv(path / "metrics.csv")
    except (FileNotFoundError, pd.errors.EmptyDataError):
        metrics = pd.DataFrame()
    return Run(path, config, status, metrics, _read_json(path / "summary.json"))


def run_ids(runs_dir: str | Path) -> list[str]:
    """Names of the folders in ``runs_dir`` that hold a run: an id :func:`resolve_run_path`
    accepts (so never a hidden staging folder, nor a link out of the folder) with a
    ``config.json``."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    ids = []
    for child in root.iterdir():
        try:
            path = resolve_run_path(root, child.name)
        except RunPathError:
            continue
        if path.is_dir() and (path / "config.json").is_file():
            ids.append(child.name)
    return ids


def list_runs(runs_dir: str | Path) -> list[Run]:
    """Every readable run in ``runs_dir``, newest first; folders that hold no run are skipped."""
    runs = []
    for run_id in run_ids(runs_dir):
        try:
            runs.append(load_run(Path(runs_dir) / run_id))
        except (RunPathError, ValueError, OSError):
            continue
    return sorted(runs, key=lambda run: run.status.get("started_at", 0.0), reverse=True)
