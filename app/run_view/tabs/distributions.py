"""The weight distributions tab: the story of noisy vs clean examples' signals over epochs with
the weighting net's lean beside it, the histograms at the chosen epoch, and the means."""

from __future__ import annotations

import streamlit as st

from app.analysis.run_tables import comparable_runs, run_label
from app.analysis.story_table import has_story, story_table
from app.figures.distributions import weight_histograms_figure, weight_means_figure
from app.figures.story import lean_figure, story_figure, story_fractions_figure
from app.run_view.tabs.charts import chart
from app.server.runs_folder import all_runs
from gdw import Run, lean_words, recorded_method_spec

__all__ = ["draw"]


def _story(run: Run) -> None:
    """The story chart: medians and quartiles of "dog", "not cat", "not bird" over epochs, for
    this run and the comparable ones chosen, next to kept_fraction and true_class_found."""
    runs = {other.run_id: other for other in comparable_runs(run, all_runs())}
    left, right = st.columns([3, 2])
    key = f"story_runs_{run.run_id}_{len(runs)}"
    if key not in st.session_state:
        st.session_state[key] = [run.run_id]
    chosen = left.multiselect(
        "Runs shown",
        list(runs),
        key=key,
        format_func=lambda rid: run_label(runs[rid]),
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
            run_label(r),
            recorded_method_spec(r.method).weight_kind,
            r.method,
            story_table(r),
        )
        for r in shown
    ]
    if not any(has_story(table) for *_, table in tables):
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
            lambda: story_figure(
                [(label, kind, table) for label, kind, _, table in tables],
                relative=relative,
                warmup=max(r.warmup_epochs for r in shown),
            ),
        )
    with fractions:
        chart(
            "story_fractions",
            signature,
            lambda: story_fractions_figure(
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
        (run_label(r), r.method, series)
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
    chart("lean_chart", signature, lambda: lean_figure(leans, warmup=warmup))
    label, _, series = leans[0]
    latest = series.dropna()
    st.caption(
        f"At epoch {int(latest.index[-1])}, {label}'s weighting net is "
        f"**{lean_words(float(latest.iloc[-1]))}** (lean {float(latest.iloc[-1]):+.2f}: the "
        "rank correlation of each example's instance weight with its loss)."
    )


def draw(run: Run, epoch: int) -> None:
    """The story and the lean over the epochs, the histograms at ``epoch``, and the means."""
    _story(run)
    chart("hist_chart", (run.run_id, epoch), lambda: weight_histograms_figure(run, epoch))
    with st.expander("Mean weights over epochs (misleading: read the medians above)"):
        st.caption(
            "Means are dominated by the few noisy examples whose instance weight stays "
            "high, so they hide where most examples are; kept for comparison."
        )
        chart(
            "means_chart",
            (run.run_id, run.epochs_done),
            lambda: weight_means_figure(run.metrics),
        )
