"""The scores that can rank a run's recorded examples as suspected label errors.

Each score is a pure function of one epoch's recorded arrays (``weights``, ``instance_weights``,
``given_prob``, ``margin``, ``given_step``, see :data:`gdw.runs.files.EPOCH_ARRAYS`) and the
given labels, giving one number per example; low means "suspect". A ranking averages it over a
window of epochs (:func:`window_scores`), because one epoch's value is noisy. The scores form a
small table (:func:`register_score`), read by ``gdw label-issues --score``, the dashboard's
gallery and ``scripts/weight_study.py``, which measures how well each one finds label errors
(docs/weights-study.md says which to trust when).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gdw.registry import lookup

__all__ = [
    "LabelScore",
    "register_score",
    "score_ids",
    "score_spec",
    "window_scores",
]


@dataclass(frozen=True)
class LabelScore:
    """One way to score examples; low = the given label is suspect.

    Attributes:
        id: the ``--score`` name.
        label: a few words for summaries and captions ("given-class weight").
        description: one line saying what it is.
        arrays: the per-epoch arrays it reads.
        per_epoch: ``per_epoch(arrays, given)``: one epoch's arrays (``[R]`` or ``[R, C]``) and
            the given labels ``[R]`` to scores ``[R]``.
    """

    id: str
    label: str
    description: str
    arrays: tuple[str, ...]
    per_epoch: Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]


_SCORES: dict[str, LabelScore] = {}


def register_score(spec: LabelScore) -> LabelScore:
    """Adds ``spec`` to the table (replacing an entry of the same id)."""
    _SCORES[spec.id] = spec
    return spec


def score_ids() -> tuple[str, ...]:
    """Every registered score, in registration order."""
    return tuple(_SCORES)


def score_spec(score: str) -> LabelScore:
    """The entry of ``score``; ``KeyError`` naming the registered ones if there is none."""
    return lookup(_SCORES, "score", score)


def window_scores(
    spec: LabelScore, epochs: Sequence[Mapping[str, np.ndarray]], given: np.ndarray
) -> np.ndarray:
    """The mean of ``spec``'s score over the epochs of a window: ``[R]``, float64.

    Args:
        epochs: each epoch's arrays (at least those ``spec`` reads), oldest first.
        given: ``[R]`` given labels.
    """
    if not epochs:
        raise ValueError("a window needs at least one epoch")
    given = np.asarray(given, dtype=np.int64)
    per_epoch = [np.asarray(spec.per_epoch(arrays, given), dtype=np.float64) for arrays in epochs]
    return np.mean(per_epoch, axis=0)


def _given_weight(arrays: Mapping[str, np.ndarray], given: np.ndarray) -> np.ndarray:
    return np.asarray(arrays["weights"], dtype=np.float64)[np.arange(given.size), given]


def _relative_weight(arrays: Mapping[str, np.ndarray], given: np.ndarray) -> np.ndarray:
    instance = np.asarray(arrays["instance_weights"], dtype=np.float64)
    tiny = np.finfo(np.float16).smallest_subnormal  # instance weights are recorded in float16
    return _given_weight(arrays, given) / np.maximum(instance, tiny)


def _array(name: str) -> Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]:
    def read(arrays: Mapping[str, np.ndarray], given: np.ndarray) -> np.ndarray:
        return np.asarray(arrays[name], dtype=np.float64)

    return read


register_score(
    LabelScore(
        id="given_weight",
        label="given-class weight",
        description='the class-level weight of the given label\'s signal ("dog")',
        arrays=("weights",),
        per_epoch=_given_weight,
    )
)
register_score(
    LabelScore(
        id="instance_weight",
        label="instance weight",
        description="the weighting net's weight of the example, before any class-level step",
        arrays=("instance_weights",),
        per_epoch=_array("instance_weights"),
    )
)
register_score(
    LabelScore(
        id="relative_weight",
        label="given-class weight / instance weight",
        description="the given-class weight relative to the instance weight: what the "
        "class-level step did to it",
        arrays=("weights", "instance_weights"),
        per_epoch=_relative_weight,
    )
)
register_score(
    LabelScore(
        id="given_step",
        label="outer step on the given class",
        description="how far the outer step moved the given-class weight, before the clamp: "
        "the meta set's verdict on the example's own signals",
        arrays=("given_step",),
        per_epoch=_array("given_step"),
    )
)
register_score(
    LabelScore(
        id="given_prob",
        label="given-label probability",
        description="the probability the model gave the given label at the example's visit",
        arrays=("given_prob",),
        per_epoch=_array("given_prob"),
    )
)
register_score(
    LabelScore(
        id="margin",
        label="given-label margin",
        description="the given label's probability minus the largest other class's",
        arrays=("margin",),
        per_epoch=_array("margin"),
    )
)
