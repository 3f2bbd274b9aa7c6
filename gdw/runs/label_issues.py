"""Suspected label errors of a run: a ranked list, a suggested label, a stated flag rule, and
how far the ranking can be trusted.

The ranking is pure functions over recorded arrays (:mod:`gdw.runs.label_scores`,
:func:`suggested_labels`, :func:`flag_issues`, and the measures of its quality in
:mod:`gdw.runs.label_quality`); :func:`find_label_issues` reads them from a run folder, and
:mod:`gdw.runs.label_summary` says what it found in words. A run is ranked by one of the scores of
:mod:`gdw.runs.label_scores` (``score=``, ``--score``), by default the one its method's
registry entry names (:attr:`gdw.registry.MethodSpec.label_score`); a low score means "suspect",
averaged over the last epochs because one epoch's value is noisy.

The flag rule (:data:`FLAG_RULE`) was fixed before looking at any injected noise and is not
tuned on it: an example is flagged when the class the model predicted most often over those
epochs is not its given label *and* its score is below the mean score of the examples given the
same label (the per-class threshold of confident learning).

Canaries (planted errors, ``--canaries``) are known to be wrong: they are left out of the list,
and how well the ranking finds them is the trust estimate for data without known errors. Where
the errors are known (injected or human noise), they measure the ranking directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gdw.registry import recorded_method_spec
from gdw.runs.files import array_file
from gdw.runs.label_quality import (
    canary_quality,
    flag_quality,
    still_improving,
    trust,
    trust_by_epoch,
)
from gdw.runs.label_scores import score_ids, score_spec

if TYPE_CHECKING:
    from gdw.runs.reader import Run

__all__ = [
    "COLUMNS",
    "DEFAULT_LAST_EPOCHS",
    "FLAG_RULE",
    "LabelIssues",
    "LabelIssuesError",
    "default_score",
    "find_label_issues",
    "flag_issues",
    "held_scores",
    "label_issues_csv",
    "run_default_score",
    "score_window",
    "suggested_labels",
]

DEFAULT_LAST_EPOCHS = 5
FLAG_RULE = (
    "flagged when the most frequent prediction differs from the given label and the score is "
    "below the mean score of the examples given the same label"
)
COLUMNS = (
    "index",
    "source",
    "given_label",
    "given_class",
    "suggested_label",
    "suggested_class",
    "label_score",
    "score",
    "is_label_issue",
)


class LabelIssuesError(ValueError):
    """The run cannot be ranked (no recorded examples, still running, too old); says why."""


def default_score(method: str) -> str:
    """The score a run of ``method`` is ranked by unless another is asked for: its registry
    entry's :attr:`~gdw.registry.MethodSpec.label_score` (for a method that is not registered
    any more, the registry's default: the given label's margin)."""
    return recorded_method_spec(method).label_score


def held_scores(run: Run) -> list[str]:
    """The scores whose arrays ``run`` recorded (a run of an older version lacks some)."""
    return [s for s in score_ids() if all(run.has_array(a) for a in score_spec(s).arrays)]


def run_default_score(run: Run) -> str:
    """:func:`default_score` of the run's method, or, for a run recorded before that score's
    arrays were, the given label's probability (or weight) that it has."""
    held = held_scores(run)
    preferred = default_score(run.method)
    return next((s for s in (preferred, "given_prob", "given_weight") if s in held), preferred)


