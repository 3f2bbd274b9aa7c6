"""Rank statistics in plain NumPy.

``gdw label-issues`` and every recorded epoch need an AUROC and a rank correlation; importing
scikit-learn or SciPy for them costs 1-2 s, which on a small run is a tenth of its training
time. These are the textbook formulas, exact with ties.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auroc", "midranks"]


def midranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..N of ``values`` ``[N]``, tied values sharing the mean of their ranks (as
    ``scipy.stats.rankdata``'s default)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # the rank of each distinct value's last copy
    return (last - (counts - 1) / 2.0)[inverse]


def auroc(positive: np.ndarray, scores: np.ndarray) -> float:
    """The probability that a ``positive`` row (bool ``[N]``) has a higher score than a
    negative one, ties counting half (the Mann-Whitney U over both group sizes; equal to
    ``sklearn.metrics.roc_auc_score(positive, scores)``).

    Raises:
        ValueError: either group is empty.
    """
    positive = np.asarray(positive, dtype=bool).ravel()
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("an AUROC needs both positive and negative rows")
    rank_sum = float(midranks(scores)[positive].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
