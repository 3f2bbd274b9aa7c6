"""The Train & explore page's body, under the sidebar and the title: starts the runs the sidebar
asked for, then shows this server's jobs, the run being looked at and its tabs.

Imported once the training page's sidebar is drawn (on a cold server, a moment later: see
:mod:`app.pages.navigation`). It brings the charting code; torch comes with the first run
started, the first images shown, or the device list drawn at the end of the page.
"""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from app.analysis.run_tables import STATE_ICONS, opening_run, run_label
from app.run_view.view import run_view
from app.server.job_info import JobInfo
from app.server.runs_folder import all_runs, job_manager, runs_dir
from gdw import RunConfig, corruption_text, method_label, method_spec

__all__ = ["render"]

# Every fragment run costs the server and the browser CPU time that a run training on the same
# machine would use, so the job list is looked at every 5 s, and every second only while a run
# just started from this page has not made its folder yet.
JOBS_EVERY = 5.0
JOBS_EVERY_STARTING = 1.0


def _job_text(job: JobInfo) -> str:
    config = job.config
    method = method_label(config.method)
    text = f"**{method}** on {config.data.dataset} · {corruption_text(asdict(config.data))}"
    if job.state == "queued":
        return (
            f"{text} — :orange-badge[:material/schedule: queued on {job.device}, "
            f"position {job.queue_position}]"
        )
    if job.state == "starting":
        return f"{text} — :blue-badge[:material/downloading: loading data on {job.device}]"
    return f"{text} — :green-badge[:material/play_circle: training on {job.device}] `{job.run_id}`"


def _jobs_body() -> None:
    manager = job_manager()
    jobs = manager.jobs()
    active = [job for job in reversed(jobs) if job.active]
    signature = tuple((job.job_id, job.state, job.run_id) for job in active)
    previous = st.session_state.get("jobs_signature")
    st.session_state["jobs_signature"] = signature
    follow = st.session_state.get("follow_job")
    followed = manager.job(follow) if follow else None
    if followed is not None and followed.run_id:
        # Show the run just started (of a comparison, its class-level method's run: the page
        # stays on it while the baselines train after it, instead of jumping to each).
        st.session_state["run_id"] = followed.run_id
        del st.session_state["follow_job"]
        st.rerun()
    if previous is not None and signature != previous:
        st.rerun()  # a job started or ended: redraw the page (run list, live views)
    dismissed = st.session_state.setdefault("dismissed_jobs", set())
    for job in jobs:
        if job.state == "failed" and job.job_id not in dismissed:
            text, button = st.columns([8, 1], vertical_alignment="center")
            text.error(
                f"Could not start {method_label(job.config.method)} on "
                f"{job.config.data.dataset}: {job.error}",
                icon=":material/error:",
            )
            button.button(
                "Dismiss", key=f"dismiss_{job.job_id}", on_click=dismissed.add, args=(job.job_id,)
            )
    if not active:
        return
    with st.container(border=True):
        st.markdown("**Jobs of this server** · one at a time per device, in order")
        for job in active:
            text, button = st.columns([8, 1], vertical_alignment="center")
            text.markdown(_job_text(job))
            label = "Cancel" if job.state == "queued" else "Stop"
            if job.stop_requested:
                button.caption("stopping…")
            else:  # a callback: a click must not be lost to one of the reruns above
                button.button(
                    label,
                    key=f"job_{label.lower()}_{job.job_id}",
                    on_click=manager.stop,
                    args=(job.job_id,),
                )


def _start(action: str, config: RunConfig) -> None:
    manager = job_manager()
    if action in ("compare", "compare-ablation"):
        jobs = manager.submit_comparison(config, ablations=action == "compare-ablation")
        names = ", ".join(method_label(job.config.method) for job in jobs)
        st.toast(f"Queued {names} on the same data and seed", icon=":material/balance:")
    else:
        jobs = [manager.submit(config)]
        st.toast(f"Queued {method_label(config.method)}", icon=":material/play_arrow:")
    shown = [job for job in jobs if method_spec(job.config.method).weight_kind == "class"]
    st.session_state["follow_job"] = (shown or jobs)[0].job_id


def _run_choice(run_ids: list[str]) -> str | None:
    runs = {run.run_id: run for run in all_runs()}
    options = [rid for rid in run_ids if rid in runs]
    if not options:
        return None
    if st.session_state.get("run_id") not in options:
        opening = opening_run([runs[rid] for rid in options])
        st.session_state["run_id"] = opening.run_id if opening else options[0]

    def label(rid: str) -> str:
        run = runs[rid]
        if run.problems:
            return f"{STATE_ICONS['unreadable']} {rid} — unreadable: {run.reason}"
        return (
            f"{STATE_ICONS.get(run.state, '•')} {run_label(run)} — "
            f"{run.config.get('config', {}).get('data', {}).get('dataset')}, "
            f"{corruption_text(run.config.get('config', {}).get('data', {}))}"
        )

    return st.selectbox(
        "Run",
        options,
        key="run_id",
        format_func=label,
        help=f"every run in the runs folder `{runs_dir()}`, newest first",
    )


def render(config: RunConfig | None, action: str | None) -> None:
    """The training page's main area under its title: starts what the sidebar asked for, then
    the jobs, the run being looked at and its charts."""
    if action and config is not None:
        _start(action, config)
    starting = "follow_job" in st.session_state
    st.fragment(_jobs_body, run_every=JOBS_EVERY_STARTING if starting else JOBS_EVERY)()
    run_ids = [run.run_id for run in all_runs()]
    chosen = _run_choice(run_ids)
    if chosen is None:
        st.info(
            f"No runs yet in `{runs_dir()}`. Choose a dataset and settings in the sidebar "
            "and press **Start** — digits with the defaults takes about a minute on a "
            "laptop CPU. **Start GDW + MW-Net + ERM** trains the three methods on the same "
            "data for a side-by-side comparison.",
            icon=":material/arrow_back:",
        )
        return
    run_view(chosen)
