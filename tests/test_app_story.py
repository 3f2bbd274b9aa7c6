"""The story views: the chart of "dog", "not cat", "not bird" over epochs, the inspector's
telling examples and three-colour bars, the classes picker. Real tiny digits runs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import gdw  # noqa: F401  (imported here so that no AppTest run pays for importing torch)
from app.analysis.run_tables import opening_run
from app.analysis.story_table import has_story, story_table
from app.figures import plot_style
from app.figures.example import example_bars_figure
from app.figures.story import story_figure, story_fractions_figure
from app.run_view.tab_table import tab_title
from app.run_view.tabs.example_choice import telling_rows
from gdw import DataConfig, RunConfig, load_run, run

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
NOISY = DataConfig(noise="uniform", noise_rate=0.4, train_subset=300)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GDW run and its MW-Net twin on the same noisy digits (made once for this module)."""
    folder = tmp_path_factory.mktemp("runs")
    for method in ("gdw", "mwnet"):
        run(RunConfig(data=NOISY, method=method, epochs=3, name=method), runs_dir=folder)
    return folder


@pytest.fixture
def app(made: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("GDW_RUNS_DIR", str(made))
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["run_id"] = "gdw"
    return at


def _titles(at: AppTest) -> list[str]:
    return [
        json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")
    ]


def test_story_table_and_figures(made: Path) -> None:
    gdw_run, mwnet_run = load_run(made / "gdw"), load_run(made / "mwnet")
    table = story_table(gdw_run)
    assert len(table) == 3 and has_story(table)
    # the quartiles are those of the arrays; the fractions those of metrics.csv
    given = gdw_run.instances["given_label"].to_numpy()
    true = gdw_run.instances["true_label"].to_numpy()
    expected = gdw.signal_quartiles(
        gdw_run.weights(2), gdw_run.instance_weights(2), given, true, relative=True
    )
    assert table["relative:noisy:true:q50"].iloc[1] == pytest.approx(expected[("noisy", "true")][1])
    np.testing.assert_allclose(table["kept_fraction"], gdw_run.metrics["kept_fraction"])
    twin = story_table(mwnet_run)
    for mode in ("absolute", "relative"):
        fig = story_figure(
            [("GDW", "class", table), ("MW-Net", "instance", twin)], relative=mode == "relative"
        )
        names = [trace.name for trace in fig.data if trace.showlegend is not False]
        assert 'GDW: noisy "not cat"' in names and 'GDW: clean "not bird"' in names
        # MW-Net shows as the one line it is, per group
        assert [n for n in names if n.startswith("MW-Net")] == [
            "MW-Net: noisy: every signal (one weight)",
            "MW-Net: clean: every signal (one weight)",
        ]
        assert fig.layout.yaxis.type == "log"
    fractions = story_fractions_figure([("GDW", "gdw", table)], n_classes=10)
    assert {trace.name for trace in fractions.data} == {
        '"not bird" kept above "not cat"',
        "true class cut most",
    }


def test_bars_show_three_colours_and_the_instance_weight() -> None:
    weights = np.array([0.1, 0.2, 0.6])
    fig = example_bars_figure(
        ["cat", "dog", "bird"],
        1,
        weights,
        epoch=2,
        method="gdw",
        true=0,
        instance_weight=0.4,
        relative=True,
    )
    assert list(fig.data[0].marker.color) == [plot_style.NOISY, plot_style.GIVEN, plot_style.OTHER]
    np.testing.assert_allclose(fig.data[0].y, weights / 0.4)
    lines = [shape.y0 for shape in fig.layout.shapes]
    assert lines == [1.0]  # relative: the instance weight is 1, and ERM's line is gone
    assert any("instance weight of this example" in a.text for a in fig.layout.annotations)


def test_weights_tab_draws_the_story_first(app: AppTest) -> None:
    app.session_state["tab"] = tab_title("distributions")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    titles = _titles(app)
    assert titles[0] == "Noisy vs clean examples' signals, absolute"
    assert titles[1] == "Is the wrong signal singled out?"
    assert titles[2] == "Which way the weighting net leans"
    assert any("weighting net is **" in caption.value for caption in app.caption)
    app.segmented_control(key="story_scale").set_value("relative to the instance weight").run()
    assert not app.exception
    assert "relative to the instance weight" in _titles(app)[0]
    runs = app.multiselect(key="story_runs_gdw_2")  # the run and its one comparable twin
    runs.set_value(["gdw", "mwnet"]).run()
    assert not app.exception
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert any("MW-Net" in (trace.get("name") or "") for trace in spec["data"])


def test_inspector_opens_where_a_story_is_clearest_and_walks_the_telling_ones(
    app: AppTest, made: Path
) -> None:
    app.session_state["tab"] = tab_title("inspector")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    loaded = load_run(made / "gdw")
    instances = loaded.instances
    noisy = np.flatnonzero(instances["is_noisy"].to_numpy().astype(bool))
    row, epoch = gdw.story_moment(
        loaded.weights_of(noisy),
        instances["given_label"].to_numpy()[noisy],
        instances["true_label"].to_numpy()[noisy],
    )
    assert app.session_state["example_index"] == instances["index"].iloc[noisy[row]]
    assert app.slider(key="inspector_epoch_gdw").value == epoch
    assert any(f"Opened at epoch {epoch}" in caption.value for caption in app.caption)
    assert any("the weighting net is **" in text.value for text in app.markdown)
    sentence = next(info.value for info in app.info if "labelled" in info.value)
    assert "instance weight" in sentence and "the wrong 'not" in sentence
    order = instances["index"].to_numpy()[telling_rows(loaded, epoch)]
    app.button(key="next_telling").click().run()
    assert app.session_state["example_index"] == order[1]
    app.toggle(key="bars_relative").set_value(True).run()
    assert not app.exception
    assert any("÷ its instance weight" in title for title in _titles(app))


def test_classes_picker_explains_a_single_class(app: AppTest) -> None:
    app.run()
    picker = app.multiselect(key="data_classes_digits")
    assert picker.options == [str(c) for c in range(10)]
    picker.set_value(["3"]).run()
    assert any("at least two classes" in error.value for error in app.error)
    picker.set_value(["3", "5", "8"]).run()
    assert not any("at least two classes" in error.value for error in app.error)


def test_the_inspector_says_when_an_epoch_is_in_the_warm_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = RunConfig(data=NOISY, epochs=3, warmup_epochs=1, name="warm")
    run(config, runs_dir=tmp_path)
    monkeypatch.setenv("GDW_RUNS_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["run_id"] = "warm"
    at.session_state["tab"] = tab_title("inspector")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="inspector_epoch_warm").value > 1  # the story is after the warm-up
    assert not any("**warm-up**" in text.value for text in at.markdown)
    at.slider(key="inspector_epoch_warm").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(
        "Epoch 1 is in the **warm-up**" in text.value and "at epoch 2" in text.value
        for text in at.markdown
    )


def test_a_fresh_page_opens_a_comparisons_class_level_run(
    made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MW-Net trained after GDW on the same data and seed, as a comparison's baselines do: the
    page opens GDW's run, not the newest one."""
    monkeypatch.setenv("GDW_RUNS_DIR", str(made))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [run.run_id for run in gdw.list_runs(made)][0] == "mwnet"  # the newest
    assert at.session_state["run_id"] == "gdw"


def test_opening_run_prefers_class_level_weights_of_the_newest_runs_data() -> None:
    @dataclass
    class Listed:  # what opening_run reads of a run
        run_id: str
        method: str
        data: dict
        problems: dict = field(default_factory=dict)

    seed0, seed1 = {"dataset": "digits", "seed": 0}, {"dataset": "digits", "seed": 1}
    erm, gdw_run = Listed("erm", "erm", seed0), Listed("gdw", "gdw", seed0)
    assert opening_run([erm, Listed("mwnet", "mwnet", seed0), gdw_run]).run_id == "gdw"
    assert opening_run([Listed("new", "erm", seed1), erm, gdw_run]).run_id == "new"
    broken = Listed("broken", "gdw", seed0, problems={"config.json": "missing"})
    assert opening_run([broken, erm]).run_id == "erm"
    assert opening_run([]) is None


def test_the_label_noise_tab_opens_at_the_newest_epoch_not_the_inspectors(app: AppTest) -> None:
    app.session_state["tab"] = tab_title("inspector")
    app.run()
    story_epoch = app.slider(key="inspector_epoch_gdw").value
    assert story_epoch < 3  # the inspector opened on its story, before the last epoch
    app.session_state["tab"] = tab_title("noise")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.slider(key="epoch_gdw").value == 3
    app.session_state["tab"] = tab_title("inspector")
    app.run()  # back in the inspector: still at its story's epoch
    assert app.slider(key="inspector_epoch_gdw").value == story_epoch
