"""The bodies of a run's tabs but the inspector's and the noise finder's (:mod:`app.inspector`,
:mod:`app.noise_finding`): accuracy, weight distributions and the story, heatmap, imbalance,
configuration. :mod:`app.views` draws the one that is open."""

from __future__ import annotations

import streamlit as st

from app import analysis, figures, figures_story, run_tables
from app.charting import chart
from app.context import all_runs
from gdw import Run, lean_words, recorded_method_spec

__all__ = [
    "accuracy_tab",
    "configuration_tab",
    "distributions_tab",
    "heatmap_tab",
    "imbalance_tab",
]


def accuracy_tab(run: Run) -> None:
    # Runs whose files are damaged are not offered: they must not affect this run's view.
    runs = [other for other in all_runs() if not other.problems or other.run_id == run.run_id]
    by_id = {other.run_id: other for other in runs}
    comparable = [r.run_id for r in run_tables.comparable_runs(run, runs)]
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
        format_func=lambda rid: run_tables.run_label(by_id[rid]),
        help="runs on the same data and seed are picked first: GDW vs MW-Net vs ERM at a glance",
    )
    default_measures = ["test_acc"] if len(chosen) > 1 else list(figures.ACCURACY_COLUMNS)
    measures = right.multiselect(
        "Measures",
        list(figures.ACCURACY_COLUMNS),
        default=default_measures,
        format_func=figures.ACCURACY_COLUMNS.get,
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
                    "run": run_tables.run_label(other),
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
    runs = {other.run_id: other for other in run_tables.comparable_runs(run, all_runs())}
    left, right = st.columns([3, 2])
    key = f"story_runs_{run.run_id}_{len(runs)}"
    if key not in st.session_state:
        st.session_state[key] = [run.run_id]
    chosen = left.multiselect(
        "Runs shown",
        list(runs),
        key=key,
        format_func=lambda rid: run_tables.run_label(runs[rid]),
        help="runs on the same data and seed: GDW vs MW-Net vs ERM",
    )
    scale = right.segmented_control(
        "Weights",
        ["absolute", "relative to the instance weight"],
        default="absolute",
        key="story_scale",
        required=True,
        help="relative: each weight divided by the example's instance weight, the weighting "
        "net's weight GDW's class-level step starts from (1 = what instance weighting would do)",
    )
    shown = [runs[rid] for rid in chosen if rid in runs] or [run]
    relative = scale != "absolute"
    if relative and not all(r.has_array("instance_weights") for r in shown):
        st.caption("Runs recorded before the instance weight was kept show absolute weights.")
        relative = False
    tables = [
        (
            run_tables.run_label(r),
            recorded_method_spec(r.method).weight_kind,
            r.method,
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
                [(label, kind, table) for label, kind, _, table in tables],
                relative=relative,
                warmup=max(r.warmup_epochs for r in shown),
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
        (run_tables.run_label(r), r.method, series)
        for r in shown
        if (series := r.leans()) is not None and series.notna().any()
    ]
    warmup = max(r.warmup_epochs for r in shown)
    if not leans:
        if warmup and any(recorded_method_spec(r.method).learns_from_meta for r in shown):
            st.caption(
                f"Warm-up: plain training, every weight 1, for {warmup} epoch(s); the weighting "
                "net takes over after it, and which way it leans shows here from then on."
            )
        return
    chart("lean_chart", signature, lambda: figures_story.lean_figure(leans, warmup=warmup))
    label, _, series = leans[0]
    latest = series.dropna()
    st.caption(
        f"At epoch {int(latest.index[-1])}, {label}'s weighting net is "
        f"**{lean_words(float(latest.iloc[-1]))}** (lean {float(latest.iloc[-1]):+.2f}: the "
        "rank correlation of each example's instance weight with its loss)."
    )


def distributions_tab(run: Run, epoch: int) -> None:
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


def heatmap_tab(run: Run, epoch: int) -> None:
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


def imbalance_tab(run: Run, epoch: int) -> None:
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


def configuration_tab(run: Run) -> None:
    left, right = st.columns([3, 2])
    left.dataframe(run_tables.config_table(run), hide_index=True, height=420)
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
                    f"trained for {run_tables.format_seconds(float(summary['seconds']))}"
                    + (
                        f"; best at epoch {summary['best_epoch']}"
                        if summary.get("best_epoch")
                        else ""
                    )
                )
