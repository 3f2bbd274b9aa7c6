"""The progress panel of a run: its state, epoch, step, elapsed time and ETA, with Stop for a run
this server trains, Resume for one that stopped, failed or was interrupted, and Train longer for
a completed one."""

from __future__ import annotations

import streamlit as st

from app.analysis.run_progress import format_seconds, progress_of
from app.server.runs_folder import job_manager
from gdw import RESUMABLE, ConfigError, Run, corruption_text, method_label

__all__ = ["BADGES", "progress_panel"]

BADGES = {
    "running": ":green-badge[:material/play_circle: running]",
    "completed": ":blue-badge[:material/check_circle: completed]",
    "stopped": ":gray-badge[:material/stop_circle: stopped]",
    "failed": ":red-badge[:material/error: failed]",
    "interrupted": ":orange-badge[:material/warning: interrupted]",
    "unreadable": ":red-badge[:material/broken_image: unreadable]",
}


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
    if run.epoch_changes:
        st.caption(_changes_text(run))
    if state in RESUMABLE:
        _resume_button(run, job)
    elif state == "completed":
        _train_longer(run, job)


def _changes_text(run: Run) -> str:
    """When the run was trained on to another total, and what that did to the schedule."""
    told = [
        f"after epoch {c['after_epoch']}, from {c['from']} to {c['to']} epochs"
        for c in run.epoch_changes
    ]
    return (
        f"Trained on {'; '.join(told)}: from then on the learning rate follows the cosine over "
        "the new total instead of the old one (for a completed run, up again from zero, like a "
        "warm restart)."
    )


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


def _train_longer(run: Run, job) -> None:  # type: ignore[no-untyped-def]
    """Train longer: a completed run goes on for more epochs in its folder (its ranking of
    suspected label errors may still have been improving when it stopped)."""
    if job is not None:
        st.caption(
            f"Queued to train on (position {job.queue_position})"
            if job.queue_position
            else "Training on…"
        )
        return
    more, button, _ = st.columns([1.2, 1.2, 4], vertical_alignment="bottom")
    more.number_input("More epochs", min_value=1, value=10, step=1, key=f"more_epochs_{run.run_id}")
    button.button(
        "Train longer",
        icon=":material/fast_forward:",
        key=f"train_longer_{run.run_id}",
        help="train this run on for that many more epochs, in the same folder; from the next "
        "epoch on the learning rate follows the cosine over the new total, up again from where "
        "the old one ended, like a warm restart",
        on_click=_extend,
        args=(run.run_id, run.epochs_done),
    )


def _extend(run_id: str, done: int) -> None:
    _resume(run_id, epochs=done + int(st.session_state[f"more_epochs_{run_id}"]))


def _resume(run_id: str, epochs: int | None = None) -> None:
    try:
        job_manager().submit_resume(run_id, epochs=epochs)
    except ConfigError as error:
        st.session_state["resume_error"] = str(error)
