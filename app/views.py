"""Rendering of one run: progress, the epoch picker and the tabs of charts.

Live parts are fragments with ``run_every`` that re-read the run folder (through the cached
reads of :mod:`app.context`, so only changed files are parsed); only the open tab is drawn.
Nothing here is called by the training threads.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app import analysis, figures, figures_story, inspector
from app.charting import TAB_TITLES, chart
from app.context import all_runs, get_run, job_manager
from gdw import RESUMABLE, ConfigError, Run, lean_words, method_label, recorded_method_spec

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
    return f"{method_label(run.method)} on {run.dataset} · {analysis.data_text(run.data)}"


def progress_panel(run: Run) -> None:
    """State, progress bar, epoch/step, elapsed and ETA; Stop for a job of this process."""
    run_id = run.run_id
    progress = analysis.progress_of(run.status, run.metrics)
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
    cols[3].metric("Elapsed", analysis.format_seconds(progress["elapsed"]))
    cols[4].metric("ETA", analysis.format_seconds(progress["eta"]) if state == "running" else "–")
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
            f"Part of this run cannot be read, so it is shown as far as it is intact: "
            f"{run.reason}",
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
            _configuration(run)
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


# -- tabs -------------------------------------------------------------------------------------


def _accuracy(run: Run) -> None:
    # Runs whose files are damaged are not offered: they must not affect this run's view.
    runs = [other for other in all_runs() if not other.problems or other.run_id == run.run_id]
    by_id = {other.run_id: other for other in runs}
    comparable = [r.run_id for r in analysis.comparable_runs(run, runs)]
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
        format_func=lambda rid: analysis.run_label(by_id[rid]),
        help="runs on the same data and seed are picked first: GDW vs MW-Net " "vs ERM at a glance",
    )
    default_measures = ["test_acc"] if len(chosen) > 1 else list(analysis.ACCURACY_COLUMNS)
    measures = right.multiselect(
        "Measures",
        list(analysis.ACCURACY_COLUMNS),
        default=default_measures,
        format_func=analysis.ACCURACY_COLUMNS.get,
        key=f"measures_{len(chosen) > 1}",
    )
    shown = [by_id[rid] for rid in chosen if rid in by_id] or [run]
    columns = measures or ["test_acc"]
    chart(
        "accuracy_chart",
        (tuple((r.run_id, r.epochs_done) for r in shown), tuple(columns)),
        lambda: figures.accuracy_figure(shown, columns=columns),
    )
    rows = []
    for other in shown:
        metrics = other.metrics
        if len(metrics):
            test = metrics["test_acc"]
            rows.append(
                {
                    "run": analysis.run_label(other),
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


def _story(run: Run) -> None:
    """The story chart: medians and quartiles of "dog", "not cat", "not bird" over epochs, for
    this run and the comparable ones chosen, next to kept_fraction and true_class_found."""
    runs = {other.run_id: other for other in analysis.comparable_runs(run, all_runs())}
    left, right = st.columns([3, 2])
    key = f"story_runs_{run.run_id}_{len(runs)}"
    if key not in st.session_state:
        st.session_state[key] = [run.run_id]
    chosen = left.multiselect(
        "Runs shown",
        list(runs),
        key=key,
        format_func=lambda rid: analysis.run_label(runs[rid]),
        help="runs on the same data and seed: GDW vs MW-Net vs ERM",
    )
    scale = right.segmented_control(
        "Weights",
        ["absolute", "relative to the instance weight"],
        default="absolute",
        key="story_scale",
        required=True,
        help="relative: each weight divided by the example's first-stage instance weight v0, "
        "the MW-Net-style weight GDW's class-level step starts from (1 = what instance "
        "weighting would do)",
    )
    shown = [runs[rid] for rid in chosen if rid in runs] or [run]
    relative = scale != "absolute"
    if relative and not all(r.has_array("base_weights") for r in shown):
        st.caption("Runs recorded before the instance weight was kept show absolute weights.")
        relative = False
    tables = [
        (
            analysis.run_label(r),
            recorded_method_spec(r.method).weight_kind,
            analysis.method_of(r),
            figures_story.story_table(r),
        )
        for r in shown
    ]
    if not any(figures_story.has_story(table) for *_, table in tables):
        st.info(
            "This run has no injected label noise: there are no mislabelled examples whose "
            '"dog", "not cat" and "not bird" could be told apart. Start one with '
            "label noise to see the story.",
            icon=":material/info:",
        )
        return
    signature = (tuple((r.run_id, r.epochs_done) for r in shown), relative)
    story, fractions = st.columns([3, 2])
    with story:
        chart(
            "story_chart",
            signature,
            lambda: figures_story.story_figure(
                [(label, kind, table) for label, kind, _, table in tables], relative=relative
            ),
        )
    with fractions:
        chart(
            "story_fractions",
            signature,
            lambda: figures_story.story_fractions_figure(
                [(label, method, table) for label, _, method, table in tables],
                n_classes=len(run.classes),
            ),
        )
    st.caption(
        'For an image of a cat labelled "dog": "dog" is the given label\'s signal, '
        '"not cat" the signal against its true class (wrong too), "not bird" the '
        "mean of the other signals (still right). Lines are medians over examples, bands "
        "the middle half. Instance weighting (MW-Net) scales all three alike; GDW's "
        'class-level step can cut "not cat" and keep "not bird".'
    )
    _lean(shown, signature)


def _lean(shown: list[Run], signature: tuple) -> None:
    """The lean chart of the shown runs that learn from the meta set, and in words, the lean
    of the first at its last epoch."""
    leans = [
        (analysis.run_label(r), analysis.method_of(r), series)
        for r in shown
        if (series := analysis.lean_series(r)) is not None and series.notna().any()
    ]
    if not leans:
        return
    chart("lean_chart", signature, lambda: figures_story.lean_figure(leans))
    label, _, series = leans[0]
    latest = series.dropna()
    st.caption(
        f"At epoch {int(latest.index[-1])}, {label}'s weighting net is "
        f"**{lean_words(float(latest.iloc[-1]))}** (lean {float(latest.iloc[-1]):+.2f}: the "
        "rank correlation of each example's v0 with its loss)."
    )


def _distributions(run: Run, epoch: int) -> None:
    _story(run)
    chart("hist_chart", (run.run_id, epoch), lambda: figures.weight_histograms_figure(run, epoch))
    with st.expander("Mean weights over epochs (misleading: read the medians above)"):
        st.caption(
            "Means are dominated by the few noisy examples whose instance weight stays "
            "high, so they hide where most examples are; kept for comparison."
        )
        chart(
            "means_chart",
            (run.run_id, run.epochs_done),
            lambda: figures.weight_means_figure(run.metrics),
        )


def _heatmap(run: Run, epoch: int) -> None:
    size = st.select_slider("Examples sampled", [40, 80, 160, 320], value=160, key="heat_rows")
    rows = analysis.heatmap_sample(run, max_rows=size)
    chart("heat_chart", (run.run_id, epoch, size), lambda: figures.heatmap_figure(run, epoch, rows))
    st.download_button(
        ":material/download: Weights of these examples (CSV)",
        lambda: analysis.rows_weights_csv(run, rows, epoch),
        file_name=f"{run.run_id}-heatmap-epoch{epoch}.csv",
        mime="text/csv",
        key="heat_download",
        on_click="ignore",
    )


def _imbalance(run: Run, epoch: int) -> None:
    chart("imbalance_chart", (run.run_id, epoch), lambda: figures.imbalance_figure(run, epoch))
    table = analysis.class_weight_table(run, epoch)
    st.dataframe(
        table.rename(
            columns={
                "target": "mean 'is this class' weight",
                "not_class": "mean 'not this class' weight",
            }
        ),
        hide_index=True,
    )
    imbalance = run.data.get("imbalance", 1.0)
    if float(imbalance) >= 1.0:
        st.caption(
            "This run's classes are balanced (imbalance factor 1); start one with a "
            "smaller factor, such as 0.1, to see head and tail classes weighed apart."
        )


def _configuration(run: Run) -> None:
    left, right = st.columns([3, 2])
    left.dataframe(analysis.config_table(run), hide_index=True, height=420)
    with right:
        summary = run.data_summary
        if summary:
            st.markdown(
                f"**Data:** {summary.get('train_count', '?')} training, "
                f"{summary.get('meta_count', '?')} meta (clean), "
                f"{summary.get('test_count', '?')} test examples; "
                f"{100 * float(summary.get('noise_rate', 0)):.1f} % of the training "
                "labels changed."
            )
        st.markdown(f"**Folder:** `{run.run_id}`")
        if len(run.metrics):
            st.download_button(
                ":material/download: Metrics (CSV)",
                run.metrics.to_csv(index=False).encode(),
                file_name=f"{run.run_id}-metrics.csv",
                mime="text/csv",
                key="metrics_download",
                on_click="ignore",
            )
        if run.summary:
            summary = run.summary
            cols = st.columns(3)
            for col, (label, key) in zip(
                cols,
                (
                    ("final test acc", "final_test_acc"),
                    ("best test acc", "best_test_acc"),
                    ("mean of last 5", "last5_test_acc"),
                ),
                strict=True,
            ):
                value = summary.get(key)
                col.metric(label, "–" if value is None else f"{100 * float(value):.1f} %")
            if summary.get("seconds") is not None:
                st.caption(
                    f"trained for {analysis.format_seconds(float(summary['seconds']))}"
                    + (
                        f"; best at epoch {summary['best_epoch']}"
                        if summary.get("best_epoch")
                        else ""
                    )
                )


_TAB_RENDERERS: dict[str, tuple[Callable[[Run], None], bool]] = {
    "accuracy": (_accuracy, False),
    "inspector": (
        lambda run: inspector.inspector(run, epoch_picker(run, start=inspector.open_at_story(run))),
        True,
    ),
    "distributions": (lambda run: _distributions(run, epoch_picker(run)), True),
    "heatmap": (lambda run: _heatmap(run, epoch_picker(run)), True),
    "imbalance": (lambda run: _imbalance(run, epoch_picker(run)), True),
    "noise": (lambda run: inspector.noise_finding(run, epoch_picker(run)), True),
    "configuration": (_configuration, False),
}
"""Each tab of :data:`~app.charting.TAB_TITLES`: its renderer, and whether it reads the
per-example files (so a damaged or unrecorded run shows a message instead)."""
