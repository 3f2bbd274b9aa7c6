"""Suspected label errors: the ranking, the trust measured on canaries, and the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import epoch_arrays, extra_array_specs

from gdw.cli import main
from gdw.config import DataConfig, RunConfig
from gdw.runs.label_issues import (
    LabelIssuesError,
    default_score,
    find_label_issues,
    flag_issues,
    suggested_labels,
)
from gdw.runs.label_quality import ranking_quality, still_improving, trust, trust_by_epoch
from gdw.runs.label_summary import improving_note, trust_warning
from gdw.runs.reader import load_run
from gdw.runs.writer import RunWriter


def test_suggested_label_is_the_most_frequent_prediction_ties_to_the_lower_class() -> None:
    predicted = np.array([[2, 0, 1], [2, 1, 1], [0, 0, 2], [1, 1, 0]])  # [K=4, R=3]
    assert suggested_labels(predicted, 3).tolist() == [2, 0, 1]  # row 1: 0 and 1 twice -> 0


def test_flag_rule_needs_another_prediction_and_a_score_below_the_class_mean() -> None:
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.5])
    given = np.array([0, 0, 1, 1, 1])  # class means 0.5 and 0.5
    suggested = np.array([1, 1, 1, 0, 1])
    assert flag_issues(scores, given, suggested).tolist() == [False, True, False, True, False]


def test_ranking_quality() -> None:
    truth = np.array([True, False, True, False])
    quality = ranking_quality(np.array([0.1, 0.9, 0.2, 0.3]), truth, k=2)
    assert quality == {"auroc": 1.0, "recall_at_k": 1.0, "precision_at_k": 1.0}
    worst = ranking_quality(np.array([0.9, 0.1, 0.8, 0.2]), truth, k=2)
    assert worst["auroc"] == 0.0 and worst["recall_at_k"] == 0.0
    assert ranking_quality(np.ones(4), np.zeros(4, bool), k=2)["auroc"] is None


def test_the_default_score_comes_from_the_registry() -> None:
    assert {default_score(m) for m in ("erm", "mwnet", "mwnet-step", "gdw")} == {"margin"}
    assert default_score("a-method-of-an-old-run") == "margin"


def test_a_run_without_margins_is_ranked_by_what_it_recorded(tmp_path: Path) -> None:
    """A run of an older version recorded no margin.npy: its default is the given label's
    probability."""
    path = hand_run(tmp_path)
    (path / "margin.npy").unlink()
    record = json.loads((path / "config.json").read_text())
    del record["per_epoch"]["arrays"]["margin"]
    (path / "config.json").write_text(json.dumps(record))
    assert find_label_issues(load_run(path), last_epochs=2).summary["score"] == "given_prob"


def test_trust_says_good_weak_inverted_or_unmeasured() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    verdict = {
        "good": [True, True, False, False, False, False],
        "weak": [True, False, False, False, False, True],  # AUROC 0.5: chance
        "inverted": [False, False, False, False, True, True],
        "unmeasured": [False] * 6,
    }
    for expected, truth in verdict.items():
        measured = trust(scores, np.array(truth), source="canaries")
        assert measured["verdict"] == expected, (expected, measured)
    assert trust(scores, np.array(verdict["good"]), source="canaries")["auroc"] == 1.0


def hand_run(
    tmp_path: Path,
    *,
    method: str = "gdw",
    noise: bool = True,
    canary=None,
    state: str = "completed",
    epochs: int = 3,
    name: str = "hand",
) -> Path:
    """Five examples of 3 classes with known scores. Epoch 1 ranks 0 < 1 < 2 < 3 < 4; epochs
    2 and 3 rank 4 < 3 < 2 < 1 < 0; example 4 is predicted class 2, then 0, then 0."""
    given = np.array([0, 1, 2, 0, 1])
    true = np.array([0, 1, 2, 2, 2]) if noise else given
    data = DataConfig(noise="uniform", noise_rate=0.4) if noise else DataConfig()
    canary = np.zeros(5, int) if canary is None else np.asarray(canary)
    writer = RunWriter(
        tmp_path,
        name,
        config={
            "config": RunConfig(data=data, method=method).to_dict(),
            "classes": ["cat", "dog", "fox"],
        },
        instances={
            "index": np.arange(10, 15),
            "given_label": given,
            "true_label": true,
            "is_noisy": (given != true).astype(int),
            "source": np.arange(100, 105),
            "is_canary": canary,
        },
        n_epochs=epochs,
        n_classes=3,
        arrays=extra_array_specs(5),
    )
    for epoch in range(1, epochs + 1):
        order = np.arange(5) if epoch == 1 else np.arange(5)[::-1]
        score = 0.1 + 0.2 * np.argsort(order)  # rank r -> 0.1 + 0.2 r
        weights = np.ones((5, 3))
        weights[np.arange(5), given] = score
        arrays = epoch_arrays(weights, given=given)
        arrays["given_prob"] = score[::-1] if method == "erm" else arrays["given_prob"]
        arrays["predicted"] = given.copy()
        arrays["predicted"][4] = 2 if epoch == 1 else 0
        writer.append_epoch({"epoch": epoch, "test_acc": 0.5}, weights, arrays)
    if state != "running":
        writer.finish(state)
    return writer.path


def test_ranking_averages_the_last_epochs_and_suggests_the_frequent_prediction(tmp_path) -> None:
    run_ = load_run(hand_run(tmp_path))
    last_two = find_label_issues(run_, score="given_weight", last_epochs=2).table
    assert last_two["index"].tolist() == [14, 13, 12, 11, 10]
    assert last_two["label_score"].to_numpy() == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9], abs=1e-3)
    assert last_two["suggested_class"].tolist() == ["cat", "cat", "fox", "dog", "cat"]
    assert last_two["source"].tolist() == [104, 103, 102, 101, 100]
    only_first = find_label_issues(run_, score="given_weight", last_epochs=1, until=1).table
    assert only_first["index"].tolist() == [10, 11, 12, 13, 14]
    assert only_first["suggested_class"].iloc[-1] == "fox"
    # Example 14 (given dog, suggested cat, score 0.1 below dog's mean) is the only flag.
    assert last_two["is_label_issue"].tolist() == [True, False, False, False, False]
    summary = find_label_issues(run_, score="given_weight", last_epochs=2).summary
    assert summary["noise"] == {"errors": 2, "precision": 1.0, "recall": 0.5}
    assert summary["epochs"] == [2, 3] and summary["canaries"] is None


def test_ranking_by_the_given_label_probability(tmp_path: Path) -> None:
    run_ = load_run(hand_run(tmp_path, method="erm"))
    table = find_label_issues(run_, score="given_prob", last_epochs=2).table
    assert table["index"].tolist() == [10, 11, 12, 13, 14]  # given_prob reverses the weights


def test_canaries_are_left_out_and_measure_the_ranking(tmp_path: Path) -> None:
    run_ = load_run(hand_run(tmp_path, canary=[0, 0, 0, 1, 1]))
    issues = find_label_issues(run_, last_epochs=2)
    assert issues.table["index"].tolist() == [12, 11, 10]
    canaries = issues.summary["canaries"]
    assert canaries["count"] == 2 and canaries["auroc"] == 1.0 and canaries["flag_recall"] == 0.5


def test_without_noise_the_scores_still_rank(tmp_path: Path, capsys) -> None:
    path = hand_run(tmp_path, noise=False)
    assert main(["label-issues", str(path), "--epochs", "2"]) == 0
    out, err = capsys.readouterr()
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == [
        "index",
        "source",
        "given_label",
        "given_class",
        "suggested_label",
        "suggested_class",
        "label_score",
        "score",
        "is_label_issue",
    ]
    assert table["index"].tolist() == [14, 13, 12, 11, 10]
    assert set(table["score"]) == {"margin"}
    assert "precision n/a" in err and "score: margin" in err
    assert "warning: nothing measures this ranking" in err  # no noise, no canaries


def test_a_ranking_that_inverts_its_canaries_comes_with_a_warning(tmp_path: Path, capsys) -> None:
    inverted = hand_run(tmp_path, canary=[1, 1, 0, 0, 0], noise=False, name="inverted")
    assert main(["label-issues", str(inverted), "--epochs", "2"]) == 0
    err = capsys.readouterr().err
    assert "warning: this ranking is upside down: its canaries score above" in err
    assert err.count("\n") == 2  # the summary line and the warning
    found = hand_run(tmp_path, canary=[0, 0, 0, 1, 1], noise=False, name="found")
    assert main(["label-issues", str(found), "--epochs", "2"]) == 0
    assert "warning" not in capsys.readouterr().err
    summary = find_label_issues(load_run(inverted), last_epochs=2).summary
    assert summary["trust"]["verdict"] == "inverted" and "upside down" in trust_warning(summary)
    assert "try --score margin" not in trust_warning(summary)  # it is the margin's ranking
    by_prob = find_label_issues(load_run(inverted), last_epochs=2, score="given_prob").summary
    assert trust_warning(by_prob).endswith("do not act on it; try --score margin")


def test_score_picks_another_ranking(tmp_path: Path, capsys) -> None:
    path = hand_run(tmp_path)
    by_default = find_label_issues(load_run(path), last_epochs=2).table
    by_prob = find_label_issues(load_run(path), last_epochs=2, score="given_prob").table
    assert by_default["index"].tolist() == [14, 13, 12, 11, 10]
    assert set(by_prob["score"]) == {"given_prob"}
    assert main(["label-issues", str(path), "--score", "margin", "--top", "1"]) == 0
    assert "score: margin" in capsys.readouterr().err
    assert main(["label-issues", str(path), "--score", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gdw: error: --score 'nonsense' is not one of: given_weight")


def test_label_issues_writes_the_top_k_to_a_file(tmp_path: Path, capsys) -> None:
    path = hand_run(tmp_path)
    out = tmp_path / "issues.csv"
    assert main(["label-issues", str(path), "--top", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert pd.read_csv(out)["index"].tolist() == [14, 13]


def test_label_issues_bad_input_exits_2(tmp_path: Path, capsys) -> None:
    running = hand_run(tmp_path, state="running", name="live")
    cases = {
        "unknown": ["label-issues", str(tmp_path / "nope")],
        "not-a-run": ["label-issues", str(tmp_path)],
        "running": ["label-issues", str(running)],
        "epochs": ["label-issues", str(running), "--allow-running", "--epochs", "0"],
        "top": ["label-issues", str(running), "--allow-running", "--top", "0"],
    }
    for name, argv in cases.items():
        assert main(argv) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("gdw: error: ") and err.count("\n") == 1, (name, err)
    assert main(["label-issues", str(running), "--allow-running"]) == 0
    writer = RunWriter(
        tmp_path,
        "empty",
        config={"config": RunConfig().to_dict()},
        instances={
            "index": np.zeros(0, int),
            "given_label": np.zeros(0, int),
            "true_label": np.zeros(0, int),
            "is_noisy": np.zeros(0, int),
        },
        n_epochs=2,
        n_classes=10,
    )
    writer.finish("completed")
    assert main(["label-issues", str(writer.path)]) == 2
    assert "recorded no weights" in capsys.readouterr().err


def test_label_issues_refuses_a_run_without_predictions(tmp_path: Path) -> None:
    """A run of an older version recorded its weights alone."""
    writer = RunWriter(
        tmp_path,
        "old",
        config={"config": RunConfig().to_dict(), "classes": ["a", "b"]},
        instances={
            "index": np.arange(2),
            "given_label": np.zeros(2, int),
            "true_label": np.zeros(2, int),
            "is_noisy": np.zeros(2, int),
        },
        n_epochs=1,
        n_classes=2,
    )
    writer.append_epoch({"epoch": 1, "test_acc": 0.5}, np.ones((2, 2)))
    writer.finish("completed")
    with pytest.raises(LabelIssuesError, match="predicted"):
        find_label_issues(load_run(writer.path))


@pytest.fixture
def digits_folder(tmp_path: Path) -> Path:
    """Three of scikit-learn's digits (0, 1, 7) as a small folder of 32x32 PNGs: real,
    learnable images for an end-to-end look at the default ranking."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    root = tmp_path / "digits-png"
    for label in (0, 1, 7):
        rows = np.flatnonzero(digits.target == label)
        for split, chosen in (("train", rows[:80]), ("test", rows[80:100])):
            folder = root / split / str(label)
            folder.mkdir(parents=True)
            for row in chosen:
                pixels = np.rint(digits.images[row] * 255 / 16).astype(np.uint8)
                picture = Image.fromarray(pixels).resize((32, 32), Image.Resampling.BILINEAR)
                picture.convert("RGB").save(folder / f"{row:04d}.png")
    return root


