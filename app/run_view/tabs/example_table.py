"""The inspector's table of examples, filtered by noise and given label and ordered by the
given-class weight or the dataset index; clicking a row picks its example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.analysis.weights import given_weights, nontarget_mean
from app.run_view.tabs.example_choice import pick_example
from gdw import Run

__all__ = ["example_table"]

TABLE_ROWS = 300


def example_table(run: Run, epoch: int) -> None:
    """The examples matching the filters chosen, at most TABLE_ROWS of them, at ``epoch``."""
    instances = run.instances
    classes = run.classes
    cols = st.columns(3)
    which = cols[0].segmented_control(
        "Examples", ["all", "noisy", "clean"], default="all", key="table_which", required=True
    )
    label = cols[1].selectbox("Given label", ["any", *classes], key="table_label")
    order = cols[2].selectbox(
        "Order", ["lowest given-class weight", "dataset index"], key="table_order"
    )
    given = instances["given_label"].to_numpy()
    weights = run.weights(epoch)
    score = given_weights(weights, given)
    keep = np.ones(len(instances), dtype=bool)
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    if which == "noisy":
        keep &= noisy
    elif which == "clean":
        keep &= ~noisy
    if label != "any":
        keep &= given == classes.index(label)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(score[rows], kind="stable")] if order.startswith("lowest") else rows
    rows = rows[:TABLE_ROWS]
    table = pd.DataFrame(
        {
            "index": instances["index"].to_numpy()[rows],
            "given": [classes[c] for c in given[rows]],
            "true": [classes[c] for c in instances["true_label"].to_numpy()[rows]],
            "noisy": noisy[rows],
            "given-class weight": score[rows],
            "mean 'not' weight": nontarget_mean(weights[rows], given[rows]),
        }
    )
    st.session_state["table_indices"] = table["index"].tolist()
    st.dataframe(
        table,
        hide_index=True,
        key="example_table",
        on_select=_pick_from_table,
        selection_mode="single-row",
        height=300,
    )
    st.caption(
        f"{keep.sum()} matching examples; the first {len(rows)} shown. Click a row to inspect it."
    )


def _pick_from_table() -> None:
    chosen = st.session_state["example_table"]["selection"]["rows"]
    if chosen:
        pick_example(st.session_state["table_indices"][chosen[0]])
