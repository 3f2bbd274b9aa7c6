"""The Runs page's body: every run of the runs folder, live or old, with its state and accuracy;
a run chosen opens on the training page."""

from __future__ import annotations

import streamlit as st

from app.analysis.run_tables import STATE_ICONS, runs_table
from app.server.runs_folder import all_runs, get_run, runs_dir

__all__ = ["render"]


def _runs_table(train_page: st.Page) -> None:
    runs = all_runs()
    table = runs_table(runs)
    st.caption(f"{len(runs)} run(s) in `{runs_dir()}` — refreshed every few seconds.")
    if not len(table):
        st.info(
            "No runs yet: start one on the *Train & explore* page, or from a terminal with "
            f"`python -m gdw train --runs-dir {runs_dir()}`."
        )
        return
    table.insert(0, "", [STATE_ICONS.get(run.state, "•") for run in runs])
    event = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="runs_table"
    )
    chosen = event.selection.rows if event else []
    if chosen:
        run_id = table["run"].iloc[chosen[0]]
        run = get_run(run_id)
        if run is not None and st.button(f"Open {run_id} in Train & explore", type="primary"):
            st.session_state["run_id"] = run_id
            st.switch_page(train_page)


def render(train_page: st.Page) -> None:
    """Every run of the runs folder, live or old, with its state and accuracy; a run chosen
    opens in ``train_page``."""
    st.title("Runs")
    st.fragment(_runs_table, run_every=3.0)(train_page)
