"""The plain-NumPy rank statistics agree with the textbook (and with SciPy and scikit-learn)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from gdw.runs.ranks import auroc, midranks


def test_tied_values_share_the_mean_of_their_ranks() -> None:
    assert midranks(np.array([0.3, 0.1, 0.3, 0.2, 0.3])).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]


def test_auroc_counts_ties_half_and_reads_the_right_way_round() -> None:
    positive = np.array([True, True, False, False])
    assert auroc(positive, np.array([0.9, 0.8, 0.1, 0.2])) == 1.0
    assert auroc(positive, np.array([0.1, 0.2, 0.9, 0.8])) == 0.0
    assert auroc(positive, np.array([0.5, 0.9, 0.5, 0.1])) == 0.875  # (1 + 1 + 0.5 + 1) / 4


@pytest.mark.parametrize("seed", range(5))
def test_they_match_scipy_and_scikit_learn_with_many_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 7, size=300).astype(np.float64)  # few distinct values: many ties
    positive = rng.random(300) < 0.1 + 0.15 * seed
    assert np.array_equal(midranks(scores), rankdata(scores))
    assert auroc(positive, scores) == pytest.approx(roc_auc_score(positive, scores), abs=1e-12)


def test_an_auroc_needs_both_groups() -> None:
    with pytest.raises(ValueError, match="both"):
        auroc(np.array([True, True]), np.array([0.1, 0.2]))
