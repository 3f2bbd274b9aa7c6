"""Suspected label errors of a run: a ranked list, a suggested label and a stated flag rule.

The ranking is pure functions over recorded arrays (:func:`mean_scores`,
:func:`suggested_labels`, :func:`flag_issues`, :func:`ranking_quality`); :func:`find_label_issues`
reads them from a run folder. How a run scores its examples comes from its method's registry
entry: a method that learns from the clean meta set scores an example by the weight of its
given-class signal, a method that does not (ERM) by the probability its model gave the given
label. Either way a low score means "suspect", averaged over the last epochs because one epoch's
value is noisy.

The flag rule (:data:`FLAG_RULE`) was fixed before looking at any injected noise and is not
tuned on it: an example is flagged when the class the model predicted most often over those
epochs is not its given label *and* its score is below the mean score of the examples given the
same label (the per-class threshold of confident learning).

Canaries (planted errors, ``--canaries``) are known to be wrong: they are left out of the list,
and how well the ranking finds them is the trust estimate for data without known errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gdw.registry import method_spec

if TYPE_CHECKING:
    from gdw.runs import Run

__all__ = [
    "COLUMNS",
    "DEFAULT_LAST_EPOCHS",
    "FLAG_RULE",
    "LabelIssues",
    "LabelIssuesError",
    "find_label_issues",
    "flag_issues",
    "label_issues_csv",
    "mean_scores",
    "ranking_quality",
    "score_kind",
    "suggested_labels",
    "summary_line",
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
    "is_label_issue",
)


class LabelIssuesError(ValueError):
    """The run cannot be ranked (no recorded examples, still running, too old); says why."""


def score_kind(method: str) -> str:
    """``"given_weight"`` for a method that learns from the meta set (its weights say what it
    distrusts), ``"given_prob"`` for one that does not or is not registered any more."""
    try:
        return "given_weight" if method_spec(method).learns_from_meta else "given_prob"
    except KeyError:
        return "given_prob"


def mean_scores(per_epoch: np.ndarray) -> np.ndarray:
    """The mean over epochs of each example's score. ``[K, R] -> [R]``, float64."""
    return np.asarray(per_epoch, dtype=np.float64).mean(axis=0)


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


def ranking_quality(scores: np.ndarray, truth: np.ndarray, k: int) -> dict[str, float | None]:
    """How well low ``scores`` find the ``truth`` rows (bool ``[R]``).

    Returns:
        ``auroc`` (probability that a true row scores below another, ties half; None when
        either group is empty), ``recall_at_k`` (share of true rows among the ``k`` lowest)
        and ``precision_at_k``.
    """
    truth = np.asarray(truth, dtype=bool)
    if not truth.any():
        return {"auroc": None, "recall_at_k": None, "precision_at_k": None}
    from sklearn.metrics import roc_auc_score  # a second to import: only when first needed

    auroc = float(roc_auc_score(truth, -np.asarray(scores))) if not truth.all() else None
    k = max(0, min(int(k), truth.size))
    hits = int(truth[np.argsort(scores, kind="stable")[:k]].sum())
    return {
        "auroc": auroc,
        "recall_at_k": hits / int(truth.sum()),
        "precision_at_k": hits / k if k else None,
    }


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


def _check_ready(run: Run, allow_running: bool) -> None:
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
    for name in ("predicted", "given_prob"):
        if not run.has_array(name):
            raise LabelIssuesError(
                f"run {run.run_id} has no {name}.npy (made by an older version); train it again"
            )


