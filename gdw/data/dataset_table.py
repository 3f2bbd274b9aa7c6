"""The built-in datasets' entries in the dataset registry (:mod:`gdw.registry`).

They live apart from their readers (:mod:`gdw.data.sources`) for the reason the methods' entries
live apart from their step classes (:mod:`gdw.weighting.method_table`): the table is read by
everything that names or lists datasets (configuration checks, the CLI's help, the dashboard's
sidebar), and none of those should pay for importing NumPy and Pillow; a reader imports its module
when data is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gdw.registry import DatasetSpec, HumanLabelSpec, register_dataset

if TYPE_CHECKING:
    from gdw.config import DataConfig
    from gdw.data.sources import Source

__all__: list[str] = []


def _read_digits(config: DataConfig) -> Source:
    from gdw.data.sources import read_digits

    return read_digits(config)


def _read_torchvision(config: DataConfig) -> Source:
    from gdw.data.sources import read_torchvision

    return read_torchvision(config)


def _torchvision_class_names(config: DataConfig) -> tuple[str, ...]:
    from gdw.data.sources import torchvision_class_names

    return torchvision_class_names(config)


def _read_cifar(config: DataConfig) -> Source:
    from gdw.data.cifar_files import read_cifar

    return read_cifar(config)


def _cifar_class_names(config: DataConfig) -> tuple[str, ...] | None:
    from gdw.data.cifar_files import cifar_class_names

    return cifar_class_names(config)


def _read_imagefolder(config: DataConfig) -> Source:
    from gdw.data.sources import read_imagefolder

    return read_imagefolder(config)


def _imagefolder_class_names(config: DataConfig) -> tuple[str, ...] | None:
    from gdw.data.sources import imagefolder_class_names

    return imagefolder_class_names(config)


_CIFAR_N = "https://github.com/UCSC-REAL/cifar-10-100n"  # Wei et al., ICLR 2022; CC BY-NC 4.0
_HUMAN_LABELS = {
    "cifar10": HumanLabelSpec(
        file="CIFAR-10_human.pt",
        sets=(
            ("aggre", "aggre_label"),
            ("worse", "worse_label"),
            ("random1", "random_label1"),
            ("random2", "random_label2"),
            ("random3", "random_label3"),
        ),
        default="worse",
        clean_key="clean_label",
        source=f"{_CIFAR_N} (data/CIFAR-10_human.pt)",
        help="CIFAR-10N: three Mechanical Turk workers labelled every training image. "
        "**aggre**: their majority vote (9.0% wrong); **worse**: a wrong one of the three "
        "where there is one (40.2% wrong); **random1-3**: each worker's (17-18% wrong).",
    ),
    "cifar100": HumanLabelSpec(
        file="CIFAR-100_human.pt",
        sets=(("noisy", "noisy_label"),),
        default="noisy",
        clean_key="clean_label",
        source=f"{_CIFAR_N} (data/CIFAR-100_human.pt)",
        help="CIFAR-100N: one Mechanical Turk worker's label per training image (40.2% wrong).",
    ),
}


_DIGITS_HELP = (
    "scikit-learn's 1,797 handwritten 8×8 digits ship with the library: works offline and "
    "trains in seconds."
)
register_dataset(
    DatasetSpec(
        id="digits",
        label="digits (scikit-learn, 8×8)",
        reader=_read_digits,
        help=_DIGITS_HELP,
        files="",
        downloadable=False,
        needs_root=False,
        default_epochs=30,
        default_num_meta=100,
        default_model="mlp",
        class_names=lambda config: tuple(str(c) for c in range(10)),
    )
)
_TORCHVISION_ENTRIES = (
    (
        "mnist",
        "MNIST (28×28 digits)",
        "MNIST/raw",
        "70,000 28×28 digits. Files go in `{root}/MNIST/raw/` (the four `*-ubyte` files); tick "
        "**Download** to fetch them.",
        10,
        "lenet",
    ),
    (
        "fashion-mnist",
        "Fashion-MNIST (28×28 clothing)",
        "FashionMNIST/raw",
        "70,000 28×28 clothing images. Files go in `{root}/FashionMNIST/raw/`; tick **Download** "
        "to fetch them.",
        10,
        "lenet",
    ),
    (
        "cifar10",
        "CIFAR-10 (32×32 colour)",
        "cifar-10-batches-py",
        '60,000 32×32 colour images, 10 classes. The "python version" goes in '
        "`{root}/cifar-10-batches-py/`; tick **Download** to fetch it (170 MB). Human label "
        "noise (CIFAR-10N) reads `{root}/CIFAR-10_human.pt` unless another file is given.",
        80,
        "resnet32",
    ),
    (
        "cifar100",
        "CIFAR-100 (32×32 colour)",
        "cifar-100-python",
        '60,000 32×32 colour images, 100 classes. The "python version" goes in '
        "`{root}/cifar-100-python/`; tick **Download** to fetch it (170 MB). Human label "
        "noise (CIFAR-100N) reads `{root}/CIFAR-100_human.pt` unless another file is given.",
        80,
        "resnet32",
    ),
)
for _id, _label, _files, _help, _epochs, _model in _TORCHVISION_ENTRIES:
    _cifar = _id.startswith("cifar")
    register_dataset(
        DatasetSpec(
            id=_id,
            label=_label,
            reader=_read_cifar if _cifar else _read_torchvision,
            help=_help,
            files=_files,
            downloadable=True,
            needs_root=True,
            default_epochs=_epochs,
            default_num_meta=1000,
            default_model=_model,
            class_names=_cifar_class_names if _cifar else _torchvision_class_names,
            human_labels=_HUMAN_LABELS.get(_id),
        )
    )
register_dataset(
    DatasetSpec(
        id="imagefolder",
        label="your own images (one folder per class)",
        reader=_read_imagefolder,
        help="Your own images, one folder per class: `{root}/train/<class>/*` and "
        "`{root}/test/<class>/*` (optional trusted `{root}/meta/<class>/*`). Images are "
        "resized to 32×32. Without injected noise, the label-noise scores show n/a, and the "
        "gallery still ranks the labels the weights distrust.",
        files="train",
        downloadable=False,
        needs_root=True,
        default_epochs=20,
        default_num_meta=100,
        default_model="resnet8",
        class_names=_imagefolder_class_names,
    )
)
