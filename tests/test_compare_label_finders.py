"""scripts/compare_label_finders.py on tiny sweeps: every finder gets a row of sane numbers and a
cost; the cross-validated models train as the runs do (augmented exactly where the runs are);
human label noise is read from the runs' data fields, from another data root when asked."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import load_script

import gdw.training.stepper
from gdw import load_dataset, load_run
from gdw.cli import main as gdw_main
from gdw.runs import label_scores
from gdw.runs.label_issues import default_score
from gdw.runs.label_scores import LabelScore, score_ids

pytest.importorskip("cleanlab")


def _sweep(out: Path, *flags: str) -> Path:
    assert gdw_main(["sweep", "--seeds", "1", "--epochs", "1", *flags, "--out", str(out)]) == 0
    return out


@pytest.fixture
def augmentations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The shape of every batch the training steps augment from now on."""
    shapes: list[tuple[int, ...]] = []
    augment = gdw.training.stepper.augment_batch

    def spy(images, generator, **kwargs):
        shapes.append(tuple(images.shape))
        return augment(images, generator, **kwargs)

    monkeypatch.setattr(gdw.training.stepper, "augment_batch", spy)
    return shapes


@pytest.fixture(scope="module")
def digits_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("digits") / "sweep"
    flags = ("--noise", "uniform", "--noise-rates", "0.4", "--methods", "erm,gdw")
    return _sweep(out, *flags, "--train-subset", "200")


def test_every_finder_on_a_tiny_digits_sweep(
    digits_sweep: Path, tmp_path: Path, capsys, augmentations, monkeypatch
) -> None:
    # A score registered after the runs were made is listed for every run that holds its arrays.
    monkeypatch.setitem(
        label_scores._SCORES,
        "minus_margin",
        LabelScore("minus_margin", "minus margin", "test", ("margin",), lambda a, g: -a["margin"]),
    )
    out = tmp_path / "rows.csv"
    argv = [str(digits_sweep), "--folds", "2,3", "--epochs", "1", "--csv", str(out)]
    assert load_script("compare_label_finders").main(argv) == 0
    printed = capsys.readouterr().out
    rows = pd.read_csv(out)
    # Each method's default score first, then every other registered one; ERM's weights are all
    # 1, so it is listed by the scores of its predictions only.
    runs = [
        f"run: {label}, {score}"
        for method, label in (("erm", "ERM"), ("gdw", "GDW"))
        for score in sorted(score_ids(), key=lambda s: s != default_score(method))
        if method == "gdw" or score in ("margin", "given_prob", "minus_margin")
    ]
    assert "run: GDW, minus_margin" in runs and "run: ERM, minus_margin" in runs
    assert list(rows["finder"]) == [
        "cleanlab 2-fold + own mlp",
        "cleanlab 2-fold + logistic regression",
        "cleanlab 3-fold + own mlp",
        "cleanlab 3-fold + logistic regression",
        *runs,
    ]
    for metric in ("auroc", "precision_at_errors", "suggested_acc", "flag_recall"):
        assert rows[metric].between(0, 1).all(), metric
    assert (rows["cost_s"] > 0).all()
    run_rows = rows["finder"].str.startswith("run: ")
    assert set(rows.loc[run_rows, "cost_kind"]) == {"run wall"}
    assert rows.loc[~run_rows, "trust_rise"].isna().all()
    assert rows.loc[run_rows, "trust_rise"].isna().all()  # 1-epoch runs: too short to say
    assert rows["n_errors"].nunique() == 1 and rows["n_errors"].iloc[0] > 0
    # Logistic regression on digits' pixels finds uniform noise far better than chance.
    logistic = rows[rows["finder"] == "cleanlab 3-fold + logistic regression"].iloc[0]
    assert logistic["auroc"] > 0.7
    assert "| digits uniform 40% | run: GDW, given_step | 1 |" in printed
    assert "| setting | finder | seeds |" in printed and "| cost (s) |" in printed
    assert augmentations == []  # 8x8 grey digits are not augmented, as in their runs