def test_the_default_ranking_finds_the_errors_of_a_small_image_folder(
    digits_folder: Path, tmp_path: Path, capsys
) -> None:
    runs = tmp_path / "runs"
    common = ["--dataset", "imagefolder", "--data-root", str(digits_folder), "--model", "mlp"]
    common += ["--num-meta", "15", "--epochs", "8", "--runs-dir", str(runs)]
    noisy = ["--noise", "uniform", "--noise-rate", "0.3", "--name", "noisy"]
    assert main(["train", *common, *noisy]) == 0
    assert main(["label-issues", str(runs / "noisy"), "--out", str(tmp_path / "issues.csv")]) == 0
    err = capsys.readouterr().err
    summary = find_label_issues(load_run(runs / "noisy")).summary
    assert summary["score"] == "margin" and summary["trust"]["source"] == "known errors"
    assert summary["trust"]["auroc"] >= 0.9 and "warning" not in err
    assert main(["train", *common, "--name", "clean"]) == 0  # no noise: 2% canaries planted
    clean = find_label_issues(load_run(runs / "clean")).summary
    assert clean["trust"]["source"] == "canaries" and clean["trust"]["count"] == 4  # of 225
    assert clean["trust"]["verdict"] == "good"


def test_trust_by_epoch_measures_each_epochs_window() -> None:
    scores = np.array([[0.1, 0.2, 0.9, 0.8], [0.9, 0.8, 0.1, 0.2], [0.9, 0.8, 0.1, 0.2]])
    truth = np.array([False, False, True, True])  # low scores on 2 and 3 find them
    last_one = [range(e, e + 1) for e in (1, 2, 3)]
    assert trust_by_epoch(scores, truth, last_one) == [0.0, 1.0, 1.0]
    last_two = [range(max(1, e - 1), e + 1) for e in (1, 2, 3)]
    assert trust_by_epoch(scores, truth, last_two) == [0.0, 0.5, 1.0]  # epoch 2: all tied
    assert trust_by_epoch(scores, np.zeros(4, bool), last_one) == [None, None, None]


