"""Which single-run score finds label errors best: the candidates of the literature, measured.

For every completed run in the given sweep folders whose label errors are known (injected or
human noise), this scores each example from the run's recorded history (one value per epoch:
the given label's margin and probability at the example's visit, the class-level weights) in
each of these ways, low = suspect, and measures the AUROC against the known errors and the
precision among the k lowest (k = the number of errors):

- ``margin, last 5`` (``gdw label-issues``' default), ``last 3``, ``last epoch``, ``last half``;
- ``given_prob, last 5``: the given label's probability (cleanlab's self-confidence);
- ``AUM``: the margin averaged over every epoch after the first (Area Under the Margin, Pleiss et
  al. 2020, on probabilities rather than logits);
- ``confidence, after the first`` and ``variability``: Dataset Cartography's two axes (Swayamdipta
  et al. 2020), the mean and the standard deviation of the given label's probability over every
  epoch after the first; a mislabelled example is low on both, so low variability is suspect;
- ``forgetting``: minus the number of forgetting events (Toneva et al. 2019: predicted right, then
  wrong, the next epoch), an example never predicted right counting as the most forgotten;
- ``margin, class-normalised``: the last-5 margin minus the mean of the examples given the same
  label (confident learning's per-class threshold, as a score);
- ``margin + given-class weight``: the mean of the two ranks, for methods with class-level
  weights (GDW's "dog" bar and the model's margin together).

Every score costs a pass over arrays the run already recorded: no training.

Usage::

    python scripts/label_score_study.py SWEEP_DIR [SWEEP_DIR ...] [--csv FILE]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere, uninstalled
sys.path.insert(1, str(Path(__file__).resolve().parent))  # its neighbours in scripts/
from study_output import report, sweeps_missing  # noqa: E402

from gdw import Run, corruption_text, list_runs, method_label, recorded_method_spec  # noqa: E402
from gdw.runs.label_quality import ranking_quality  # noqa: E402
from gdw.runs.ranks import midranks  # noqa: E402

History = dict[str, np.ndarray]
"""A run's recorded history: ``margin``, ``given_prob`` (and ``given_weight`` for runs with
class-level weights), each ``[E, R]``, epoch 1 first, and ``given`` ``[R]``."""


def _class_normalised(scores: np.ndarray, given: np.ndarray) -> np.ndarray:
    means = np.bincount(given, weights=scores) / np.maximum(np.bincount(given), 1)
    return scores - means[given]


def _forgetting(margin: np.ndarray) -> np.ndarray:
    right = margin > 0  # the given label predicted
    events = (right[:-1] & ~right[1:]).sum(axis=0).astype(np.float64)
    never = ~right.any(axis=0)
    # ties broken by AUM, so that the score ranks every example
    return -np.where(never, margin.shape[0] + 1, events) + 1e-3 * margin[1:].mean(axis=0)


CANDIDATES: dict[str, Callable[[History], np.ndarray]] = {
    "margin, last 5 (label-issues)": lambda h: h["margin"][-5:].mean(axis=0),
    "margin, last 3": lambda h: h["margin"][-3:].mean(axis=0),
    "margin, last epoch": lambda h: h["margin"][-1],
    "margin, last half": lambda h: h["margin"][h["margin"].shape[0] // 2 :].mean(axis=0),
    "given_prob, last 5": lambda h: h["given_prob"][-5:].mean(axis=0),
    "AUM (margin after the first epoch)": lambda h: h["margin"][1:].mean(axis=0),
    "confidence after the first epoch": lambda h: h["given_prob"][1:].mean(axis=0),
    "variability (low = suspect)": lambda h: h["given_prob"][1:].std(axis=0),
    "forgetting events": lambda h: _forgetting(h["margin"]),
    "margin, class-normalised": lambda h: _class_normalised(
        h["margin"][-5:].mean(axis=0), h["given"]
    ),
    "margin + given-class weight (ranks)": lambda h: (
        midranks(h["margin"][-5:].mean(axis=0)) + midranks(h["given_weight"][-5:].mean(axis=0))
    ),
}


NEEDS_CLASS_WEIGHTS = {"margin + given-class weight (ranks)"}


def history(run: Run) -> History:
    """The run's recorded history (see :data:`History`)."""
    epochs = range(1, run.epochs_done + 1)
    given = run.instances["given_label"].to_numpy(dtype=np.int64)
    out = {
        name: np.stack([run.epoch_array(name, e).astype(np.float64) for e in epochs])
        for name in ("margin", "given_prob")
    }
    if recorded_method_spec(run.method).weight_kind == "class":
        rows = np.arange(given.size)
        out["given_weight"] = np.stack(
            [run.epoch_array("weights", e)[rows, given].astype(np.float64) for e in epochs]
        )
    return {**out, "given": given}


def study(sweeps: list[Path]) -> pd.DataFrame:
    """One row per run and candidate: AUROC and precision at k against the known errors."""
    rows = []
    for sweep in sweeps:
        for run in list_runs(sweep / "runs"):
            if run.state != "completed" or run.data.get("noise", "none") == "none":
                continue
            instances = run.instances
            keep = ~instances.get("is_canary", pd.Series(0, index=instances.index)).astype(bool)
            truth = instances["is_noisy"].astype(bool).to_numpy()[keep.to_numpy()]
            recorded = history(run)
            for name, score in CANDIDATES.items():
                if name in NEEDS_CLASS_WEIGHTS and "given_weight" not in recorded:
                    continue
                quality = ranking_quality(score(recorded)[keep.to_numpy()], truth, int(truth.sum()))
                rows.append(
                    {
                        "sweep": sweep.name,
                        "data": run.dataset,
                        "setting": corruption_text(run.data),
                        "run": run.run_id,
                        "method": method_label(run.method),
                        "epochs": run.epochs_done,
                        "score": name,
                        "auroc": quality["auroc"],
                        "precision_at_k": quality["precision_at_k"],
                    }
                )
    return pd.DataFrame(rows)


def markdown(results: pd.DataFrame) -> str:
    """Mean over the runs (seeds) of a data set, setting, method and length (lowest in
    brackets), one line per score."""
    lines = [
        "| data | setting | method | epochs | runs | score | AUROC | precision at k |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    keys = ["data", "setting", "method", "epochs", "score"]
    for (data, setting, method, epochs, score), group in results.groupby(keys, sort=False):
        auroc, precision = group["auroc"], group["precision_at_k"]
        lines.append(
            f"| {data} | {setting} | {method} | {epochs} | {len(group)} | {score} | "
            f"{auroc.mean():.3f} ({auroc.min():.3f}) | "
            f"{precision.mean():.3f} ({precision.min():.3f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP_DIR")
    parser.add_argument("--csv", type=Path, help="also write one row per run and score")
    args = parser.parse_args(argv)
    if sweeps_missing(args.sweeps):
        return 2
    results = study(args.sweeps)
    if results.empty:
        print("error: no completed run with known label errors in those folders", file=sys.stderr)
        return 2
    return report(results, markdown(results), args.csv)


if __name__ == "__main__":
    sys.exit(main())