def find_label_issues(
    run: Run,
    *,
    last_epochs: int = DEFAULT_LAST_EPOCHS,
    top: int | None = None,
    allow_running: bool = False,
    until: int | None = None,
) -> LabelIssues:
    """Ranks a run's recorded examples by its scores averaged over its last ``last_epochs``
    (the ``last_epochs`` up to epoch ``until``, when given).

    Raises:
        LabelIssuesError: the run is running (unless ``allow_running``), recorded nothing, or
            is too old to hold predictions; ``last_epochs`` < 1.
    """
    if isinstance(last_epochs, bool) or not isinstance(last_epochs, int) or last_epochs < 1:
        raise LabelIssuesError(f"--epochs must be a whole number >= 1, got {last_epochs!r}")
    _check_ready(run, allow_running)
    instances = run.instances
    classes = run.classes
    method = run.method
    kind = score_kind(method)
    last = run.epochs_done if until is None else max(1, min(int(until), run.epochs_done))
    first = max(1, last - last_epochs + 1)
    epochs = range(first, last + 1)
    given = instances["given_label"].to_numpy(dtype=np.int64)
    if kind == "given_weight":
        rows = np.arange(given.size)
        per_epoch = np.stack([run.epoch_array("weights", e)[rows, given] for e in epochs])
    else:
        per_epoch = np.stack([run.epoch_array("given_prob", e) for e in epochs])
    scores = mean_scores(per_epoch)
    predicted = np.stack([run.epoch_array("predicted", e) for e in epochs])
    suggested = suggested_labels(predicted, len(classes))
    flagged = flag_issues(scores, given, suggested)
    canary = _column(instances, "is_canary")
    noisy = _column(instances, "is_noisy") & ~canary
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
            "is_label_issue": flagged[order],
        }
    )
    if top is not None:
        table = table.head(top)
    has_noise = run.data.get("noise", "none") != "none"
    summary = {
        "run": run.run_id,
        "method": method,
        "score": kind,
        "epochs": [first, last],
        "ranked": int(keep.sum()),
        "flagged": int(flagged[keep].sum()),
        "rule": FLAG_RULE,
        "recorded_subset": bool(run.recording.get("subset", False)),
        "noise": _flag_quality(flagged[keep], noisy[keep]) if has_noise and noisy.any() else None,
        "canaries": _canary_quality(scores, flagged, canary),
    }
    return LabelIssues(table=table, summary=summary)


def _column(instances: pd.DataFrame, name: str) -> np.ndarray:
    if name not in instances:
        return np.zeros(len(instances), dtype=bool)
    return instances[name].to_numpy().astype(bool)


def _flag_quality(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float | None]:
    hits = int((flagged & truth).sum())
    return {
        "errors": int(truth.sum()),
        "precision": hits / int(flagged.sum()) if flagged.any() else None,
        "recall": hits / int(truth.sum()),
    }


def _canary_quality(scores: np.ndarray, flagged: np.ndarray, canary: np.ndarray) -> Any:
    """The trust estimate: AUROC of the scores on canaries against every other example, the
    canaries' share among the lowest k (k = rows flagged) and the flag's recall on them."""
    if not canary.any():
        return None
    k = int(flagged.sum())
    quality = ranking_quality(scores, canary, k)
    return {
        "count": int(canary.sum()),
        "auroc": quality["auroc"],
        "k": k,
        "recall_at_k": quality["recall_at_k"],
        "flag_recall": float(flagged[canary].mean()),
    }


def label_issues_csv(table: pd.DataFrame) -> bytes:
    """The CSV of a :class:`LabelIssues` table (what the CLI writes and the app downloads)."""
    out = table.astype({"is_label_issue": int})
    return out.to_csv(index=False, float_format="%.6g").encode()


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def summary_line(summary: dict[str, Any]) -> str:
    """One line: counts, precision and recall against the injected noise, canary trust."""
    first, last = summary["epochs"]
    score = "given-class weight" if summary["score"] == "given_weight" else "given-label prob"
    parts = [
        f"{summary['flagged']} of {summary['ranked']} flagged ({score}, epochs " f"{first}-{last})"
    ]
    noise = summary["noise"]
    if noise is None:
        parts.append("precision n/a, recall n/a (no injected noise)")
    else:
        parts.append(
            f"precision {_share(noise['precision'])}, recall {_share(noise['recall'])} "
            f"of {noise['errors']} injected errors"
        )
    canaries = summary["canaries"]
    if canaries is not None:
        auroc = "n/a" if canaries["auroc"] is None else f"{canaries['auroc']:.3f}"
        parts.append(
            f"canaries: AUROC {auroc}, recall in the top {canaries['k']} "
            f"{_share(canaries['recall_at_k'])}, flagged "
            f"{_share(canaries['flag_recall'])} of {canaries['count']}"
        )
    if summary["recorded_subset"]:
        parts.append("only the recorded examples: every noisy one and a sample of the clean")
    return "; ".join(parts)
