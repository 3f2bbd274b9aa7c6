"""Reading CIFAR-10 and CIFAR-100 from their "python version" files, as plain data.

torchvision's CIFAR classes refuse files whose md5 sums differ from the published ones, and
unpickle them with :mod:`pickle`, which runs whatever a file names. Here the files are read
with :func:`gdw.data.safe_pickle.load_plain` and checked for what training needs instead: every
training and test batch there, each a flat uint8 ``[N, 3072]`` array with ``N`` labels in the
range of the class names. A copy that passes those checks but not the md5 sums (re-encoded, or
built locally from images) is read with a one-line :class:`~gdw.config.DataNotice`; a file that
is missing, cut short or garbled is refused as before.

The layout (folder, file names, md5 sums, where the class names are) is torchvision's own,
read from its classes; ``--download`` is torchvision's too.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gdw.config import DataConfig, DataError, DataNotice
from gdw.data.safe_pickle import PickleReadError, load_plain
from gdw.data.sources import GET_FILES, Source, Split, files_problem

__all__ = ["cifar_class_names", "read_cifar"]

# torchvision class name, per-channel mean and std of its training images scaled to [0, 1].
_CIFAR = {
    "cifar10": ("CIFAR10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ("CIFAR100", (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
_PIXELS = 3 * 32 * 32


class _Malformed(ValueError):
    """A file that unpickles but does not hold what CIFAR's files hold."""


def _layout(dataset: str) -> Any:
    import torchvision.datasets  # slow to import; only data that is read needs it

    return getattr(torchvision.datasets, _CIFAR[dataset][0])


def read_cifar(config: DataConfig) -> Source:
    """The training and test splits of ``config.dataset`` (``cifar10`` or ``cifar100``).

    Raises:
        DataError: files missing, cut short, garbled or holding anything but plain data, or a
            failed download; one line naming the folder and what to do.
    """
    layout = _layout(config.dataset)
    folder = Path(config.data_root) / layout.base_folder
    if config.download:
        _download(config, layout, folder)
    if not folder.is_dir() or not any(folder.iterdir()):
        raise DataError(f"no {config.dataset} files in {folder}; {GET_FILES}")
    try:
        classes = _class_names(folder, layout)
        train = _read_batches(folder, [name for name, _ in layout.train_list], len(classes))
        test = _read_batches(folder, [name for name, _ in layout.test_list], len(classes))
    except PickleReadError as error:
        if error.refused:
            raise DataError(
                f"the {config.dataset} files in {folder} are not plain data ({error}); "
                f"refusing to read them: replace them with the published files ({GET_FILES})"
            ) from None
        raise DataError(files_problem(config, folder, error)) from None
    except (OSError, _Malformed) as error:
        raise DataError(files_problem(config, folder, error)) from None
    if not _checksums_match(folder, layout):
        warnings.warn(
            DataNotice(
                f"the {config.dataset} files in {folder} differ from torchvision's checksums (a "
                "re-encoded or locally built copy?); they are whole and well-formed, so they are "
                "read as they are"
            ),
            stacklevel=2,
        )
    _, mean, std = _CIFAR[config.dataset]
    return Source(classes=classes, train=train, test=test, mean=mean, std=std)


def cifar_class_names(config: DataConfig) -> tuple[str, ...] | None:
    """The class names, from the small metadata file beside the images (``None`` while it is
    missing or unreadable)."""
    layout = _layout(config.dataset)
    try:
        return _class_names(Path(config.data_root) / layout.base_folder, layout)
    except (OSError, PickleReadError, _Malformed):
        return None


def _download(config: DataConfig, layout: Any, folder: Path) -> None:
    """torchvision's download (a no-op when its checksums match already)."""
    try:
        layout(config.data_root, train=True, download=True)
    except Exception as error:
        # torchvision reports unreachable servers, bad archives and full disks alike.
        raise DataError(files_problem(config, folder, error)) from error


def _load(path: Path) -> dict[str, Any]:
    """A CIFAR file's dict, with its keys as text (the original files' Python 2 strings are
    decoded as latin-1, as torchvision does; a copy written from Python 3 may use bytes)."""
    try:
        with path.open("rb") as file:
            record = load_plain(file, encoding="latin1")
    except PickleReadError as error:
        raise type(error)(f"{path.name}: {error}", refused=error.refused) from None
    if not isinstance(record, dict):
        raise _Malformed(f"{path.name} holds a {type(record).__name__}, not a dict")
    return {
        key.decode("latin-1") if isinstance(key, bytes) else key: v for key, v in record.items()
    }


def _class_names(folder: Path, layout: Any) -> tuple[str, ...]:
    path = folder / layout.meta["filename"]
    names = _load(path).get(layout.meta["key"])
    if not isinstance(names, (list, tuple)) or len(names) < 2:
        raise _Malformed(f"{path.name} has no list of class names under {layout.meta['key']!r}")
    return tuple(n.decode("latin-1") if isinstance(n, bytes) else str(n) for n in names)


def _read_batches(folder: Path, names: list[str], n_classes: int) -> Split:
    images, labels = [], []
    for name in names:
        record = _load(folder / name)
        data = record.get("data")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
            raise _Malformed(f"{name} has no uint8 'data' array of image rows")
        if data.shape[1] != _PIXELS:
            raise _Malformed(f"{name}'s images have {data.shape[1]} values, not {_PIXELS}")
        found = record.get("labels", record.get("fine_labels"))
        try:
            batch_labels = np.asarray(found, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):
            batch_labels = np.zeros(0, dtype=np.int64)
        if found is None or batch_labels.size != data.shape[0]:
            raise _Malformed(f"{name} has {data.shape[0]} images but not as many labels")
        if batch_labels.size and not 0 <= batch_labels.min() <= batch_labels.max() < n_classes:
            raise _Malformed(f"{name} has labels outside 0..{n_classes - 1}")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.append(batch_labels)
    return Split(np.ascontiguousarray(np.concatenate(images)), np.concatenate(labels))


def _checksums_match(folder: Path, layout: Any) -> bool:
    from torchvision.datasets import cifar  # its check_integrity, looked up when called

    files = [*layout.train_list, *layout.test_list, [layout.meta["filename"], layout.meta["md5"]]]
    return all(cifar.check_integrity(str(folder / name), md5) for name, md5 in files)
