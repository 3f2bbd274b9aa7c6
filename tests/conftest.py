"""Shared fixtures: tiny datasets written in the real on-disk formats (no network).

Every fake image encodes where it came from, so tests can check that images, labels and
indices stay aligned through splitting and corruption: pixel ``(0, 0)`` of the first channel
is the label and pixels ``(0, 1)``, ``(0, 2)`` hold the image's position in its split
(low byte, high byte).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import pickle
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from gdw.config import DataConfig


def pytest_collection_finish(session: pytest.Session) -> None:
    """Loads the training page's body when a collected test drives the dashboard (its module
    imported AppTest), so each AppTest draws the whole page in one run, as a server that has
    been running for a while does: a freshly started server draws a session's first training
    page without the page's body, which it imports a moment later (app.pages.navigation;
    tests/test_lazy_imports.py checks that in a fresh process). Tests that do not drive the
    dashboard, such as the noise and weighting tests, import no Streamlit."""
    if "streamlit.testing.v1" in sys.modules:
        import app.pages.train  # noqa: F401


def load_script(name: str) -> ModuleType:
    """The module of ``scripts/<name>.py``: the scripts are run as files, not installed."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_local_ray(ray, runtime_env: dict, **resources: int) -> None:
    """Starts a Ray of the test's own on this machine with two CPUs (and ``resources``), as a
    sweep starts one: its workers at the sweep's niceness, so a busy machine does not starve
    them."""
    from gdw.sweeps.ray_backend import RayBackend

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env=runtime_env,
        log_to_driver=False,
        logging_level="error",
        **resources,
        **RayBackend()._local_system_config(),
    )


def coded_images(labels: np.ndarray, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """uint8 images ``[N, *shape]`` (channels first if 3-D) carrying label and position."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(labels.size, *shape), dtype=np.uint8)
    plane = images if len(shape) == 2 else images[:, 0]
    positions = np.arange(labels.size)
    plane[:, 0, 0] = labels
    plane[:, 0, 1] = positions % 256
    plane[:, 0, 2] = positions // 256
    return images


def _labels(n_classes: int, per_class: int) -> np.ndarray:
    # Interleaved (0, 1, 2, ..., 0, 1, 2, ...) as in the real files, not sorted by class.
    return np.tile(np.arange(n_classes), per_class).astype(np.int64)


def _write_idx(path: Path, array: np.ndarray) -> None:
    """The MNIST "idx" format: big-endian magic (0x08 = uint8, then ndim), dims, raw bytes."""
    header = struct.pack(">I", 0x0800 | array.ndim)
    header += b"".join(struct.pack(">I", size) for size in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str, train_per_class: int, test_per_class: int) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, per_class in (("train", train_per_class), ("t10k", test_per_class)):
        labels = _labels(10, per_class)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", coded_images(labels, (28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


def write_cifar(root: Path, n_classes: int, train_per_class: int, test_per_class: int) -> None:
    """CIFAR-10/100 "python version": pickled dicts of flat uint8 rows and label lists."""
    cifar10 = n_classes == 10
    folder = root / ("cifar-10-batches-py" if cifar10 else "cifar-100-python")
    folder.mkdir(parents=True)
    label_key = "labels" if cifar10 else "fine_labels"
    names = [f"class{c:02d}" for c in range(n_classes)]

    def dump(name: str, record: dict) -> None:
        with open(folder / name, "wb") as file:
            pickle.dump(record, file)

    train_labels = _labels(n_classes, train_per_class)
    train_rows = coded_images(train_labels, (3, 32, 32)).reshape(train_labels.size, -1)
    test_labels = _labels(n_classes, test_per_class)
    test_rows = coded_images(test_labels, (3, 32, 32), seed=1).reshape(test_labels.size, -1)
    if cifar10:
        parts = np.array_split(np.arange(train_labels.size), 5)
        for number, part in enumerate(parts, start=1):
            record = {"data": train_rows[part], label_key: train_labels[part].tolist()}
            dump(f"data_batch_{number}", record)
        dump("test_batch", {"data": test_rows, label_key: test_labels.tolist()})
        dump("batches.meta", {"label_names": names})
    else:
        dump("train", {"data": train_rows, label_key: train_labels.tolist()})
        dump("test", {"data": test_rows, label_key: test_labels.tolist()})
        dump("meta", {"fine_label_names": names})


def cifar_train_labels(n_classes: int, train_per_class: int) -> np.ndarray:
    """The training labels :func:`write_cifar` writes, in the files' order."""
    return _labels(n_classes, train_per_class)


def write_label_file(path: Path, arrays: dict[str, object], *, npz: bool = False) -> Path:
    """A human-label file as CIFAR-N publishes it: ``torch.save`` of a dict of arrays (a
    zip-format pickle), or the same arrays as ``.npz``."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    if npz:
        np.savez(path, **arrays)
    else:
        torch.save(arrays, path)
    return path


def human_label_sets(clean: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """CIFAR-10N's arrays around ``clean``: ``worse`` moves 2 of every 5 labels to the next
    class (40% wrong), ``aggre`` 1 of every 10 three classes on (10%), ``random1-3`` 1 of every
    5 (20%, at different images)."""
    position = np.arange(clean.size)
    arrays = {
        "clean_label": clean,
        "aggre_label": np.where(position % 10 == 0, (clean + 3) % n_classes, clean),
        "worse_label": np.where(position % 5 < 2, (clean + 1) % n_classes, clean),
    }
    for worker in (1, 2, 3):
        arrays[f"random_label{worker}"] = np.where(
            position % 5 == worker, (clean + worker) % n_classes, clean
        )
    return arrays


@pytest.fixture
def cifar_n(tmp_path: Path, skip_cifar_checksums: None) -> Path:
    """A data root with tiny CIFAR-10 files (12 training images a class) and CIFAR-10N's label
    file under its usual name, ``CIFAR-10_human.pt`` (see :func:`human_label_sets`)."""
    root = tmp_path / "cifar-n"
    write_cifar(root, 10, 12, 3)
    clean = cifar_train_labels(10, 12)
    write_label_file(root / "CIFAR-10_human.pt", human_label_sets(clean, 10))
    return root


@pytest.fixture
def skip_cifar_checksums(monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision checks the CIFAR files' md5 sums; keep only its "file exists" part."""
    import torchvision.datasets.cifar

    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda fpath, md5=None: os.path.isfile(fpath)
    )


