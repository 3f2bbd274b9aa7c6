"""One run in the page: its progress on top and its tabs below, re-read while it is live.

Live parts are fragments with ``run_every`` that re-read the run folder (through the cached
reads of :mod:`app.server.runs_folder`, so only changed files are parsed); only the open tab is
drawn, by the function :mod:`~app.run_view.tab_table` gives it. Nothing here is called by the
training threads.
"""

from __future__ import annotations

import streamlit as st

from app.run_view.progress import progress_panel
from app.run_view.tab_table import TABS, Tab
from app.run_view.tabs import configuration
from app.server.runs_folder import get_run
from gdw import Run

__all__ = ["CHARTS_EVERY", "PROGRESS_EVERY", "run_view"]

# A live page costs the training CPU time: each fragment run takes the server and, more, the
# browser CPU time, and redrawing the charts costs the browser most (on a 2-core machine,
# following a run's charts every 3 s slowed its training by a quarter). So a live run is
# followed at two paces: the progress panel every 5 s, the tabs (charts, tables, images)
# every 10 s.
PROGRESS_EVERY = 5.0  # seconds between re-reads of a live run's progress
CHARTS_EVERY = 10.0  # seconds between redraws of a live run's tabs

# The files each tab reads: a tab whose files are damaged says so instead of drawing.
_WEIGHT_FILES = ("weights.npy", "instances.csv", "metrics.csv", "config.json")


def _progress_body(run_id: str, was_live: bool) -> None:
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {run_id} is gone from the runs folder.")
        return
    if was_live and run.state != "running":
        st.rerun()  # the run ended: redraw the page once, without the timers
    progress_panel(run)


def _tabs_body(run_id: str, had_epochs: bool) -> None:
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {run_id} is gone from the runs folder.")
        return
    if run.state == "unreadable" and (not run.config or "metrics.csv" in run.problems):
        if run.config:
            configuration.draw(run)
        return
    if run.epochs_done == 0:
        if run.state == "running":
            st.info("Waiting for the first epoch to finish…", icon=":material/hourglass_top:")
        else:
            st.info(
                "No epoch finished in this run, so there is nothing to plot.",
                icon=":material/info:",
            )
        return
    if not had_epochs:
        st.rerun()  # the first epoch is in: redraw the page, now at the charts' pace
    shown = st.tabs([tab.title for tab in TABS], key="tab", on_change="rerun")
    for container, tab in zip(shown, TABS, strict=True):
        if container.open is False:
            continue
        with container:
            _draw_tab(tab, run)


def _draw_tab(tab: Tab, run: Run) -> None:
    damaged = [f"{file}: {run.problems[file]}" for file in _WEIGHT_FILES if file in run.problems]
    if tab.per_example and damaged:
        st.error(f"This view cannot be drawn: {'; '.join(damaged)}", icon=":material/broken_image:")
        return
    if tab.per_example and not len(run.instances):
        st.info(
            "This run recorded no per-example weights (its record limit was 0); only the "
            "accuracy curves and the configuration are available.",
            icon=":material/info:",
        )
        return
    tab.draw(run)


def run_view(run_id: str) -> None:
    """Progress and the tabs, re-read while the run is live (see ``PROGRESS_EVERY`` and
    ``CHARTS_EVERY``)."""
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {run_id} is not readable (yet).")
        return
    live, has_epochs = run.state == "running", run.epochs_done > 0
    error = st.session_state.pop("resume_error", None)
    if error:
        st.error(error, icon=":material/error:")
    st.fragment(_progress_body, run_every=PROGRESS_EVERY if live else None)(run_id, live)
    # Until the first epoch is in, look for it at the progress panel's pace.
    tabs_every = (CHARTS_EVERY if has_epochs else PROGRESS_EVERY) if live else None
    st.fragment(_tabs_body, run_every=tabs_every)(run_id, has_epochs)
