"""What the label-error ranking costs next to the training of the run it ranks.

For each finished run folder: the run's training time (``metrics.csv``'s ``seconds`` summed over
its epochs: training steps and the test and meta evaluation) and the time of ``gdw label-issues
RUN --out FILE`` (in this process, so without Python's start: reading the run, scoring every
recorded epoch for the trust curve, ranking, and writing the CSV), the median of ``--repeats``
calls, and their ratio. What recording the scores costs during training is the other part of
the ranking's cost: ``python -m gdw bench``'s ``recording_overhead``.

    python scripts/bench_label_issues.py RUN_DIR [RUN_DIR ...] [--repeats 5]

Prints one JSON object per run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
sys.path.insert(1, str(Path(__file__).resolve().parent))  # its neighbours in scripts/
from study_output import run_cost  # noqa: E402

from gdw import load_run  # noqa: E402
from gdw.cli import main as gdw_main  # noqa: E402


def label_issues_seconds(run_dir: Path, repeats: int) -> float:
    """The median wall seconds of ``repeats`` in-process ``gdw label-issues`` calls on
    ``run_dir``; raises ``RuntimeError`` with the command's own message when it refuses."""
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "issues.csv"
        for _ in range(repeats):
            messages = io.StringIO()
            began = time.perf_counter()
            with contextlib.redirect_stderr(messages):
                code = gdw_main(["label-issues", str(run_dir), "--out", str(out)])
            times.append(time.perf_counter() - began)
            if code != 0:
                raise RuntimeError(messages.getvalue().strip())
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument("--repeats", type=int, default=5, metavar="N")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    for run_dir in args.runs:
        try:
            run = load_run(run_dir)
            ranking = label_issues_seconds(run_dir, args.repeats)
        except (OSError, ValueError, RuntimeError) as error:
            print(f"bench_label_issues: {run_dir}: {error}", file=sys.stderr)
            return 2
        training = run_cost(run)
        if not training > 0:
            print(f"bench_label_issues: {run_dir}: recorded no epoch times", file=sys.stderr)
            return 2
        record = {
            "run": run_dir.name,
            "examples": len(run.instances),
            "epochs": run.epochs_done,
            "training_s": round(training, 1),
            "label_issues_s": round(ranking, 3),
            "ratio": round(ranking / training, 4),
        }
        print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
