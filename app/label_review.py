"""The most distrusted labels: the gallery, its CSV, a review mode and the corrected labels.

The list is ``gdw label-issues``' own (:func:`gdw.find_label_issues`, up to the chosen epoch),
so the download is the same CSV the command writes. In review mode a person gives each shown
example a verdict; every verdict is saved at once in the run folder's ``review.csv``
(:func:`gdw.record_verdicts`, atomic and locked), so a refresh or a second tab finds it. The
widgets are keyed by the saved verdict, so a verdict saved elsewhere shows on the next rerun.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from gdw import (
    FLAG_RULE,
    REVIEW_COLUMNS,
    TRUST_GOOD,
    DataError,
    LabelIssues,
    LabelIssuesError,
    ReviewError,
    Run,
    Verdict,
    corrected_labels_csv,
    find_label_issues,
    held_scores,
    label_issues_csv,
    read_reviews,
    record_verdicts,
    run_default_score,
    score_spec,
    source_file,
    trust_warning,
)

__all__ = ["GALLERY_SIZE", "gallery", "verdict_options"]

GALLERY_SIZE = 12
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


def _show_original(run: Run, source: str) -> bool:
    """Shows the example's own file (imagefolder); False when it cannot be read."""
    data = run.data
    try:
        path = source_file(data.get("data_root", "data"), source)
        st.image(_original(str(path), path.stat().st_mtime_ns))
        return True
    except (DataError, OSError, ValueError, Image.DecompressionBombError) as error:
        st.caption(f"original unavailable: {error}")
        return False


def _trust(summary: dict) -> None:
    """The ranking's measured trust, and the canaries' numbers when it has some."""
    measured, canaries = summary["trust"], summary["canaries"]
    cols = st.columns(4 if canaries else 1)
    auroc = measured["auroc"]
    cols[0].metric(
        f"Trust: AUROC on the {measured['source']}",
        "n/a" if auroc is None else f"{auroc:.3f}",
        help="the probability that an example known to be mislabelled scores below a "
        f"correct one: 1 finds them all first, 0.5 is chance, below 0.5 the ranking is "
        f"upside down; below {TRUST_GOOD} the list is only a weak hint",
    )
    if canaries is None:
        return
    cols[1].metric(
        "Canaries found (AUROC)",
        "n/a" if canaries["auroc"] is None else f"{canaries['auroc']:.3f}",
        help="planted errors against every other example. Real errors among the others "
        "score low too, so on noisy data even a good ranking stays below 1: read it with "
        "the share flagged",
    )
    cols[2].metric(
        f"Canaries in the top {canaries['k']}",
        f"{100 * canaries['recall_at_k']:.0f} %",
        help="share of the planted errors among as many lowest scores as are flagged",
    )
    cols[3].metric(
        "Canaries flagged",
        f"{100 * canaries['flag_recall']:.0f} %",
        help=f"of {canaries['count']} planted errors (left out of the list below)",
    )


def _score_choice(run: Run) -> str:
    """The score the gallery ranks by: the run's default unless the user picks another of the
    scores its recorded arrays allow."""
    options = held_scores(run)
    default = run_default_score(run)
    if default not in options:
        options = [default, *options]
    return str(
        st.selectbox(
            "Rank by",
            options,
            index=options.index(default),
            key=f"gallery_score_{run.run_id}",
            format_func=lambda s: score_spec(s).label + (" (default)" if s == default else ""),
            help="\n".join(
                f"- **{score_spec(s).label}**: {score_spec(s).description}" for s in options
            ),
        )
    )


def gallery(
    run: Run,
    epoch: int,
    *,
    noisy_run: bool,
    show_image: Callable[[Run, int, int], np.ndarray | None],
    on_inspect: Callable[..., None],
) -> None:
    """The ranked list up to ``epoch`` with its trust estimate, downloads and review mode.

    ``show_image(run, index, size)`` gives an example's training image (or None);
    ``on_inspect(index, to_inspector=True)`` opens it in the inspector.
    """
    score = _score_choice(run)
    try:
        issues = find_label_issues(run, score=score, until=epoch, allow_running=True)
    except LabelIssuesError as error:
        st.info(str(error), icon=":material/info:")
        return
    table, summary, classes = issues.table, issues.summary, run.classes
    first, last = summary["epochs"]
    st.subheader(f"Most distrusted labels, epochs {first}–{last}")
    st.caption(
        f"Ranked by the {summary['score_label']} ({score_spec(score).description}), averaged "
        f"over the epochs shown; lowest first. *Suggested* is the class predicted most often. "
        f"Marked ⚑: {FLAG_RULE}."
    )
    _trust(summary)
    warning = trust_warning(summary)
    if warning is not None:
        st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/warning:")
        if summary["trust"]["verdict"] == "inverted" and not st.toggle(
            "Show the list anyway", key=f"show_inverted_{run.run_id}"
        ):
            return
    reviews = _reviews(run)
    cols = st.columns([2, 1])
    review = cols[0].toggle(
        "Review mode",
        key="review_mode",
        help="mark each example: label correct, wrong (and its class) or "
        "unsure; saved in the run folder at once",
    )
    pages = max(1, -(-len(table) // GALLERY_SIZE))
    page = cols[1].number_input(
        "Page", min_value=1, max_value=pages, value=1, step=1, key=f"gallery_page_{run.run_id}"
    )
    shown = table.iloc[(int(page) - 1) * GALLERY_SIZE :][:GALLERY_SIZE]
    own_files = run.dataset == "imagefolder"
    truth = _truth(run) if noisy_run else {}
    columns = st.columns(6)
    for number, item in enumerate(shown.itertuples(index=False)):
        index, given, suggested = int(item.index), int(item.given_label), int(item.suggested_label)
        with columns[number % 6]:
            if not (review and own_files and _show_original(run, str(item.source))):
                image = show_image(run, index, 112)
                if image is not None:
                    st.image(image)
            flag = " ⚑" if item.is_label_issue else ""
            known = ""
            if index in truth:
                mark = "✗" if truth[index] != given else "✓"
                known = f" · true **{classes[truth[index]]}** {mark}"
            st.caption(
                f"#{index}{flag} · given **{classes[given]}**{known}  \n"
                f"suggested **{classes[suggested]}** · score {item.label_score:.2f}"
            )
            if review:
                _verdict_box(run, reviews, index, str(item.source), given, suggested)
            else:
                st.button(
                    ":material/search: Inspect",
                    key=f"inspect_{index}",
                    on_click=on_inspect,
                    args=(index,),
                    kwargs={"to_inspector": True},
                )
    _downloads(run, issues, reviews)


def _truth(run: Run) -> dict[int, int]:
    instances = run.instances
    return dict(zip(instances["index"].astype(int), instances["true_label"].astype(int)))


def _reviews(run: Run) -> pd.DataFrame:
    problem = st.session_state.pop("review_problem", None)
    if problem:
        st.error(problem, icon=":material/error:")
    try:
        return read_reviews(run.path)
    except ReviewError as error:
        st.error(str(error), icon=":material/error:")
        return pd.DataFrame(columns=list(REVIEW_COLUMNS))


def _verdict_box(
    run: Run, reviews: pd.DataFrame, index: int, source: str, given: int, suggested: int
) -> None:
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


def _downloads(run: Run, issues: LabelIssues, reviews: pd.DataFrame) -> None:
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
