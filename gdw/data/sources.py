"""Reading a dataset's uncorrupted splits from where it lives: scikit-learn, torchvision, folders
(CIFAR's files: :mod:`gdw.data.cifar_files`).

Everything here returns uint8 images ``[N, ch, H, W]`` and int64 labels as NumPy arrays;
splitting off the meta set and corrupting the labels happen in :mod:`gdw.data.dataset`. Each dataset
is an entry of the dataset registry (:mod:`gdw.registry`); the built-in entries, which name
the readers below, are in :mod:`gdw.data.dataset_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gdw.config import DataConfig, DataError
from gdw.registry import dataset_spec

__all__ = [
    "DIGITS_SPLIT_SEED",
    "IMAGEFOLDER_SIZE",
    "IMAGE_EXTENSIONS",
    "GET_FILES",
    "Source",
    "Split",
    "files_problem",
    "imagefolder_class_names",
    "read_digits",
    "read_imagefolder",
    "read_source",
    "read_torchvision",
    "source_file",
    "torchvision_class_names",
]

DIGITS_SPLIT_SEED = 0
IMAGEFOLDER_SIZE = 32
IMAGE_EXTENSIONS = tuple(".bmp .gif .jpeg .jpg .pgm .png .ppm .tif .tiff .webp".split())

# torchvision class name, per-channel mean and std of its training images scaled to [0, 1].
_TORCHVISION = {
    "mnist": ("MNIST", (0.1307,), (0.3081,)),
    "fashion-mnist": ("FashionMNIST", (0.2860,), (0.3530,)),
}
GET_FILES = "pass --download (or tick Download in the app) to fetch them"


@dataclass(frozen=True)
class Split:
    """Images and labels of one split; ``files`` holds each image's path relative to the data
    root (``train/cat/001.png``) for data read from files one by one, else is empty."""

    images: np.ndarray  # uint8 [N, ch, H, W]
    labels: np.ndarray  # int64 [N]
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A dataset as it comes: class names, splits, and its known normalisation (if any).

    ``meta`` is a trusted split that replaces the drawn meta set; ``mean``/``std`` are empty
    when they should be computed from the training images.
    """

    classes: tuple[str, ...]
    train: Split
    test: Split
    meta: Split | None = None
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()


def read_source(config: DataConfig) -> Source:
    """The uncorrupted splits of ``config.dataset``; raises :class:`DataError` when unreadable."""
    return dataset_spec(config.dataset).reader(config)


def source_file(data_root: str | Path, source: str) -> Path:
    """The file a training example came from (its ``source`` in instances.csv) under
    ``data_root``; refuses a source that would lead outside the root (``..``, absolute paths,
    links out) or is no file, with :class:`DataError`."""
    root = Path(data_root).resolve()
    path = (root / str(source)).resolve()
    if not path.is_relative_to(root) or path == root:
        raise DataError(f"{source!r} lies outside the data root {root}")
    if not path.is_file():
        raise DataError(f"no file {path}; was the image moved or renamed?")
    return path


def read_digits(config: DataConfig) -> Source:
    """scikit-learn's 8x8 digits with a fixed stratified 80/20 split.

    The split uses :data:`DIGITS_SPLIT_SEED`, not the run seed, so every run is tested on the
    same 360 images; the run seed only drives the meta set and the corruptions.
    """
    # Imported here: scikit-learn is slow to import and only this dataset needs it.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = digits.target.astype(np.int64)
    train, test = train_test_split(
        np.arange(labels.size), test_size=0.2, stratify=labels, random_state=DIGITS_SPLIT_SEED
    )
    train, test = np.sort(train), np.sort(test)
    return Source(
        classes=tuple(str(c) for c in range(10)),
        train=Split(images[train], labels[train]),
        test=Split(images[test], labels[test]),
    )


def read_torchvision(config: DataConfig) -> Source:
    """MNIST and Fashion-MNIST through torchvision's classes (CIFAR:
    :mod:`gdw.data.cifar_files`)."""
    import torchvision.datasets  # slow to import; only these datasets need it

    class_name, mean, std = _TORCHVISION[config.dataset]
    dataset_class = getattr(torchvision.datasets, class_name)
    root = Path(config.data_root)
    folder = root / class_name / "raw"
    try:
        train = dataset_class(str(root), train=True, download=config.download)
        test = dataset_class(str(root), train=False)
    except Exception as error:
        # torchvision reports missing, corrupt and undownloadable files with RuntimeError,
        # OSError and assertion errors alike: each one means "fix the files".
        raise DataError(files_problem(config, folder, error)) from error
    return Source(
        classes=tuple(str(name) for name in train.classes),
        train=_torchvision_split(train),
        test=_torchvision_split(test),
        mean=mean,
        std=std,
    )


