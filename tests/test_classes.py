"""``--classes``: train on some classes only, relabelled in the order given; bad input is exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdw import ConfigError, DataConfig, DataError, load_dataset
from gdw.cli import main
from gdw.data.classes import class_names, resolve_classes, select_classes
from gdw.data.sources import Source, Split, read_source

NAMES = ("cat", "dog", "bird", "frog")


def toy_source() -> Source:
    labels = np.array([0, 1, 2, 3, 2, 1, 0, 3])
    images = np.arange(8, dtype=np.uint8).reshape(8, 1, 1, 1)
    return Source(classes=NAMES, train=Split(images, labels), test=Split(images[:4], labels[:4]))


def test_select_keeps_the_classes_in_the_order_given():
    source, positions = select_classes(toy_source(), ("bird", "0"))
    np.testing.assert_array_equal(positions, [0, 2, 4, 6])
    assert source.classes == ("bird", "cat")
    # images 0..7 had labels 0 1 2 3 2 1 0 3: bird (2) -> 0, cat (0) -> 1
    np.testing.assert_array_equal(source.train.images.ravel(), [0, 2, 4, 6])
    np.testing.assert_array_equal(source.train.labels, [1, 0, 0, 1])
    np.testing.assert_array_equal(source.test.labels, [1, 0])
    assert source.meta is None
    whole = toy_source()
    same, positions = select_classes(whole, None)
    assert same is whole and positions.tolist() == list(range(8))


@pytest.mark.parametrize(
    ("requested", "problem"),
    [
        (("cat",), "at least two classes, got 1"),
        ((), "at least two classes, got 0"),
        (("cat", "0"), "'cat' is asked for twice"),
        (("cat", "horse"), "unknown class 'horse'"),
        (("cat", "4"), "unknown class '4'"),
    ],
    ids=["one", "none", "repeated-by-index", "unknown-name", "index-out-of-range"],
)
def test_bad_requests_list_the_valid_names(requested, problem):
    with pytest.raises(DataError, match=problem) as caught:
        resolve_classes(requested, NAMES)
    assert "cat, dog, bird, frog" in str(caught.value)


def test_digits_three_classes():
    config = DataConfig(classes=("8", "3", "5"), noise="uniform", noise_rate=0.4, seed=1)
    data = load_dataset(config)
    full = read_source(DataConfig())
    assert data.classes == ("8", "3", "5")
    true = data.train_true.numpy()
    assert set(np.unique(true)) == {0, 1, 2}
    assert set(np.unique(data.train_given.numpy())) <= {0, 1, 2}
    assert set(np.unique(data.test_labels.numpy())) == {0, 1, 2}
    assert np.bincount(data.meta_labels.numpy()).tolist() == [33, 33, 33]  # 100 // 3 each
    # every training example is one of those digits, and label 0 means "8"
    source_labels = full.train.labels[data.train_source_index.numpy()]
    np.testing.assert_array_equal(source_labels, np.array([8, 3, 5])[true])
    assert data.is_noisy.numpy().any()
    assert data.test_labels.numel() == int(np.isin(full.test.labels, [3, 5, 8]).sum())


def test_classes_survive_the_config_record():
    config = DataConfig(classes=["3", 5])
    assert config.classes == ("3", "5")
    with pytest.raises(ConfigError, match="list of class names"):
        DataConfig(classes="3,5")


def test_class_names_are_known_without_reading_images(tmp_path):
    assert class_names(DataConfig()) == tuple(str(c) for c in range(10))
    for name in ("b", "a"):
        (tmp_path / "train" / name).mkdir(parents=True)
    assert class_names(DataConfig(dataset="imagefolder", data_root=str(tmp_path))) == ("a", "b")


def test_describe_with_classes(capsys):
    assert main(["describe", "--classes", "3,5,8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"] == ["3", "5", "8"] and len(summary["train_counts"]) == 3


@pytest.mark.parametrize("value", ["3", "3,3", "3,x", "3,12", "3,"])
@pytest.mark.parametrize("command", ["describe", "train", "sweep"])
def test_bad_classes_exit_2_with_one_line(capsys, tmp_path, command, value):
    args = [command, "--classes", value]
    if command != "describe":
        args += ["--epochs", "1", "--train-subset", "50"]
        args += ["--runs-dir" if command == "train" else "--out", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "valid classes (10" in err[0], err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_sweep_with_classes_repeats_them_in_its_command(tmp_path):
    from gdw.cli import build_parser
    from gdw.cli.sweep import sweep_command, sweep_spec_from_args

    args = build_parser().parse_args(["sweep", "--classes", "3,5,8", "--out", str(tmp_path)])
    spec, out = sweep_spec_from_args(args)
    assert spec.base.data.classes == ("3", "5", "8")
    assert "--classes 3,5,8" in sweep_command(spec, out)
