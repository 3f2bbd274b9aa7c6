"""``gdw label-issues RUN_DIR``: the ranked CSV of a run's suspected label errors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gdw.config import ConfigError
from gdw.runs.files import RunPathError, atomic_write_bytes
from gdw.runs.label_issues import (
    DEFAULT_LAST_EPOCHS,
    FLAG_RULE,
    LabelIssuesError,
    find_label_issues,
    label_issues_csv,
)
from gdw.runs.label_quality import IMPROVING_EPOCHS, IMPROVING_RISE
from gdw.runs.label_scores import score_ids, score_spec
from gdw.runs.label_summary import improving_note, summary_line, trust_warning
from gdw.runs.reader import load_run

__all__ = ["add_label_issues_arguments", "run_label_issues"]


def add_label_issues_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run directory")
    parser.add_argument(
        "--epochs",
        type=int,
        default=DEFAULT_LAST_EPOCHS,
        metavar="LAST_K",
        help="average the scores over the last LAST_K epochs (default: %(default)s)",
    )
    parser.add_argument(
        "--score",
        metavar="NAME",
        help="rank by this score instead of the method's default: "
        + "; ".join(f"{s} ({score_spec(s).description})" for s in score_ids()),
    )
    parser.add_argument("--top", type=int, metavar="K", help="write only the K most suspect")
    parser.add_argument(
        "--out", metavar="FILE", help="write the CSV to FILE (replaced whole) instead of stdout"
    )
    parser.add_argument(
        "--allow-running", action="store_true", help="rank a run that is still training"
    )
    parser.epilog = (
        f"is_label_issue: {FLAG_RULE}. Canaries (--canaries) are left out. A ranking that does "
        "not find the run's known errors or canaries (AUROC below 0.7) comes with a warning; "
        f"one whose AUROC rose by {IMPROVING_RISE:g} or more over the last {IMPROVING_EPOCHS} "
        "epochs says so, with the command that trains the run on."
    )


def run_label_issues(args: argparse.Namespace) -> int:
    if args.top is not None and args.top < 1:
        raise ConfigError(f"--top must be a whole number >= 1, got {args.top}")
    path = Path(args.run_dir)
    if not path.is_dir():
        raise ConfigError(f"no run folder {path}; give the folder of a run, e.g. runs/<run-id>")
    try:
        run = load_run(path)
        issues = find_label_issues(
            run,
            score=args.score,
            last_epochs=args.epochs,
            top=args.top,
            allow_running=args.allow_running,
        )
    except (RunPathError, LabelIssuesError) as error:
        raise ConfigError(str(error)) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read the run folder {path} ({error})") from None
    data = label_issues_csv(issues.table)
    if args.out:
        atomic_write_bytes(Path(args.out), data)
    else:
        sys.stdout.write(data.decode())
    print(f"gdw: {summary_line(issues.summary)}", file=sys.stderr)
    warning = trust_warning(issues.summary)
    if warning is not None:
        print(f"gdw: warning: {warning}", file=sys.stderr)
    note = improving_note(issues.summary)
    if note is not None:
        more = f" (gdw train --resume {path} --epochs N, N > {issues.summary['epochs'][1]})"
        print(f"gdw: {note}{more if issues.summary['finished'] else ''}", file=sys.stderr)
    return 0
