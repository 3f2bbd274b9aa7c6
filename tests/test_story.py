"""The story metrics ("dog", "not cat", "not bird", the instance weight) on hand-built arrays with
known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdw.runs.story import (
    STORY_COLUMNS,
    lean,
    lean_words,
    relative_to_instance_weights,
    signal_quartiles,
    story_moment,
    story_signals,
    story_statistics,
    telling_order,
)

# Classes: 0 cat, 1 dog, 2 bird, 3 frog. Rows 0-2 are cats labelled dog (noisy), rows 3-4 clean.
GIVEN = np.array([1, 1, 1, 0, 2])
TRUE = np.array([0, 0, 0, 0, 2])
WEIGHTS = np.array(
    [
        [0.1, 0.2, 0.5, 0.7],  # not cat 0.1, dog 0.2, not bird/frog mean 0.6: kept, found
        [0.5, 0.25, 0.5, 0.5],  # not cat 0.5 = others 0.5: kept half, not found (tie)
        [0.9, 0.8, 0.2, 0.4],  # not cat 0.9 > others mean 0.3: not kept, not found
        [1.0, 0.6, 0.8, 0.4],  # clean cat: dog-signal 1.0, others mean 0.6
        [0.2, 0.2, 0.5, 0.2],  # clean bird: 0.5, others 0.2
    ]
)
INSTANCE = np.array([0.2, 0.4, 0.8, 1.0, 0.5])


def test_signals_split_given_true_and_the_rest():
    signals = story_signals(WEIGHTS, GIVEN, TRUE)
    np.testing.assert_allclose(signals["given"], [0.2, 0.25, 0.8, 1.0, 0.5])
    np.testing.assert_allclose(signals["true"], [0.1, 0.5, 0.9, 1.0, 0.5])
    np.testing.assert_allclose(signals["other"], [0.6, 0.5, 0.3, 0.6, 0.2])


def test_statistics_have_known_answers():
    stats = story_statistics(WEIGHTS, INSTANCE, GIVEN, TRUE)
    assert set(stats) == set(STORY_COLUMNS)
    assert stats["instance_median_noisy"] == pytest.approx(0.4)
    assert stats["instance_median_clean"] == pytest.approx(0.75)
    assert stats["given_median_noisy"] == pytest.approx(0.25)
    assert stats["given_median_clean"] == pytest.approx(0.75)
    assert stats["true_median_noisy"] == pytest.approx(0.5)
    assert stats["other_median_noisy"] == pytest.approx(0.5)
    assert stats["other_median_clean"] == pytest.approx(0.4)
    assert stats["kept_fraction"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert stats["true_class_found"] == pytest.approx(1 / 3)


def test_instance_weighting_keeps_half_and_finds_nothing():
    """MW-Net's weights are equal across classes: every comparison is a tie."""
    weights = np.repeat(INSTANCE[:, None], 4, axis=1)
    stats = story_statistics(weights, INSTANCE, GIVEN, TRUE)
    assert stats["kept_fraction"] == 0.5
    assert stats["true_class_found"] == 0.0
    np.testing.assert_allclose(relative_to_instance_weights(weights, INSTANCE), np.ones((5, 4)))


def test_without_noise_the_noisy_columns_are_nan():
    stats = story_statistics(WEIGHTS[3:], INSTANCE[3:], GIVEN[3:], TRUE[3:])
    for column in (
        "instance_median_noisy",
        "given_median_noisy",
        "true_median_noisy",
        "other_median_noisy",
        "kept_fraction",
        "true_class_found",
    ):
        assert math.isnan(stats[column]), column
    assert stats["given_median_clean"] == pytest.approx(0.75)


def test_no_recorded_examples_gives_nan_everywhere():
    stats = story_statistics(np.zeros((0, 3)), np.zeros(0), np.zeros(0, int), np.zeros(0, int))
    assert all(math.isnan(value) for value in stats.values())


