"""Sweeps: every method on every corruption setting with every seed, one run directory each.

A sweep folder ``DIR`` holds:

- ``sweep.json``: the grid (methods, settings, seeds and the shared training configuration). A
  rerun with the same grid resumes; a rerun with a different one is refused.
- ``runs/<method>-<setting>-seed<S>/``: one normal run directory per run.
- ``results.csv``: one row per finished or failed run (see :data:`RESULT_COLUMNS`), rewritten
  atomically after every run, so an interrupted sweep leaves a whole file.
- ``summary.md``: mean ± standard deviation per method and setting, and the paired
  comparisons of GDW with MW-Net and with ERM (see :mod:`gdw.sweeps.stats`).
- ``unfinished/``: run folders of half-written runs that cannot be continued (no checkpoint, a
  damaged file, another configuration), moved aside on resume before the run is done again
  (never mixed with a new one). A stopped, failed or interrupted run with a checkpoint is
  continued from it instead.

The same seed means the same meta split, the same corrupted labels, the same initial weights and
the same batch order for every method, so differences between methods can be paired by seed.

Where the runs run is a *backend* (:class:`SweepBackend`): :func:`local_backend` runs them one
after another in this process; :class:`gdw.sweeps.ray_backend.RayBackend` runs each as a Ray task.
Both call :func:`run_one`, and the planning, resuming and the result files are this module's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from gdw.config import ConfigError, DataError, RunConfig
from gdw.registry import method_ids
from gdw.runs.files import RunPathError, RunReadError, atomic_write_bytes, atomic_write_json
from gdw.runs.reader import load_run
from gdw.runs.state import status_state
from gdw.sink import TrainingSink
from gdw.sweeps.presets import Setting
from gdw.sweeps.stats import paired_differences, summary_markdown, summary_table
from gdw.training.resume_point import is_resumable

__all__ = [
    "RESULT_COLUMNS",
    "RunEvent",
    "SweepBackend",
    "SweepOutcome",
    "SweepResults",
    "SweepSink",
    "SweepSpec",
    "load_sweep",
    "local_backend",
    "run_name",
    "run_one",
    "run_sweep",
]

RESULT_COLUMNS = (
    "method",
    "dataset",
    "noise",
    "noise_rate",
    "imbalance",
    "human_labels",
    "seed",
    "final_acc",
    "best_acc",
    "noise_auroc",
    "seconds",
    "meta_acc",
    "run",
    "state",
    "error",
)
"""Columns of ``results.csv``. Accuracies are in percent; ``final_acc`` and ``meta_acc`` are
means over the last 5 epochs (test and meta set); ``noise_auroc`` is that of the last epoch.
``state`` is ``completed``, or ``failed`` with the exception in ``error`` (no numbers).
``human_labels`` is the label set of human noise, empty for the other settings."""

# where a run goes and its files are, not what it is
_IGNORED = ("device", "data.data_root", "data.download", "data.noise_file", "noise_file")


def run_name(method: str, setting: Setting, seed: int) -> str:
    """The run folder's name, e.g. ``gdw-uniform-0.4-imb1-seed0``."""
    return f"{method}-{setting.key}-seed{seed}"


