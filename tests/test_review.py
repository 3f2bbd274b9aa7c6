"""The review store (gdw/runs/review.py) and the gallery's review mode across reruns and
sessions."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_label_issues import hand_run

import gdw  # noqa: F401  (imported here so that no AppTest run pays for importing torch)
from app.run_view.tab_table import tab_title
from app.run_view.tabs.label_review import verdict_options
from gdw.runs.review import (
    REVIEW_FILE,
    ReviewError,
    Verdict,
    corrected_labels,
    merge_reviews,
    read_reviews,
    record_verdicts,
)

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


def test_a_later_verdict_replaces_an_earlier_one() -> None:
    first = merge_reviews(
        read_reviews(Path("missing")),
        [
            Verdict(3, "train/cat/a.png", 0, "wrong", 2, reviewed_at=1.0),
            Verdict(1, "7", 1, "correct", reviewed_at=2.0),
        ],
    )
    table = merge_reviews(
        first,
        [
            Verdict(3, "train/cat/a.png", 0, "unsure", reviewed_at=3.0),
            Verdict(1, "7", 1, "unsure", reviewed_at=0.5),
        ],
    )  # older: kept out
    assert table["index"].tolist() == [1, 3]
    assert table["verdict"].tolist() == ["correct", "unsure"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"verdict": "maybe"}, "not one of"),
        ({"verdict": "wrong"}, "needs a new label"),
        ({"verdict": "correct", "new_label": 2}, "needs a new label"),
        ({"verdict": "wrong", "new_label": 0}, "is its given label"),
    ],
    ids=["unknown", "wrong-without-class", "correct-with-class", "wrong-to-itself"],
)
def test_bad_verdicts_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ReviewError, match=match):
        Verdict(index=1, source="1", given_label=0, **kwargs)


def test_verdicts_saved_from_many_threads_are_all_kept(tmp_path: Path) -> None:
    def save(index: int) -> None:
        record_verdicts(tmp_path, [Verdict(index, str(index), 0, "correct")])

    threads = [threading.Thread(target=save, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert read_reviews(tmp_path)["index"].tolist() == list(range(20))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_damaged_review_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / REVIEW_FILE).write_text("what,ever\n1,2\n")
    with pytest.raises(ReviewError, match="lacks"):
        read_reviews(tmp_path)


def test_corrected_labels_use_class_names_and_leave_out_canaries(tmp_path: Path) -> None:
    table = record_verdicts(
        tmp_path,
        [
            Verdict(1, "train/cat/1.png", 0, "wrong", 2),
            Verdict(2, "train/dog/2.png", 1, "wrong", 0),
            Verdict(4, "train/dog/4.png", 1, "correct"),
        ],
    )
    labels = corrected_labels(table, ["cat", "dog", "fox"], leave_out=[2])
    assert labels.to_dict("records") == [
        {"source": "train/cat/1.png", "old_label": "cat", "new_label": "fox"}
    ]


def test_verdict_options_put_the_suggested_class_first() -> None:
    assert verdict_options(4, 1, 3) == ["", "correct", "unsure", "wrong:3", "wrong:0", "wrong:2"]


def _gallery_app(runs_dir: Path, run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["run_id"] = run_id
    at.session_state["tab"] = tab_title("noise")
    at.session_state["review_mode"] = True
    return at.run()


def _verdict_box(at: AppTest, index: int):
    return next(s for s in at.selectbox if (s.key or "").startswith(f"verdict_hand_{index}_"))


def test_review_verdicts_survive_a_rerun_and_a_second_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("GDW_RUNS_DIR", str(runs_dir))
    path = hand_run(runs_dir)
    at = _gallery_app(runs_dir, "hand")
    assert not at.exception, [e.value for e in at.exception]
    _verdict_box(at, 14).set_value("wrong:2").run()
    _verdict_box(at, 12).set_value("correct").run()
    assert not at.exception, [e.value for e in at.exception]
    saved = pd.read_csv(path / REVIEW_FILE)
    assert saved[["index", "verdict"]].values.tolist() == [[12, "correct"], [14, "wrong"]]
    at.run()  # a rerun shows what is saved
    assert _verdict_box(at, 14).value == "wrong:2" and _verdict_box(at, 12).value == "correct"
    other = _gallery_app(runs_dir, "hand")  # a second tab
    assert _verdict_box(other, 14).value == "wrong:2"
    _verdict_box(other, 14).set_value("unsure").run()
    at.run()
    assert _verdict_box(at, 14).value == "unsure"  # the other tab's verdict shows here too
    assert _verdict_box(at, 12).value == "correct"


def test_the_gallery_shows_the_canary_trust_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("GDW_RUNS_DIR", str(runs_dir))
    hand_run(runs_dir, canary=[0, 0, 0, 1, 1])
    at = _gallery_app(runs_dir, "hand")
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Canaries found (AUROC)"] == "1.000"
    assert metrics["Canaries flagged"] == "50 %"
    assert {
        int(k.split("_")[2])
        for k in (s.key for s in at.selectbox)
        if k and k.startswith("verdict_")
    } == {
        10,
        11,
        12,
    }  # canaries are not reviewed


def test_an_upside_down_ranking_is_not_listed_without_a_warning_and_a_click(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("GDW_RUNS_DIR", str(runs_dir))
    hand_run(runs_dir, canary=[1, 1, 0, 0, 0], noise=False)  # the canaries score highest
    at = _gallery_app(runs_dir, "hand")
    assert not at.exception, [e.value for e in at.exception]
    assert any("upside down" in warning.value for warning in at.warning)
    assert {m.label: m.value for m in at.metric}["Trust: AUROC on the canaries"] == "0.000"
    verdicts = [s for s in at.selectbox if (s.key or "").startswith("verdict_")]
    assert not verdicts and not at.get("image")
    at.toggle(key="show_inverted_hand").set_value(True).run()
    assert [s for s in at.selectbox if (s.key or "").startswith("verdict_")]
    at.selectbox(key="gallery_score_hand").set_value("given_prob").run()
    assert not at.exception, [e.value for e in at.exception]


def test_review_mode_shows_the_original_files_of_an_image_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image_folder
) -> None:
    from gdw import DataConfig, RunConfig, find_label_issues, load_run, run

    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("GDW_RUNS_DIR", str(runs_dir))
    root = image_folder(("cat", "dog"), train=8, test=2)
    data = DataConfig(dataset="imagefolder", data_root=str(root), num_meta=2)
    run_id = run(RunConfig(data=data, model="mlp", epochs=1), runs_dir=runs_dir).name
    at = _gallery_app(runs_dir, run_id)
    assert not at.exception, [e.value for e in at.exception]
    assert not [c.value for c in at.caption if "original unavailable" in c.value]
    shown = at.get("image")
    assert len(shown) == 12
    first = find_label_issues(load_run(runs_dir / run_id)).table["source"].iloc[0]
    (root / first).unlink()  # a moved file is reported, not raised
    at.run()
    assert not at.exception
    assert any("original unavailable" in c.value for c in at.caption)
