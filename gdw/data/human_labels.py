"""Human label noise: the labels people gave, read from a file that is index-aligned with a
dataset's training split (CIFAR-N's ``CIFAR-10_human.pt`` and ``CIFAR-100_human.pt``).

The published files are zip-format pickles, as ``torch.save`` writes them, of a dict of integer
arrays. They are read with :func:`gdw.data.safe_pickle.load_plain`, so nothing in them runs; an
``.npz`` file with the same arrays is read with NumPy, pickles not allowed. Before its labels
are used, the file's clean labels must equal the dataset's own, index by index: anything else
means the images are in another order or the file belongs to another dataset.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from gdw.config import DataConfig, DataError
from gdw.data.safe_pickle import PickleReadError, load_plain
from gdw.registry import dataset_spec

__all__ = ["human_given_labels", "read_label_file"]

_MAX_PICKLE_BYTES = 256 * 2**20  # CIFAR-N's pickles hold 2.4 MB; more is not a label file


def read_label_file(path: str | Path) -> dict[str, np.ndarray]:
    """Every integer array of a label file, by name.

    Args:
        path: a zip-format pickle of a dict of integer arrays (or lists of integers), as
            ``torch.save`` writes it, or an ``.npz`` archive of integer arrays.

    Raises:
        DataError: no such file, a file of another kind, one that asks for anything but plain
            data (it is not run), or one that is cut short or garbled; one line naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no label file {path}")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as file:
            if file.read(4) == b"PK\x03\x04":  # a zip archive's start without its end
                raise DataError(
                    f"cannot read the label file {path}: it is cut short or garbled (not a whole "
                    "zip archive); get it again"
                )
        raise DataError(
            f"{path} is not a label file: expected a zip-format pickle (as torch.save writes it) "
            "or an .npz archive"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pickles = [name for name in names if name.rsplit("/", 1)[-1] == "data.pkl"]
            if not pickles and names and all(name.endswith(".npy") for name in names):
                return _read_npz(path)
            if len(pickles) != 1:
                raise DataError(
                    f"{path} is not a label file: a zip archive without the one data.pkl of "
                    "torch.save's format, nor an .npz archive"
                )
            if archive.getinfo(pickles[0]).file_size > _MAX_PICKLE_BYTES:
                raise DataError(f"{path} is not a label file: its pickle is too large")
            with archive.open(pickles[0]) as file:
                record = load_plain(file)
    except PickleReadError as error:
        verdict = "refusing to read it" if error.refused else "get the file again"
        raise DataError(f"cannot read the label file {path}: {error}; {verdict}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DataError(f"cannot read the label file {path} ({detail}); get it again") from None
    if not isinstance(record, dict) or not all(isinstance(key, str) for key in record):
        raise DataError(f"{path} is not a label file: it holds no dict of named label arrays")
    return {key: array for key, value in record.items() if (array := _labels(value)) is not None}


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:  # an array of Python objects needs a pickle: refused
        detail = (str(error).strip().splitlines() or ["unreadable"])[0]
        message = f"cannot read the label file {path}: {detail}; refusing to read it"
        raise DataError(message) from None
    return {key: array for key, value in arrays.items() if (array := _labels(value)) is not None}


def _labels(value: object) -> np.ndarray | None:
    """``value`` as a 1-D int64 array, if it is a 1-D array or list of whole numbers."""
    if isinstance(value, list):
        if not all(type(item) is int for item in value):
            return None
        value = np.asarray(value, dtype=np.int64)
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in "iu":
        return None
    return value.astype(np.int64)


def human_given_labels(config: DataConfig, clean_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The human labels of ``config.human_labels`` for the whole source training split.

    Args:
        config: a configuration with ``noise="human"``.
        clean_labels: int ``[N]``, the source training split's labels, in the dataset's order
            and numbering (before any ``--classes`` choice).
        n_classes: the dataset's number of classes.

    Returns:
        int64 ``[N]``: the label people gave training image ``i``.

    Raises:
        DataError: the file is missing or unreadable (see :func:`read_label_file`), lacks the
            label set, or does not belong to these images (other length, other clean labels,
            labels out of range).
    """
    spec = dataset_spec(config.dataset).human_labels
    path = config.human_labels_path
    assert spec is not None and path is not None and config.human_labels is not None
    if not Path(path).is_file():
        hint = "--noise-file" if config.noise_file is None else "another --noise-file"
        raise DataError(
            f"no human label file {path}; get it from {spec.source}, or give {hint} (Human label "
            "file in the app)"
        )
    arrays = read_label_file(path)
    key = spec.key(config.human_labels)
    missing = [name for name in (spec.clean_key, key) if name not in arrays]
    if missing:
        raise DataError(
            f"{path} has no {' or '.join(missing)} array (it has: "
            f"{', '.join(arrays) or 'none'}); is it the label file of {config.dataset}?"
        )
    clean, given = arrays[spec.clean_key], arrays[key]
    _check_aligned(path, config.dataset, clean, given, clean_labels)
    if given.min() < 0 or given.max() >= n_classes:
        raise DataError(
            f"{path}: {key} holds labels outside 0..{n_classes - 1}; is it the label file of "
            f"{config.dataset}?"
        )
    return given


def _check_aligned(
    path: str, dataset: str, clean: np.ndarray, given: np.ndarray, labels: np.ndarray
) -> None:
    """Refuses a file whose clean labels are not the dataset's, index by index."""
    if clean.size != labels.size or given.size != labels.size:
        raise DataError(
            f"{path} holds {clean.size:,} clean and {given.size:,} human labels, but {dataset}'s "
            f"training split has {labels.size:,} images: the file belongs to another dataset"
        )
    differ = np.flatnonzero(clean != labels)
    if differ.size:
        first = int(differ[0])
        raise DataError(
            f"{path}'s clean labels differ from {dataset}'s training labels at {differ.size:,} "
            f"of {labels.size:,} images (first: image {first}, file {clean[first]}, dataset "
            f"{labels[first]}): the images are in another order, or the file belongs to "
            "another dataset"
        )
