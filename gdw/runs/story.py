"""The seed's story in numbers: what the class-level step does to "dog", "not cat", "not bird".

For a recorded example ``i`` with given label ``g_i`` and true label ``t_i`` at one epoch:

- "dog" is its given-class signal, ``W[i, g_i]``;
- "not cat" (mislabelled examples only) is its true-class signal, ``W[i, t_i]``: wrong, since
  the image *is* a cat;
- "not bird" is the mean of its remaining signals (every class but ``g_i`` and ``t_i``): still
  right, whatever the label says;
- ``v0_i`` is its instance weight, which the class-level step started from (the weighting
  net's output; ones for ERM). ``W / v0`` is what the class-level step changed: 1 everywhere is
  what instance weighting does.

Pure NumPy functions over one epoch's arrays, for ``metrics.csv`` and the dashboard alike.
"""

from __future__ import annotations

import numpy as np

from gdw.runs.ranks import midranks

__all__ = [
    "LEAN_CLEAR",
    "STORY_COLUMNS",
    "SIGNALS",
    "lean",
    "lean_words",
    "relative_to_instance_weights",
    "story_signals",
    "story_moment",
    "story_statistics",
    "signal_quartiles",
    "telling_order",
]

STORY_COLUMNS = (
    "instance_median_noisy",
    "instance_median_clean",
    "given_median_noisy",
    "given_median_clean",
    "true_median_noisy",
    "other_median_noisy",
    "other_median_clean",
    "kept_fraction",
    "true_class_found",
)
"""The story columns of ``metrics.csv`` (see :func:`story_statistics`; the first two are stored
as ``base_median_*``, :data:`gdw.runs.files.STORED_NAMES`)."""

SIGNALS = (
    ("noisy", "given"),
    ("noisy", "true"),
    ("noisy", "other"),
    ("clean", "given"),
    ("clean", "other"),
)
"""(group, signal) pairs the story chart draws: noisy "dog", "not cat", "not bird", clean
"dog" and "not bird"."""

_NAN = float("nan")
_TIE = 1e-6


