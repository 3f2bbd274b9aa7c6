"""The most distrusted labels, as a gallery: ranked by a score the user may change, with the
ranking's measured trust, a page at a time, each example with its image, labels and a button
that opens it in the inspector. Review mode and the downloads are
:mod:`~app.run_view.tabs.label_review`'s.

The list is ``gdw label-issues``' own (:func:`gdw.find_label_issues`, up to the chosen epoch).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from app.figures.noise import trust_figure
from app.run_view.tabs.label_review import downloads, saved_reviews, show_original, verdict_box
from gdw import (
    FLAG_RULE,
    TRUST_GOOD,
    LabelIssuesError,
    Run,
    find_label_issues,
    held_scores,
    improving_note,
    run_default_score,
    score_spec,
    trust_warning,
)

__all__ = ["GALLERY_SIZE", "gallery"]

GALLERY_SIZE = 12


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


def _trust_over_epochs(summary: dict) -> None:
    """The trust after each epoch, and the plain line when it was still rising at the end."""
    points = summary["trust_by_epoch"]
    if len(points) > 1 and any(point["auroc"] is not None for point in points):
        st.plotly_chart(
            trust_figure(points, source=summary["trust"]["source"]),
            key=f"trust_curve_{summary['run']}",
        )
    note = improving_note(summary)
    if note is not None:
        more = " (Train longer, at the top of this run's page)" if summary["finished"] else ""
        st.info(note[0].upper() + note[1:] + more + ".", icon=":material/trending_up:")


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
    on_inspect: Callable[[int], None],
) -> None:
    """The ranked list up to ``epoch`` with its trust estimate, downloads and review mode.

    ``show_image(run, index, size)`` gives an example's training image (or None);
    ``on_inspect(index)`` opens it in the inspector.
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
    _trust_over_epochs(summary)
    warning = trust_warning(summary)
    if warning is not None:
        st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/warning:")
        if summary["trust"]["verdict"] == "inverted" and not st.toggle(
            "Show the list anyway", key=f"show_inverted_{run.run_id}"
        ):
            return
    reviews = saved_reviews(run)
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
            if not (review and own_files and show_original(run, str(item.source))):
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
                verdict_box(run, reviews, index, str(item.source), given, suggested)
            else:
                st.button(
                    ":material/search: Inspect",
                    key=f"inspect_{index}",
                    on_click=on_inspect,
                    args=(index,),
                )
    downloads(run, issues, reviews)


def _truth(run: Run) -> dict[int, int]:
    instances = run.instances
    return dict(zip(instances["index"].astype(int), instances["true_label"].astype(int)))
