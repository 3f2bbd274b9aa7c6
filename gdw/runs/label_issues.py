"""Suspected label errors of a run: a ranked list, a suggested label, a stated flag rule, and
how far the ranking can be trusted.

The ranking is pure functions over recorded arrays (:mod:`gdw.runs.label_scores`,
:func:`suggested_labels`, :func:`flag_issues`, :func:`ranking_quality`, :func:`trust`);
:func:`find_label_issues` reads them from a run folder. A run is ranked by one of the scores of
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
from gdw.runs.label_scores import score_ids, score_spec, window_scores
from gdw.runs.story import LEAN_CLEAR

if TYPE_CHECKING:
    from gdw.runs.reader import Run

__all__ = [
    "COLUMNS",
    "DEFAULT_LAST_EPOCHS",
    "FLAG_RULE",
    "TRUST_GOOD",
    "LabelIssues",
    "LabelIssuesError",
    "default_score",
    "find_label_issues",
    "held_scores",
    "run_default_score",
    "flag_issues",
    "label_issues_csv",
    "ranking_quality",
    "suggested_labels",
    "summary_line",
    "trust",
    "trust_warning",
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
TRUST_GOOD = 0.7
"""The AUROC on known errors (or canaries) from which a ranking is not called weak; below 0.5 it
is called inverted (:func:`trust`)."""


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
            f"run {run.run_id} has no {', '.join(f'{m}.npy' for m in missing)} for the score "
            f"{score!r} (made by an older version); use --score "
            + (" or ".join(held) if held else "... after training it again")
        )


def _window_arrays(run: Run, names: set[str], epochs: range) -> list[dict[str, np.ndarray]]:
    return [{name: run.epoch_array(name, e) for name in names} for e in epochs]


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
    ``last_epochs`` up to epoch ``until``, when given).

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
    first = max(1, last - last_epochs + 1)
    epochs = range(first, last + 1)
    given = instances["given_label"].to_numpy(dtype=np.int64)
    spec = score_spec(score)
    scores = window_scores(spec, _window_arrays(run, set(spec.arrays), epochs), given)
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
        "noise": _flag_quality(flagged[keep], (errors & ~canary)[keep]) if known else None,
        "canaries": _canary_quality(scores, flagged, canary),
        "lean": _lean_at(run, last),
    }
    truth = errors if known else canary
    summary["trust"] = trust(scores, truth, source="known errors" if known else "canaries")
    return LabelIssues(table=table, summary=summary)


def _known_errors(run: Run) -> bool:
    """Whether the run's label errors are known beyond its canaries (injected or human noise)."""
    instances = run.instances
    noisy = _column(instances, "is_noisy") & ~_column(instances, "is_canary")
    return run.data.get("noise", "none") != "none" and bool(noisy.any())


def _lean_at(run: Run, epoch: int) -> float | None:
    metrics = run.metrics
    if "lean" not in metrics or len(metrics) < epoch:
        return None
    value = float(metrics["lean"].iloc[epoch - 1])
    return value if np.isfinite(value) else None


def trust(scores: np.ndarray, truth: np.ndarray, *, source: str) -> dict[str, Any]:
    """How far a ranking can be trusted, measured on examples known to be wrong.

    Args:
        scores: ``[R]``, low = suspect.
        truth: bool ``[R]``, the examples known to be mislabelled (the known errors, or the
            canaries where nothing else is known).
        source: what ``truth`` is, for the message (``"known errors"``, ``"canaries"``).

    Returns:
        ``source``, ``count``, ``auroc`` (None when it cannot be measured) and ``verdict``:
        ``good`` (AUROC >= :data:`TRUST_GOOD`), ``weak`` (between 0.5 and that), ``inverted``
        (below 0.5: the known errors score *above* the rest) or ``unmeasured``.
    """
    truth = np.asarray(truth, dtype=bool)
    auroc = ranking_quality(scores, truth, int(truth.sum()))["auroc"] if truth.size else None
    if auroc is None:
        verdict = "unmeasured"
    elif auroc < 0.5:
        verdict = "inverted"
    elif auroc < TRUST_GOOD:
        verdict = "weak"
    else:
        verdict = "good"
    return {"source": source, "count": int(truth.sum()), "auroc": auroc, "verdict": verdict}


def trust_warning(summary: dict[str, Any]) -> str | None:
    """A plain warning for a ranking that must not be read as a list of suspects (inverted or
    weak), or that nothing measures; ``None`` for one that finds its known errors."""
    measured = summary["trust"]
    verdict, auroc = measured["verdict"], measured["auroc"]
    what = "its canaries" if measured["source"] == "canaries" else "the known label errors"
    lean = summary.get("lean")
    leaning = ""
    if lean is not None and lean >= LEAN_CLEAR:
        leaning = (
            f"; its weighting net up-weights hard examples (lean {lean:+.2f}), so a low weight "
            "means an easy example, not a distrusted label"
        )
    if verdict == "inverted":
        return (
            f"this ranking is upside down: {what} score above the other examples (AUROC "
            f"{auroc:.2f}, below 0.5){leaning}; do not act on it; try --score margin"
        )
    if verdict == "weak":
        return (
            f"this ranking barely finds {what} (AUROC {auroc:.2f}; 0.5 is chance){leaning}; "
            "read it as a weak hint, not a list of errors"
        )
    if verdict == "unmeasured":
        return (
            "nothing measures this ranking (no canaries and no known errors); train with "
            "--canaries 0.02 to know how far to trust it"
        )
    return None


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
    """The canaries' AUROC against every other example, their share among the lowest k (k =
    rows flagged) and the flag's recall on them."""
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
    """One line: counts, the score, precision and recall against the known errors, trust."""
    first, last = summary["epochs"]
    parts = [
        f"{summary['flagged']} of {summary['ranked']} flagged (score: {summary['score']}, "
        f"{summary['score_label']}, epochs {first}-{last})"
    ]
    noise = summary["noise"]
    if noise is None:
        parts.append("precision n/a, recall n/a (no known errors)")
    else:
        parts.append(
            f"precision {_share(noise['precision'])}, recall {_share(noise['recall'])} "
            f"of {noise['errors']} known errors"
        )
    measured = summary["trust"]
    if measured["auroc"] is not None:
        parts.append(f"AUROC on the {measured['source']} {measured['auroc']:.3f}")
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
