"""scripts/compare_label_finders.py on a tiny sweep: every finder gets a row of sane numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from gdw.cli import main as gdw_main

pytest.importorskip("cleanlab")
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_label_finders.py"


def _script():
    spec = importlib.util.spec_from_file_location("compare_label_finders", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_label_finders_on_a_tiny_sweep(tmp_path: Path, capsys) -> None:
    sweep = tmp_path / "sweep"
    assert (
        gdw_main(
            [
                "sweep",
                "--noise",
                "uniform",
                "--noise-rates",
                "0.4",
                "--seeds",
                "1",
                "--methods",
                "erm,gdw",
                "--epochs",
                "2",
                "--train-subset",
                "200",
                "--out",
                str(sweep),
            ]
        )
        == 0
    )
    capsys.readouterr()
    script = _script()
    out = tmp_path / "rows.csv"
    assert script.main([str(sweep), "--folds", "3", "--epochs", "2", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = pd.read_csv(out)
    assert sorted(rows["finder"]) == [
        "cleanlab + logistic regression",
        "cleanlab + own mlp",
        "run: ERM",
        "run: GDW",
    ]
    for metric in ("auroc", "precision_at_errors", "suggested_acc", "flag_recall"):
        assert rows[metric].between(0, 1).all(), metric
    # Logistic regression on digits' pixels finds uniform noise far better than chance.
    logistic = rows[rows["finder"] == "cleanlab + logistic regression"].iloc[0]
    assert logistic["auroc"] > 0.7
    assert "| digits uniform 40% | run: GDW | 1 |" in printed


def test_compare_label_finders_refuses_a_folder_without_runs(tmp_path: Path, capsys) -> None:
    assert _script().main([str(tmp_path)]) == 2
    assert "no sweep folder" in capsys.readouterr().err
