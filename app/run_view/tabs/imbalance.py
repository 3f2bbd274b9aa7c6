"""The imbalance tab: head vs tail classes, each class's mean weights against its size."""

from __future__ import annotations

import streamlit as st

from app.analysis.weights import class_weight_table
from app.figures.imbalance import imbalance_figure
from app.run_view.tabs.charts import chart
from gdw import Run

__all__ = ["draw"]


def draw(run: Run, epoch: int) -> None:
    """Each class's mean weights at ``epoch`` against its size, as a chart and a table."""
    chart("imbalance_chart", (run.run_id, epoch), lambda: imbalance_figure(run, epoch))
    table = class_weight_table(run, epoch)
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
