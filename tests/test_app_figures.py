"""The dashboard's pure parts (weights, run tables, the classroom text and the figures of a run
and of an example) over synthetic run folders.

The run folders are written with the library's own RunWriter and made-up numbers in which
noisy examples get low given-class weights, so rankings and plots have something to show.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import epoch_arrays, extra_array_specs

from app.analysis.classroom import explain_example
from app.analysis.run_progress import format_seconds, progress_of
from app.analysis.run_tables import comparable_runs, runs_table
from app.analysis.story_table import story_table
from app.analysis.weights import (
    class_weight_table,
    example_weights_csv,
    has_noise,
    heatmap_sample,
    precision_at_k,
    rows_weights_csv,
    signal_names,
    weights_below_chance,
)
from app.figures import plot_style
from app.figures.accuracy import accuracy_figure
from app.figures.distributions import weight_histograms_figure, weight_means_figure
from app.figures.example import example_bars_figure, example_timeline_figure, to_display_image
from app.figures.heatmap import heatmap_figure
from app.figures.imbalance import imbalance_figure
from app.figures.noise import noise_auroc_figure, precision_figure
from app.figures.story import lean_figure, story_figure
from gdw.config import DataConfig, RunConfig
from gdw.runs.label_issues import find_label_issues
from gdw.runs.reader import load_run
from gdw.runs.writer import RunWriter


def make_run(
    runs_dir: Path,
    run_id: str,
    *,
    method: str = "gdw",
    n: int = 300,
    n_classes: int = 10,
    epochs: int = 3,
    noise_rate: float = 0.4,
    imbalance: float = 1.0,
    state: str = "completed",
    error: str | None = None,
    seed: int = 0,
    warmup: int = 0,
) -> Path:
    """A finished (or failed) run folder with synthetic weights; returns its path."""
    rng = np.random.default_rng(seed)
    data = DataConfig(
        noise="uniform" if noise_rate else "none",
        noise_rate=noise_rate,
        imbalance=imbalance,
        seed=seed,
    )
    config = RunConfig(data=data, method=method, epochs=epochs)
    classes = [str(j) if n_classes == 10 else f"c{j}" for j in range(n_classes)]
    true = rng.integers(0, n_classes, size=n)
    flip = rng.random(n) < noise_rate
    given = np.where(flip, rng.integers(0, n_classes, size=n), true)
    noisy = given != true
    writer = RunWriter(
        runs_dir,
        run_id,
        config={
            "config": config.to_dict(),
            "resolved": {"epochs": epochs, "warmup_epochs": warmup, "device": "cpu"},
            "classes": classes,
            "recording": {"recorded": n, "total": n, "subset": False},
            "versions": {"torch": "test"},
            "created_at": "2025-01-01T00:00:00+00:00",
        },
        instances={
            "index": np.arange(n),
            "given_label": given,
            "true_label": true,
            "is_noisy": noisy,
        },
        n_epochs=epochs,
        n_classes=n_classes,
        arrays=extra_array_specs(n),
    )
    done = epochs if state == "completed" else max(0, epochs - 1)
    for epoch in range(1, done + 1):
        if method == "erm":
            weights = np.ones((n, n_classes))
        else:
            base = 0.5 + 0.1 * rng.random((n, n_classes))
            base[np.arange(n), given] = np.where(noisy, 0.5 - 0.1 * epoch, 0.5 + 0.1 * epoch)
            if method == "mwnet":
                base = np.repeat(base[np.arange(n), given][:, None], n_classes, axis=1)
            weights = base
        acc = 0.3 + 0.2 * epoch / epochs
        writer.append_epoch(
            {
                "epoch": epoch,
                "test_acc": acc,
                "meta_acc": acc + 0.05,
                "train_acc_true": acc,
                "train_acc_given": acc - 0.1,
                "loss": 1.0 / epoch,
                "lr": 0.1,
                "seconds": 1.5,
                "w_target_clean": 0.6,
                "w_target_noisy": 0.4 if noise_rate else np.nan,
                "w_other_clean": 0.55,
                "w_other_noisy": 0.55 if noise_rate else np.nan,
                "noise_auroc": 0.6 + 0.1 * epoch if noise_rate else np.nan,
            },
            weights,
            epoch_arrays(weights, given=given),
        )
    writer.finish(
        state, error=error, summary={"final_test_acc": 0.5} if state == "completed" else None
    )
    return writer.path


@pytest.fixture
def gdw_run(tmp_path: Path):
    return load_run(make_run(tmp_path, "r-gdw"))


def test_signal_names_follow_the_paper() -> None:
    assert signal_names(["cat", "dog", "bird"], 1) == ["not cat", "dog", "not bird"]


def test_precision_at_k_finds_the_synthetic_noise(gdw_run) -> None:
    table = precision_at_k(gdw_run, 3, [1, 10, 50, 10_000])
    assert list(table["k"]) == [1, 10, 50]  # k beyond the recorded rows is dropped
    assert (table["precision"] == 1.0).all()  # noisy rows have the lowest given weights
    assert 0.2 < table["chance"].iloc[0] < 0.5


def test_the_gallery_list_starts_with_the_lowest_given_weights(gdw_run) -> None:
    table = find_label_issues(gdw_run, until=2).table.head(12)
    assert len(table) == 12
    assert table["label_score"].is_monotonic_increasing
    noisy = gdw_run.instances.set_index("index")["is_noisy"]
    assert noisy[table["index"]].all()
    assert set(table["given_class"]) <= set(gdw_run.classes)


def test_no_injected_noise_gives_no_scores_but_still_a_ranking(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path, "clean", noise_rate=0.0))
    assert not has_noise(run)
    assert precision_at_k(run, 1, [5]).empty
    issues = find_label_issues(run, last_epochs=1)
    assert len(issues.table) == len(run.instances) and issues.summary["noise"] is None
    assert "n/a" in noise_auroc_figure(run).layout.title.text


def test_class_weight_table_orders_head_to_tail(tmp_path: Path) -> None:
    run = load_run(make_run(tmp_path, "lt", n=500, imbalance=0.1))
    table = class_weight_table(run, 1)
    assert table["size"].is_monotonic_decreasing
    assert table["size"].sum() == 500
    assert ((table["target"] > 0) & (table["not_class"] > 0)).all()


@pytest.mark.parametrize("method", ["gdw", "mwnet", "erm"])
def test_explanation_names_the_signals(tmp_path: Path, method: str) -> None:
    weights = np.array([0.8, 0.3, 0.6])
    text = explain_example(
        classes=["cat", "dog", "bird"], given=1, true=0, weights=weights, method=method, epoch=4
    )
    assert "labelled **dog**" in text and "**cat**" in text
    if method == "gdw":
        assert "0.30" in text and "not" in text


def test_progress_eta_uses_epoch_durations() -> None:
    status = {
        "state": "running",
        "epoch": 2,
        "epochs": 10,
        "step": 5,
        "steps": 10,
        "started_at": 100.0,
    }
    metrics = pd.DataFrame({"epoch": [1, 2], "seconds": [3.0, 3.0]})
    progress = progress_of(status, metrics, now=107.0)
    assert progress["fraction"] == pytest.approx(0.25)
    assert progress["elapsed"] == pytest.approx(7.0)
    assert progress["eta"] == pytest.approx(7.5 * 3.0)
    assert format_seconds(3725) == "1:02:05" and format_seconds(None) == "–"


def test_runs_table_and_comparable_runs(tmp_path: Path) -> None:
    runs = [load_run(make_run(tmp_path, f"r-{m}", method=m)) for m in ("gdw", "mwnet", "erm")]
    other = load_run(make_run(tmp_path, "other", seed=3))
    table = runs_table([*runs, other])
    assert list(table["method"]) == ["GDW", "MW-Net", "ERM", "GDW"]
    assert set(table["state"]) == {"completed"}
    assert [r.run_id for r in comparable_runs(runs[1], [*runs, other])] == [
        "r-mwnet",
        "r-gdw",
        "r-erm",
    ]


def test_csv_downloads(gdw_run) -> None:
    one = pd.read_csv(pd.io.common.BytesIO(example_weights_csv(gdw_run, 7)))
    assert len(one) == 3 and "epoch" in one
    given = gdw_run.classes[int(gdw_run.instances["given_label"][7])]
    assert given in one.columns and any(c.startswith("not ") for c in one.columns)
    rows = pd.read_csv(pd.io.common.BytesIO(rows_weights_csv(gdw_run, [1, 2, 3], 2)))
    assert len(rows) == 3 and "w[0]" in rows and "given_class" in rows


def _check(fig: go.Figure) -> None:
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_every_figure_is_titled_and_labelled(tmp_path: Path) -> None:
    runs = [load_run(make_run(tmp_path, f"r-{m}", method=m)) for m in ("gdw", "mwnet", "erm")]
    run = runs[0]
    row, given = 5, int(run.instances["given_label"][5])
    built = [
        accuracy_figure(runs),
        accuracy_figure([run], columns=["test_acc"]),
        example_bars_figure(run.classes, given, run.weights(2)[row], epoch=2, method="gdw"),
        example_timeline_figure(run.classes, given, run.weights_of([row])[:, 0], epoch=2),
        weight_histograms_figure(run, 3),
        weight_means_figure(run.metrics),
        heatmap_figure(run, 3, heatmap_sample(run, max_rows=50)),
        imbalance_figure(run, 3),
        noise_auroc_figure(run),
        precision_figure(precision_at_k(run, 3, [5, 10]), epoch=3),
    ]
    for fig in built:
        _check(fig)
    assert len(built[0].data) == 3 * 4  # three runs, four accuracy measures each
    bars = built[2].data[0]
    assert bars.x[given] == run.classes[given] and all(
        name.startswith("not ") for j, name in enumerate(bars.x) if j != given
    )


def test_heatmap_sample_is_grouped_by_given_class_then_noise(gdw_run) -> None:
    rows = heatmap_sample(gdw_run, max_rows=80)
    assert len(rows) == 80 and len(set(rows)) == 80
    keys = gdw_run.instances.iloc[rows][["given_label", "is_noisy"]].to_numpy().tolist()
    assert keys == sorted(keys)


def test_display_image_is_scaled_up_crisply() -> None:
    grey = np.arange(64, dtype=np.uint8).reshape(1, 8, 8)
    shown = to_display_image(grey, size=160)
    assert shown.shape == (160, 160) and shown[0, 19] == 0 and shown[0, 20] == 1
    colour = to_display_image(np.zeros((3, 32, 32), dtype=np.uint8), size=128)
    assert colour.shape == (128, 128, 3)


def test_views_of_a_large_run_build_small_figures(tmp_path: Path) -> None:
    """50,000 examples x 100 classes: every view builds, and what it sends stays small."""
    run = load_run(make_run(tmp_path, "big", n=50_000, n_classes=100, epochs=2, seed=1))
    for name, build in {
        "histograms": lambda: weight_histograms_figure(run, 2),
        "heatmap": lambda: heatmap_figure(run, 2, heatmap_sample(run)),
        "imbalance": lambda: imbalance_figure(run, 2),
        "timeline": lambda: example_timeline_figure(run.classes, 0, run.weights_of([123])[:, 0]),
    }.items():
        assert len(build().to_json()) < 2_000_000, name  # small enough to send every refresh
    assert len(find_label_issues(run, top=12).table) == 12
    assert len(precision_at_k(run, 2, [10, 100, 1000])) == 3


def test_long_curves_are_thinned_for_the_browser(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(plot_style, "MAX_CURVE_POINTS", 10)
    run = load_run(make_run(tmp_path, "long", n=20, epochs=40))
    fig = accuracy_figure([run], columns=["test_acc"])
    xs = list(fig.data[0].x)
    assert len(xs) <= 10 and xs[0] == 1 and xs[-1] == 40
    timeline = example_timeline_figure(run.classes, 0, run.weights_of([3])[:, 0])
    assert all(len(trace.x) <= 10 and trace.x[-1] == 40 for trace in timeline.data)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (
            [0.8, 0.3, 0.8],
            "keeps the 'not bird' signal at **0.80** while cutting 'dog' to **0.30**",
        ),
        ([1e-6, 1e-6, 2e-4], "all but switched this example off"),
        ([0.3, 0.9, 0.5], "more than any 'not …' signal"),
    ],
    ids=["cut", "switched-off", "trusted"],
)
def test_explanation_matches_the_weights(weights: list[float], expected: str) -> None:
    text = explain_example(
        classes=["cat", "dog", "bird"],
        given=1,
        true=0,
        weights=np.array(weights),
        method="gdw",
        epoch=2,
    )
    assert expected in text


@pytest.mark.parametrize(
    ("aurocs", "expected"),
    [
        ([0.9, 0.4, 0.3, 0.2], True),
        ([0.4, 0.3, 0.6], False),
        ([0.3, 0.2], False),
        ([0.2, float("nan"), 0.1], False),
        ([0.5, 0.4, 0.3], False),
    ],
    ids=["last-three-below", "recovered", "too-few-epochs", "missing-value", "at-chance"],
)
def test_weights_below_chance_needs_the_last_epochs_all_below_one_half(aurocs, expected):
    assert weights_below_chance(aurocs, epochs=3) is expected


def test_the_warm_up_is_shaded_and_named_on_the_epoch_charts(tmp_path: Path) -> None:
    warm = load_run(make_run(tmp_path, "warm", epochs=5, warmup=2))
    plain = load_run(make_run(tmp_path, "plain", method="erm", epochs=5))
    table = story_table(warm)
    lean = warm.leans()
    for fig in (
        accuracy_figure([warm, plain]),
        story_figure([("GDW", "class", table)], warmup=warm.warmup_epochs),
        lean_figure([("GDW", "gdw", lean)], warmup=warm.warmup_epochs),
    ):
        shaded = [s for s in fig.layout.shapes if s.type == "rect" and s.xref == "x"]
        assert [(s.x0, s.x1) for s in shaded] == [(0.5, 2.5)]
        texts = [a.text for a in fig.layout.annotations]
        assert "warm-up: plain training; weighting from epoch 3" in texts
    for fig in (
        accuracy_figure([plain]),
        story_figure([("GDW", "class", table)]),
    ):
        assert not [s for s in fig.layout.shapes if s.type == "rect" and s.xref == "x"]
