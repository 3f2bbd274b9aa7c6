"""Loading, meta split, corruption and batched transforms of gdw.data.dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.datasets

from gdw.config import DataConfig, DataError
from gdw.data.dataset import NoisyDataset, describe, load_dataset
from gdw.data.noise import long_tail_counts
from gdw.data.sources import read_source
from gdw.data.transforms import augment_batch, normalize

TORCHVISION_DATASETS = ("mnist", "fashion-mnist", "cifar10", "cifar100")
DIGITS_TRAIN, DIGITS_TEST = 1437, 360  # the fixed 80/20 split of 1,797 images


def decode_labels(images: torch.Tensor) -> np.ndarray:
    """The label written into pixel (0, 0) by the conftest writers."""
    return images[:, 0, 0, 0].numpy().astype(np.int64)


def decode_positions(images: torch.Tensor) -> np.ndarray:
    """The position in the source split written into pixels (0, 1), (0, 2)."""
    codes = images[:, 0, 0, 1:3].numpy().astype(np.int64)
    return codes[:, 0] + 256 * codes[:, 1]


def assert_same(a: NoisyDataset, b: NoisyDataset) -> None:
    for name in (
        "train_images",
        "train_given",
        "train_true",
        "train_source_index",
        "meta_images",
        "meta_labels",
        "meta_source_index",
        "test_images",
        "test_labels",
    ):
        assert torch.equal(getattr(a, name), getattr(b, name)), name


# --- digits ---------------------------------------------------------------------------------


def test_digits_loads_offline(digits_config) -> None:
    data = load_dataset(digits_config(canaries=0.0))
    assert data.classes == tuple("0123456789")
    assert data.n_classes == 10 and data.image_shape == (1, 8, 8) and not data.augment
    assert data.train_images.dtype == torch.uint8 and data.train_images.max() == 255
    assert data.train_images.shape == (DIGITS_TRAIN - 100, 1, 8, 8)
    assert data.meta_images.shape == (100, 1, 8, 8)
    assert data.test_images.shape == (DIGITS_TEST, 1, 8, 8)
    for name in ("train_given", "train_true", "train_source_index", "meta_labels", "test_labels"):
        assert getattr(data, name).dtype == torch.int64, name
    assert torch.equal(data.train_given, data.train_true) and not data.is_noisy.any()
    planted = load_dataset(digits_config())  # no injected noise: 2% canaries by default
    assert planted.train_canary.sum() == round(0.02 * len(planted.train_canary))
    assert torch.equal(planted.is_noisy, planted.train_canary)
    normalized = normalize(data.train_images, data.mean, data.std)
    assert abs(normalized.mean().item()) < 1e-4 and abs(normalized.std().item() - 1) < 1e-2


def test_meta_set_is_clean_balanced_and_disjoint_from_train(digits_config) -> None:
    config = digits_config(noise="uniform", noise_rate=0.6, num_meta=50, seed=3)
    data = load_dataset(config)
    source = read_source(config).train
    meta_index = data.meta_source_index.numpy()
    np.testing.assert_array_equal(data.meta_labels.numpy(), source.labels[meta_index])
    np.testing.assert_array_equal(data.meta_images.numpy(), source.images[meta_index])
    assert np.bincount(data.meta_labels.numpy()).tolist() == [5] * 10
    train_index = data.train_source_index.numpy()
    assert not set(train_index) & set(meta_index)
    assert sorted([*train_index, *meta_index]) == list(range(DIGITS_TRAIN))
    np.testing.assert_array_equal(data.train_true.numpy(), source.labels[train_index])
    np.testing.assert_array_equal(data.train_images.numpy(), source.images[train_index])


def test_meta_set_is_drawn_before_any_corruption(digits_config) -> None:
    plain = load_dataset(digits_config(seed=4))
    corrupted = load_dataset(
        digits_config(seed=4, noise="flip", noise_rate=0.4, imbalance=0.1, train_subset=500)
    )
    assert torch.equal(plain.meta_source_index, corrupted.meta_source_index)
    assert torch.equal(plain.meta_images, corrupted.meta_images)


def test_same_config_same_tensors_and_seed_changes_them(digits_config) -> None:
    config = digits_config(noise="uniform", noise_rate=0.4, imbalance=0.2, seed=11)
    assert_same(load_dataset(config), load_dataset(config))
    other = load_dataset(digits_config(noise="uniform", noise_rate=0.4, imbalance=0.2, seed=12))
    first = load_dataset(config)
    assert not torch.equal(first.meta_source_index, other.meta_source_index)
    assert torch.equal(first.test_images, other.test_images)  # fixed split: same test set


@pytest.mark.parametrize("imbalance", [1.0, 0.5, 0.1, 0.01])
def test_imbalance_counts_exact_per_class(digits_config, imbalance: float) -> None:
    data = load_dataset(digits_config(imbalance=imbalance, num_meta=100))
    after_meta = np.bincount(read_source(digits_config()).train.labels) - 10
    expected = long_tail_counts(after_meta, imbalance)
    assert np.bincount(data.train_true.numpy(), minlength=10).tolist() == expected.tolist()


def test_train_subset(digits_config) -> None:
    data = load_dataset(digits_config(train_subset=200, seed=2))
    assert len(data.train_true) == 200
    index = data.train_source_index.numpy()
    assert len(set(index)) == 200 and not set(index) & set(data.meta_source_index.numpy())
    assert (np.diff(index) > 0).all()  # kept in source order
    with pytest.raises(DataError, match="--train-subset 1338 is more than the 1337"):
        load_dataset(digits_config(train_subset=1338))


@pytest.mark.parametrize("noise", ["uniform", "flip"])
@pytest.mark.parametrize("imbalance", [1.0, 0.1], ids=["balanced", "long-tail"])
def test_noise_and_imbalance_combined(digits_config, noise: str, imbalance: float) -> None:
    data = load_dataset(digits_config(noise=noise, noise_rate=0.4, imbalance=imbalance))
    true, given = data.train_true.numpy(), data.train_given.numpy()
    assert torch.equal(data.is_noisy, data.train_given != data.train_true)
    expected_rate = 0.4 * 0.9 if noise == "uniform" else 0.4
    assert abs(np.mean(true != given) - expected_rate) < 0.08
    after_meta = np.bincount(read_source(digits_config()).train.labels) - 10
    assert np.bincount(true).tolist() == long_tail_counts(after_meta, imbalance).tolist()
    if noise == "flip":  # every class moves to one other class only
        assert all(len(set(given[(true == c) & (given != c)])) <= 1 for c in range(10))


def test_describe_is_json_ready_and_consistent(digits_config) -> None:
    data = load_dataset(digits_config(noise="flip", noise_rate=0.3, imbalance=0.5, num_meta=30))
    summary = describe(data)
    transition = np.array(summary["transition"])
    assert summary["dataset"] == "digits" and summary["classes"] == list("0123456789")
    assert transition.sum(axis=1).tolist() == summary["train_counts"]
    assert transition.sum(axis=0).tolist() == summary["given_counts"]
    assert summary["train_count"] == len(data.train_true) == transition.sum()
    assert summary["meta_counts"] == [3] * 10 and summary["meta_count"] == 30
    assert summary["test_count"] == DIGITS_TEST and summary["image_shape"] == [1, 8, 8]
    assert summary["noise_rate"] == pytest.approx(1 - np.trace(transition) / transition.sum())
    assert all(type(v) is int for row in summary["transition"] for v in row)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"num_meta": 9}, "a meta set of 9 cannot hold one example of each of the 10 classes"),
        (
            {"num_meta": 1500},
            r"class '\d' has 1\d\d training examples, too few for 150 meta examples per class "
            r"\(--num-meta 1500\).*use --num-meta 13\d0 or less",
        ),
    ],
    ids=["fewer-than-classes", "more-than-a-class-has"],
)
def test_meta_set_size_errors(digits_config, changes: dict, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load_dataset(digits_config(**changes))


# --- torchvision datasets from tiny files in their real formats -----------------------------


@pytest.mark.parametrize("dataset", TORCHVISION_DATASETS)
def test_torchvision_dataset_from_real_format(torchvision_root, dataset: str) -> None:
    root = torchvision_root(dataset)
    n_classes = 100 if dataset == "cifar100" else 10
    per_class, test_per_class = (3, 1) if dataset == "cifar100" else (12, 3)
    config = DataConfig(dataset=dataset, data_root=str(root), num_meta=n_classes, seed=1)
    data = load_dataset(config)

    shape = (1, 28, 28) if "mnist" in dataset else (3, 32, 32)
    assert data.image_shape == shape and data.augment == (shape[0] == 3)
    assert len(data.classes) == n_classes
    if dataset == "mnist":
        assert data.classes[0] == "0 - zero" and data.mean == (0.1307,)
    if dataset.startswith("cifar"):
        assert data.classes[:2] == ("class00", "class01") and len(data.mean) == 3
    assert len(data.train_true) == n_classes * (per_class - 1)
    assert len(data.test_labels) == n_classes * test_per_class
    assert np.bincount(data.meta_labels.numpy()).tolist() == [1] * n_classes
    # Images, labels and source positions stayed aligned through the split.
    np.testing.assert_array_equal(decode_labels(data.train_images), data.train_true.numpy())
    np.testing.assert_array_equal(decode_positions(data.train_images), data.train_source_index)
    np.testing.assert_array_equal(decode_labels(data.meta_images), data.meta_labels.numpy())
    np.testing.assert_array_equal(decode_positions(data.meta_images), data.meta_source_index)
    np.testing.assert_array_equal(decode_labels(data.test_images), data.test_labels.numpy())
    assert_same(data, load_dataset(config))


@pytest.mark.parametrize(
    ("dataset", "folder"),
    [
        ("mnist", "MNIST/raw"),
        ("fashion-mnist", "FashionMNIST/raw"),
        ("cifar10", "cifar-10-batches-py"),
        ("cifar100", "cifar-100-python"),
    ],
)
def test_missing_torchvision_files_name_the_folder(tmp_path, dataset: str, folder: str) -> None:
    config = DataConfig(dataset=dataset, data_root=str(tmp_path))
    with pytest.raises(DataError, match="pass --download") as caught:
        load_dataset(config)
    assert f"no {dataset} files in {tmp_path / folder};" in str(caught.value)


def test_corrupt_torchvision_files(tmp_path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train", "t10k"):
        for kind in ("images-idx3", "labels-idx1"):
            (raw / f"{name}-{kind}-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(DataError, match=f"files in {raw} are incomplete or corrupt"):
        load_dataset(DataConfig(dataset="mnist", data_root=str(tmp_path)))


def test_failed_download_is_one_line(tmp_path, monkeypatch) -> None:
    def offline(self) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://...")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", offline)
    config = DataConfig(dataset="mnist", data_root=str(tmp_path), download=True)
    with pytest.raises(DataError, match="could not download mnist into") as caught:
        load_dataset(config)
    assert "\n" not in str(caught.value)


# --- imagefolder ----------------------------------------------------------------------------


def test_imagefolder_draws_meta_from_train(image_folder) -> None:
    root = image_folder(train=6, test=2)
    data = load_dataset(DataConfig(dataset="imagefolder", data_root=str(root), num_meta=6))
    assert data.classes == ("cat", "dog", "fox")
    assert data.image_shape == (3, 32, 32) and data.augment
    assert len(data.train_true) == 12 and len(data.test_labels) == 6
    assert np.bincount(data.meta_labels.numpy()).tolist() == [2, 2, 2]
    assert (data.meta_source_index >= 0).all()
    assert len(data.mean) == 3 and all(s > 0 for s in data.std)


def test_imagefolder_meta_folder_is_the_meta_set(image_folder) -> None:
    root = image_folder(train=5, test=2, meta=3)
    data = load_dataset(DataConfig(dataset="imagefolder", data_root=str(root), num_meta=999))
    assert len(data.train_true) == 15  # nothing taken out of train
    assert np.bincount(data.meta_labels.numpy()).tolist() == [3, 3, 3]
    assert (data.meta_source_index == -1).all()


@pytest.mark.parametrize("case", ["one-class", "unreadable", "no-test", "class-mismatch", "empty"])
def test_imagefolder_errors(image_folder, tmp_path, case: str) -> None:
    root = image_folder(("cat",)) if case == "one-class" else image_folder()
    match = {
        "one-class": "has 1 class folder.*at least 2 are needed",
        "unreadable": "cannot read image .*bad.png",
        "no-test": "no folder .*test; put images in",
        "class-mismatch": r"class folders of .*test \(cat, dog, fox, owl\) differ",
        "empty": "dog has no images",
    }[case]
    if case == "unreadable":
        (root / "train" / "dog" / "bad.png").write_bytes(b"\x00garbage, not a PNG")
    elif case == "no-test":
        root = tmp_path / "only-train"
        (root / "train" / "a").mkdir(parents=True)
    elif case == "class-mismatch":
        (root / "test" / "owl").mkdir()
    elif case == "empty":
        for image in (root / "train" / "dog").iterdir():
            image.unlink()
    with pytest.raises(DataError, match=match):
        load_dataset(DataConfig(dataset="imagefolder", data_root=str(root), num_meta=3))


# --- batched transforms ---------------------------------------------------------------------


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_augment_keeps_shape_dtype_and_is_seeded() -> None:
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    out = augment_batch(images, generator(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert torch.equal(out, augment_batch(images, generator(0)))
    assert not torch.equal(out, augment_batch(images, generator(1)))


def test_augment_is_a_shifted_crop_of_the_reflect_padded_image() -> None:
    images = torch.rand(8, 2, 10, 12)
    out = augment_batch(images, generator(3), padding=4)
    padded = F.pad(images, (4, 4, 4, 4), mode="reflect")
    for image, result in zip(padded, out, strict=True):
        crops = [
            crop
            for dy in range(9)
            for dx in range(9)
            for crop in (image[:, dy : dy + 10, dx : dx + 12],)
            for crop in (crop, crop.flip(-1))
        ]
        assert any(torch.equal(result, crop) for crop in crops)


def test_augment_flips_about_half() -> None:
    images = torch.rand(2000, 1, 6, 6)
    out = augment_batch(images, generator(5), padding=0)
    flipped = (out == images.flip(-1)).flatten(1).all(1)
    assert ((out == images).flatten(1).all(1) | flipped).all()
    assert abs(flipped.float().mean().item() - 0.5) < 0.05


def test_transform_input_checks() -> None:
    images = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(ValueError, match="padding must be in 0..7, got 8"):
        augment_batch(images, generator(0), padding=8)
    with pytest.raises(ValueError, match=r"one value per channel \(3\), got 1 and 1"):
        normalize(images, (0.5,), (0.5,))


def test_normalize_by_hand() -> None:
    images = torch.tensor([0, 255, 51], dtype=torch.uint8).view(1, 1, 1, 3)
    out = normalize(images, (0.2,), (0.5,))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.flatten(), torch.tensor([-0.4, 1.6, 0.0]))
