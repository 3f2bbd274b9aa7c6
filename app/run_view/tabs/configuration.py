"""The configuration tab: the run's settings, its data in numbers, its final accuracy and the
metrics' download. Drawn for a damaged run too, as long as its configuration can be read."""

from __future__ import annotations

import streamlit as st

from app.analysis.run_progress import format_seconds
from app.analysis.run_tables import config_table
from gdw import Run

__all__ = ["draw"]


def draw(run: Run) -> None:
    """The settings of ``run`` beside its data, folder, final accuracy and downloads."""
    left, right = st.columns([3, 2])
    left.dataframe(config_table(run), hide_index=True, height=420)
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
                    f"trained for {format_seconds(float(summary['seconds']))}"
                    + (
                        f"; best at epoch {summary['best_epoch']}"
                        if summary.get("best_epoch")
                        else ""
                    )
                )
