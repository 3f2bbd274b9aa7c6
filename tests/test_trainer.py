"""The trainer: run directories after completion, stop, failure and divergence; live reading."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import gdw.training.trainer
from gdw import ConfigError, DataConfig, RunConfig, TrainingSink, load_run, resume, run, start
from gdw.runs.recording import METRICS_COLUMNS, weight_statistics
from gdw.runs.story import lean, story_statistics
from gdw.weighting.methods import ERM

NOISY = DataConfig(noise="uniform", noise_rate=0.4, train_subset=400, seed=1)


def tiny(method: str = "gdw", **changes) -> RunConfig:
    changes = {"data": NOISY, "epochs": 3, **changes}
    return RunConfig(method=method, **changes)


class StopAt(TrainingSink):
    """Sets an event (or raises) once a given step of a given epoch is done."""

    def __init__(self, epoch: int, step: int, event: threading.Event | None = None) -> None:
        self.at, self.event = (epoch, step), event

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if (epoch, step) == self.at:
            if self.event is None:
                raise RuntimeError("boom in a step")
            self.event.set()


@pytest.mark.parametrize("method", ["erm", "mwnet", "mwnet-step", "gdw"])
def test_completed_run_directory(tmp_path, method):
    run_dir = run(tiny(method), runs_dir=tmp_path)
    loaded = load_run(run_dir)
    assert loaded.state == "completed" and loaded.epochs_done == 3
    columns = set(METRICS_COLUMNS)
    assert columns <= set(loaded.metrics.columns)
    assert loaded.metrics["epoch"].tolist() == [1, 2, 3]
    assert loaded.metrics["test_acc"].between(0, 1).all()
    instances = loaded.instances
    assert len(instances) == 400 and instances["is_noisy"].sum() > 0
    weights = np.load(run_dir / "weights.npy")
    assert weights.shape == (3, 400, 10) and weights.dtype == np.float16
    assert np.isfinite(weights).all() and (weights > 0).all()
    if method == "erm":
        assert (weights == 1).all()
    if method in ("mwnet", "mwnet-step"):  # one weight per example, repeated over the classes
        assert (weights == weights[:, :, :1]).all()
    if method == "gdw":  # class-level: weights differ within a row
        assert (weights != weights[:, :, :1]).any()
    instance = np.load(run_dir / "base_weights.npy")  # the file keeps its earlier name
    assert instance.shape == (3, 400) and instance.dtype == np.float16
    if method == "erm":
        assert (instance == 1).all()
    else:  # the default weighting net's weights have mean 1 in every batch
        assert (instance > 0).all()
        assert instance.astype(np.float64).mean(axis=1) == pytest.approx(1.0, abs=0.02)
    assert np.array_equal(loaded.instance_weights(2), instance[1].astype(np.float32))
    predicted = np.load(run_dir / "predicted.npy")
    assert predicted.shape == (3, 400) and predicted.min() >= 0 and predicted.max() <= 9
    given_prob = loaded.epoch_array("given_prob", 3)
    assert given_prob.shape == (400,) and ((given_prob > 0) & (given_prob <= 1)).all()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["final_test_acc"] == pytest.approx(loaded.metrics["test_acc"].iloc[-1])
    assert summary["last5_test_acc"] == pytest.approx(loaded.metrics["test_acc"].mean())
    config = json.loads((run_dir / "config.json").read_text())
    assert config["resolved"]["device"] == "cpu" and "torch" in config["versions"]
    assert RunConfig.from_dict(config["config"]) == tiny(method)


def test_gdw_down_weights_noisy_labels(tmp_path):
    # All of digits' training set: the weighting net needs a few hundred steps to learn that a
    # high loss under a noisy label deserves a low weight (early on it does the opposite).
    data = DataConfig(noise="uniform", noise_rate=0.4, seed=1)
    loaded = load_run(run(tiny("gdw", data=data, epochs=8), runs_dir=tmp_path))
    last = loaded.metrics.iloc[-1]
    assert last["w_target_noisy"] < last["w_target_clean"]
    assert last["noise_auroc"] > 0.9


def test_same_configuration_gives_identical_metrics(tmp_path):
    first = load_run(run(tiny(), runs_dir=tmp_path / "a"))
    second = load_run(run(tiny(), runs_dir=tmp_path / "b"))
    pd.testing.assert_frame_equal(
        first.metrics.drop(columns="seconds"), second.metrics.drop(columns="seconds")
    )
    assert np.array_equal(first.weights_of(range(400)), second.weights_of(range(400)))


def test_stop_mid_epoch_leaves_a_consistent_stopped_run(tmp_path):
    event = threading.Event()
    run_dir = run(tiny(), runs_dir=tmp_path, stop_event=event, sinks=[StopAt(2, 2, event)])
    loaded = load_run(run_dir)
    assert loaded.state == "stopped" and loaded.epochs_done == 1
    assert np.load(run_dir / "weights.npy").shape == (1, 400, 10)
    assert loaded.summary["epochs_done"] == 1


def test_background_run_stops_within_a_step(tmp_path):
    handle = start(tiny(epochs=50), runs_dir=tmp_path)
    assert handle.wait_started(timeout=60) and handle.run_dir is not None
    handle.stop()
    assert handle.join(timeout=30)
    assert load_run(handle.run_dir).state == "stopped"


def test_a_step_that_raises_fails_the_run_with_its_message(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        run(tiny(), runs_dir=tmp_path, sinks=[StopAt(2, 1)])
    (run_dir,) = tmp_path.iterdir()
    loaded = load_run(run_dir)
    assert loaded.state == "failed" and "boom in a step" in loaded.status["error"]
    assert loaded.epochs_done == 1 and np.load(run_dir / "weights.npy").shape[0] == 1


def no_room_on_the_device(*args, **kwargs):
    raise RuntimeError("no room on the device")


@pytest.mark.parametrize("where", ["run", "resume"])
def test_a_failure_at_start_up_ends_the_run_failed_not_running(tmp_path, monkeypatch, where):
    """Once the folder says running, before the first step: copying the data to the device
    (both), restoring the checkpoint (resume)."""
    if where == "resume":
        event = threading.Event()
        run_dir = run(
            tiny(epochs=2), runs_dir=tmp_path, stop_event=event, sinks=[StopAt(2, 1, event)]
        )
        monkeypatch.setattr(gdw.training.trainer, "restore", no_room_on_the_device)
        with pytest.raises(RuntimeError, match="no room"):
            resume(run_dir)
    else:
        monkeypatch.setattr(gdw.training.trainer, "Stepper", no_room_on_the_device)
        with pytest.raises(RuntimeError, match="no room"):
            run(tiny(), runs_dir=tmp_path)
        (run_dir,) = tmp_path.iterdir()
    failed = load_run(run_dir)
    assert (
        failed.state == "failed" and failed.status["error"] == "RuntimeError: no room on the device"
    )
    monkeypatch.undo()
    resume(run_dir)  # a failed run can be resumed: from its checkpoint, or from the start
    assert load_run(run_dir).state == "completed"


def test_nan_loss_fails_the_run_naming_the_step(tmp_path, monkeypatch):
    original = ERM.step
    calls = []

    def poisoned(self, *args):
        result = original(self, *args)
        calls.append(1)
        if len(calls) == 6:  # epoch 2 (4 steps per epoch), step 2
            return dataclasses.replace(result, loss=torch.tensor(float("nan")))
        return result

    monkeypatch.setattr(ERM, "step", poisoned)
    with pytest.raises(Exception, match="NaN or infinite at epoch 2, step 2"):
        run(tiny("erm"), runs_dir=tmp_path)
    (run_dir,) = tmp_path.iterdir()
    assert load_run(run_dir).state == "failed"
    assert "epoch 2, step 2" in load_run(run_dir).status["error"]


def test_reader_polling_a_live_run_never_sees_half_a_file(tmp_path):
    handle = start(tiny(epochs=6), runs_dir=tmp_path)
    assert handle.wait_started(timeout=60)
    reads = 0
    while not handle.join(timeout=0) or reads == 0:
        loaded = load_run(handle.run_dir)  # raises on a half-written JSON or CSV
        done = loaded.epochs_done
        if done:
            assert loaded.metrics["epoch"].tolist() == list(range(1, done + 1))
            assert np.isfinite(loaded.weights(done)).all()
        reads += 1
    assert handle.join(timeout=30) and load_run(handle.run_dir).state == "completed"


def test_large_runs_record_every_noisy_example_and_a_clean_sample(tmp_path):
    loaded = load_run(run(tiny(record_limit=250), runs_dir=tmp_path))
    config = loaded.config["recording"]
    assert config["subset"] and config["recorded"] == 250 and config["total"] == 400
    noisy_total = loaded.config["data_summary"]["noise_rate"] * 400
    assert loaded.instances["is_noisy"].sum() == pytest.approx(noisy_total)


def test_absent_device_is_bad_input_and_makes_no_folder(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ConfigError, match="device 'cuda' is not available"):
        run(tiny(device="cuda"), runs_dir=tmp_path)
    assert not any(Path(tmp_path).iterdir())


def test_a_taken_run_name_is_refused(tmp_path):
    run(tiny(name="mine", epochs=1), runs_dir=tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        run(tiny(name="mine", epochs=1), runs_dir=tmp_path)
    assert load_run(tmp_path / "mine").state == "completed"


def test_recording_can_be_switched_off(tmp_path):
    loaded = load_run(run(tiny(record_limit=0, epochs=2), runs_dir=tmp_path))
    assert loaded.state == "completed" and len(loaded.instances) == 0
    assert np.load(loaded.path / "weights.npy").shape == (2, 0, 10)
    assert loaded.metrics["noise_auroc"].isna().all()


def test_instance_weights_are_what_the_second_stage_starts_from(tmp_path):
    """MW-Net + outer step with no outer step keeps its instance weight: W == v0."""
    run_dir = run(tiny("mwnet-step", outer_lr=0.0, epochs=2), runs_dir=tmp_path)
    loaded = load_run(run_dir)
    for epoch in (1, 2):
        weights, instance = loaded.weights(epoch), loaded.instance_weights(epoch)
        assert np.array_equal(weights, np.repeat(instance[:, None], 10, axis=1))
    first = load_run(run(tiny("mwnet", epochs=2), runs_dir=tmp_path))
    # MW-Net's real step uses the net after its update: its weight is not its instance weight
    assert not np.array_equal(first.weights(2)[:, 0], first.instance_weights(2))


@pytest.mark.parametrize("method", ["mwnet", "gdw"])
def test_an_epochs_metrics_are_those_of_its_recorded_arrays(tmp_path, method):
    """metrics.csv's weight statistics, story and lean are measured from the weights as the
    files hold them (float16), not from the float32 visits, so every view of a run agrees."""
    loaded = load_run(run(tiny(method, epochs=2), runs_dir=tmp_path))
    given = loaded.instances["given_label"].to_numpy()
    true = loaded.instances["true_label"].to_numpy()
    noisy = loaded.instances["is_noisy"].to_numpy().astype(bool)
    for epoch in (1, 2):
        weights, instance = loaded.weights(epoch), loaded.instance_weights(epoch)
        expected = {
            **story_statistics(weights, instance, given, true),
            **weight_statistics(weights, given, noisy),
            "lean": lean(instance, loaded.epoch_array("given_prob", epoch)),
        }
        row = loaded.metrics.iloc[epoch - 1]
        for column, value in expected.items():
            assert row[column] == pytest.approx(value, rel=1e-6, nan_ok=True), column
    if method == "mwnet":  # the same weight for every signal: every comparison a tie
        assert (loaded.metrics["kept_fraction"] == 0.5).all()
        assert (loaded.metrics["true_class_found"] == 0.0).all()


def test_story_fractions_are_empty_without_noise(tmp_path):
    clean = DataConfig(train_subset=200, canaries=0.0)
    loaded = load_run(run(tiny(data=clean, epochs=1), runs_dir=tmp_path))
    text = (loaded.path / "metrics.csv").read_text().splitlines()
    header, row = text[0].split(","), text[1].split(",")
    assert row[header.index("kept_fraction")] == "" and row[header.index("true_class_found")] == ""
    assert row[header.index("given_median_clean")] != ""


@pytest.mark.parametrize("method", ["mwnet", "gdw"])
def test_the_warm_up_trains_as_erm_then_the_weighting_takes_over(tmp_path, method):
    """The warm-up epochs are ERM's epochs exactly (same seed, same numbers), their weights all
    1 and no lean; from the next epoch the weighting net weighs."""
    warm = load_run(run(tiny(method, epochs=4, warmup_epochs=2), runs_dir=tmp_path))
    erm = load_run(run(tiny("erm", epochs=4), runs_dir=tmp_path))
    assert warm.warmup_epochs == 2 and erm.warmup_epochs == 0
    columns = ["loss", "train_acc_given", "train_acc_true", "test_acc", "meta_acc"]
    pd.testing.assert_frame_equal(warm.metrics[columns][:2], erm.metrics[columns][:2])
    assert not warm.metrics["test_acc"][2:].equals(erm.metrics["test_acc"][2:])
    for epoch in (1, 2):
        assert (warm.weights(epoch) == 1).all() and (warm.instance_weights(epoch) == 1).all()
    assert not (warm.instance_weights(3) == 1).all()
    assert warm.leans()[:2].isna().all() and warm.leans()[2:].notna().all()


def test_a_plain_step_trains_the_classifier_and_leaves_the_weighting_net_alone():
    from gdw.training.session import prepare_session
    from gdw.training.stepper import Stepper

    session = prepare_session(tiny("gdw"))
    method = session.method
    stepper = Stepper(
        method,
        session.data,
        batch_size=50,
        device=torch.device("cpu"),
        order_seed=session.order_seed,
        augment_seed=session.augment_seed,
    )
    stepper.begin_epoch()
    net = [p.detach().clone() for p in method.weight_net.parameters()]
    model = [p.detach().clone() for p in method.model.parameters()]
    stepper.step(1, plain=True)
    assert all(torch.equal(a, b) for a, b in zip(net, method.weight_net.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(model, method.model.parameters()))
    stepper.step(2)
    assert not all(torch.equal(a, b) for a, b in zip(net, method.weight_net.parameters()))
