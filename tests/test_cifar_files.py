"""CIFAR's files read as plain data: a whole, well-formed copy with other checksums is read
with a one-line notice; cut-short, garbled or hostile files are refused in one line. And the
restricted unpickler underneath."""

from __future__ import annotations

import io
import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import write_cifar

from gdw import DataConfig, DataError, DataNotice, load_dataset
from gdw.cli import main
from gdw.data.classes import class_names
from gdw.data.safe_pickle import PickleReadError, load_plain

BATCHES = "cifar-10-batches-py"


def cifar10(root: Path) -> DataConfig:
    return DataConfig(dataset="cifar10", data_root=str(root), num_meta=10)


def rewrite(path: Path, change) -> None:
    """Loads a batch written by ``write_cifar``, changes its dict, writes it back."""
    with path.open("rb") as file:
        record = pickle.load(file)
    change(record)
    with path.open("wb") as file:
        pickle.dump(record, file)


def test_a_well_formed_copy_with_other_checksums_is_read_with_a_notice(tmp_path) -> None:
    write_cifar(tmp_path, 10, 12, 3)  # not torchvision's files: the checksums differ
    with pytest.warns(DataNotice, match="differ from torchvision's checksums") as caught:
        data = load_dataset(cifar10(tmp_path))
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert len(data.train_true) == 110 and data.classes[0] == "class00"


def test_bytes_keys_as_a_locally_built_copy_writes_them(tmp_path) -> None:
    write_cifar(tmp_path, 10, 12, 3)
    for name in ["data_batch_1", "test_batch", "batches.meta"]:
        rewrite(
            tmp_path / BATCHES / name,
            lambda record: record.update({k.encode(): record.pop(k) for k in list(record)}),
        )
    with pytest.warns(DataNotice):
        data = load_dataset(cifar10(tmp_path))
    assert data.classes[:2] == ("class00", "class01") and len(data.test_labels) == 30


def test_the_notice_is_one_line_on_the_command_line(tmp_path, capsys) -> None:
    write_cifar(tmp_path, 10, 12, 3)
    args = ["describe", "--dataset", "cifar10", "--data-root", str(tmp_path), "--num-meta", "10"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.startswith("gdw: notice: the cifar10 files in ") and err.count("\n") == 1


def test_matching_checksums_give_no_notice(tmp_path, skip_cifar_checksums) -> None:
    write_cifar(tmp_path, 10, 12, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        load_dataset(cifar10(tmp_path))


DAMAGE = {
    "cut short": ("data_batch_2", "cut", "incomplete or corrupt .*data_batch_2: it is cut short"),
    "garbled": ("test_batch", "garble", "incomplete or corrupt .*test_batch: it is cut short"),
    "missing batch": ("data_batch_5", "delete", "incomplete or corrupt .*data_batch_5"),
    "short rows": ("data_batch_1", "rows", "data_batch_1's images have 3000 values, not 3072"),
    "too few labels": ("data_batch_3", "labels", "data_batch_3 has 24 images but not as many"),
    "label out of range": ("test_batch", "range", r"test_batch has labels outside 0..9"),
    "code in a batch": ("data_batch_4", "code", "are not plain data .*posix.system"),
}


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("name, damage, match", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_files_are_refused_in_one_line(tmp_path, name, damage, match) -> None:
    write_cifar(tmp_path, 10, 12, 3)
    path = tmp_path / BATCHES / name
    marker = tmp_path / "ran"
    if damage == "cut":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "garble":
        path.write_bytes(b"\x80\x04garbage" + os.urandom(200))
    elif damage == "delete":
        path.unlink()
    elif damage == "rows":
        rewrite(path, lambda r: r.update(data=r["data"][:, :3000]))
    elif damage == "labels":
        rewrite(path, lambda r: r.update(labels=r["labels"][:-1]))
    elif damage == "range":
        rewrite(path, lambda r: r.update(labels=[10] * len(r["labels"])))
    else:
        rewrite(path, lambda r: r.update(extra=_RunsCode(marker)))
    with pytest.raises(DataError, match=match) as caught:
        load_dataset(cifar10(tmp_path))
    assert "\n" not in str(caught.value) and "--download" in str(caught.value)
    assert not marker.exists()


def test_class_names_come_from_the_metadata_file(tmp_path) -> None:
    config = DataConfig(dataset="cifar100", data_root=str(tmp_path))
    with pytest.raises(DataError, match="no cifar100 files"):
        class_names(config)  # unknown without the files: read the source, which says so
    write_cifar(tmp_path, 100, 3, 1)
    assert class_names(config)[:2] == ("class00", "class01")


# --- the restricted unpickler ------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_data_round_trips_in_every_protocol(protocol) -> None:
    record = {
        "data": np.arange(12, dtype=np.uint8).reshape(3, 4),
        "fortran": np.asfortranarray(np.ones((2, 3), dtype=np.float32)),
        "labels": [1, 2, 3],
        b"names": [b"cat", "dog"],
        "nested": {"x": (1.5, None, True)},
    }
    loaded = load_plain(io.BytesIO(pickle.dumps(record, protocol=protocol)))
    assert loaded["labels"] == [1, 2, 3] and loaded[b"names"] == [b"cat", "dog"]
    np.testing.assert_array_equal(loaded["data"], record["data"])
    np.testing.assert_array_equal(loaded["fortran"], record["fortran"])
    assert loaded["nested"] == {"x": (1.5, None, True)}


@pytest.mark.parametrize(
    "payload, match",
    [
        (lambda m: _RunsCode(m), "posix.system"),
        (lambda m: np.array([1, "a"], dtype=object), "array of Python objects"),
        (lambda m: np.ma.masked_array([1, 2]), "numpy.ma.core"),
        (lambda m: {1, 2}, "set"),
        (lambda m: Path("x"), "pathlib"),
    ],
    ids=["code", "object array", "array subclass", "set", "other class"],
)
def test_anything_but_plain_data_is_refused(tmp_path, payload, match) -> None:
    marker = tmp_path / "ran"
    raw = pickle.dumps({"x": payload(marker)}, protocol=2)
    with pytest.raises(PickleReadError, match=match) as caught:
        load_plain(io.BytesIO(raw))
    assert caught.value.refused and not marker.exists()


def test_cut_short_and_garbled_are_not_refusals() -> None:
    raw = pickle.dumps({"a": np.arange(100)})
    for broken in (raw[: len(raw) // 2], b"\x80\x02garbage"):
        with pytest.raises(PickleReadError, match="cut short or garbled") as caught:
            load_plain(io.BytesIO(broken))
        assert not caught.value.refused
