"""Review mode: a person gives each example the gallery shows a verdict, and downloads the
ranked list and the corrected labels.

Every verdict is saved at once in the run folder's ``review.csv`` (:func:`gdw.record_verdicts`,
atomic and locked), so a refresh or a second tab finds it. The widgets are keyed by the saved
verdict, so a verdict saved elsewhere shows on the next rerun. The ranked list's download is the
same CSV ``gdw label-issues`` writes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from gdw import (
    REVIEW_COLUMNS,
    DataError,
    LabelIssues,
    ReviewError,
    Run,
    Verdict,
    corrected_labels_csv,
    label_issues_csv,
    read_reviews,
    record_verdicts,
    source_file,
)

__all__ = ["downloads", "saved_reviews", "show_original", "verdict_box", "verdict_options"]

ORIGINAL_SIZE = 224  # longest side of an original image in review mode
_NOT_REVIEWED = ""


def verdict_options(n_classes: int, given: int, suggested: int) -> list[str]:
    """A verdict selector's options: not reviewed, correct, unsure, then ``wrong:<class>`` for
    every other class, the suggested one first."""
    others = [c for c in range(n_classes) if c != given]
    others.sort(key=lambda c: c != suggested)
    return [_NOT_REVIEWED, "correct", "unsure", *[f"wrong:{c}" for c in others]]


def _saved_option(reviews: pd.DataFrame, index: int) -> tuple[str, str]:
    """The saved verdict of ``index`` as an option, and a stamp that changes when it does."""
    saved = reviews[reviews["index"] == index]
    if saved.empty:
        return _NOT_REVIEWED, "none"
    row = saved.iloc[-1]
    option = f"wrong:{int(row['new_label'])}" if row["verdict"] == "wrong" else row["verdict"]
    return str(option), f"{float(row['reviewed_at']):.6f}"


def _save(run_dir: str, key: str, index: int, source: str, given: int) -> None:
    option = st.session_state.get(key, _NOT_REVIEWED)
    if option == _NOT_REVIEWED:
        return
    verdict, _, new = option.partition(":")
    try:
        record_verdicts(
            run_dir,
            [
                Verdict(
                    index=index,
                    source=source,
                    given_label=given,
                    verdict=verdict,
                    new_label=int(new) if new else None,
                )
            ],
        )
    except (ReviewError, OSError) as error:
        st.session_state["review_problem"] = f"verdict not saved: {error}"


@st.cache_data(max_entries=256, show_spinner=False)
def _original(path: str, stamp: int) -> np.ndarray:
    with Image.open(path) as image:
        image.thumbnail((ORIGINAL_SIZE, ORIGINAL_SIZE))
        return np.asarray(image.convert("RGB"))


def show_original(run: Run, source: str) -> bool:
    """Shows the example's own file (imagefolder); False when it cannot be read."""
    data = run.data
    try:
        path = source_file(data.get("data_root", "data"), source)
        st.image(_original(str(path), path.stat().st_mtime_ns))
        return True
    except (DataError, OSError, ValueError, Image.DecompressionBombError) as error:
        st.caption(f"original unavailable: {error}")
        return False


def saved_reviews(run: Run) -> pd.DataFrame:
    """The verdicts saved in the run folder (empty, saying why, when they cannot be read), after
    the error of the last verdict that could not be saved, if any."""
    problem = st.session_state.pop("review_problem", None)
    if problem:
        st.error(problem, icon=":material/error:")
    try:
        return read_reviews(run.path)
    except ReviewError as error:
        st.error(str(error), icon=":material/error:")
        return pd.DataFrame(columns=list(REVIEW_COLUMNS))


def verdict_box(
    run: Run, reviews: pd.DataFrame, index: int, source: str, given: int, suggested: int
) -> None:
    """The verdict selector of one example, showing its saved verdict; a choice is saved at once."""
    classes = run.classes
    options = verdict_options(len(classes), given, suggested)
    saved, stamp = _saved_option(reviews, index)
    if saved != _NOT_REVIEWED:
        options.remove(_NOT_REVIEWED)
    names = {_NOT_REVIEWED: "— not reviewed —", "correct": "label correct", "unsure": "unsure"}
    key = f"verdict_{run.run_id}_{index}_{stamp}"
    st.selectbox(
        "Verdict",
        options,
        index=options.index(saved),
        key=key,
        format_func=lambda o: names.get(o) or f"label wrong → {classes[int(o[6:])]}",
        label_visibility="collapsed",
        on_change=_save,
        args=(str(run.path), key, index, source, given),
    )


def downloads(run: Run, issues: LabelIssues, reviews: pd.DataFrame) -> None:
    """How many examples are reviewed, and the downloads: the ranked list and the corrected
    labels (the canaries left out)."""
    instances = run.instances
    canaries = instances["index"][instances["is_canary"] == 1] if "is_canary" in instances else []
    wrong = int((reviews["verdict"] == "wrong").sum())
    st.caption(f"{len(reviews)} reviewed ({wrong} wrong) — saved in `{run.path.name}/review.csv`.")
    cols = st.columns(2)
    cols[0].download_button(
        ":material/download: The ranked list (CSV)",
        label_issues_csv(issues.table),
        file_name=f"{run.run_id}-label-issues.csv",
        mime="text/csv",
        key="issues_download",
        on_click="ignore",
        help="the same CSV as `python -m gdw label-issues RUN_DIR`",
    )
    cols[1].download_button(
        ":material/download: Corrected labels (CSV)",
        corrected_labels_csv(reviews, run.classes, leave_out=list(canaries)),
        file_name=f"{run.run_id}-corrected-labels.csv",
        mime="text/csv",
        key="corrections_download",
        on_click="ignore",
        disabled=wrong == 0,
        help="source, old_label, new_label of every example you marked wrong",
    )
