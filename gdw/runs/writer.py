"""Writing a run folder: :class:`RunWriter` (the trainer's side; :mod:`gdw.runs.reader` reads it).

A run folder appears with its first files already in it (it is staged under a hidden name, then
renamed). Every file except the per-epoch arrays is replaced atomically (written to a temporary
file, then renamed), so a reader never sees half a file. The per-epoch arrays (``weights.npy``
and any others named in ``arrays``) are memory-mapped ``[epochs, *row shape]`` files created
whole up front (their disk space reserved); an epoch's rows are written and flushed *before*
that epoch's line appears in ``metrics.csv``, so whatever ``metrics.csv`` lists can be read. A
run that ends early has every array cut to its finished epochs; a resumed run has them grown
back, or to its new total when it is trained to another number of epochs
(:meth:`RunWriter.change_total`). A failed write raises
:class:`~gdw.runs.files.RunWriteError` naming the file.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gdw.runs.files import (
    FORMAT,
    WRITTEN_STATES,
    ArraySpec,
    RunExistsError,
    RunWriteError,
    array_file,
    atomic_write_bytes,
    atomic_write_json,
    read_name,
    resize_npy_rows,
    resolve_run_path,
    stored_name,
)
from gdw.runs.state import process_start

__all__ = ["RunWriter"]


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


def _create_array(path: Path, rows: int, spec: ArraySpec) -> None:
    array = np.lib.format.open_memmap(path, mode="w+", dtype=spec.dtype, shape=(rows, *spec.shape))
    array.flush()
    del array
    _reserve(path)


def _reserve(path: Path) -> None:
    """Allocates the file's blocks now: a write into a sparse memory map on a full disk would
    kill the process (SIGBUS) instead of raising."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as error:
        if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # a file system without it
            raise RunWriteError(path, error) from error
    finally:
        os.close(fd)