def test_logistic_regression_can_be_left_out(digits_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    argv = [str(digits_sweep), "--folds", "2", "--no-logistic", "--epochs", "1", "--csv", str(out)]
    assert load_script("compare_label_finders").main(argv) == 0
    finders = pd.read_csv(out)["finder"]
    assert not finders.str.contains("logistic").any()
    assert (finders == "cleanlab 2-fold + own mlp").sum() == 1


def test_human_noise_on_cifar_images_from_another_data_root(
    cifar_n: Path, tmp_path: Path, capsys, augmentations
) -> None:
    flags = ("--dataset", "cifar10", "--data-root", str(cifar_n), "--noise", "human")
    sweep = _sweep(
        tmp_path / "sweep", *flags, "--methods", "erm", "--num-meta", "10", "--model", "resnet8"
    )
    capsys.readouterr()
    augmentations.clear()
    moved = tmp_path / "moved"
    shutil.move(cifar_n, moved)
    script = load_script("compare_label_finders")
    argv = [str(sweep), "--folds", "2", "--epochs", "1"]

    assert script.main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: cannot load the data of run ")
    assert str(cifar_n) in error and error.endswith("pass --data-root DIR where its files are")

    out = tmp_path / "rows.csv"
    assert script.main([*argv, "--data-root", str(moved), "--csv", str(out)]) == 0
    assert "no logistic regression on its pixels" in capsys.readouterr().err
    rows = pd.read_csv(out)
    assert list(rows["finder"])[:1] == ["cleanlab 2-fold + own resnet8"]
    assert set(rows["finder"][1:]) == {"run: ERM, margin", "run: ERM, given_prob"}
    assert set(rows["setting"]) == {"cifar10 human worse"}
    # The known errors are the human labels that differ from the true ones.
    run_data = load_run(next((sweep / "runs").iterdir())).run_config.data
    data = load_dataset(dataclasses.replace(run_data, data_root=str(moved)))
    assert set(rows["n_errors"]) == {int(data.is_noisy.sum())} and data.is_noisy.any()
    assert (rows["cost_s"] > 0).all()
    # Each fold's model trains on augmented 32x32 colour batches, as the run did.
    assert augmentations and {shape[1:] for shape in augmentations} == {(3, 32, 32)}


def test_a_fold_model_trains_as_the_run_trains(cifar_n: Path, tmp_path: Path) -> None:
    # Given the run's seeds and its whole training set, the script's training ends with the very
    # weights of the run's checkpoint: the same initialisation, optimiser, schedule, batches,
    # augmentation and normalisation (ResNet-8 with batch norm, on 32x32 colour images).
    flags = ("--dataset", "cifar10", "--data-root", str(cifar_n), "--num-meta", "10")
    sweep = _sweep(
        tmp_path / "sweep", *flags, "--methods", "erm", "--model", "resnet8", "--epochs", "2"
    )
    run = load_run(next((sweep / "runs").iterdir()))
    config = run.run_config
    assert config.resolved_epochs == 2
    seeds = np.random.SeedSequence([config.seed, 1]).generate_state(4)[:3]  # as a session draws
    data = load_dataset(config.data)
    assert data.augment
    model = load_script("cross_validation").train_as_run(
        config, data, device=torch.device("cpu"), seeds=[int(s) for s in seeds]
    )
    checkpoint = torch.load(run.path / "checkpoint.pt", weights_only=True)
    torch.testing.assert_close(model.state_dict(), checkpoint["model"], rtol=1e-5, atol=1e-6)


def test_seeds_keeps_only_those_seeds_runs(tmp_path: Path, capsys) -> None:
    flags = ("--noise", "uniform", "--noise-rates", "0.4", "--methods", "erm", "--seeds", "2")
    sweep = _sweep(tmp_path / "sweep", *flags, "--train-subset", "120")
    out = tmp_path / "rows.csv"
    argv = [str(sweep), "--folds", "2", "--no-logistic", "--epochs", "1", "--csv", str(out)]
    assert load_script("compare_label_finders").main([*argv, "--seeds", "1"]) == 0
    rows = pd.read_csv(out)
    assert set(rows["seed"]) == {1} and "cleanlab 2-fold + own mlp" in set(rows["finder"])
    capsys.readouterr()
    assert load_script("compare_label_finders").main([*argv, "--seeds", "3"]) == 2
    assert "no completed runs with --seeds 3" in capsys.readouterr().err


def test_compare_label_finders_refuses_a_folder_without_runs(tmp_path: Path, capsys) -> None:
    assert load_script("compare_label_finders").main([str(tmp_path)]) == 2
    assert "no sweep folder" in capsys.readouterr().err


FOLDS_ERROR = "--folds takes whole numbers >= 2"
SEEDS_ERROR = "--seeds takes seeds like 0 or 0,2"


@pytest.mark.parametrize(
    ("flag", "value", "error"),
    [
        *(("--folds", value, FOLDS_ERROR) for value in ("1", "2,x", "3,1")),
        *(("--seeds", value, SEEDS_ERROR) for value in ("x", "0,-1", "")),
    ],
)
def test_folds_and_seeds_must_be_whole_numbers(tmp_path: Path, capsys, flag, value, error) -> None:
    (tmp_path / "runs").mkdir()
    assert load_script("compare_label_finders").main([str(tmp_path), flag, value]) == 2
    assert error in capsys.readouterr().err