@pytest.mark.parametrize(
    ("curve", "improving"),
    [
        ([0.70, 0.80, 0.81, 0.81, 0.82], True),  # +0.02 over the last 3 epochs
        ([0.70, 0.80, 0.81, 0.81, 0.81], True),  # +0.01: just enough
        ([0.70, 0.80, 0.805, 0.81, 0.809], False),  # +0.009
        ([0.70, 0.80, 0.90], False),  # too short to say
        ([None, None, None, None, None], False),  # nothing measures it
        ([0.90, 0.80, 0.70, 0.60, 0.50], False),  # falling
    ],
)
def test_still_improving_needs_a_rise_over_the_last_epochs(curve, improving) -> None:
    assert still_improving(curve) is improving


def test_a_ranking_still_rising_at_the_end_says_resume(tmp_path: Path, capsys) -> None:
    path = hand_run(tmp_path, epochs=5)  # the errors score high in epoch 1, lowest after
    summary = find_label_issues(load_run(path), score="given_weight", last_epochs=5).summary
    assert [p["auroc"] for p in summary["trust_by_epoch"]] == [0.0, 0.5, 1.0, 1.0, 1.0]
    assert summary["still_improving"] and summary["finished"]
    assert improving_note(summary) == (
        "the ranking was still improving (AUROC 0.500 to 1.000 over the last 3 epochs): "
        "resume the run for more epochs"
    )
    assert main(["label-issues", str(path), "--score", "given_weight"]) == 0
    assert f"resume the run for more epochs (gdw train --resume {path} --epochs N, N > 5)" in (
        capsys.readouterr().err
    )
    settled = find_label_issues(load_run(path), score="given_weight", last_epochs=1).summary
    assert [p["auroc"] for p in settled["trust_by_epoch"]] == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert not settled["still_improving"] and improving_note(settled) is None


def test_a_running_ranking_still_rising_does_not_ask_for_a_resume(tmp_path: Path) -> None:
    path = hand_run(tmp_path, epochs=5, state="running")
    run_ = load_run(path)
    summary = find_label_issues(run_, score="given_weight", allow_running=True).summary
    assert not summary["finished"]
    assert improving_note(summary) == (
        "the ranking is still improving (AUROC 0.500 to 1.000 over the last 3 epochs)"
    )
