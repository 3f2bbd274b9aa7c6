"""The data preview page: its figures as pure functions, and the page through AppTest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_cifar
from streamlit.testing.v1 import AppTest

from app.figures.data import (
    class_counts_figure,
    confusions_figure,
    examples_figure,
    transition_figure,
)
from app.figures.plot_style import NOISY as NOISY_COLOR
from gdw import DataConfig, describe, load_dataset

TIMEOUT = 60  # the first run imports torch, scikit-learn and plotly on a 2-core machine


@pytest.fixture(scope="module")
def summary() -> dict:
    config = DataConfig(noise="flip", noise_rate=0.3, imbalance=0.5, num_meta=20)
    return describe(load_dataset(config))


def test_class_counts_figure(summary: dict) -> None:
    fig = class_counts_figure(summary)
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "class"
    assert fig.layout.yaxis.title.text == "training examples"
    true, given = fig.data
    assert list(true.x) == summary["classes"] and list(true.y) == summary["train_counts"]
    assert list(given.y) == summary["given_counts"]


def test_transition_figure(summary: dict) -> None:
    fig = transition_figure(summary)
    assert "given label" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "given label"
    assert fig.layout.yaxis.title.text == "true class"
    (heatmap,) = fig.data
    assert list(heatmap.y) == summary["classes"]
    np.testing.assert_array_equal(np.asarray(heatmap.z), summary["transition"])


def test_transition_figure_drops_cell_numbers_for_many_classes() -> None:
    classes = [f"c{i}" for i in range(100)]
    fig = transition_figure({"classes": classes, "transition": np.eye(100, dtype=int).tolist()})
    assert fig.data[0].texttemplate is None


def test_confusions_figure(summary: dict) -> None:
    fig = confusions_figure(summary)
    (bars,) = fig.data
    top = summary["confusions"][0]
    assert bars.y[0] == f"{top['true']} → {top['given']}" and bars.x[0] == top["count"]
    assert list(bars.x) == sorted(bars.x, reverse=True)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert confusions_figure({"confusions": []}) is None


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
def test_examples_figure(channels: int) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, channels, 8, 8), dtype=np.uint8)
    given, true = [0, 1, 2, 0, 1], [0, 1, 0, 0, 2]
    fig = examples_figure(images, given, true, ["cat", "dog", "fox"], columns=4)
    assert len(fig.data) == 5 and all(trace.type == "image" for trace in fig.data)
    assert fig.data[0].z.shape == (8, 8, 3)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0] == "given cat" and titles[2] == "given fox<br>true cat"
    colors = [a.font.color for a in fig.layout.annotations]
    assert [c == NOISY_COLOR for c in colors] == [False, False, True, False, True]
    assert fig.layout.title.text


def test_examples_figure_without_examples() -> None:
    fig = examples_figure(np.zeros((0, 1, 8, 8), np.uint8), [], [], ["a", "b"])
    assert fig.layout.title.text and not fig.data


def _data_page() -> None:
    """The "Data" page of the app's navigation, run on its own."""
    from app.pages import data

    data.render()


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_function(_data_page, default_timeout=TIMEOUT).run()


def test_page_renders_digits(app: AppTest) -> None:
    assert not app.exception and not app.error
    labels = [metric.label for metric in app.metric]
    assert labels == [
        "Training examples",
        "Meta examples (clean)",
        "Test examples",
        "Labels changed",
    ]
    assert app.metric[0].value == "1,337"
    assert len(app.get("plotly_chart")) == 4  # counts, transition, wrong labels, examples
    assert app.sidebar.selectbox(key="data_dataset").value == "digits"


@pytest.mark.parametrize(
    ("widget", "key", "value", "message"),
    [
        ("number_input", "data_imbalance", 0.0, "imbalance factor must be in (0, 1]"),
        ("slider", "data_noise_rate", 0.0, "needs a noise rate > 0"),
        ("number_input", "data_num_meta", 5000, "too few for 500 meta examples per class"),
        ("number_input", "data_train_subset", 99999, "--train-subset 99999 is more than"),
    ],
    ids=["imbalance-zero", "noise-rate-zero", "meta-too-large", "subset-too-large"],
)
def test_invalid_values_show_an_error_not_an_exception(
    app: AppTest, widget: str, key: str, value: object, message: str
) -> None:
    getattr(app.sidebar, widget)(key=key).set_value(value).run()
    assert not app.exception
    assert len(app.error) == 1 and message in app.error[0].value
    assert not app.get("plotly_chart")


def test_missing_files_name_the_folder(app: AppTest, tmp_path: Path) -> None:
    app.sidebar.selectbox(key="data_dataset").set_value("cifar10").run()
    app.sidebar.text_input(key="data_root").set_value(str(tmp_path)).run()
    assert not app.exception
    assert str(tmp_path / "cifar-10-batches-py") in app.error[0].value
    assert "tick Download in the app" in app.error[0].value


def test_image_folder_in_the_app(app: AppTest, image_folder) -> None:
    root = image_folder(train=4, test=1)
    app.sidebar.selectbox(key="data_dataset").set_value("imagefolder").run()
    app.sidebar.text_input(key="data_root").set_value(str(root))
    app.sidebar.number_input(key="data_num_meta").set_value(3).run()
    assert not app.exception and not app.error
    assert app.metric[0].value == "9" and app.metric[2].value == "3"


def test_human_labels_on_the_data_page(app: AppTest, cifar_n: Path) -> None:
    app.sidebar.selectbox(key="data_dataset").set_value("cifar10").run()
    app.sidebar.text_input(key="data_root").set_value(str(cifar_n))
    app.sidebar.number_input(key="data_num_meta").set_value(10).run()
    assert "human" in app.sidebar.selectbox(key="data_noise").options
    app.sidebar.selectbox(key="data_noise").set_value("human").run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    labels = app.sidebar.selectbox(key="data_human_labels_cifar10")
    assert labels.value == "worse" and "aggre" in labels.options
    assert app.sidebar.slider(key="data_noise_rate").disabled
    changed = float(app.metric[3].value.rstrip(" %"))
    assert 30 < changed < 50  # worse: 2 of every 5 labels
    assert any(chart.key == "data_confusions" for chart in app.get("plotly_chart"))
    labels.set_value("aggre").run()
    assert float(app.metric[3].value.rstrip(" %")) < 15
    app.sidebar.text_input(key="data_noise_file_cifar10").set_value(str(cifar_n / "x.pt")).run()
    assert "no human label file" in app.error[0].value and not app.exception


def test_human_noise_is_offered_only_where_there_are_human_labels(app: AppTest) -> None:
    assert "human" not in app.sidebar.selectbox(key="data_noise").options  # digits


def test_a_data_notice_is_shown(app: AppTest, tmp_path: Path) -> None:
    write_cifar(tmp_path, 10, 12, 3)  # checksums differ from torchvision's
    app.sidebar.selectbox(key="data_dataset").set_value("cifar10").run()
    app.sidebar.text_input(key="data_root").set_value(str(tmp_path))
    app.sidebar.number_input(key="data_num_meta").set_value(10).run()
    assert not app.exception and not app.error
    assert "differ from torchvision's checksums" in app.info[0].value
