"""AppTest of the dashboard's pages: empty folder, finished and failed runs, start, stop, and
invalid input. Runs are real tiny digits runs (a few hundred examples, a few epochs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import gdw  # noqa: F401  (imported here so that no AppTest run pays for importing torch)
from app.run_view.tab_table import TABS, tab_title
from gdw import DataConfig, RunConfig, load_run, run, run_ids
from gdw.runs.writer import RunWriter

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TINY = {"data_train_subset": 300, "run_epochs": 2}


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("GDW_RUNS_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, completed tiny GDW run on noisy digits (made once for this module)."""
    folder = tmp_path_factory.mktemp("made")
    config = RunConfig(data=DataConfig(noise="uniform", noise_rate=0.4, train_subset=300), epochs=3)
    return run(config, runs_dir=folder)


def _copy_run(source: Path, runs_dir: Path, name: str) -> str:
    target = runs_dir / name
    target.mkdir(parents=True)
    for item in source.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return name


def _failed_run(runs_dir: Path, name: str = "failed-run") -> str:
    config = RunConfig(data=DataConfig(train_subset=300), epochs=4)
    writer = RunWriter(
        runs_dir,
        name,
        config={"config": config.to_dict(), "classes": list("0123456789")},
        instances={
            "index": np.arange(3),
            "given_label": np.zeros(3, int),
            "true_label": np.zeros(3, int),
            "is_noisy": np.zeros(3, bool),
        },
        n_epochs=4,
        n_classes=10,
    )
    writer.finish("failed", error="TrainingDiverged: the loss became NaN at epoch 1")
    return name


def _app(**state: object) -> AppTest:
    at = AppTest.from_file(APP)
    for key, value in state.items():
        at.session_state[key] = value
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _wait(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 60.0) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        _ok(at)
        if done(at):
            return at
        time.sleep(0.3)
    raise AssertionError("the app did not reach the expected state in time")


def _button(at: AppTest, key: str):
    return at.button(key=key)


def test_empty_runs_folder(runs_dir: Path) -> None:
    at = _app().run()
    _ok(at)
    assert any("No runs yet" in info.value for info in at.info)
    assert not _button(at, "start_one").disabled
    assert {box.label for box in at.sidebar.selectbox} >= {"Dataset", "Label noise", "Model"}
    device = at.selectbox(key="run_device")  # drawn last, into its place under Advanced
    assert device.options[0].startswith("auto (") and "cpu" in device.options


def test_the_app_shortens_the_gil_switch_interval_for_training_threads(runs_dir: Path) -> None:
    from app.server.process_tweaks import hand_over_the_gil_quickly

    hand_over_the_gil_quickly.clear()
    sys.setswitchinterval(0.005)
    _ok(_app().run())
    assert sys.getswitchinterval() == pytest.approx(0.0002)


def test_finished_and_failed_runs_render_every_tab(runs_dir: Path, finished_run: Path) -> None:
    done = _copy_run(finished_run, runs_dir, "done-run")
    failed = _failed_run(runs_dir)
    at = _app(run_id=failed).run()
    _ok(at)
    assert any("loss became NaN" in error.value for error in at.error)
    at.session_state["run_id"] = done
    for tab in TABS:
        at.session_state["tab"] = tab.title
        at.run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
    at.session_state["tab"] = tab_title("inspector")
    at.run()
    assert any("labelled" in info.value for info in at.info)  # the classroom sentence
    # the example's image and the explainer's diagram
    assert len(at.get("image")) == 2 and len(at.get("plotly_chart")) >= 2
    at.session_state["tab"] = tab_title("noise")
    at.run()
    assert len(at.get("image")) == 12  # the gallery of the most distrusted labels
    assert at.slider(key=f"epoch_{done}").value == load_run(runs_dir / done).epochs_done
    at.slider(key=f"epoch_{done}").set_value(1).run()
    inspect = next(b for b in at.button if (b.key or "").startswith("inspect_"))
    index = int(inspect.key.removeprefix("inspect_"))
    inspect.click().run()
    _ok(at)
    assert at.session_state["tab"] == tab_title("inspector")
    assert at.session_state["example_index"] == index
    assert at.slider(key=f"inspector_epoch_{done}").value == 1  # the gallery's epoch
    assert at.number_input(key=f"pick_index_{index}").value == index  # now inspected


def _set_aurocs(runs_dir: Path, run_id: str, aurocs: list[float]) -> None:
    path = runs_dir / run_id / "metrics.csv"
    metrics = pd.read_csv(path)
    metrics["noise_auroc"] = aurocs
    metrics.to_csv(path, index=False)


def test_label_noise_tab_says_when_the_weights_trust_noisy_labels_more(
    runs_dir: Path, finished_run: Path
) -> None:
    inverted = _copy_run(finished_run, runs_dir, "inverted-run")
    recovered = _copy_run(finished_run, runs_dir, "recovered-run")
    _set_aurocs(runs_dir, inverted, [0.4, 0.3, 0.2])  # below chance for the last 3 epochs
    _set_aurocs(runs_dir, recovered, [0.4, 0.3, 0.6])
    at = _app(run_id=inverted, tab=tab_title("noise")).run()
    _ok(at)
    assert any("not (yet) separating" in warning.value for warning in at.warning)
    at.session_state["run_id"] = recovered
    at.run()
    _ok(at)
    assert not any("not (yet) separating" in warning.value for warning in at.warning)


