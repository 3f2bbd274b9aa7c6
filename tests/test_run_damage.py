"""A corpus of damaged run folders, each beside a good run: ``load_run`` names the file and the
problem, ``gdw runs`` lists the run as unreadable, and the dashboard's pages show it as such
without an exception while the good run stays intact."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.run_view.tab_table import TABS, tab_title
from gdw import DataConfig, RunConfig, RunReadError, list_runs, load_run, run
from gdw.cli import main

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def _cut(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: max(1, int(len(data) * keep))])

    return damage


def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)

    return damage


def _remove(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def _json_change(name: str, **changes: object) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        record = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps({**record, **changes}))

    return damage


def _metrics_cell(folder: Path) -> None:
    lines = (folder / "metrics.csv").read_text().splitlines(keepends=True)
    cells = lines[2].split(",")
    cells[1] = "0.9x"
    lines[2] = ",".join(cells)
    (folder / "metrics.csv").write_text("".join(lines))


def _metrics_extra_value(folder: Path) -> None:
    lines = (folder / "metrics.csv").read_text().splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n") + ",7\n"
    (folder / "metrics.csv").write_text("".join(lines))


def _instances_rows(folder: Path) -> None:
    lines = (folder / "instances.csv").read_text().splitlines(keepends=True)
    (folder / "instances.csv").write_text("".join(lines[:-10]))


def _weights_shape(folder: Path) -> None:
    np.save(folder / "weights.npy", np.ones((2, 7, 3), dtype=np.float16))


def _weights_header(folder: Path) -> None:
    data = bytearray((folder / "weights.npy").read_bytes())
    data[:40] = bytes(range(200, 240))
    (folder / "weights.npy").write_bytes(bytes(data))


def _link_out(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        outside = folder.parent.parent / f"outside-{folder.name}"
        outside.mkdir(exist_ok=True)
        shutil.copy(folder / name, outside / name)
        (folder / name).unlink()
        (folder / name).symlink_to(outside / name)

    return damage


# case id -> (damage, the file named in the reason, words of the reason)
CORPUS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "config-missing": (_remove("config.json"), "config.json", "is missing"),
    "config-truncated": (_cut("config.json"), "config.json", "not valid JSON"),
    "config-not-utf8": (_write("config.json", b"\xff\xfe{}"), "config.json", "not UTF-8"),
    "config-not-json": (_write("config.json", "{classes: 3"), "config.json", "not valid JSON"),
    "config-wrong-shape": (_write("config.json", "[1, 2]"), "config.json", "not an object"),
    "config-future-format": (_json_change("config.json", format=99), "config.json", "format 99"),
    "status-missing": (_remove("status.json"), "status.json", "is missing"),
    "status-truncated": (_cut("status.json"), "status.json", "not valid JSON"),
    "status-wrong-shape": (
        _json_change("status.json", state="exploded"),
        "status.json",
        "'exploded' is not one of",
    ),
    "metrics-missing": (_remove("metrics.csv"), "metrics.csv", "is missing"),
    "metrics-truncated": (_cut("metrics.csv", 0.8), "metrics.csv", "middle of a line"),
    "metrics-garbled": (_metrics_cell, "metrics.csv", "'0.9x' is not a number"),
    "metrics-wrong-shape": (_metrics_extra_value, "metrics.csv", "line 2 has"),
    "metrics-not-utf8": (
        _write("metrics.csv", b"epoch,test_acc\n1,\xff\n"),
        "metrics.csv",
        "not UTF-8",
    ),
    "instances-missing": (_remove("instances.csv"), "instances.csv", "is missing"),
    "instances-truncated": (_cut("instances.csv"), "instances.csv", ""),
    "instances-wrong-shape": (_instances_rows, "instances.csv", "rows, weights.npy"),
    "weights-missing": (_remove("weights.npy"), "weights.npy", "is missing"),
    "weights-truncated": (_cut("weights.npy", 0.6), "weights.npy", "is cut short"),
    "weights-garbled": (_weights_header, "weights.npy", "not a NumPy array file"),
    "weights-wrong-shape": (_weights_shape, "weights.npy", "rows of shape [7, 3]"),
    "weights-link-out": (_link_out("weights.npy"), "weights.npy", "outside the run folder"),
    "summary-garbled": (
        _write("summary.json", '{"final_test_acc": 0.'),
        "summary.json",
        "not valid JSON",
    ),
}


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, completed tiny GDW run on noisy digits (made once for this module)."""
    config = RunConfig(
        data=DataConfig(noise="uniform", noise_rate=0.4, train_subset=200), epochs=2, name="good"
    )
    return run(config, runs_dir=tmp_path_factory.mktemp("made"))


