"""The label scores on hand-built arrays, and the study script's tables built from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import load_script

from gdw.runs.label_scores import score_ids, score_spec, window_scores

GIVEN = np.array([0, 1, 1])
WEIGHTS = np.array([[0.8, 0.1], [0.5, 0.2], [0.3, 0.9]])  # given-class weights 0.8, 0.2, 0.9
EPOCH = {
    "weights": WEIGHTS,
    "instance_weights": np.array([1.0, 0.5, 0.3]),
    "given_prob": np.array([0.9, 0.2, 0.7]),
    "margin": np.array([0.8, -0.6, 0.4]),
    "given_step": np.array([0.01, -0.2, 0.05]),
}


def test_each_score_reads_what_it_says() -> None:
    expected = {
        "given_weight": [0.8, 0.2, 0.9],
        "instance_weight": [1.0, 0.5, 0.3],
        "relative_weight": [0.8, 0.4, 3.0],
        "given_step": [0.01, -0.2, 0.05],
        "given_prob": [0.9, 0.2, 0.7],
        "margin": [0.8, -0.6, 0.4],
    }
    assert set(score_ids()) >= set(expected)
    for score, values in expected.items():
        assert window_scores(score_spec(score), [EPOCH], GIVEN) == pytest.approx(values), score


def test_a_window_averages_its_epochs() -> None:
    later = {**EPOCH, "given_prob": np.array([0.5, 0.0, 0.1])}
    assert window_scores(score_spec("given_prob"), [EPOCH, later], GIVEN) == pytest.approx(
        [0.7, 0.1, 0.4]
    )
    with pytest.raises(ValueError, match="at least one epoch"):
        window_scores(score_spec("given_prob"), [], GIVEN)


def test_relative_weight_survives_a_v0_that_underflowed_float16() -> None:
    epoch = {**EPOCH, "instance_weights": np.array([0.0, 0.5, 0.3])}
    assert np.isfinite(window_scores(score_spec("relative_weight"), [epoch], GIVEN)).all()


def test_an_unknown_score_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="is not one of: given_weight"):
        score_spec("nonsense")


def test_the_study_measures_every_score_at_every_epoch() -> None:
    study = load_script("weight_study")
    errors = np.array([False, True, False])
    per_epoch = {name: np.stack([values, values]) for name, values in EPOCH.items()}
    per_epoch["given_prob"] = np.stack([EPOCH["given_prob"], [0.1, 0.9, 0.5]])  # epoch 2 inverts
    rows = {
        (r["epoch"], r["score"]): r for r in study.ranking_rows(per_epoch, GIVEN, errors, window=1)
    }
    assert (
        rows[(1, "given_prob")]["auroc"] == 1.0 and rows[(1, "given_prob")]["precision_at_k"] == 1.0
    )
    assert rows[(2, "given_prob")]["auroc"] == 0.0
    assert rows[(1, "instance_weight")]["auroc"] == 0.5  # 0.5 is between 1.0 and 0.3
    windowed = study.ranking_rows(per_epoch, GIVEN, errors, window=2)
    mean = {(r["epoch"], r["score"]): r["auroc"] for r in windowed}
    assert mean[(2, "given_prob")] == 0.5  # (0.2 + 0.9) / 2 = 0.55 between 0.5 and 0.6
    without_step = {k: v for k, v in per_epoch.items() if k != "given_step"}
    assert "given_step" not in {
        r["score"] for r in study.ranking_rows(without_step, GIVEN, errors, window=1)
    }
    assert study.leans(per_epoch["instance_weights"], per_epoch["given_prob"])[0] == pytest.approx(
        -0.5
    )


def test_the_study_names_settings_as_the_readme_does() -> None:
    study = load_script("weight_study")
    assert study.setting_of({"noise": "uniform", "noise_rate": 0.05}) == "uniform 5%"
    assert study.setting_of({"noise": "none", "canaries": 0.02}) == "clean + 2% canaries"
    assert study.setting_of({"noise": "human", "human_labels": "worse"}) == "human worse"


def test_the_compact_table_orders_settings_by_data_noise_and_rate() -> None:
    """Rows come in the README's order whatever order the sweeps were read in, and each cell
    is the mean over seeds of the named method and net, its lowest seed in brackets."""
    study = load_script("weight_study")
    rows = []
    for dataset, noise, rate in [
        ("mnist", "uniform", 0.4),
        ("digits", "flip", 0.1),
        ("digits", "uniform", 0.4),
        ("digits", "uniform", 0.05),
    ]:
        for method, auroc in [
            ("GDW", (0.9, 0.7)),
            ("GDW (paper net)", (0.2, 0.4)),
            ("ERM", (1, 1)),
        ]:
            for seed, value in enumerate(auroc):
                rows.append(
                    {
                        "epoch": 1,
                        "run": f"{dataset}-{noise}-{rate}-{method}-{seed}",
                        "method": method,
                        "score": "given_weight",
                        "auroc": value,
                        "precision_at_k": value,
                        "test_acc": 0.5,
                        "lean": -0.5,
                        "dataset": dataset,
                        "model": "mlp",
                        "noise": noise,
                        "noise_rate": rate,
                        "setting": study.setting_of({"noise": noise, "noise_rate": rate}),
                    }
                )
    lines = study.compact_markdown(pd.DataFrame(rows)).splitlines()[2:]
    assert [line.split(" | ")[1] for line in lines] == [
        "uniform 5%",
        "uniform 40%",
        "flip 10%",
        "uniform 40%",
    ]
    assert lines[-1].startswith("| mnist (mlp)")
    cells = lines[0].split(" | ")
    assert cells[4:6] == ["0.800 (0.70)", "0.300 (0.20)"]
