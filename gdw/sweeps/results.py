"""Reading a sweep folder: :func:`load_sweep` gives its grid and the rows of its ``results.csv``,
finished or not (a live sweep's running runs too)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gdw.runs.files import RunPathError, RunReadError
from gdw.runs.state import status_state
from gdw.sweeps.spec import SweepSpec
from gdw.sweeps.stats import paired_differences, summary_table

__all__ = ["RESULT_COLUMNS", "SweepResults", "load_sweep"]

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
