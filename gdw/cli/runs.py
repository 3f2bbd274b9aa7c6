"""``gdw runs``: every run of a runs folder with its state, epochs, method, data and accuracy."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gdw.config import corruption_text
from gdw.runs.listing import list_runs
from gdw.runs.reader import Run

__all__ = ["add_runs_arguments", "run_record", "run_runs"]


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        default="runs",
        metavar="DIR",
        help="folder of run directories (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")


def run_record(run: Run) -> dict[str, Any]:
    """One run as ``gdw runs --json`` prints it."""
    data = run.data
    planned = run.planned_epochs
    last = None
    if len(run.metrics):
        value = float(run.metrics["test_acc"].iloc[-1])
        last = value if value == value else None
    try:
        data_text = corruption_text(data) if data else None
    except (TypeError, ValueError):
        data_text = None
    return {
        "run": run.run_id,
        "state": run.state,
        "epochs_done": run.epochs_done,
        "epochs": planned,
        "method": run.settings.get("method"),
        "dataset": data.get("dataset"),
        "data": data_text,
        "last_test_acc": last,
        "reason": run.reason or None,
        "error": run.status.get("error"),
    }


def run_runs(args: argparse.Namespace) -> int:
    records = [run_record(run) for run in list_runs(args.runs_dir, include_unreadable=True)]
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    if not records:
        print(f"no runs in {args.runs_dir}")
        return 0
    header = ("run", "state", "epochs", "method", "data", "test acc")
    lines = [header]
    for record in records:
        state = record["state"]
        if record["reason"]:
            state = f"unreadable: {record['reason']}"
        acc = record["last_test_acc"]
        lines.append(
            (
                record["run"],
                state,
                f"{record['epochs_done']}/{record['epochs'] or '?'}",
                record["method"] or "?",
                f"{record['dataset'] or '?'}, {record['data'] or '?'}",
                "–" if acc is None else f"{100 * acc:.1f}%",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths)]
        print("  ".join([*cells, line[-1]]).rstrip())
    return 0
