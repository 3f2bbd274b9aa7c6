"""Label-noise transitions, label corruption and long-tail counts."""

from __future__ import annotations

import numpy as np
import pytest

from gdw.data.noise import corrupt_labels, flip_transition, long_tail_counts, uniform_transition


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize("n_classes", [2, 10, 100])
@pytest.mark.parametrize("noise_rate", [0.0, 0.3, 1.0])
def test_transition_rows_sum_to_one(n_classes: int, noise_rate: float) -> None:
    for transition in (
        uniform_transition(n_classes, noise_rate),
        flip_transition(n_classes, noise_rate, rng()),
    ):
        assert transition.shape == (n_classes, n_classes)
        assert (transition >= 0).all()
        np.testing.assert_allclose(transition.sum(axis=1), 1.0)


def test_uniform_transition_by_hand() -> None:
    expected = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    np.testing.assert_allclose(uniform_transition(3, 0.3), expected)


@pytest.mark.parametrize("noise_rate", [0.2, 0.5, 0.8])
def test_uniform_realised_rate_within_binomial_tolerance(noise_rate: float) -> None:
    n_classes, n = 10, 20_000
    labels = np.arange(n) % n_classes
    given = corrupt_labels(labels, uniform_transition(n_classes, noise_rate), rng(1))
    expected = noise_rate * (n_classes - 1) / n_classes
    tolerance = 4 * np.sqrt(expected * (1 - expected) / n)  # 4 standard deviations
    assert abs(np.mean(given != labels) - expected) < tolerance


def test_flip_moves_each_class_to_exactly_one_other_class() -> None:
    n_classes = 10
    transition = flip_transition(n_classes, 0.4, rng(2))
    np.testing.assert_allclose(np.diag(transition), 0.6)
    off_diagonal = transition - np.diag(np.diag(transition))
    assert ((off_diagonal > 0).sum(axis=1) == 1).all()
    np.testing.assert_allclose(off_diagonal.max(axis=1), 0.4)

    labels = np.repeat(np.arange(n_classes), 500)
    given = corrupt_labels(labels, transition, rng(3))
    for c in range(n_classes):
        moved = set(given[(labels == c) & (given != c)].tolist())
        assert moved == {int(off_diagonal[c].argmax())}


def test_flip_target_depends_on_seed_only() -> None:
    a, b = flip_transition(10, 0.3, rng(5)), flip_transition(10, 0.3, rng(5))
    np.testing.assert_array_equal(a, b)
    targets = {tuple(flip_transition(10, 0.3, rng(s)).argmin(axis=1)) for s in range(5)}
    assert len(targets) > 1


def test_same_seed_same_labels() -> None:
    labels = np.arange(1000) % 10
    transition = uniform_transition(10, 0.5)
    first = corrupt_labels(labels, transition, rng(7))
    np.testing.assert_array_equal(first, corrupt_labels(labels, transition, rng(7)))
    assert (first != corrupt_labels(labels, transition, rng(8))).any()
    assert first.dtype == np.int64


def test_zero_noise_keeps_labels_and_full_noise_on_two_classes_flips_all() -> None:
    labels = np.arange(100) % 2
    np.testing.assert_array_equal(corrupt_labels(labels, uniform_transition(2, 0.0), rng()), labels)
    flipped = corrupt_labels(labels, flip_transition(2, 1.0, rng()), rng())
    np.testing.assert_array_equal(flipped, 1 - labels)


@pytest.mark.parametrize(
    ("counts", "imbalance", "expected"),
    [
        ([100] * 5, 1.0, [100] * 5),
        ([100] * 3, 0.01, [100, 10, 1]),
        ([100] * 5, 0.29, [100, 73, 53, 39, 29]),  # floor(100 * 0.29) is 29, not 28
        ([500, 40, 500], 0.1, [500, 40, 50]),  # never more than a class has
        ([0, 10], 0.5, [0, 5]),
    ],
    ids=["balanced", "100x", "float-rounding", "capped", "empty-class"],
)
def test_long_tail_counts_exact(counts: list[int], imbalance: float, expected: list[int]) -> None:
    result = long_tail_counts(np.array(counts), imbalance)
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.int64


def test_long_tail_counts_are_monotone_for_equal_classes() -> None:
    result = long_tail_counts(np.full(100, 450), 0.02)
    assert result[0] == 450 and result[-1] == 9
    assert (np.diff(result) <= 0).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: uniform_transition(10, 1.5), r"noise_rate must be in \[0, 1\], got 1.5"),
        (lambda: uniform_transition(10, -0.1), r"noise_rate .* got -0.1"),
        (lambda: uniform_transition(10, float("nan")), "noise_rate"),
        (lambda: uniform_transition(1, 0.2), "n_classes must be >= 2, got 1"),
        (lambda: uniform_transition(2.5, 0.2), "n_classes must be a whole number"),
        (lambda: flip_transition(10, "0.2", rng()), "noise_rate must be a number"),
        (lambda: long_tail_counts(np.array([5, 5]), 0.0), r"imbalance must be in \(0, 1\]"),
        (lambda: long_tail_counts(np.array([5, 5]), 2.0), "got 2.0"),
        (lambda: long_tail_counts(np.array([5]), 0.5), ">= 2 classes"),
        (lambda: long_tail_counts(np.array([5.0, 5.0]), 0.5), "integer array"),
        (lambda: long_tail_counts(np.array([5, -1]), 0.5), r"must be >= 0, got \[5, -1\]"),
        (lambda: corrupt_labels(np.array([0, 3]), np.eye(3), rng()), r"0\.\.2, got 0\.\.3"),
        (lambda: corrupt_labels(np.array([0.0]), np.eye(3), rng()), "integer array"),
        (lambda: corrupt_labels(np.array([0]), np.ones((3, 3)), rng()), "sum to 1"),
        (lambda: corrupt_labels(np.array([0]), np.ones((2, 3)) / 3, rng()), "square"),
    ],
    ids=[
        "rate-above-1",
        "rate-negative",
        "rate-nan",
        "one-class",
        "fractional-classes",
        "rate-string",
        "imbalance-zero",
        "imbalance-above-1",
        "counts-one-class",
        "counts-float",
        "counts-negative",
        "label-out-of-range",
        "labels-float",
        "rows-not-stochastic",
        "not-square",
    ],
)
def test_bad_inputs_raise_with_message(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
