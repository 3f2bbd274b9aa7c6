"""Run configuration: one frozen dataclass per concern, validated in one place.

The CLI flags, the dashboard's sidebar widgets and ``config.json`` are three views of
:class:`RunConfig`. Every check lives in a ``__post_init__`` here, so a bad value is refused with
the same message wherever it came from. A field the command line sets says so where it is
declared (:func:`gdw.flag_text.flagged`), and every command makes its flags from that
(:mod:`gdw.cli.flags`): a new field with a flag is one declaration here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdw.flag_text import flagged
from gdw.registry import (
    dataset_ids,
    dataset_spec,
    method_ids,
    method_spec,
    model_ids,
    weight_net_ids,
    weight_net_spec,
)

__all__ = [
    "DATA_LIMITS",
    "NOISE_TYPES",
    "DEFAULT_CANARIES",
    "DEVICES",
    "META_GRADIENTS",
    "ConfigError",
    "DataConfig",
    "DataError",
    "DataNotice",
    "RunConfig",
    "corruption_text",
    "default_epochs",
    "default_num_meta",
]

NOISE_TYPES = ("none", "uniform", "flip", "human")
"""``human``: the labels people gave, read from a file (datasets with a ``human_labels`` entry in
the registry: CIFAR-10N, CIFAR-100N); the others are drawn at ``noise_rate``."""
DEVICES = ("auto", "cpu", "cuda", "mps")
META_GRADIENTS = ("auto", "jvp", "double-backward")
DATA_LIMITS = {"noise_rate": (0.0, 1.0), "imbalance": (0.0, 1.0), "canaries": (0.0, 0.5)}
"""The range of each bounded number of :class:`DataConfig`, which the dashboard's widgets offer
too; the imbalance factor must be above its low end."""
DEFAULT_CANARIES = 0.02
"""The canaries planted by default in a run on data without injected noise."""


class ConfigError(ValueError):
    """A configuration value is invalid; the message names it and says what is allowed."""


class DataError(ValueError):
    """The data cannot be loaded as configured; the one-line message says what to fix.

    Raised by the readers of :mod:`gdw.data.sources` and by class choices; it lives here, with
    nothing heavy imported, so that code which only names datasets can catch it."""


class DataNotice(UserWarning):
    """The data was read, but is not quite what was expected (e.g. CIFAR files that differ from
    the published checksums); a warning whose one-line message says what. The command line
    prints it as ``gdw: notice: ...``, the data page shows it."""


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} {value!r} is not one of: {', '.join(choices)}")


def _positive_int(name: str, value: int | None, *, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")


def _whole(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be a whole number >= 0, got {value!r}")


def _finite(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        bracket = "(" if low_open else "["
        raise ConfigError(f"{name} must be in {bracket}{low:g}, {high:g}], got {value:g}")


def default_num_meta(dataset: str) -> int:
    """Meta-set size when none is given (the dataset's entry in :mod:`gdw.registry`)."""
    _choice("dataset", dataset, dataset_ids())
    return dataset_spec(dataset).default_num_meta


def default_epochs(dataset: str) -> int:
    """Epochs when none are given (the dataset's entry in :mod:`gdw.registry`)."""
    _choice("dataset", dataset, dataset_ids())
    return dataset_spec(dataset).default_epochs


def corruption_text(data: Mapping[str, Any]) -> str:
    """A data configuration's corruption in words, from its record (``DataConfig`` as a dict):
    ``clean``, ``uniform 40%``, ``human worse``, each followed by ``, imbalance 0.2`` when the
    classes are thinned."""
    noise = data.get("noise", "none")
    if noise == "none":
        text = "clean"
    elif noise == "human":
        text = f"human {data.get('human_labels')}"
    else:
        text = f"{noise} {100 * float(data.get('noise_rate', 0)):g}%"
    imbalance = float(data.get("imbalance", 1.0))
    return f"{text}, imbalance {imbalance:g}" if imbalance < 1.0 else text


def _class_list(classes: Any) -> None:
    if isinstance(classes, str) or not all(isinstance(c, (str, int)) for c in classes):
        raise ConfigError(f"classes must be a list of class names or indices, got {classes!r}")
    if any(not str(c).strip() for c in classes):
        raise ConfigError(f"classes has an empty name: {list(classes)}")


@dataclass(frozen=True)
class DataConfig:
    """Which examples a run sees: the dataset, its corruption and the clean meta set. The fields
    not below are said by their flag's help, beside them.

    Attributes:
        dataset: a registered dataset (:func:`gdw.registry.dataset_ids`).
        data_root: folder holding the dataset files (unused by ``digits``).
        noise: label-noise type, one of :data:`NOISE_TYPES`.
        num_meta: clean, balanced meta-set size (``None``: :func:`default_num_meta`).
        classes: train on these classes only (names or indices, at least two), relabelled in
            the order given (``None``: every class). They are checked against the dataset's
            names when the data is read (:func:`gdw.data.classes.resolve_classes`).
        canaries: fraction of the training examples whose label is moved to another class on
            purpose (planted errors, after the noise), to measure how well a ranking finds
            errors; 0 plants none; ``None``: :data:`DEFAULT_CANARIES` where the errors are
            unknown (no injected or human noise), none where they are known (see
            :attr:`resolved_canaries`).
        human_labels: with ``noise="human"``, which of the dataset's human label sets is given
            (CIFAR-10N: ``aggre``, ``worse``, ``random1``-``3``; CIFAR-100N: ``noisy``); ``None``
            there means the dataset's default and is replaced by it.
        noise_file: with ``noise="human"``, the file of human labels (``None``: the file's
            usual name under ``data_root``, see :attr:`human_labels_path`).
    """

    dataset: str = flagged("digits")
    data_root: str = flagged(
        "data", "folder with the dataset files (default: %(default)s)", metavar="DIR"
    )
    download: bool = flagged(False, "let torchvision download missing files")
    noise: str = flagged("none")
    noise_rate: float = flagged(0.0, "label-noise rate in [0, 1] (uniform, flip)", metavar="R")
    imbalance: float = flagged(
        1.0, "n_min / n_max of the training classes in (0, 1]; 1 = balanced", metavar="F"
    )
    num_meta: int | None = flagged(None, metavar="M")
    seed: int = flagged(
        0, "the one seed of the meta split, the corruptions and training (default: 0)", metavar="S"
    )
    train_subset: int | None = flagged(
        None, "use only K training examples, for quick looks", metavar="K"
    )
    classes: tuple[str, ...] | None = flagged(
        None,
        "train on these classes only (names or indices, at least two), relabelled in the order "
        "given: --dataset cifar10 --classes cat,dog,bird; --classes 3,5,8",
        metavar="A,B,C",
    )
    canaries: float | None = flagged(
        None,
        "plant errors: move the labels of a seeded fraction F of the training examples to "
        "another class, to measure how well a ranking finds errors; left out of label-issues' "
        f"list (default: {DEFAULT_CANARIES:g} without injected noise, where the labels' own "
        "errors are unknown; 0 with injected noise)",
        metavar="F",
    )
    human_labels: str | None = flagged(None, metavar="SET")
    noise_file: str | None = flagged(None, metavar="FILE")

    def __post_init__(self) -> None:
        if self.classes is not None:
            _class_list(self.classes)
            object.__setattr__(self, "classes", tuple(str(c).strip() for c in self.classes))
        _choice("dataset", self.dataset, dataset_ids())
        _choice("noise", self.noise, NOISE_TYPES)
        _finite("noise rate", self.noise_rate, *DATA_LIMITS["noise_rate"])
        _finite("imbalance factor", self.imbalance, *DATA_LIMITS["imbalance"], low_open=True)
        _positive_int("num-meta", self.num_meta)
        _positive_int("train-subset", self.train_subset)
        if self.canaries is not None:
            _finite("canaries", self.canaries, *DATA_LIMITS["canaries"])
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be a whole number >= 0, got {self.seed!r}")
        if self.noise == "human":
            self._check_human_labels()
        elif self.human_labels is not None or self.noise_file is not None:
            what = "human labels" if self.human_labels is not None else "a noise file"
            raise ConfigError(f"{what} need noise 'human', not {self.noise!r}")
        elif self.noise != "none" and self.noise_rate == 0.0:
            raise ConfigError(f"noise {self.noise!r} needs a noise rate > 0 (or use noise 'none')")
        if self.noise in ("none", "human") and self.noise_rate != 0.0:
            raise ConfigError(
                f"noise rate {self.noise_rate:g} needs a noise type: uniform or flip"
                + (" (human labels come from their file)" if self.noise == "human" else "")
            )

    def _check_human_labels(self) -> None:
        """A known label set of a dataset that has human labels; ``None`` becomes its default."""
        spec = dataset_spec(self.dataset).human_labels
        if spec is None:
            having = [d for d in dataset_ids() if dataset_spec(d).human_labels is not None]
            raise ConfigError(
                f"noise 'human' needs a dataset with human labels: {', '.join(having) or 'none'}"
            )
        if self.human_labels is None:
            object.__setattr__(self, "human_labels", spec.default)
        elif self.human_labels not in spec.names:
            raise ConfigError(
                f"human labels {self.human_labels!r} is not one of {self.dataset}'s: "
                f"{', '.join(spec.names)}"
            )
        if self.noise_file is not None and not str(self.noise_file).strip():
            raise ConfigError("noise file is empty; give a path, or none for the usual one")

    @property
    def resolved_num_meta(self) -> int:
        return self.num_meta if self.num_meta is not None else default_num_meta(self.dataset)

    @property
    def resolved_canaries(self) -> float:
        """The fraction of canaries planted: the one given, else :data:`DEFAULT_CANARIES` when
        no noise is injected (the labels' own errors are unknown, so a ranking of them can only
        be trusted as far as it finds the canaries) and none when it is (the injected errors
        measure the ranking)."""
        if self.canaries is not None:
            return self.canaries
        return DEFAULT_CANARIES if self.noise == "none" else 0.0

    @property
    def human_labels_path(self) -> str | None:
        """The file the human labels are read from (``None`` without human noise):
        ``noise_file``, or the dataset's usual file name in ``data_root``."""
        if self.noise != "human":
            return None
        if self.noise_file is not None:
            return self.noise_file
        spec = dataset_spec(self.dataset).human_labels
        assert spec is not None, self.dataset
        return str(Path(self.data_root) / spec.file)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run.

    ``None`` in ``epochs``, ``outer_lr`` means "the default" (the dataset's epochs, the
    method's outer lr for the number of classes), resolved by :attr:`resolved_epochs` and
    :meth:`resolved_outer_lr`. The seed is ``data.seed``: one seed drives the data, the initial
    weights and the batch order.
    """

    data: DataConfig = field(default_factory=DataConfig)
    method: str = flagged("gdw", sweep=False)  # a sweep has --methods
    model: str = flagged("auto", metavar="MODEL")
    epochs: int | None = flagged(None, metavar="E")
    batch_size: int = flagged(100, metavar="B")
    lr: float = flagged(0.1, "classifier learning rate")
    momentum: float = flagged(0.9, sweep=False)
    weight_decay: float = flagged(5e-4, sweep=False)
    outer_lr: float | None = flagged(
        None,
        "outer learning rate of GDW and mwnet-step (default: GDW 100, or 1000 for > 10 "
        "classes; mwnet-step GDW's divided by the number of classes)",
        sweep=False,
    )
    clip: float = flagged(
        0.2, "largest change of a weight in one outer step (GDW, mwnet-step)", sweep=False
    )
    meta_lr: float = 1e-3
    device: str = flagged("auto", f"one of: {', '.join(DEVICES)}")
    meta_gradient: str = flagged(
        "auto",
        f"one of: {', '.join(META_GRADIENTS)} (same numbers, different speed)",
        sweep=False,
    )
    weight_net: str = flagged("monotone")
    warmup_epochs: int | None = flagged(None, metavar="K")
    record_limit: int | None = flagged(
        None, "record the weights of at most K examples (0: none)", metavar="K", sweep=False
    )
    name: str | None = flagged(
        None, "name of the run directory (default: time-method-dataset)", sweep=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataConfig):
            raise ConfigError("data must be a DataConfig")
        _choice("method", self.method, method_ids())
        _choice("model", self.model, ("auto", *model_ids()))
        _choice("device", self.device, DEVICES)
        _choice("meta gradient", self.meta_gradient, META_GRADIENTS)
        _choice("weight net", self.weight_net, weight_net_ids())
        _positive_int("epochs", self.epochs)
        _positive_int("batch size", self.batch_size, allow_none=False)
        _whole("record limit", self.record_limit)
        _whole("warm-up epochs", self.warmup_epochs)
        if self.warmup_epochs and self.warmup_epochs >= self.resolved_epochs:
            raise ConfigError(
                f"warm-up epochs must be fewer than the epochs ({self.resolved_epochs}), got "
                f"{self.warmup_epochs}: the weighting would never start"
            )
        _finite("learning rate", self.lr, low=0.0, high=10.0, low_open=True)
        _finite("momentum", self.momentum, low=0.0, high=1.0)
        _finite("weight decay", self.weight_decay, low=0.0, high=1.0)
        _finite("clip", self.clip, low=0.0, high=1e6, low_open=True)
        _finite("meta learning rate", self.meta_lr, low=0.0, high=1.0, low_open=True)
        if self.outer_lr is not None:
            _finite("outer learning rate", self.outer_lr, low=0.0, high=1e9)
        if self.name is not None and not _safe_name(self.name):
            raise ConfigError(
                f"run name {self.name!r} may use only letters, digits, '-', '_' and '.' "
                "(at most 80 characters, not starting with '.')"
            )

    @property
    def seed(self) -> int:
        return self.data.seed

    @property
    def resolved_epochs(self) -> int:
        return self.epochs if self.epochs is not None else default_epochs(self.data.dataset)

    @property
    def resolved_warmup_epochs(self) -> int:
        """Epochs of plain training (every weight 1) before the weighting starts: the ones
        given, else the weighting net's ``warmup_fraction`` of the epochs, rounded down (its
        entry in :mod:`gdw.registry`; docs/algorithm.md, "Warm-up", says why); 0 for a method
        that does not learn from the meta set."""
        if not method_spec(self.method).learns_from_meta:
            return 0
        if self.warmup_epochs is not None:
            return self.warmup_epochs
        return int(weight_net_spec(self.weight_net).warmup_fraction * self.resolved_epochs)

    def resolved_outer_lr(self, n_classes: int) -> float | None:
        """The outer learning rate this run's method uses (``None`` for a method without an
        outer step): the one given, else the method's default for ``n_classes``."""
        spec = method_spec(self.method)
        if not spec.uses_outer_lr:
            return None
        if self.outer_lr is not None:
            return self.outer_lr
        assert spec.default_outer_lr is not None, spec.id
        return spec.default_outer_lr(n_classes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record of every field (the ``config`` part of ``config.json``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> RunConfig:
        """Inverse of :meth:`to_dict`; unknown keys are refused with their names. A record
        without ``weight_net`` was written before there was a choice: its net was the paper's;
        one without ``warmup_epochs``, before there was a warm-up: it had none."""
        record = {"weight_net": "paper", "warmup_epochs": 0, **record}
        data = DataConfig(**_known(DataConfig, record.pop("data", {})))
        return cls(data=data, **_known(cls, record))

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some run fields (or, via ``data=...``, the data fields) changed."""
        return dataclasses.replace(self, **changes)


def _known(cls: type, record: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(record) - names)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
    return record


def _safe_name(name: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    return 0 < len(name) <= 80 and not name.startswith(".") and set(name) <= allowed
