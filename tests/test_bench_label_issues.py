"""scripts/bench_label_issues.py: the ranking's time set against the run's own training time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import load_script

from gdw import load_run
from gdw.cli import main as gdw_main


def test_times_label_issues_against_the_runs_training(tmp_path: Path, capsys) -> None:
    flags = ["--epochs", "2", "--noise", "uniform", "--noise-rate", "0.4", "--method", "erm"]
    assert gdw_main(["train", *flags, "--runs-dir", str(tmp_path), "--name", "tiny"]) == 0
    capsys.readouterr()
    files = sorted((tmp_path / "tiny").iterdir())
    assert load_script("bench_label_issues").main([str(tmp_path / "tiny"), "--repeats", "2"]) == 0
    record = json.loads(capsys.readouterr().out)
    run = load_run(tmp_path / "tiny")
    training = float(run.metrics["seconds"].sum())
    assert record["training_s"] == round(training, 1) > 0
    assert record["epochs"] == 2 and record["examples"] == len(run.instances)
    assert record["label_issues_s"] > 0
    # The ratio is of the unrounded times; label_issues_s is printed to the millisecond, which
    # on a run this short moves the quotient by up to 0.0005 / training.
    rounding = 0.0005 / training + 0.00005
    assert record["ratio"] == pytest.approx(record["label_issues_s"] / training, abs=rounding)
    assert sorted((tmp_path / "tiny").iterdir()) == files  # the CSV went to a scratch folder


def test_a_folder_that_is_not_a_run_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    assert load_script("bench_label_issues").main([str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is not a run directory" in err
