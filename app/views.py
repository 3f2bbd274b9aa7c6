"""Rendering of one run: progress, the epoch picker and the tabs of charts.

Live parts are fragments with ``run_every`` that re-read the run folder (through the cached
reads of :mod:`app.server.runs_folder`, so only changed files are parsed); only the open tab is
drawn.
Nothing here is called by the training threads.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app import inspector, noise_finding, run_tabs
from app.analysis.run_progress import format_seconds, progress_of
from app.charting import TAB_TITLES
from app.server.runs_folder import get_run, job_manager
from gdw import RESUMABLE, ConfigError, Run, corruption_text, method_label

__all__ = ["run_view", "progress_panel", "epoch_picker"]

# A live page costs the training CPU time: each fragment run takes the server and, more, the
# browser CPU time, and redrawing the charts costs the browser most (on a 2-core machine,
# following a run's charts every 3 s slowed its training by a quarter). So a live run is
# followed at two paces: the progress panel every 5 s, the tabs (charts, tables, images)
# every 10 s.
PROGRESS_EVERY = 5.0  # seconds between re-reads of a live run's progress
CHARTS_EVERY = 10.0  # seconds between redraws of a live run's tabs
BADGES = {
    "running": ":green-badge[:material/play_circle: running]",
    "completed": ":blue-badge[:material/check_circle: completed]",
    "stopped": ":gray-badge[:material/stop_circle: stopped]",
    "failed": ":red-badge[:material/error: failed]",
    "interrupted": ":orange-badge[:material/warning: interrupted]",
    "unreadable": ":red-badge[:material/broken_image: unreadable]",
}
# The files each tab reads: a tab whose files are damaged says so instead of drawing.
_WEIGHT_FILES = ("weights.npy", "instances.csv", "metrics.csv", "config.json")


def _title(run: Run) -> str:
    return f"{method_label(run.method)} on {run.dataset} · {corruption_text(run.data)}"


def progress_panel(run: Run) -> None:
    """State, progress bar, epoch/step, elapsed and ETA; Stop for a job of this process."""
    run_id = run.run_id
    progress = progress_of(run.status, run.metrics)
    state = progress["state"] = run.state
    manager = job_manager()
    job = manager.job_for_run(run_id)
    badge = BADGES.get(state, state)
    cols = st.columns([2, 1.2, 1.2, 1.2, 1.2])
    cols[0].markdown(f"**{_title(run)}**  \n`{run_id}` · {badge}")
    epochs = progress["epochs"] or run.planned_epochs or "?"
    cols[1].metric("Epoch", f"{run.epochs_done} / {epochs}")
    step = f"{progress['step']} / {progress['steps']}" if progress["steps"] else "–"
    cols[2].metric("Step in epoch", step if state == "running" else "–")
    cols[3].metric("Elapsed", format_seconds(progress["elapsed"]))
    cols[4].metric("ETA", format_seconds(progress["eta"]) if state == "running" else "–")
    if state == "running":
        bar, stop = st.columns([6, 1], vertical_alignment="center")
        bar.progress(progress["fraction"], text=f"{100 * progress['fraction']:.0f} %")
        if job is not None:
            if job.stop_requested:
                stop.caption("stopping…")
            else:
                stop.button(
                    "Stop",
                    icon=":material/stop:",
                    key=f"stop_{run_id}",
                    type="primary",
                    on_click=manager.stop,
                    args=(job.job_id,),
                )
    elif state == "unreadable":
        st.error(
            f"Part of this run cannot be read, so it is shown as far as it is intact: {run.reason}",
            icon=":material/broken_image:",
        )
    elif state == "failed":
        st.error(
            f"This run failed: {run.status.get('error') or 'no message recorded'}",
            icon=":material/error:",
        )
    elif state == "stopped":
        st.info(
            f"Stopped by request after {run.epochs_done} epoch(s).", icon=":material/stop_circle:"
        )
    elif state == "interrupted":
        st.warning(
            f"Interrupted: the process training this run (on {run.status.get('host')}) "
            f"ended without finishing it, after {run.epochs_done} epoch(s).",
            icon=":material/warning:",
        )
    if state in RESUMABLE:
        _resume_button(run, job)


def _resume_button(run: Run, job) -> None:  # type: ignore[no-untyped-def]
    """Resume: continue from the last finished epoch (a job of this server's job manager)."""
    if job is not None:
        st.caption(
            f"Queued to resume (position {job.queue_position})"
            if job.queue_position
            else "Resuming…"
        )
        return
    st.button(
        "Resume",
        icon=":material/play_arrow:",
        key=f"resume_{run.run_id}",
        help="continue from the last finished epoch, in the same folder; the result is "
        "the same as if the run had never stopped",
        on_click=_resume,
        args=(run.run_id,),
    )


def _resume(run_id: str) -> None:
    try:
        job_manager().submit_resume(run_id)
    except ConfigError as error:
        st.session_state["resume_error"] = str(error)


def epoch_picker(run: Run, *, start: int | None = None) -> int:
    """An epoch slider that follows the newest epoch of a live run until the user moves it;
    ``start`` moves it to that epoch first (the inspector's opening on a story)."""
    latest = run.epochs_done
    key, seen_key = f"epoch_{run.run_id}", f"epoch_latest_{run.run_id}"
    previous = st.session_state.get(seen_key)
    if start is not None:
        st.session_state[key] = start
    elif key not in st.session_state or st.session_state[key] == previous:
        st.session_state[key] = latest
    st.session_state[key] = min(max(1, st.session_state[key]), latest)
    st.session_state[seen_key] = latest
    if latest == 1:
        st.caption("Epoch 1 (the only one recorded so far)")
        return 1
    return int(
        st.slider(
            "Epoch",
            1,
            latest,
            key=key,
            help="weights as each example got them at its visit in this epoch; "
            "follows the newest epoch while you leave it at the end",
        )
    )


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
            run_tabs.configuration_tab(run)
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
    tabs = st.tabs(list(TAB_TITLES.values()), key="tab", on_change="rerun")
    for tab, key in zip(tabs, TAB_TITLES, strict=True):
        if tab.open is False:
            continue
        with tab:
            _draw_tab(key, run)


def _draw_tab(key: str, run: Run) -> None:
    draw, per_example = _TAB_RENDERERS[key]
    damaged = [f"{file}: {run.problems[file]}" for file in _WEIGHT_FILES if file in run.problems]
    if per_example and damaged:
        st.error(f"This view cannot be drawn: {'; '.join(damaged)}", icon=":material/broken_image:")
        return
    if per_example and not len(run.instances):
        st.info(
            "This run recorded no per-example weights (its record limit was 0); only the "
            "accuracy curves and the configuration are available.",
            icon=":material/info:",
        )
        return
    draw(run)


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


_TAB_RENDERERS: dict[str, tuple[Callable[[Run], None], bool]] = {
    "accuracy": (run_tabs.accuracy_tab, False),
    "inspector": (
        lambda run: inspector.inspector(run, epoch_picker(run, start=inspector.open_at_story(run))),
        True,
    ),
    "distributions": (lambda run: run_tabs.distributions_tab(run, epoch_picker(run)), True),
    "heatmap": (lambda run: run_tabs.heatmap_tab(run, epoch_picker(run)), True),
    "imbalance": (lambda run: run_tabs.imbalance_tab(run, epoch_picker(run)), True),
    "noise": (lambda run: noise_finding.noise_finding(run, epoch_picker(run)), True),
    "configuration": (run_tabs.configuration_tab, False),
}
"""Each tab of :data:`~app.charting.TAB_TITLES`: its renderer, and whether it reads the
per-example files (so a damaged or unrecorded run shows a message instead)."""
