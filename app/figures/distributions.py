"""How a run's weights are distributed: at one epoch, as histograms of the given-class and the
other-class signals of clean and noisy examples (binned here, so the figure stays small), and
their means over the epochs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.analysis.weights import given_weights
from app.figures.plot_style import CLEAN, NOISY, epoch_axis, layout, thin

if TYPE_CHECKING:
    from gdw import Run

__all__ = ["weight_histograms_figure", "weight_means_figure"]


def _hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(values[np.isfinite(values)], bins=edges)
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def weight_histograms_figure(run: Run, epoch: int, *, bins: int = 40) -> go.Figure:
    """Distributions at one epoch of the given-class weight and of the other-class weights,
    clean vs noisy examples (fractions per bin, binned here so the figure stays small)."""
    instances = run.instances
    weights = run.weights(epoch)
    given = instances["given_label"].to_numpy()
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    target = given_weights(weights, given)
    mask = np.ones_like(weights, dtype=bool)
    mask[np.arange(len(given)), given] = False
    high = max(1.0, float(np.nanmax(weights))) if weights.size else 1.0
    edges = np.linspace(0.0, high * 1.0001, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    groups = (
        [("noisy", noisy, NOISY), ("clean", ~noisy, CLEAN)]
        if noisy.any()
        else [("all examples", ~noisy, CLEAN)]
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            'given-class signal ("dog")',
            'other-class signals ("not cat", "not bird")',
        ),
    )
    for col, pick in ((1, "target"), (2, "other")):
        for name, rows, color in groups:
            if pick == "target":
                values = target[rows]
            else:
                values = weights[rows][mask[rows]] if weights.shape[1] > 1 else np.array([])
            fig.add_trace(
                go.Bar(
                    x=centers,
                    y=_hist(values, edges),
                    name=name,
                    marker_color=color,
                    opacity=0.6,
                    showlegend=col == 1,
                    legendgroup=name,
                    hovertemplate=f"{name}<br>weight %{{x:.2f}}: %{{y:.1%}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig = layout(fig, f"Weight distributions at epoch {epoch}", "weight", "fraction of signals")
    fig.update_layout(barmode="overlay", bargap=0.02, legend={"y": -0.3})
    fig.update_xaxes(title_text="weight")
    fig.update_yaxes(title_text="fraction", col=2)
    return fig


def weight_means_figure(metrics: pd.DataFrame) -> go.Figure:
    """Mean target-class and other-class weights of clean and noisy examples over epochs."""
    series = [
        ("w_target_clean", "given class, clean", CLEAN, "solid"),
        ("w_target_noisy", "given class, noisy", NOISY, "solid"),
        ("w_other_clean", "other classes, clean", CLEAN, "dot"),
        ("w_other_noisy", "other classes, noisy", NOISY, "dot"),
    ]
    fig = go.Figure()
    n_epochs = len(metrics)
    metrics = metrics.iloc[thin(n_epochs)]
    for column, name, color, dash in series:
        if column not in metrics:
            continue
        values = pd.to_numeric(metrics[column], errors="coerce")
        if values.notna().any():
            fig.add_trace(
                go.Scatter(
                    x=metrics["epoch"],
                    y=values,
                    name=name,
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2.2},
                )
            )
    epoch_axis(fig, n_epochs)
    return layout(fig, "Mean weights over epochs", "epoch", "mean weight")
