"""Training on some classes only (``--classes cat,dog,bird``): picking them out of a source.

:func:`select_classes` is applied to a dataset's :class:`~gdw.data.sources.Source` right after it is
read, before the meta set is drawn and the labels are corrupted, so the meta set, the long tail
and the label noise are all drawn among the chosen classes. Labels are renumbered in the order
the classes were given; the class names are kept.

NumPy and the readers are imported by the functions that use them: the dashboard's sidebar
lists class names (:func:`class_names`) before anything heavy is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gdw.config import DataConfig, DataError
from gdw.registry import dataset_spec

if TYPE_CHECKING:
    import numpy as np

    from gdw.data.sources import Source, Split

__all__ = ["class_names", "label_map", "resolve_classes", "select_classes"]


def resolve_classes(requested: Sequence[str], names: Sequence[str]) -> list[int]:
    """Positions in ``names`` of the ``requested`` classes, each a name or an index.

    A request that is one of the names is that class (digits' names are their indices); one
    that is a whole number ``0 <= k < len(names)`` is class ``k``.

    Raises:
        DataError: an unknown class, a class asked for twice, or fewer than two classes; the
            message lists the valid names.
    """
    valid = f"valid classes ({len(names)}, by name or index 0-{len(names) - 1}): " + ", ".join(
        names
    )
    chosen = []
    for item in requested:
        if item in names:
            position = list(names).index(item)
        elif item.strip().isdigit() and int(item) < len(names):
            position = int(item)
        else:
            raise DataError(f"unknown class {item!r}; {valid}")
        if position in chosen:
            raise DataError(f"class {names[position]!r} is asked for twice; {valid}")
        chosen.append(position)
    if len(chosen) < 2:
        raise DataError(f"--classes needs at least two classes, got {len(chosen)}; {valid}")
    return chosen


def label_map(requested: Sequence[str] | None, names: Sequence[str]) -> np.ndarray:
    """int64 ``[C]``: the label each class of ``names`` gets under the choice ``requested``
    (-1: not chosen); every class keeps its label for ``None``. Raises :class:`DataError` as
    :func:`resolve_classes`.

    Labels given elsewhere in the dataset's numbering (human labels) are moved with it; one
    that maps to -1 names none of the chosen classes.
    """
    import numpy as np

    if requested is None:
        return np.arange(len(names), dtype=np.int64)
    chosen = resolve_classes(requested, names)
    new_label = np.full(len(names), -1, dtype=np.int64)
    new_label[chosen] = np.arange(len(chosen))
    return new_label


def _split_of(split: Split, new_label: np.ndarray) -> Split:
    import numpy as np

    from gdw.data.sources import Split

    keep = np.flatnonzero(new_label[split.labels] >= 0)
    return Split(split.images[keep], new_label[split.labels[keep]])


def select_classes(source: Source, requested: Sequence[str] | None) -> tuple[Source, np.ndarray]:
    """``source`` with only the ``requested`` classes (all of it for ``None``), relabelled
    ``0..k-1`` in the order given, and the position in ``source.train`` of each training
    example kept (int64 [N']); raises :class:`DataError` as :func:`resolve_classes`."""
    import numpy as np

    from gdw.data.sources import Source

    if requested is None:
        return source, np.arange(source.train.labels.size, dtype=np.int64)
    chosen = resolve_classes(requested, source.classes)
    new_label = label_map(requested, source.classes)
    positions = np.flatnonzero(new_label[source.train.labels] >= 0).astype(np.int64)
    selected = Source(
        classes=tuple(source.classes[c] for c in chosen),
        train=_split_of(source.train, new_label),
        test=_split_of(source.test, new_label),
        meta=None if source.meta is None else _split_of(source.meta, new_label),
        mean=source.mean,
        std=source.std,
    )
    return selected, positions


def class_names(config: DataConfig) -> tuple[str, ...]:
    """The class names of ``config.dataset`` (all of them, whatever ``config.classes`` says),
    cheaply where the dataset's entry knows how (no images read), else from its source.

    Raises:
        DataError: as the dataset's reader, when the names cannot be known without files that
            are missing.
    """
    spec = dataset_spec(config.dataset)
    if spec.class_names is not None:
        names = spec.class_names(config)
        if names is not None:
            return tuple(names)
    from gdw.data.sources import read_source

    return read_source(config).classes
