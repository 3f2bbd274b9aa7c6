"""The heatmap tab: the weights of a sample of examples at the chosen epoch, and their CSV."""

from __future__ import annotations

import streamlit as st

from app.analysis.weights import heatmap_sample, rows_weights_csv
from app.figures.heatmap import heatmap_figure
from app.run_view.tabs.charts import chart
from gdw import Run

__all__ = ["draw"]


def draw(run: Run, epoch: int) -> None:
    """The weights at ``epoch`` of a sample of examples, its size chosen above it."""
    size = st.select_slider("Examples sampled", [40, 80, 160, 320], value=160, key="heat_rows")
    rows = heatmap_sample(run, max_rows=size)
    chart("heat_chart", (run.run_id, epoch, size), lambda: heatmap_figure(run, epoch, rows))
    st.download_button(
        ":material/download: Weights of these examples (CSV)",
        lambda: rows_weights_csv(run, rows, epoch),
        file_name=f"{run.run_id}-heatmap-epoch{epoch}.csv",
        mime="text/csv",
        key="heat_download",
        on_click="ignore",
    )
