"""Sweeps over human label sets (``--noise human --human-labels aggre,worse``, the
``cifar10n-small`` preset): the grid, the run names, results.csv, the summary and resuming."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import gdw.training.trainer
from gdw.cli import build_parser, main, sweep_spec_from_args
from gdw.cli.sweep import sweep_command
from gdw.config import ConfigError, DataConfig, RunConfig
from gdw.sweeps.presets import PAPER_METHODS, PRESETS, Setting, grid_settings
from gdw.sweeps.ray_backend import RayBackend
from gdw.sweeps.results import load_sweep
from gdw.sweeps.stats import paired_differences, summary_markdown, summary_table

WORSE, AGGRE = Setting("human", human_labels="worse"), Setting("human", human_labels="aggre")


def test_a_human_setting_is_named_by_its_label_set() -> None:
    assert WORSE.key == "human-worse-imb1" and WORSE.label == "human worse"
    tail = Setting("human", imbalance=0.1, human_labels="aggre")
    assert tail.label == "human aggre + imbalance 0.1"
    assert WORSE.to_dict() == {
        "noise": "human",
        "noise_rate": 0.0,
        "imbalance": 1.0,
        "human_labels": "worse",
    }
    assert "human_labels" not in Setting("uniform", 0.4).to_dict()  # old sweeps read the same
    with pytest.raises(ConfigError, match="needs a label set's name"):
        Setting("human")
    with pytest.raises(ConfigError, match="need noise 'human'"):
        Setting("uniform", 0.4, human_labels="worse")


def test_grid_settings_cross_label_sets_with_imbalances() -> None:
    settings = grid_settings(noise="human", imbalances=[1.0, 0.1], human_labels=["aggre", "worse"])
    assert [s.key for s in settings] == [
        "human-aggre-imb1",
        "human-worse-imb1",
        "human-aggre-imb0.1",
        "human-worse-imb0.1",
    ]
    with pytest.raises(ConfigError, match="human label sets go with --noise human"):
        grid_settings(noise="uniform", noise_rates=[0.2], human_labels=["worse"])


def test_the_cifar10n_small_preset() -> None:
    preset = PRESETS["cifar10n-small"]
    assert preset.dataset == "cifar10" and preset.methods == PAPER_METHODS
    assert preset.settings == (AGGRE, WORSE) and preset.seeds == 3 and preset.runs == 24
    args = build_parser().parse_args(["sweep", "--preset", "cifar10n-small"])
    spec, out = sweep_spec_from_args(args)
    runs = spec.runs()
    assert len(runs) == 24 and out == Path("sweeps/cifar10n-small")
    assert {r.data.human_labels for r in runs} == {"aggre", "worse"}
    assert {r.data.train_subset for r in runs} == {preset.train_subset}
    help_text = " ".join(
        build_parser()._subparsers._group_actions[0].choices["sweep"].format_help().split()
    )
    assert "cifar10n-small: CIFAR-10N" in help_text


def parse(*flags: str):
    return sweep_spec_from_args(build_parser().parse_args(["sweep", *flags]))


def test_the_flags_of_a_human_grid() -> None:
    spec, _ = parse("--dataset", "cifar10", "--noise", "human", "--human-labels", "aggre,worse")
    assert spec.settings == (AGGRE, WORSE) and spec.noise_file is None
    spec, out = parse("--dataset", "cifar10", "--noise", "human", "--noise-file", "l.pt")
    assert spec.settings == (WORSE,) and spec.noise_file == "l.pt"  # the dataset's default set
    assert {r.data.noise_file for r in spec.runs()} == {"l.pt"}
    command = sweep_command(spec, out)
    assert "--noise human --human-labels worse" in command and "--noise-file l.pt" in command
    assert parse(*command.split()[4:])[0].to_dict() == spec.to_dict()  # the command round-trips


BAD = {
    "unknown set": (
        ["--dataset", "cifar10", "--noise", "human", "--human-labels", "best"],
        "'best'",
    ),
    "no human labels": (["--noise", "human"], "needs a dataset with human labels"),
    "rates": (["--dataset", "cifar10", "--noise", "human", "--noise-rates", "0.2"], "drop"),
    "sets without human": (["--human-labels", "worse"], "need noise 'human'"),
    "file without human": (["--noise-file", "x.pt"], "--noise-file is for human noise"),
    "preset with sets": (["--preset", "cifar10n-small", "--human-labels", "aggre"], "drop"),
}


@pytest.mark.parametrize("flags, message", BAD.values(), ids=BAD.keys())
def test_bad_human_sweep_flags_exit_2_with_one_line(tmp_path, capsys, flags, message) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("gdw: error: ") and message in err
    assert not out.exists()


TINY = "--dataset cifar10 --noise human --human-labels aggre,worse --methods erm,gdw".split()
TINY += "--seeds 2 --epochs 1 --model cnn --num-meta 10 --train-subset 60".split()


@pytest.fixture
def human_sweep(cifar_n: Path, tmp_path: Path) -> Path:
    out = tmp_path / "human"
    assert main(["sweep", *TINY, "--data-root", str(cifar_n), "--out", str(out)]) == 0
    return out


def test_a_human_sweep_records_its_label_sets(human_sweep, cifar_n, monkeypatch) -> None:
    results = pd.read_csv(human_sweep / "results.csv")
    assert len(results) == 8 and set(results["state"]) == {"completed"}
    assert set(results["human_labels"]) == {"aggre", "worse"}
    assert set(results["noise"]) == {"human"}
    assert "gdw-human-worse-imb1-seed1" in set(results["run"])
    summary = (human_sweep / "summary.md").read_text()
    assert "| human aggre |" in summary and "| human worse |" in summary
    table = load_sweep(human_sweep).table()
    assert list(dict.fromkeys(table["setting"])) == ["human aggre", "human worse"]
    # Rerun, the label file given by another path: nothing is redone.
    started = []
    monkeypatch.setattr(
        gdw.training.trainer, "run", lambda config, **kw: started.append(config.name)
    )
    copy = shutil.copy(cifar_n / "CIFAR-10_human.pt", cifar_n.parent / "elsewhere.pt")
    flags = [*TINY, "--data-root", str(cifar_n), "--noise-file", str(copy)]
    assert main(["sweep", *flags, "--out", str(human_sweep)]) == 0
    assert started == []


def test_runs_recorded_before_the_new_fields_still_count_as_finished(
    human_sweep, cifar_n, monkeypatch
) -> None:
    for config_file in (human_sweep / "runs").glob("erm-*/config.json"):
        record = json.loads(config_file.read_text())
        record["config"]["data"].pop("noise_file")  # as a run of an older version records it
        config_file.write_text(json.dumps(record))
    started = []
    monkeypatch.setattr(
        gdw.training.trainer, "run", lambda config, **kw: started.append(config.name)
    )
    assert main(["sweep", *TINY, "--data-root", str(cifar_n), "--out", str(human_sweep)]) == 0
    assert started == []


def results_of(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "method": m,
                "noise": "human",
                "noise_rate": 0.0,
                "imbalance": 1.0,
                "human_labels": labels,
                "seed": seed,
                "final_acc": acc,
                "best_acc": acc,
                "noise_auroc": 0.7,
                "seconds": 1.0,
            }
            for m, labels, seed, acc in rows
        ]
    )


def test_statistics_keep_label_sets_apart() -> None:
    rows = [
        (m, labels, seed, base + seed + (2.0 if m == "gdw" else 0.0))
        for labels, base in (("aggre", 80.0), ("worse", 60.0))
        for seed in (0, 1, 2)
        for m in ("mwnet", "gdw")
    ]
    results = results_of(rows)
    table = summary_table(results)
    assert list(table["setting"]) == ["human aggre"] * 2 + ["human worse"] * 2
    assert table["mean"].tolist() == [81.0, 83.0, 61.0, 63.0]
    paired = paired_differences(results)
    assert paired["setting"].tolist() == ["human aggre", "human worse"]
    assert paired["mean_diff"].tolist() == pytest.approx([2.0, 2.0])
    text = summary_markdown(results, spec={"preset": "x", "seeds": [0, 1, 2]}, planned=12)
    auroc = text.split("## Noise AUROC (last epoch), mean ± sd over seeds")[1].split("##")[0]
    assert "| human aggre | 0.700 ± 0.000 | 0.700 ± 0.000 |" in auroc
    # results of drawn noise written before the column existed read as before
    old = results.drop(columns="human_labels").assign(noise="uniform", noise_rate=0.4)
    assert summary_table(old)["setting"].tolist() == ["uniform 40%"] * 2


def test_ray_workers_get_an_absolute_label_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = DataConfig(dataset="cifar10", noise="human", noise_file="labels/l.pt")
    config = RayBackend()._worker_config(RunConfig(data=data))
    assert config.data.noise_file == str(tmp_path / "labels" / "l.pt")
    assert config.data.data_root == str(tmp_path / "data")


def test_the_experiments_figures_keep_label_sets_apart() -> None:
    from app.figures.sweep import imbalance_figure, noise_types

    rows = [
        (m, labels, seed, 70.0 + seed)
        for labels in ("aggre", "worse")
        for seed in (0, 1)
        for m in ("mwnet", "gdw")
    ]
    flat = results_of(rows)
    tail = flat.assign(imbalance=0.1, final_acc=flat["final_acc"] - 10)
    table = summary_table(pd.concat([flat, tail], ignore_index=True))
    assert noise_types(table) == []  # no rate to plot against
    figure = imbalance_figure(table)
    names = {trace.name for trace in figure.data}
    assert names == {f"{m} · human {s}" for m in ("MW-Net", "GDW") for s in ("aggre", "worse")}
