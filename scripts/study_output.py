"""What the label-finding study scripts share at their edges: checking the sweep folders they
are given, and handing over their results (a markdown table on stdout, one row per measurement
in ``--csv``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def sweeps_missing(sweeps: Sequence[Path]) -> bool:
    """True, after the one-line error, when any of ``sweeps`` is not a sweep folder."""
    missing = [str(p) for p in sweeps if not (p / "runs").is_dir()]
    if missing:
        print(f"error: no sweep folder (with runs/) at {', '.join(missing)}", file=sys.stderr)
    return bool(missing)


def report(results: pd.DataFrame, table: str, csv: Path | None) -> int:
    """Writes ``results`` to ``csv`` (when given) and prints ``table``; the exit code, 0."""
    if csv:
        results.to_csv(csv, index=False, float_format="%.6g")
    print(table)
    return 0
