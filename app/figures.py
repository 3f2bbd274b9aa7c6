"""Plotly figures of a loaded run: its accuracy curves and what its weights look like at an
epoch. Pure functions: no Streamlit, tested without a browser.

Every chart has a title and labelled axes and names classes, never numbers. Figures stay small
whatever the run size: histograms are binned here, heatmaps take a sample, and long curves are
thinned (:func:`app.plot_style.thin`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.analysis.run_tables import run_label
from app.analysis.weights import class_weight_table, given_weights, has_noise
from app.plot_style import (
    CLEAN,
    DASHES,
    EXTRA_COLORS,
    GIVEN,
    NOISY,
    OTHER,
    curve_mode,
    epoch_axis,
    layout,
    mark_warmup,
    thin,
)
from gdw import recorded_method_spec

if TYPE_CHECKING:
    from gdw import Run

__all__ = [
    "ACCURACY_COLUMNS",
    "accuracy_figure",
    "heatmap_figure",
    "imbalance_figure",
    "noise_auroc_figure",
    "precision_figure",
    "weight_histograms_figure",
    "weight_means_figure",
]

ACCURACY_COLUMNS = {
    "test_acc": "test",
    "meta_acc": "meta (clean)",
    "train_acc_true": "train vs true labels",
    "train_acc_given": "train vs given labels",
}
"""The accuracy curves of a run (columns of ``metrics.csv``) and their names in the legend."""


def accuracy_figure(
    runs: Sequence[Run], *, columns: Sequence[str] = tuple(ACCURACY_COLUMNS)
) -> go.Figure:
    """Accuracy (%) per epoch of one or several runs overlaid: colour = run, dash = measure;
    the weighting methods' warm-up shaded."""
    fig = go.Figure()
    used: dict[str, str] = {}
    for number, run in enumerate(runs):
        color = recorded_method_spec(run.method).color
        if color in used.values() or len(runs) > 3 and number >= 3:
            color = EXTRA_COLORS[number % len(EXTRA_COLORS)]
        used[run.run_id] = color
        if not len(run.metrics):
            continue
        metrics = run.metrics.iloc[thin(len(run.metrics))]
        epochs = metrics["epoch"]
        for column, dash in zip(columns, DASHES, strict=False):
            if column not in metrics:
                continue
            name = ACCURACY_COLUMNS.get(column, column)
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=100 * pd.to_numeric(metrics[column], errors="coerce"),
                    mode=curve_mode(len(epochs)),
                    name=f"{run_label(run)}: {name}" if len(runs) > 1 else name,
                    line={
                        "color": color,
                        "dash": dash,
                        "width": 2.5 if column == "test_acc" else 1.8,
                    },
                    marker={"size": 5},
                    hovertemplate=f"{run_label(run)}<br>{name}: %{{y:.1f}}%<br>epoch %{{x}}"
                    "<extra></extra>",
                )
            )
    epoch_axis(fig, max((r.epochs_done for r in runs), default=0))
    mark_warmup(fig, max((r.warmup_epochs for r in runs), default=0))
    title = "Accuracy per epoch" + (" — runs overlaid" if len(runs) > 1 else "")
    return layout(fig, title, "epoch", "accuracy (%)", height=420)


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


def heatmap_figure(run: Run, epoch: int, rows: np.ndarray) -> go.Figure:
    """Weights of sampled examples (rows, grouped by given class then clean/noisy) x classes."""
    instances = run.instances.iloc[rows]
    classes = run.classes
    weights = run.weights(epoch)[rows]
    given = instances["given_label"].to_numpy()
    true = instances["true_label"].to_numpy()
    noisy = instances["is_noisy"].to_numpy().astype(bool)
    # Row names carry the labels so the hover needs no per-cell text (keeps the figure small).
    names = [
        f"#{i}: given {classes[g]}, true {classes[t]}"
        for i, g, t in zip(instances["index"], given, true, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=weights,
            x=list(classes),
            y=names,
            colorscale="RdYlBu",
            zmin=0.0,
            zmax=max(1.0, float(np.nanmax(weights, initial=1.0))),
            colorbar={"title": {"text": "weight"}},
            hovertemplate="example %{y}<br>class %{x}<br>weight %{z:.3f}<extra></extra>",
        )
    )
    keys = list(zip(given.tolist(), noisy.tolist(), strict=True))
    starts = [s for s in range(len(keys)) if s == 0 or keys[s] != keys[s - 1]]
    ticks = starts[:: max(1, len(starts) // 24)]
    fig.update_yaxes(
        type="category",
        autorange="reversed",
        tickvals=[names[s] for s in ticks],
        ticktext=[f"{classes[given[s]]} · {'noisy' if noisy[s] else 'clean'}" for s in ticks],
    )
    # One shapes list: add_hline per group re-validates every shape (quadratic, seconds).
    fig.update_layout(
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "y0": s - 0.5,
                "y1": s - 0.5,
                "line": {"color": "white", "width": 1},
            }
            for s in starts[1:]
        ]
    )
    fig = layout(
        fig,
        f"Weights of {len(rows)} sampled examples at epoch {epoch}",
        'class (the given class\'s cell is its "dog" signal)',
        "examples by given label",
        height=max(420, min(900, 6 * len(rows))),
    )
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=False)
    return fig


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