@pytest.fixture(scope="module")
def corpus(good_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with the good run and one damaged copy of it per case of :data:`CORPUS`,
    plus a run folder that is a link leading out of the runs folder."""
    runs_dir = tmp_path_factory.mktemp("corpus") / "runs"
    runs_dir.mkdir()
    shutil.copytree(good_run, runs_dir / "good")
    for case, (damage, _, _) in CORPUS.items():
        shutil.copytree(good_run, runs_dir / case)
        damage(runs_dir / case)
    outside = runs_dir.parent / "elsewhere"
    shutil.copytree(good_run, outside)
    (runs_dir / "folder-link-out").symlink_to(outside, target_is_directory=True)
    return runs_dir


@pytest.mark.parametrize("case", list(CORPUS))
def test_load_run_names_the_damaged_file_and_the_problem(corpus: Path, case: str) -> None:
    _, file, words = CORPUS[case]
    with pytest.raises(RunReadError) as caught:
        load_run(corpus / case)
    assert caught.value.file == file and words in caught.value.problem
    assert f"{case}/{file}: " in str(caught.value)
    partial = load_run(corpus / case, strict=False)
    assert partial.state == "unreadable" and file in partial.problems
    if file not in ("metrics.csv", "config.json", "status.json"):  # the curves stay readable
        assert partial.epochs_done == 2 and partial.metrics["epoch"].tolist() == [1, 2]


def test_listing_reports_every_damaged_run_and_keeps_the_good_one(corpus: Path) -> None:
    runs = {entry.run_id: entry for entry in list_runs(corpus, include_unreadable=True)}
    assert set(runs) == {"good", "folder-link-out", *CORPUS}
    assert runs["good"].state == "completed" and not runs["good"].problems
    assert np.isfinite(runs["good"].weights(2)).all()
    for case, (_, file, _) in CORPUS.items():
        assert runs[case].state == "unreadable" and runs[case].reason.startswith(file), case
    assert "outside the runs folder" in runs["folder-link-out"].reason
    assert [entry.run_id for entry in list_runs(corpus)] == ["good"]  # the readable ones


def test_gdw_runs_lists_damaged_runs_as_unreadable(corpus: Path, capsys) -> None:
    assert main(["runs", "--runs-dir", str(corpus), "--json"]) == 0
    records = {record["run"]: record for record in json.loads(capsys.readouterr().out)}
    good = records["good"]
    assert good["state"] == "completed" and good["epochs_done"] == 2 and good["method"] == "gdw"
    assert good["data"] == "uniform 40%" and 0 < good["last_test_acc"] <= 1
    for case, (_, file, _) in CORPUS.items():
        assert records[case]["state"] == "unreadable" and records[case]["reason"].startswith(file)
    assert main(["runs", "--runs-dir", str(corpus)]) == 0
    table = capsys.readouterr().out
    assert "unreadable: weights.npy: is cut short" in table
    assert next(line for line in table.splitlines() if line.startswith("good ")).split()[1] == (
        "completed"
    )


def test_the_pages_show_damaged_runs_and_keep_the_good_one_intact(corpus: Path, monkeypatch):
    monkeypatch.setenv("GDW_RUNS_DIR", str(corpus))

    def runs_script() -> None:
        from app.pages.navigation import runs_page

        runs_page()

    at = AppTest.from_function(runs_script).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("run")
    assert table.loc["good", "state"] == "completed"
    for case, (_, file, _) in CORPUS.items():
        assert table.loc[case, "state"].startswith(f"unreadable: {file}"), case

    at = AppTest.from_file(APP, default_timeout=30)
    for case in [*CORPUS, "folder-link-out"]:
        at.session_state["run_id"] = case
        at.run()
        assert not at.exception, (case, [e.value for e in at.exception])
        assert any("cannot be read" in e.value or "cannot be drawn" in e.value for e in at.error)
        label = at.selectbox(key="run_id").format_func(case)
        assert "unreadable" in label, case
    at.session_state["run_id"] = "good"
    for tab in TABS:
        at.session_state["tab"] = tab.title
        at.run()
        assert not at.exception and not at.error, (tab.key, [e.value for e in at.error])
    at.session_state["tab"] = tab_title("accuracy")
    at.run()
    overlay = next(box for box in at.multiselect if box.label == "Runs overlaid")
    assert overlay.options == ["GDW · good"]  # no damaged run is offered beside it