class RunWriter:
    """Creates one run directory (or reopens one, see :meth:`reopen`) and writes it.

    Args:
        runs_dir: the runs folder (created if needed).
        run_id: the run's folder name; ``None`` picks a fresh ``<stamp>-<stem>``. A taken name
            raises :class:`RunExistsError`; a name that would leave ``runs_dir`` raises
            :class:`~gdw.runs.files.RunPathError`.
        stem: the tail of generated names.
        config: the ``config.json`` record (``format`` and ``per_epoch`` are added).
        instances: columns ``index, given_label, true_label, is_noisy`` of the recorded examples.
        n_epochs: planned epochs (rows of every per-epoch array).
        n_classes: columns of ``weights.npy``.
        arrays: further per-epoch arrays beside ``weights.npy``, by name (each in the file
            :func:`~gdw.runs.files.array_file` names); each epoch must give a row of each.

    Arrays and ``metrics.csv`` columns are given by name and stored under the names of
    :data:`~gdw.runs.files.STORED_NAMES`.
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
        arrays: Mapping[str, ArraySpec] | None = None,
    ) -> None:
        root = Path(runs_dir)
        if run_id is not None:
            resolve_run_path(root, run_id)  # refuse an escaping name before writing anything
        root.mkdir(parents=True, exist_ok=True)
        table = pd.DataFrame({k: np.asarray(v) for k, v in instances.items()})
        self.specs = {"weights": ArraySpec((len(table), n_classes)), **(arrays or {})}
        self.n_epochs = n_epochs
        self.path = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
        self._columns: list[str] = []
        self._csv_lines: list[str] = []  # metrics.csv, header first, so an epoch adds one line
        self._started = time.time()
        arrays_record = {stored_name(name): spec.to_dict() for name, spec in self.specs.items()}
        per_epoch = {"epochs": n_epochs, "arrays": arrays_record}
        try:
            atomic_write_json(
                self.path / "config.json", {"format": FORMAT, **config, "per_epoch": per_epoch}
            )
            atomic_write_bytes(self.path / "instances.csv", table.to_csv(index=False).encode())
            for name, spec in self.specs.items():
                _create_array(self.path / array_file(name), n_epochs, spec)
            self.write_status("running", epoch=0)
            self.path = _publish(self.path, root, run_id, stem)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        self._open_arrays()

    @classmethod
    def reopen(cls, path: str | Path, *, epochs: int, elapsed: float = 0.0) -> RunWriter:
        """Continues the run folder ``path`` after its first ``epochs`` epochs: later lines of
        ``metrics.csv`` are dropped and every per-epoch array is grown back to its planned
        epochs. ``elapsed`` (seconds trained so far) keeps the run's clock going."""
        self = cls.__new__(cls)
        self.path = Path(path)
        record = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        per_epoch = record["per_epoch"]
        self.n_epochs = int(per_epoch["epochs"])
        self.specs = {
            read_name(stored): ArraySpec(tuple(spec["shape"]), spec["dtype"])
            for stored, spec in per_epoch["arrays"].items()
        }
        self._started = time.time() - elapsed
        lines = []
        if epochs:
            text = (self.path / "metrics.csv").read_text(encoding="utf-8")
            lines = text.splitlines(keepends=True)[: epochs + 1]
        self._csv_lines = lines
        self._columns = list(next(csv.reader(lines[:1]), []))
        for name in self.specs:
            resize_npy_rows(self.path / array_file(name), self.n_epochs)
            _reserve(self.path / array_file(name))
        self._write_metrics()
        self._open_arrays()
        return self

    def change_total(self, settings: Mapping[str, Any]) -> None:
        """Makes the reopened run train to ``settings["epochs"]`` epochs: ``config.json`` is
        replaced (atomically) with ``settings`` as its ``config``, the new total in
        ``resolved`` and ``per_epoch``, and ``{"after_epoch", "from", "to"}`` appended to its
        ``epochs_changed``; then every per-epoch array is resized to the new total.

        Call it once the status says ``running``: if the process dies in between, the run reads
        as ``interrupted`` and a plain resume continues it to what ``config.json`` says, with
        the arrays resized to that again."""
        path = self.path / "config.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        total = int(settings["epochs"])
        change = {"after_epoch": self.epochs_written, "from": self.n_epochs, "to": total}
        record["config"] = dict(settings)
        record["resolved"] = {**record.get("resolved", {}), "epochs": total}
        record["per_epoch"] = {**record["per_epoch"], "epochs": total}
        record["epochs_changed"] = [*record.get("epochs_changed", []), change]
        atomic_write_json(path, record)
        self.n_epochs = total
        self._arrays = {}  # no map may outlive the part of the file it maps
        for name in self.specs:
            resize_npy_rows(self.path / array_file(name), total)
            _reserve(self.path / array_file(name))
        self._open_arrays()

    def _open_arrays(self) -> None:
        self._arrays = {
            name: np.load(self.path / array_file(name), mmap_mode="r+") for name in self.specs
        }

    def write_status(
        self, state: str, *, epoch: int, error: str | None = None, **extra: Any
    ) -> None:
        """Replaces ``status.json``; ``extra`` carries progress such as ``step`` and ``steps``.

        Every status records the process (``pid``, ``pid_start``, ``host``) and its time
        (``updated_at``, the heartbeat), so a reader can tell a run whose process died."""
        assert state in WRITTEN_STATES, state
        now = time.time()
        pid = os.getpid()
        record = {
            "state": state,
            "epoch": epoch,
            "error": error,
            "started_at": self._started,
            "updated_at": now,
            "elapsed": now - self._started,
            "pid": pid,
            "pid_start": process_start(pid),
            "host": socket.gethostname(),
            **extra,
        }
        atomic_write_json(self.path / "status.json", record)

    def append_epoch(
        self,
        metrics: Mapping[str, Any],
        weights: np.ndarray,
        arrays: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Records one finished epoch: its rows of every per-epoch array first (``weights``
        and ``arrays``, one for each name given at creation), then its ``metrics.csv`` line."""
        metrics = {stored_name(column): value for column, value in metrics.items()}
        unknown = set(metrics) - set(self._columns) if self._columns else set()
        if unknown:
            raise ValueError(f"metrics {sorted(unknown)} were not in the first epoch's columns")
        rows = {"weights": weights, **(arrays or {})}
        if set(rows) != set(self.specs):
            raise ValueError(f"an epoch needs rows of {sorted(self.specs)}, got {sorted(rows)}")
        epoch = self.epochs_written
        for name, row in rows.items():
            target = self._arrays[name]
            target[epoch] = np.asarray(row).astype(target.dtype, copy=False)
            try:
                target.flush()
            except OSError as error:
                raise RunWriteError(self.path / array_file(name), error) from error
        if not self._columns:
            self._columns = list(metrics)
            self._csv_lines.append(_csv_line(self._columns))
        line = _csv_line([_csv_value(metrics.get(c)) for c in self._columns])
        self._csv_lines.append(line)
        try:
            self._write_metrics()
        except RunWriteError:
            self._csv_lines.pop()  # the file still holds the epochs before this one
            raise

    def _write_metrics(self) -> None:
        path = self.path / "metrics.csv"
        if self._csv_lines:
            atomic_write_bytes(path, "".join(self._csv_lines).encode())
        else:
            path.unlink(missing_ok=True)

    @property
    def epochs_written(self) -> int:
        """Epochs recorded so far."""
        return max(0, len(self._csv_lines) - 1)

    def finish(
        self, state: str, *, summary: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Ends the run: cuts every per-epoch array to the finished epochs, writes the summary
        and the status."""
        done = self.epochs_written
        if done < self.n_epochs:
            self._arrays = {}  # no map may outlive the part of the file it maps
            for name in self.specs:
                resize_npy_rows(self.path / array_file(name), done)
        if summary is not None:
            atomic_write_json(self.path / "summary.json", summary)
        self.write_status(state, epoch=done, error=error)


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
