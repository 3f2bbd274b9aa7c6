"""scripts/label_score_study.py: the literature's single-run scores, each computed from a run's
recorded history as its paper defines it, and measured against the known errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_script

from gdw.cli import main as gdw_main


@pytest.fixture(scope="module")
def study():
    return load_script("label_score_study")


def test_each_candidate_reads_the_history_as_its_paper_says(study) -> None:
    # 3 examples, 4 epochs: 0 is learned at once; 1 is learned, forgotten twice; 2 never.
    margin = np.array([[0.5, 0.2, -0.3], [0.6, -0.1, -0.2], [0.7, 0.3, -0.4], [0.8, -0.2, -0.1]])
    given_prob = (margin + 1) / 2
    recorded = {"margin": margin, "given_prob": given_prob, "given": np.array([0, 0, 1])}
    scores = {
        name: score(recorded)
        for name, score in study.CANDIDATES.items()
        if name not in study.NEEDS_CLASS_WEIGHTS
    }
    assert scores["AUM (margin after the first epoch)"] == pytest.approx(margin[1:].mean(0))
    assert scores["margin, last epoch"] == pytest.approx(margin[-1])
    assert scores["margin, last half"] == pytest.approx(margin[2:].mean(0))
    assert scores["variability (low = suspect)"] == pytest.approx(given_prob[1:].std(0))
    forgetting = scores["forgetting events"]
    assert forgetting[0] == pytest.approx(0, abs=1e-2)  # never forgotten
    assert forgetting[1] == pytest.approx(-2, abs=1e-2)  # right, wrong; right, wrong
    assert forgetting[2] == pytest.approx(-5, abs=1e-2)  # never right: below any count (E + 1)
    # class-normalised: examples 0 and 1 share class 0, so they move by their mean
    last5 = margin.mean(0)
    expected = last5 - np.array([last5[:2].mean(), last5[:2].mean(), last5[2]])
    assert scores["margin, class-normalised"] == pytest.approx(expected)


def test_a_tiny_sweep_gets_every_candidate_and_the_weights_only_where_there_are(
    study, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "sweep"
    flags = ["--noise", "uniform", "--noise-rates", "0.4", "--methods", "erm,gdw"]
    argv = ["sweep", "--seeds", "1", "--epochs", "3", "--train-subset", "200", *flags]
    assert gdw_main([*argv, "--out", str(out)]) == 0
    csv = tmp_path / "rows.csv"
    assert study.main([str(out), "--csv", str(csv)]) == 0
    rows = pd.read_csv(csv)
    by_method = rows.groupby("method")["score"].apply(set)
    assert by_method["GDW"] == set(study.CANDIDATES)
    assert by_method["ERM"] == set(study.CANDIDATES) - study.NEEDS_CLASS_WEIGHTS
    assert rows["auroc"].between(0, 1).all() and rows["precision_at_k"].between(0, 1).all()
    assert set(rows["setting"]) == {"uniform 40%"} and set(rows["epochs"]) == {3}
    assert "| digits | uniform 40% | GDW | 3 | 1 | margin, last 5 (label-issues) |" in (
        capsys.readouterr().out
    )
    assert study.main([str(tmp_path / "nothing")]) == 2
    assert "no sweep folder" in capsys.readouterr().err
