"""What a run records of its weights: which examples, the per-epoch weight statistics, and the
columns of ``metrics.csv`` they make with the accuracies and the story."""

from __future__ import annotations

import numpy as np

from gdw.runs.ranks import auroc
from gdw.runs.story import STORY_COLUMNS

__all__ = [
    "METRICS_COLUMNS",
    "RECORD_BUDGET",
    "WEIGHT_COLUMNS",
    "choose_recorded",
    "target_weights",
    "weight_statistics",
]

WEIGHT_COLUMNS = (
    "w_target_clean",
    "w_target_noisy",
    "w_other_clean",
    "w_other_noisy",
    "noise_auroc",
)
"""The weight statistics of :func:`weight_statistics`."""

METRICS_COLUMNS = (
    "epoch",
    "test_acc",
    "meta_acc",
    "train_acc_true",
    "train_acc_given",
    "loss",
    "lr",
    "seconds",
    *WEIGHT_COLUMNS,
    *STORY_COLUMNS,
    "lean",
)
"""The columns of ``metrics.csv``, in their order: one row per epoch."""

RECORD_BUDGET = 50_000_000
"""Largest number of recorded weights (epochs x examples x classes): 100 MB of float16."""


def choose_recorded(
    is_noisy: np.ndarray,
    *,
    n_classes: int,
    epochs: int,
    limit: int | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sorted training indices whose weights are recorded every epoch.

    Everything when it fits :data:`RECORD_BUDGET` (and ``limit``, when given); otherwise every
    noisy example plus a seeded sample of the clean ones, so noise-finding views stay complete.
    ``limit = 0`` records nothing.
    """
    n = is_noisy.size
    cap = max(RECORD_BUDGET // max(n_classes * epochs, 1), 1)
    if limit is not None:
        cap = min(cap, limit)
    if limit == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= cap:
        return np.arange(n, dtype=np.int64)
    noisy = np.flatnonzero(is_noisy)
    clean = np.flatnonzero(~is_noisy)
    n_clean = min(max(cap - noisy.size, 0), clean.size)
    chosen = np.concatenate([noisy, rng.choice(clean, size=n_clean, replace=False)])
    return np.sort(chosen).astype(np.int64)


def target_weights(weights: np.ndarray, given: np.ndarray) -> np.ndarray:
    """The weight of each example's given-class signal ("dog"): ``weights[i, given[i]]``."""
    return weights[np.arange(given.size), given]


def weight_statistics(
    weights: np.ndarray, given: np.ndarray, is_noisy: np.ndarray
) -> dict[str, float]:
    """Mean target and non-target weights over clean and noisy examples, and the noise AUROC.

    Args:
        weights: [R, C] weights of the recorded examples in one epoch.
        given: [R] their given labels.
        is_noisy: [R] whether the given label differs from the true one.

    Returns:
        ``w_target_clean, w_target_noisy, w_other_clean, w_other_noisy`` and ``noise_auroc``:
        the probability that a noisy example's target weight is below a clean one's (ties count
        half); NaN where a group is empty.
    """
    nan = float("nan")
    if weights.size == 0:
        return dict.fromkeys(WEIGHT_COLUMNS, nan)
    weights = weights.astype(np.float64)
    target = target_weights(weights, given)
    n_classes = weights.shape[1]
    other = (weights.sum(axis=1) - target) / max(n_classes - 1, 1)

    def mean(values: np.ndarray, mask: np.ndarray) -> float:
        return float(values[mask].mean()) if mask.any() else nan

    clean = ~is_noisy
    both = is_noisy.any() and clean.any()
    return {
        "w_target_clean": mean(target, clean),
        "w_target_noisy": mean(target, is_noisy),
        "w_other_clean": mean(other, clean),
        "w_other_noisy": mean(other, is_noisy),
        "noise_auroc": auroc(is_noisy, -target) if both else nan,
    }
