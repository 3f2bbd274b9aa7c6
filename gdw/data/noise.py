"""Label noise and class imbalance, as pure NumPy functions.

A transition matrix ``T`` is ``[C, C]`` with row = true class and column = given label:
``T[i, j]`` is the probability that an example of class ``i`` is labelled ``j``. Every
function that draws random numbers takes an explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "corrupt_labels",
    "flip_transition",
    "long_tail_counts",
    "plant_canaries",
    "uniform_transition",
]


def _check_n_classes(n_classes: int) -> None:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise ValueError(f"n_classes must be a whole number >= 2, got {n_classes!r}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")


def _check_unit_interval(name: str, value: float, *, low_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    too_low = value <= 0.0 if low_open else value < 0.0
    if not np.isfinite(value) or too_low or value > 1.0:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}0, 1], got {value!r}")


def uniform_transition(n_classes: int, noise_rate: float) -> np.ndarray:
    """Symmetric noise: with probability ``noise_rate`` the label is redrawn uniformly.

    ``T = r / C * ones(C, C) + (1 - r) * I``. A redrawn label can land on the true class, so
    the expected fraction of changed labels is ``r * (C - 1) / C``.

    Returns:
        float64 array ``[C, C]`` whose rows sum to 1.
    """
    _check_n_classes(n_classes)
    _check_unit_interval("noise_rate", noise_rate)
    uniform = np.full((n_classes, n_classes), noise_rate / n_classes)
    return uniform + (1.0 - noise_rate) * np.eye(n_classes)


def flip_transition(n_classes: int, noise_rate: float, rng: np.random.Generator) -> np.ndarray:
    """Pair-flip noise: every class moves to one other class with probability ``noise_rate``.

    The other class of each class is drawn uniformly from the remaining ``C - 1`` classes
    (with ``rng``); several classes may share a target.

    Returns:
        float64 array ``[C, C]``: ``1 - r`` on the diagonal, ``r`` at one off-diagonal entry
        of every row.
    """
    _check_n_classes(n_classes)
    _check_unit_interval("noise_rate", noise_rate)
    classes = np.arange(n_classes)
    # An offset in 1..C-1 can never bring a class back onto itself.
    targets = (classes + rng.integers(1, n_classes, size=n_classes)) % n_classes
    transition = (1.0 - noise_rate) * np.eye(n_classes)
    transition[classes, targets] += noise_rate
    return transition


def corrupt_labels(
    labels: np.ndarray, transition: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Draw a given label for every true label from its row of ``transition``.

    Args:
        labels: int array ``[N]`` of true classes in ``0..C-1``.
        transition: ``[C, C]`` row-stochastic matrix (row = true, column = given).
        rng: the source of randomness.

    Returns:
        int64 array ``[N]`` of given labels.
    """
    transition = np.asarray(transition, dtype=np.float64)
    if transition.ndim != 2 or transition.shape[0] != transition.shape[1]:
        raise ValueError(f"transition must be a square [C, C] matrix, got {transition.shape}")
    if (transition < 0).any() or not np.allclose(transition.sum(axis=1), 1.0):
        raise ValueError("transition rows must be non-negative and sum to 1")
    labels = np.asarray(labels)
    n_classes = transition.shape[0]
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}, got {labels.min()}..{labels.max()}"
        )
    cumulative = np.cumsum(transition, axis=1)[labels]  # [N, C]
    draws = rng.random(labels.size)[:, None]  # [N, 1]
    given = (draws >= cumulative).sum(axis=1)
    # Rounding can leave the last cumulative entry a hair below 1.
    return np.minimum(given, n_classes - 1).astype(np.int64)


def long_tail_counts(class_counts: np.ndarray, imbalance: float) -> np.ndarray:
    """How many training examples each class keeps under long-tailed imbalance.

    Class ``c`` keeps ``min(n_c, floor(n_max * f ** (c / (C - 1))))``, ``n_max`` being the
    largest count and ``f = n_min / n_max`` the imbalance factor (1 = balanced).

    Args:
        class_counts: int array ``[C]`` of available examples per class, ``C >= 2``.
        imbalance: the factor ``f`` in ``(0, 1]``.

    Returns:
        int64 array ``[C]``, never above ``class_counts``.
    """
    counts = np.asarray(class_counts)
    if counts.ndim != 1 or counts.size < 2 or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(
            f"class_counts must be a 1-D integer array of >= 2 classes, got {counts!r}"
        )
    if (counts < 0).any():
        raise ValueError(f"class_counts must be >= 0, got {counts.tolist()}")
    _check_unit_interval("imbalance", imbalance, low_open=True)
    exponents = np.arange(counts.size) / (counts.size - 1)
    targets = counts.max() * float(imbalance) ** exponents
    # The epsilon keeps products such as 100 * 0.29 (= 28.999999999999996) at 29.
    targets = np.floor(targets + 1e-9).astype(np.int64)
    return np.minimum(counts.astype(np.int64), targets)


def plant_canaries(
    given: np.ndarray, true: np.ndarray, *, n_classes: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Moves the labels of ``count`` correctly labelled examples to another class (canaries).

    The canaries are drawn among the examples whose given label is still the true one, so each
    is surely wrong afterwards; each gets one of the other classes uniformly.

    Args:
        given, true: int labels ``[N]``.
        n_classes: number of classes ``C`` (at least 2).
        count: how many canaries, at most the number of correct labels.
        rng: the source of the draws.

    Returns:
        the new given labels ``[N]`` (a copy) and the bool canary mask ``[N]``.
    """
    canary = np.zeros(given.size, dtype=bool)
    correct = np.flatnonzero(given == true)
    if count > correct.size:
        raise ValueError(f"{count} canaries asked for, but only {correct.size} labels are correct")
    given = given.copy()
    if count == 0:
        return given, canary
    picked = np.sort(rng.choice(correct, count, replace=False))
    given[picked] = (given[picked] + rng.integers(1, n_classes, size=count)) % n_classes
    canary[picked] = True
    return given, canary
