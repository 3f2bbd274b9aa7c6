"""How well a ranking of suspected label errors finds the examples known to be wrong.

Pure functions of the scores (low = suspect) and of which examples are known to be mislabelled:
the injected or human label errors, or the canaries planted where nothing else is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gdw.runs.ranks import auroc as rank_auroc

__all__ = [
    "IMPROVING_EPOCHS",
    "IMPROVING_RISE",
    "TRUST_GOOD",
    "canary_quality",
    "flag_quality",
    "ranking_quality",
    "still_improving",
    "trust",
    "trust_by_epoch",
    "trust_ends",
]

TRUST_GOOD = 0.7
"""The AUROC on known errors (or canaries) from which a ranking is not called weak; below 0.5 it
is called inverted (:func:`trust`)."""

IMPROVING_EPOCHS = 3
IMPROVING_RISE = 0.01
"""A ranking whose measured trust (AUROC) rose by at least :data:`IMPROVING_RISE` over its last
:data:`IMPROVING_EPOCHS` epochs was still improving when training stopped: more epochs would
likely find more (:func:`still_improving`)."""


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
    auroc = float(rank_auroc(truth, -np.asarray(scores))) if not truth.all() else None
    k = max(0, min(int(k), truth.size))
    hits = int(truth[np.argsort(scores, kind="stable")[:k]].sum())
    return {
        "auroc": auroc,
        "recall_at_k": hits / int(truth.sum()),
        "precision_at_k": hits / k if k else None,
    }


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


def flag_quality(flagged: np.ndarray, truth: np.ndarray) -> dict[str, float | None]:
    hits = int((flagged & truth).sum())
    return {
        "errors": int(truth.sum()),
        "precision": hits / int(flagged.sum()) if flagged.any() else None,
        "recall": hits / int(truth.sum()),
    }


def canary_quality(scores: np.ndarray, flagged: np.ndarray, canary: np.ndarray) -> Any:
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


def trust_by_epoch(
    scores_by_epoch: np.ndarray, truth: np.ndarray, window: Sequence[range]
) -> list[float | None]:
    """The trust (AUROC on ``truth``) of the ranking as it stood after each epoch.

    Args:
        scores_by_epoch: ``[E, R]``, one epoch's score per row (epoch 1 first).
        truth: bool ``[R]``, the examples known to be mislabelled.
        window: for each epoch ``e`` (1..E), the epochs (1-based) whose scores its ranking
            averages, as :func:`gdw.runs.label_issues.find_label_issues` does up to ``e``.

    Returns:
        One AUROC per epoch, None where it cannot be measured (no known errors).
    """
    scores_by_epoch = np.asarray(scores_by_epoch, dtype=np.float64)
    totals = np.concatenate([np.zeros((1, scores_by_epoch.shape[1])), scores_by_epoch.cumsum(0)])
    curve = []
    for epochs in window:
        mean = (totals[epochs.stop - 1] - totals[epochs.start - 1]) / len(epochs)
        curve.append(trust(mean, truth, source="")["auroc"])
    return curve


def trust_ends(curve: Sequence[float | None]) -> tuple[float, float] | None:
    """The trust :data:`IMPROVING_EPOCHS` epochs before the end of ``curve``
    (:func:`trust_by_epoch`) and at its end; None when it is shorter than that or not measured
    at either."""
    if len(curve) <= IMPROVING_EPOCHS:
        return None
    before, now = curve[-1 - IMPROVING_EPOCHS], curve[-1]
    return None if before is None or now is None else (before, now)


def still_improving(curve: Sequence[float | None]) -> bool:
    """Whether the trust rose by at least :data:`IMPROVING_RISE` over the last
    :data:`IMPROVING_EPOCHS` epochs of ``curve`` (:func:`trust_ends`)."""
    ends = trust_ends(curve)
    return ends is not None and ends[1] - ends[0] >= IMPROVING_RISE