def suggested_labels(predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """The class predicted most often over the epochs; ties go to the lower class index.

    Args:
        predicted: int ``[K, R]``, the predicted class of each example in each epoch.
        n_classes: number of classes ``C``.

    Returns:
        int64 ``[R]``.
    """
    predicted = np.asarray(predicted, dtype=np.int64)
    counts = np.zeros((predicted.shape[1], n_classes), dtype=np.int64)  # [R, C]
    rows = np.broadcast_to(np.arange(predicted.shape[1]), predicted.shape)
    np.add.at(counts, (rows, predicted), 1)
    return counts.argmax(axis=1)


def flag_issues(scores: np.ndarray, given: np.ndarray, suggested: np.ndarray) -> np.ndarray:
    """:data:`FLAG_RULE`: bool ``[R]`` from scores, given and suggested labels ``[R]``."""
    scores, given = np.asarray(scores, dtype=np.float64), np.asarray(given, dtype=np.int64)
    n_classes = int(given.max()) + 1 if given.size else 0
    totals = np.bincount(given, weights=scores, minlength=n_classes)
    counts = np.bincount(given, minlength=n_classes)
    threshold = totals / np.maximum(counts, 1)  # mean score per given label
    return (np.asarray(suggested) != given) & (scores < threshold[given])


@dataclass(frozen=True)
class LabelIssues:
    """A run's ranked list and what is known of its quality.

    Attributes:
        table: :data:`COLUMNS`, one row per recorded example that is not a canary, most
            suspect first.
        summary: method, score kind, epochs used, counts, the rule, and precision and recall of
            the flag against the injected noise (None without noise) and the canary trust
            estimate (None without canaries).
    """

    table: pd.DataFrame
    summary: dict[str, Any]


def _check_ready(run: Run, allow_running: bool, score: str) -> None:
    if run.state == "running" and not allow_running:
        raise LabelIssuesError(
            f"run {run.run_id} is still running (epoch {run.epochs_done}); wait for it to end, "
            "or pass --allow-running to rank its finished epochs"
        )
    if len(run.instances) == 0 or run.epochs_done == 0:
        raise LabelIssuesError(
            f"run {run.run_id} recorded no weights (no recorded examples or no finished "
            "epoch); train with --record-limit unset or > 0 for at least one epoch"
        )
    if not run.has_array("predicted"):
        raise LabelIssuesError(
            f"run {run.run_id} has no predicted.npy (made by an older version); train it again"
        )
    missing = [name for name in score_spec(score).arrays if not run.has_array(name)]
    if missing:
        held = held_scores(run)
        raise LabelIssuesError(
            f"run {run.run_id} has no {', '.join(array_file(m) for m in missing)} for the score "
            f"{score!r} (made by an older version); use --score "
            + (" or ".join(held) if held else "... after training it again")
        )


def score_window(last: int, last_epochs: int) -> range:
    """The epochs (1-based) whose scores the ranking after epoch ``last`` averages."""
    return range(max(1, last - last_epochs + 1), last + 1)


def _scores_by_epoch(run: Run, score: str, given: np.ndarray, last: int) -> np.ndarray:
    """``[last, R]``: each epoch's score, epoch 1 first (float64)."""
    spec = score_spec(score)
    return np.stack(
        [
            np.asarray(
                spec.per_epoch({name: run.epoch_array(name, e) for name in spec.arrays}, given),
                dtype=np.float64,
            )
            for e in range(1, last + 1)
        ]
    )


def find_label_issues(
    run: Run,
    *,
    score: str | None = None,
    last_epochs: int = DEFAULT_LAST_EPOCHS,
    top: int | None = None,
    allow_running: bool = False,
    until: int | None = None,
) -> LabelIssues:
    """Ranks a run's recorded examples by a score averaged over its last ``last_epochs`` (the
    ``last_epochs`` up to epoch ``until``, when given), and measures the ranking's trust as it
    stood after each epoch (the summary's ``trust_by_epoch`` and ``still_improving``).

    Args:
        score: a score of :mod:`gdw.runs.label_scores` (``None``: :func:`run_default_score`).

    Raises:
        LabelIssuesError: the run is running (unless ``allow_running``), recorded nothing, or
            is too old to hold what the score reads; ``last_epochs`` < 1; an unknown score.
    """
    if isinstance(last_epochs, bool) or not isinstance(last_epochs, int) or last_epochs < 1:
        raise LabelIssuesError(f"--epochs must be a whole number >= 1, got {last_epochs!r}")
    score = run_default_score(run) if score is None else score
    if score not in score_ids():
        raise LabelIssuesError(f"--score {score!r} is not one of: {', '.join(score_ids())}")
    _check_ready(run, allow_running, score)
    instances = run.instances
    classes = run.classes
    last = run.epochs_done if until is None else max(1, min(int(until), run.epochs_done))
    epochs = score_window(last, last_epochs)
    first = epochs.start
    given = instances["given_label"].to_numpy(dtype=np.int64)
    spec = score_spec(score)
    by_epoch = _scores_by_epoch(run, score, given, last)
    scores = by_epoch[first - 1 :].mean(axis=0)
    predicted = np.stack([run.epoch_array("predicted", e) for e in epochs])
    suggested = suggested_labels(predicted, len(classes))
    flagged = flag_issues(scores, given, suggested)
    canary = _column(instances, "is_canary")
    errors = _column(instances, "is_noisy")  # injected or human noise, and the canaries
    source = instances["source"] if "source" in instances else instances["index"]
    keep = ~canary
    order = np.flatnonzero(keep)[np.argsort(scores[keep], kind="stable")]
    table = pd.DataFrame(
        {
            "index": instances["index"].to_numpy()[order],
            "source": source.to_numpy()[order],
            "given_label": given[order],
            "given_class": [classes[c] for c in given[order]],
            "suggested_label": suggested[order],
            "suggested_class": [classes[c] for c in suggested[order]],
            "label_score": scores[order],
            "score": score,
            "is_label_issue": flagged[order],
        }
    )
    if top is not None:
        table = table.head(top)
    known = _known_errors(run)
    summary = {
        "run": run.run_id,
        "method": run.method,
        "score": score,
        "score_label": spec.label,
        "epochs": [first, last],
        "ranked": int(keep.sum()),
        "flagged": int(flagged[keep].sum()),
        "rule": FLAG_RULE,
        "recorded_subset": bool(run.recording.get("subset", False)),
        "noise": flag_quality(flagged[keep], (errors & ~canary)[keep]) if known else None,
        "canaries": canary_quality(scores, flagged, canary),
        "lean": run.lean_at(last),
    }
    truth = errors if known else canary
    summary["trust"] = trust(scores, truth, source="known errors" if known else "canaries")
    curve = trust_by_epoch(
        by_epoch, truth, [score_window(e, last_epochs) for e in range(1, last + 1)]
    )
    summary["trust_by_epoch"] = [{"epoch": e, "auroc": a} for e, a in enumerate(curve, start=1)]
    summary["still_improving"] = still_improving(curve)
    summary["finished"] = run.state == "completed" and last == run.epochs_done
    return LabelIssues(table=table, summary=summary)


def _known_errors(run: Run) -> bool:
    """Whether the run's label errors are known beyond its canaries (injected or human noise)."""
    instances = run.instances
    noisy = _column(instances, "is_noisy") & ~_column(instances, "is_canary")
    return run.data.get("noise", "none") != "none" and bool(noisy.any())


def _column(instances: pd.DataFrame, name: str) -> np.ndarray:
    if name not in instances:
        return np.zeros(len(instances), dtype=bool)
    return instances[name].to_numpy().astype(bool)


def label_issues_csv(table: pd.DataFrame) -> bytes:
    """The CSV of a :class:`LabelIssues` table (what the CLI writes and the app downloads)."""
    out = table.astype({"is_label_issue": int})
    return out.to_csv(index=False, float_format="%.6g").encode()
