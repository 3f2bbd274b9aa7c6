"""How well a run's weights find the injected label noise: the noise AUROC over epochs, the
precision of the k most distrusted labels at one epoch, and the trust of the label-issue ranking
as it stood after each epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from app.analysis.weights import has_noise
from app.figures.plot_style import GIVEN, NOISY, TRUST, curve_mode, epoch_axis, layout, thin

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["noise_auroc_figure", "precision_figure", "trust_figure"]


def noise_auroc_figure(run: Run) -> go.Figure:
    """noise_auroc over epochs: how well low weights pick out the mislabelled examples."""
    fig = go.Figure()
    n_epochs = len(run.metrics)
    metrics = run.metrics.iloc[thin(n_epochs)]
    if "noise_auroc" in metrics and len(metrics):
        values = pd.to_numeric(metrics["noise_auroc"], errors="coerce")
        if values.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=metrics["epoch"],
                    y=values,
                    mode=curve_mode(n_epochs),
                    name="noise AUROC",
                    line={"color": GIVEN, "width": 2.5},
                )
            )
    fig.add_hline(
        y=0.5,
        line_dash="dot",
        line_color="#868e96",
        annotation_text="chance (0.5)",
        annotation_position="bottom right",
    )
    epoch_axis(fig, n_epochs)
    title = "Finding label noise: AUROC of low weights" + ("" if has_noise(run) else " — n/a")
    fig = layout(fig, title, "epoch", "AUROC")
    fig.update_yaxes(range=[0.0, 1.02])
    return fig


def precision_figure(table: pd.DataFrame, *, epoch: int) -> go.Figure:
    """Precision of the k lowest-weighted given-class signals against the known noise."""
    fig = go.Figure()
    if len(table):
        fig.add_trace(
            go.Scatter(
                x=table["k"],
                y=100 * table["precision"],
                mode="lines+markers",
                name="precision",
                line={"color": NOISY, "width": 2.5},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=table["k"],
                y=100 * table["chance"],
                mode="lines",
                name="chance (noise rate)",
                line={"color": "#868e96", "dash": "dot"},
            )
        )
    fig = layout(
        fig,
        f"Precision of the k most distrusted labels at epoch {epoch}",
        "k lowest given-class weights",
        "precision (% truly mislabelled)",
    )
    fig.update_yaxes(range=[0, 102])
    return fig


def trust_figure(points: Sequence[dict[str, Any]], *, source: str) -> go.Figure:
    """The ranking's trust (AUROC on ``source``, the known errors or the canaries) after each
    epoch, from a label-issues summary's ``trust_by_epoch``: still rising at the end means more
    epochs would likely find more."""
    table = pd.DataFrame(list(points), columns=["epoch", "auroc"])
    table = table.iloc[thin(len(table))]
    fig = go.Figure(
        go.Scatter(
            x=table["epoch"],
            y=pd.to_numeric(table["auroc"], errors="coerce"),
            mode=curve_mode(len(points)),
            name="trust",
            line={"color": TRUST, "width": 2.5},
        )
    )
    epoch_axis(fig, len(points))
    fig = layout(fig, f"Trust after each epoch (AUROC on the {source})", "epoch", "AUROC")
    fig.update_layout(height=260, showlegend=False)
    return fig
