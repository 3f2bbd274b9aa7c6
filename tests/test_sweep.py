"""`python -m gdw sweep`: the files it writes, resuming, stopping, bad flags; the statistics."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import gdw.sweeps.running
import gdw.training.trainer
from gdw import load_run
from gdw.cli import build_parser, main, sweep_spec_from_args
from gdw.config import ConfigError, RunConfig
from gdw.runs.files import RunPathError
from gdw.sweeps.presets import PRESETS, Setting, grid_settings
from gdw.sweeps.results import RESULT_COLUMNS, load_sweep
from gdw.sweeps.running import SweepSink, run_sweep
from gdw.sweeps.spec import SweepSpec
from gdw.sweeps.stats import WITHIN_NOISE, paired_differences, summary_table

TINY = [
    "--methods",
    "mwnet,gdw",
    "--noise",
    "flip",
    "--noise-rates",
    "0.2,0.4",
    "--seeds",
    "2",
    "--epochs",
    "2",
    "--train-subset",
    "200",
]
NAMES = {f"{m}-flip-{r}-imb1-seed{s}" for m in ("mwnet", "gdw") for r in (0.2, 0.4) for s in (0, 1)}


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> Path:
    """2 methods x 2 settings x 2 seeds, 2 epochs: made once, copied by tests that change it."""
    out = tmp_path_factory.mktemp("sweep") / "tiny"
    assert main(["sweep", *TINY, "--out", str(out)]) == 0
    return out


def copy_of(tiny_sweep: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_sweep, tmp_path / "tiny"))


def count_runs(monkeypatch) -> list[str]:
    started: list[str] = []
    real = gdw.training.trainer.run

    def counting(config, **kwargs):
        started.append(config.name)
        return real(config, **kwargs)

    monkeypatch.setattr(gdw.training.trainer, "run", counting)
    return started


def test_results_csv_has_one_consistent_row_per_run(tiny_sweep):
    results = pd.read_csv(tiny_sweep / "results.csv")
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert set(results["run"]) == NAMES and len(results) == 8
    for row in results.itertuples():
        run = load_run(tiny_sweep / "runs" / row.run)
        assert run.state == "completed"
        assert run.config["config"]["method"] == row.method
        assert run.config["config"]["data"]["seed"] == row.seed
        assert run.config["config"]["data"]["noise_rate"] == row.noise_rate
        last5 = 100 * run.metrics["test_acc"].tail(5).mean()
        assert row.final_acc == pytest.approx(last5, abs=1e-3)
        assert row.best_acc == pytest.approx(100 * run.metrics["test_acc"].max(), abs=1e-3)
        assert 0 <= row.noise_auroc <= 1 and row.seconds > 0
    assert set(results["dataset"]) == {"digits"} and set(results["noise"]) == {"flip"}


def test_summary_md_has_the_table_and_the_paired_comparison(tiny_sweep):
    text = (tiny_sweep / "summary.md").read_text()
    assert "8 of 8 runs finished." in text
    table = summary_table(pd.read_csv(tiny_sweep / "results.csv"))
    for row in table.itertuples():
        assert f"{row.mean:.1f} ± {row.std:.1f}" in text
    assert "| setting | MW-Net | GDW |" in text
    assert "## GDW minus MW-Net, paired by seed" in text and "ERM" not in text.split("##")[1]
    paired = paired_differences(pd.read_csv(tiny_sweep / "results.csv"))
    for row in paired.itertuples():
        assert f"| {row.setting} | 2 | {row.mean_diff:+.1f} |" in text
        assert row.verdict in text
    assert "python -m gdw sweep" in text


def test_load_sweep_reads_the_folder(tiny_sweep):
    sweep = load_sweep(tiny_sweep)
    assert sweep.planned == 8 and len(sweep.results) == 8
    assert sweep.spec.methods == ("mwnet", "gdw") and sweep.spec.seeds == (0, 1)
    assert list(sweep.table()["setting"].unique()) == ["flip 20%", "flip 40%"]
    assert len(sweep.paired("gdw", "mwnet")) == 2
    with pytest.raises(RunPathError, match="not a sweep folder"):
        load_sweep(tiny_sweep / "runs")


def test_rerun_skips_finished_runs(tiny_sweep, tmp_path, monkeypatch, capsys):
    out = copy_of(tiny_sweep, tmp_path)
    before = (out / "results.csv").read_text()
    started = count_runs(monkeypatch)
    assert main(["sweep", *TINY, "--out", str(out)]) == 0
    assert started == [] and (out / "results.csv").read_text() == before
    assert capsys.readouterr().out.strip() == str(out)


def test_resume_continues_stopped_runs_and_redoes_the_others(tiny_sweep, tmp_path, monkeypatch):
    out = copy_of(tiny_sweep, tmp_path)
    stopped = out / "runs" / "gdw-flip-0.4-imb1-seed1"
    status = json.loads((stopped / "status.json").read_text())
    (stopped / "status.json").write_text(json.dumps({**status, "state": "stopped"}))
    (stopped.parent / "mwnet-flip-0.2-imb1-seed1" / "summary.json").unlink()  # half-written
    started = count_runs(monkeypatch)
    assert main(["sweep", *TINY, "--out", str(out)]) == 0
    assert started == ["mwnet-flip-0.2-imb1-seed1"]  # the stopped run went on from its checkpoint
    assert [p.name for p in (out / "unfinished").iterdir()] == started
    results = pd.read_csv(out / "results.csv")
    assert set(results["run"]) == NAMES and len(results) == 8
    assert load_run(stopped).state == "completed"


def test_a_stopped_sweep_keeps_whole_files_and_resumes(tmp_path):
    args = build_parser().parse_args(["sweep", *TINY])
    spec, _ = sweep_spec_from_args(args)
    stop = threading.Event()

    class StopInSecondRun(SweepSink):
        def on_run_start(self, number, planned, name):
            self.number = number

        def on_epoch(self, metrics, weights):
            if self.number == 2:
                stop.set()

    outcome = run_sweep(spec, tmp_path, stop_event=stop, sinks=[StopInSecondRun()])
    assert outcome.stopped and outcome.finished == 1 and outcome.ran == 2
    assert len(pd.read_csv(tmp_path / "results.csv")) == 1
    assert "1 of 8 runs finished (partial)." in (tmp_path / "summary.md").read_text()
    outcome = run_sweep(spec, tmp_path)
    assert not outcome.stopped and outcome.finished == 8 and outcome.ran == 7
    assert outcome.moved_aside == () and len(outcome.resumed) == 1


def test_a_run_stopped_before_its_first_checkpoint_starts_over_in_place(tmp_path):
    spec, _ = sweep_spec_from_args(build_parser().parse_args(["sweep", *TINY]))
    stop = threading.Event()

    class StopAtFirstRun(SweepSink):
        def on_run_start(self, number, planned, name):
            stop.set()  # the run stops at its first step: no epoch, no checkpoint

    outcome = run_sweep(spec, tmp_path, stop_event=stop, sinks=[StopAtFirstRun()])
    first = tmp_path / "runs" / "mwnet-flip-0.2-imb1-seed0"
    stopped = load_run(first)
    assert outcome.stopped and (stopped.state, stopped.epochs_done) == ("stopped", 0)
    outcome = run_sweep(spec, tmp_path)
    assert outcome.finished == 8 and outcome.resumed == (first.name,) and outcome.moved_aside == ()
    assert not (tmp_path / "unfinished").exists() and load_run(first).state == "completed"


def test_ctrl_c_exits_130_and_keeps_finished_runs(tmp_path, monkeypatch, capsys):
    from gdw.cli import SweepProgressBar

    epochs = []

    def interrupt_in_second_run(self, metrics, weights):
        epochs.append(metrics["epoch"])
        if len(epochs) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(SweepProgressBar, "on_epoch", interrupt_in_second_run)
    assert main(["sweep", *TINY, "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("gdw: error: stopped;") and "rerun the same command" in err
    assert len(pd.read_csv(tmp_path / "results.csv")) == 1
    second = load_run(tmp_path / "runs" / "gdw-flip-0.2-imb1-seed0")
    assert second.state == "stopped"


def test_a_failed_run_is_reported_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    real = gdw.training.trainer.run

    def failing(config, **kwargs):
        if config.name == "gdw-flip-0.2-imb1-seed0":
            raise RuntimeError("boom")
        return real(config, **kwargs)

    monkeypatch.setattr(gdw.training.trainer, "run", failing)
    assert main(["sweep", *TINY, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("gdw: error: 1 of 8 runs failed") and "boom" in err
    monkeypatch.setattr(gdw.training.trainer, "run", real)
    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 8 and (results["state"] == "completed").sum() == 7
    failed = results[results["state"] == "failed"].iloc[0]
    assert failed["run"] == "gdw-flip-0.2-imb1-seed0" and failed["error"] == "RuntimeError: boom"
    assert np.isnan(failed["final_acc"]) and failed["seed"] == 0 and failed["noise_rate"] == 0.2
    assert "gdw-flip-0.2-imb1-seed0`: RuntimeError: boom" in (tmp_path / "summary.md").read_text()
    assert "7 of 8 runs finished (partial)." in (tmp_path / "summary.md").read_text()
    sweep = load_sweep(tmp_path)
    assert len(sweep.results) == 7 and sweep.failed == {failed["run"]: "RuntimeError: boom"}
    assert main(["sweep", *TINY, "--out", str(tmp_path)]) == 0  # a rerun retries the failed run
    assert (pd.read_csv(tmp_path / "results.csv")["state"] == "completed").all()


BAD_FLAGS = {
    "unknown method": (["--methods", "erm,l2rw"], "method 'l2rw' is not one of"),
    "method twice": (["--methods", "gdw,gdw"], "name a method twice"),
    "rates without noise": (["--noise-rates", "0.2"], "need a noise type"),
    "noise without rates": (["--noise", "flip"], "--noise flip needs --noise-rates"),
    "rate not a number": (["--noise", "flip", "--noise-rates", "0.2,x"], "'x' is not a number"),
    "rate above 1": (["--noise", "flip", "--noise-rates", "1.5"], "noise rate must be in"),
    "imbalance zero": (["--imbalances", "1,0"], "imbalance factor must be in"),
    "setting twice": (["--imbalances", "0.1,0.1"], "given twice"),
    "rate and rates": (
        ["--noise", "flip", "--noise-rate", "0.2", "--noise-rates", "0.4"],
        "not both",
    ),
    "zero seeds": (["--seeds", "0"], "--seeds must be"),
    "zero epochs": (["--epochs", "0"], "epochs must be"),
    "unknown preset": (["--preset", "imagenet"], "preset 'imagenet' is not one of"),
    "preset with a grid flag": (
        ["--preset", "digits", "--noise-rates", "0.2"],
        "drop --noise-rates",
    ),
    "unknown dataset": (["--dataset", "svhn"], "dataset 'svhn'"),
    "zero threads": (["--threads", "0"], "--threads must be"),
}


@pytest.mark.parametrize("flags, message", BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, flags, message):
    out = tmp_path / "sweep"
    assert main(["sweep", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("gdw: error: ") and message in err
    assert not out.exists()


def test_a_different_grid_in_the_same_folder_is_refused(tiny_sweep, tmp_path, capsys):
    out = copy_of(tiny_sweep, tmp_path)
    assert main(["sweep", *TINY, "--epochs", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "epochs (3 here, 2 there)" in err
    assert "run: python -m gdw sweep" in err and "--epochs 2" in err


def test_a_folder_that_is_not_a_sweep_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sweep", *TINY, "--out", str(tmp_path)]) == 2
    assert "holds no sweep.json" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".lock") == ["notes.txt"]


def test_presets_build_valid_grids():
    args = build_parser().parse_args(["sweep", "--preset", "digits"])
    spec, out = sweep_spec_from_args(args)
    assert out == Path("sweeps/digits") and spec.base.resolved_epochs == 30
    assert spec.base.lr == 0.03
    assert spec.methods == ("erm", "mwnet", "mwnet-step", "gdw")
    assert len(spec.settings) == 9 and spec.seeds == (0, 1, 2, 3, 4) and len(spec.runs()) == 180
    labels = [s.label for s in spec.settings]
    assert labels[:3] == ["clean", "uniform 20%", "uniform 40%"]
    assert "uniform 40% + imbalance 0.1" in labels
    names = [config.name for config in spec.runs()]
    assert len(set(names)) == 180 and "mwnet-step-uniform-0.4-imb1-seed0" in names
    args = build_parser().parse_args(["sweep", "--preset", "cifar10-small", "--seeds", "1"])
    spec, _ = sweep_spec_from_args(args)
    assert spec.base.model == "resnet8" and spec.base.data.train_subset == 5_000
    assert len(spec.runs()) == 20 and PRESETS["cifar10-small"].runs == 60


def test_mnist_preset_grid():
    preset = PRESETS["mnist"]
    assert preset.dataset == "mnist" and preset.model == "lenet" and preset.seeds == 3
    assert preset.methods == ("erm", "mwnet", "mwnet-step", "gdw")
    assert [s.label for s in preset.settings] == [
        "clean",
        "uniform 40%",
        "uniform 60%",
        "flip 40%",
        "imbalance 0.02",
    ]
    assert preset.runs == 60 and preset.train_subset == 12_000 and preset.epochs == 10
    args = build_parser().parse_args(["sweep", "--preset", "mnist", "--data-root", "mnist"])
    spec, _ = sweep_spec_from_args(args)
    assert spec.base.lr == 0.045  # tuned for the default weighting net, not the paper's 0.1


def test_grid_settings_cross_rates_with_imbalances():
    settings = grid_settings(noise="uniform", noise_rates=[0, 0.4], imbalances=[1, 0.1])
    assert [s.key for s in settings] == [
        "none-0-imb1",
        "uniform-0.4-imb1",
        "none-0-imb0.1",
        "uniform-0.4-imb0.1",
    ]
    assert Setting("flip", 0.0) == Setting()  # a zero rate is clean, whatever the type
    with pytest.raises(ConfigError, match="noise 'gauss' is not one of"):
        grid_settings(noise="gauss", noise_rates=[0.2], imbalances=[1])


def test_spec_round_trips_and_names_its_differences():
    spec = SweepSpec(base=RunConfig(epochs=3), methods=("erm",), settings=(Setting(),), seeds=(0,))
    assert SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    other = SweepSpec(
        base=RunConfig(epochs=3, device="cpu"),
        methods=("erm", "gdw"),
        settings=(Setting(),),
        seeds=(0,),
    )
    assert other.differences(spec) == ["methods (['erm', 'gdw'] here, ['erm'] there)"]


def fake(diffs_by_setting: dict[float, list[float]]) -> pd.DataFrame:
    rows = []
    for rate, diffs in diffs_by_setting.items():
        for seed, diff in enumerate(diffs):
            base = 80.0 + 3 * seed
            for method, acc in (("mwnet", base), ("gdw", base + diff)):
                rows.append(
                    {
                        "method": method,
                        "noise": "uniform",
                        "noise_rate": rate,
                        "imbalance": 1.0,
                        "seed": seed,
                        "final_acc": acc,
                        "best_acc": acc,
                        "noise_auroc": 0.5,
                        "seconds": 1.0,
                    }
                )
    return pd.DataFrame(rows)


def test_paired_differences_match_a_paired_t_test():
    results = fake(
        {
            0.2: [1.0, 1.5, 0.8, 1.2, 1.1],
            0.4: [2.0, -1.0, 0.5, -0.5, 1.0],
            0.6: [-1.0, -1.2, -0.9, -1.1, -1.3],
        }
    )
    paired = paired_differences(results).set_index("noise_rate")
    gdw = results[results.method == "gdw"].sort_values(["noise_rate", "seed"])
    mwnet = results[results.method == "mwnet"].sort_values(["noise_rate", "seed"])
    for rate in (0.2, 0.4, 0.6):
        a = gdw[gdw.noise_rate == rate]["final_acc"].to_numpy()
        b = mwnet[mwnet.noise_rate == rate]["final_acc"].to_numpy()
        row = paired.loc[rate]
        assert row.mean_diff == pytest.approx(np.mean(a - b))
        assert row.std_diff == pytest.approx(np.std(a - b, ddof=1))
        assert row.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
        low, high = stats.t.interval(0.95, 4, loc=np.mean(a - b), scale=stats.sem(a - b))
        assert (row.low, row.high) == pytest.approx((low, high))
    assert list(paired["verdict"]) == ["GDW ahead", WITHIN_NOISE, "GDW behind"]
    assert list(paired["setting"]) == ["uniform 20%", "uniform 40%", "uniform 60%"]


def test_paired_differences_need_two_seeds():
    paired = paired_differences(fake({0.2: [1.0]}))
    assert paired["verdict"].tolist() == ["too few seeds"] and np.isnan(paired["low"].iloc[0])


def test_paired_differences_pair_only_seeds_both_finished_and_skip_settings_one_lacks():
    results = fake({0.4: [1.0, 2.0, 4.0], 0.2: [1.0, 1.0]})
    unfinished = (results.noise_rate == 0.4) & (results.seed == 2) & (results.method == "gdw")
    results.loc[unfinished, "final_acc"] = np.nan  # a run without an accuracy: not paired
    lacking = (results.noise_rate == 0.2) & (results.method == "mwnet")
    paired = paired_differences(results[~lacking])
    assert paired["setting"].tolist() == ["uniform 40%"]
    assert paired["seeds"].tolist() == [2] and paired["mean_diff"].iloc[0] == pytest.approx(1.5)


def test_summary_table_orders_methods_and_keeps_setting_order():
    results = fake({0.4: [1.0, 2.0], 0.2: [0.0, 1.0]})
    table = summary_table(results)
    assert list(table["setting"]) == ["uniform 40%"] * 2 + ["uniform 20%"] * 2
    assert list(table["method"]) == ["mwnet", "gdw"] * 2
    assert table["seeds"].tolist() == [2, 2, 2, 2]
    assert table.loc[0, "std"] == pytest.approx(np.std([80.0, 83.0], ddof=1))
