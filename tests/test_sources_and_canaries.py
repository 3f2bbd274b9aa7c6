"""Where each example came from (file paths, source indices) and the canaries: the planted
label errors that measure a ranking, drawn among the correct labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gdw.config import ConfigError, DataConfig, DataError, RunConfig
from gdw.data.dataset import load_dataset
from gdw.data.sources import source_file
from gdw.training.trainer import run


def test_imagefolder_examples_keep_their_file_paths(image_folder) -> None:
    root = image_folder(("cat", "dog", "fox"), train=6, test=2)
    data = load_dataset(DataConfig(dataset="imagefolder", data_root=str(root), num_meta=3))
    assert len(data.train_sources) == data.train_given.numel() == 15
    for source, true in zip(data.train_sources, data.train_true.tolist()):
        split, folder, name = source.split("/")
        assert split == "train" and folder == data.classes[true]
        assert source_file(root, source) == (root / source).resolve()
    assert len(set(data.train_sources)) == 15


def test_the_trainer_writes_source_and_is_canary(image_folder, tmp_path: Path) -> None:
    root = image_folder(("cat", "dog"), train=8, test=2)
    data = DataConfig(dataset="imagefolder", data_root=str(root), num_meta=2, canaries=0.25)
    run_dir = run(RunConfig(data=data, model="mlp", epochs=1), runs_dir=tmp_path / "runs")
    instances = pd.read_csv(run_dir / "instances.csv")
    expected = load_dataset(data)
    assert list(instances["source"]) == [expected.train_sources[i] for i in instances["index"]]
    assert instances["is_canary"].sum() == round(0.25 * 14)
    canaries = instances[instances["is_canary"] == 1]
    assert (canaries["given_label"] != canaries["true_label"]).all() and canaries["is_noisy"].all()
    digits = run(RunConfig(data=DataConfig(train_subset=200), epochs=1), runs_dir=tmp_path / "d")
    instances = pd.read_csv(digits / "instances.csv")
    source_index = load_dataset(DataConfig(train_subset=200)).train_source_index.numpy()
    assert (instances["source"].to_numpy() == source_index[instances["index"]]).all()
    assert instances["is_canary"].sum() == 4  # 2% by default: no injected noise


def test_canaries_move_correct_labels_and_nothing_else() -> None:
    plain = load_dataset(DataConfig(noise="uniform", noise_rate=0.2, seed=3))
    planted = load_dataset(DataConfig(noise="uniform", noise_rate=0.2, seed=3, canaries=0.1))
    canary = planted.train_canary.numpy()
    assert canary.sum() == round(0.1 * canary.size)
    assert (plain.train_given.numpy()[~canary] == planted.train_given.numpy()[~canary]).all()
    was_correct = plain.train_given.numpy() == plain.train_true.numpy()
    assert was_correct[canary].all()  # drawn among the correct labels, so surely wrong now
    assert (planted.train_given.numpy()[canary] != planted.train_true.numpy()[canary]).all()
    again = load_dataset(DataConfig(noise="uniform", noise_rate=0.2, seed=3, canaries=0.1))
    assert torch_equal(again.train_given, planted.train_given)
    assert not plain.train_canary.any()


def torch_equal(a, b) -> bool:
    return bool((a == b).all())


@pytest.mark.parametrize("bad", [-0.1, 0.6, float("nan")], ids=["negative", "too-big", "nan"])
def test_canaries_out_of_range_are_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="canaries"):
        DataConfig(canaries=bad)


def test_more_canaries_than_correct_labels_is_a_data_error() -> None:
    with pytest.raises(DataError, match="canaries"):
        load_dataset(DataConfig(noise="uniform", noise_rate=0.9, canaries=0.5, train_subset=100))


@pytest.mark.parametrize("source", ["../outside.png", "/etc/passwd", "train", "train/x/none.png"])
def test_source_file_stays_inside_the_data_root(image_folder, source: str) -> None:
    root = image_folder(("cat", "dog"), train=2, test=1)
    (root.parent / "outside.png").write_bytes(b"x")
    with pytest.raises(DataError):
        source_file(root, source)
