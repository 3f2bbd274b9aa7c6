"""The run directory: the one boundary between the trainer and every reader.

The trainer writes a run through :class:`~gdw.runs.writer.RunWriter`; the dashboard, a notebook,
``gdw runs`` and the sweep read it here, and only here (a runs folder's listing,
:mod:`gdw.runs.listing`, reads each run with :func:`load_run`). Every file is read defensively: a
missing, cut short, garbled, non-UTF-8 or wrongly shaped file, a run of a later ``format`` or a
link leading out of the folder is a *problem* of that file, never an exception from deep inside
pandas or NumPy. :func:`load_run` raises :class:`RunReadError` naming the file and the problem
(or, with ``strict=False``, returns what is intact with the problems listed); the listing of a
runs folder (:mod:`gdw.runs.listing`) never raises.
"""

from __future__ import annotations

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
from gdw.runs.files import NpyLayout, RunReadError, array_file
from gdw.runs.state import live_state
from gdw.runs.story import lean

__all__ = ["Run", "load_run"]


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

    @property
    def warmup_epochs(self) -> int:
        """Epochs of plain training before the weighting started (0 for a run recorded before
        there was a warm-up)."""
        warmup = self.resolved.get("warmup_epochs")
        return int(warmup) if isinstance(warmup, (int, float)) else 0

    @cached_property
    def epoch_changes(self) -> tuple[Mapping[str, int], ...]:
        """Each time the run was resumed to another total of epochs (``gdw train --resume RUN
        --epochs N``), oldest first: ``after_epoch`` (the epochs done then), ``from`` and ``to``
        (the totals). Empty for a run trained as first planned."""
        record = self.config.get("epochs_changed")
        keys = ("after_epoch", "from", "to")
        return tuple(
            {key: int(change[key]) for key in keys}
            for change in (record if isinstance(record, list) else [])
            if isinstance(change, dict) and all(isinstance(change.get(k), int) for k in keys)
        )

    def array(self, name: str) -> np.ndarray:
        """The per-epoch array ``name`` (``weights``: ``[epochs, recorded, classes]``) of the
        finished epochs, memory-mapped. Raises :class:`RunReadError` when it is damaged."""
        file = array_file(name)
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
        return name in self.arrays and array_file(name) not in self.problems

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

    def instance_weights(self, epoch: int) -> np.ndarray:
        """Instance weights ``v0`` ``[recorded examples]`` of epoch ``epoch`` (1-based)."""
        return self.epoch_array("instance_weights", epoch)

    def leans(self) -> pd.Series | None:
        """Which way the weighting net leant at every finished epoch (:func:`gdw.runs.story.lean`),
        indexed by epoch: ``metrics.csv``'s column, or for a run recorded before it, computed
        from its instance weights and given-label probabilities; ``None`` when neither is
        there. NaN where it is undefined (ERM's instance weights are all ones)."""
        metrics = self.metrics
        if "lean" in metrics and len(metrics):
            return pd.Series(
                metrics["lean"].to_numpy(dtype=float), index=metrics["epoch"].astype(int)
            )
        if not (self.has_array("instance_weights") and self.has_array("given_prob")):
            return None
        epochs = range(1, self.epochs_done + 1)
        values = [lean(self.instance_weights(e), self.epoch_array("given_prob", e)) for e in epochs]
        return pd.Series(values, index=list(epochs), dtype=float)

    def lean_at(self, epoch: int) -> float | None:
        """:meth:`leans` at ``epoch``; ``None`` when unknown or undefined."""
        series = self.leans()
        value = series.get(epoch) if series is not None else None
        return None if value is None or not np.isfinite(value) else float(value)


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
                array_file(name),
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
