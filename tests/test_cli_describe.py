"""`gdw describe`: JSON on stdout, exit code 2 and one line on stderr for bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gdw.data.dataset
from gdw.cli import main

KEYS = {
    "dataset",
    "classes",
    "train_counts",
    "given_counts",
    "meta_counts",
    "test_count",
    "train_count",
    "noise_rate",
    "transition",
    "image_shape",
}
REPO = Path(__file__).resolve().parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["describe", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_describe_prints_json(capsys) -> None:
    args = ["--noise", "uniform", "--noise-rate", "0.5", "--imbalance", "0.2", "--seed", "3"]
    code, out, err = run_cli(capsys, *args)
    assert code == 0 and err == ""
    summary = json.loads(out)
    assert KEYS <= set(summary)
    assert summary["dataset"] == "digits" and summary["meta_counts"] == [10] * 10
    assert 0.3 < summary["noise_rate"] < 0.6


def test_python_dash_m_gdw_describe() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gdw", "describe", "--train-subset", "100", "--num-meta", "20"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["train_count"] == 100


def test_bad_input_from_a_real_process_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gdw", "describe", "--noise", "uniform", "--noise-rate", "2"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "gdw: error: noise rate must be in [0, 1], got 2\n"


@pytest.fixture
def one_class_folder(image_folder) -> Path:
    return image_folder(("cat",))


@pytest.fixture
def unreadable_image_folder(image_folder) -> Path:
    root = image_folder()
    (root / "test" / "fox" / "broken.jpg").write_bytes(b"garbage bytes")
    return root


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--noise", "uniform", "--noise-rate", "1.5"], r"noise rate must be in \[0, 1\], got 1.5"),
        (["--noise", "flip", "--noise-rate", "-0.1"], "noise rate must be in"),
        (["--imbalance", "0"], r"imbalance factor must be in \(0, 1\], got 0"),
        (["--imbalance", "1.5"], r"imbalance factor must be in \(0, 1\], got 1.5"),
        (["--num-meta", "5000"], "too few for 500 meta examples per class"),
        (["--num-meta", "3"], "cannot hold one example of each of the 10 classes"),
        (["--train-subset", "0"], "train-subset must be a whole number >= 1"),
        (["--dataset", "svhn"], "dataset 'svhn' is not one of: digits, mnist"),
        (["--noise", "gaussian"], "noise 'gaussian' is not one of"),
        (["--dataset", "mnist", "--data-root", "{tmp}"], r"no mnist files in {tmp}/MNIST/raw"),
        (["--dataset", "imagefolder", "--data-root", "{one_class}"], "at least 2 are needed"),
        (["--dataset", "imagefolder", "--data-root", "{unreadable}"], "broken.jpg"),
    ],
    ids=[
        "noise-rate-above-1",
        "noise-rate-negative",
        "imbalance-zero",
        "imbalance-above-1",
        "num-meta-too-large",
        "num-meta-below-classes",
        "train-subset-zero",
        "unknown-dataset",
        "unknown-noise",
        "missing-files",
        "one-class-folder",
        "unreadable-image",
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys, tmp_path, one_class_folder, unreadable_image_folder, args: list[str], match: str
) -> None:
    paths = {"tmp": tmp_path, "one_class": one_class_folder, "unreadable": unreadable_image_folder}
    args = [arg.format(**paths) for arg in args]
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gdw: error: ")
    assert "Traceback" not in err
    assert re.search(match.format(**paths), err), err


def test_argparse_errors_exit_2_without_traceback(capsys) -> None:
    code, out, err = run_cli(capsys, "--noise-rate", "abc")
    assert code == 2 and out == "" and "Traceback" not in err
    last_line = "gdw describe: error: argument --noise-rate: invalid float value: 'abc'"
    assert err.splitlines()[-1] == last_line


def test_failure_during_a_run_exits_1_with_one_line(capsys, monkeypatch) -> None:
    def broken(config):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(gdw.data.dataset, "load_dataset", broken)  # what run_describe calls
    code, out, err = run_cli(capsys)
    assert (code, out, err) == (1, "", "gdw: error: RuntimeError: disk on fire\n")