def torchvision_class_names(config: DataConfig) -> tuple[str, ...]:
    """MNIST's and Fashion-MNIST's names, known to torchvision without any file."""
    import torchvision.datasets

    dataset_class = getattr(torchvision.datasets, _TORCHVISION[config.dataset][0])
    return tuple(str(name) for name in dataset_class.classes)


def imagefolder_class_names(config: DataConfig) -> tuple[str, ...] | None:
    folder = Path(config.data_root) / "train"
    return _class_folders(folder) if folder.is_dir() else None


def files_problem(config: DataConfig, folder: Path, error: Exception) -> str:
    """The one-line message for dataset files in ``folder`` that could not be read (or
    downloaded, with ``--download``) because of ``error``."""
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if config.download:
        return (
            f"could not download {config.dataset} into {folder} ({detail}); check the network "
            "connection, or put the files there yourself"
        )
    if not folder.is_dir() or not any(folder.iterdir()):
        return f"no {config.dataset} files in {folder}; {GET_FILES}"
    return (
        f"the {config.dataset} files in {folder} are incomplete or corrupt ({detail}); {GET_FILES}"
    )


def _torchvision_split(dataset: object) -> Split:
    images = np.asarray(dataset.data, dtype=np.uint8)[:, None]  # [N, H, W] grey
    return Split(np.ascontiguousarray(images), np.asarray(dataset.targets, dtype=np.int64))


def read_imagefolder(config: DataConfig) -> Source:
    """``root/{train,test}/<class>/*`` and optionally ``root/meta/<class>/*`` (trusted).

    Every image is converted to RGB and resized to ``IMAGEFOLDER_SIZE`` squared (aspect ratio
    not kept), so the folders can mix formats and sizes. Class names are the sorted folder
    names and must be the same in every split.
    """
    root = Path(config.data_root)
    layout = f"put images in {root}/train/<class>/ and {root}/test/<class>/"
    for split in ("train", "test"):
        if not (root / split).is_dir():
            raise DataError(f"no folder {root / split}; {layout}")
    classes = _class_folders(root / "train")
    if len(classes) < 2:
        raise DataError(
            f"{root / 'train'} has {len(classes)} class folder(s), at least 2 are needed; {layout}"
        )
    splits = {"train": root / "train", "test": root / "test"}
    if (root / "meta").is_dir():
        splits["meta"] = root / "meta"
    for folder in splits.values():
        found = _class_folders(folder)
        if found != classes:
            raise DataError(
                f"the class folders of {folder} ({', '.join(found) or 'none'}) differ from those "
                f"of {root / 'train'} ({', '.join(classes)})"
            )
    read = {name: _read_image_split(folder, classes, root) for name, folder in splits.items()}
    return Source(classes=classes, train=read["train"], test=read["test"], meta=read.get("meta"))


def _class_folders(folder: Path) -> tuple[str, ...]:
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not _hidden(p)))


def _hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _read_image_split(folder: Path, classes: tuple[str, ...], root: Path) -> Split:
    images, labels, paths = [], [], []
    for label, name in enumerate(classes):
        files = sorted(
            p
            for p in (folder / name).iterdir()
            if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file() and not _hidden(p)
        )
        if not files:
            raise DataError(
                f"{folder / name} has no images (looked for {', '.join(IMAGE_EXTENSIONS)})"
            )
        images.extend(_read_image(path) for path in files)
        labels.extend([label] * len(files))
        paths.extend(path.relative_to(root).as_posix() for path in files)
    return Split(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(paths))


def _read_image(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize(
                (IMAGEFOLDER_SIZE, IMAGEFOLDER_SIZE), Image.Resampling.BILINEAR
            )
    except (OSError, ValueError) as error:  # UnidentifiedImageError is an OSError
        if isinstance(error, UnidentifiedImageError):
            reason = "not an image format Pillow can read"
        else:
            reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise DataError(f"cannot read image {path} ({reason}); fix or remove the file") from error
    return np.asarray(rgb, dtype=np.uint8).transpose(2, 0, 1)
