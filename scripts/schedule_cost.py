"""What a sweep's schedule costs against the same runs with fewer epochs and no warm-up.

    python scripts/schedule_cost.py SWEEP_DIR --against-epochs 10

Timing two whole sweeps, one after the other, compares two moments of a shared machine as much
as two schedules. This compares them inside the same runs instead: every epoch's seconds are in
the run's ``metrics.csv`` (its training steps and its evaluation on the test and meta sets), and
a run of E epochs without a warm-up is E epochs of the steps this run takes after its warm-up,
the same batches, model and evaluation. So for every completed run:

- ``run_s``: the seconds of its epochs, summed (what ``results.csv`` calls ``seconds``);
- ``against_s``: E times the mean seconds of its epochs after the warm-up (every epoch of a run
  without one; for ERM a warm-up epoch is the same step);
- ``ratio``: ``run_s / against_s``, and the same of the sums, per method and for the sweep.

Neither side counts starting the process or loading the data, which both schedules pay once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
sys.path.insert(1, str(Path(__file__).resolve().parent))  # its neighbours in scripts/
from study_output import run_cost  # noqa: E402

from gdw import method_label  # noqa: E402
from gdw.runs.listing import list_runs  # noqa: E402
from gdw.runs.reader import Run  # noqa: E402
from gdw.sweeps.stats import method_order  # noqa: E402


def priced_run(run: Run, against_epochs: int) -> dict[str, float | int | str]:
    """One completed run's measured seconds against ``against_epochs`` of its weighted epochs."""
    seconds = run.metrics["seconds"].astype(float)
    warmup = min(run.warmup_epochs, len(seconds) - 1)  # keep one epoch to price the rest by
    weighted_epoch = float(seconds.iloc[warmup:].mean())
    return {
        "run": run.run_id,
        "method": run.method,
        "epochs": len(seconds),
        "warmup_epochs": warmup,
        "warmup_epoch_s": float(seconds.iloc[:warmup].mean()) if warmup else float("nan"),
        "weighted_epoch_s": weighted_epoch,
        "run_s": run_cost(run),
        "against_s": against_epochs * weighted_epoch,
    }


def schedule_costs(sweep: Path, against_epochs: int) -> pd.DataFrame:
    """:func:`priced_run` of every completed run in ``sweep``, with its ``ratio``."""
    rows = [
        priced_run(run, against_epochs)
        for run in list_runs(sweep / "runs")
        if run.state == "completed" and len(run.metrics)
    ]
    table = pd.DataFrame(rows)
    if not table.empty:
        table["ratio"] = table["run_s"] / table["against_s"]
    return table


def markdown(table: pd.DataFrame, against_epochs: int) -> str:
    """Per method, then the whole sweep: runs, mean epoch seconds, summed seconds, ratio."""
    lines = [
        f"| method | runs | warm-up epoch (s) | weighted epoch (s) | runs (s) "
        f"| {against_epochs} epochs, no warm-up (s) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups = [(method_label(m), table[table["method"] == m]) for m in method_order(table["method"])]
    for label, group in [*groups, ("all", table)]:
        warmup = group["warmup_epoch_s"].mean()  # NaN where no run warmed up (ERM)
        lines.append(
            f"| {label} | {len(group)} | {'–' if pd.isna(warmup) else f'{warmup:.1f}'} "
            f"| {group['weighted_epoch_s'].mean():.1f} | {group['run_s'].sum():,.0f} "
            f"| {group['against_s'].sum():,.0f} "
            f"| {group['run_s'].sum() / group['against_s'].sum():.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, metavar="SWEEP_DIR")
    parser.add_argument(
        "--against-epochs",
        type=int,
        required=True,
        metavar="E",
        help="the schedule to compare with: E epochs, no warm-up",
    )
    args = parser.parse_args(argv)
    if args.against_epochs < 1:
        print(
            f"error: --against-epochs must be 1 or more, got {args.against_epochs}", file=sys.stderr
        )
        return 2
    if not (args.sweep / "runs").is_dir():
        print(f"error: {args.sweep} is not a sweep folder (no runs/ in it)", file=sys.stderr)
        return 2
    table = schedule_costs(args.sweep, args.against_epochs)
    if table.empty:
        print(f"error: {args.sweep} holds no completed runs yet", file=sys.stderr)
        return 2
    print(markdown(table, args.against_epochs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