def test_two_classes_leave_no_remaining_signal_for_a_noisy_example():
    weights = np.array([[0.3, 0.1], [0.9, 0.8]])
    stats = story_statistics(weights, np.ones(2), np.array([1, 0]), np.array([0, 0]))
    assert math.isnan(stats["other_median_noisy"])
    assert math.isnan(stats["kept_fraction"])
    assert stats["true_class_found"] == 1.0  # the only non-given class is the true one
    assert stats["other_median_clean"] == pytest.approx(0.8)


def test_quartiles_absolute_and_relative():
    absolute = signal_quartiles(WEIGHTS, INSTANCE, GIVEN, TRUE)
    assert absolute[("noisy", "given")] == pytest.approx((0.225, 0.25, 0.525))
    assert absolute[("clean", "other")] == pytest.approx((0.3, 0.4, 0.5))
    relative = signal_quartiles(WEIGHTS, INSTANCE, GIVEN, TRUE, relative=True)
    # not cat / v0: 0.1/0.2, 0.5/0.4, 0.9/0.8
    assert relative[("noisy", "true")] == pytest.approx(
        tuple(np.quantile([0.5, 1.25, 1.125], [0.25, 0.5, 0.75]))
    )


def test_quartiles_of_an_empty_group_are_nan():
    quartiles = signal_quartiles(WEIGHTS[3:], INSTANCE[3:], GIVEN[3:], TRUE[3:])
    assert all(math.isnan(v) for v in quartiles[("noisy", "true")])


def test_relative_is_nan_where_the_instance_weight_underflowed():
    relative = relative_to_instance_weights(np.array([[0.5, 0.5]]), np.array([0.0]))
    assert np.isnan(relative).all()


def test_telling_order_ranks_noisy_rows_by_relative_separation():
    # (other - true) / v0: row 0 (0.6-0.1)/0.2 = 2.5, row 1 0, row 2 (0.3-0.9)/0.8 = -0.75
    np.testing.assert_array_equal(telling_order(WEIGHTS, INSTANCE, GIVEN, TRUE), [0, 1, 2])
    instance = np.array([2.0, 0.01, 0.8, 1.0, 0.5])  # row 0: 0.25; row 1: 0; row 2: -0.75
    np.testing.assert_array_equal(telling_order(WEIGHTS, instance, GIVEN, TRUE), [0, 1, 2])
    weights = WEIGHTS.copy()
    weights[1] = [0.0, 0.25, 0.5, 0.5]  # row 1: (0.5 - 0) / 0.01 = 50, now first
    np.testing.assert_array_equal(telling_order(weights, instance, GIVEN, TRUE), [1, 0, 2])


def test_lean_is_the_rank_correlation_of_v0_with_the_loss():
    given_prob = np.array([0.9, 0.6, 0.3, 0.05])  # losses rise along the rows
    assert lean(np.array([0.8, 0.5, 0.2, 0.01]), given_prob) == pytest.approx(-1.0)
    assert lean(np.array([0.01, 0.2, 0.5, 0.8]), given_prob) == pytest.approx(1.0)
    assert lean(np.array([0.2, 0.4, 0.1, 0.3]), given_prob) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(lean(np.ones(4), given_prob))  # ERM: no lean
    assert "down-weighting suspected labels" in lean_words(-0.9)
    assert "up-weighting hard examples" in lean_words(0.9)
    assert "no clear lean" in lean_words(0.1) and "no lean" in lean_words(float("nan"))


def test_story_moment_is_the_widest_absolute_gap_of_a_mislabelled_example():
    later = WEIGHTS.copy()
    later[0] = [0.01, 0.02, 0.05, 0.07]  # row 0 shrinks: the gap 0.05 is hard to see
    later[2] = [0.1, 0.2, 0.9, 0.9]  # row 2 at epoch 2: not bird 0.9 over not cat 0.1
    assert story_moment(np.stack([WEIGHTS, later]), GIVEN, TRUE) == (2, 2)
    assert story_moment(np.stack([WEIGHTS]), GIVEN, TRUE) == (0, 1)  # 0.6 - 0.1
    assert story_moment(np.stack([WEIGHTS]), GIVEN, GIVEN) is None  # no mislabelled example
