"""scripts/schedule_cost.py: a sweep's epochs, warm-up and weighted, priced against a shorter
schedule without a warm-up, from the seconds the runs themselves recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_script

from gdw import load_run
from gdw.cli import main as gdw_main


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cost") / "sweep"
    flags = ["--methods", "erm,gdw", "--seeds", "1", "--epochs", "3", "--warmup-epochs", "1"]
    assert gdw_main(["sweep", *flags, "--train-subset", "150", "--out", str(out)]) == 0
    return out


def test_prices_each_run_by_its_own_weighted_epochs(sweep: Path) -> None:
    table = load_script("schedule_cost").schedule_costs(sweep, against_epochs=2).set_index("method")
    gdw = load_run(sweep / "runs" / table.loc["gdw", "run"]).metrics["seconds"]
    assert table.loc["gdw", "warmup_epochs"] == 1
    assert table.loc["gdw", "warmup_epoch_s"] == pytest.approx(gdw.iloc[0])
    assert table.loc["gdw", "weighted_epoch_s"] == pytest.approx(gdw.iloc[1:].mean())
    assert table.loc["gdw", "run_s"] == pytest.approx(gdw.sum())
    assert table.loc["gdw", "ratio"] == pytest.approx(gdw.sum() / (2 * gdw.iloc[1:].mean()))
    # ERM has no warm-up of its own: every epoch is a weighted one.
    erm = load_run(sweep / "runs" / table.loc["erm", "run"]).metrics["seconds"]
    assert table.loc["erm", "warmup_epochs"] == 0
    assert table.loc["erm", "ratio"] == pytest.approx(erm.sum() / (2 * erm.mean()))


def test_prints_a_line_per_method_and_one_for_the_sweep(sweep: Path, capsys) -> None:
    assert load_script("schedule_cost").main([str(sweep), "--against-epochs", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "| 2 epochs, no warm-up (s) | ratio |" in lines[0]
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| ERM", "| GDW", "| all"]
    assert lines[2].split(" | ")[2] == "–"  # no warm-up epoch to price


def test_refuses_what_it_cannot_price(sweep: Path, tmp_path: Path, capsys) -> None:
    assert load_script("schedule_cost").main([str(sweep), "--against-epochs", "0"]) == 2
    assert "--against-epochs must be 1 or more" in capsys.readouterr().err
    assert load_script("schedule_cost").main([str(tmp_path), "--against-epochs", "10"]) == 2
    assert "is not a sweep folder" in capsys.readouterr().err
    (tmp_path / "runs").mkdir()
    assert load_script("schedule_cost").main([str(tmp_path), "--against-epochs", "10"]) == 2
    assert "holds no completed runs yet" in capsys.readouterr().err
