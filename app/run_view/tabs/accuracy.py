"""The accuracy tab: the run's accuracy curves, overlaid with the runs chosen (those on the same
data and seed first), and their final numbers."""

from __future__ import annotations

import streamlit as st

from app.analysis.run_tables import comparable_runs, run_label
from app.figures.accuracy import ACCURACY_COLUMNS, accuracy_figure
from app.run_view.tabs.charts import chart
from app.server.runs_folder import all_runs
from gdw import Run

__all__ = ["draw"]


def draw(run: Run) -> None:
    """The accuracy curves of ``run`` and of the runs chosen beside it, and their numbers."""
    # Runs whose files are damaged are not offered: they must not affect this run's view.
    runs = [other for other in all_runs() if not other.problems or other.run_id == run.run_id]
    by_id = {other.run_id: other for other in runs}
    comparable = [r.run_id for r in comparable_runs(run, runs)]
    # A new key when a comparable run appears (a comparison's next method started), so that
    # the default selection includes it.
    key = f"overlay_{run.run_id}_{len(comparable)}"
    if key not in st.session_state:
        st.session_state[key] = comparable[:6]
    left, right = st.columns([3, 2])
    chosen = left.multiselect(
        "Runs overlaid",
        list(by_id),
        key=key,
        format_func=lambda rid: run_label(by_id[rid]),
        help="runs on the same data and seed are picked first: GDW vs MW-Net vs ERM at a glance",
    )
    default_measures = ["test_acc"] if len(chosen) > 1 else list(ACCURACY_COLUMNS)
    measures = right.multiselect(
        "Measures",
        list(ACCURACY_COLUMNS),
        default=default_measures,
        format_func=ACCURACY_COLUMNS.get,
        key=f"measures_{len(chosen) > 1}",
    )
    shown = [by_id[rid] for rid in chosen if rid in by_id] or [run]
    columns = measures or ["test_acc"]
    chart(
        "accuracy_chart",
        (tuple((r.run_id, r.epochs_done) for r in shown), tuple(columns)),
        lambda: accuracy_figure(shown, columns=columns),
    )
    rows = []
    for other in shown:
        metrics = other.metrics
        if len(metrics):
            test = metrics["test_acc"]
            rows.append(
                {
                    "run": run_label(other),
                    "state": other.state,
                    "epochs": other.epochs_done,
                    "last test acc %": round(100 * float(test.iloc[-1]), 2),
                    "best test acc %": round(100 * float(test.max()), 2),
                    "mean of last 5 %": round(100 * float(test.tail(5).mean()), 2),
                }
            )
    if rows:
        st.dataframe(rows, hide_index=True)
    st.caption(
        "Train accuracy against the *given* labels rises when a model memorises label "
        "noise; against the *true* labels it shows what the model really learned."
    )