@pytest.fixture
def torchvision_root(tmp_path: Path, skip_cifar_checksums: None) -> Callable[[str], Path]:
    """``make(dataset)`` writes tiny files of ``dataset`` and returns the data root.

    10-class sets: 12 training and 3 test images per class; CIFAR-100: 3 and 1.
    """

    def make(dataset: str) -> Path:
        root = tmp_path / dataset
        if dataset in ("mnist", "fashion-mnist"):
            write_mnist(root, "MNIST" if dataset == "mnist" else "FashionMNIST", 12, 3)
        elif dataset == "cifar10":
            write_cifar(root, 10, 12, 3)
        else:
            write_cifar(root, 100, 3, 1)
        return root

    return make


@pytest.fixture
def image_folder(tmp_path: Path) -> Callable[..., Path]:
    """``make(classes, train=6, test=2, meta=0)`` writes PNG and JPEG files per class folder.

    Images have assorted sizes and modes (RGB, grey) to exercise the conversion. Each call
    writes a new folder under ``tmp_path`` and returns it.
    """
    folders = itertools.count()

    def make(
        classes: tuple[str, ...] = ("cat", "dog", "fox"),
        *,
        train: int = 6,
        test: int = 2,
        meta: int = 0,
    ) -> Path:
        root = tmp_path / f"images{next(folders)}"
        rng = np.random.default_rng(0)
        for split, count in (("train", train), ("test", test), ("meta", meta)):
            if split == "meta" and not meta:
                continue
            for label, name in enumerate(classes):
                folder = root / split / name
                folder.mkdir(parents=True)
                for i in range(count):
                    size = (20 + 4 * i, 16 + 2 * label)
                    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
                    image = Image.fromarray(pixels)
                    if i % 3 == 2:
                        image.convert("L").save(folder / f"{i}.png")
                    elif i % 3 == 1:
                        image.save(folder / f"{i}.jpg", quality=90)
                    else:
                        image.save(folder / f"{i}.PNG")
        return root

    return make


@pytest.fixture(params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> object:
    """Each device a test runs on: the CPU, and CUDA where there is a GPU (skipped, saying so,
    where there is none), so that the first machine with a GPU checks the GPU path."""
    import torch

    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU; this machine has none")
    return torch.device(request.param)


@pytest.fixture
def digits_config() -> Callable[..., DataConfig]:
    """``make(**changes)``: a digits DataConfig with the given fields changed."""

    def make(**changes: object) -> DataConfig:
        return DataConfig(dataset="digits", **changes)

    return make


def extra_array_specs(recorded: int) -> dict:
    """The specs of the per-epoch arrays a run records beside ``weights`` (for ``RunWriter``'s
    ``arrays``), for ``recorded`` examples."""
    from gdw.runs.files import EPOCH_ARRAYS, ArraySpec

    return {
        name: ArraySpec((recorded,), dtype)
        for name, (dtype, per_class) in EPOCH_ARRAYS.items()
        if not per_class
    }


def epoch_arrays(weights: np.ndarray, *, given: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One epoch's rows of the arrays of :func:`extra_array_specs`, around hand-made ``weights``
    [R, C]: the instance weight as the mean over classes, the predicted class as the arg max, and
    the probability of the given label (or of class 0) as its weight's share of the row, its
    margin over the largest other share, and no outer step."""
    weights = np.asarray(weights, dtype=np.float64)
    rows = np.arange(len(weights))
    given = np.zeros(len(weights), dtype=np.int64) if given is None else np.asarray(given)
    shares = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    others = shares.copy()
    others[rows, given] = -1.0
    return {
        "instance_weights": weights.mean(axis=1),
        "predicted": weights.argmax(axis=1),
        "given_prob": shares[rows, given],
        "margin": shares[rows, given] - others.max(axis=1),
        "given_step": np.zeros(len(weights)),
    }
