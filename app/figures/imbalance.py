"""Head vs tail classes: each class's mean weights at one epoch against its size."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.analysis.weights import class_weight_table
from app.figures.plot_style import GIVEN, OTHER, layout

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["imbalance_figure"]


def imbalance_figure(run: Run, epoch: int) -> go.Figure:
    """Mean weights per class against class size: do tail classes get more weight?"""
    table = class_weight_table(run, epoch)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=table["class"], y=table["size"], name="class size (examples)", marker_color="#dee2e6"
        ),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(
            x=table["class"],
            y=table["target"],
            mode="lines+markers",
            name='"is this class" weight of its examples',
            line={"color": GIVEN, "width": 2.5},
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=table["class"],
            y=table["not_class"],
            mode="lines+markers",
            name='"not this class" weight of the other examples',
            line={"color": OTHER, "width": 2.5, "dash": "dot"},
        ),
        secondary_y=False,
    )
    fig = layout(
        fig,
        f"Head vs tail: mean weight per class at epoch {epoch}",
        "class (largest first)",
        "mean weight",
        height=420,
    )
    fig.update_yaxes(title_text="training examples", secondary_y=True, showgrid=False)
    fig.update_yaxes(title_text="mean weight", secondary_y=False, rangemode="tozero")
    fig.update_xaxes(type="category")
    return fig
