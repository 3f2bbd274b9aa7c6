"""The run folder's creation: it appears whole, under a free name, and never overwrites a run;
what it holds of an epoch's arrays."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gdw.runs.files import ArraySpec, RunExistsError, RunPathError, as_recorded
from gdw.runs.listing import list_runs
from gdw.runs.reader import load_run
from gdw.runs.recording import weight_statistics
from gdw.runs.story import lean
from gdw.runs.writer import RunWriter

FIRST_FILES = {"config.json", "instances.csv", "weights.npy", "status.json"}


def _writer(runs_dir: Path, run_id: str | None = None, *, n: int = 5) -> RunWriter:
    return RunWriter(
        runs_dir,
        run_id,
        stem="gdw-digits",
        config={"classes": ["a", "b", "c"]},
        instances={
            "index": np.arange(n),
            "given_label": np.zeros(n, int),
            "true_label": np.zeros(n, int),
            "is_noisy": np.zeros(n, np.int8),
        },
        n_epochs=2,
        n_classes=3,
    )


def test_a_reader_never_sees_a_run_folder_without_its_first_files(tmp_path: Path) -> None:
    made: list[Path] = []
    writing = threading.Thread(
        target=lambda: made.extend(_writer(tmp_path).path for _ in range(40))
    )
    writing.start()
    seen = set()
    while writing.is_alive() or not seen:
        for child in tmp_path.iterdir():
            if not child.name.startswith("."):
                assert FIRST_FILES <= {f.name for f in child.iterdir()}, child.name
                seen.add(child.name)
    writing.join()
    assert len({path.name for path in made}) == 40  # one second's runs get -2, -3, ... names
    assert sorted(child.name for child in tmp_path.iterdir()) == sorted(p.name for p in made)
    assert {run.state for run in list_runs(tmp_path)} == {"running"}


def test_the_written_run_reads_back(tmp_path: Path) -> None:
    writer = _writer(tmp_path, "mine")
    writer.append_epoch({"epoch": 1, "test_acc": 0.5}, np.full((5, 3), 0.25))
    writer.finish("stopped")
    run = load_run(tmp_path / "mine")
    assert run.state == "stopped" and run.epochs_done == 1 and run.classes == ["a", "b", "c"]
    assert np.load(run.path / "weights.npy").shape == (1, 5, 3)
    assert np.allclose(run.weights(1), 0.25)


def test_the_instance_weights_keep_their_stored_names_and_read_by_their_own(
    tmp_path: Path,
) -> None:
    """Every run, old or new, stores the instance weights as ``base_weights.npy`` and their
    medians as ``base_median_*`` in ``metrics.csv``; read back, and resumed, they are
    ``instance_weights`` and ``instance_median_*``."""
    writer = RunWriter(
        tmp_path,
        "mine",
        config={"classes": ["a", "b", "c"]},
        instances={name: np.zeros(5, int) for name in ("index", "given_label", "true_label")}
        | {"is_noisy": np.zeros(5, np.int8)},
        n_epochs=2,
        n_classes=3,
        arrays={"instance_weights": ArraySpec((5,))},
    )
    metrics = {"epoch": 1, "test_acc": 0.5, "instance_median_noisy": 0.25}
    writer.append_epoch(metrics, np.ones((5, 3)), {"instance_weights": np.full(5, 0.5)})
    writer.finish("stopped")
    path = tmp_path / "mine"
    assert (path / "base_weights.npy").exists() and not (path / "instance_weights.npy").exists()
    assert (path / "metrics.csv").read_text().splitlines()[0] == "epoch,test_acc,base_median_noisy"
    config = load_run(path).config
    assert set(config["per_epoch"]["arrays"]) == {"weights", "base_weights"}
    resumed = RunWriter.reopen(path, epochs=1)
    resumed.append_epoch(
        {**metrics, "epoch": 2}, np.ones((5, 3)), {"instance_weights": np.full(5, 0.75)}
    )
    resumed.finish("completed")
    run = load_run(path)
    assert run.has_array("instance_weights") and run.instance_weights(2).tolist() == [0.75] * 5
    assert list(run.metrics.columns) == ["epoch", "test_acc", "instance_median_noisy"]


def test_a_taken_name_is_refused_and_leaves_the_run_and_no_staging_folder(tmp_path: Path) -> None:
    _writer(tmp_path, "mine").finish("completed")
    with pytest.raises(RunExistsError, match="'mine' already exists"):
        _writer(tmp_path, "mine", n=7)
    assert [child.name for child in tmp_path.iterdir()] == ["mine"]
    assert load_run(tmp_path / "mine").state == "completed"
    assert len(load_run(tmp_path / "mine").instances) == 5


def test_a_name_leaving_the_runs_folder_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    runs_dir = tmp_path / "runs"
    with pytest.raises(RunPathError, match="is not allowed"):
        _writer(runs_dir, "../outside")
    assert not runs_dir.exists() and [p.name for p in tmp_path.iterdir()] == []


def test_metrics_csv_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    rows = [
        {
            "epoch": 1,
            "test_acc": 0.1 + 0.2,
            "lr": np.float64(0.03),
            "noise_auroc": float("nan"),
            "w_target_noisy": np.float32(0.5),
            "loss": float("inf"),
        },
        {
            "epoch": 2,
            "test_acc": 1 / 3,
            "lr": 0.01,
            "noise_auroc": 0.75,
            "w_target_noisy": 1.0,
            "loss": 2.0,
        },
    ]
    writer = _writer(tmp_path, "mine")
    writer.append_epoch(rows[0], np.ones((5, 3)))
    with pytest.raises(ValueError, match="not in the first epoch's columns"):
        writer.append_epoch({**rows[1], "new": 1.0}, np.ones((5, 3)))
    writer.append_epoch(rows[1], np.ones((5, 3)))
    assert writer.epochs_written == 2
    written = (tmp_path / "mine" / "metrics.csv").read_text()
    assert written == pd.DataFrame(rows).to_csv(index=False)


def test_a_flat_weighting_net_is_recorded_and_measured_as_flat() -> None:
    """Weights a millionth apart are one weight at the files' precision: no noise AUROC beyond
    chance and no lean, where the float32 values would rank the rounding noise."""
    noisy = np.array([True, False, False, True, False, False])
    instance = np.where(noisy, 1 - 1e-6, 1 + 1e-6).astype(np.float32)
    given_prob = np.linspace(0.2, 0.9, noisy.size).astype(np.float32)
    visits = {
        "weights": np.repeat(instance[:, None], 3, axis=1),
        "instance_weights": instance,
        "predicted": np.arange(noisy.size, dtype=np.int64) % 3,
        "given_prob": given_prob,
    }
    given = np.zeros(noisy.size, dtype=np.int64)
    assert weight_statistics(visits["weights"], given, noisy)["noise_auroc"] == 1.0
    recorded = as_recorded(visits)
    assert {name: a.dtype for name, a in recorded.items()} == {
        name: a.dtype for name, a in visits.items()
    }
    assert (recorded["weights"] == 1).all() and (recorded["instance_weights"] == 1).all()
    assert weight_statistics(recorded["weights"], given, noisy)["noise_auroc"] == 0.5
    assert np.isnan(lean(recorded["instance_weights"], recorded["given_prob"]))
    np.testing.assert_array_equal(recorded["predicted"], visits["predicted"])
    np.testing.assert_allclose(recorded["given_prob"], given_prob, rtol=1e-3)