def test_invalid_input_is_explained_and_blocks_start(runs_dir: Path) -> None:
    at = _app().run()
    at.sidebar.slider(key="data_noise_rate").set_value(0.0).run()
    _ok(at)
    assert any("needs a noise rate > 0" in error.value for error in at.sidebar.error)
    assert _button(at, "start_one").disabled and _button(at, "start_compare").disabled
    at.sidebar.text_input(key="run_name").input("no spaces please").run()
    at.sidebar.slider(key="data_noise_rate").set_value(0.2).run()
    assert any("run name" in error.value for error in at.sidebar.error)
    assert _button(at, "start_one").disabled
    at.sidebar.text_input(key="run_name").input("lecture-1").run()
    _ok(at)
    assert not at.sidebar.error
    assert not _button(at, "start_one").disabled and not _button(at, "start_compare").disabled


def test_the_start_button_is_drawn_first_and_names_the_method(runs_dir: Path) -> None:
    at = _app().run()
    assert at.sidebar.children[0].key == "start_one"  # above the settings
    at.sidebar.segmented_control(key="run_method").set_value("mwnet").run()
    _ok(at)
    assert _button(at, "start_one").label == "Start MW-Net"


def test_start_a_digits_run_from_the_sidebar(runs_dir: Path) -> None:
    at = _app(**TINY).run()
    at.selectbox(key="run_device").select("cpu").run()
    _button(at, "start_one").click().run()
    _ok(at)
    at = _wait(at, lambda at: load_runs(runs_dir, "completed"))
    run_id = load_runs(runs_dir, "completed")[0]
    at = _wait(
        at,
        lambda at: (
            at.session_state["run_id"] == run_id
            and any("completed" in m.value for m in at.markdown)
        ),
    )
    assert not any("No runs yet" in info.value for info in at.info)
    assert at.get("plotly_chart")  # the accuracy curves
    assert load_run(runs_dir / run_id).run_config.device == "cpu"  # the device chosen


def test_stop_a_running_job(runs_dir: Path) -> None:
    at = _app(data_train_subset=300, run_epochs=200).run()
    _button(at, "start_one").click().run()
    at = _wait(at, lambda at: _has_button(at, "stop_"))
    run_id = at.session_state["run_id"]
    next(b for b in at.button if (b.key or "").startswith("stop_")).click().run()
    _ok(at)
    at = _wait(at, lambda at: load_run(runs_dir / run_id).state == "stopped")
    assert load_run(runs_dir / run_id).epochs_done < 200
    at = _wait(at, lambda at: any("Stopped by request" in info.value for info in at.info))


def test_compare_queues_three_jobs_and_cancel(runs_dir: Path) -> None:
    # Long enough that the running GDW job cannot finish (and let a queued one start) while
    # the two cancels are clicked on a loaded machine; the test stops it itself.
    at = _app(data_train_subset=300, run_epochs=5000).run()
    _button(at, "start_compare").click().run()
    at = _wait(at, lambda at: any("position 2" in m.value for m in at.markdown), timeout=30)
    cancels = [b for b in at.button if (b.key or "").startswith("job_cancel_")]
    stops = [b for b in at.button if (b.key or "").startswith("job_stop_")]
    assert len(cancels) == 2 and len(stops) == 1
    for button in cancels:
        # As if a job had just started or ended: the page reruns before it draws the buttons,
        # and the click must not be lost to that rerun.
        at.session_state["jobs_signature"] = ("a job that changed",)
        button.click().run()
        _ok(at)
    next(b for b in at.button if (b.key or "").startswith("job_stop_")).click().run()
    # Done when the jobs panel is gone: the stopped run has finished writing, nothing is queued.
    at = _wait(at, lambda at: not any("Jobs of this server" in m.value for m in at.markdown))
    methods = {load_run(path).config["config"]["method"] for path in runs_dir.iterdir()}
    assert methods <= {"gdw"}  # the cancelled MW-Net and ERM jobs never made a folder


def test_runs_page_lists_runs(runs_dir: Path, finished_run: Path) -> None:
    _copy_run(finished_run, runs_dir, "done-run")
    _failed_run(runs_dir)

    def script() -> None:
        from app.pages.navigation import runs_page

        runs_page()

    at = AppTest.from_function(script).run()
    _ok(at)
    table = at.dataframe[0].value
    assert set(table["run"]) == {"done-run", "failed-run"}
    assert set(table["state"]) == {"completed", "failed"}


def _has_button(at: AppTest, prefix: str) -> bool:
    return any((b.key or "").startswith(prefix) for b in at.button)


