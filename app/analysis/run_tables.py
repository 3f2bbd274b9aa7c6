"""Tables and words about runs as a whole: a run's legend label, the runs list, a run's
configuration, and the runs comparable with one. Pure functions: no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from gdw import corruption_text, method_label

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["STATE_ICONS", "comparable_runs", "config_table", "run_label", "runs_table"]

STATE_ICONS = {
    "running": "▶",
    "completed": "✓",
    "stopped": "■",
    "failed": "✗",
    "interrupted": "⚠",
    "unreadable": "⊘",
}
"""A run's state as one symbol, before its name in the runs list and the run choice."""


def run_label(run: Run) -> str:
    """A short legend label: method, then the run id."""
    return f"{method_label(run.method)} · {run.run_id}"


def _planned_epochs(run: Run) -> Any:
    return run.planned_epochs or "?"


def runs_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run for the runs list: id, method, data, state, progress, test accuracy."""
    rows = []
    for run in runs:
        data = run.data
        last = run.metrics.iloc[-1] if len(run.metrics) else None
        started = run.status.get("started_at")
        rows.append(
            {
                "run": run.run_id,
                "method": method_label(run.method) if run.settings else "",
                "dataset": data.get("dataset"),
                "data": corruption_text(data) if data else "",
                "state": f"unreadable: {run.reason}" if run.problems else run.state,
                "epochs": f"{run.epochs_done}/{_planned_epochs(run)}",
                "test acc %": None if last is None else round(100 * float(last["test_acc"]), 1),
                "started": (
                    pd.Timestamp(started, unit="s", tz="UTC")
                    .tz_convert(None)
                    .strftime("%Y-%m-%d %H:%M")
                    if started
                    else ""
                ),
            }
        )
    columns = ["run", "method", "dataset", "data", "state", "epochs", "test acc %", "started"]
    return pd.DataFrame(rows, columns=columns)


def config_table(run: Run) -> pd.DataFrame:
    """The run's configuration flattened to ``setting, value`` rows (resolved values marked)."""
    rows: list[tuple[str, str]] = []

    unset = {
        "data.train_subset": "all",
        "data.num_meta": "default (by dataset)",
        "epochs": "default (by dataset)",
        "outer_lr": "default (by classes)",
        "record_limit": "automatic",
        "name": "–",
    }

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            rows.append((prefix, unset.get(prefix, "–") if value is None else str(value)))

    walk("", dict(run.settings))
    walk("resolved", dict(run.resolved))
    walk("recording", dict(run.recording))
    walk("versions", run.config.get("versions", {}))
    return pd.DataFrame(rows, columns=["setting", "value"])


def comparable_runs(run: Run, runs: Sequence[Run]) -> list[Run]:
    """Runs trained on the same data and seed as ``run`` (itself first): the side-by-side set."""
    same = [other for other in runs if not other.problems and other.data == run.data]
    return [run] + [other for other in same if other.run_id != run.run_id]
