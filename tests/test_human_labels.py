"""Human label noise (CIFAR-10N, CIFAR-100N): the label file read as plain data and checked
against the dataset's own labels, each image's human label looked up by its source index through
the meta split, subset, long tail and class choice; the flags of describe and train."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import cifar_train_labels, human_label_sets, write_cifar, write_label_file

from gdw import ConfigError, DataConfig, DataError, describe, load_dataset, load_run
from gdw.cli import main
from gdw.data.human_labels import read_label_file

N_TRAIN = 120  # the tiny CIFAR-10 of the cifar_n fixture: 12 training images a class


def human(root: Path, **changes: object) -> DataConfig:
    return DataConfig(dataset="cifar10", data_root=str(root), noise="human", num_meta=10, **changes)


def file_labels(root: Path, name: str = "worse_label") -> np.ndarray:
    return read_label_file(root / "CIFAR-10_human.pt")[name]


# --- the label file ----------------------------------------------------------------------------


def test_the_published_format_and_npz_read_the_same(cifar_n, tmp_path) -> None:
    arrays = read_label_file(cifar_n / "CIFAR-10_human.pt")
    expected = human_label_sets(cifar_train_labels(10, 12), 10)
    assert set(arrays) == set(expected)
    for name, labels in expected.items():
        np.testing.assert_array_equal(arrays[name], labels)
        assert arrays[name].dtype == np.int64
    npz = write_label_file(tmp_path / "labels.npz", expected, npz=True)
    assert {k: v.tolist() for k, v in read_label_file(npz).items()} == {
        k: v.tolist() for k, v in arrays.items()
    }


def test_lists_of_labels_are_read_as_arrays(tmp_path) -> None:
    # CIFAR-100N's file holds its coarse labels as lists of ints.
    path = write_label_file(tmp_path / "c100.pt", {"clean_label": np.arange(4), "coarse": [3, 1]})
    assert read_label_file(path)["coarse"].tolist() == [3, 1]


class _RunsCode:
    """Unpickling this runs a shell command (what a hostile label file would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload", ["code", "tensor", "object array"])
def test_a_file_with_anything_but_label_arrays_is_refused_unrun(tmp_path, payload) -> None:
    marker = tmp_path / "ran"
    extra = {
        "code": _RunsCode(marker),
        "tensor": torch.arange(3),
        "object array": np.array([1, "a"], dtype=object),
    }[payload]
    path = write_label_file(tmp_path / "bad.pt", {"clean_label": np.arange(3), "x": extra})
    with pytest.raises(DataError, match="refusing to read it") as caught:
        read_label_file(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize("case", ["cut short", "not a zip", "zip without data.pkl", "missing"])
def test_broken_label_files_are_one_line(tmp_path, cifar_n, case) -> None:
    path = tmp_path / "labels.pt"
    good = (cifar_n / "CIFAR-10_human.pt").read_bytes()
    match = {
        "cut short": "cannot read the label file",
        "not a zip": "is not a label file: expected a zip-format pickle",
        "zip without data.pkl": "without the one data.pkl",
        "missing": "no label file",
    }[case]
    if case == "cut short":
        path.write_bytes(good[: len(good) // 2])
    elif case == "not a zip":
        path.write_bytes(b"clean_label,worse_label\n1,2\n")
    elif case == "zip without data.pkl":
        import zipfile

        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("labels.csv", "1,2\n")
    with pytest.raises(DataError, match=match) as caught:
        read_label_file(path)
    assert "\n" not in str(caught.value)


# --- the labels in the dataset -----------------------------------------------------------------


@pytest.mark.parametrize("labels", ["worse", "aggre", "random2"])
def test_given_labels_are_the_files_by_source_index_and_true_labels_stay(cifar_n, labels) -> None:
    data = load_dataset(human(cifar_n, human_labels=labels))
    index = data.train_source_index.numpy()
    file = file_labels(cifar_n, {"random2": "random_label2"}.get(labels, f"{labels}_label"))
    np.testing.assert_array_equal(data.train_given.numpy(), file[index])
    np.testing.assert_array_equal(data.train_true.numpy(), cifar_train_labels(10, 12)[index])
    # The meta set is drawn before, by true labels, as for drawn noise.
    plain = load_dataset(DataConfig(dataset="cifar10", data_root=str(cifar_n), num_meta=10))
    assert torch.equal(data.meta_source_index, plain.meta_source_index)
    assert torch.equal(data.meta_labels, plain.meta_labels)
    summary = describe(data)
    rate = float(np.mean(file[index] != cifar_train_labels(10, 12)[index]))
    assert summary["noise_rate"] == pytest.approx(rate) and rate > 0


def test_the_default_set_is_worse_and_recorded(cifar_n) -> None:
    config = human(cifar_n)
    assert config.human_labels == "worse"
    assert config.human_labels_path == str(cifar_n / "CIFAR-10_human.pt")
    assert DataConfig(**config.__dict__) == config  # the resolved default round-trips


def test_subset_and_long_tail_keep_each_images_own_label(cifar_n) -> None:
    data = load_dataset(human(cifar_n, train_subset=50, imbalance=0.5, seed=3))
    index = data.train_source_index.numpy()
    assert 0 < index.size < 50
    np.testing.assert_array_equal(data.train_given.numpy(), file_labels(cifar_n)[index])
    counts = np.bincount(data.train_true.numpy(), minlength=10)
    assert counts[0] > counts[-1]  # the long tail is drawn by true class


def test_chosen_classes_renumber_human_labels_and_leave_out_the_others(cifar_n) -> None:
    # worse moves every image of classes 5 and 6 to the next class: with classes 5,6 an image of
    # 5 labelled "6" stays with a wrong label (6 -> 1), one of 6 labelled "7" names no chosen
    # class and is left out of training.
    data = load_dataset(human(cifar_n, classes=("5", "6")))
    worse = file_labels(cifar_n)
    clean = cifar_train_labels(10, 12)
    index = data.train_source_index.numpy()
    assert set(clean[index]) == {5} and set(worse[index]) == {6}
    assert data.train_given.tolist() == [1] * index.size and data.is_noisy.all()
    left_out = np.flatnonzero((clean == 6) & (worse == 7))
    assert left_out.size == 12 and not set(left_out) & set(index)
    assert set(data.meta_labels.tolist()) == {0, 1}  # the meta set is drawn by true class


def test_cifar100_has_one_noisy_set(tmp_path, skip_cifar_checksums) -> None:
    root = tmp_path / "c100"
    write_cifar(root, 100, 3, 1)
    clean = cifar_train_labels(100, 3)
    noisy = np.where(np.arange(clean.size) % 2 == 0, (clean + 7) % 100, clean)
    arrays = {"clean_label": clean, "noisy_label": noisy, "clean_coarse_label": [0] * clean.size}
    write_label_file(root / "CIFAR-100_human.pt", arrays)
    config = DataConfig(dataset="cifar100", data_root=str(root), noise="human", num_meta=100)
    assert config.human_labels == "noisy"
    data = load_dataset(config)
    index = data.train_source_index.numpy()
    np.testing.assert_array_equal(data.train_given.numpy(), noisy[index])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            "shuffled",
            r"clean labels differ from cifar10's training labels at \d+ of 120 images "
            r"\(first: image \d+, file \d, dataset \d\): the images are in another order",
        ),
        ("shorter", "holds 60 clean and 60 human labels, but cifar10's training split has 120"),
        ("no worse", "has no worse_label array"),
        ("out of range", r"holds labels outside 0..9"),
    ],
)
def test_a_file_that_does_not_belong_to_the_images_is_refused(
    cifar_n, tmp_path, change, match
) -> None:
    arrays = human_label_sets(cifar_train_labels(10, 12), 10)
    if change == "shuffled":
        arrays["clean_label"] = np.roll(arrays["clean_label"], 1)
    elif change == "shorter":
        arrays = {name: labels[:60] for name, labels in arrays.items()}
    elif change == "no worse":
        del arrays["worse_label"]
    else:
        arrays["worse_label"] = arrays["worse_label"] + 10
    path = write_label_file(tmp_path / "other.pt", arrays)
    with pytest.raises(DataError, match=match) as caught:
        load_dataset(human(cifar_n, noise_file=str(path)))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"dataset": "digits"},
            "noise 'human' needs a dataset with human labels: cifar10, cifar100",
        ),
        ({"human_labels": "best"}, "human labels 'best' is not one of cifar10's: aggre, worse"),
        ({"human_labels": "worse", "noise": "uniform", "noise_rate": 0.2}, "need noise 'human'"),
        ({"noise_file": "x.pt", "noise": "none"}, "a noise file need noise 'human'"),
        ({"noise_rate": 0.4}, "human labels come from their file"),
    ],
    ids=["no human labels", "unknown set", "set without human", "file without human", "rate"],
)
def test_configuration_checks(changes, match) -> None:
    record = {"dataset": "cifar10", "noise": "human", **changes}
    with pytest.raises(ConfigError, match=match):
        DataConfig(**record)


