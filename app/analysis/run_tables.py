"""Tables and words about runs as a whole: a run's legend label, the runs list, a run's
configuration, the runs comparable with one, and the run a page opens. Pure functions: no
Streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from gdw import corruption_text, method_label, recorded_method_spec

if TYPE_CHECKING:
    from gdw import Run

__all__ = [
    "STATE_ICONS",
    "comparable_runs",
    "config_table",
    "opening_run",
    "run_label",
    "runs_table",
]

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


def opening_run(runs: Sequence[Run]) -> Run | None:
    """The run a page opens on before one is chosen: the newest run, or, when a run with
    class-level weights was trained on the same data and seed, the newest of those.

    A comparison trains its class-level method first and the baselines after it, so its newest
    run is ERM's, whose weights are all 1; a page refreshed after the comparison ended opens its
    GDW run, as it showed while they trained. ``runs`` newest first, as the runs folder lists them.
    """
    readable = [run for run in runs if not run.problems]
    if not readable:
        return runs[0] if runs else None
    newest = readable[0]
    class_level = {
        other.run_id
        for other in comparable_runs(newest, readable)
        if recorded_method_spec(other.method).weight_kind == "class"
    }
    return next((run for run in readable if run.run_id in class_level), newest)
