"""The Experiments page: its tables and figures as pure functions, and the page via AppTest.

The page reads only ``sweep.json`` and ``results.csv``, so the sweep folders here are written
directly from a synthetic results table (the real writer is tested in test_sweep.py).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.figures.sweep import (
    accuracy_display,
    difference_figure,
    imbalance_figure,
    noise_figure,
    noise_types,
    paired_display,
)
from app.pages.experiments import find_sweeps
from gdw.config import RunConfig
from gdw.sweeps.presets import Setting
from gdw.sweeps.results import RESULT_COLUMNS
from gdw.sweeps.spec import SweepSpec, run_name
from gdw.sweeps.stats import paired_differences, summary_table

TIMEOUT = 60  # the first run imports torch and plotly on a busy 2-core machine
SETTINGS = (
    Setting(),
    Setting("uniform", 0.2),
    Setting("uniform", 0.4),
    Setting("flip", 0.4),
    Setting(imbalance=0.1),
    Setting(imbalance=0.01),
)
METHODS = ("erm", "mwnet", "gdw")
OFFSET = {"erm": 0.0, "mwnet": 2.0, "gdw": 3.0}


def fake_results(settings=SETTINGS, seeds=(0, 1, 2), methods=METHODS) -> pd.DataFrame:
    """Accuracy falls with noise and imbalance; GDW > MW-Net > ERM; seeds add shared noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in seeds:
        for setting in settings:
            shared = rng.normal(0, 1.0)
            base = 95 - 40 * setting.noise_rate - 5 * -np.log10(setting.imbalance)
            for method in methods:
                accuracy = base + OFFSET[method] + shared + rng.normal(0, 0.1)
                rows.append(
                    {
                        "method": method,
                        "dataset": "digits",
                        **setting.to_dict(),
                        "seed": seed,
                        "final_acc": accuracy,
                        "best_acc": accuracy + 1,
                        "noise_auroc": 0.8,
                        "seconds": 1.0,
                        "meta_acc": accuracy,
                        "run": run_name(method, setting, seed),
                    }
                )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def write_sweep(folder: Path, results: pd.DataFrame, *, seeds=(0, 1, 2)) -> Path:
    spec = SweepSpec(
        base=RunConfig(epochs=30), methods=METHODS, settings=SETTINGS, seeds=seeds, preset="digits"
    )
    folder.mkdir(parents=True)
    record = {"spec": spec.to_dict(), "command": "python -m gdw sweep --preset digits"}
    (folder / "sweep.json").write_text(json.dumps(record))
    results.to_csv(folder / "results.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return summary_table(fake_results())


def test_accuracy_display_has_a_row_per_setting_and_a_column_per_method(table):
    shown = accuracy_display(table)
    assert list(shown.index) == [s.label for s in SETTINGS]
    assert list(shown.columns) == ["ERM", "MW-Net", "GDW"]
    assert all(" ± " in cell for cell in shown.to_numpy().ravel())


def test_noise_figure_has_one_line_per_method_from_the_clean_point(table):
    assert noise_types(table) == ["uniform", "flip"]
    fig = noise_figure(table, noise="uniform")
    assert [trace.name for trace in fig.data] == ["ERM", "MW-Net", "GDW"]
    gdw = fig.data[2]
    assert list(gdw.x) == [0, 20, 40]  # the clean setting is rate 0
    assert gdw.error_y.visible and len(gdw.error_y.array) == 3
    expected = table[
        (table.method == "gdw") & (table.imbalance == 1.0) & table.noise.isin(["none", "uniform"])
    ]["mean"]
    np.testing.assert_allclose(gdw.y, expected)
    assert "uniform" in fig.layout.title.text and fig.layout.yaxis.title.text


def test_imbalance_figure_uses_a_reversed_log_axis(table):
    fig = imbalance_figure(table)
    assert fig is not None and len(fig.data) == 3
    assert list(fig.data[0].x) == [1.0, 0.1, 0.01]
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.autorange == "reversed"
    assert list(fig.layout.xaxis.ticktext) == ["1", "0.1", "0.01"]


def test_imbalance_figure_is_none_without_two_factors():
    results = fake_results(settings=(Setting(), Setting("uniform", 0.4)))
    assert imbalance_figure(summary_table(results)) is None


def test_difference_figure_colours_the_verdicts():
    paired = paired_differences(fake_results(), method="gdw", baseline="erm")
    fig = difference_figure(paired, method="gdw", baseline="erm")
    (points,) = fig.data
    assert list(points.x) == [s.label for s in SETTINGS]
    assert set(points.marker.color) == {"#2b8a3e"}  # GDW is 3 points ahead, seeds agree
    assert "GDW minus ERM" in fig.layout.title.text
    shown = paired_display(paired)
    assert shown["verdict"].eq("GDW ahead").all()
    assert shown["mean difference"].str.startswith("+").all()


def test_find_sweeps_looks_two_levels_deep(tmp_path):
    write_sweep(tmp_path / "a", fake_results())
    write_sweep(tmp_path / "group" / "b", fake_results())
    (tmp_path / "group" / "b" / "runs" / "x" / "y").mkdir(parents=True)
    assert {p.name for p in find_sweeps(tmp_path)} == {"a", "b"}
    assert find_sweeps(tmp_path / "missing") == []


def _page(root: str) -> None:
    from pathlib import Path

    from app.pages.experiments import render

    render(Path(root))


def test_page_shows_table_plots_and_comparisons(tmp_path):
    write_sweep(tmp_path / "digits", fake_results())
    at = AppTest.from_function(_page, args=(str(tmp_path),), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.selectbox(key="sweep_folder").value == tmp_path / "digits"
    assert len(at.get("plotly_chart")) == 3 + 3  # uniform, flip, imbalance; 3 comparisons
    assert len(at.dataframe) >= 2
    assert any("all 54 runs finished" in m.value for m in at.markdown)


def test_page_follows_an_unfinished_sweep(tmp_path):
    results = fake_results(seeds=(0,))
    write_sweep(tmp_path / "digits", results)
    at = AppTest.from_function(_page, args=(str(tmp_path),), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "18 of 54 runs finished" in at.get("progress")[0].proto.text


def test_page_without_sweeps_says_how_to_make_one(tmp_path):
    at = AppTest.from_function(_page, args=(str(tmp_path),), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "python -m gdw sweep --preset digits" in at.info[0].value


def test_page_shows_the_running_and_failed_runs_of_a_live_sweep(tmp_path):
    results = fake_results(seeds=(0,)).assign(state="completed")
    failed = {"method": "gdw", "dataset": "digits", **SETTINGS[1].to_dict(), "seed": 1}
    failed.update(run=run_name("gdw", SETTINGS[1], 1), state="failed", error="diverged")
    folder = write_sweep(tmp_path / "digits", pd.concat([results, pd.DataFrame([failed])]))
    for name, state in (("erm-none-0-imb1-seed1", "running"), ("erm-none-0-imb1-seed2", "stopped")):
        (folder / "runs" / name).mkdir(parents=True)
        alive = {"pid": os.getpid(), "host": socket.gethostname(), "updated_at": time.time()}
        status = {"state": state, **alive}  # this process: alive, so "running" is believed
        (folder / "runs" / name / "status.json").write_text(json.dumps(status))
    (folder / "runs" / "gdw-none-0-imb1-seed1").mkdir()  # no status.json yet: not counted
    at = AppTest.from_function(_page, args=(str(tmp_path),), default_timeout=TIMEOUT).run()
    assert not at.exception
    text = at.get("progress")[0].proto.text
    assert "18 of 54 runs finished, 1 running, 1 failed" in text
    assert any("1 failed runs" in e.label for e in at.expander)
