"""What the label-finding study scripts share at their edges: checking the sweep folders they
are given, reading a run's training time, and handing over their results (a markdown table on
stdout, one row per measurement in ``--csv``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from gdw import Run


def sweeps_missing(sweeps: Sequence[Path]) -> bool:
    """True, after the one-line error, when any of ``sweeps`` is not a sweep folder."""
    missing = [str(p) for p in sweeps if not (p / "runs").is_dir()]
    if missing:
        print(f"error: no sweep folder (with runs/) at {', '.join(missing)}", file=sys.stderr)
    return bool(missing)


def run_cost(run: Run) -> float:
    """The wall seconds of the run's epochs, summed (``metrics.csv``'s ``seconds``: each epoch's
    training steps and its test and meta evaluation); NaN for a run that did not record them."""
    if "seconds" not in run.metrics:
        return float("nan")
    return float(run.metrics["seconds"].sum())


def report(results: pd.DataFrame, table: str, csv: Path | None) -> int:
    """Writes ``results`` to ``csv`` (when given) and prints ``table``; the exit code, 0."""
    if csv:
        results.to_csv(csv, index=False, float_format="%.6g")
    print(table)
    return 0
