"""Datasets with corrupted labels and a clean class-balanced meta set (their batches are
normalised and augmented by :mod:`gdw.data.transforms`).

:func:`load_dataset` reads a dataset's training and test splits and then, in this order and
each step with its own seeded generator:

1. draws the meta set out of the training split, before any corruption, so it is clean and
   balanced (unless ``imagefolder`` brings its own trusted ``meta/`` folder);
2. keeps a random ``train_subset`` of the rest;
3. thins the classes to a long tail (``imbalance``);
4. corrupts the labels (``noise``, ``noise_rate``), keeping the true ones; human noise
   (``noise="human"``) looks each image's human label up by its index in the source training
   split instead (:mod:`gdw.data.human_labels`), so a subset or a long tail keeps every image's own
   label. With ``classes``, an image whose human label names none of the chosen classes is
   left out of training before step 2 (no label of the smaller task says what it was given);
   the meta set, drawn by true labels, may still hold it;
5. plants canaries (``canaries``): moves the labels of a seeded fraction of the still correct
   examples to another class, marking them, so a ranking's hit rate on them can be measured
   where the real errors are unknown.

Index ``i`` of the ``train_*`` tensors is "training example ``i``" everywhere in the project
(batches, weights, run files). ``train_source_index[i]`` is its position in the source
dataset's training split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gdw.config import DataConfig, DataError
from gdw.data.classes import label_map, select_classes
from gdw.data.noise import (
    corrupt_labels,
    flip_transition,
    long_tail_counts,
    plant_canaries,
    uniform_transition,
)
from gdw.data.sources import Source, Split, read_source

__all__ = ["NoisyDataset", "describe", "load_dataset", "top_confusions"]


@dataclass(frozen=True, eq=False)
class NoisyDataset:
    """A corrupted training split, a clean meta set and a test split, all on the CPU.

    Images are uint8 ``[N, ch, H, W]``; labels and indices int64 ``[N]``.

    Attributes:
        name: the dataset name of the :class:`~gdw.config.DataConfig`.
        classes: class names; label ``c`` means ``classes[c]``.
        train_images, train_given, train_true: training images, their given (possibly
            noisy) labels and their true labels.
        train_source_index: position of each training example in the source training split.
        meta_images, meta_labels: the clean, class-balanced meta set.
        meta_source_index: position of each meta example in the source training split, or
            -1 for examples from a separate trusted folder (``imagefolder``'s ``meta/``).
        test_images, test_labels: the source dataset's test split.
        mean, std: per-channel statistics of images scaled to [0, 1], for :func:`normalize`.
        augment: whether crop-and-flip augmentation suits the images (32x32 colour).
        train_sources: each training example's file, relative to the data root, for data read
            from files (``imagefolder``); empty otherwise.
        train_canary: bool ``[N]``, the planted errors (also counted in :attr:`is_noisy`);
            all False when none were planted, empty for a dataset built without them.
    """

    name: str
    classes: tuple[str, ...]
    train_images: torch.Tensor
    train_given: torch.Tensor
    train_true: torch.Tensor
    train_source_index: torch.Tensor
    meta_images: torch.Tensor
    meta_labels: torch.Tensor
    meta_source_index: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment: bool
    train_sources: tuple[str, ...] = ()
    train_canary: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.bool))

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def is_noisy(self) -> torch.Tensor:
        """bool ``[N]``: whether training example ``i`` was given a wrong label."""
        return self.train_given != self.train_true

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)``."""
        channels, height, width = self.train_images.shape[1:]
        return (channels, height, width)


def load_dataset(config: DataConfig) -> NoisyDataset:
    """Load, split and corrupt a dataset as ``config`` says; the same config gives the same data.

    The meta set holds ``resolved_num_meta // C`` examples of every class (a remainder is
    dropped). With ``imagefolder`` and a ``meta/`` folder, that folder is the meta set as it
    is and ``num_meta`` is not used.

    Raises:
        DataError: files missing or unreadable, fewer than 2 classes, or a meta set or training
            subset larger than the data can give.
    """
    full = read_source(config)
    source, positions = select_classes(full, config.classes)
    n_classes = len(source.classes)
    labels = source.train.labels
    human = _human_labels(config, full)[positions] if config.noise == "human" else None
    meta_rng, subset_rng, imbalance_rng, noise_rng = (
        np.random.default_rng(seed) for seed in np.random.SeedSequence(config.seed).spawn(4)
    )
    if source.meta is None:
        meta_index = _draw_meta(labels, source.classes, config.resolved_num_meta, meta_rng)
        meta = Split(source.train.images[meta_index], labels[meta_index])
        remaining = np.setdiff1d(np.arange(labels.size), meta_index)
    else:
        meta, meta_index = source.meta, np.full(source.meta.labels.size, -1, dtype=np.int64)
        remaining = np.arange(labels.size)
    if human is not None:
        remaining = remaining[human[remaining] >= 0]
    keep = _draw_subset(remaining, config.train_subset, subset_rng)
    if config.imbalance < 1.0:
        keep = _draw_long_tail(keep, labels, n_classes, config.imbalance, imbalance_rng)
    true = labels[keep]
    given = human[keep] if human is not None else _corrupt(true, n_classes, config, noise_rng)
    given, canary = _plant_canaries(given, true, n_classes, config)
    images = source.train.images[keep]
    mean, std = (source.mean, source.std) if source.mean else _channel_stats(images)
    return NoisyDataset(
        name=config.dataset,
        classes=source.classes,
        train_images=_tensor(images),
        train_given=_tensor(given),
        train_true=_tensor(true),
        train_source_index=_tensor(positions[keep]),
        meta_images=_tensor(meta.images),
        meta_labels=_tensor(meta.labels),
        meta_source_index=_tensor(np.where(meta_index >= 0, positions[meta_index], -1)),
        test_images=_tensor(source.test.images),
        test_labels=_tensor(source.test.labels),
        mean=mean,
        std=std,
        augment=_suits_crop_and_flip(images),
        train_sources=tuple(source.train.files[i] for i in keep) if source.train.files else (),
        train_canary=_tensor(canary),
    )


def describe(dataset: NoisyDataset) -> dict[str, Any]:
    """A JSON-ready summary: class counts, realised noise and the true-to-given count matrix.

    ``train_counts`` count true classes, ``given_counts`` given labels; ``transition[t][g]``
    is the number of training examples of true class ``t`` given label ``g``; ``noise_rate``
    is the realised fraction of training labels that differ from the true ones;
    ``confusions`` lists the most frequent wrong labels (:func:`top_confusions`).
    """
    n_classes = dataset.n_classes
    true = dataset.train_true.numpy()
    given = dataset.train_given.numpy()
    transition = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(transition, (true, given), 1)
    return {
        "dataset": dataset.name,
        "classes": list(dataset.classes),
        "train_count": int(true.size),
        "meta_count": int(dataset.meta_labels.numel()),
        "test_count": int(dataset.test_labels.numel()),
        "train_counts": np.bincount(true, minlength=n_classes).tolist(),
        "given_counts": np.bincount(given, minlength=n_classes).tolist(),
        "meta_counts": np.bincount(dataset.meta_labels.numpy(), minlength=n_classes).tolist(),
        "noise_rate": float(np.mean(true != given)) if true.size else 0.0,
        "canary_count": int(dataset.train_canary.sum()),
        "transition": transition.tolist(),
        "confusions": top_confusions(transition, dataset.classes),
        "image_shape": list(dataset.image_shape),
    }


def top_confusions(
    transition: np.ndarray, classes: Sequence[str], *, limit: int = 10
) -> list[dict[str, Any]]:
    """The most frequent (true class, given label) pairs with a wrong label, most first.

    Args:
        transition: int ``[C, C]`` counts, row = true class, column = given label.
        classes: the class names.
        limit: at most this many pairs.

    Returns:
        ``{"true", "given", "count", "share"}`` per pair; ``share`` is the fraction of the
        true class's examples given that label. Ties keep the matrix's order.
    """
    wrong = np.array(transition, dtype=np.int64)
    np.fill_diagonal(wrong, 0)
    order = np.argsort(-wrong, axis=None, kind="stable")[:limit]
    totals = np.asarray(transition).sum(axis=1)
    pairs = []
    for true, given in zip(*np.unravel_index(order, wrong.shape)):
        count = int(wrong[true, given])
        if count == 0:
            break
        share = count / int(totals[true])
        pairs.append(
            {"true": classes[true], "given": classes[given], "count": count, "share": share}
        )
    return pairs


def _draw_meta(
    labels: np.ndarray, classes: tuple[str, ...], num_meta: int, rng: np.random.Generator
) -> np.ndarray:
    """Source indices of ``num_meta // C`` examples per class, leaving each class at least one."""
    n_classes = len(classes)
    per_class = num_meta // n_classes
    if per_class < 1:
        raise DataError(
            f"a meta set of {num_meta} cannot hold one example of each of the {n_classes} "
            f"classes; use --num-meta {n_classes} or more"
        )
    counts = np.bincount(labels, minlength=n_classes)
    smallest = int(counts.argmin())
    if counts[smallest] <= per_class:
        most = n_classes * (int(counts[smallest]) - 1)
        advice = f"use --num-meta {most} or less" if most >= n_classes else "add images to it"
        raise DataError(
            f"class {classes[smallest]!r} has {counts[smallest]} training examples, too few for "
            f"{per_class} meta examples per class (--num-meta {num_meta}) and at least one "
            f"for training; {advice}"
        )
    picks = [
        rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(n_classes)
    ]
    return np.sort(np.concatenate(picks))


def _draw_subset(
    indices: np.ndarray, train_subset: int | None, rng: np.random.Generator
) -> np.ndarray:
    if train_subset is None:
        return indices
    if train_subset > indices.size:
        raise DataError(
            f"--train-subset {train_subset} is more than the {indices.size} training examples "
            f"left after the meta set; use {indices.size} or less"
        )
    return np.sort(rng.choice(indices, train_subset, replace=False))


def _draw_long_tail(
    indices: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    imbalance: float,
    rng: np.random.Generator,
) -> np.ndarray:
    counts = np.bincount(labels[indices], minlength=n_classes)
    keep_counts = long_tail_counts(counts, imbalance)
    picks = [
        rng.choice(indices[labels[indices] == c], keep_counts[c], replace=False)
        for c in range(n_classes)
    ]
    return np.sort(np.concatenate(picks))


def _human_labels(config: DataConfig, full: Source) -> np.ndarray:
    """Every source training image's human label, numbered as the chosen classes are (-1: a
    class not chosen)."""
    from gdw.data.human_labels import human_given_labels

    given = human_given_labels(config, full.train.labels, len(full.classes))
    return label_map(config.classes, full.classes)[given]


def _corrupt(
    true: np.ndarray, n_classes: int, config: DataConfig, rng: np.random.Generator
) -> np.ndarray:
    if config.noise == "none":
        return true.copy()
    if config.noise == "uniform":
        transition = uniform_transition(n_classes, config.noise_rate)
    else:
        transition = flip_transition(n_classes, config.noise_rate, rng)
    return corrupt_labels(true, transition, rng)


def _plant_canaries(
    given: np.ndarray, true: np.ndarray, n_classes: int, config: DataConfig
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`gdw.data.noise.plant_canaries` with a generator of its own (the other draws stay as
    they are without canaries)."""
    rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(5)[4])
    count = int(round(config.resolved_canaries * given.size))
    try:
        return plant_canaries(given, true, n_classes=n_classes, count=count, rng=rng)
    except ValueError as error:
        message = f"--canaries {config.resolved_canaries:g}: {error}; use a smaller fraction"
        raise DataError(message) from None


def _channel_stats(images: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images ``[N, ch, H, W]`` scaled to [0, 1]."""
    scaled = images.astype(np.float64) / 255.0
    mean = scaled.mean(axis=(0, 2, 3))
    std = scaled.std(axis=(0, 2, 3))
    # A constant channel would divide by zero in normalize(); leave it unscaled instead.
    std = np.where(std > 1e-6, std, 1.0)
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def _suits_crop_and_flip(images: np.ndarray) -> bool:
    return tuple(images.shape[1:]) == (3, 32, 32)


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))