@dataclass(frozen=True)
class SweepSpec:
    """The grid of a sweep and the training shared by all of its runs.

    Attributes:
        base: the shared configuration; its noise, imbalance, seed, method and name are
            replaced per run.
        methods: methods to compare, registered ones (:func:`gdw.registry.method_ids`).
        settings: corruption settings.
        seeds: the seeds; each run of one seed sees the same data for every method.
        preset: the preset's name, if the grid came from one.
        noise_file: the file of human labels of the human-noise settings (``None``: the
            dataset's usual file under the data root); where the file is, not what the sweep is.
    """

    base: RunConfig
    methods: tuple[str, ...]
    settings: tuple[Setting, ...]
    seeds: tuple[int, ...]
    preset: str | None = None
    noise_file: str | None = None

    def __post_init__(self) -> None:
        known = method_ids()
        if not self.methods:
            raise ConfigError(f"a sweep needs at least one method of: {', '.join(known)}")
        for method in self.methods:
            if method not in known:
                raise ConfigError(f"method {method!r} is not one of: {', '.join(known)}")
        if len(set(self.methods)) < len(self.methods):
            raise ConfigError(f"methods {','.join(self.methods)} name a method twice")
        if not self.settings or len(set(self.settings)) < len(self.settings):
            raise ConfigError("a sweep needs at least one setting, each given once")
        if not self.seeds or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in self.seeds
        ):
            raise ConfigError(f"seeds must be whole numbers >= 0, got {list(self.seeds)}")
        if len(set(self.seeds)) < len(self.seeds):
            raise ConfigError(f"seeds {list(self.seeds)} name a seed twice")

    def runs(self) -> list[RunConfig]:
        """Every run, seed by seed: an interrupted sweep has whole seeds of every setting."""
        planned = []
        for seed in self.seeds:
            for setting in self.settings:
                data = dataclasses.replace(self.base.data, **setting.to_dict(), seed=seed)
                if setting.noise == "human":
                    data = dataclasses.replace(data, noise_file=self.noise_file)
                for method in self.methods:
                    name = run_name(method, setting, seed)
                    planned.append(self.base.replace(data=data, method=method, name=name))
        return planned

    def to_dict(self) -> dict[str, Any]:
        record = {
            "preset": self.preset,
            "methods": list(self.methods),
            "settings": [setting.to_dict() for setting in self.settings],
            "seeds": list(self.seeds),
            "base": self.base.to_dict(),
        }
        if self.noise_file is not None:
            record["noise_file"] = self.noise_file
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SweepSpec:
        return cls(
            base=RunConfig.from_dict(record["base"]),
            methods=tuple(record["methods"]),
            settings=tuple(Setting(**setting) for setting in record["settings"]),
            seeds=tuple(int(seed) for seed in record["seeds"]),
            preset=record.get("preset"),
            noise_file=record.get("noise_file"),
        )

    def differences(self, other: SweepSpec) -> list[str]:
        """What differs from ``other``, as ``name (here X, there Y)``; the device is ignored."""
        mine, theirs = _flat(self.to_dict()), _flat(other.to_dict())
        return [
            f"{key.removeprefix('base.')} ({_short(mine.get(key))} here, "
            f"{_short(theirs.get(key))} there)"
            for key in sorted(set(mine) | set(theirs))
            if key.removeprefix("base.") not in _IGNORED and mine.get(key) != theirs.get(key)
        ]


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
    with _locked(out):
        command = _claim(out, spec, command)
        rows: dict[str, dict[str, Any]] = {}
        moved: list[str] = []
        resumed: list[str] = []
        for config in planned:
            row = _finished_row(out, config)
            if row is not None:
                rows[config.name] = row
            elif is_resumable(out / "runs" / config.name, config):
                resumed.append(config.name)  # _run_one continues it from its checkpoint
            elif (out / "runs" / config.name).exists():
                moved.append(_move_aside(out, config.name))
        _write_results(out, spec, planned, rows, {}, command)
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
                    rows[event.name] = _finished_row(out, by_name[event.name]) or {}
                elif event.error is not None:
                    failed[event.name] = event.error
                _write_results(out, spec, planned, rows, failed, command)
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
    (:func:`gdw.training.resume_point.is_resumable`), else moved to ``unfinished/`` first.

    Raises:
        ConfigError, DataError: bad input, raised before the run folder exists; every run of
            the sweep would fail the same.
    """
    from gdw.training.trainer import (
        resume,
        run,
    )  # torch: in the process that trains, not a Ray driver

    folder = out / "runs" / config.name
    moved = None
    if folder.exists() and not is_resumable(folder, config):
        moved = _move_aside(out, config.name)
    try:
        if folder.exists():  # resumable: every other leftover was moved aside above
            resume(folder, stop_event=stop_event, sinks=sinks)
        else:
            run(config, runs_dir=out / "runs", stop_event=stop_event, sinks=sinks)
    except (ConfigError, DataError):
        raise
    except Exception as exc:  # noqa: BLE001 - the run folder says failed; the sweep goes on
        return RunEvent(config.name, "failed", f"{type(exc).__name__}: {exc}", moved)
    return RunEvent(config.name, load_run(out / "runs" / config.name).state, None, moved)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Refuses a second process on the same sweep folder (where ``fcntl`` exists)."""
    try:
        import fcntl
    except ImportError:  # not on Windows: no lock
        yield
        return
    with open(out / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another sweep is running in {out}; wait for it or stop it"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _claim(out: Path, spec: SweepSpec, command: str | None) -> str | None:
    """Writes ``sweep.json``, or checks that the one there describes ``spec``; returns the
    command line on record."""
    path = out / "sweep.json"
    if path.exists():
        record = json.loads(path.read_text())
        differences = spec.differences(SweepSpec.from_dict(record["spec"]))
        if differences:
            how = (
                f"run: {record['command']}"
                if record.get("command")
                else f"rerun with the flags in {path.name}"
            )
            raise ConfigError(
                f"{out} holds a sweep with other settings: {'; '.join(differences)}; to continue "
                f"it, {how}; or choose another --out"
            )
        return record.get("command") or command
    if any(child.name != ".lock" for child in out.iterdir()):
        raise ConfigError(f"{out} is not empty and holds no sweep.json; choose another --out")
    record = {"spec": spec.to_dict(), "command": command, "created": datetime.now().isoformat()}
    atomic_write_json(path, record)
    return command


def _finished_row(out: Path, config: RunConfig) -> dict[str, Any] | None:
    """The results row of ``config``'s run, if its folder holds that run, completed."""
    try:
        loaded = load_run(out / "runs" / config.name)
    except (RunPathError, ValueError, OSError):
        return None
    if loaded.state != "completed" or not loaded.summary or loaded.metrics.empty:
        return None
    # Read back as a RunConfig, so that a run recorded before a field existed has its default.
    if loaded.run_config is None:
        return None
    recorded = {k: v for k, v in _flat(loaded.run_config.to_dict()).items() if k not in _IGNORED}
    planned = {k: v for k, v in _flat(config.to_dict()).items() if k not in _IGNORED}
    if recorded != planned:
        return None  # a run of something else under this name: redo it
    summary, data = loaded.summary, config.data

    def percent(value: Any) -> float:
        return float("nan") if value is None else 100.0 * float(value)

    auroc = summary.get("final_noise_auroc")
    return {
        "method": config.method,
        "dataset": data.dataset,
        "noise": data.noise,
        "noise_rate": data.noise_rate,
        "imbalance": data.imbalance,
        "human_labels": data.human_labels or "",
        "seed": data.seed,
        "final_acc": percent(summary.get("last5_test_acc")),
        "best_acc": percent(summary.get("best_test_acc")),
        "noise_auroc": float("nan") if auroc is None else float(auroc),
        "seconds": float(summary.get("seconds") or float("nan")),
        "meta_acc": 100.0 * float(loaded.metrics["meta_acc"].tail(5).mean()),
        "run": config.name,
        "state": "completed",
        "error": None,
    }


def _failed_row(config: RunConfig, error: str) -> dict[str, Any]:
    """The results row of a run that raised: what it was, no numbers."""
    data = config.data
    what = {"method": config.method, "dataset": data.dataset, "noise": data.noise}
    where = {"noise_rate": data.noise_rate, "imbalance": data.imbalance, "seed": data.seed}
    where["human_labels"] = data.human_labels or ""
    return {**what, **where, "run": config.name, "state": "failed", "error": error}


def _move_aside(out: Path, name: str) -> str:
    """Moves an unfinished run folder to ``unfinished/``; returns its new name."""
    aside = out / "unfinished"
    aside.mkdir(exist_ok=True)
    target, number = aside / name, 1
    while target.exists():
        number += 1
        target = aside / f"{name}-{number}"
    shutil.move(str(out / "runs" / name), target)
    return target.name


def _write_results(
    out: Path,
    spec: SweepSpec,
    planned: list[RunConfig],
    rows: dict[str, dict[str, Any]],
    failed: dict[str, str],
    command: str | None,
) -> None:
    ordered = [
        rows[config.name] if config.name in rows else _failed_row(config, failed[config.name])
        for config in planned
        if config.name in rows or config.name in failed
    ]
    table = pd.DataFrame(ordered, columns=list(RESULT_COLUMNS))
    atomic_write_bytes(out / "results.csv", table.to_csv(index=False, float_format="%.6g").encode())
    finished = table[table["state"] == "completed"]
    text = summary_markdown(
        finished, spec=spec.to_dict(), planned=len(planned), failed=failed, command=command
    )
    atomic_write_bytes(out / "summary.md", text.encode())


@dataclass(frozen=True)
class SweepResults:
    """A read-only view of a sweep folder, as it was when loaded (finished or not).

    Attributes:
        path: the sweep folder.
        spec: its grid.
        results: the rows of ``results.csv`` (:data:`RESULT_COLUMNS`) of the finished runs.
        command: the command line that started it, when known.
        failed: the runs that failed, name to error message.
        running: the runs whose folder says ``running`` (a live sweep, or one that was killed).
    """

    path: Path
    spec: SweepSpec
    results: pd.DataFrame
    command: str | None = None
    failed: dict[str, str] = field(default_factory=dict)
    running: tuple[str, ...] = ()

    @property
    def planned(self) -> int:
        return len(self.spec.methods) * len(self.spec.settings) * len(self.spec.seeds)

    def table(self) -> pd.DataFrame:
        """Mean and standard deviation over seeds per setting and method (see
        :func:`gdw.sweeps.stats.summary_table`)."""
        return summary_table(self.results)

    def paired(self, method: str = "gdw", baseline: str = "mwnet") -> pd.DataFrame:
        """``method`` minus ``baseline`` per setting, paired by seed (see
        :func:`gdw.sweeps.stats.paired_differences`)."""
        return paired_differences(self.results, method=method, baseline=baseline)


def load_sweep(path: str | Path) -> SweepResults:
    """Reads a sweep folder. Raises ``RunPathError`` when ``path`` holds no sweep, and its
    subclass ``RunReadError`` naming ``sweep.json`` or ``results.csv`` when one is damaged."""
    path = Path(path)
    try:
        record = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
        spec = SweepSpec.from_dict(record["spec"])
    except FileNotFoundError:
        raise RunPathError(f"{path} is not a sweep folder (no sweep.json)") from None
    except UnicodeDecodeError:
        raise RunReadError(path, "sweep.json", "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RunReadError(path, "sweep.json", f"is not valid JSON ({exc.msg})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RunReadError(path, "sweep.json", f"does not describe a sweep ({exc})") from None
    try:
        results = pd.read_csv(path / "results.csv")
    except (FileNotFoundError, pd.errors.EmptyDataError):
        results = pd.DataFrame(columns=list(RESULT_COLUMNS))
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RunReadError(path, "results.csv", f"is not a readable table ({reason})") from None
    # state, error and human_labels came later: a results.csv written before them lists
    # completed runs of drawn noise
    later = ("state", "error", "human_labels")
    missing = [c for c in RESULT_COLUMNS if c not in results and c not in later]
    if missing:
        raise RunReadError(path, "results.csv", f"has no column {', '.join(missing)}")
    try:
        results = results.astype({"noise_rate": float, "imbalance": float, "final_acc": float})
    except (TypeError, ValueError) as exc:
        problem = f"holds a value that is not a number ({exc})"
        raise RunReadError(path, "results.csv", problem) from None
    states = results["state"] if "state" in results else pd.Series("completed", results.index)
    failed_rows = results[states == "failed"]
    errors = failed_rows["error"] if "error" in failed_rows else pd.Series("", failed_rows.index)
    failed = dict(zip(failed_rows["run"], errors.fillna("").astype(str)))
    results = results[states != "failed"].reset_index(drop=True)
    running = _running_runs(path / "runs", set(results["run"]) | set(failed))
    return SweepResults(path, spec, results, record.get("command"), failed, running)


def _running_runs(runs: Path, ended: set[str]) -> tuple[str, ...]:
    """Run folders under ``runs`` whose status says they are training now (a killed run's
    process is gone: :func:`gdw.runs.state.live_state` calls it ``interrupted``), but ``ended``."""
    try:
        folders = sorted(p for p in runs.iterdir() if p.name not in ended)
    except OSError:
        return ()
    return tuple(folder.name for folder in folders if status_state(folder) == "running")