# --- the command line --------------------------------------------------------------------------


def test_describe_reports_the_realised_rate_and_the_confusions(cifar_n, capsys) -> None:
    args = ["describe", "--dataset", "cifar10", "--data-root", str(cifar_n), "--num-meta", "10"]
    assert main([*args, "--noise", "human", "--human-labels", "worse"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["train_count"] == N_TRAIN - 10 and summary["meta_count"] == 10
    assert 0.3 < summary["noise_rate"] < 0.5  # 2 of every 5 labels
    top = summary["confusions"][0]
    assert top["given"] == summary["classes"][(summary["classes"].index(top["true"]) + 1) % 10]
    transition = np.array(summary["transition"])
    assert summary["noise_rate"] == pytest.approx(1 - np.trace(transition) / transition.sum())


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--noise-file", "{tmp}/nowhere.pt"], "no human label file {tmp}/nowhere.pt; get it from"),
        (["--human-labels", "noisy"], "human labels 'noisy' is not one of cifar10's"),
        (["--noise-file", "{tmp}/bad.pt"], "refusing to read it"),
    ],
    ids=["missing file", "other dataset's set", "hostile file"],
)
def test_bad_human_input_exits_2_with_one_line(cifar_n, tmp_path, capsys, flags, match) -> None:
    marker = tmp_path / "ran"
    write_label_file(tmp_path / "bad.pt", {"clean_label": _RunsCode(marker)})
    flags = [flag.format(tmp=tmp_path) for flag in flags]
    args = ["describe", "--dataset", "cifar10", "--data-root", str(cifar_n), "--noise", "human"]
    assert main([*args, "--num-meta", "10", *flags]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert match.format(tmp=tmp_path) in captured.err and not marker.exists()


def test_train_with_the_default_model_records_noise_auroc(cifar_n, tmp_path, capsys) -> None:
    args = ["train", "--dataset", "cifar10", "--data-root", str(cifar_n), "--noise", "human"]
    args += ["--num-meta", "10", "--train-subset", "100", "--epochs", "1", "--method", "gdw"]
    assert main([*args, "--runs-dir", str(tmp_path), "--name", "human"]) == 0
    run = load_run(tmp_path / "human")
    assert run.state == "completed" and run.resolved["model"] == "resnet32"
    assert run.data["noise"] == "human" and run.data["human_labels"] == "worse"
    assert np.isfinite(run.metrics["noise_auroc"].iloc[-1])
    instances = run.instances
    sources = instances["source"].astype(int).to_numpy()
    np.testing.assert_array_equal(instances["given_label"], file_labels(cifar_n)[sources])
    np.testing.assert_array_equal(instances["true_label"], cifar_train_labels(10, 12)[sources])


def test_top_confusions_by_hand() -> None:
    from gdw.data.dataset import top_confusions

    transition = np.array([[5, 1, 0], [3, 4, 0], [0, 0, 2]])
    assert top_confusions(transition, ("a", "b", "c")) == [
        {"true": "b", "given": "a", "count": 3, "share": pytest.approx(3 / 7)},
        {"true": "a", "given": "b", "count": 1, "share": pytest.approx(1 / 6)},
    ]
    assert top_confusions(transition, ("a", "b", "c"), limit=1)[0]["count"] == 3
    assert top_confusions(np.eye(3, dtype=int), ("a", "b", "c")) == []
