"""Print the story of a run folder: what the class-level step did to mislabelled examples.

    python scripts/story_numbers.py RUN_DIR [--epochs 1,2,3,5,10,20,30]

For each chosen epoch, from ``metrics.csv``: the median instance weight of noisy and clean
examples, the median "dog", "not cat" and "not bird" weights of the noisy ones (and of the clean
ones, "dog" and "not bird"), ``kept_fraction`` and ``true_class_found``, and the chance level of
the latter (1 / (C - 1)). The numbers of docs/story.md come from this script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gdw import STORY_COLUMNS, load_run  # noqa: E402

SHORT = {
    "instance_median_noisy": "instance noisy",
    "instance_median_clean": "instance clean",
    "given_median_noisy": "dog noisy",
    "given_median_clean": "dog clean",
    "true_median_noisy": "not-cat noisy",
    "other_median_noisy": "not-bird noisy",
    "other_median_clean": "not-bird clean",
    "kept_fraction": "kept",
    "true_class_found": "found",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir")
    parser.add_argument("--epochs", default="1,2,3,5,10,20,30")
    args = parser.parse_args(argv)
    run = load_run(args.run_dir)
    metrics = run.metrics
    missing = [c for c in STORY_COLUMNS if c not in metrics]
    if missing:
        print(
            f"error: {args.run_dir} has no story columns ({', '.join(missing)}); it was made "
            "before they were recorded",
            file=sys.stderr,
        )
        return 2
    epochs = [int(e) for e in args.epochs.split(",") if 1 <= int(e) <= run.epochs_done]
    classes = run.classes
    print(
        f"{run.run_id}: {len(classes)} classes, {int(run.instances['is_noisy'].sum())} of "
        f"{len(run.instances)} recorded examples mislabelled; chance of finding the true "
        f"class: {1 / max(len(classes) - 1, 1):.0%}"
    )
    print("epoch " + " ".join(f"{SHORT[c]:>14}" for c in STORY_COLUMNS))
    for epoch in epochs:
        row = metrics.iloc[epoch - 1]
        cells = [
            f"{row[c]:>14.0%}" if c in ("kept_fraction", "true_class_found") else f"{row[c]:>14.3g}"
            for c in STORY_COLUMNS
        ]
        print(f"{epoch:>5} " + " ".join(cells))
    print(f"test accuracy at the end: {metrics['test_acc'].iloc[-1]:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