def story_signals(
    weights: np.ndarray, given: np.ndarray, true: np.ndarray
) -> dict[str, np.ndarray]:
    """Each example's "dog", "not cat" and mean "not bird" weight.

    Args:
        weights: [R, C] class-level weights of the recorded examples at one epoch.
        given, true: [R] their given and true labels.

    Returns:
        ``given`` [R]: ``W[i, g_i]``; ``true`` [R]: ``W[i, t_i]`` (for a clean example the same
        as ``given``); ``other`` [R]: mean of ``W[i, j]`` over ``j`` not in ``{g_i, t_i}``
        (NaN when no class remains, e.g. a mislabelled example of a two-class task).
    """
    weights = np.asarray(weights, dtype=np.float64)
    rows = np.arange(given.size)
    w_given = weights[rows, given]
    w_true = weights[rows, true]
    n_classes = weights.shape[1] if weights.ndim == 2 else 0
    remaining = np.ones((given.size, n_classes), dtype=bool)
    remaining[rows, given] = False
    remaining[rows, true] = False
    n_other = remaining.sum(axis=1)
    rest = np.where(remaining, weights, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w_other = np.where(n_other > 0, rest / np.maximum(n_other, 1), np.nan)
    return {"given": w_given, "true": w_true, "other": w_other}


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else _NAN


def _fraction(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else _NAN


def story_statistics(
    weights: np.ndarray, instance_weights: np.ndarray, given: np.ndarray, true: np.ndarray
) -> dict[str, float]:
    """The story columns of one epoch (:data:`STORY_COLUMNS`), over the recorded examples.

    Args:
        weights: [R, C] class-level weights.
        instance_weights: [R] instance weights ``v0``.
        given, true: [R] given and true labels.

    Returns:
        ``instance_median_*``: median instance weight; ``given_median_*``: median "dog";
        ``true_median_noisy``: median "not cat" of the mislabelled examples;
        ``other_median_*``: median over examples of their mean "not bird"; ``kept_fraction``:
        share of mislabelled examples whose mean "not bird" is above their "not cat" (equal,
        to one part in a million, counts half); ``true_class_found``: share of mislabelled
        examples for which, among the classes other than the given one, the lowest weight is
        the true class's (a tie counts against it). Medians of an empty group and both
        fractions without mislabelled examples are NaN.
    """
    given = np.asarray(given, dtype=np.int64)
    true = np.asarray(true, dtype=np.int64)
    noisy = given != true
    clean = ~noisy
    if given.size == 0:
        return dict.fromkeys(STORY_COLUMNS, _NAN)
    weights = np.asarray(weights, dtype=np.float64)
    instance = np.asarray(instance_weights, dtype=np.float64)
    signals = story_signals(weights, given, true)
    statistics = {
        "instance_median_noisy": _median(instance[noisy]),
        "instance_median_clean": _median(instance[clean]),
        "given_median_noisy": _median(signals["given"][noisy]),
        "given_median_clean": _median(signals["given"][clean]),
        "true_median_noisy": _median(signals["true"][noisy]),
        "other_median_noisy": _median(signals["other"][noisy]),
        "other_median_clean": _median(signals["other"][clean]),
    }
    other, wrong = signals["other"][noisy], signals["true"][noisy]
    comparable = np.isfinite(other)
    tie = _same(other, wrong)
    kept = np.where(tie, 0.5, np.where(other > wrong, 1.0, 0.0))[comparable]
    statistics["kept_fraction"] = _fraction(kept)
    statistics["true_class_found"] = _fraction(
        _true_class_most_cut(weights[noisy], given[noisy], true[noisy])
    )
    return statistics


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal up to the rounding of a mean (one part in a million): instance weighting's ties."""
    return np.isclose(a, b, rtol=_TIE, atol=0.0)


def _true_class_most_cut(weights: np.ndarray, given: np.ndarray, true: np.ndarray) -> np.ndarray:
    """bool [R]: the true class's weight is below every other non-given class's (not tied)."""
    rows = np.arange(given.size)
    others = weights.copy()
    others[rows, given] = np.inf
    others[rows, true] = np.inf
    lowest_other = others.min(axis=1, initial=np.inf)
    w_true = weights[rows, true]
    return (w_true < lowest_other) & ~_same(w_true, lowest_other)


def relative_to_instance_weights(weights: np.ndarray, instance_weights: np.ndarray) -> np.ndarray:
    """``W_ij / v0_i`` ([R, C] or [R]), NaN where ``v0_i`` is 0 (float16 underflow)."""
    instance = np.asarray(instance_weights, dtype=np.float64)
    instance = instance[:, None] if np.ndim(weights) == 2 else instance
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(instance > 0, np.asarray(weights, dtype=np.float64) / instance, np.nan)


def signal_quartiles(
    weights: np.ndarray,
    instance_weights: np.ndarray,
    given: np.ndarray,
    true: np.ndarray,
    *,
    relative: bool = False,
) -> dict[tuple[str, str], tuple[float, float, float]]:
    """Lower quartile, median and upper quartile of each story signal at one epoch.

    Args:
        weights: [R, C]; instance_weights: [R]; given, true: [R].
        relative: divide each example's weights by its instance weight first (1 = instance
            weighting).

    Returns:
        ``(group, signal) -> (q25, q50, q75)`` for every pair of :data:`SIGNALS`; NaNs for an
        empty group.
    """
    given = np.asarray(given, dtype=np.int64)
    true = np.asarray(true, dtype=np.int64)
    if relative:
        weights = relative_to_instance_weights(weights, instance_weights)
    signals = story_signals(weights, given, true)
    noisy = given != true
    groups = {"noisy": noisy, "clean": ~noisy}
    result = {}
    for group, signal in SIGNALS:
        values = signals[signal][groups[group]]
        values = values[np.isfinite(values)]
        if values.size:
            low, mid, high = np.quantile(values, [0.25, 0.5, 0.75])
            result[(group, signal)] = (float(low), float(mid), float(high))
        else:
            result[(group, signal)] = (_NAN, _NAN, _NAN)
    return result


def telling_order(
    weights: np.ndarray, instance_weights: np.ndarray, given: np.ndarray, true: np.ndarray
) -> np.ndarray:
    """Rows of mislabelled examples, the most telling first: those whose class-level step
    separated "not bird" from "not cat" most relative to their instance weight,
    ``(mean "not bird" - "not cat") / v0``, largest first (ties by row).

    Args:
        weights: [R, C]; instance_weights: [R]; given, true: [R].

    Returns:
        int64 row positions of the mislabelled examples with a finite score.
    """
    given = np.asarray(given, dtype=np.int64)
    true = np.asarray(true, dtype=np.int64)
    relative = relative_to_instance_weights(weights, instance_weights)
    signals = story_signals(relative, given, true)
    score = signals["other"] - signals["true"]
    rows = np.flatnonzero((given != true) & np.isfinite(score))
    return rows[np.argsort(-score[rows], kind="stable")].astype(np.int64)


def story_moment(
    weights: np.ndarray, given: np.ndarray, true: np.ndarray
) -> tuple[int, int] | None:
    """Where the story is easiest to see: the mislabelled example and the epoch at which its
    mean "not bird" weight stands furthest above its "not cat" weight, in absolute terms (so
    that its bars are large enough to see on a projector, which a ratio to a tiny instance
    weight would not guarantee).

    Args:
        weights: [E, R, C] the class-level weights of R examples over E epochs.
        given, true: [R] their labels.

    Returns:
        ``(row, epoch)``, ``epoch`` 1-based; ``None`` without a mislabelled example whose
        "not bird" can be compared (e.g. a two-class task).
    """
    given = np.asarray(given, dtype=np.int64)
    true = np.asarray(true, dtype=np.int64)
    best: tuple[float, int, int] | None = None
    for epoch, epoch_weights in enumerate(np.asarray(weights), start=1):
        signals = story_signals(epoch_weights, given, true)
        gap = np.where(given != true, signals["other"] - signals["true"], np.nan)
        if not np.isfinite(gap).any():
            continue
        row = int(np.nanargmax(gap))
        if best is None or gap[row] > best[0]:
            best = (float(gap[row]), row, epoch)
    return None if best is None else (best[1], best[2])


LEAN_CLEAR = 0.3
"""The size of :func:`lean` from which the weighting net is said to lean one way."""


def lean(instance_weights: np.ndarray, given_prob: np.ndarray) -> float:
    """Which way the weighting net leans at one epoch: the rank correlation (Spearman) between
    each example's instance weight ``v0`` and its loss ``-log p(given label)``.

    Near -1 it down-weights the examples the model finds hard to fit to their label, which is
    where wrong labels are (a low weight then means "label distrusted"); near +1 it up-weights
    them, as focal loss or a larger learning rate would (a low weight then means "easy").

    Args:
        instance_weights: [R] those of the recorded examples; given_prob: [R] the probability
            the step's forward gave their given label.

    Returns:
        A number in [-1, 1]; NaN when either is constant (ERM's instance weights are all ones)
        or fewer than 3 examples are recorded.
    """
    instance = np.asarray(instance_weights, dtype=np.float64)
    loss = -np.log(np.clip(np.asarray(given_prob, dtype=np.float64), 1e-12, 1.0))
    if instance.size < 3 or np.ptp(instance) == 0 or np.ptp(loss) == 0:
        return _NAN
    return float(np.corrcoef(midranks(instance), midranks(loss))[0, 1])


def lean_words(value: float) -> str:
    """:func:`lean` in words a lecture can use."""
    if not np.isfinite(value):
        return "no lean: every example has the same weight"
    if value <= -LEAN_CLEAR:
        return (
            "down-weighting suspected labels (the higher an example's loss, the lower its weight)"
        )
    if value >= LEAN_CLEAR:
        return (
            "up-weighting hard examples (the higher an example's loss, the higher its weight): "
            "a low weight here means an easy example, not a distrusted label"
        )
    return "no clear lean: its weight hardly follows the loss"