def load_runs(runs_dir: Path, state: str) -> list[str]:
    """Runs of the folder in ``state`` (a run still being staged under a hidden name is none)."""
    return [run_id for run_id in run_ids(runs_dir) if load_run(runs_dir / run_id).state == state]


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "mwnet"},
        {"method": "erm"},
        {"data": DataConfig(imbalance=0.2, train_subset=300)},  # no injected noise, long tail
        {"record_limit": 0},
    ],
    ids=["mwnet", "erm", "clean-long-tail", "nothing-recorded"],
)
def test_other_methods_and_data_render_every_tab(runs_dir: Path, changes: dict) -> None:
    config = RunConfig(
        data=DataConfig(noise="flip", noise_rate=0.3, train_subset=300), epochs=2
    ).replace(**changes)
    run_id = run(config, runs_dir=runs_dir).name
    at = _app(run_id=run_id).run()
    for tab in TABS:
        at.session_state["tab"] = tab.title
        at.run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
    if "data" in changes:  # own-data situation: no known noise, scores say n/a
        at.session_state["tab"] = tab_title("noise")
        at.run()
        assert {m.value for m in at.metric} >= {"n/a"}
        assert len(at.get("image")) == 12  # the gallery still ranks examples


def test_resume_button_continues_a_stopped_run(runs_dir: Path) -> None:
    import threading

    from gdw import TrainingSink

    stop = threading.Event()

    class StopInEpochTwo(TrainingSink):
        def on_step(self, epoch: int, step: int, steps: int) -> None:
            if epoch == 2:
                stop.set()

    config = RunConfig(data=DataConfig(train_subset=300), epochs=3, name="paused")
    run(config, runs_dir=runs_dir, stop_event=stop, sinks=[StopInEpochTwo()])
    assert load_run(runs_dir / "paused").state == "stopped"
    at = _app(run_id="paused").run()
    _ok(at)
    assert "train_longer_paused" not in [button.key for button in at.button]  # completed runs'
    at.button(key="resume_paused").click().run()
    _ok(at)
    at = _wait(at, lambda at: load_run(runs_dir / "paused").state == "completed")
    assert load_run(runs_dir / "paused").epochs_done == 3
    assert not any(path.name != "paused" for path in runs_dir.iterdir())  # the same folder


def test_train_longer_trains_a_completed_run_on(runs_dir: Path, finished_run: Path) -> None:
    name = _copy_run(finished_run, runs_dir, "longer")
    at = _app(run_id=name).run()
    _ok(at)
    assert "resume_longer" not in [button.key for button in at.button]  # stopped runs'
    at.number_input(key="more_epochs_longer").set_value(1)
    at.button(key="train_longer_longer").click().run()
    _ok(at)

    def trained_on(at: AppTest) -> bool:
        run = load_run(runs_dir / name)
        return run.state == "completed" and run.epochs_done == 4

    at = _wait(at, trained_on)
    assert load_run(runs_dir / name).epoch_changes == ({"after_epoch": 3, "from": 3, "to": 4},)
    assert any("after epoch 3, from 3 to 4 epochs" in caption.value for caption in at.caption)
    assert [path.name for path in runs_dir.iterdir()] == [name]  # the same folder


def test_out_of_gpu_memory_is_explained_at_start_and_on_the_runs_page(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raised (patched in) where a run puts its model on the device, before its folder exists,
    then where it copies its data there, once its folder says running."""
    import torch

    import gdw.training.trainer
    from gdw.training.failures import OUT_OF_GPU_MEMORY

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB.")

    prepare_session = gdw.training.trainer.prepare_session
    monkeypatch.setattr(gdw.training.trainer, "prepare_session", out_of_memory)
    at = _app(**TINY).run()
    _button(at, "start_one").click().run()
    at = _wait(at, lambda at: any("Could not start" in error.value for error in at.error))
    assert any(error.value.endswith(f": {OUT_OF_GPU_MEMORY}") for error in at.error)
    monkeypatch.setattr(gdw.training.trainer, "prepare_session", prepare_session)
    monkeypatch.setattr(gdw.training.trainer, "Stepper", out_of_memory)
    _button(at, "start_one").click().run()
    at = _wait(at, lambda at: load_runs(runs_dir, "failed"))
    at.session_state["run_id"] = load_runs(runs_dir, "failed")[0]
    at.run()
    _ok(at)
    assert f"This run failed: {OUT_OF_GPU_MEMORY}" in [error.value for error in at.error]


def test_the_gallery_draws_its_trust_per_epoch_and_says_when_it_was_still_rising(
    runs_dir: Path, finished_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = _copy_run(finished_run, runs_dir, "done-run")
    at = _app(run_id=done, tab=tab_title("noise")).run()
    _ok(at)
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert sum("Trust after each epoch (AUROC on the known errors)" in t for t in titles) == 1
    assert not any("still improving" in info.value for info in at.info)
    for module in ("label_quality", "label_summary"):  # a 3-epoch run: any rise over 1 epoch
        monkeypatch.setattr(f"gdw.runs.{module}.IMPROVING_EPOCHS", 1)
    monkeypatch.setattr("gdw.runs.label_quality.IMPROVING_RISE", -1.0)
    at.run()
    _ok(at)
    assert any("was still improving" in info.value for info in at.info)
